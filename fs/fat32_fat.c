/* fat32_fat.c - the file allocation table: cached entries, cluster chains, allocation. */
#include "fat32_priv.h"

/* Dirty FAT sectors go to every copy while mirroring is on (spec, BPB_ExtFlags). */
static int fat_slot_flush(struct fat32_vol *vol, struct fat_cache_slot *slot)
{
    int r;

    if (!slot->valid || !slot->dirty)
        return 0;
    for (uint32_t f = 0; f < vol->nfats; f++) {
        if (!vol->mirror && f != vol->active_fat)
            continue;
        r = fat32_dev_write(vol, vol->fat_start + f * vol->fat_sectors + slot->sector, 1,
                            slot->buf);
        if (r < 0)
            return r;
    }
    slot->dirty = false;
    return 0;
}

static int fat_slot_get(struct fat32_vol *vol, uint32_t sector, struct fat_cache_slot **out)
{
    struct fat_cache_slot *victim = &vol->fat_cache[0];
    int r;

    for (int i = 0; i < FAT_CACHE_SLOTS; i++) {
        struct fat_cache_slot *s = &vol->fat_cache[i];

        if (s->valid && s->sector == sector) {
            s->stamp = ++vol->fat_stamp;
            *out = s;
            return 0;
        }
        if (!s->valid || (victim->valid && s->stamp < victim->stamp))
            victim = s;
    }
    r = fat_slot_flush(vol, victim);
    if (r < 0)
        return r;
    victim->valid = false;
    r = fat32_dev_read(vol, vol->fat_start + vol->active_fat * vol->fat_sectors + sector, 1,
                       victim->buf);
    if (r < 0)
        return r;
    victim->valid = true;
    victim->dirty = false;
    victim->sector = sector;
    victim->stamp = ++vol->fat_stamp;
    *out = victim;
    return 0;
}

int fat32_fat_get(struct fat32_vol *vol, uint32_t cl, uint32_t *val)
{
    struct fat_cache_slot *slot;
    uint32_t off = cl * 4;
    int r;

    if (!fat_cluster_valid(vol, cl))
        return fat32_corrupt(vol, "cluster number out of range");
    r = fat_slot_get(vol, off / vol->bytes_per_sector, &slot);
    if (r < 0)
        return r;
    *val = load_le32(slot->buf + off % vol->bytes_per_sector) & FAT_ENTRY_MASK;
    return 0;
}

int fat32_fat_set(struct fat32_vol *vol, uint32_t cl, uint32_t val)
{
    struct fat_cache_slot *slot;
    uint32_t off = cl * 4;
    uint8_t *p;
    int r;

    if (vol->read_only)
        return -EROFS;
    if (!fat_cluster_valid(vol, cl))
        return fat32_corrupt(vol, "cluster number out of range");
    r = fat_slot_get(vol, off / vol->bytes_per_sector, &slot);
    if (r < 0)
        return r;
    p = slot->buf + off % vol->bytes_per_sector;
    /* The top four bits are reserved and must be preserved (spec, "FAT32 entries"). */
    store_le32(p, (load_le32(p) & ~FAT_ENTRY_MASK) | (val & FAT_ENTRY_MASK));
    slot->dirty = true;
    vol->fsinfo_dirty = true;
    return 0;
}

int fat32_fat_flush(struct fat32_vol *vol)
{
    for (int i = 0; i < FAT_CACHE_SLOTS; i++) {
        int r = fat_slot_flush(vol, &vol->fat_cache[i]);

        if (r < 0)
            return r;
    }
    return 0;
}

void fat32_fat_release(struct fat32_vol *vol)
{
    for (int i = 0; i < FAT_CACHE_SLOTS; i++)
        kfree(vol->fat_cache[i].buf);
}

/** The cluster after cl in its chain: 0 at the end of the chain, -EUCLEAN if the link is bad. */
int fat32_next(struct fat32_vol *vol, uint32_t cl, uint32_t *next)
{
    uint32_t v;
    int r = fat32_fat_get(vol, cl, &v);

    if (r < 0)
        return r;
    if (v >= FAT_EOC_MIN) {
        *next = 0;
        return 0;
    }
    if (fat_cluster_valid(vol, v)) {
        *next = v;
        return 0;
    }
    if (v == 0)
        return fat32_corrupt(vol, "cluster chain runs into a free cluster");
    if (v == FAT_BAD)
        return fat32_corrupt(vol, "cluster chain runs into a bad cluster");
    return fat32_corrupt(vol, "cluster chain points outside the volume");
}

/** Walks a whole chain; a chain longer than the volume has clusters must loop. */
int fat32_check_chain(struct fat32_vol *vol, uint32_t first)
{
    uint32_t cl = first;
    uint32_t steps = 0;
    int r;

    while (cl) {
        if (++steps > vol->nclusters)
            return fat32_corrupt(vol, "cluster chain loops");
        r = fat32_next(vol, cl, &cl);
        if (r < 0)
            return r;
    }
    return 0;
}

static int fat_zero_cluster(struct fat32_vol *vol, uint32_t cl)
{
    uint32_t sector = fat_cluster_sector(vol, cl);

    for (uint32_t i = 0; i < vol->sectors_per_cluster; i++) {
        int r;

        fat32_buf_zero(vol, sector + i);
        r = fat32_buf_store(vol);
        if (r < 0)
            return r;
    }
    return 0;
}

/**
 * Takes a free cluster, marks it end-of-chain and links it after prev (0: a new chain).
 * zero clears it first, which directories need: a stale slot must not read as an entry.
 */
int fat32_alloc(struct fat32_vol *vol, uint32_t prev, bool zero, uint32_t *out)
{
    uint32_t cl = fat_cluster_valid(vol, vol->next_free) ? vol->next_free : 2;
    uint32_t v = 1;
    int r;

    if (vol->read_only)
        return -EROFS;
    if (vol->free_known && vol->free_count == 0)
        return -ENOSPC;
    for (uint32_t i = 0; i < vol->nclusters; i++) {
        r = fat32_fat_get(vol, cl, &v);
        if (r < 0)
            return r;
        if (v == 0)
            break;
        cl = cl - 1 == vol->nclusters ? 2 : cl + 1;
    }
    if (v != 0) {
        vol->free_count = 0;
        vol->free_known = true;
        return -ENOSPC;
    }
    if (zero) {
        r = fat_zero_cluster(vol, cl);
        if (r < 0)
            return r;
    }
    r = fat32_fat_set(vol, cl, FAT_EOC);
    if (r < 0)
        return r;
    if (prev) {
        r = fat32_fat_set(vol, prev, cl);
        if (r < 0) {
            fat32_fat_set(vol, cl, 0);
            return r;
        }
    }
    if (vol->free_known && vol->free_count > 0)
        vol->free_count--;
    vol->next_free = cl - 1 == vol->nclusters ? 2 : cl + 1;
    *out = cl;
    return 0;
}

/** Frees every cluster of a chain. A loop ends at the first cluster already freed. */
void fat32_extents_forget(struct fat32_vol *vol)
{
    memset(vol->extents, 0, sizeof(vol->extents));
}

int fat32_free_chain(struct fat32_vol *vol, uint32_t first)
{
    uint32_t cl = first;
    uint32_t steps = 0;
    uint32_t v;
    int r;

    fat32_extents_forget(vol); /* the clusters may soon belong to another file */

    while (cl) {
        if (++steps > vol->nclusters)
            return fat32_corrupt(vol, "cluster chain loops");
        r = fat32_fat_get(vol, cl, &v);
        if (r < 0)
            return r;
        if (v == 0)
            return fat32_corrupt(vol, "cluster chain runs into a free cluster");
        r = fat32_fat_set(vol, cl, 0);
        if (r < 0)
            return r;
        if (vol->free_known)
            vol->free_count++;
        if (v >= FAT_EOC_MIN)
            break;
        if (!fat_cluster_valid(vol, v))
            return fat32_corrupt(vol, "cluster chain points outside the volume");
        cl = v;
    }
    return 0;
}

/** Keeps the first keep (>= 1) clusters of a chain and frees the rest. */
int fat32_trim_chain(struct fat32_vol *vol, uint32_t first, uint32_t keep)
{
    uint32_t cl = first;
    uint32_t v;
    int r;

    fat32_extents_forget(vol);
    if (keep > vol->nclusters)
        return fat32_corrupt(vol, "cluster chain shorter than the file size");
    for (uint32_t i = 1; i < keep; i++) {
        r = fat32_next(vol, cl, &cl);
        if (r < 0)
            return r;
        if (cl == 0)
            return fat32_corrupt(vol, "cluster chain shorter than the file size");
    }
    r = fat32_fat_get(vol, cl, &v);
    if (r < 0)
        return r;
    if (v >= FAT_EOC_MIN)
        return 0;
    r = fat32_fat_set(vol, cl, FAT_EOC);
    if (r < 0)
        return r;
    if (!fat_cluster_valid(vol, v))
        return fat32_corrupt(vol, "cluster chain points outside the volume");
    return fat32_free_chain(vol, v);
}

int fat32_count_free(struct fat32_vol *vol)
{
    uint32_t n = 0;
    uint32_t v;

    for (uint32_t cl = 2; cl - 2 < vol->nclusters; cl++) {
        int r = fat32_fat_get(vol, cl, &v);

        if (r < 0)
            return r;
        n += v == 0;
    }
    vol->free_count = n;
    vol->free_known = true;
    return 0;
}
