/*
 * blockdev.h - the block layer: the block device interface file systems sit on, the registry of
 * named disks that drivers fill, and a RAM-backed device.
 */
#ifndef BLOCK_BLOCKDEV_H
#define BLOCK_BLOCKDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/errno.h"
#include "lib/string.h"

/**
 * Where read data goes: the kernel buffer buf, or (buf NULL) wherever copy puts it, e.g. a
 * program's memory, so a read from the cache reaches it with a single copy. copy returns 0 or a
 * negative errno (-EFAULT for a bad user address); off counts bytes from the read's start.
 */
struct io_dest {
    uint8_t *buf;
    int (*copy)(void *ctx, uint64_t off, const void *src, size_t n);
    void *ctx;
};

static inline int io_dest_put(const struct io_dest *d, uint64_t off, const void *src, size_t n)
{
    if (d->buf) {
        memcpy(d->buf + off, src, n);
        return 0;
    }
    return d->copy(d->ctx, off, src, n);
}

/**
 * A device of nsectors sectors of sector_size bytes (512 for virtio-blk). The driver or the
 * block cache below fills in the operations; each returns 0 or a negative errno and transfers
 * whole sectors. write may be buffered until flush returns.
 */
struct blockdev {
    uint32_t sector_size;
    uint64_t nsectors;
    int (*read)(struct blockdev *bd, uint64_t lba, uint32_t count, void *buf);
    int (*write)(struct blockdev *bd, uint64_t lba, uint32_t count, const void *buf);
    int (*flush)(struct blockdev *bd);
    /* Optional: read into dst at byte dst_off (a cache copies out of its blocks once). */
    int (*read_to)(struct blockdev *bd, uint64_t lba, uint32_t count, const struct io_dest *dst,
                   uint64_t dst_off);
    void *priv;
};

/** One transfer of a batch. The device fills in status (0 or a negative errno). */
struct blockdev_io {
    uint64_t lba;
    uint32_t count; /* sectors */
    bool write;
    void *buf;
    int status;
};

/*
 * Start every transfer of ios[0..n) (so several are in flight), then wait for all of them.
 * Returns 0 when all succeeded, else the first failing transfer's status.
 */
typedef int (*blockdev_submit_fn)(struct blockdev *bd, struct blockdev_io *ios, unsigned n);

/* The largest sector the block layer takes (one block cache block); sectors are powers of two. */
#define BLOCKDEV_MAX_SECTOR_BYTES 4096
/* Disks the registry holds at once. */
#define BLOCKDEV_MAX 8

/*
 * Register a driver's disk under name (copied, up to 7 characters; "vda", ...). The block layer
 * puts a block cache over it (BCACHE_DEFAULT_BLOCKS blocks, transfers batched through submit
 * when it is not NULL) for blockdev_open; a disk without one (no memory) runs uncached.
 * Returns 0, -EEXIST for a name already taken or -ENOSPC past BLOCKDEV_MAX disks.
 */
int blockdev_register(const char *name, struct blockdev *bd, blockdev_submit_fn submit);
/* The registered disk called name, every transfer going to the device; NULL if none. */
struct blockdev *blockdev_find(const char *name);
/* The disk called name through its block cache (what file systems mount); NULL if none. */
struct blockdev *blockdev_open(const char *name);
/* The index-th registered disk's name, in registration order; NULL past the end. */
const char *blockdev_name(int index);

/* Range-checked wrappers: callers never hand an out-of-range request to a driver. */
static inline int blockdev_read(struct blockdev *bd, uint64_t lba, uint32_t count, void *buf)
{
    if (lba > bd->nsectors || count > bd->nsectors - lba)
        return -EIO;
    return bd->read(bd, lba, count, buf);
}

/*
 * Read into dst at dst_off. A device without read_to takes only a kernel destination:
 * -ENOTSUP for any other, and the caller goes through a buffer of its own.
 */
static inline int blockdev_read_to(struct blockdev *bd, uint64_t lba, uint32_t count,
                                   const struct io_dest *dst, uint64_t dst_off)
{
    if (lba > bd->nsectors || count > bd->nsectors - lba)
        return -EIO;
    if (bd->read_to)
        return bd->read_to(bd, lba, count, dst, dst_off);
    return dst->buf ? bd->read(bd, lba, count, dst->buf + dst_off) : -ENOTSUP;
}

static inline int blockdev_write(struct blockdev *bd, uint64_t lba, uint32_t count, const void *buf)
{
    if (lba > bd->nsectors || count > bd->nsectors - lba)
        return -EIO;
    if (!bd->write)
        return -EROFS;
    return bd->write(bd, lba, count, buf);
}

static inline int blockdev_flush(struct blockdev *bd)
{
    return bd->flush ? bd->flush(bd) : 0;
}

/* A RAM disk over a caller-owned buffer: for images loaded into memory and host tests. */
struct blockdev_ram {
    uint8_t *mem;
    bool read_only;
};

static inline int blockdev_ram_read(struct blockdev *bd, uint64_t lba, uint32_t count, void *buf)
{
    struct blockdev_ram *ram = bd->priv;

    memcpy(buf, ram->mem + lba * bd->sector_size, (size_t)count * bd->sector_size);
    return 0;
}

static inline int blockdev_ram_write(struct blockdev *bd, uint64_t lba, uint32_t count,
                                     const void *buf)
{
    struct blockdev_ram *ram = bd->priv;

    if (ram->read_only)
        return -EROFS;
    memcpy(ram->mem + lba * bd->sector_size, buf, (size_t)count * bd->sector_size);
    return 0;
}

/* Only whole sectors of mem are used: a trailing partial sector is not part of the device. */
static inline void blockdev_ram_init(struct blockdev *bd, struct blockdev_ram *ram, void *mem,
                                     size_t bytes, bool read_only)
{
    ram->mem = mem;
    ram->read_only = read_only;
    bd->sector_size = 512;
    bd->nsectors = bytes / 512;
    bd->read = blockdev_ram_read;
    bd->write = blockdev_ram_write;
    bd->flush = NULL;
    bd->read_to = NULL;
    bd->priv = ram;
}

#endif
