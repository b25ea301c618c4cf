/* fat32.c - FAT32 volumes: BPB checks at mount, FSInfo, sync, statfs, label. */
#include "fat32_priv.h"

/* Boot sector and BPB offsets (spec, "Boot Sector and BPB"). */
#define BPB_BYTS_PER_SEC 11
#define BPB_SEC_PER_CLUS 13
#define BPB_RSVD_SEC_CNT 14
#define BPB_NUM_FATS     16
#define BPB_ROOT_ENT_CNT 17
#define BPB_TOT_SEC16    19
#define BPB_FAT_SZ16     22
#define BPB_TOT_SEC32    32
#define BPB_FAT_SZ32     36
#define BPB_EXT_FLAGS    40
#define BPB_FS_VER       42
#define BPB_ROOT_CLUS    44
#define BPB_FS_INFO      48
#define BS_BOOT_SIG      66
#define BS_VOL_LAB       71
#define BOOT_SIG_OFFSET  510

/* FSInfo sector (spec, "FAT32 FSInfo Sector Structure"). */
#define FSI_LEAD_SIG  0x41615252u
#define FSI_STRUC_SIG 0x61417272u
#define FSI_TRAIL_SIG 0xAA550000u
#define FSI_STRUC_OFF 484
#define FSI_FREE_OFF  488
#define FSI_NXT_OFF   492
#define FSI_TRAIL_OFF 508
#define FSI_UNKNOWN   0xFFFFFFFFu

#define MAX_CLUSTER_BYTES 65536

const char *fat32_error(const struct fat32_vol *vol)
{
    return vol->why ? vol->why : "";
}

static bool is_pow2(uint32_t x)
{
    return x && !(x & (x - 1));
}

/**
 * Checks the BPB in boot sector b and fills the geometry of vol. Every field that later
 * arithmetic depends on is bounded here, so a hostile image cannot make it overflow.
 */
static int fat_parse_bpb(struct fat32_vol *vol, const uint8_t *b, const char **why)
{
    uint32_t bps = load_le16(b + BPB_BYTS_PER_SEC);
    uint32_t spc = b[BPB_SEC_PER_CLUS];
    uint32_t rsvd = load_le16(b + BPB_RSVD_SEC_CNT);
    uint32_t nfats = b[BPB_NUM_FATS];
    uint32_t fatsz = load_le32(b + BPB_FAT_SZ32);
    uint32_t total = load_le16(b + BPB_TOT_SEC16);
    uint16_t flags = load_le16(b + BPB_EXT_FLAGS);
    uint32_t ss = vol->bd->sector_size;
    uint64_t meta, clusters;

    if (b[BOOT_SIG_OFFSET] != 0x55 || b[BOOT_SIG_OFFSET + 1] != 0xAA)
        return *why = "no boot sector signature: not a FAT volume", -EINVAL;
    if (load_le16(b + BPB_ROOT_ENT_CNT) != 0 || load_le16(b + BPB_FAT_SZ16) != 0)
        return *why = "FAT12/FAT16 layout: only FAT32 is supported", -EINVAL;
    if (bps < 512 || bps > 4096 || !is_pow2(bps))
        return *why = "bytes per sector not a power of two in 512..4096", -EUCLEAN;
    if (bps < ss || bps % ss)
        return *why = "FAT sector smaller than the device sector", -EINVAL;
    if (!is_pow2(spc))
        return *why = "sectors per cluster not a power of two", -EUCLEAN;
    if (spc * bps > MAX_CLUSTER_BYTES)
        return *why = "cluster larger than 64 KiB", -EUCLEAN;
    if (rsvd == 0)
        return *why = "no reserved sectors", -EUCLEAN;
    if (nfats == 0 || nfats > 4)
        return *why = "FAT count not in 1..4", -EUCLEAN;
    if (fatsz == 0)
        return *why = "FAT size is zero", -EUCLEAN;
    if (load_le16(b + BPB_FS_VER) != 0)
        return *why = "unknown FAT32 version", -EUCLEAN;
    if (total == 0)
        total = load_le32(b + BPB_TOT_SEC32);
    if (total == 0)
        return *why = "total sector count is zero", -EUCLEAN;
    if ((uint64_t)total * (bps / ss) > vol->bd->nsectors)
        return *why = "volume larger than the device (truncated image?)", -EUCLEAN;
    meta = rsvd + (uint64_t)nfats * fatsz;
    if (meta >= total)
        return *why = "FATs extend past the end of the volume", -EUCLEAN;
    clusters = (total - meta) / spc;
    if (clusters == 0)
        return *why = "no data clusters", -EUCLEAN;
    if (clusters > FAT_MAX_CLUSTER - 1)
        return *why = "more clusters than FAT32 can address", -EUCLEAN;
    if ((uint64_t)fatsz * bps / 4 < clusters + 2)
        return *why = "FAT too small for the cluster count", -EUCLEAN;
    if ((flags & 0x80) && (flags & 0xF) >= nfats)
        return *why = "active FAT number out of range", -EUCLEAN;

    vol->bytes_per_sector = bps;
    vol->dev_per_sector = bps / ss;
    vol->sectors_per_cluster = spc;
    vol->cluster_size = spc * bps;
    vol->fat_start = rsvd;
    vol->fat_sectors = fatsz;
    vol->nfats = nfats;
    vol->mirror = !(flags & 0x80);
    vol->active_fat = vol->mirror ? 0 : flags & 0xF;
    vol->data_start = (uint32_t)meta;
    vol->nclusters = (uint32_t)clusters;
    vol->root_cluster = load_le32(b + BPB_ROOT_CLUS);
    if (!fat_cluster_valid(vol, vol->root_cluster))
        return *why = "root directory cluster out of range", -EUCLEAN;
    vol->fsinfo_sector = load_le16(b + BPB_FS_INFO);
    if (vol->fsinfo_sector >= rsvd)
        vol->fsinfo_sector = 0;
    if (b[BS_BOOT_SIG] == 0x29) {
        memcpy(vol->bpb_label, b + BS_VOL_LAB, 11);
        vol->has_bpb_label = true;
    }
    return 0;
}

/* The FSInfo counts are hints (spec): take them only when plausible, else count. */
static int fat_read_fsinfo(struct fat32_vol *vol)
{
    uint8_t *s = vol->sector_buf;
    uint32_t free_count, next;
    int r;

    vol->free_known = false;
    vol->next_free = 2;
    if (!vol->fsinfo_sector)
        return 0;
    r = fat32_buf_load(vol, vol->fsinfo_sector);
    if (r < 0)
        return r;
    if (load_le32(s) != FSI_LEAD_SIG || load_le32(s + FSI_STRUC_OFF) != FSI_STRUC_SIG ||
        load_le32(s + FSI_TRAIL_OFF) != FSI_TRAIL_SIG)
        return 0;
    free_count = load_le32(s + FSI_FREE_OFF);
    next = load_le32(s + FSI_NXT_OFF);
    if (free_count != FSI_UNKNOWN && free_count <= vol->nclusters) {
        vol->free_count = free_count;
        vol->free_known = true;
    }
    if (fat_cluster_valid(vol, next))
        vol->next_free = next;
    return 0;
}

static int fat_write_fsinfo(struct fat32_vol *vol)
{
    uint8_t *s = vol->sector_buf;
    int r;

    if (!vol->fsinfo_sector || !vol->fsinfo_dirty)
        return 0;
    if (!vol->free_known) {
        r = fat32_count_free(vol);
        if (r < 0)
            return r;
    }
    r = fat32_buf_load(vol, vol->fsinfo_sector);
    if (r < 0)
        return r;
    if (load_le32(s) != FSI_LEAD_SIG || load_le32(s + FSI_STRUC_OFF) != FSI_STRUC_SIG ||
        load_le32(s + FSI_TRAIL_OFF) != FSI_TRAIL_SIG) {
        memset(s, 0, vol->bytes_per_sector);
        store_le32(s, FSI_LEAD_SIG);
        store_le32(s + FSI_STRUC_OFF, FSI_STRUC_SIG);
        store_le32(s + FSI_TRAIL_OFF, FSI_TRAIL_SIG);
    }
    store_le32(s + FSI_FREE_OFF, vol->free_count);
    store_le32(s + FSI_NXT_OFF, vol->next_free);
    r = fat32_buf_store(vol);
    if (r == 0)
        vol->fsinfo_dirty = false;
    return r;
}

static void fat_free_vol(struct fat32_vol *vol)
{
    fat32_fat_release(vol);
    kfree(vol->sector_buf);
    kfree(vol);
}

int fat32_mount(struct blockdev *bd, const struct fat32_mount_opts *opts, struct fat32_vol **out,
                const char **why)
{
    const char *dummy;
    struct fat32_vol *vol;
    uint8_t *boot;
    bool ok;
    int r;

    if (!why)
        why = &dummy;
    *why = "";
    *out = NULL;
    if (bd->sector_size < 512 || bd->sector_size > 4096 || !is_pow2(bd->sector_size))
        return *why = "device sector size not a power of two in 512..4096", -EINVAL;
    if (bd->nsectors == 0)
        return *why = "device is empty", -EINVAL;
    vol = kzalloc(sizeof(*vol));
    boot = kmalloc(bd->sector_size);
    if (!vol || !boot) {
        kfree(vol);
        kfree(boot);
        return -ENOMEM;
    }
    vol->bd = bd;
    r = blockdev_read(bd, 0, 1, boot);
    if (r < 0)
        *why = "cannot read the boot sector";
    else
        r = fat_parse_bpb(vol, boot, why);
    kfree(boot);
    if (r < 0) {
        kfree(vol);
        return r;
    }
    if (opts) {
        vol->now = opts->now;
        vol->now_ctx = opts->now_ctx;
        vol->read_only = opts->read_only || !bd->write;
    } else {
        vol->read_only = !bd->write;
    }
    vol->sector_buf = kmalloc(vol->bytes_per_sector);
    ok = vol->sector_buf != NULL;
    for (int i = 0; i < FAT_CACHE_SLOTS; i++) {
        vol->fat_cache[i].buf = kmalloc(vol->bytes_per_sector);
        ok = ok && vol->fat_cache[i].buf;
    }
    if (!ok) {
        fat_free_vol(vol);
        return -ENOMEM;
    }
    r = fat_read_fsinfo(vol);
    if (r == 0)
        r = fat32_check_chain(vol, vol->root_cluster);
    if (r < 0) {
        *why = r == -EUCLEAN ? vol->why : "cannot read the FSInfo or FAT";
        fat_free_vol(vol);
        return r;
    }
    vol->why = NULL;
    *out = vol;
    return 0;
}

int fat32_sync(struct fat32_vol *vol)
{
    int r;

    if (vol->read_only)
        return 0;
    r = fat32_fat_flush(vol);
    if (r == 0)
        r = fat_write_fsinfo(vol);
    if (r == 0)
        r = blockdev_flush(vol->bd);
    return r;
}

int fat32_unmount(struct fat32_vol *vol)
{
    int r;

    if (vol->nodes)
        return -EBUSY;
    r = fat32_sync(vol);
    fat_free_vol(vol);
    return r;
}

int fat32_statfs(struct fat32_vol *vol, struct fat32_statfs *out)
{
    int r;

    if (!vol->free_known) {
        r = fat32_count_free(vol);
        if (r < 0)
            return r;
    }
    out->bytes_per_sector = vol->bytes_per_sector;
    out->bytes_per_cluster = vol->cluster_size;
    out->total_clusters = vol->nclusters;
    out->free_clusters = vol->free_count;
    return 0;
}

/* Label bytes are OEM code page; like short names they are passed through as Latin-1. */
static int fat_label_copy(const uint8_t *raw, char *buf, size_t len)
{
    uint16_t u[11];
    uint32_t n = 11;

    while (n > 0 && raw[n - 1] == ' ')
        n--;
    for (uint32_t i = 0; i < n; i++)
        u[i] = raw[i];
    return fat32_units_to_utf8(u, n, buf, len);
}

int fat32_label(struct fat32_vol *vol, char *buf, size_t len)
{
    struct fat32_dir d = {vol->root_cluster, 0, 0, 0};
    struct fat_found *f = kmalloc(sizeof(*f));
    int r;

    if (!f)
        return -ENOMEM;
    /* The root directory's volume-ID entry wins over the BPB copy, as in Windows. */
    while ((r = fat32_dir_next(vol, &d, f)) == 1) {
        if ((f->ent[DE_ATTR] & (FAT32_ATTR_VOLUME_ID | FAT32_ATTR_DIRECTORY)) ==
            FAT32_ATTR_VOLUME_ID) {
            r = fat_label_copy(f->ent, buf, len);
            kfree(f);
            return r;
        }
    }
    kfree(f);
    if (r < 0)
        return r;
    if (vol->has_bpb_label && memcmp(vol->bpb_label, "NO NAME    ", 11) != 0)
        return fat_label_copy(vol->bpb_label, buf, len);
    return fat_label_copy((const uint8_t *)"           ", buf, len);
}
