/* vm_passthrough.c - real devices given to a VM: registers mapped 1:1, the SPI routed to it. */
#include "vmm/vm_passthrough.h"

#include "arch/memlayout.h"
#include "drivers/gic.h"
#include "drivers/virtio_blk.h"
#include "kernel/platform.h"
#include "lib/errno.h"
#include "lib/fdt.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "vmm/stage2.h"
#include "vmm/vm.h"
#include "vmm/vm_dtb.h"

#define PAGE 0x1000UL

static spinlock_t owner_lock = SPINLOCK_INIT;
static struct vm *spi_owner[GIC_MAX_INTID]; /* owner_lock */

static bool overlaps(uint64_t a, uint64_t a_end, uint64_t b, uint64_t b_size)
{
    return b_size && a < b + b_size && b < a_end;
}

/*
 * Stage 2 maps whole 4 KiB pages: the pages around the device must hold nothing the host keeps
 * (RAM, its console, the GIC, the RTC). virtio-mmio slots are refused outright: a virtio device
 * does DMA to the addresses the guest gives it, and without an SMMU (QEMU virt has none) those
 * would be host physical addresses.
 */
static const char *host_conflict(uint64_t base, uint64_t end)
{
    const struct {
        const struct fdt_region *r;
        const char *what;
    } host[] = {
        {&platform.gicd, "the GIC distributor"},
        {&platform.gicc, "the GIC CPU interface"},
        {&platform.gich, "the GIC hypervisor interface"},
        {&platform.gicv, "the GIC"},
        {&platform.gicr, "the GIC redistributors"},
        {&platform.uart, "the host console"},
        {&platform.rtc, "the host's RTC"},
    };

    for (int i = 0; i < platform.nmem; i++) {
        if (overlaps(base, end, platform.mem[i].base, platform.mem[i].size))
            return "host RAM";
    }
    for (unsigned i = 0; i < sizeof(host) / sizeof(host[0]); i++) {
        if (overlaps(base, end, host[i].r->base, host[i].r->size))
            return host[i].what;
    }
    for (int i = 0; i < platform.nvirtio; i++) {
        if (overlaps(base, end, platform.virtio[i].reg.base, platform.virtio[i].reg.size))
            return "a virtio-mmio slot (virtio devices do DMA; there is no SMMU to confine it)";
    }
    return NULL;
}

static void passthrough_irq(unsigned int intid, void *arg)
{
    struct vm *vm;

    (void)arg;
    irq_disable_local(intid); /* level-triggered: quiet until the guest has handled it */
    spin_lock(&owner_lock);
    vm = spi_owner[intid];
    spin_unlock(&owner_lock);
    if (vm)
        vgic_set_level(&vm->vgic, 0, intid, true);
}

bool vm_passthrough_deactivated(struct vm *vm, uint32_t intid)
{
    if (intid >= GIC_MAX_INTID || spi_owner[intid] != vm)
        return false;
    vgic_set_level(&vm->vgic, 0, intid, false);
    irq_enable_local(intid); /* still asserted: it comes straight back */
    return true;
}

void vm_passthrough_detach(struct vm *vm)
{
    unsigned long flags = spin_lock_irqsave(&owner_lock);

    for (unsigned i = 0; i < GIC_MAX_INTID; i++) {
        if (spi_owner[i] == vm) {
            irq_disable_local(i);
            spi_owner[i] = NULL;
        }
    }
    spin_unlock_irqrestore(&owner_lock, flags);
}

int vm_passthrough_attach(struct vm *vm, char *msg, size_t len)
{
    for (unsigned i = 0; i < vm->m.ndevices; i++) {
        const struct guest_device *d = &vm->m.devices[i];
        if (d->kind != GUEST_DEV_PASSTHROUGH)
            continue;
        uint64_t base = d->base & ~(PAGE - 1), end = (d->base + d->size + PAGE - 1) & ~(PAGE - 1);
        const char *conflict = host_conflict(base, end);
        int err = 0;
        if (conflict) {
            snprintf(msg, len, "passthrough %s@0x%lx: its pages 0x%lx-0x%lx hold %s", d->label,
                     (unsigned long)d->base, (unsigned long)base, (unsigned long)end - 1, conflict);
            err = -EBUSY;
        }
        if (!err && d->irq) {
            unsigned long flags = spin_lock_irqsave(&owner_lock);
            if (spi_owner[d->irq])
                err = -EBUSY;
            else
                spi_owner[d->irq] = vm;
            spin_unlock_irqrestore(&owner_lock, flags);
            if (err)
                snprintf(msg, len, "passthrough %s@0x%lx: irq %u belongs to another VM", d->label,
                         (unsigned long)d->base, d->irq);
            else
                err = irq_register(d->irq, passthrough_irq, NULL);
            if (!err)
                vgic_set_notify(&vm->vgic, 0, d->irq, true);
        }
        if (!err)
            err = stage2_map(&vm->s2, base, base, end - base, S2_READ | S2_WRITE | S2_DEVICE);
        if (err) {
            if (!msg[0])
                snprintf(msg, len, "passthrough %s@0x%lx: %s", d->label, (unsigned long)d->base,
                         errno_str(err));
            vm_passthrough_detach(vm);
            return err;
        }
    }
    return 0;
}

/* The host tree's node at this address: its compatible list decides how the guest sees it. */
static bool host_node(uint64_t base, const char **compatible, bool *primecell)
{
    struct fdt fdt;
    struct fdt_iter it;
    struct fdt_node node;
    const void *blob = phys_to_virt(platform_dtb_pa);

    if (fdt_open(&fdt, blob, fdt_totalsize(blob), NULL, 0))
        return false;
    fdt_iter_init(&it);
    while (fdt_next_node(&fdt, &it, &node) > 0) {
        struct fdt_region r;
        if (fdt_node_reg(&fdt, &node, 0, &r) || r.base != base)
            continue;
        *compatible = fdt_prop_str(&fdt, &node, "compatible");
        *primecell = fdt_node_compatible(&fdt, &node, "arm,primecell");
        return *compatible != NULL;
    }
    return false;
}

void vm_passthrough_dtb(const struct vm *vm, struct vm_dtb_config *cfg)
{
    for (unsigned i = 0; i < vm->m.ndevices && cfg->npassthrough < VM_DTB_MAX_PASSTHROUGH; i++) {
        const struct guest_device *d = &vm->m.devices[i];
        const char *compatible = d->label;
        bool primecell = false;
        if (d->kind != GUEST_DEV_PASSTHROUGH)
            continue;
        host_node(d->base, &compatible, &primecell);
        cfg->passthrough[cfg->npassthrough].base = d->base;
        cfg->passthrough[cfg->npassthrough].size = d->size;
        cfg->passthrough[cfg->npassthrough].intid = d->irq;
        cfg->passthrough[cfg->npassthrough].compatible = compatible;
        cfg->passthrough[cfg->npassthrough].primecell = primecell;
        cfg->npassthrough++;
    }
}
