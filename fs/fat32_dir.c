/* fat32_dir.c - reading directories: walking slots, assembling long names, finding entries. */
#include "fat32_priv.h"

/* Where the 13 UTF-16 units of a long-name entry sit (spec, "LDIR_Name1/2/3"). */
const uint8_t fat32_lfn_unit_offset[LFN_UNITS] = {1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30};

/**
 * Finds slot d->index of the directory: returns 0 with its sector and byte offset, 1 past the
 * end of the chain (or of the 65536 slots a directory may have), or a negative errno.
 */
int fat32_dir_locate(struct fat32_vol *vol, struct fat32_dir *d, uint32_t *sector, uint32_t *offset)
{
    uint32_t per = vol->cluster_size / DIRENT_SIZE;
    uint32_t want = d->index / per;
    uint32_t byte;
    int r;

    if (!fat_cluster_valid(vol, d->first_cluster))
        return fat32_corrupt(vol, "directory starts outside the volume");
    if (d->index >= DIR_MAX_ENTRIES)
        return 1;
    if (!fat_cluster_valid(vol, d->cluster) || d->cl_index > want) {
        d->cluster = d->first_cluster;
        d->cl_index = 0;
    }
    while (d->cl_index < want) {
        uint32_t next;

        r = fat32_next(vol, d->cluster, &next);
        if (r < 0)
            return r;
        if (next == 0)
            return 1;
        d->cluster = next;
        d->cl_index++;
    }
    byte = d->index % per * DIRENT_SIZE;
    *sector = fat_cluster_sector(vol, d->cluster) + byte / vol->bytes_per_sector;
    *offset = byte % vol->bytes_per_sector;
    return 0;
}

/** Points ent at the 32-byte slot at (sector, offset), valid until the next sector access. */
int fat32_entry_load(struct fat32_vol *vol, uint32_t sector, uint32_t offset, uint8_t **ent)
{
    int r = fat32_buf_load(vol, sector);

    if (r < 0)
        return r;
    *ent = vol->sector_buf + offset;
    return 0;
}

/** Long-name entries seen so far while walking towards their short entry. */
struct lfn_state {
    uint32_t total;  /* entries in the set, 0 when no set is being collected */
    uint32_t expect; /* ordinal the next entry must carry */
    uint32_t first;  /* slot of the first entry */
    uint8_t sum;
};

/* A set is stored last part first, ordinals counting down to 1 (spec, "LDIR_Ord"). */
static void lfn_take(struct lfn_state *st, const uint8_t *e, uint32_t index, uint16_t *units)
{
    uint32_t ord = e[0] & ~LFN_LAST;

    if (e[12] != 0 || load_le16(e + DE_CLUS_LO) != 0) {
        st->total = 0;
        return;
    }
    if (e[0] & LFN_LAST) {
        if (ord < 1 || ord > LFN_MAX_ENTRIES) {
            st->total = 0;
            return;
        }
        st->total = ord;
        st->expect = ord;
        st->first = index;
        st->sum = e[13];
    } else if (!st->total || st->expect == 0 || ord != st->expect || e[13] != st->sum) {
        st->total = 0;
        return;
    }
    for (uint32_t i = 0; i < LFN_UNITS; i++)
        units[(ord - 1) * LFN_UNITS + i] = load_le16(e + fat32_lfn_unit_offset[i]);
    st->expect--;
}

/* The name ends at a NUL (then 0xFFFF padding) or fills the set; it must reach the last entry. */
static uint32_t lfn_length(const struct lfn_state *st, const uint16_t *units)
{
    uint32_t cap = st->total * LFN_UNITS, n = 0;

    while (n < cap && units[n] != 0)
        n++;
    if (n <= (st->total - 1) * LFN_UNITS || n > NAME_MAX_UNITS)
        return 0;
    return fat32_long_name_valid(units, n, false) ? n : 0;
}

/**
 * Reads the next short entry of a directory, with its long name if a valid set precedes it.
 * Volume labels and "."/".." are returned too. Long-name entries whose short entry is missing
 * or does not match their checksum are skipped. Returns 1, 0 at the end, or a negative errno.
 */
int fat32_dir_next(struct fat32_vol *vol, struct fat32_dir *d, struct fat_found *f)
{
    struct lfn_state st = {0, 0, 0, 0};
    uint32_t sector, offset;
    uint8_t *e;
    int r;

    for (;;) {
        r = fat32_dir_locate(vol, d, &sector, &offset);
        if (r != 0)
            return r == 1 ? 0 : r;
        r = fat32_entry_load(vol, sector, offset, &e);
        if (r < 0)
            return r;
        if (e[0] == DIRENT_END)
            return 0;
        uint32_t index = d->index++;
        if (e[0] == DIRENT_FREE) {
            st.total = 0;
            continue;
        }
        if ((e[DE_ATTR] & ATTR_LONG_MASK) == ATTR_LONG_NAME) {
            lfn_take(&st, e, index, f->lname);
            continue;
        }
        memcpy(f->ent, e, DIRENT_SIZE);
        f->dir_cluster = d->first_cluster;
        f->index = index;
        f->first_index = index;
        f->sector = sector;
        f->offset = offset;
        f->sname_len = fat32_short_display(f->ent, f->sname);
        f->lname_len = 0;
        if (st.total && st.expect == 0 && st.sum == fat32_short_checksum(f->ent)) {
            f->lname_len = lfn_length(&st, f->lname);
            if (f->lname_len)
                f->first_index = st.first;
        }
        return 1;
    }
}

bool fat32_found_visible(const struct fat_found *f)
{
    return !(f->ent[DE_ATTR] & FAT32_ATTR_VOLUME_ID) && f->ent[0] != '.';
}

int fat32_dir_find(struct fat32_vol *vol, uint32_t dir, const uint16_t *name, uint32_t n,
                   struct fat_found *f)
{
    struct fat32_dir d = {dir, 0, 0, 0};
    int r;

    while ((r = fat32_dir_next(vol, &d, f)) == 1) {
        if (!fat32_found_visible(f))
            continue;
        if (f->lname_len && fat32_names_equal(f->lname, f->lname_len, name, n))
            return 0;
        if (fat32_names_equal(f->sname, f->sname_len, name, n))
            return 0;
    }
    return r < 0 ? r : -ENOENT;
}

/** 1 if the directory holds nothing but "." and "..", 0 if it holds more, or an errno. */
int fat32_dir_empty(struct fat32_vol *vol, uint32_t dir)
{
    struct fat32_dir d = {dir, 0, 0, 0};
    struct fat_found *f = kmalloc(sizeof(*f));
    int r;

    if (!f)
        return -ENOMEM;
    while ((r = fat32_dir_next(vol, &d, f)) == 1)
        if (fat32_found_visible(f))
            break;
    kfree(f);
    return r < 0 ? r : r == 0;
}

int fat32_opendir(struct fat32_vol *vol, const char *path, struct fat32_dir *dir)
{
    struct fat_lookup *lk;
    int r = fat32_lookup_alloc(vol, path, &lk);

    if (r < 0)
        return r;
    if (lk->is_root)
        dir->first_cluster = vol->root_cluster;
    else if (!lk->found)
        r = -ENOENT;
    else if (!fat_entry_is_dir(lk->f.ent))
        r = -ENOTDIR;
    else
        dir->first_cluster = fat_entry_cluster(lk->f.ent);
    /* Slot walks are bounded anyway; this turns a looping chain into a clear error. */
    if (r == 0)
        r = fat32_check_chain(vol, dir->first_cluster);
    dir->index = 0;
    dir->cluster = 0;
    dir->cl_index = 0;
    kfree(lk);
    return r;
}

int fat32_readdir(struct fat32_vol *vol, struct fat32_dir *dir, struct fat32_dirent *out)
{
    struct fat_found *f = kmalloc(sizeof(*f));
    uint8_t plain[DIRENT_SIZE];
    uint16_t units[12];
    int r;

    if (!f)
        return -ENOMEM;
    while ((r = fat32_dir_next(vol, dir, f)) == 1 && !fat32_found_visible(f))
        ;
    if (r == 1) {
        if (f->lname_len)
            fat32_units_to_utf8(f->lname, f->lname_len, out->name, sizeof(out->name));
        else
            fat32_units_to_utf8(f->sname, f->sname_len, out->name, sizeof(out->name));
        memcpy(plain, f->ent, DIRENT_SIZE);
        plain[DE_NTRES] = 0;
        fat32_units_to_utf8(units, fat32_short_display(plain, units), out->short_name,
                            sizeof(out->short_name));
        fat32_entry_stat(f->ent, &out->st);
    }
    kfree(f);
    return r;
}
