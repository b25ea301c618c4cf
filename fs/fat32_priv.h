/* fat32_priv.h - FAT32 internals shared by the fs/fat32*.c files (on-disk layout, volume state). */
#ifndef FS_FAT32_PRIV_H
#define FS_FAT32_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fs/fat32.h"
#include "hw/byteorder.h"
#include "kernel/kmalloc.h"
#include "lib/errno.h"
#include "lib/string.h"

/* FAT entries (Microsoft FAT spec, "FAT Data Structure"): 28 bits used, top 4 reserved. */
#define FAT_ENTRY_MASK  0x0FFFFFFFu
#define FAT_BAD         0x0FFFFFF7u
#define FAT_EOC_MIN     0x0FFFFFF8u
#define FAT_EOC         0x0FFFFFFFu
#define FAT_MAX_CLUSTER 0x0FFFFFF6u /* highest cluster number the format can address */

/* Directory entries (spec, "Directory Structure" and "Long Directory Entries"). */
#define DIRENT_SIZE      32
#define DIR_MAX_ENTRIES  65536 /* the spec's limit on slots in one directory */
#define DIRENT_FREE      0xE5
#define DIRENT_END       0x00
#define DIRENT_KANJI_E5  0x05 /* a stored 0x05 first byte means 0xE5 */
#define ATTR_LONG_NAME   0x0F
#define ATTR_LONG_MASK   0x3F
#define LFN_LAST         0x40
#define LFN_UNITS        13 /* UTF-16 units per long-name entry */
#define LFN_MAX_ENTRIES  20
#define NAME_MAX_UNITS   255
#define NTRES_LOWER_BASE 0x08
#define NTRES_LOWER_EXT  0x10
#define FAT_CACHE_SLOTS  4

/* Byte offsets inside a 32-byte short entry. */
#define DE_ATTR     11
#define DE_NTRES    12
#define DE_CTIME_MS 13
#define DE_CTIME    14
#define DE_CDATE    16
#define DE_ADATE    18
#define DE_CLUS_HI  20
#define DE_MTIME    22
#define DE_MDATE    24
#define DE_CLUS_LO  26
#define DE_SIZE     28

/** One cached sector of the FAT (the active copy); written to every copy when flushed. */
struct fat_cache_slot {
    uint8_t *buf;
    uint32_t sector; /* sector index within one FAT */
    uint32_t stamp;  /* last use, for LRU eviction */
    bool valid, dirty;
};

/** An open file. Keyed by where its short entry lives; rename moves the key. */
struct fat32_node {
    struct fat32_node *next;
    uint32_t refs;
    uint32_t entry_sector; /* volume sector and byte offset of the short entry */
    uint32_t entry_offset;
    uint32_t first_cluster; /* 0 while the file is empty */
    uint32_t size;
    uint32_t seek_index; /* last cluster reached: its position in the chain and number */
    uint32_t seek_cluster;
    /*
     * An extent learnt from the FAT: clusters run_index .. run_index + run_len - 1 of the file are
     * run_cluster onwards on the disk, so I/O inside it needs no FAT lookups. 0: none known.
     */
    uint32_t run_index, run_cluster, run_len;
    bool unlinked; /* its entry is gone (POSIX unlink while open): the last close frees the chain */
};

/* Closed files whose extent the volume remembers. */
#define FAT32_EXTENTS 16

/** A remembered extent: clusters run_index.. of the chain starting at first are run_cluster... */
struct fat32_extent {
    uint32_t first; /* 0: slot empty */
    uint32_t run_index, run_cluster, run_len;
};

/** A mounted volume. Sector numbers are in FAT sectors (bytes_per_sector) from the volume start. */
struct fat32_vol {
    struct blockdev *bd;
    uint32_t dev_per_sector; /* device sectors in one FAT sector */
    uint32_t bytes_per_sector;
    uint32_t sectors_per_cluster;
    uint32_t cluster_size;
    uint32_t fat_start;   /* first sector of FAT #0 */
    uint32_t fat_sectors; /* sectors in one FAT */
    uint32_t nfats;
    uint32_t active_fat; /* the FAT read from; all are written when mirror is set */
    bool mirror;
    uint32_t data_start; /* sector of cluster 2 */
    uint32_t nclusters;  /* data clusters: valid numbers are 2 .. nclusters + 1 */
    uint32_t root_cluster;
    uint32_t fsinfo_sector; /* 0 when the volume has none */
    uint32_t free_count;
    bool free_known;
    uint32_t next_free; /* where the next allocation starts looking */
    bool fsinfo_dirty;
    uint8_t bpb_label[11];
    bool has_bpb_label;
    bool read_only;
    struct fat_cache_slot fat_cache[FAT_CACHE_SLOTS];
    uint32_t fat_stamp;
    uint8_t *sector_buf; /* one sector for directory and partial-sector I/O, write-through */
    uint32_t sector_buf_lba;
    bool sector_buf_valid;
    struct fat32_node *nodes;
    /*
     * Extents of closed files (their node's run), keyed by first cluster, so a file opened again
     * is read without walking the FAT. Any freed or trimmed chain clears them all.
     */
    struct fat32_extent extents[FAT32_EXTENTS];
    unsigned extent_next; /* the slot the next closed file's extent takes */
    void (*now)(void *ctx, struct fat32_time *out);
    void *now_ctx;
    const char *why; /* detail of the last -EUCLEAN */
};

/** A short entry found in a directory, with its long name when one is attached. */
struct fat_found {
    uint8_t ent[DIRENT_SIZE];
    uint16_t lname[LFN_MAX_ENTRIES * LFN_UNITS]; /* assembled here; valid names fit 255 */
    uint32_t lname_len;                          /* 0: no valid long name */
    uint16_t sname[12];                          /* the 8.3 name as displayed */
    uint32_t sname_len;
    uint32_t dir_cluster; /* first cluster of the directory */
    uint32_t first_index; /* first slot of the entry set (a long-name slot or the short one) */
    uint32_t index;       /* slot of the short entry */
    uint32_t sector;      /* where the short entry lives */
    uint32_t offset;
};

/** The result of resolving a path. */
struct fat_lookup {
    bool is_root;
    bool found;
    uint32_t parent; /* first cluster of the directory holding the last component */
    struct fat_found f;
    uint16_t name[NAME_MAX_UNITS]; /* last component */
    uint32_t name_len;
    uint32_t depth; /* directories walked, root first; parent is ancestors[depth - 1] */
    uint32_t ancestors[FAT32_DEPTH_MAX + 1];
};

static inline bool fat_cluster_valid(const struct fat32_vol *vol, uint32_t cl)
{
    return cl >= 2 && cl - 2 < vol->nclusters;
}

static inline uint32_t fat_cluster_sector(const struct fat32_vol *vol, uint32_t cl)
{
    return vol->data_start + (cl - 2) * vol->sectors_per_cluster;
}

static inline uint32_t fat_entry_cluster(const uint8_t *ent)
{
    return (uint32_t)load_le16(ent + DE_CLUS_HI) << 16 | load_le16(ent + DE_CLUS_LO);
}

static inline void fat_set_entry_cluster(uint8_t *ent, uint32_t cl)
{
    store_le16(ent + DE_CLUS_HI, (uint16_t)(cl >> 16));
    store_le16(ent + DE_CLUS_LO, (uint16_t)cl);
}

static inline bool fat_entry_is_dir(const uint8_t *ent)
{
    return ent[DE_ATTR] & FAT32_ATTR_DIRECTORY;
}

/* fat32_io.c: device access, the one-sector buffer, time stamps, errors. */
int fat32_corrupt(struct fat32_vol *vol, const char *why);
int fat32_dev_read(struct fat32_vol *vol, uint32_t sector, uint32_t count, void *buf);
int fat32_dev_read_to(struct fat32_vol *vol, uint32_t sector, uint32_t count,
                      const struct io_dest *dst, uint64_t dst_off);
int fat32_dev_write(struct fat32_vol *vol, uint32_t sector, uint32_t count, const void *buf);
int fat32_buf_load(struct fat32_vol *vol, uint32_t sector);
int fat32_buf_zero(struct fat32_vol *vol, uint32_t sector);
int fat32_buf_store(struct fat32_vol *vol);
void fat32_stamp_now(struct fat32_vol *vol, uint8_t *ent, bool created);
/* Sets the modification (and access) stamp of a short entry to t. */
void fat32_stamp_mtime(uint8_t *ent, const struct fat32_time *t);
void fat32_entry_stat(const uint8_t *ent, struct fat32_stat *out);

/* fat32_fat.c: the allocation table and cluster chains. */
int fat32_fat_get(struct fat32_vol *vol, uint32_t cl, uint32_t *val);
int fat32_fat_set(struct fat32_vol *vol, uint32_t cl, uint32_t val);
int fat32_fat_flush(struct fat32_vol *vol);
void fat32_fat_release(struct fat32_vol *vol);
int fat32_next(struct fat32_vol *vol, uint32_t cl, uint32_t *next);
int fat32_alloc(struct fat32_vol *vol, uint32_t prev, bool zero, uint32_t *out);
void fat32_extents_forget(struct fat32_vol *vol);
int fat32_free_chain(struct fat32_vol *vol, uint32_t first);
int fat32_trim_chain(struct fat32_vol *vol, uint32_t first, uint32_t keep);
int fat32_count_free(struct fat32_vol *vol);
int fat32_check_chain(struct fat32_vol *vol, uint32_t first);

/* fat32_name.c: 8.3 names, long names, UTF-8. */
int fat32_utf8_to_units(const char *s, size_t len, uint16_t *out, uint32_t max);
int fat32_units_to_utf8(const uint16_t *u, uint32_t n, char *out, size_t max);
bool fat32_long_name_valid(const uint16_t *u, uint32_t n, bool creating);
bool fat32_names_equal(const uint16_t *a, uint32_t an, const uint16_t *b, uint32_t bn);
uint32_t fat32_short_display(const uint8_t *ent, uint16_t *out);
uint8_t fat32_short_checksum(const uint8_t *name11);
int fat32_short_exact(const uint16_t *u, uint32_t n, uint8_t *name11, uint8_t *ntres);
void fat32_short_basis(const uint16_t *u, uint32_t n, uint8_t *name11);
void fat32_short_tail(const uint8_t *basis, uint32_t tail, uint8_t *name11);
uint32_t fat32_short_tail_of(const uint8_t *basis, const uint8_t *name11);

/* fat32_dir.c: reading directories. */
extern const uint8_t fat32_lfn_unit_offset[LFN_UNITS];
int fat32_dir_locate(struct fat32_vol *vol, struct fat32_dir *d, uint32_t *sector,
                     uint32_t *offset);
bool fat32_found_visible(const struct fat_found *f);
int fat32_dir_next(struct fat32_vol *vol, struct fat32_dir *d, struct fat_found *f);
int fat32_dir_find(struct fat32_vol *vol, uint32_t dir, const uint16_t *name, uint32_t n,
                   struct fat_found *f);
int fat32_dir_empty(struct fat32_vol *vol, uint32_t dir);
int fat32_entry_load(struct fat32_vol *vol, uint32_t sector, uint32_t offset, uint8_t **ent);

/* fat32_dir_write.c: changing directories. */
int fat32_dir_add(struct fat32_vol *vol, uint32_t dir, const uint16_t *name, uint32_t n,
                  const uint8_t *tmpl, struct fat_found *out);
int fat32_dir_remove(struct fat32_vol *vol, const struct fat_found *f);
int fat32_dir_init(struct fat32_vol *vol, uint32_t cl, uint32_t parent, const uint8_t *tmpl);
int fat32_dir_set_parent(struct fat32_vol *vol, uint32_t cl, uint32_t parent);

/* fat32_path.c: resolving paths. */
int fat32_lookup(struct fat32_vol *vol, const char *path, struct fat_lookup *lk);
int fat32_lookup_alloc(struct fat32_vol *vol, const char *path, struct fat_lookup **out);
/*
 * For a name about to be made: look path up (it must not exist: -EEXIST) and start the new
 * entry's template tmpl with attr and the current time stamps.
 */
int fat32_lookup_new(struct fat32_vol *vol, const char *path, uint8_t attr, uint8_t *tmpl,
                     struct fat_lookup **out);

/* fat32_file.c: nodes shared with the namespace operations. */
struct fat32_node *fat32_node_find(struct fat32_vol *vol, uint32_t sector, uint32_t offset);

#endif
