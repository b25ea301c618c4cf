/* gic_v2.c - TestOS's GICv2 driver: memory-mapped distributor and CPU interface (IHI 0048B). */
#include "check.h"
#include "gic.h"
#include "platform.h"
#include "smp.h"

#define GICC_CTLR 0x00
#define GICC_PMR  0x04
#define GICC_IAR  0x0c
#define GICC_EOIR 0x10

/* Without the Security Extensions (QEMU virt, and a VM's GICV) everything is group 0 and is
 * signalled as IRQ while GICC_CTLR.FIQEn is 0: one enable bit on each side suffices. */
static void v2_init(void)
{
    mmio_write32(platform.gicd + GICD_CTLR, 1);
}

static void v2_cpu_init(void)
{
    struct cpu *me = smp_this_cpu();

    /* GICD_ITARGETSR0 is banked: it reads as the calling CPU's own interface bit (4.3.12);
     * uniprocessor GICs make it RAZ, and then there is no one else to target. */
    me->gic_target = mmio_read32(platform.gicd + GICD_ITARGETSR) & 0xff;
    if (!me->gic_target && platform.ncpus > 1)
        check_fail("gic", "GICD_ITARGETSR0 reads 0 on cpu%u of %u", me->index, platform.ncpus);
    mmio_write32(platform.gicc + GICC_PMR, 0xff);
    mmio_write32(platform.gicc + GICC_CTLR, 1);
}

static void v2_enable_irq(unsigned int intid)
{
    uintptr_t d = platform.gicd;

    gic_set_byte(d + GICD_IPRIORITYR, intid, GIC_PRIORITY);
    if (intid >= 32) {
        uint32_t target = smp_cpus[0].gic_target ? smp_cpus[0].gic_target : 1;
        gic_set_byte(d + GICD_ITARGETSR, intid, (uint8_t)target);
        gic_set_level_triggered(d + GICD_ICFGR, intid);
    }
    mmio_write32(d + GICD_ISENABLER + 4 * (intid / 32), 1u << (intid % 32));
}

static void v2_send_sgi(unsigned int cpu_index, unsigned int intid)
{
    mmio_write32(platform.gicd + GICD_SGIR, smp_cpus[cpu_index].gic_target << 16 | intid);
}

static uint32_t v2_ack(void)
{
    return mmio_read32(platform.gicc + GICC_IAR);
}

static void v2_eoi(uint32_t iar)
{
    mmio_write32(platform.gicc + GICC_EOIR, iar); /* with the source CPU bits for SGIs */
}

const struct gic_ops gic_v2_ops = {
    .init = v2_init,
    .cpu_init = v2_cpu_init,
    .enable_irq = v2_enable_irq,
    .send_sgi = v2_send_sgi,
    .ack = v2_ack,
    .eoi = v2_eoi,
    .pidr2 = GICD_PIDR2_V2,
    .intid_mask = 0x3ff,
};
