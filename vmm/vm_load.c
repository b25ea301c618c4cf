/* vm_load.c - a guest's kernel, initrd and device tree, from the file system into its RAM. */
#include "vmm/vm_load.h"

#include "drivers/gic.h"
#include "fs/vfs.h"
#include "kernel/kmalloc.h"
#include "arch/memlayout.h"
#include "kernel/platform.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "vmm/layout.h"
#include "vmm/vm.h"
#include "vmm/vm_disk.h"
#include "vmm/vm_passthrough.h"
#include "vmm/vm_dtb.h"

#define LOAD_CHUNK  (1UL << 20)
#define GEN_DTB_MAX (64UL << 10) /* a generated tree is a few KiB */
#define UART_INTID  33
#define GICC_OFFSET 0x10000
#define GICR_OFFSET 0xa0000

static int file_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    long n = vfs_pread(ctx, buf, len, off);

    if (n < 0)
        return (int)n;
    return (size_t)n == len ? 0 : -EIO;
}

static int ram_write(void *ctx, uint64_t ipa, const void *src, size_t len)
{
    return vm_write_ram(ctx, ipa, src, len);
}

static int open_file(const char *path, struct file **f, uint64_t *size)
{
    struct vfs_stat st;
    int err = vfs_stat(path, &st);

    if (!err)
        err = vfs_open(path, O_RDONLY, f);
    if (!err)
        *size = st.size;
    return err;
}

/*
 * Read a whole file into guest RAM at ipa, expecting exactly size bytes (as validated): straight
 * into the VM's memory (no bounce copy), in pieces of at most LOAD_CHUNK that the disk gets as
 * large requests.
 */
static int load_file(struct vm *vm, const char *path, uint64_t ipa, uint64_t size)
{
    struct file *f;
    uint64_t actual, off = 0;
    int err = open_file(path, &f, &actual);

    if (err)
        return err;
    if (actual != size)
        err = -EAGAIN; /* changed since it was checked */
    while (!err && off < size) {
        uint64_t contiguous, pa = vm_ram_pa(vm, ipa + off, &contiguous);
        uint64_t n = size - off < LOAD_CHUNK ? size - off : LOAD_CHUNK;

        /* A reset reloads in the VM's own thread: `guest stop` must not wait for all of it. */
        if (__atomic_load_n(&vm->host_stop, __ATOMIC_SEQ_CST)) {
            err = -EINTR;
            break;
        }
        if (!pa) {
            err = -EFAULT; /* cannot happen: the plan put the file inside the VM's RAM */
            break;
        }
        if (n > contiguous)
            n = contiguous;
        err = file_read(f, off, phys_to_virt(pa), (size_t)n);
        off += n;
    }
    vfs_close(f);
    return err;
}

static int load_kernel(struct vm *vm)
{
    struct file *f;
    uint64_t size;
    int err = open_file(vm->m.kernel_path, &f, &size);

    if (err)
        return err;
    struct loader_file lf = {size, file_read, f};
    err = loader_load_kernel(&vm->plan, &lf, ram_write, vm);
    vfs_close(f);
    return err;
}

/* What the VM is, for its device tree. */
static void dtb_config(struct vm *vm, struct vm_dtb_config *cfg)
{
    *cfg = (struct vm_dtb_config){
        .ram_base = vm->ram_base,
        .ram_size = vm->ram_size,
        .ncpus = vm->m.smp_cores,
        .gic_version = gic_version(),
        .gicd_base = GUEST_GIC_BASE,
        .gicc_base = GUEST_GIC_BASE + GICC_OFFSET,
        .gicr_base = GUEST_GIC_BASE + GICR_OFFSET,
        .uart_base = GUEST_UART_BASE,
        .uart_intid = UART_INTID,
        .rtc_base = GUEST_RTC_BASE,
        .rtc_intid = GUEST_RTC_INTID,
        .bootargs = vm->m.bootargs,
        .psci_method = "hvc",
    };
    for (unsigned i = 0; i < vm->m.ndevices && cfg->nvirtio < VM_DTB_MAX_VIRTIO; i++) {
        if (vm->m.devices[i].kind != GUEST_DEV_VIRTIO_BLK)
            continue;
        cfg->virtio[cfg->nvirtio].base = GUEST_VIRTIO_BASE + cfg->nvirtio * GUEST_VIRTIO_SLOT_SIZE;
        cfg->virtio[cfg->nvirtio].size = GUEST_VIRTIO_SLOT_SIZE;
        cfg->virtio[cfg->nvirtio].intid = VM_VIRTIO_INTID(cfg->nvirtio);
        cfg->nvirtio++;
    }
    /* The NICs take the slots after the disks (vm_net.c). */
    for (unsigned i = 0; i < vm->m.ndevices && cfg->nvirtio < VM_DTB_MAX_VIRTIO; i++) {
        if (vm->m.devices[i].kind != GUEST_DEV_VIRTIO_NET)
            continue;
        cfg->virtio[cfg->nvirtio].base = GUEST_VIRTIO_BASE + cfg->nvirtio * GUEST_VIRTIO_SLOT_SIZE;
        cfg->virtio[cfg->nvirtio].size = GUEST_VIRTIO_SLOT_SIZE;
        cfg->virtio[cfg->nvirtio].intid = VM_VIRTIO_INTID(cfg->nvirtio);
        cfg->nvirtio++;
    }
    vm_passthrough_dtb(vm, cfg);
    if (vm->plan.initrd_size) {
        cfg->initrd_start = vm->plan.initrd_ipa;
        cfg->initrd_end = vm->plan.initrd_ipa + vm->plan.initrd_size;
    }
}

/*
 * The VM's device tree: generated, shaped like QEMU virt's, or the manifest's dtb file patched
 * to match the VM (memory, CPUs, PSCI, bootargs and initrd; its devices are the user's word).
 * Either may use the whole 2 MiB block the loader keeps for it.
 */
static int load_dtb(struct vm *vm, char *msg, size_t len)
{
    struct vm_dtb_config cfg;
    size_t size, in_size = 0;
    void *in = NULL, *blob = kzalloc(LOADER_DTB_MAX);
    int err = blob ? 0 : -ENOMEM;

    dtb_config(vm, &cfg);
    if (!err && vm->m.dtb_path[0]) {
        err = vfs_read_file(vm->m.dtb_path, &in, &in_size, LOADER_DTB_MAX);
        if (err)
            snprintf(msg, len, "dtb %s: %s", vm->m.dtb_path, errno_str(err));
        else
            err = vm_dtb_patch(in, in_size, &cfg, blob, LOADER_DTB_MAX, &size, msg, len);
    } else if (!err) {
        err = vm_dtb_build(&cfg, blob, LOADER_DTB_MAX, &size, msg, len);
    }
    if (!err)
        err = vm_write_ram(vm, vm->plan.dtb_ipa, blob, size);
    if (err && !msg[0])
        snprintf(msg, len, "device tree: %s", errno_str(err));
    kfree(in);
    kfree(blob);
    return err;
}

int vm_load_images(struct vm *vm, char *msg, size_t len)
{
    int err = load_kernel(vm);

    if (err) {
        snprintf(msg, len, "kernel %s: %s", vm->m.kernel_path, errno_str(err));
        return err;
    }
    if (vm->plan.initrd_size) {
        err = load_file(vm, vm->m.initrd_path, vm->plan.initrd_ipa, vm->plan.initrd_size);
        if (err) {
            snprintf(msg, len, "initrd %s: %s", vm->m.initrd_path, errno_str(err));
            return err;
        }
    }
    msg[0] = '\0';
    return load_dtb(vm, msg, len);
}
