/* bcache.c - write-back LRU block cache: blocks of BCACHE_BLOCK_BYTES over a struct blockdev. */
#include "block/bcache.h"

#include "kernel/kmalloc.h"
#include "kernel/spinlock.h"
#include "kernel/sync.h"
#include "lib/errno.h"
#include "lib/list.h"
#include "lib/string.h"

/* Sectors per block are tracked in 32-bit masks. */
#define BCACHE_MAX_SPB 32
/* Keeps the metadata arithmetic far from overflow. */
#define BCACHE_MAX_BLOCKS 65536

/**
 * A cache block: spb consecutive sectors, each valid and dirty on its own, so a partial write
 * never has to read the rest of the block first. dirty implies valid.
 */
struct bcache_block {
    struct list_node lru; /* in cache->lru, most recently used first */
    struct bcache_block *hash_next;
    uint64_t blockno;
    uint32_t valid; /* bit i: sector i holds the device's data or newer */
    uint32_t dirty; /* bit i: sector i is newer than the device */
    bool hashed;    /* holds blockno's sectors and can be looked up */
    bool pinned;    /* part of the running operation: not to be evicted under it */
    bool grown;     /* allocated on its own past the first nblocks: given back under pressure */
    uint8_t *data;
};

/**
 * The lock is a sleeping mutex held for a whole operation, device I/O included: a second user
 * of the disk sleeps until the first is done, and the CPUs run other threads meanwhile.
 */
struct bcache {
    struct blockdev bd; /* what the cache exposes; bd.priv points back here */
    struct blockdev *lower;
    blockdev_submit_fn submit;
    char name[16];
    unsigned nblocks, nbuckets; /* nblocks: blocks allocated at creation, never given back */
    unsigned spb;               /* sectors per block */
    unsigned batch;             /* blocks per batch: min(BCACHE_BATCH, nblocks) */
    unsigned max_ios; /* transfers per batch: batch * most dirty/invalid runs in a block */
    uint32_t block_bytes;
    bcache_room_fn room; /* growth: NULL for a cache of fixed size */
    unsigned max_blocks; /* growth: most blocks, the first nblocks included */
    struct mutex lock;   /* protects everything below */
    unsigned total;      /* blocks allocated: nblocks plus the grown ones */
    unsigned ndirty;     /* blocks with a dirty sector */
    struct bcache_block *blocks;
    struct bcache_block **hash;
    struct list_node lru;
    struct blockdev_io *ios;     /* scratch: one batch's transfers */
    unsigned *io_block;          /* scratch: which batch entry each transfer is for */
    struct bcache_block **chunk; /* scratch: blocks pinned by the running read */
    uint32_t *chunk_need;        /* scratch: sectors of each the read needs */
    struct bcache_block **wb;    /* scratch: blocks of one write-back batch */
    struct bcache_stats stats;
};

static spinlock_t bcache_registry_lock = SPINLOCK_INIT;
static struct bcache *bcache_registry[BCACHE_MAX]; /* bcache_registry_lock */

static uint32_t mask_of(uint32_t start, uint32_t n)
{
    uint32_t bits = n >= 32 ? 0xffffffffu : (1u << n) - 1;

    return bits << start;
}

/* Sectors the device has in block blockno (the last block may be short). */
static uint32_t block_sectors(const struct bcache *c, uint64_t blockno)
{
    uint64_t left = c->bd.nsectors - blockno * c->spb;

    return left < c->spb ? (uint32_t)left : c->spb;
}

static struct bcache_block **bucket_of(struct bcache *c, uint64_t blockno)
{
    return &c->hash[blockno & (c->nbuckets - 1)];
}

static struct bcache_block *lookup(struct bcache *c, uint64_t blockno)
{
    for (struct bcache_block *b = *bucket_of(c, blockno); b; b = b->hash_next) {
        if (b->blockno == blockno)
            return b;
    }
    return NULL;
}

/* Forget a clean block's contents and make it the first candidate for reuse. */
static void release(struct bcache *c, struct bcache_block *b)
{
    struct bcache_block **pp = bucket_of(c, b->blockno);

    while (*pp != b)
        pp = &(*pp)->hash_next;
    *pp = b->hash_next;
    b->hash_next = NULL;
    b->hashed = false;
    b->valid = 0;
    if (b->dirty)
        c->ndirty--;
    b->dirty = 0;
    list_del(&b->lru);
    list_add_tail(&c->lru, &b->lru);
}

/* Hand transfers to the device: as one batch when it has a batch interface. */
static int submit(struct bcache *c, struct blockdev_io *ios, unsigned n)
{
    int first = 0;

    for (unsigned i = 0; i < n; i++) {
        ios[i].status = 0;
        if (ios[i].write)
            c->stats.dev_writes++;
        else
            c->stats.dev_reads++;
    }
    if (c->submit) {
        c->submit(c->lower, ios, n);
    } else {
        for (unsigned i = 0; i < n; i++) {
            struct blockdev_io *io = &ios[i];

            io->status = io->write ? blockdev_write(c->lower, io->lba, io->count, io->buf)
                                   : blockdev_read(c->lower, io->lba, io->count, io->buf);
        }
    }
    /* Each transfer's own status is what counts: a partial batch failure leaves the rest. */
    for (unsigned i = 0; i < n && !first; i++)
        first = ios[i].status;
    return first;
}

/* Append one transfer per run of set bits of mask in block b (batch entry idx); new count. */
static unsigned add_runs(struct bcache *c, unsigned n, unsigned idx, struct bcache_block *b,
                         uint32_t mask, bool write)
{
    uint32_t i = 0;

    while (i < c->spb) {
        if (!(mask & (1u << i))) {
            i++;
            continue;
        }
        uint32_t j = i;
        while (j < c->spb && (mask & (1u << j)))
            j++;
        c->ios[n] = (struct blockdev_io){.lba = b->blockno * c->spb + i,
                                         .count = j - i,
                                         .write = write,
                                         .buf = b->data + (size_t)i * c->bd.sector_size};
        c->io_block[n] = idx;
        n++;
        i = j;
    }
    return n;
}

/* The sector bits of block b that transfer io covered. */
static uint32_t io_mask(const struct bcache *c, const struct bcache_block *b,
                        const struct blockdev_io *io)
{
    return mask_of((uint32_t)(io->lba - b->blockno * c->spb), io->count);
}

/* Write back the dirty sectors of blocks[0..n) as one batch; what reached the device is clean. */
static int write_back(struct bcache *c, struct bcache_block **blocks, unsigned n)
{
    unsigned nio = 0;

    for (unsigned i = 0; i < n; i++)
        nio = add_runs(c, nio, i, blocks[i], blocks[i]->dirty, true);
    int err = submit(c, c->ios, nio);
    for (unsigned k = 0; k < nio; k++) {
        struct bcache_block *b = blocks[c->io_block[k]];

        if (c->ios[k].status == 0 && b->dirty) {
            b->dirty &= ~io_mask(c, b, &c->ios[k]);
            if (!b->dirty) {
                c->ndirty--;
                c->stats.writebacks++;
            }
        }
    }
    return err;
}

/* Write back a batch of the least recently used dirty blocks, so later evictions are cheap. */
static int clean_lru(struct bcache *c)
{
    unsigned n = 0;

    for (struct list_node *node = c->lru.prev; node != &c->lru && n < c->batch; node = node->prev) {
        struct bcache_block *b = list_entry(node, struct bcache_block, lru);

        if (b->dirty && !b->pinned)
            c->wb[n++] = b;
    }
    return n ? write_back(c, c->wb, n) : 0;
}

/* The least recently used unpinned block, clean if want_clean; NULL if there is none. */
static struct bcache_block *lru_candidate(struct bcache *c, bool want_clean)
{
    for (struct list_node *node = c->lru.prev; node != &c->lru; node = node->prev) {
        struct bcache_block *b = list_entry(node, struct bcache_block, lru);

        if (!b->pinned && (!want_clean || !b->dirty))
            return b;
    }
    return NULL;
}

/*
 * A new block at the free end of the LRU list when the cache may grow (below max_blocks and the
 * owner's room() says memory is plentiful); NULL otherwise or when memory runs out.
 */
static struct bcache_block *grow(struct bcache *c)
{
    if (!c->room || c->total >= c->max_blocks || !c->room())
        return NULL;
    struct bcache_block *b = kzalloc(sizeof(*b));
    if (!b)
        return NULL;
    b->data = kmalloc(c->block_bytes);
    if (!b->data) {
        kfree(b);
        return NULL;
    }
    b->grown = true;
    list_add_tail(&c->lru, &b->lru);
    c->total++;
    return b;
}

/*
 * The least recently used block not pinned, written back if dirty, and forgotten. If its data
 * cannot be written back it stays cached and dirty, and a clean block is taken instead.
 */
static int take_victim(struct bcache *c, struct bcache_block **out)
{
    struct bcache_block *b = lru_candidate(c, false);

    /* An empty block first, then a new one, and only then one that holds data. */
    if (!b || b->hashed) {
        struct bcache_block *fresh = grow(c);
        if (fresh) {
            *out = fresh;
            return 0;
        }
    }

    if (!b)
        return -EBUSY; /* cannot happen: an operation pins at most batch <= nblocks - 1 */
    if (b->dirty) {
        int err = clean_lru(c);
        if (b->dirty) {
            b = lru_candidate(c, true);
            if (!b)
                return err ? err : -EIO;
        }
    }
    if (b->hashed) {
        release(c, b);
        c->stats.evictions++;
    }
    *out = b;
    return 0;
}

/* Find or allocate the block for blockno, make it most recent and pin it. */
static int get_block(struct bcache *c, uint64_t blockno, struct bcache_block **out, bool *found)
{
    struct bcache_block *b = lookup(c, blockno);

    *found = b != NULL;
    if (!b) {
        int err = take_victim(c, &b);
        if (err)
            return err;
        b->blockno = blockno;
        b->valid = 0;
        b->dirty = 0;
        b->hashed = true;
        b->hash_next = *bucket_of(c, blockno);
        *bucket_of(c, blockno) = b;
    }
    list_del(&b->lru);
    list_add(&c->lru, &b->lru);
    b->pinned = true;
    *out = b;
    return 0;
}

/* Unpin the read's blocks; those left without any data go back to the free end. */
static void unpin_chunk(struct bcache *c, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        c->chunk[i]->pinned = false;
        if (!c->chunk[i]->valid)
            release(c, c->chunk[i]);
    }
}

/*
 * Read up to c->batch blocks' worth of [lba, lba+count) into buf: pin the blocks, read every
 * block that lacks a needed sector as one batch, copy out. *done: sectors copied.
 */
static int read_chunk(struct bcache *c, uint64_t lba, uint32_t count, const struct io_dest *dst,
                      uint64_t dst_off, uint32_t *done)
{
    uint32_t ss = c->bd.sector_size, sectors = 0;
    unsigned n = 0, nio = 0;
    int err = 0;
    bool found;

    while (n < c->batch && sectors < count) {
        uint64_t blockno = (lba + sectors) / c->spb;
        uint32_t off = (uint32_t)((lba + sectors) % c->spb);
        uint32_t take = c->spb - off < count - sectors ? c->spb - off : count - sectors;

        err = get_block(c, blockno, &c->chunk[n], &found);
        if (err)
            break;
        c->chunk_need[n] = mask_of(off, take);
        n++;
        sectors += take;
    }
    for (unsigned i = 0; i < n && !err; i++) {
        struct bcache_block *b = c->chunk[i];

        if ((b->valid & c->chunk_need[i]) == c->chunk_need[i]) {
            c->stats.hits++;
            continue;
        }
        c->stats.misses++;
        /* Read all of the block the device has and we lack: the rest is likely wanted next. */
        uint32_t missing = mask_of(0, block_sectors(c, b->blockno)) & ~b->valid;
        nio = add_runs(c, nio, i, b, missing, false);
    }
    if (!err && nio) {
        err = submit(c, c->ios, nio);
        for (unsigned k = 0; k < nio; k++) {
            if (c->ios[k].status == 0) {
                struct bcache_block *b = c->chunk[c->io_block[k]];
                b->valid |= io_mask(c, b, &c->ios[k]);
            }
        }
    }
    if (!err) {
        uint32_t copied = 0;
        for (unsigned i = 0; i < n && !err; i++) {
            uint32_t need = c->chunk_need[i];
            uint32_t first = (uint32_t)__builtin_ctz(need);
            uint32_t len = (uint32_t)__builtin_popcount(need);

            err = io_dest_put(dst, dst_off + (uint64_t)copied * ss,
                              c->chunk[i]->data + (size_t)first * ss, (size_t)len * ss);
            copied += len;
        }
    }
    unpin_chunk(c, n);
    *done = sectors;
    return err;
}

/*
 * Whole blocks from lba (block-aligned) within count sectors that can bypass the cache: for a
 * read, those not cached at all; for a write, all of them (cached copies are superseded). 0 when
 * the run is too short for bypassing to pay.
 */
static uint32_t direct_run(struct bcache *c, uint64_t lba, uint32_t count, bool write,
                           const struct io_dest *dst)
{
    uint64_t blockno = lba / c->spb;
    uint32_t whole = lba % c->spb ? 0 : count / c->spb, run = 0;

    if (whole > BCACHE_DIRECT_MAX_BYTES / c->block_bytes)
        whole = BCACHE_DIRECT_MAX_BYTES / c->block_bytes;
    /* A cache that can grow keeps what is read: reading it again is served from memory. */
    if (!write && (c->room || !dst->buf))
        return 0; /* only a kernel buffer can take data straight from the device */
    while (run < whole && (write || !lookup(c, blockno + run)))
        run++;
    return run >= BCACHE_DIRECT_MIN ? run : 0;
}

/*
 * Move run whole blocks straight between the device and buf, as one transfer (the driver splits
 * it into as few requests as it can). A write drops the cached copies of those blocks first:
 * they are wholly overwritten, dirty or not.
 */
static int direct_io(struct bcache *c, uint64_t lba, uint32_t run, uint8_t *buf, bool write)
{
    if (write) {
        for (uint32_t i = 0; i < run; i++) {
            struct bcache_block *b = lookup(c, lba / c->spb + i);
            if (b)
                release(c, b);
        }
    }
    c->ios[0] = (struct blockdev_io){.lba = lba, .count = run * c->spb, .write = write, .buf = buf};
    c->stats.direct++;
    return submit(c, c->ios, 1);
}

/*
 * Sectors from lba that go through the cache before a run that can bypass it: the first block
 * (maybe partial, maybe cached) and the blocks after it up to such a run, at most a batch.
 */
static uint32_t cached_span(struct bcache *c, uint64_t lba, uint32_t count,
                            const struct io_dest *dst)
{
    uint32_t span = c->spb - (uint32_t)(lba % c->spb), limit = c->batch * c->spb;

    while (span < count && span < limit && !direct_run(c, lba + span, count - span, false, dst))
        span += c->spb;
    return span < count ? span : count;
}

static bool span_ok(const struct blockdev *bd, uint64_t lba, uint32_t count)
{
    return lba <= bd->nsectors && count <= bd->nsectors - lba;
}

static int bcache_read_to(struct blockdev *bd, uint64_t lba, uint32_t count,
                          const struct io_dest *dst, uint64_t dst_off)
{
    struct bcache *c = bd->priv;
    int err = 0;

    if (!span_ok(bd, lba, count))
        return -EIO;
    mutex_lock(&c->lock);
    while (count && !err) {
        uint32_t done = direct_run(c, lba, count, false, dst) * c->spb;

        if (done)
            err = direct_io(c, lba, done / c->spb, dst->buf + dst_off, false);
        else
            err = read_chunk(c, lba, cached_span(c, lba, count, dst), dst, dst_off, &done);
        lba += done;
        count -= done;
        dst_off += (uint64_t)done * bd->sector_size;
    }
    mutex_unlock(&c->lock);
    return err;
}

static int bcache_read(struct blockdev *bd, uint64_t lba, uint32_t count, void *buf)
{
    struct io_dest dst = {.buf = buf};

    return bcache_read_to(bd, lba, count, &dst, 0);
}

static int bcache_write(struct blockdev *bd, uint64_t lba, uint32_t count, const void *buf)
{
    struct bcache *c = bd->priv;
    uint32_t ss = bd->sector_size;
    const uint8_t *in = buf;
    int err = 0;

    if (!span_ok(bd, lba, count))
        return -EIO;
    mutex_lock(&c->lock);
    while (count) {
        uint32_t run = direct_run(c, lba, count, true, NULL);

        if (run) {
            err = direct_io(c, lba, run, (uint8_t *)in, true);
            if (err)
                break;
            lba += run * c->spb;
            count -= run * c->spb;
            in += (size_t)run * c->block_bytes;
            continue;
        }
        uint64_t blockno = lba / c->spb;
        uint32_t off = (uint32_t)(lba % c->spb);
        uint32_t take = c->spb - off < count ? c->spb - off : count;
        struct bcache_block *b;
        bool found;

        err = get_block(c, blockno, &b, &found);
        if (err)
            break;
        if (found)
            c->stats.hits++;
        else
            c->stats.misses++;
        memcpy(b->data + (size_t)off * ss, in, (size_t)take * ss);
        b->valid |= mask_of(off, take);
        if (!b->dirty)
            c->ndirty++;
        b->dirty |= mask_of(off, take);
        b->pinned = false;
        /*
         * A growable cache keeps its dirty blocks to about its first nblocks: only clean blocks
         * can be given back under memory pressure. A failed write-back leaves them dirty for
         * the next sync to report.
         */
        if (c->room && c->ndirty > c->nblocks)
            clean_lru(c);
        lba += take;
        count -= take;
        in += (size_t)take * ss;
    }
    mutex_unlock(&c->lock);
    return err;
}

/* Write back every dirty block in batches, then flush the device. */
static int sync_locked(struct bcache *c)
{
    unsigned n = 0;
    int first = 0, err;

    for (struct list_node *node = c->lru.next; node != &c->lru; node = node->next) {
        struct bcache_block *b = list_entry(node, struct bcache_block, lru);

        if (!b->dirty)
            continue;
        c->wb[n++] = b;
        if (n == c->batch) {
            err = write_back(c, c->wb, n);
            first = first ? first : err;
            n = 0;
        }
    }
    if (n) {
        err = write_back(c, c->wb, n);
        first = first ? first : err;
    }
    err = blockdev_flush(c->lower);
    c->stats.syncs++;
    return first ? first : err;
}

static int bcache_flush(struct blockdev *bd)
{
    struct bcache *c = bd->priv;

    mutex_lock(&c->lock);
    int err = sync_locked(c);
    mutex_unlock(&c->lock);
    return err;
}

static bool is_cache(const struct blockdev *bd)
{
    return bd && bd->read == bcache_read;
}

int bcache_sync(struct blockdev *cache)
{
    return is_cache(cache) ? bcache_flush(cache) : -EINVAL;
}

int bcache_get_stats(struct blockdev *cache, struct bcache_stats *out)
{
    if (!is_cache(cache))
        return -EINVAL;
    struct bcache *c = cache->priv;

    mutex_lock(&c->lock);
    *out = c->stats;
    out->used = 0;
    out->dirty = 0;
    out->nblocks = c->total;
    for (struct list_node *node = c->lru.next; node != &c->lru; node = node->next) {
        struct bcache_block *b = list_entry(node, struct bcache_block, lru);

        out->used += b->hashed;
        out->dirty += b->dirty != 0;
    }
    mutex_unlock(&c->lock);
    return 0;
}

static void cache_free(struct bcache *c)
{
    if (c->lru.next) {
        struct list_node *node = c->lru.next;

        while (node != &c->lru) {
            struct bcache_block *b = list_entry(node, struct bcache_block, lru);

            node = node->next;
            if (b->grown) {
                kfree(b->data);
                kfree(b);
            }
        }
    }
    if (c->blocks) {
        for (unsigned i = 0; i < c->nblocks; i++)
            kfree(c->blocks[i].data);
    }
    kfree(c->blocks);
    kfree(c->hash);
    kfree(c->ios);
    kfree(c->io_block);
    kfree(c->chunk);
    kfree(c->chunk_need);
    kfree(c->wb);
    kfree(c);
}

static int cache_alloc(struct bcache *c)
{
    c->blocks = kzalloc(c->nblocks * sizeof(*c->blocks));
    c->hash = kzalloc(c->nbuckets * sizeof(*c->hash));
    c->ios = kzalloc(c->max_ios * sizeof(*c->ios));
    c->io_block = kzalloc(c->max_ios * sizeof(*c->io_block));
    c->chunk = kzalloc(c->batch * sizeof(*c->chunk));
    c->chunk_need = kzalloc(c->batch * sizeof(*c->chunk_need));
    c->wb = kzalloc(c->batch * sizeof(*c->wb));
    if (!c->blocks || !c->hash || !c->ios || !c->io_block || !c->chunk || !c->chunk_need || !c->wb)
        return -ENOMEM;
    list_init(&c->lru);
    for (unsigned i = 0; i < c->nblocks; i++) {
        c->blocks[i].data = kmalloc(c->block_bytes);
        if (!c->blocks[i].data)
            return -ENOMEM;
        list_add_tail(&c->lru, &c->blocks[i].lru);
    }
    return 0;
}

static int registry_add(struct bcache *c)
{
    int err = -ENOSPC;

    spin_lock(&bcache_registry_lock);
    for (int i = 0; i < BCACHE_MAX; i++) {
        if (!bcache_registry[i]) {
            bcache_registry[i] = c;
            err = 0;
            break;
        }
    }
    spin_unlock(&bcache_registry_lock);
    return err;
}

struct blockdev *bcache_create(const char *name, struct blockdev *lower, unsigned nblocks,
                               blockdev_submit_fn submit_fn)
{
    uint32_t ss = lower ? lower->sector_size : 0;

    if (!lower || !lower->read || nblocks == 0 || nblocks > BCACHE_MAX_BLOCKS || ss == 0 ||
        BCACHE_BLOCK_BYTES % ss || BCACHE_BLOCK_BYTES / ss > BCACHE_MAX_SPB)
        return NULL;
    struct bcache *c = kzalloc(sizeof(*c));
    if (!c)
        return NULL;
    c->lower = lower;
    c->submit = submit_fn;
    strncpy(c->name, name ? name : "", sizeof(c->name) - 1);
    c->nblocks = nblocks;
    c->total = nblocks;
    c->max_blocks = nblocks;
    c->spb = BCACHE_BLOCK_BYTES / ss;
    c->block_bytes = BCACHE_BLOCK_BYTES;
    c->batch = nblocks < BCACHE_BATCH ? nblocks : BCACHE_BATCH;
    c->max_ios = c->batch * ((c->spb + 1) / 2);
    for (c->nbuckets = 1; c->nbuckets < nblocks; c->nbuckets <<= 1)
        ;
    mutex_init(&c->lock);
    c->stats.nblocks = nblocks;
    c->stats.block_bytes = c->block_bytes;
    c->bd = (struct blockdev){.sector_size = ss,
                              .nsectors = lower->nsectors,
                              .read = bcache_read,
                              .write = lower->write ? bcache_write : NULL,
                              .flush = bcache_flush,
                              .read_to = bcache_read_to,
                              .priv = c};
    if (cache_alloc(c) || registry_add(c)) {
        cache_free(c);
        return NULL;
    }
    return &c->bd;
}

void bcache_destroy(struct blockdev *cache)
{
    if (!is_cache(cache))
        return;
    struct bcache *c = cache->priv;

    spin_lock(&bcache_registry_lock);
    for (int i = 0; i < BCACHE_MAX; i++) {
        if (bcache_registry[i] == c)
            bcache_registry[i] = NULL;
    }
    spin_unlock(&bcache_registry_lock);
    cache_free(c);
}

int bcache_set_growth(struct blockdev *cache, unsigned max_blocks, bcache_room_fn room)
{
    if (!is_cache(cache) || !room)
        return -EINVAL;
    struct bcache *c = cache->priv;
    unsigned most = max_blocks < c->nblocks ? c->nblocks : max_blocks;
    unsigned nbuckets = 1;

    if (most > BCACHE_MAX_BLOCKS)
        most = BCACHE_MAX_BLOCKS;
    /* A bucket per block at the most, so lookups stay short however far the cache grows. */
    while (nbuckets < most)
        nbuckets <<= 1;
    struct bcache_block **hash = kzalloc(nbuckets * sizeof(*hash));
    if (!hash)
        return -ENOMEM;
    mutex_lock(&c->lock);
    struct bcache_block **old = c->hash;
    c->hash = hash;
    c->nbuckets = nbuckets;
    for (struct list_node *node = c->lru.next; node != &c->lru; node = node->next) {
        struct bcache_block *b = list_entry(node, struct bcache_block, lru);

        if (b->hashed) {
            b->hash_next = *bucket_of(c, b->blockno);
            *bucket_of(c, b->blockno) = b;
        }
    }
    c->max_blocks = most;
    c->room = room;
    mutex_unlock(&c->lock);
    kfree(old);
    return 0;
}

/* Give back up to want clean, unpinned grown blocks of c, least recently used first. */
static unsigned long shrink(struct bcache *c, unsigned long want)
{
    unsigned long freed = 0;
    struct list_node *node = c->lru.prev;

    while (node != &c->lru && freed < want) {
        struct bcache_block *b = list_entry(node, struct bcache_block, lru);

        node = node->prev;
        if (!b->grown || b->pinned || b->dirty)
            continue;
        if (b->hashed)
            release(c, b);
        list_del(&b->lru);
        kfree(b->data);
        kfree(b);
        c->total--;
        c->stats.shrunk++;
        freed++;
    }
    return freed;
}

unsigned long bcache_reclaim(unsigned long want)
{
    unsigned long freed = 0;

    spin_lock(&bcache_registry_lock);
    for (int i = 0; i < BCACHE_MAX && freed < want; i++) {
        struct bcache *c = bcache_registry[i];

        /* Never wait: the caller may be this cache's own allocation, under its lock. */
        if (!c || !c->room || !mutex_trylock(&c->lock))
            continue;
        freed += shrink(c, want - freed);
        mutex_unlock(&c->lock);
    }
    spin_unlock(&bcache_registry_lock);
    return freed;
}

struct blockdev *bcache_get(int index)
{
    struct blockdev *found = NULL;

    spin_lock(&bcache_registry_lock);
    for (int i = 0; i < BCACHE_MAX && !found; i++) {
        if (bcache_registry[i] && index-- == 0)
            found = &bcache_registry[i]->bd;
    }
    spin_unlock(&bcache_registry_lock);
    return found;
}

const char *bcache_name(struct blockdev *cache)
{
    return is_cache(cache) ? ((struct bcache *)cache->priv)->name : NULL;
}

int bcache_sync_all(void)
{
    int first = 0;

    for (int i = 0;; i++) {
        struct blockdev *bd = bcache_get(i);
        if (!bd)
            return first;
        int err = bcache_sync(bd);
        first = first ? first : err;
    }
}
