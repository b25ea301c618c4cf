/* gic.c - IRQ registration and dispatch on top of the version-specific GIC driver. */
#include "drivers/gic.h"
#include "arch/cpu.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"
#include "lib/errno.h"

struct irq_desc {
    irq_handler_t fn;
    void *arg;
    uint64_t count; /* updated by whichever CPU takes the interrupt; statistics only */
    bool forwarded; /* irq_set_forwarded: the handler deactivates, or a guest does */
};

static const struct gic_ops *gic;
static int gic_ver;
static struct irq_desc irq_table[GIC_MAX_INTID];
static spinlock_t irq_table_lock = SPINLOCK_INIT; /* protects fn/arg updates */

int irq_init(const struct fdt_platform *plat)
{
    if (plat->gic_version == 2)
        gic = &gicv2_ops;
    else if (plat->gic_version == 3)
        gic = &gicv3_ops;
    else
        return -ENODEV;
    gic_ver = plat->gic_version;
    return gic->init(plat);
}

void irq_cpu_init(void)
{
    gic->cpu_init();
}

int gic_version(void)
{
    return gic_ver;
}

int irq_register(unsigned int intid, irq_handler_t fn, void *arg)
{
    if (intid >= GIC_MAX_INTID || !fn)
        return -EINVAL;
    unsigned long flags = spin_lock_irqsave(&irq_table_lock);
    if (irq_table[intid].fn && irq_table[intid].fn != fn) {
        spin_unlock_irqrestore(&irq_table_lock, flags);
        return -EBUSY;
    }
    irq_table[intid].arg = arg;
    irq_table[intid].fn = fn;
    spin_unlock_irqrestore(&irq_table_lock, flags);
    gic->enable(intid);
    return 0;
}

void irq_route_here(unsigned int intid)
{
    if (intid >= 32 && intid < GIC_MAX_INTID)
        gic->route_here(intid);
}

void irq_enable_local(unsigned int intid)
{
    gic->enable(intid);
}

void irq_disable_local(unsigned int intid)
{
    gic->disable(intid);
}

void irq_set_forwarded(unsigned int intid, bool forwarded)
{
    if (intid < GIC_MAX_INTID)
        irq_table[intid].forwarded = forwarded;
}

void irq_deactivate(unsigned int intid)
{
    gic->deactivate(intid);
}

void irq_set_active_local(unsigned int intid, bool active)
{
    if (intid < 32)
        gic->set_active_local(intid, active);
}

void irq_send_ipi(unsigned int cpu, unsigned int sgi)
{
    gic->send_sgi(cpu, sgi);
}

uint64_t irq_count(unsigned int intid)
{
    return intid < GIC_MAX_INTID ? irq_table[intid].count : 0;
}

void irq_handle(void)
{
    for (;;) {
        uint32_t iar = gic->ack();
        uint32_t intid = iar & 0x3ff; /* GICv2 puts the source CPU of an SGI above bit 9 */

        if (intid >= GIC_MAX_INTID) /* 1020-1023: special/spurious, nothing pending */
            return;
        struct irq_desc *d = &irq_table[intid];
        d->count++;
        if (intid < 16)
            this_cpu()->ipis++;
        if (d->fn)
            d->fn(intid, d->arg);
        else
            kprintf("irq: unexpected interrupt %u on cpu%u (disabled)\n", intid, cpu_id());
        /* EOImode 1: the EOI drops the priority; deactivation is separate (GICC_DIR/ICC_DIR). */
        gic->eoi(iar);
        if (!d->fn)
            gic->disable(intid);
        if (!d->forwarded || !d->fn)
            gic->deactivate(iar);
    }
}
