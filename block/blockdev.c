/* blockdev.c - the registry of named disks: drivers register them, storage opens them cached. */
#include "block/blockdev.h"

#include "block/bcache.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"

struct blockdev_entry {
    char name[8];
    struct blockdev *raw;
    struct blockdev *cached; /* NULL: no memory for a cache, the disk runs uncached */
};

/* Entries are only added (drivers probe at start-up), never removed; the lock guards both. */
static spinlock_t blockdev_lock = SPINLOCK_INIT;
static struct blockdev_entry blockdev_disks[BLOCKDEV_MAX];
static int blockdev_ndisks;

static struct blockdev_entry *blockdev_lookup(const char *name)
{
    for (int i = 0; i < blockdev_ndisks; i++)
        if (strcmp(blockdev_disks[i].name, name) == 0)
            return &blockdev_disks[i];
    return NULL;
}

int blockdev_register(const char *name, struct blockdev *bd, blockdev_submit_fn submit)
{
    /* Made before taking the lock: creating a cache allocates, which may sleep. */
    struct blockdev *cached = bcache_create(name, bd, BCACHE_DEFAULT_BLOCKS, submit);
    unsigned long flags = spin_lock_irqsave(&blockdev_lock);
    int err = 0;

    if (blockdev_lookup(name))
        err = -EEXIST;
    else if (blockdev_ndisks == BLOCKDEV_MAX)
        err = -ENOSPC;
    else {
        struct blockdev_entry *e = &blockdev_disks[blockdev_ndisks];

        strncpy(e->name, name, sizeof(e->name) - 1);
        e->raw = bd;
        e->cached = cached;
        blockdev_ndisks++;
    }
    spin_unlock_irqrestore(&blockdev_lock, flags);
    if (err) {
        if (cached)
            bcache_destroy(cached);
        return err;
    }
    if (!cached)
        kprintf("block: %s: no memory for a block cache, running uncached\n", name);
    return 0;
}

struct blockdev *blockdev_find(const char *name)
{
    unsigned long flags = spin_lock_irqsave(&blockdev_lock);
    struct blockdev_entry *e = blockdev_lookup(name);
    struct blockdev *bd = e ? e->raw : NULL;

    spin_unlock_irqrestore(&blockdev_lock, flags);
    return bd;
}

struct blockdev *blockdev_open(const char *name)
{
    unsigned long flags = spin_lock_irqsave(&blockdev_lock);
    struct blockdev_entry *e = blockdev_lookup(name);
    struct blockdev *bd = e ? (e->cached ? e->cached : e->raw) : NULL;

    spin_unlock_irqrestore(&blockdev_lock, flags);
    return bd;
}

const char *blockdev_name(int index)
{
    unsigned long flags = spin_lock_irqsave(&blockdev_lock);
    const char *name = index >= 0 && index < blockdev_ndisks ? blockdev_disks[index].name : NULL;

    spin_unlock_irqrestore(&blockdev_lock, flags);
    return name;
}
