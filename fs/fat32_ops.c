/* fat32_ops.c - namespace operations: mkdir, unlink, rmdir, rename. */
#include "fat32_priv.h"

int fat32_mkdir(struct fat32_vol *vol, const char *path)
{
    uint8_t tmpl[DIRENT_SIZE] = {0};
    struct fat_lookup *lk;
    uint32_t cl;
    int r;

    r = fat32_lookup_new(vol, path, FAT32_ATTR_DIRECTORY, tmpl, &lk);
    if (r < 0)
        return r;
    r = fat32_alloc(vol, 0, true, &cl);
    if (r == 0) {
        fat_set_entry_cluster(tmpl, cl);
        r = fat32_dir_init(vol, cl, lk->parent, tmpl);
        if (r == 0)
            r = fat32_dir_add(vol, lk->parent, lk->name, lk->name_len, tmpl, &lk->f);
        if (r < 0)
            fat32_free_chain(vol, cl);
    }
    kfree(lk);
    return r;
}

/* The entry goes first: a crash in between leaves lost clusters, never a dangling entry. */
static int entry_release(struct fat32_vol *vol, const struct fat_found *f)
{
    uint32_t cl = fat_entry_cluster(f->ent);
    int r = fat32_dir_remove(vol, f);

    if (r < 0 || cl == 0)
        return r;
    if (!fat_cluster_valid(vol, cl))
        return fat32_corrupt(vol, "removed entry pointed outside the volume");
    return fat32_free_chain(vol, cl);
}

/* Shared checks of unlink and rmdir: the path must name an existing non-root entry. */
static int remove_lookup(struct fat32_vol *vol, const char *path, struct fat_lookup **out)
{
    int r;

    if (vol->read_only)
        return -EROFS;
    r = fat32_lookup_alloc(vol, path, out);
    if (r < 0)
        return r;
    if ((*out)->is_root || !(*out)->found) {
        r = (*out)->is_root ? -EBUSY : -ENOENT;
        kfree(*out);
    }
    return r;
}

int fat32_unlink(struct fat32_vol *vol, const char *path)
{
    struct fat_lookup *lk;
    int r = remove_lookup(vol, path, &lk);

    if (r < 0)
        return r;
    struct fat32_node *open = fat32_node_find(vol, lk->f.sector, lk->f.offset);
    if (fat_entry_is_dir(lk->f.ent)) {
        r = -EISDIR;
    } else if (open) {
        /* POSIX: the name goes now, the data when the last user closes it. The node no longer
         * names a slot, so a new entry created there is not mistaken for it. */
        r = fat32_dir_remove(vol, &lk->f);
        if (r == 0) {
            open->unlinked = true;
            open->entry_sector = 0;
            open->entry_offset = UINT32_MAX;
        }
    } else {
        r = entry_release(vol, &lk->f);
    }
    kfree(lk);
    return r;
}

int fat32_setattr(struct fat32_vol *vol, const char *path, int read_only,
                  const struct fat32_time *mtime)
{
    struct fat_lookup *lk;
    uint8_t *e;
    int r = fat32_lookup_alloc(vol, path, &lk);

    if (r < 0)
        return r;
    if (lk->is_root)
        r = -EPERM; /* the root directory has no entry to hold attributes */
    else if (!lk->found)
        r = -ENOENT;
    else if (vol->read_only)
        r = -EROFS;
    if (r == 0)
        r = fat32_entry_load(vol, lk->f.sector, lk->f.offset, &e);
    if (r == 0) {
        if (read_only >= 0)
            e[DE_ATTR] = (uint8_t)((e[DE_ATTR] & ~FAT32_ATTR_READ_ONLY) |
                                   (read_only ? FAT32_ATTR_READ_ONLY : 0));
        if (mtime)
            fat32_stamp_mtime(e, mtime);
        r = fat32_buf_store(vol);
    }
    kfree(lk);
    return r;
}

int fat32_rmdir(struct fat32_vol *vol, const char *path)
{
    struct fat_lookup *lk;
    int r = remove_lookup(vol, path, &lk);

    if (r < 0)
        return r;
    if (!fat_entry_is_dir(lk->f.ent))
        r = -ENOTDIR;
    else
        r = fat32_dir_empty(vol, fat_entry_cluster(lk->f.ent));
    if (r == 0)
        r = -ENOTEMPTY;
    else if (r == 1)
        r = entry_release(vol, &lk->f);
    kfree(lk);
    return r;
}

/* Whether dst already names src itself with exactly the requested spelling. */
static bool rename_is_noop(const struct fat_lookup *src, const struct fat_lookup *dst)
{
    const struct fat_found *f = &src->f;
    const uint16_t *cur = f->lname_len ? f->lname : f->sname;
    uint32_t n = f->lname_len ? f->lname_len : f->sname_len;

    return n == dst->name_len && memcmp(cur, dst->name, n * sizeof(*cur)) == 0;
}

/* May src replace the existing entry dst (POSIX rename rules)? */
static int rename_check_target(struct fat32_vol *vol, const struct fat_lookup *src,
                               const struct fat_lookup *dst)
{
    bool src_dir = fat_entry_is_dir(src->f.ent), dst_dir = fat_entry_is_dir(dst->f.ent);
    int r;

    if (src_dir && !dst_dir)
        return -ENOTDIR;
    if (!src_dir && dst_dir)
        return -EISDIR;
    if (!dst_dir)
        return fat32_node_find(vol, dst->f.sector, dst->f.offset) ? -EBUSY : 0;
    r = fat32_dir_empty(vol, fat_entry_cluster(dst->f.ent));
    return r < 0 ? r : r ? 0 : -ENOTEMPTY;
}

/**
 * The new entry is written before the old one (and any replaced target) is removed, so a
 * failure part way never loses the file. A moved directory's ".." follows its new parent.
 */
static int rename_move(struct fat32_vol *vol, struct fat_lookup *src, struct fat_lookup *dst,
                       bool same)
{
    struct fat_found *nf = kmalloc(sizeof(*nf));
    struct fat32_node *node;
    int r;

    if (!nf)
        return -ENOMEM;
    r = fat32_dir_add(vol, dst->parent, dst->name, dst->name_len, src->f.ent, nf);
    if (r == 0 && dst->found && !same)
        r = entry_release(vol, &dst->f);
    if (r == 0)
        r = fat32_dir_remove(vol, &src->f);
    if (r == 0) {
        node = fat32_node_find(vol, src->f.sector, src->f.offset);
        if (node) {
            node->entry_sector = nf->sector;
            node->entry_offset = nf->offset;
        }
        if (fat_entry_is_dir(src->f.ent) && dst->parent != src->parent)
            r = fat32_dir_set_parent(vol, fat_entry_cluster(src->f.ent), dst->parent);
    }
    kfree(nf);
    return r;
}

int fat32_rename(struct fat32_vol *vol, const char *from, const char *to)
{
    struct fat_lookup *src, *dst;
    bool same;
    int r;

    if (vol->read_only)
        return -EROFS;
    r = fat32_lookup_alloc(vol, from, &src);
    if (r < 0)
        return r;
    r = fat32_lookup_alloc(vol, to, &dst);
    if (r < 0) {
        kfree(src);
        return r;
    }
    if (src->is_root || dst->is_root)
        r = -EBUSY;
    else if (!src->found)
        r = -ENOENT;
    same = r == 0 && dst->found && dst->f.sector == src->f.sector && dst->f.offset == src->f.offset;
    if (r == 0 && fat_entry_is_dir(src->f.ent))
        for (uint32_t k = 0; k < dst->depth; k++)
            if (dst->ancestors[k] == fat_entry_cluster(src->f.ent))
                r = -EINVAL; /* a directory cannot move below itself */
    if (r == 0 && same && rename_is_noop(src, dst))
        r = 1;
    else if (r == 0 && dst->found && !same)
        r = rename_check_target(vol, src, dst);
    if (r == 0)
        r = rename_move(vol, src, dst, same);
    kfree(src);
    kfree(dst);
    return r == 1 ? 0 : r;
}
