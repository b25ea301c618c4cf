/* gicv2.c - GICv2 distributor and CPU interface (Arm IHI 0048B). */
#include "arch/cpu.h"
#include "arch/memlayout.h"
#include "arch/mmio.h"
#include "drivers/gic.h"
#include "lib/errno.h"

#define GICD_CTLR       0x000
#define GICD_TYPER      0x004
#define GICD_ISENABLER  0x100
#define GICD_ICENABLER  0x180
#define GICD_ICPENDR    0x280
#define GICD_ISACTIVER  0x300
#define GICD_ICACTIVER  0x380
#define GICD_IPRIORITYR 0x400
#define GICD_ITARGETSR  0x800
#define GICD_SGIR       0xf00

#define GICC_CTLR 0x000
#define GICC_PMR  0x004
#define GICC_BPR  0x008
#define GICC_IAR  0x00c
#define GICC_EOIR 0x010
#define GICC_DIR  0x1000

#define GICC_CTLR_ENABLE  1u
#define GICC_CTLR_EOIMODE (1u << 9) /* GICC_EOIR drops priority, GICC_DIR deactivates */

#define IRQ_PRIORITY 0xa0

static uintptr_t gicd, gicc;
static unsigned int nr_lines;

static int gicv2_init(const struct fdt_platform *plat)
{
    if (!plat->gicd.size || !plat->gicc.size)
        return -ENODEV;
    gicd = (uintptr_t)phys_to_virt(plat->gicd.base);
    gicc = (uintptr_t)phys_to_virt(plat->gicc.base);
    nr_lines = 32 * ((mmio_read32(gicd + GICD_TYPER) & 0x1f) + 1);
    if (nr_lines > GIC_MAX_INTID)
        nr_lines = GIC_MAX_INTID;

    mmio_write32(gicd + GICD_CTLR, 0);
    for (unsigned int i = 32; i < nr_lines; i += 32) {
        mmio_write32(gicd + GICD_ICENABLER + i / 8, 0xffffffff);
        mmio_write32(gicd + GICD_ICPENDR + i / 8, 0xffffffff);
    }
    for (unsigned int i = 32; i < nr_lines; i += 4)
        mmio_write32(gicd + GICD_IPRIORITYR + i, 0x01010101u * IRQ_PRIORITY);
    mmio_write32(gicd + GICD_CTLR, 1);
    return 0;
}

static void gicv2_cpu_init(void)
{
    /* ITARGETSR0..7 are banked: byte 0 reads as this CPU's own interface mask. */
    this_cpu()->gic_cpu_if = mmio_read32(gicd + GICD_ITARGETSR) & 0xff;
    mmio_write32(gicd + GICD_ICENABLER, 0xffffffff);
    for (unsigned int i = 0; i < 32; i += 4)
        mmio_write32(gicd + GICD_IPRIORITYR + i, 0x01010101u * IRQ_PRIORITY);
    mmio_write32(gicc + GICC_PMR, 0xff);
    mmio_write32(gicc + GICC_BPR, 0);
    mmio_write32(gicc + GICC_CTLR, GICC_CTLR_ENABLE | GICC_CTLR_EOIMODE);
}

static void gicv2_route_here(unsigned int intid)
{
    /* Byte access to ITARGETSR is allowed by the architecture. */
    mmio_write8(gicd + GICD_ITARGETSR + intid, (uint8_t)this_cpu()->gic_cpu_if);
}

static void gicv2_enable(unsigned int intid)
{
    if (intid >= 32)
        gicv2_route_here(intid);
    mmio_write32(gicd + GICD_ISENABLER + (intid / 32) * 4, 1u << (intid % 32));
}

static void gicv2_disable(unsigned int intid)
{
    mmio_write32(gicd + GICD_ICENABLER + (intid / 32) * 4, 1u << (intid % 32));
}

static uint32_t gicv2_ack(void)
{
    uint32_t iar = mmio_read32(gicc + GICC_IAR);

    return (iar & 0x3ff) >= 1020 ? GIC_SPURIOUS : iar;
}

static void gicv2_eoi(uint32_t iar)
{
    mmio_write32(gicc + GICC_EOIR, iar);
}

static void gicv2_deactivate(uint32_t iar)
{
    mmio_write32(gicc + GICC_DIR, iar);
}

/* GICD_I[SC]ACTIVER0 are banked per CPU: this CPU's SGIs and PPIs. */
static void gicv2_set_active_local(unsigned int intid, bool active)
{
    mmio_write32(gicd + (active ? GICD_ISACTIVER : GICD_ICACTIVER), 1u << intid);
}

static void gicv2_send_sgi(unsigned int cpu, unsigned int sgi)
{
    /* Prior writes must be visible before the target sees the interrupt. */
    __asm__ volatile("dsb ishst" ::: "memory");
    mmio_write32(gicd + GICD_SGIR, ((uint32_t)percpu_data[cpu].gic_cpu_if << 16) | (sgi & 0xf));
}

const struct gic_ops gicv2_ops = {
    .name = "GICv2",
    .init = gicv2_init,
    .cpu_init = gicv2_cpu_init,
    .enable = gicv2_enable,
    .route_here = gicv2_route_here,
    .disable = gicv2_disable,
    .ack = gicv2_ack,
    .eoi = gicv2_eoi,
    .deactivate = gicv2_deactivate,
    .set_active_local = gicv2_set_active_local,
    .send_sgi = gicv2_send_sgi,
};
