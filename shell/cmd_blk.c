/* cmd_blk.c - the `blk` shell command: virtio-blk disks and block caches (tests, debugging). */
#include "drivers/virtio_blk.h"
#include "block/bcache.h"
#include "kernel/kmalloc.h"
#include "kernel/printk.h"
#include "kernel/shell.h"
#include "lib/errno.h"
#include "lib/string.h"

#define BLK_READ_MAX  16         /* sectors one `blk read` dumps */
#define BLK_WRITE_MAX 4096       /* sectors one `blk write` fills */
#define BLK_SUM_CHUNK (1u << 20) /* bytes `blk sum` reads at a time: 16 requests in flight */
#define FNV64_OFFSET  0xcbf29ce484222325ULL
#define FNV64_PRIME   0x100000001b3ULL

static const struct {
    unsigned bit;
    const char *name;
} blk_feature_names[] = {
    {VIRTIO_BLK_F_SIZE_MAX, "size_max"}, {VIRTIO_BLK_F_SEG_MAX, "seg_max"}, {VIRTIO_BLK_F_RO, "ro"},
    {VIRTIO_BLK_F_BLK_SIZE, "blk_size"}, {VIRTIO_BLK_F_FLUSH, "flush"},     {32, "version_1"},
};

static const char *blk_strerror(int err)
{
    switch (err) {
    case -EIO: return "I/O error";
    case -EROFS: return "read-only disk";
    case -EFAULT: return "buffer not in RAM";
    case -EINVAL: return "invalid request";
    default: return "error";
    }
}

/* Decimal or 0x-prefixed hexadecimal, the whole string, no overflow. */
static int blk_parse_u64(const char *s, uint64_t *out)
{
    unsigned base = 10;
    uint64_t v = 0;

    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (!*s)
        return -EINVAL;
    for (; *s; s++) {
        unsigned digit;

        if (*s >= '0' && *s <= '9')
            digit = (unsigned)(*s - '0');
        else if (base == 16 && *s >= 'a' && *s <= 'f')
            digit = (unsigned)(*s - 'a' + 10);
        else if (base == 16 && *s >= 'A' && *s <= 'F')
            digit = (unsigned)(*s - 'A' + 10);
        else
            return -EINVAL;
        if (v > (UINT64_MAX - digit) / base)
            return -ERANGE;
        v = v * base + digit;
    }
    *out = v;
    return 0;
}

static int blk_usage(void)
{
    kprintf("usage: blk info | blk stats | blk sync | blk read <disk> <lba> [count] |\n"
            "       blk write <disk> <lba> <count> <byte> | blk sum <disk> <lba> <count> [raw]\n");
    return 1;
}

/* A disk by index ("0") or name ("vda"); -1 with a message if there is no such disk. */
static int blk_disk_arg(const char *arg)
{
    struct virtio_blk_info info;
    uint64_t index;

    if (blk_parse_u64(arg, &index) == 0 && index < (uint64_t)virtio_blk_count())
        return (int)index;
    for (int i = 0; virtio_blk_info(i, &info) == 0; i++) {
        if (strcmp(info.name, arg) == 0)
            return i;
    }
    kprintf("blk: no disk '%s' (%d disks; see 'blk info')\n", arg, virtio_blk_count());
    return -1;
}

static int blk_info(void)
{
    struct virtio_blk_info info;

    if (virtio_blk_count() == 0)
        kprintf("no virtio-blk disks\n");
    for (int i = 0; virtio_blk_info(i, &info) == 0; i++) {
        uint64_t bytes = info.nsectors * info.sector_size;

        kprintf("%s: virtio-mmio v%u%s at 0x%08lx irq %d, %lu sectors of %u bytes (%lu MiB)%s%s\n",
                info.name, info.dev.version, info.dev.version == 1 ? " (legacy)" : "",
                (unsigned long)info.dev.pa, info.dev.irq, (unsigned long)info.nsectors,
                info.sector_size, (unsigned long)(bytes >> 20), info.read_only ? ", read-only" : "",
                info.broken ? ", DISABLED" : "");
        kprintf("  features:");
        for (unsigned f = 0; f < sizeof(blk_feature_names) / sizeof(blk_feature_names[0]); f++) {
            if (info.dev.features & (1ULL << blk_feature_names[f].bit))
                kprintf(" %s", blk_feature_names[f].name);
        }
        kprintf("\n  queue %u descriptors, %u requests in flight at most, %u bytes per request\n",
                info.queue_size, info.slots, info.max_request_bytes);
    }
    return 0;
}

static int blk_stats(void)
{
    struct virtio_blk_info info;
    struct bcache_stats st;

    for (int i = 0; virtio_blk_info(i, &info) == 0; i++)
        kprintf("%s: requests %lu, errors %lu, most in flight %u, interrupts %lu\n", info.name,
                (unsigned long)info.requests, (unsigned long)info.errors, info.max_in_flight,
                (unsigned long)info.interrupts);
    for (int i = 0; bcache_get(i); i++) {
        struct blockdev *c = bcache_get(i);

        if (bcache_get_stats(c, &st))
            continue;
        kprintf("cache %s: hits %lu, misses %lu, writebacks %lu, evictions %lu, "
                "device reads %lu, device writes %lu, syncs %lu, direct %lu; %u of %u blocks used, "
                "%u dirty (%u bytes each)\n",
                bcache_name(c), (unsigned long)st.hits, (unsigned long)st.misses,
                (unsigned long)st.writebacks, (unsigned long)st.evictions,
                (unsigned long)st.dev_reads, (unsigned long)st.dev_writes, (unsigned long)st.syncs,
                (unsigned long)st.direct, st.used, st.nblocks, st.dirty, st.block_bytes);
    }
    return 0;
}

static void blk_hexdump(const uint8_t *buf, uint64_t addr, size_t len)
{
    for (size_t off = 0; off < len; off += 16) {
        char ascii[17];

        kprintf("%08lx:", (unsigned long)(addr + off));
        for (size_t i = 0; i < 16; i++) {
            uint8_t b = buf[off + i];
            kprintf(" %02x", b);
            ascii[i] = b >= 0x20 && b < 0x7f ? (char)b : '.';
        }
        ascii[16] = '\0';
        kprintf("  |%s|\n", ascii);
    }
}

/* Parse "<disk> <lba> <count>" (count optional: 1); the disk's cached or raw blockdev. */
static struct blockdev *blk_span_args(char **argv, int have_count, bool raw, uint64_t *lba,
                                      uint64_t *count, uint64_t max)
{
    int disk = blk_disk_arg(argv[0]);

    if (disk < 0)
        return NULL;
    *count = 1;
    if (blk_parse_u64(argv[1], lba) || (have_count && blk_parse_u64(argv[2], count)) ||
        *count == 0 || *count > max) {
        kprintf("blk: bad sector number or count (at most %lu sectors)\n", (unsigned long)max);
        return NULL;
    }
    struct virtio_blk_info info;
    struct blockdev *bd = NULL;

    if (virtio_blk_info(disk, &info) == 0)
        bd = raw ? blockdev_find(info.name) : blockdev_open(info.name);
    if (!bd) {
        kprintf("blk: disk %d is not registered with the block layer\n", disk);
        return NULL;
    }
    if (*lba >= bd->nsectors || *count > bd->nsectors - *lba) {
        kprintf("blk: sectors %lu..%lu are past the end (%lu sectors)\n", (unsigned long)*lba,
                (unsigned long)(*lba + *count - 1), (unsigned long)bd->nsectors);
        return NULL;
    }
    return bd;
}

static int blk_read(int argc, char **argv)
{
    uint64_t lba, count;
    struct blockdev *bd = blk_span_args(argv, argc > 2, false, &lba, &count, BLK_READ_MAX);

    if (!bd)
        return 1;
    uint8_t *buf = kmalloc(count * bd->sector_size);
    if (!buf) {
        kprintf("blk: out of memory\n");
        return 1;
    }
    int err = blockdev_read(bd, lba, (uint32_t)count, buf);
    if (err)
        kprintf("blk: read of sector %lu failed: %d (%s)\n", (unsigned long)lba, err,
                blk_strerror(err));
    else
        blk_hexdump(buf, lba * bd->sector_size, count * bd->sector_size);
    kfree(buf);
    return err ? 1 : 0;
}

static int blk_write(char **argv)
{
    uint64_t lba, count, byte;
    struct blockdev *bd = blk_span_args(argv, 1, false, &lba, &count, BLK_WRITE_MAX);

    if (!bd)
        return 1;
    if (blk_parse_u64(argv[3], &byte) || byte > 0xff) {
        kprintf("blk: the fill byte must be 0..255\n");
        return 1;
    }
    uint8_t *buf = kmalloc(count * bd->sector_size);
    if (!buf) {
        kprintf("blk: out of memory\n");
        return 1;
    }
    memset(buf, (int)byte, count * bd->sector_size);
    int err = blockdev_write(bd, lba, (uint32_t)count, buf);
    kfree(buf);
    if (err) {
        kprintf("blk: write of sectors %lu..%lu failed: %d (%s)\n", (unsigned long)lba,
                (unsigned long)(lba + count - 1), err, blk_strerror(err));
        return 1;
    }
    kprintf("wrote %lu sectors at %lu (partial blocks cached until sync)\n", (unsigned long)count,
            (unsigned long)lba);
    return 0;
}

/* FNV-1a (64-bit) of a span, read in 1 MiB pieces, raw or through the cache: the host
   computes the same over the image file. */
static int blk_sum(int argc, char **argv)
{
    uint64_t lba, count, sum = FNV64_OFFSET;
    bool raw = argc == 4 && strcmp(argv[3], "raw") == 0;

    if (argc == 4 && !raw)
        return blk_usage();
    struct blockdev *bd = blk_span_args(argv, 1, raw, &lba, &count, UINT64_MAX);
    if (!bd)
        return 1;
    uint32_t chunk = BLK_SUM_CHUNK / bd->sector_size;
    uint8_t *buf = kmalloc(BLK_SUM_CHUNK);
    if (!buf) {
        kprintf("blk: out of memory\n");
        return 1;
    }
    int err = 0;
    for (uint64_t done = 0; done < count && !err; done += chunk) {
        uint32_t n = count - done < chunk ? (uint32_t)(count - done) : chunk;

        err = blockdev_read(bd, lba + done, n, buf);
        for (size_t i = 0; !err && i < (size_t)n * bd->sector_size; i++)
            sum = (sum ^ buf[i]) * FNV64_PRIME;
        if (err)
            kprintf("blk: read of sectors %lu..%lu failed: %d (%s)\n", (unsigned long)(lba + done),
                    (unsigned long)(lba + done + n - 1), err, blk_strerror(err));
    }
    kfree(buf);
    if (!err)
        kprintf("fnv1a64 %lu+%lu%s: 0x%016lx\n", (unsigned long)lba, (unsigned long)count,
                raw ? " raw" : "", (unsigned long)sum);
    return err ? 1 : 0;
}

static int blk_sync(void)
{
    int err = bcache_sync_all();

    if (err) {
        kprintf("blk: sync failed: %d (%s)\n", err, blk_strerror(err));
        return 1;
    }
    kprintf("synced\n");
    return 0;
}

static int cmd_blk(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "info") == 0)
        return blk_info();
    if (argc == 2 && strcmp(argv[1], "stats") == 0)
        return blk_stats();
    if (argc == 2 && strcmp(argv[1], "sync") == 0)
        return blk_sync();
    if ((argc == 4 || argc == 5) && strcmp(argv[1], "read") == 0)
        return blk_read(argc - 2, argv + 2);
    if (argc == 6 && strcmp(argv[1], "write") == 0)
        return blk_write(argv + 2);
    if ((argc == 5 || argc == 6) && strcmp(argv[1], "sum") == 0)
        return blk_sum(argc - 2, argv + 2);
    return blk_usage();
}
SHELL_COMMAND(blk, "blk", "info|stats|sync|read|write|sum ...",
              "virtio-blk disks: list, statistics, write back; hexdump, fill or checksum sectors",
              cmd_blk);
