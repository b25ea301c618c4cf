/* fat32_dir_write.c - changing directories: aliases, free slots, adding and removing entries. */
#include "fat32_priv.h"

static int dir_write_slot(struct fat32_vol *vol, struct fat32_dir *d, uint32_t index,
                          const uint8_t *src, struct fat_found *where)
{
    uint32_t sector, offset;
    uint8_t *e = NULL;
    int r;

    d->index = index;
    r = fat32_dir_locate(vol, d, &sector, &offset);
    if (r == 1)
        return fat32_corrupt(vol, "directory chain ended while writing an entry");
    if (r == 0)
        r = fat32_entry_load(vol, sector, offset, &e);
    if (r < 0)
        return r;
    memcpy(e, src, DIRENT_SIZE);
    if (where) {
        where->sector = sector;
        where->offset = offset;
    }
    return fat32_buf_store(vol);
}

/**
 * Picks a short name no entry of the directory has: the basis itself when allowed and free,
 * else the basis with the lowest free "~n" tail. One pass collects the tails in use.
 */
static int dir_pick_alias(struct fat32_vol *vol, uint32_t dir, uint8_t *name11, bool plain_ok)
{
    uint32_t ntails = DIR_MAX_ENTRIES + 2;
    uint8_t *used = kzalloc(ntails / 8 + 1);
    struct fat32_dir d = {dir, 0, 0, 0};
    bool plain_used = false;
    uint32_t sector, offset, tail;
    uint8_t basis[11];
    uint8_t *e;
    int r;

    if (!used)
        return -ENOMEM;
    memcpy(basis, name11, 11);
    for (;; d.index++) {
        r = fat32_dir_locate(vol, &d, &sector, &offset);
        if (r == 0)
            r = fat32_entry_load(vol, sector, offset, &e);
        if (r != 0 || e[0] == DIRENT_END)
            break;
        if (e[0] == DIRENT_FREE || (e[DE_ATTR] & ATTR_LONG_MASK) == ATTR_LONG_NAME)
            continue;
        plain_used |= memcmp(e, basis, 11) == 0;
        tail = fat32_short_tail_of(basis, e);
        if (tail && tail < ntails)
            used[tail / 8] |= (uint8_t)(1u << tail % 8);
    }
    if (r >= 0 && !(plain_ok && !plain_used)) {
        /* A directory has fewer than ntails - 1 slots, so some tail below ntails is free. */
        for (tail = 1; used[tail / 8] & (1u << tail % 8); tail++)
            ;
        fat32_short_tail(basis, tail, name11);
    }
    kfree(used);
    return r < 0 ? r : 0;
}

/**
 * Finds k consecutive free slots, growing the directory with zeroed clusters if needed.
 * Every slot from the first end marker on is free (spec, "DIR_Name[0] == 0x00").
 */
static int dir_find_slots(struct fat32_vol *vol, uint32_t dir, uint32_t k, uint32_t *start)
{
    struct fat32_dir d = {dir, 0, 0, 0};
    uint32_t per = vol->cluster_size / DIRENT_SIZE;
    uint32_t run = 0, run_start = 0, last = dir, sector, offset;
    bool at_end = false;
    uint8_t *e;
    int r;

    for (;; d.index++) {
        r = fat32_dir_locate(vol, &d, &sector, &offset);
        if (r < 0)
            return r;
        if (r == 1)
            break;
        last = d.cluster;
        if (!at_end) {
            r = fat32_entry_load(vol, sector, offset, &e);
            if (r < 0)
                return r;
            at_end = e[0] == DIRENT_END;
        }
        if (!at_end && e[0] != DIRENT_FREE) {
            run = 0;
            continue;
        }
        if (run++ == 0)
            run_start = d.index;
        if (run == k) {
            *start = run_start;
            return 0;
        }
    }
    if (run == 0)
        run_start = d.index;
    if (run_start + k > DIR_MAX_ENTRIES)
        return -ENOSPC;
    for (uint32_t have = d.index; have < run_start + k; have += per) {
        r = fat32_alloc(vol, last, true, &last);
        if (r < 0)
            return r;
    }
    *start = run_start;
    return 0;
}

static void lfn_build(uint8_t *e, const uint16_t *name, uint32_t n, uint32_t ord, bool last,
                      uint8_t sum)
{
    memset(e, 0, DIRENT_SIZE);
    e[0] = (uint8_t)(ord | (last ? LFN_LAST : 0));
    e[DE_ATTR] = ATTR_LONG_NAME;
    e[13] = sum;
    for (uint32_t i = 0; i < LFN_UNITS; i++) {
        uint32_t pos = (ord - 1) * LFN_UNITS + i;
        uint16_t u = pos < n ? name[pos] : pos == n ? 0x0000 : 0xFFFF;

        store_le16(e + fat32_lfn_unit_offset[i], u);
    }
}

/**
 * Adds an entry named name to a directory, from tmpl (attributes, times, cluster, size). A name
 * that is a valid 8.3 name as it stands gets a short entry alone, with NT case bits; any other
 * gets long-name entries and a unique 8.3 alias. The caller has checked the name is unused.
 */
int fat32_dir_add(struct fat32_vol *vol, uint32_t dir, const uint16_t *name, uint32_t n,
                  const uint8_t *tmpl, struct fat_found *out)
{
    struct fat32_dir d = {dir, 0, 0, 0};
    uint8_t ent[DIRENT_SIZE], lfn[DIRENT_SIZE];
    uint32_t nlfn = 0, start;
    uint8_t ntres = 0;
    int kind, r;

    if (!fat32_long_name_valid(name, n, true))
        return -EINVAL;
    memcpy(ent, tmpl, DIRENT_SIZE);
    kind = fat32_short_exact(name, n, ent, &ntres);
    if (kind != 0) {
        if (kind < 0)
            fat32_short_basis(name, n, ent);
        r = dir_pick_alias(vol, dir, ent, kind == 1);
        if (r < 0)
            return r;
        ntres = 0;
        nlfn = (n + LFN_UNITS - 1) / LFN_UNITS;
    }
    ent[DE_NTRES] = ntres;
    r = dir_find_slots(vol, dir, nlfn + 1, &start);
    if (r < 0)
        return r;
    for (uint32_t i = 0; i < nlfn; i++) {
        lfn_build(lfn, name, n, nlfn - i, i == 0, fat32_short_checksum(ent));
        r = dir_write_slot(vol, &d, start + i, lfn, NULL);
        if (r < 0)
            return r;
    }
    r = dir_write_slot(vol, &d, start + nlfn, ent, out);
    if (r < 0)
        return r;
    memcpy(out->ent, ent, DIRENT_SIZE);
    memcpy(out->lname, name, n * sizeof(*name));
    out->lname_len = nlfn ? n : 0;
    out->sname_len = fat32_short_display(ent, out->sname);
    out->dir_cluster = dir;
    out->first_index = start;
    out->index = start + nlfn;
    return 0;
}

/** Marks every slot of an entry set free. */
int fat32_dir_remove(struct fat32_vol *vol, const struct fat_found *f)
{
    struct fat32_dir d = {f->dir_cluster, 0, 0, 0};
    uint32_t sector, offset;
    uint8_t *e;
    int r;

    for (d.index = f->first_index; d.index <= f->index; d.index++) {
        r = fat32_dir_locate(vol, &d, &sector, &offset);
        if (r == 1)
            return fat32_corrupt(vol, "directory chain ended inside an entry");
        if (r == 0)
            r = fat32_entry_load(vol, sector, offset, &e);
        if (r == 0) {
            e[0] = DIRENT_FREE;
            r = fat32_buf_store(vol);
        }
        if (r < 0)
            return r;
    }
    return 0;
}

/* ".." holds 0 when the parent is the root (spec, "FAT Directory Structure"). */
static uint32_t dotdot_cluster(const struct fat32_vol *vol, uint32_t parent)
{
    return parent == vol->root_cluster ? 0 : parent;
}

/** Writes "." and ".." into the new (zeroed) directory cluster cl. */
int fat32_dir_init(struct fat32_vol *vol, uint32_t cl, uint32_t parent, const uint8_t *tmpl)
{
    struct fat32_dir d = {cl, 0, 0, 0};
    uint8_t ent[DIRENT_SIZE];
    int r;

    memcpy(ent, tmpl, DIRENT_SIZE);
    memcpy(ent, ".          ", 11);
    ent[DE_NTRES] = 0;
    fat_set_entry_cluster(ent, cl);
    r = dir_write_slot(vol, &d, 0, ent, NULL);
    if (r < 0)
        return r;
    memcpy(ent, "..         ", 11);
    fat_set_entry_cluster(ent, dotdot_cluster(vol, parent));
    return dir_write_slot(vol, &d, 1, ent, NULL);
}

/** Points the ".." entry of directory cl at a new parent after a rename. */
int fat32_dir_set_parent(struct fat32_vol *vol, uint32_t cl, uint32_t parent)
{
    uint8_t *e;
    int r = fat32_entry_load(vol, fat_cluster_sector(vol, cl), DIRENT_SIZE, &e);

    if (r < 0)
        return r;
    if (memcmp(e, "..         ", 11) != 0)
        return fat32_corrupt(vol, "directory has no \"..\" entry in its second slot");
    fat_set_entry_cluster(e, dotdot_cluster(vol, parent));
    return fat32_buf_store(vol);
}
