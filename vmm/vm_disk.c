/* vm_disk.c - a VM's virtio-blk disks: the device model (vvirtio_blk.c) over an image file. */
#include "vmm/vm_disk.h"

#include "arch/irqflags.h"
#include "fs/vfs.h"
#include "kernel/kmalloc.h"
#include "kernel/sync.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "vmm/layout.h"
#include "vmm/vm.h"
#include "vmm/vvirtio_blk.h"

/** One disk: its file, and a lock so one write's seek and write stay together. */
struct vm_disk {
    struct vm *vm;
    unsigned slot;
    struct file *file;
    struct mutex io; /* the file position */
    struct vvirtio_blk dev;
};

static int disk_mem_read(void *ctx, uint64_t ipa, void *buf, size_t len)
{
    return vm_read_ram(((struct vm_disk *)ctx)->vm, ipa, buf, len);
}

static int disk_mem_write(void *ctx, uint64_t ipa, const void *buf, size_t len)
{
    return vm_write_ram(((struct vm_disk *)ctx)->vm, ipa, buf, len);
}

static int disk_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    long n = vfs_pread(((struct vm_disk *)ctx)->file, buf, len, off);

    return n < 0 ? (int)n : ((size_t)n == len ? 0 : -EIO);
}

static int disk_write(void *ctx, uint64_t off, const void *buf, size_t len)
{
    struct vm_disk *d = ctx;
    long n = -EIO;

    mutex_lock(&d->io);
    if (vfs_lseek(d->file, (int64_t)off, SEEK_SET) == (int64_t)off)
        n = vfs_write(d->file, buf, len);
    mutex_unlock(&d->io);
    return n < 0 ? (int)n : ((size_t)n == len ? 0 : -EIO);
}

static int disk_flush(void *ctx)
{
    (void)ctx;
    return vfs_sync_all();
}

static void disk_irq(void *ctx, bool level)
{
    struct vm_disk *d = ctx;

    vgic_set_level(&d->vm->vgic, 0, VM_VIRTIO_INTID(d->slot), level);
}

static const struct vvirtio_blk_ops disk_ops = {
    disk_mem_read, disk_mem_write, disk_read, disk_write, disk_flush, disk_irq,
};

int vm_disks_open(struct vm *vm, char *msg, size_t len)
{
    vm->nr_disks = 0;
    for (unsigned i = 0; i < vm->m.ndevices; i++) {
        const struct guest_device *gd = &vm->m.devices[i];
        struct vfs_stat st;
        if (gd->kind != GUEST_DEV_VIRTIO_BLK)
            continue;
        struct vm_disk *d = kzalloc(sizeof(*d));
        int err = d ? vfs_stat(gd->image, &st) : -ENOMEM;
        if (!err)
            err = vfs_open(gd->image, gd->read_only ? O_RDONLY : O_RDWR, &d->file);
        if (err) {
            snprintf(msg, len, "disk image %s: %s", gd->image, errno_str(err));
            kfree(d);
            vm_disks_close(vm);
            return err;
        }
        d->vm = vm;
        d->slot = vm->nr_disks;
        mutex_init(&d->io);
        vvirtio_blk_init(&d->dev, st.size, gd->read_only, &disk_ops, d);
        vm->disks[vm->nr_disks++] = d;
    }
    return 0;
}

void vm_disks_close(struct vm *vm)
{
    for (unsigned i = 0; i < vm->nr_disks; i++) {
        vfs_close(vm->disks[i]->file);
        kfree(vm->disks[i]);
        vm->disks[i] = NULL;
    }
    if (vm->nr_disks)
        vfs_sync_all(); /* what the guest wrote is in the image file afterwards */
    vm->nr_disks = 0;
}

int vm_disk_mmio(struct vm *vm, uint64_t offset, unsigned size, bool write, uint64_t *val)
{
    unsigned slot = (unsigned)(offset / GUEST_VIRTIO_SLOT_SIZE);
    uint64_t reg = offset % GUEST_VIRTIO_SLOT_SIZE;

    if (slot >= vm->nr_disks)
        return -ENOENT;
    struct vvirtio_blk *dev = &vm->disks[slot]->dev;
    if (!write)
        return vvirtio_blk_read(dev, reg, size, val);
    /* A queue notification does the disk I/O here, in the vCPU's thread: it may sleep. */
    arch_irq_enable();
    int err = vvirtio_blk_write(dev, reg, size, *val);
    arch_irq_disable();
    return err;
}
