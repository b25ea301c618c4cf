/* vm_net.c - a VM's virtio-net NICs: the device model (vvirtio_net*.c) on a switch port. */
#include "vmm/vm_net.h"

#include "arch/memlayout.h"
#include "kernel/kmalloc.h"
#include "kernel/spinlock.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "vmm/layout.h"
#include "vmm/vm.h"
#include "vmm/vm_disk.h"
#include "vmm/vswitch.h"
#include "vmm/vvirtio_net.h"

/** One NIC. Everything is fixed while it exists; the device has its own lock. */
struct vm_net {
    struct vm *vm;
    unsigned slot; /* its virtio-mmio slot */
    char sw[VSWITCH_NAME_MAX];
    struct vswitch_port *port;
    struct vvirtio_net dev;
};

/*
 * Every NIC that exists, for `net status`: the shell reads them while VMs stop. vm_net_lock
 * protects the table; it is taken before a device's lock, never under it or a switch's.
 */
#define VM_NET_MAX (VM_MAX * GUEST_MAX_DEVICES)
static struct vm_net *vm_net_table[VM_NET_MAX];
static spinlock_t vm_net_lock = SPINLOCK_INIT;

/* Guest RAM is host memory in the linear map, contiguous within each VM_RAM_CHUNK. */
static void *net_map(void *ctx, uint64_t ipa, uint64_t len, uint64_t *contiguous)
{
    uint64_t n, pa = vm_ram_pa(((struct vm_net *)ctx)->vm, ipa, &n);

    if (!pa)
        return NULL;
    *contiguous = n < len ? n : len;
    return phys_to_virt(pa);
}

static void net_irq(void *ctx, bool level)
{
    struct vm_net *n = ctx;

    vgic_set_level(&n->vm->vgic, 0, VM_VIRTIO_INTID(n->slot), level);
}

static void net_send(void *ctx, const void *frame, size_t len)
{
    vswitch_send(((struct vm_net *)ctx)->port, frame, len);
}

static void net_send_flush(void *ctx)
{
    vswitch_flush(((struct vm_net *)ctx)->port);
}

static const struct vvirtio_net_ops net_dev_ops = {net_map, net_irq, net_send, net_send_flush};

static bool net_deliver(void *ctx, const void *frame, size_t len)
{
    return vvirtio_net_rx(&((struct vm_net *)ctx)->dev, frame, len);
}

static void net_deliver_flush(void *ctx)
{
    vvirtio_net_rx_flush(&((struct vm_net *)ctx)->dev);
}

static const struct vswitch_port_ops net_port_ops = {net_deliver, net_deliver_flush};

/* FNV-1a over the name (case folded: names are case-insensitive) and the NIC's index. */
void vm_net_derive_mac(const char *vm_name, unsigned nic, uint8_t mac[6])
{
    uint64_t h = 14695981039346656037ull;

    for (const char *c = vm_name; *c; c++)
        h = (h ^ (uint8_t)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c)) * 1099511628211ull;
    h = (h ^ nic) * 1099511628211ull;
    /* 02: locally administered (U/L bit set), individual (I/G bit clear): IEEE 802, 8.2. */
    mac[0] = 0x02;
    for (unsigned i = 1; i < 6; i++)
        mac[i] = (uint8_t)(h >> (8 * i));
}

static bool net_register(struct vm_net *n)
{
    unsigned long flags = spin_lock_irqsave(&vm_net_lock);
    bool done = false;

    for (unsigned i = 0; i < VM_NET_MAX && !done; i++) {
        if (!vm_net_table[i]) {
            vm_net_table[i] = n;
            done = true;
        }
    }
    spin_unlock_irqrestore(&vm_net_lock, flags);
    return done;
}

static void net_unregister(struct vm_net *n)
{
    unsigned long flags = spin_lock_irqsave(&vm_net_lock);

    for (unsigned i = 0; i < VM_NET_MAX; i++) {
        if (vm_net_table[i] == n)
            vm_net_table[i] = NULL;
    }
    spin_unlock_irqrestore(&vm_net_lock, flags);
}

static int net_open(struct vm *vm, const struct guest_device *gd, unsigned nic, char *msg,
                    size_t len)
{
    struct vm_net *n = kzalloc(sizeof(*n));
    uint8_t mac[6];

    if (!n || !net_register(n)) {
        snprintf(msg, len, "virtio-net: out of memory");
        kfree(n);
        return -ENOMEM;
    }
    n->vm = vm;
    n->slot = vm->nr_disks + nic;
    memcpy(n->sw, gd->net_switch, sizeof(n->sw));
    if (gd->has_mac)
        memcpy(mac, gd->mac, sizeof(mac));
    else
        vm_net_derive_mac(vm->m.name, nic, mac);
    vvirtio_net_init(&n->dev, mac, &net_dev_ops, n);
    n->port = vswitch_attach(n->sw, vm->m.name, &net_port_ops, n);
    if (!n->port) {
        snprintf(msg, len, "virtio-net: switch %s has no free port", n->sw);
        net_unregister(n);
        kfree(n);
        return -ENOSPC;
    }
    vm->nets[vm->nr_nets++] = n;
    return 0;
}

/* A transmit notify sends the queue's frames here, in the vCPU: bounded, it never sleeps. */
static int net_mmio_read(void *ctx, struct vcpu *v, uint64_t off, unsigned size, uint64_t *val)
{
    (void)v;
    return vvirtio_net_read(&((struct vm_net *)ctx)->dev, off, size, val);
}

static int net_mmio_write(void *ctx, struct vcpu *v, uint64_t off, unsigned size, uint64_t val)
{
    (void)v;
    return vvirtio_net_write(&((struct vm_net *)ctx)->dev, off, size, val);
}

static const struct mmio_ops net_mmio_ops = {net_mmio_read, net_mmio_write};

int vm_nets_open(struct vm *vm, char *msg, size_t len)
{
    vm->nr_nets = 0;
    for (unsigned i = 0; i < vm->m.ndevices; i++) {
        int err;

        if (vm->m.devices[i].kind != GUEST_DEV_VIRTIO_NET)
            continue;
        err = net_open(vm, &vm->m.devices[i], vm->nr_nets, msg, len);
        if (!err) {
            /* The NICs take the virtio-mmio slots after the disks (vm_dtb.c). */
            struct vm_net *n = vm->nets[vm->nr_nets - 1];
            err = mmio_bus_register(&vm->bus, GUEST_VIRTIO_BASE + n->slot * GUEST_VIRTIO_SLOT_SIZE,
                                    GUEST_VIRTIO_SLOT_SIZE, &net_mmio_ops, n);
            if (err)
                snprintf(msg, len, "no room for its NIC's registers (%s)", errno_str(err));
        }
        if (err) {
            vm_nets_close(vm);
            return err;
        }
    }
    return 0;
}

void vm_nets_close(struct vm *vm)
{
    for (unsigned i = 0; i < vm->nr_nets; i++) {
        struct vm_net *n = vm->nets[i];

        vswitch_detach(n->port);
        net_unregister(n);
        kfree(n);
        vm->nets[i] = NULL;
    }
    vm->nr_nets = 0;
}

void vm_nets_report(void (*line)(void *arg, const char *text), void *arg)
{
    for (unsigned i = 0; i < VM_NET_MAX; i++) {
        struct vvirtio_net_stats s;
        char text[256];
        unsigned long flags = spin_lock_irqsave(&vm_net_lock);
        struct vm_net *n = vm_net_table[i];
        const uint8_t *m = n ? n->dev.mac : NULL;

        if (n) {
            vvirtio_net_get_stats(&n->dev, &s);
            snprintf(text, sizeof(text),
                     "nic %s %02x:%02x:%02x:%02x:%02x:%02x on %s: tx %lu frames, rx %lu frames, "
                     "drops: tx bad descriptor %lu, tx bad length %lu, rx no buffer %lu, "
                     "rx bad buffer %lu, ring errors %lu",
                     n->vm->m.name, m[0], m[1], m[2], m[3], m[4], m[5], n->sw,
                     (unsigned long)s.tx_frames, (unsigned long)s.rx_frames,
                     (unsigned long)s.tx_bad_desc, (unsigned long)s.tx_bad_len,
                     (unsigned long)s.rx_no_buffer, (unsigned long)s.rx_bad_buffer,
                     (unsigned long)s.ring_errors);
        }
        spin_unlock_irqrestore(&vm_net_lock, flags);
        if (n)
            line(arg, text);
    }
}
