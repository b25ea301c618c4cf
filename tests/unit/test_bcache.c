/* test_bcache.c - block cache against a RAM disk behind a counting, fault-injecting wrapper. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "block/bcache.h"
#include "test.h"

#define SS      512
#define SPB     (BCACHE_BLOCK_BYTES / SS)
#define MAX_LOG 4096

/** What reached the device: one entry per transfer. */
struct op {
    char kind; /* 'r', 'w', 'f' */
    uint64_t lba;
    uint32_t count;
};

/** A RAM disk seen through a wrapper that counts, logs and can fail transfers. */
struct disk {
    struct blockdev bd;  /* the wrapper: what the cache sits on */
    struct blockdev ram; /* the RAM disk behind it */
    struct blockdev_ram ram_priv;
    uint8_t *mem;
    uint64_t reads, writes, flushes, read_sectors, write_sectors;
    uint64_t batches, max_batch;
    struct op log[MAX_LOG];
    unsigned nlog;
    uint64_t fail_lo, fail_hi; /* transfers touching [fail_lo, fail_hi) fail */
    bool fail_reads, fail_writes, fail_flush;
    pthread_mutex_t mu; /* the threads case calls in from several threads */
};

static bool touches_fail(struct disk *d, uint64_t lba, uint32_t count)
{
    return lba < d->fail_hi && lba + count > d->fail_lo;
}

static void log_op(struct disk *d, char kind, uint64_t lba, uint32_t count)
{
    if (d->nlog < MAX_LOG)
        d->log[d->nlog++] = (struct op){kind, lba, count};
}

static int disk_read(struct blockdev *bd, uint64_t lba, uint32_t count, void *buf)
{
    struct disk *d = bd->priv;
    int err = 0;

    pthread_mutex_lock(&d->mu);
    d->reads++;
    d->read_sectors += count;
    log_op(d, 'r', lba, count);
    if (d->fail_reads && touches_fail(d, lba, count))
        err = -EIO;
    else
        err = blockdev_read(&d->ram, lba, count, buf);
    pthread_mutex_unlock(&d->mu);
    return err;
}

static int disk_write(struct blockdev *bd, uint64_t lba, uint32_t count, const void *buf)
{
    struct disk *d = bd->priv;
    int err = 0;

    pthread_mutex_lock(&d->mu);
    d->writes++;
    d->write_sectors += count;
    log_op(d, 'w', lba, count);
    if (d->fail_writes && touches_fail(d, lba, count))
        err = -EIO;
    else
        err = blockdev_write(&d->ram, lba, count, buf);
    pthread_mutex_unlock(&d->mu);
    return err;
}

static int disk_flush(struct blockdev *bd)
{
    struct disk *d = bd->priv;

    pthread_mutex_lock(&d->mu);
    d->flushes++;
    log_op(d, 'f', 0, 0);
    int err = d->fail_flush ? -EIO : 0;
    pthread_mutex_unlock(&d->mu);
    return err;
}

/* The batch interface, as the virtio-blk driver offers it: all transfers, then all results. */
static int disk_submit(struct blockdev *bd, struct blockdev_io *ios, unsigned n)
{
    struct disk *d = bd->priv;
    int first = 0;

    pthread_mutex_lock(&d->mu);
    d->batches++;
    if (n > d->max_batch)
        d->max_batch = n;
    pthread_mutex_unlock(&d->mu);
    for (unsigned i = 0; i < n; i++) {
        ios[i].status = ios[i].write ? disk_write(bd, ios[i].lba, ios[i].count, ios[i].buf)
                                     : disk_read(bd, ios[i].lba, ios[i].count, ios[i].buf);
        if (!first)
            first = ios[i].status;
    }
    return first;
}

/* Sector s holds bytes (s * 7 + i) & 0xff: every sector differs from its neighbours. */
static uint8_t pattern(uint64_t s, size_t i)
{
    return (uint8_t)(s * 7 + i * 13 + (s >> 8));
}

static struct disk *disk_new(uint64_t nsectors)
{
    struct disk *d = calloc(1, sizeof(*d));

    d->mem = malloc(nsectors * SS);
    for (uint64_t s = 0; s < nsectors; s++)
        for (size_t i = 0; i < SS; i++)
            d->mem[s * SS + i] = pattern(s, i);
    blockdev_ram_init(&d->ram, &d->ram_priv, d->mem, nsectors * SS, false);
    d->bd = (struct blockdev){.sector_size = SS,
                              .nsectors = nsectors,
                              .read = disk_read,
                              .write = disk_write,
                              .flush = disk_flush,
                              .priv = d};
    pthread_mutex_init(&d->mu, NULL);
    return d;
}

static void disk_free(struct disk *d)
{
    pthread_mutex_destroy(&d->mu);
    free(d->mem);
    free(d);
}

static void counts_reset(struct disk *d)
{
    d->reads = d->writes = d->flushes = d->read_sectors = d->write_sectors = 0;
    d->batches = d->max_batch = 0;
    d->nlog = 0;
}

static struct bcache_stats stats_of(struct blockdev *c)
{
    struct bcache_stats st;

    CHECK_EQ(bcache_get_stats(c, &st), 0);
    return st;
}

/* Whether buf holds the original pattern of sectors [lba, lba+count). */
static bool is_pattern(const uint8_t *buf, uint64_t lba, uint32_t count)
{
    for (uint32_t s = 0; s < count; s++)
        for (size_t i = 0; i < SS; i++)
            if (buf[(size_t)s * SS + i] != pattern(lba + s, i))
                return false;
    return true;
}

static void test_hits_and_misses(void)
{
    struct disk *d = disk_new(64);
    struct blockdev *c = bcache_create("t", &d->bd, 4, disk_submit);
    uint8_t buf[BCACHE_BLOCK_BYTES];

    CHECK(c != NULL);
    CHECK_EQ(c->sector_size, SS);
    CHECK_EQ(c->nsectors, 64);
    CHECK_EQ(blockdev_read(c, 1, 1, buf), 0);
    CHECK(is_pattern(buf, 1, 1));
    /* The whole block came in with one transfer. */
    CHECK_EQ(d->reads, 1);
    CHECK_EQ(d->read_sectors, SPB);
    CHECK_EQ(blockdev_read(c, 0, SPB, buf), 0);
    CHECK(is_pattern(buf, 0, SPB));
    CHECK_EQ(blockdev_read(c, 7, 1, buf), 0);
    CHECK(is_pattern(buf, 7, 1));
    CHECK_EQ(d->reads, 1);
    struct bcache_stats st = stats_of(c);
    CHECK_EQ(st.hits, 2);
    CHECK_EQ(st.misses, 1);
    CHECK_EQ(st.dev_reads, 1);
    CHECK_EQ(st.used, 1);
    CHECK_EQ(st.dirty, 0);
    CHECK_EQ(st.nblocks, 4);
    CHECK_EQ(st.block_bytes, BCACHE_BLOCK_BYTES);
    bcache_destroy(c);
    disk_free(d);
}

static void read_block(struct blockdev *c, uint64_t blockno)
{
    uint8_t buf[SS];

    CHECK_EQ(blockdev_read(c, blockno * SPB, 1, buf), 0);
    CHECK(is_pattern(buf, blockno * SPB, 1));
}

static void test_lru_eviction_order(void)
{
    struct disk *d = disk_new(16 * SPB);
    struct blockdev *c = bcache_create("t", &d->bd, 4, NULL);

    for (uint64_t b = 0; b < 4; b++)
        read_block(c, b);
    read_block(c, 0); /* 0 is now the most recent: LRU order 1, 2, 3, 0 */
    CHECK_EQ(d->reads, 4);
    read_block(c, 4); /* evicts 1 */
    read_block(c, 5); /* evicts 2 */
    CHECK_EQ(d->reads, 6);
    counts_reset(d);
    read_block(c, 0);
    read_block(c, 3);
    read_block(c, 4);
    read_block(c, 5);
    CHECK_EQ(d->reads, 0);
    read_block(c, 1); /* evicts the LRU: 0 */
    CHECK_EQ(d->reads, 1);
    CHECK_EQ(d->log[0].lba, 1 * SPB);
    read_block(c, 3);
    read_block(c, 0);
    CHECK_EQ(d->reads, 2);
    struct bcache_stats st = stats_of(c);
    CHECK_EQ(st.evictions, 4);
    CHECK_EQ(st.used, 4);
    bcache_destroy(c);
    disk_free(d);
}

static void test_dirty_eviction_writes_back(void)
{
    struct disk *d = disk_new(16 * SPB);
    struct blockdev *c = bcache_create("t", &d->bd, 2, disk_submit);
    uint8_t w[SS], r[SS];

    memset(w, 0xa5, sizeof(w));
    CHECK_EQ(blockdev_write(c, 3, 1, w), 0); /* block 0, only sector 3 */
    CHECK_EQ(d->reads + d->writes, 0);       /* write-back: nothing on the device yet */
    CHECK(is_pattern(d->mem + 3 * SS, 3, 1));
    read_block(c, 1);
    CHECK_EQ(d->writes, 0);
    read_block(c, 2); /* the victim is block 0, dirty */
    CHECK_EQ(d->writes, 1);
    CHECK_EQ(d->write_sectors, 1); /* only the dirty sector */
    CHECK_EQ(memcmp(d->mem + 3 * SS, w, SS), 0);
    CHECK(is_pattern(d->mem + 2 * SS, 2, 1));
    CHECK(is_pattern(d->mem + 4 * SS, 4, 1));
    CHECK_EQ(d->flushes, 0);
    struct bcache_stats st = stats_of(c);
    CHECK_EQ(st.writebacks, 1);
    CHECK_EQ(st.dirty, 0);
    /* Read it back through the cache: a miss that reads the device's (new) data. */
    CHECK_EQ(blockdev_read(c, 3, 1, r), 0);
    CHECK_EQ(memcmp(r, w, SS), 0);
    bcache_destroy(c);
    disk_free(d);
}

static void test_dirty_evictions_are_batched(void)
{
    struct disk *d = disk_new(64 * SPB);
    struct blockdev *c = bcache_create("t", &d->bd, 20, disk_submit);
    uint8_t w[BCACHE_BLOCK_BYTES];

    memset(w, 0x3c, sizeof(w));
    for (uint64_t b = 0; b < 20; b++)
        CHECK_EQ(blockdev_write(c, b * SPB, SPB, w), 0);
    CHECK_EQ(d->writes, 0);
    read_block(c, 40); /* one victim needed: a batch of the LRU dirty blocks goes out */
    CHECK_EQ(d->batches, 2);
    CHECK_EQ(d->max_batch, BCACHE_BATCH);
    CHECK_EQ(d->writes, BCACHE_BATCH);
    for (unsigned i = 0; i < BCACHE_BATCH; i++)
        CHECK_EQ(d->log[i].lba, i * SPB);
    counts_reset(d);
    for (uint64_t b = 41; b < 41 + BCACHE_BATCH - 1; b++)
        read_block(c, b); /* victims are now clean */
    CHECK_EQ(d->writes, 0);
    bcache_destroy(c);
    disk_free(d);
}

static void test_sync_writes_everything_and_flushes(void)
{
    struct disk *d = disk_new(64 * SPB);
    struct blockdev *c = bcache_create("t", &d->bd, 32, disk_submit);
    uint8_t w[SS];

    for (uint64_t b = 0; b < 20; b++) {
        memset(w, (int)b + 1, sizeof(w));
        CHECK_EQ(blockdev_write(c, b * SPB + b % SPB, 1, w), 0);
    }
    CHECK_EQ(d->writes, 0);
    CHECK_EQ(stats_of(c).dirty, 20);
    CHECK_EQ(blockdev_flush(c), 0);
    CHECK_EQ(d->writes, 20);
    CHECK_EQ(d->batches, 2); /* 16 + 4 blocks, each batch in flight together */
    CHECK_EQ(d->flushes, 1);
    CHECK_EQ(d->log[d->nlog - 1].kind, 'f'); /* the flush comes after every write */
    for (uint64_t b = 0; b < 20; b++) {
        memset(w, (int)b + 1, sizeof(w));
        CHECK_EQ(memcmp(d->mem + (b * SPB + b % SPB) * SS, w, SS), 0);
    }
    struct bcache_stats st = stats_of(c);
    CHECK_EQ(st.dirty, 0);
    CHECK_EQ(st.writebacks, 20);
    CHECK_EQ(st.syncs, 1);
    /* Nothing left to write: a second sync only flushes. */
    counts_reset(d);
    CHECK_EQ(bcache_sync(c), 0);
    CHECK_EQ(d->writes, 0);
    CHECK_EQ(d->flushes, 1);
    bcache_destroy(c);
    disk_free(d);
}

static void test_partial_write_then_read_merges(void)
{
    struct disk *d = disk_new(4 * SPB);
    struct blockdev *c = bcache_create("t", &d->bd, 4, disk_submit);
    uint8_t w[2 * SS], r[BCACHE_BLOCK_BYTES];

    memset(w, 0x77, sizeof(w));
    CHECK_EQ(blockdev_write(c, 2, 2, w), 0); /* sectors 2-3 of block 0 */
    CHECK_EQ(d->reads, 0);                   /* no read-modify-write */
    CHECK_EQ(blockdev_read(c, 0, SPB, r), 0);
    /* The two runs around the dirty sectors were read; the dirty ones were kept. */
    CHECK_EQ(d->reads, 2);
    CHECK_EQ(d->read_sectors, SPB - 2);
    CHECK(is_pattern(r, 0, 2));
    CHECK_EQ(memcmp(r + 2 * SS, w, sizeof(w)), 0);
    CHECK(is_pattern(r + 4 * SS, 4, SPB - 4));
    CHECK_EQ(stats_of(c).misses, 2);
    /* A read of only the dirty sectors is a hit. */
    CHECK_EQ(blockdev_read(c, 2, 2, r), 0);
    CHECK_EQ(stats_of(c).hits, 1);
    CHECK_EQ(bcache_sync(c), 0);
    CHECK_EQ(d->write_sectors, 2);
    bcache_destroy(c);
    disk_free(d);
}

static void test_cross_block_spans(void)
{
    struct disk *d = disk_new(8 * SPB);
    struct blockdev *c = bcache_create("t", &d->bd, 8, disk_submit);
    uint8_t *r = malloc(8 * BCACHE_BLOCK_BYTES), *w = malloc(3 * BCACHE_BLOCK_BYTES);

    CHECK_EQ(blockdev_read(c, SPB - 3, 2 * SPB + 1, r), 0);
    CHECK(is_pattern(r, SPB - 3, 2 * SPB + 1));
    CHECK_EQ(d->batches, 1); /* three blocks missing, read as one batch */
    CHECK_EQ(d->reads, 3);
    for (size_t i = 0; i < 3 * BCACHE_BLOCK_BYTES; i++)
        w[i] = (uint8_t)(i * 31 + 5);
    CHECK_EQ(blockdev_write(c, 2 * SPB + 5, 2 * SPB + 1, w), 0);
    CHECK_EQ(blockdev_read(c, 0, 8 * SPB, r), 0);
    CHECK(is_pattern(r, 0, 2 * SPB + 5));
    CHECK_EQ(memcmp(r + (2 * SPB + 5) * SS, w, (2 * SPB + 1) * SS), 0);
    CHECK(is_pattern(r + (4 * SPB + 6) * SS, 4 * SPB + 6, 4 * SPB - 6));
    CHECK_EQ(bcache_sync(c), 0);
    CHECK_EQ(memcmp(d->mem + (2 * SPB + 5) * SS, w, (2 * SPB + 1) * SS), 0);
    CHECK(is_pattern(d->mem + (4 * SPB + 6) * SS, 4 * SPB + 6, 1));
    CHECK(is_pattern(d->mem + (2 * SPB + 4) * SS, 2 * SPB + 4, 1));
    free(r);
    free(w);
    bcache_destroy(c);
    disk_free(d);
}

static void test_span_larger_than_cache(void)
{
    struct disk *d = disk_new(32 * SPB);
    struct blockdev *c = bcache_create("t", &d->bd, 3, disk_submit);
    uint8_t *buf = malloc(32 * BCACHE_BLOCK_BYTES);

    CHECK_EQ(blockdev_read(c, 1, 32 * SPB - 2, buf), 0);
    CHECK(is_pattern(buf, 1, 32 * SPB - 2));
    for (size_t i = 0; i < 32 * BCACHE_BLOCK_BYTES; i++)
        buf[i] = (uint8_t)(i ^ 0x5a);
    CHECK_EQ(blockdev_write(c, 0, 32 * SPB, buf), 0);
    CHECK_EQ(bcache_sync(c), 0);
    CHECK_EQ(memcmp(d->mem, buf, 32 * BCACHE_BLOCK_BYTES), 0);
    free(buf);
    bcache_destroy(c);
    disk_free(d);
}

static void test_short_last_block(void)
{
    struct disk *d = disk_new(SPB + 5); /* the second block has only 5 sectors */
    struct blockdev *c = bcache_create("t", &d->bd, 2, disk_submit);
    uint8_t buf[BCACHE_BLOCK_BYTES];

    CHECK_EQ(blockdev_read(c, SPB + 4, 1, buf), 0);
    CHECK(is_pattern(buf, SPB + 4, 1));
    CHECK_EQ(d->read_sectors, 5);
    CHECK_EQ(d->log[0].lba, SPB);
    CHECK_EQ(blockdev_read(c, SPB + 4, 2, buf), -EIO); /* past the end */
    memset(buf, 1, sizeof(buf));
    CHECK_EQ(blockdev_write(c, SPB, 5, buf), 0);
    CHECK_EQ(bcache_sync(c), 0);
    CHECK_EQ(d->write_sectors, 5);
    CHECK_EQ(memcmp(d->mem + SPB * SS, buf, 5 * SS), 0);
    bcache_destroy(c);
    disk_free(d);
}

static void random_vs_model(blockdev_submit_fn submit_fn, unsigned seed)
{
    const uint64_t n = 203; /* not a whole number of blocks */
    struct disk *d = disk_new(n);
    struct blockdev *c = bcache_create("t", &d->bd, 6, submit_fn);
    uint8_t *model = malloc(n * SS), *buf = malloc(48 * SS);

    memcpy(model, d->mem, n * SS);
    srand(seed);
    for (int step = 0; step < 3000; step++) {
        uint64_t lba = (uint64_t)rand() % n;
        uint32_t count = 1 + (uint32_t)rand() % 40;
        int op = rand() % 10;

        if (count > n - lba)
            count = (uint32_t)(n - lba);
        if (op < 5) {
            CHECK_EQ(blockdev_read(c, lba, count, buf), 0);
            CHECK_EQ(memcmp(buf, model + lba * SS, (size_t)count * SS), 0);
        } else if (op < 9) {
            for (size_t i = 0; i < (size_t)count * SS; i++)
                buf[i] = (uint8_t)rand();
            CHECK_EQ(blockdev_write(c, lba, count, buf), 0);
            memcpy(model + lba * SS, buf, (size_t)count * SS);
        } else {
            CHECK_EQ(bcache_sync(c), 0);
            CHECK_EQ(memcmp(d->mem, model, n * SS), 0);
        }
        if (test_failed_checks)
            break;
    }
    CHECK_EQ(bcache_sync(c), 0);
    CHECK_EQ(memcmp(d->mem, model, n * SS), 0);
    struct bcache_stats st = stats_of(c);
    CHECK(st.hits > 0 && st.misses > 0 && st.evictions > 0 && st.writebacks > 0);
    free(model);
    free(buf);
    bcache_destroy(c);
    disk_free(d);
}

static void test_random_vs_model_batched(void)
{
    random_vs_model(disk_submit, 1);
}

static void test_random_vs_model_single(void)
{
    random_vs_model(NULL, 2);
}

static void test_read_error_propagates(void)
{
    struct disk *d = disk_new(8 * SPB);
    struct blockdev *c = bcache_create("t", &d->bd, 4, disk_submit);
    uint8_t buf[3 * BCACHE_BLOCK_BYTES];

    d->fail_reads = true;
    d->fail_lo = SPB + 2;
    d->fail_hi = SPB + 3;
    CHECK_EQ(blockdev_read(c, 0, 3 * SPB, buf), -EIO);
    CHECK_EQ(blockdev_read(c, SPB, 1, buf), -EIO);
    /* The blocks that did arrive are usable; the failed one was not kept half-read. */
    counts_reset(d);
    CHECK_EQ(blockdev_read(c, 0, SPB, buf), 0);
    CHECK(is_pattern(buf, 0, SPB));
    CHECK_EQ(d->reads, 0);
    d->fail_reads = false;
    CHECK_EQ(blockdev_read(c, 0, 3 * SPB, buf), 0);
    CHECK(is_pattern(buf, 0, 3 * SPB));
    CHECK_EQ(d->reads, 1);
    bcache_destroy(c);
    disk_free(d);
}

static void test_write_errors_keep_data_dirty(void)
{
    struct disk *d = disk_new(8 * SPB);
    struct blockdev *c = bcache_create("t", &d->bd, 2, disk_submit);
    uint8_t w[SS], r[SS];

    memset(w, 0xee, sizeof(w));
    CHECK_EQ(blockdev_write(c, 0, 1, w), 0);
    CHECK_EQ(blockdev_write(c, SPB, 1, w), 0);
    d->fail_writes = true;
    d->fail_lo = 0;
    d->fail_hi = 2 * SPB;
    CHECK_EQ(bcache_sync(c), -EIO);
    CHECK_EQ(stats_of(c).dirty, 2);
    CHECK(is_pattern(d->mem, 0, 2 * SPB));
    /* Every block is dirty and none can be written back: a read that needs room fails... */
    CHECK_EQ(blockdev_read(c, 2 * SPB, 1, r), -EIO);
    /* ...and nothing was lost. */
    CHECK_EQ(blockdev_read(c, 0, 1, r), 0);
    CHECK_EQ(memcmp(r, w, SS), 0);
    /* Block 1 (now the LRU) can be written: it is, and makes room. Block 0 stays dirty. */
    d->fail_hi = 1;
    read_block(c, 2);
    CHECK_EQ(memcmp(d->mem + SPB * SS, w, SS), 0);
    CHECK(is_pattern(d->mem, 0, 1));
    CHECK_EQ(stats_of(c).dirty, 1);
    /* With block 0 failing and LRU, a clean block is evicted instead of losing block 0. */
    read_block(c, 3);
    CHECK_EQ(blockdev_read(c, 0, 1, r), 0);
    CHECK_EQ(memcmp(r, w, SS), 0);
    d->fail_writes = false;
    d->fail_flush = true;
    CHECK_EQ(bcache_sync(c), -EIO); /* the data went out, the flush failed */
    CHECK_EQ(memcmp(d->mem, w, SS), 0);
    d->fail_flush = false;
    CHECK_EQ(bcache_sync(c), 0);
    CHECK_EQ(stats_of(c).dirty, 0);
    bcache_destroy(c);
    disk_free(d);
}

/* One block, two runs of sectors: one run's transfer fails, the other's must still count. */
static void test_partial_failures_within_a_block(void)
{
    struct disk *d = disk_new(2 * SPB);
    struct blockdev *c = bcache_create("t", &d->bd, 2, disk_submit);
    uint8_t w[SS], r[BCACHE_BLOCK_BYTES];

    memset(w, 0x42, sizeof(w));
    CHECK_EQ(blockdev_write(c, 1, 1, w), 0);
    CHECK_EQ(blockdev_write(c, 5, 1, w), 0);
    d->fail_writes = true;
    d->fail_lo = 5;
    d->fail_hi = 6;
    CHECK_EQ(bcache_sync(c), -EIO);
    CHECK_EQ(memcmp(d->mem + SS, w, SS), 0);
    CHECK_EQ(stats_of(c).dirty, 1);
    d->fail_writes = false;
    counts_reset(d);
    CHECK_EQ(bcache_sync(c), 0);
    CHECK_EQ(d->write_sectors, 1); /* only sector 5 was still dirty */
    CHECK_EQ(memcmp(d->mem + 5 * SS, w, SS), 0);

    /* Reads: sectors 0, 2-4 and 6-7 are missing; the run 6-7 fails. */
    d->fail_reads = true;
    d->fail_lo = 6;
    d->fail_hi = 7;
    CHECK_EQ(blockdev_read(c, 0, SPB, r), -EIO);
    d->fail_reads = false;
    counts_reset(d);
    CHECK_EQ(blockdev_read(c, 0, SPB, r), 0);
    CHECK_EQ(d->read_sectors, 2); /* only 6-7: the other runs arrived the first time */
    CHECK(is_pattern(r, 0, 1));
    CHECK_EQ(memcmp(r + SS, w, SS), 0);
    CHECK(is_pattern(r + 2 * SS, 2, 3));
    CHECK_EQ(memcmp(r + 5 * SS, w, SS), 0);
    CHECK(is_pattern(r + 6 * SS, 6, 2));
    bcache_destroy(c);
    disk_free(d);
}

static void test_read_only_device(void)
{
    struct disk *d = disk_new(4 * SPB);
    uint8_t buf[SS];

    d->bd.write = NULL;
    struct blockdev *c = bcache_create("t", &d->bd, 2, NULL);
    CHECK(c != NULL);
    CHECK(c->write == NULL);
    CHECK_EQ(blockdev_write(c, 0, 1, buf), -EROFS);
    CHECK_EQ(blockdev_read(c, 0, 1, buf), 0);
    CHECK(is_pattern(buf, 0, 1));
    CHECK_EQ(bcache_sync(c), 0);
    bcache_destroy(c);
    disk_free(d);
}

static void test_create_rejects(void)
{
    struct disk *d = disk_new(4 * SPB);

    CHECK(bcache_create("t", &d->bd, 0, NULL) == NULL);
    CHECK(bcache_create("t", NULL, 4, NULL) == NULL);
    d->bd.sector_size = 3000;
    CHECK(bcache_create("t", &d->bd, 4, NULL) == NULL);
    d->bd.sector_size = 4096; /* one sector per block is fine */
    d->bd.nsectors = 4 * SPB * SS / 4096;
    struct blockdev *c = bcache_create("t", &d->bd, 4, NULL);
    CHECK(c != NULL);
    bcache_destroy(c);
    CHECK_EQ(bcache_sync(&d->bd), -EINVAL); /* not a cache */
    disk_free(d);
}

static void test_registry_and_sync_all(void)
{
    struct disk *d[BCACHE_MAX + 1];
    struct blockdev *c[BCACHE_MAX + 1];
    char name[16];
    uint8_t w[SS];

    memset(w, 9, sizeof(w));
    for (int i = 0; i <= BCACHE_MAX; i++) {
        d[i] = disk_new(SPB);
        snprintf(name, sizeof(name), "disk%d", i);
        c[i] = bcache_create(name, &d[i]->bd, 1, NULL);
    }
    CHECK(c[BCACHE_MAX] == NULL); /* registry full */
    for (int i = 0; i < BCACHE_MAX; i++) {
        CHECK(bcache_get(i) == c[i]);
        snprintf(name, sizeof(name), "disk%d", i);
        CHECK(strcmp(bcache_name(c[i]), name) == 0);
        CHECK_EQ(blockdev_write(c[i], 0, 1, w), 0);
    }
    CHECK(bcache_get(BCACHE_MAX) == NULL);
    CHECK_EQ(bcache_sync_all(), 0);
    for (int i = 0; i < BCACHE_MAX; i++) {
        CHECK_EQ(memcmp(d[i]->mem, w, SS), 0);
        CHECK_EQ(d[i]->flushes, 1);
    }
    bcache_destroy(c[1]);
    CHECK(bcache_get(1) == c[2]);
    for (int i = 0; i <= BCACHE_MAX; i++) {
        if (i != 1)
            bcache_destroy(c[i]);
        disk_free(d[i]);
    }
    CHECK(bcache_get(0) == NULL);
}

#define THREADS        4
#define THREAD_SECTORS (12 * SPB + 3)
#define BIG_SECTORS    (BCACHE_DIRECT_MIN * SPB)

struct thread_arg {
    struct blockdev *c;
    unsigned id;
    int errors;
};

/* A per-thread generator (rand() shares state between threads). */
static uint32_t next_rand(uint32_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 17;
    *state ^= *state << 5;
    return *state;
}

/* Each thread owns a region that straddles blocks shared with its neighbours. */
static void *hammer(void *p)
{
    struct thread_arg *a = p;
    uint8_t w[BIG_SECTORS * SS], r[BIG_SECTORS * SS];
    uint32_t seed = a->id + 1;
    uint64_t base = (uint64_t)a->id * THREAD_SECTORS;

    for (int i = 0; i < 2000; i++) {
        /* Mostly a few sectors; every eighth transfer large enough to bypass the cache. */
        uint32_t count = i % 8 ? 1 + (uint32_t)next_rand(&seed) % 4 : BIG_SECTORS;
        uint64_t lba = base + (uint64_t)next_rand(&seed) % (THREAD_SECTORS - count + 1);

        if (count == BIG_SECTORS) { /* block-aligned, inside this thread's region */
            uint64_t first = (base + SPB - 1) / SPB * SPB;
            uint64_t slots = (base + THREAD_SECTORS - BIG_SECTORS - first) / SPB + 1;
            lba = first + (uint64_t)next_rand(&seed) % slots * SPB;
        }

        memset(w, (int)(a->id * 16 + (unsigned)i % 16), sizeof(w));
        if (blockdev_write(a->c, lba, count, w) || blockdev_read(a->c, lba, count, r) ||
            memcmp(r, w, (size_t)count * SS))
            a->errors++;
        if (i % 500 == 0 && bcache_sync(a->c))
            a->errors++;
    }
    /* Leave a final, known image of the region. */
    for (uint32_t s = 0; s < THREAD_SECTORS; s++) {
        memset(w, (int)(a->id + 1), SS);
        if (blockdev_write(a->c, base + s, 1, w))
            a->errors++;
    }
    return NULL;
}

/* A run of whole uncached blocks goes to the device as one transfer and is not cached. */
static void test_direct_read_bypasses(void)
{
    struct disk *d = disk_new(128 * SPB);
    struct blockdev *c = bcache_create("t", &d->bd, 8, disk_submit);
    uint8_t *buf = malloc(64 * BCACHE_BLOCK_BYTES);

    CHECK_EQ(blockdev_read(c, 0, 64 * SPB, buf), 0);
    CHECK(is_pattern(buf, 0, 64 * SPB));
    CHECK_EQ(d->reads, 1);
    CHECK_EQ(d->read_sectors, 64 * SPB);
    struct bcache_stats st = stats_of(c);
    CHECK_EQ(st.direct, 1);
    CHECK_EQ(st.used, 0);
    /* Too short a run (and an unaligned start) goes through the cache. */
    counts_reset(d);
    CHECK_EQ(blockdev_read(c, 64 * SPB, (BCACHE_DIRECT_MIN - 1) * SPB, buf), 0);
    CHECK(is_pattern(buf, 64 * SPB, (BCACHE_DIRECT_MIN - 1) * SPB));
    CHECK_EQ(blockdev_read(c, 80 * SPB + 1, 2 * SPB, buf), 0);
    CHECK(is_pattern(buf, 80 * SPB + 1, 2 * SPB));
    CHECK_EQ(stats_of(c).direct, 1);
    CHECK(stats_of(c).used > 0);
    /* A long unaligned read: its first partial block through the cache, the rest direct. */
    counts_reset(d);
    CHECK_EQ(blockdev_read(c, 100 * SPB + 3, 20 * SPB, buf), 0);
    CHECK(is_pattern(buf, 100 * SPB + 3, 20 * SPB));
    CHECK_EQ(stats_of(c).direct, 2);
    CHECK_EQ(d->reads, 3); /* head block, the direct run, the tail block */
    free(buf);
    bcache_destroy(c);
    disk_free(d);
}

/* A large read around a dirty cached block returns the cached data, not the device's. */
static void test_direct_read_sees_dirty_blocks(void)
{
    struct disk *d = disk_new(64 * SPB);
    struct blockdev *c = bcache_create("t", &d->bd, 8, disk_submit);
    uint8_t *buf = malloc(64 * BCACHE_BLOCK_BYTES);
    uint8_t one[SS];

    memset(one, 0xa5, sizeof(one));
    CHECK_EQ(blockdev_write(c, 20 * SPB + 3, 1, one), 0);
    counts_reset(d);
    CHECK_EQ(blockdev_read(c, 0, 64 * SPB, buf), 0);
    CHECK(is_pattern(buf, 0, 20 * SPB + 3));
    CHECK(memcmp(buf + (size_t)(20 * SPB + 3) * SS, one, SS) == 0);
    CHECK(is_pattern(buf + (size_t)(20 * SPB + 4) * SS, 20 * SPB + 4, 44 * SPB - 4));
    /* Blocks 0-19 and 21-63 directly; block 20's missing sectors into the cache. */
    CHECK_EQ(stats_of(c).direct, 2);
    CHECK_EQ(d->read_sectors, 63 * SPB + SPB - 1);
    CHECK_EQ(stats_of(c).dirty, 1);
    free(buf);
    bcache_destroy(c);
    disk_free(d);
}

/* A large write replaces cached blocks, dirty ones included: a later sync never writes stale data.
 */
static void test_direct_write_supersedes_cache(void)
{
    struct disk *d = disk_new(64 * SPB);
    struct blockdev *c = bcache_create("t", &d->bd, 8, disk_submit);
    uint8_t *big = malloc(32 * BCACHE_BLOCK_BYTES), *back = malloc(32 * BCACHE_BLOCK_BYTES);
    uint8_t one[SS];

    memset(one, 0x11, sizeof(one));
    CHECK_EQ(blockdev_write(c, 5 * SPB, 1, one), 0); /* dirty block 5 */
    CHECK_EQ(blockdev_read(c, 9 * SPB, 1, one), 0);  /* clean block 9 */
    memset(big, 0x77, 32 * BCACHE_BLOCK_BYTES);
    counts_reset(d);
    CHECK_EQ(blockdev_write(c, 0, 32 * SPB, big), 0);
    CHECK_EQ(d->writes, 1);
    CHECK_EQ(d->write_sectors, 32 * SPB);
    CHECK_EQ(stats_of(c).dirty, 0);
    CHECK_EQ(bcache_sync(c), 0);
    CHECK_EQ(d->writes, 1); /* nothing stale written back over it */
    CHECK(memcmp(d->mem, big, 32 * BCACHE_BLOCK_BYTES) == 0);
    CHECK_EQ(blockdev_read(c, 0, 32 * SPB, back), 0);
    CHECK(memcmp(back, big, 32 * BCACHE_BLOCK_BYTES) == 0);
    free(big);
    free(back);
    bcache_destroy(c);
    disk_free(d);
}

/* The room() of the growth cases: whether the cache may take one more block. */
static bool grow_allowed;

static bool grow_room(void)
{
    return grow_allowed;
}

/*
 * A growable cache keeps a large read (no bypass) and serves it again without the device; it
 * stops at max_blocks and while room() says no; bcache_reclaim gives back only grown blocks that
 * are clean, and the data stays right throughout.
 */
static void test_growth_and_reclaim(void)
{
    struct disk *d = disk_new(128 * SPB);
    struct blockdev *c = bcache_create("t", &d->bd, 4, disk_submit);
    uint8_t *buf = malloc(64 * BCACHE_BLOCK_BYTES);

    CHECK_EQ(bcache_set_growth(c, 40, NULL), -EINVAL);
    CHECK_EQ(bcache_set_growth(&d->bd, 40, grow_room), -EINVAL);
    /* Blocks cached before growth is enabled stay found (the hash table is rebuilt). */
    CHECK_EQ(blockdev_read(c, 0, 3 * SPB, buf), 0);
    counts_reset(d);
    CHECK_EQ(bcache_set_growth(c, 40, grow_room), 0);
    CHECK_EQ(blockdev_read(c, 0, 3 * SPB, buf), 0);
    CHECK(is_pattern(buf, 0, 3 * SPB));
    CHECK_EQ(d->reads, 0);
    grow_allowed = true;
    CHECK_EQ(blockdev_read(c, 0, 32 * SPB, buf), 0);
    CHECK(is_pattern(buf, 0, 32 * SPB));
    struct bcache_stats st = stats_of(c);
    CHECK_EQ(st.direct, 0);
    CHECK_EQ(st.nblocks, 32);
    CHECK_EQ(st.used, 32);
    CHECK_EQ(st.evictions, 0);
    /* Warm: the same read again reaches the device not at all. */
    counts_reset(d);
    memset(buf, 0, 32 * BCACHE_BLOCK_BYTES);
    CHECK_EQ(blockdev_read(c, 0, 32 * SPB, buf), 0);
    CHECK(is_pattern(buf, 0, 32 * SPB));
    CHECK_EQ(d->reads, 0);
    /* Growth stops at max_blocks: 16 more blocks grow it by 8 and evict 8. */
    CHECK_EQ(blockdev_read(c, 32 * SPB, 16 * SPB, buf), 0);
    CHECK(is_pattern(buf, 32 * SPB, 16 * SPB));
    st = stats_of(c);
    CHECK_EQ(st.nblocks, 40);
    CHECK_EQ(st.evictions, 8);
    /* Without room it evicts instead of growing. */
    grow_allowed = false;
    CHECK_EQ(blockdev_read(c, 64 * SPB, 4 * SPB, buf), 0);
    CHECK_EQ(stats_of(c).nblocks, 40);
    /* Dirty blocks survive reclaim until written back; the base blocks are never freed. */
    memset(buf, 0xab, SS);
    CHECK_EQ(blockdev_write(c, 64 * SPB, 1, buf), 0);
    unsigned long freed = bcache_reclaim(1000);
    st = stats_of(c);
    CHECK(freed >= 35);
    CHECK_EQ(st.nblocks, 40 - freed);
    CHECK_EQ(st.dirty, 1);
    CHECK_EQ(st.shrunk, freed);
    CHECK_EQ(blockdev_read(c, 64 * SPB, 2, buf), 0);
    CHECK(buf[0] == 0xab && buf[SS - 1] == 0xab);
    CHECK(is_pattern(buf + SS, 64 * SPB + 1, 1));
    CHECK_EQ(bcache_sync(c), 0);
    bcache_reclaim(1000);
    CHECK_EQ(stats_of(c).nblocks, 4);
    CHECK_EQ(d->mem[64 * SPB * SS], 0xab);
    CHECK_EQ(blockdev_read(c, 0, 32 * SPB, buf), 0);
    CHECK(is_pattern(buf, 0, 32 * SPB));
    /* Small writes all over a grown cache: dirty blocks stay near the first nblocks (4). */
    grow_allowed = true;
    memset(buf, 0x5a, SS);
    unsigned most_dirty = 0;
    for (uint64_t blk = 0; blk < 100; blk++) {
        CHECK_EQ(blockdev_write(c, blk * SPB + 3, 1, buf), 0);
        unsigned dirty = stats_of(c).dirty;
        most_dirty = dirty > most_dirty ? dirty : most_dirty;
    }
    CHECK(most_dirty <= 4 + 1);
    CHECK(stats_of(c).nblocks > 4);
    CHECK_EQ(bcache_sync(c), 0);
    for (uint64_t blk = 0; blk < 100; blk++)
        CHECK(d->mem[(blk * SPB + 3) * SS] == 0x5a && d->mem[(blk * SPB + 2) * SS] != 0x5a);
    free(buf);
    bcache_destroy(c);
    disk_free(d);
}

static void test_threads(void)
{
    struct disk *d = disk_new(THREADS * THREAD_SECTORS);
    struct blockdev *c = bcache_create("t", &d->bd, 5, disk_submit);
    pthread_t t[THREADS];
    struct thread_arg args[THREADS];

    for (unsigned i = 0; i < THREADS; i++) {
        args[i] = (struct thread_arg){c, i, 0};
        CHECK_EQ(pthread_create(&t[i], NULL, hammer, &args[i]), 0);
    }
    for (unsigned i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        CHECK_EQ(args[i].errors, 0);
    }
    CHECK_EQ(bcache_sync(c), 0);
    for (unsigned i = 0; i < THREADS; i++)
        for (size_t b = 0; b < (size_t)THREAD_SECTORS * SS; b++)
            if (d->mem[i * THREAD_SECTORS * SS + b] != i + 1) {
                CHECK(!"region content after sync");
                break;
            }
    bcache_destroy(c);
    disk_free(d);
}

static const struct test_case cases[] = {
    {"fs/bcache/hits_and_misses", test_hits_and_misses},
    {"fs/bcache/lru_eviction_order", test_lru_eviction_order},
    {"fs/bcache/dirty_eviction_writes_back", test_dirty_eviction_writes_back},
    {"fs/bcache/dirty_evictions_are_batched", test_dirty_evictions_are_batched},
    {"fs/bcache/sync_writes_everything_and_flushes", test_sync_writes_everything_and_flushes},
    {"fs/bcache/partial_write_then_read_merges", test_partial_write_then_read_merges},
    {"fs/bcache/cross_block_spans", test_cross_block_spans},
    {"fs/bcache/span_larger_than_cache", test_span_larger_than_cache},
    {"fs/bcache/short_last_block", test_short_last_block},
    {"fs/bcache/random_vs_model_batched", test_random_vs_model_batched},
    {"fs/bcache/random_vs_model_single", test_random_vs_model_single},
    {"fs/bcache/read_error_propagates", test_read_error_propagates},
    {"fs/bcache/write_errors_keep_data_dirty", test_write_errors_keep_data_dirty},
    {"fs/bcache/partial_failures_within_a_block", test_partial_failures_within_a_block},
    {"fs/bcache/read_only_device", test_read_only_device},
    {"fs/bcache/create_rejects", test_create_rejects},
    {"fs/bcache/registry_and_sync_all", test_registry_and_sync_all},
    {"fs/bcache/direct_read_bypasses", test_direct_read_bypasses},
    {"fs/bcache/direct_read_sees_dirty_blocks", test_direct_read_sees_dirty_blocks},
    {"fs/bcache/direct_write_supersedes_cache", test_direct_write_supersedes_cache},
    {"fs/bcache/growth_and_reclaim", test_growth_and_reclaim},
    {"fs/bcache/threads", test_threads},
};

int main(int argc, char **argv)
{
    return test_main(cases, (int)(sizeof(cases) / sizeof(cases[0])), argc, argv);
}
