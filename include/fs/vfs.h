/* vfs.h - the virtual file system: mount table, path resolution, open files, stat. */
#ifndef FS_VFS_H
#define FS_VFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct io_dest; /* block/blockdev.h */

#define VFS_PATH_MAX   1024
#define VFS_NAME_MAX   765
#define VFS_MAX_MOUNTS 4
#define VFS_MAX_FILES  128 /* system-wide open file table */

/* open() flags, with the Linux arm64 values (user programs pass them straight through). */
#define O_RDONLY    00
#define O_WRONLY    01
#define O_RDWR      02
#define O_ACCMODE   03
#define O_CREAT     0100
#define O_EXCL      0200
#define O_TRUNC     01000
#define O_APPEND    02000
#define O_DIRECTORY 040000

#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2

struct vfs_time {
    uint16_t year;
    uint8_t month, day, hour, minute, second;
};

struct vfs_stat {
    uint64_t size;
    bool is_dir;
    bool read_only;
    uint32_t rdev; /* a character device: its number (Linux's st_rdev); 0: not a device */
    struct vfs_time mtime, ctime;
};

/** What vfs_setattr changes: read_only (0 or 1; -1: unchanged), mtime if set_mtime. */
struct vfs_setattr {
    int read_only;
    bool set_mtime;
    struct vfs_time mtime;
};

struct vfs_dirent {
    char name[VFS_NAME_MAX + 1];
    struct vfs_stat st;
};

struct vfs_statfs {
    const char *type;
    uint64_t block_size;
    uint64_t total_blocks;
    uint64_t free_blocks;
};

/*
 * What a file-system type provides. Paths handed to it are relative to its root,
 * already normalised ("/a/b", no "." or ".." or repeated slashes). The VFS serialises
 * all calls on one mount, so a type needs no locking of its own.
 */
struct vfs_fs_ops {
    const char *type;
    int (*stat)(void *fs, const char *path, struct vfs_stat *out);
    int (*open)(void *fs, const char *path, void **node);
    int (*create)(void *fs, const char *path, void **node);
    int (*close)(void *fs, void *node);
    long (*read)(void *fs, void *node, uint64_t off, void *buf, size_t len);
    /* Optional: read into any destination (user memory without a bounce buffer). */
    long (*read_to)(void *fs, void *node, uint64_t off, const struct io_dest *dst, size_t len);
    long (*write)(void *fs, void *node, uint64_t off, const void *buf, size_t len);
    int (*truncate)(void *fs, void *node, uint64_t size);
    int (*fstat)(void *fs, void *node, struct vfs_stat *out);
    int (*mkdir)(void *fs, const char *path);
    int (*unlink)(void *fs, const char *path);
    int (*rmdir)(void *fs, const char *path);
    int (*rename)(void *fs, const char *from, const char *to);
    int (*setattr)(void *fs, const char *path, const struct vfs_setattr *attr); /* may be NULL */
    int (*fsetattr)(void *fs, void *node, const struct vfs_setattr *attr);      /* may be NULL */
    int (*opendir)(void *fs, const char *path, void **dir);
    int (*readdir)(void *fs, void *dir, struct vfs_dirent *out); /* 1, 0 at the end */
    void (*closedir)(void *fs, void *dir);
    int (*statfs)(void *fs, struct vfs_statfs *out);
    int (*sync)(void *fs);
    const char *(*error)(void *fs); /* detail of the last corruption found, or "" */
    int (*unmount)(void *fs);       /* sync and release; -EBUSY while files are open */
};

struct file; /* an open file or directory; shared by dup/fork through its reference count */

/* Wall clock for new time stamps (file systems ask through vfs_now); unset: 1980-01-01. */
void vfs_set_clock(void (*now)(struct vfs_time *out));
void vfs_now(struct vfs_time *out);

int vfs_mount(const char *path, const struct vfs_fs_ops *ops, void *fs, const char *source);
/* Turn path (absolute, or relative to cwd) into a normalised absolute path in out[VFS_PATH_MAX]. */
int vfs_normalize(const char *cwd, const char *path, char *out);

int vfs_open(const char *path, int flags, struct file **out);
struct file *vfs_dup(struct file *f);
int vfs_close(struct file *f);
long vfs_read(struct file *f, void *buf, size_t len);
long vfs_write(struct file *f, const void *buf, size_t len);
long vfs_pread(struct file *f, void *buf, size_t len, uint64_t off);
/*
 * vfs_read / vfs_pread (off not NULL) into any destination; -ENOTSUP when the file system
 * cannot (the caller then reads into a buffer of its own).
 */
long vfs_read_to(struct file *f, const struct io_dest *dst, size_t len, const uint64_t *off);
/* Write at off; neither uses nor moves the file position (O_APPEND is not applied). */
long vfs_pwrite(struct file *f, const void *buf, size_t len, uint64_t off);
int64_t vfs_lseek(struct file *f, int64_t off, int whence);
int vfs_readdir(struct file *f, struct vfs_dirent *out); /* 1 with an entry, 0 at the end */
int vfs_fstat(struct file *f, struct vfs_stat *out);
int vfs_ftruncate(struct file *f, uint64_t size);
bool vfs_is_dir(const struct file *f);

int vfs_stat(const char *path, struct vfs_stat *out);
int vfs_mkdir(const char *path);
int vfs_unlink(const char *path);
int vfs_rmdir(const char *path);
int vfs_rename(const char *from, const char *to);
/* chmod's write bit and utimensat's mtime: -EPERM if the file system keeps neither. */
int vfs_setattr(const char *path, const struct vfs_setattr *attr);
/* The same for an open file (not a directory). */
int vfs_fsetattr(struct file *f, const struct vfs_setattr *attr);
/* Mount number i (0..): its path (cut to max), type and source; -ENOENT past the last. */
int vfs_mount_entry(int i, char *path, size_t max, const char **type, const char **source);
int vfs_statfs(const char *path, struct vfs_statfs *out, const char **source);
/* Every mount's file system written back and its disk flushed; the first error. */
int vfs_sync_all(void);
/*
 * What f's writes left in caches is on the disk when it returns (fsync, fdatasync and syncfs: the
 * whole mount holding f is written back and its disk flushed).
 */
int vfs_fsync(struct file *f);
/* The corruption detail behind the last -EUCLEAN on the mount holding path, or "". */
const char *vfs_error(const char *path);
/* Convenience for loaders: read a whole file into a kmalloc'd buffer (caller frees). */
int vfs_read_file(const char *path, void **data, size_t *size, size_t max_size);

#ifdef AVATAR_HOST
void vfs_reset(void); /* host tests: unmount everything, forget all files */
#endif

#endif
