/* fat32.h - FAT32 with VFAT long names over a block device: volumes, files and directories. */
#ifndef FS_FAT32_H
#define FS_FAT32_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "block/blockdev.h"

/*
 * Concurrency: none inside. All calls on one mounted volume (and on its nodes and directory
 * cursors) must be serialised by the caller; the VFS holds a per-volume mutex around each call.
 * Separate volumes are independent.
 *
 * Paths are relative to the volume root ("/a/b", "a/b"; "/" or "" is the root). "." and ".."
 * are folded by name before the walk (a/.. is the directory holding a; FAT has no links).
 * Names are UTF-8 and compared with ASCII case folding, as FAT does; a name matches an entry's
 * long name or its 8.3 name. Errors are negative errnos; -EUCLEAN means the on-disk data is
 * inconsistent and fat32_error() says what was found.
 *
 * Metadata changes reach the device as they happen, except FAT sectors (a few are cached) and
 * the FSInfo counts, which fat32_sync writes; call it before the device goes away.
 */

#define FAT32_NAME_MAX  765  /* bytes in a UTF-8 long name: 255 UTF-16 units */
#define FAT32_PATH_MAX  4096 /* bytes in a path */
#define FAT32_DEPTH_MAX 128  /* directories in a path */
#define FAT32_FILE_MAX  0xFFFFFFFFu

#define FAT32_ATTR_READ_ONLY 0x01
#define FAT32_ATTR_HIDDEN    0x02
#define FAT32_ATTR_SYSTEM    0x04
#define FAT32_ATTR_VOLUME_ID 0x08
#define FAT32_ATTR_DIRECTORY 0x10
#define FAT32_ATTR_ARCHIVE   0x20

/** A FAT time stamp: years 1980..2107, two-second resolution for writes. */
struct fat32_time {
    uint16_t year;
    uint8_t month, day, hour, minute, second;
};

/** Mount options; a zeroed struct is valid (read-write, every stamp 1980-01-01 00:00:00). */
struct fat32_mount_opts {
    void (*now)(void *ctx, struct fat32_time *out); /* wall clock for new stamps */
    void *now_ctx;
    bool read_only;
};

struct fat32_vol;  /* a mounted volume */
struct fat32_node; /* an open file; all opens of one file share it */

/** What stat and readdir report about an entry. */
struct fat32_stat {
    uint32_t size; /* 0 for directories */
    uint32_t first_cluster;
    uint8_t attr;
    bool is_dir;
    struct fat32_time ctime, mtime, atime; /* atime is a date only */
};

/** Volume geometry and usage. */
struct fat32_statfs {
    uint32_t bytes_per_sector;
    uint32_t bytes_per_cluster;
    uint32_t total_clusters;
    uint32_t free_clusters;
};

/** A directory cursor for fat32_readdir; its fields are private to the FAT code. */
struct fat32_dir {
    uint32_t first_cluster;
    uint32_t index;    /* next entry slot */
    uint32_t cluster;  /* cluster holding slot index, 0 when not yet walked */
    uint32_t cl_index; /* position of that cluster in the chain */
};

/** One directory entry as readdir returns it ("." and ".." are not returned). */
struct fat32_dirent {
    char name[FAT32_NAME_MAX + 1]; /* long name, else the 8.3 name with its NT case bits */
    char short_name[25];           /* the 8.3 name as stored, e.g. "README~1.TXT" (UTF-8) */
    struct fat32_stat st;
};

/* Volume. fat32_mount checks the BPB, FSInfo and root chain; why (may be NULL) gets a reason. */
int fat32_mount(struct blockdev *bd, const struct fat32_mount_opts *opts, struct fat32_vol **out,
                const char **why);
int fat32_unmount(struct fat32_vol *vol); /* syncs and frees; -EBUSY while nodes are open */
int fat32_sync(struct fat32_vol *vol);    /* FAT sectors, FSInfo, then the device flush */
int fat32_statfs(struct fat32_vol *vol, struct fat32_statfs *out);
int fat32_label(struct fat32_vol *vol, char *buf, size_t len); /* length, or -ERANGE */
const char *fat32_error(const struct fat32_vol *vol);          /* last -EUCLEAN detail or "" */

/* Names. */
int fat32_stat(struct fat32_vol *vol, const char *path, struct fat32_stat *out);
int fat32_mkdir(struct fat32_vol *vol, const char *path);
/* Files; one still open loses its name now and its clusters at the last close (POSIX). */
int fat32_unlink(struct fat32_vol *vol, const char *path);
int fat32_rmdir(struct fat32_vol *vol, const char *path); /* empty directories only */
/* The read-only attribute (read_only 0 or 1; -1: unchanged) and, unless NULL, the mtime. */
int fat32_setattr(struct fat32_vol *vol, const char *path, int read_only,
                  const struct fat32_time *mtime);
int fat32_rename(struct fat32_vol *vol, const char *from, const char *to);
int fat32_opendir(struct fat32_vol *vol, const char *path, struct fat32_dir *dir);
/* 1 with the next entry in out, 0 at the end of the directory, or an errno. */
int fat32_readdir(struct fat32_vol *vol, struct fat32_dir *dir, struct fat32_dirent *out);

/*
 * Files (not directories: -EISDIR). fat32_create makes an empty file (-EEXIST if the name is
 * taken); out may be NULL. read and write return the bytes moved (short at the end of the file,
 * or when the volume fills up) or an errno; writing past the end fills the gap with zeros.
 * Files stop at 4 GiB - 1 (-EFBIG).
 */
int fat32_open(struct fat32_vol *vol, const char *path, struct fat32_node **out);
int fat32_create(struct fat32_vol *vol, const char *path, struct fat32_node **out);
int fat32_close(struct fat32_vol *vol, struct fat32_node *node);
long fat32_read(struct fat32_vol *vol, struct fat32_node *node, uint64_t off, void *buf,
                size_t len);
/* fat32_read into any destination (e.g. user memory through dst->copy). */
long fat32_read_to(struct fat32_vol *vol, struct fat32_node *node, uint64_t off,
                   const struct io_dest *dst, size_t len);
long fat32_write(struct fat32_vol *vol, struct fat32_node *node, uint64_t off, const void *buf,
                 size_t len);
int fat32_truncate(struct fat32_vol *vol, struct fat32_node *node, uint64_t size);
int fat32_fstat(struct fat32_vol *vol, struct fat32_node *node, struct fat32_stat *out);
/* fat32_setattr for an open file. */
int fat32_fsetattr(struct fat32_vol *vol, struct fat32_node *node, int read_only,
                   const struct fat32_time *mtime);

#endif
