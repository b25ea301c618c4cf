/* cmd_guest.c - the `guest` shell command group (hypervisor only): list, info, validate, start. */
#ifdef AVATAR_HV
#include "drivers/virtio_blk.h"
#include "fs/vfs.h"
#include "kernel/kmalloc.h"
#include "kernel/platform.h"
#include "kernel/printk.h"
#include "kernel/shell.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "vmm/guest_validate.h"
#include "vmm/guests.h"
#include "vmm/layout.h"
#include "vmm/vm.h"

#include "cmd_guest_vm.h"

#define HOST_MAX_RESOURCES (FDT_MAX_MEM + 8 + VIRTIO_BLK_MAX_DISKS)

/* "64 MiB", or "2 GiB" when it is whole GiB (guest memory is a multiple of 2 MiB). */
static const char *size_text(uint64_t bytes, char *buf, size_t len)
{
    if (bytes && bytes % (1UL << 30) == 0)
        snprintf(buf, len, "%lu GiB", (unsigned long)(bytes >> 30));
    else
        snprintf(buf, len, "%lu MiB", (unsigned long)(bytes >> 20));
    return buf;
}

/* Rescan, then find the guest the user named; prints why not. */
static struct guest_entry *guest_lookup(const char *id_or_name)
{
    struct guest_entry *e = kmalloc(sizeof(*e));

    if (!e) {
        kprintf("guest: out of memory\n");
        return NULL;
    }
    int n = guests_scan();
    if (n < 0) {
        kprintf("guest: cannot read the guest list: %s\n", errno_str(n));
        kfree(e);
        return NULL;
    }
    if (guests_find(id_or_name, e)) {
        kprintf("guest: no guest '%s' (see guest list)\n", id_or_name);
        kfree(e);
        return NULL;
    }
    return e;
}

static int guest_list(void)
{
    struct guest_entry *e = kmalloc(sizeof(*e));
    char mem[16], msg[MANIFEST_ERR_MAX];
    int n;

    if (!e) {
        kprintf("guest: out of memory\n");
        return -ENOMEM;
    }
    n = guests_scan();
    if (n < 0) {
        kfree(e);
        kprintf("guest list: %s\n", errno_str(n));
        return n;
    }
    kprintf("%-3s %-15s %-5s %-8s %-7s %-32s %s\n", "ID", "NAME", "VCPUS", "MEMORY", "PRESENT",
            "KERNEL", "SOURCE");
    for (unsigned i = 0; guests_get(i, e) == 0; i++) {
        struct vfs_stat st;
        bool present = vfs_stat(e->m.kernel_path, &st) == 0 && !st.is_dir;
        kprintf("%-3d %-15s %-5u %-8s %-7s %-32s %s\n", e->m.id, e->m.name, e->m.smp_cores,
                size_text(e->m.memory_size, mem, sizeof(mem)), present ? "yes" : "no",
                e->m.kernel_path, e->source);
    }
    unsigned nrefused = guests_refused_count();
    for (unsigned i = 0; guests_refused(i, msg, sizeof(msg)) == 0; i++)
        kprintf("refused: %s\n", msg);
    kprintf("%d guest%s, %u manifest%s refused\n", n, n == 1 ? "" : "s", nrefused,
            nrefused == 1 ? "" : "s");
    kfree(e);
    return 0;
}

/* One file field of `guest info`: the path and whether it is there. */
static void info_file(const char *label, const char *path)
{
    struct vfs_stat st;
    int err;

    if (!path[0]) {
        kprintf("  %-10s none\n", label);
        return;
    }
    err = vfs_stat(path, &st);
    if (!err && st.is_dir)
        err = -EISDIR;
    if (err)
        kprintf("  %-10s %s (%s)\n", label, path, errno_str(err));
    else
        kprintf("  %-10s %s (%lu bytes)\n", label, path, (unsigned long)st.size);
}

static int guest_info(const char *id_or_name)
{
    struct guest_entry *e = guest_lookup(id_or_name);
    char mem[16];

    if (!e)
        return -ENOENT;
    const struct guest_manifest *m = &e->m;
    kprintf("guest %d: %s\n", m->id, m->name);
    kprintf("  %-10s %s\n", "source:", e->source);
    info_file("kernel:", m->kernel_path);
    info_file("dtb:", m->dtb_path);
    info_file("initrd:", m->initrd_path);
    if (m->load_addr)
        kprintf("  %-10s 0x%lx\n", "load_addr:", (unsigned long)m->load_addr);
    else
        kprintf("  %-10s default for the kernel's format\n", "load_addr:");
    if (m->entry)
        kprintf("  %-10s 0x%lx\n", "entry:", (unsigned long)m->entry);
    else
        kprintf("  %-10s default for the kernel's format\n", "entry:");
    kprintf("  %-10s %u\n", "vcpus:", m->smp_cores);
    kprintf("  %-10s %s at IPA 0x%lx-0x%lx\n",
            "memory:", size_text(m->memory_size, mem, sizeof(mem)), GUEST_RAM_BASE,
            (unsigned long)(GUEST_RAM_BASE + m->memory_size - 1));
    kprintf("  %-10s %s\n", "bootargs:", m->bootargs[0] ? m->bootargs : "none");
    kprintf("  %-10s %s\n", "on_fault:", manifest_fault_policy_name(m->on_fault));
    for (unsigned i = 0; i < m->ndevices; i++) {
        const struct guest_device *d = &m->devices[i];
        if (d->kind == GUEST_DEV_VIRTIO_BLK)
            kprintf("  device %u:  virtio-blk image=%s%s\n", i, d->image,
                    d->read_only ? " readonly" : "");
        else if (d->kind == GUEST_DEV_VIRTIO_NET && d->has_mac)
            kprintf("  device %u:  virtio-net switch=%s mac=%02x:%02x:%02x:%02x:%02x:%02x\n", i,
                    d->net_switch, d->mac[0], d->mac[1], d->mac[2], d->mac[3], d->mac[4],
                    d->mac[5]);
        else if (d->kind == GUEST_DEV_VIRTIO_NET)
            kprintf("  device %u:  virtio-net switch=%s mac derived from the name\n", i,
                    d->net_switch);
        else
            kprintf("  device %u:  passthrough %s@0x%lx size 0x%lx irq %u\n", i, d->label,
                    (unsigned long)d->base, (unsigned long)d->size, d->irq);
    }
    if (!m->ndevices)
        kprintf("  %-10s none\n", "devices:");
    kfree(e);
    return 0;
}

/* What the host uses itself, from the device tree and the disks it drives. */
static unsigned host_resources(struct guest_host_resource *res)
{
    static char disk_names[VIRTIO_BLK_MAX_DISKS][16];
    const struct {
        const struct fdt_region *r;
        uint32_t irq;
        const char *what;
    } fixed[] = {
        {&platform.gicd, 0, "GIC distributor"},
        {&platform.gicc, 0, "GIC CPU interface"},
        {&platform.gich, (uint32_t)platform.gic_maint_irq, "GIC hypervisor interface"},
        {&platform.gicv, 0, "GIC virtual CPU interface"},
        {&platform.gicr, 0, "GIC redistributors"},
        {&platform.uart, (uint32_t)platform.uart_irq, "console PL011"},
        {&platform.rtc, 0, "PL031 RTC"},
    };
    unsigned n = 0;

    for (int i = 0; i < platform.nmem; i++)
        res[n++] =
            (struct guest_host_resource){platform.mem[i].base, platform.mem[i].size, 0, "RAM"};
    for (unsigned i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        if (fixed[i].r->size || fixed[i].irq)
            res[n++] = (struct guest_host_resource){fixed[i].r->base, fixed[i].r->size,
                                                    fixed[i].irq, fixed[i].what};
    }
    for (int i = 0; i < virtio_blk_count() && i < VIRTIO_BLK_MAX_DISKS; i++) {
        struct virtio_blk_info info;
        uint64_t size = 0;
        if (virtio_blk_info(i, &info))
            continue;
        for (int s = 0; s < platform.nvirtio; s++) {
            if (platform.virtio[s].reg.base == info.dev.pa)
                size = platform.virtio[s].reg.size;
        }
        snprintf(disk_names[i], sizeof(disk_names[i]), "disk %s", info.name);
        res[n++] =
            (struct guest_host_resource){info.dev.pa, size, (uint32_t)info.dev.irq, disk_names[i]};
    }
    return n;
}

static void print_problem(void *ctx, const char *problem)
{
    kprintf("guest %s: %s\n", (const char *)ctx, problem);
}

/* Validate a guest; with start, also start it once it is valid. */
static int guest_validate_cmd(const char *id_or_name, bool start)
{
    struct guest_host_resource res[HOST_MAX_RESOURCES];
    struct guest_host host = {res, 0};
    struct guest_entry *e = guest_lookup(id_or_name);
    struct load_plan *plan = kmalloc(sizeof(*plan));
    int problems, err = 0;

    if (!e || !plan) {
        if (e && !plan)
            kprintf("guest: out of memory\n");
        kfree(e);
        kfree(plan);
        return e ? -ENOMEM : -ENOENT;
    }
    host.nres = host_resources(res);
    problems = guest_validate(&e->m, &host, plan, print_problem, e->m.name);
    if (problems)
        kprintf("guest %s: invalid (%d problem%s)%s\n", e->m.name, problems,
                problems == 1 ? "" : "s", start ? ", not started" : "");
    else if (start)
        err = vm_start(&e->m, plan);
    else
        kprintf("guest %s: valid (%s, entry 0x%lx, %lu MiB RAM, %u vCPU%s)\n", e->m.name,
                loader_format_name(plan->format), (unsigned long)plan->entry,
                (unsigned long)(e->m.memory_size >> 20), e->m.smp_cores,
                e->m.smp_cores == 1 ? "" : "s");
    kfree(plan);
    kfree(e);
    return problems ? -EINVAL : err;
}

static int guest_usage(void)
{
    kprintf("usage: guest list | info <id|name> | validate <id|name> | start <id|name>\n"
            "       guest stop <name> | status | console [name] | log <name> | mode all|focus\n");
    return -EINVAL;
}

static int cmd_guest(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "list"))
        return guest_list();
    if (argc == 3 && !strcmp(argv[1], "info"))
        return guest_info(argv[2]);
    if (argc == 3 && !strcmp(argv[1], "validate"))
        return guest_validate_cmd(argv[2], false);
    if (argc == 3 && !strcmp(argv[1], "start"))
        return guest_validate_cmd(argv[2], true);
    int err = guest_vm_command(argc, argv);
    return err == -ENOSYS ? guest_usage() : err;
}
SHELL_COMMAND(guest, "guest",
              "list | info | validate | start <id|name> | stop <name> | status | console [name] | "
              "log <name> | mode all|focus",
              "guests: manifests (built-in and /guests/*/guest.cfg), their VMs and consoles",
              cmd_guest);
#endif
