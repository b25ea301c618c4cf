/* fat32_path.c - resolving volume paths to directory entries, refusing directory loops. */
#include "fat32_priv.h"

struct path_comp {
    uint16_t start, len;
};

/* "." and ".." are folded lexically: FAT has no links, so a/.. is the directory holding a. */
static int path_split(const char *path, struct path_comp *comp, uint32_t *n)
{
    size_t len = strnlen(path, FAT32_PATH_MAX + 1);
    size_t i = 0;

    if (len > FAT32_PATH_MAX)
        return -ENAMETOOLONG;
    *n = 0;
    while (i < len) {
        size_t start, clen;

        while (i < len && path[i] == '/')
            i++;
        start = i;
        while (i < len && path[i] != '/')
            i++;
        clen = i - start;
        if (clen == 0 || (clen == 1 && path[start] == '.'))
            continue;
        if (clen == 2 && path[start] == '.' && path[start + 1] == '.') {
            if (*n > 0)
                (*n)--;
            continue;
        }
        if (*n == FAT32_DEPTH_MAX)
            return -ENAMETOOLONG;
        comp[*n].start = (uint16_t)start;
        comp[(*n)++].len = (uint16_t)clen;
    }
    return 0;
}

/**
 * Resolves path. On success lk says whether it is the root, and else names the parent
 * directory, the last component and, when it exists, its entry. A missing or non-directory
 * intermediate component is -ENOENT or -ENOTDIR. A directory entry pointing at a directory
 * already on the path (a loop a corrupt volume can contain) is -EUCLEAN.
 */
int fat32_lookup(struct fat32_vol *vol, const char *path, struct fat_lookup *lk)
{
    struct path_comp comp[FAT32_DEPTH_MAX];
    uint32_t n, cur = vol->root_cluster;
    int r = path_split(path, comp, &n);

    if (r < 0)
        return r;
    lk->is_root = n == 0;
    lk->found = n == 0;
    lk->parent = cur;
    lk->name_len = 0;
    lk->depth = 1;
    lk->ancestors[0] = cur;
    for (uint32_t i = 0; i < n; i++) {
        bool last = i + 1 == n;
        uint32_t cl;

        r = fat32_utf8_to_units(path + comp[i].start, comp[i].len, lk->name, NAME_MAX_UNITS);
        if (r < 0)
            return r;
        lk->name_len = (uint32_t)r;
        lk->parent = cur;
        r = fat32_dir_find(vol, cur, lk->name, lk->name_len, &lk->f);
        if (r == -ENOENT && last)
            return 0;
        if (r < 0)
            return r;
        if (!fat_entry_is_dir(lk->f.ent)) {
            if (!last)
                return -ENOTDIR;
            lk->found = true;
            return 0;
        }
        cl = fat_entry_cluster(lk->f.ent);
        if (!fat_cluster_valid(vol, cl))
            return fat32_corrupt(vol, "directory entry points outside the volume");
        for (uint32_t k = 0; k < lk->depth; k++)
            if (lk->ancestors[k] == cl)
                return fat32_corrupt(vol, "directory loop: a subdirectory is its own ancestor");
        if (last) {
            lk->found = true;
            return 0;
        }
        lk->ancestors[lk->depth++] = cl;
        cur = cl;
    }
    return 0;
}

int fat32_lookup_alloc(struct fat32_vol *vol, const char *path, struct fat_lookup **out)
{
    struct fat_lookup *lk = kmalloc(sizeof(*lk));
    int r;

    if (!lk)
        return -ENOMEM;
    r = fat32_lookup(vol, path, lk);
    if (r < 0) {
        kfree(lk);
        return r;
    }
    *out = lk;
    return 0;
}

int fat32_lookup_new(struct fat32_vol *vol, const char *path, uint8_t attr, uint8_t *tmpl,
                     struct fat_lookup **out)
{
    struct fat_lookup *lk;
    int r;

    if (vol->read_only)
        return -EROFS;
    r = fat32_lookup_alloc(vol, path, &lk);
    if (r < 0)
        return r;
    if (lk->found) {
        kfree(lk);
        return -EEXIST;
    }
    tmpl[DE_ATTR] = attr;
    fat32_stamp_now(vol, tmpl, true);
    *out = lk;
    return 0;
}
