/* vm_disk.c - a VM's virtio-blk disks: the device model (vvirtio_blk*.c) over an image file. */
#include "vmm/vm_disk.h"

#include "arch/memlayout.h"
#include "fs/vfs.h"
#include "kernel/kmalloc.h"
#include "kernel/printk.h"
#include "kernel/thread.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "vmm/layout.h"
#include "vmm/vm.h"
#include "vmm/vvirtio_blk.h"

/*
 * Just above the vCPUs (20): the worker mostly sleeps on the disk and then has a completion to hand
 * over, which should not wait for a busy vCPU's time slice; below the shell (40), which must answer
 * (guest stop) whatever the disks do.
 */
#define VM_DISK_PRIO (VCPU_PRIO + 1)

/**
 * One disk: its file, the device, and the worker thread that serves the device's queue. stop is
 * set once (vm_disks_stop) and read by the worker between steps.
 */
struct vm_disk {
    struct vm *vm;
    unsigned slot;
    const char *image; /* its path, in vm->m */
    struct file *file;
    struct thread *worker;
    struct wait_queue wq; /* the worker sleeps here for a QueueNotify or the stop */
    bool stop;            /* atomic */
    struct vvirtio_blk dev;
};

/* Guest RAM is host memory in the linear map, contiguous within each VM_RAM_CHUNK. */
static void *disk_map(void *ctx, uint64_t ipa, uint64_t len, uint64_t *contiguous)
{
    uint64_t n, pa = vm_ram_pa(((struct vm_disk *)ctx)->vm, ipa, &n);

    if (!pa)
        return NULL;
    *contiguous = n < len ? n : len;
    return phys_to_virt(pa);
}

static int disk_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    long n = vfs_pread(((struct vm_disk *)ctx)->file, buf, len, off);

    return n < 0 ? (int)n : ((size_t)n == len ? 0 : -EIO);
}

static int disk_write(void *ctx, uint64_t off, const void *buf, size_t len)
{
    long n = vfs_pwrite(((struct vm_disk *)ctx)->file, buf, len, off);

    return n < 0 ? (int)n : ((size_t)n == len ? 0 : -EIO);
}

static int disk_flush(void *ctx)
{
    return vfs_fsync(((struct vm_disk *)ctx)->file);
}

static void disk_irq(void *ctx, bool level)
{
    struct vm_disk *d = ctx;

    vgic_set_level(&d->vm->vgic, 0, VM_VIRTIO_INTID(d->slot), level);
}

static void disk_notify(void *ctx)
{
    wait_wake_one(&((struct vm_disk *)ctx)->wq);
}

static const struct vvirtio_blk_ops disk_ops = {
    disk_map, disk_read, disk_write, disk_flush, disk_irq, disk_notify,
};

static bool disk_stopping(struct vm_disk *d)
{
    return __atomic_load_n(&d->stop, __ATOMIC_ACQUIRE);
}

/*
 * The worker: serves the queue a bounded step at a time and looks for the stop between steps, so a
 * stopping VM waits for one step at most, never for a whole large request.
 */
static int disk_worker(void *arg)
{
    struct vm_disk *d = arg;

    while (!disk_stopping(d)) {
        if (!vvirtio_blk_step(&d->dev))
            wait_event(&d->wq, disk_stopping(d) || vvirtio_blk_notified(&d->dev));
    }
    return 0;
}

/* What the guest wrote is in the image file afterwards, or the console says why not. */
static void disk_free(struct vm_disk *d)
{
    int err = 0;

    if (d->worker) {
        __atomic_store_n(&d->stop, true, __ATOMIC_RELEASE);
        wait_wake_all(&d->wq);
        thread_join(d->worker);
    }
    if (!d->dev.read_only)
        err = vfs_fsync(d->file);
    if (err)
        kprintf("guest %s: disk image %s: writing back: %s\n", d->vm->m.name, d->image,
                errno_str(err));
    vfs_close(d->file);
    kfree(d);
}

static int disk_open(struct vm *vm, const struct guest_device *gd, char *msg, size_t len)
{
    char name[THREAD_NAME_MAX];
    struct vfs_stat st;
    struct vm_disk *d = kzalloc(sizeof(*d));
    int err = d ? vfs_stat(gd->image, &st) : -ENOMEM;

    if (!err)
        err = vfs_open(gd->image, gd->read_only ? O_RDONLY : O_RDWR, &d->file);
    if (err) {
        snprintf(msg, len, "disk image %s: %s", gd->image, errno_str(err));
        kfree(d);
        return err;
    }
    d->vm = vm;
    d->slot = vm->nr_disks;
    d->image = gd->image;
    wait_queue_init(&d->wq);
    vvirtio_blk_init(&d->dev, st.size, gd->read_only, &disk_ops, d);
    snprintf(name, sizeof(name), "%.10s/vd%u", vm->m.name, d->slot);
    d->worker = thread_create(name, disk_worker, d, VM_DISK_PRIO, CPUMASK_ALL);
    if (!d->worker) {
        snprintf(msg, len, "disk image %s: no worker thread", gd->image);
        disk_free(d);
        return -ENOMEM;
    }
    vm->disks[vm->nr_disks++] = d;
    return 0;
}

/* Registers only: a queue notification just wakes the worker, so nothing here sleeps. */
static int disk_mmio_read(void *ctx, struct vcpu *v, uint64_t off, unsigned size, uint64_t *val)
{
    (void)v;
    return vvirtio_blk_read(&((struct vm_disk *)ctx)->dev, off, size, val);
}

static int disk_mmio_write(void *ctx, struct vcpu *v, uint64_t off, unsigned size, uint64_t val)
{
    (void)v;
    return vvirtio_blk_write(&((struct vm_disk *)ctx)->dev, off, size, val);
}

static const struct mmio_ops disk_mmio_ops = {disk_mmio_read, disk_mmio_write};

int vm_disks_open(struct vm *vm, char *msg, size_t len)
{
    vm->nr_disks = 0;
    for (unsigned i = 0; i < vm->m.ndevices; i++) {
        int err;

        if (vm->m.devices[i].kind != GUEST_DEV_VIRTIO_BLK)
            continue;
        err = disk_open(vm, &vm->m.devices[i], msg, len);
        if (!err) {
            /* The disks take the first virtio-mmio slots, in manifest order (vm_dtb.c). */
            unsigned slot = vm->nr_disks - 1;
            err = mmio_bus_register(&vm->bus, GUEST_VIRTIO_BASE + slot * GUEST_VIRTIO_SLOT_SIZE,
                                    GUEST_VIRTIO_SLOT_SIZE, &disk_mmio_ops, vm->disks[slot]);
            if (err)
                snprintf(msg, len, "no room for its disk's registers (%s)", errno_str(err));
        }
        if (err) {
            vm_disks_close(vm);
            return err;
        }
    }
    return 0;
}

void vm_disks_stop(struct vm *vm)
{
    for (unsigned i = 0; i < vm->nr_disks; i++) {
        __atomic_store_n(&vm->disks[i]->stop, true, __ATOMIC_RELEASE);
        wait_wake_all(&vm->disks[i]->wq);
    }
}

void vm_disks_close(struct vm *vm)
{
    for (unsigned i = 0; i < vm->nr_disks; i++) {
        disk_free(vm->disks[i]);
        vm->disks[i] = NULL;
    }
    vm->nr_disks = 0;
}
