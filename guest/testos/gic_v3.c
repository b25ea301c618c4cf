/* gic_v3.c - TestOS's GICv3 driver: distributor, redistributors, ICC_* registers (IHI 0069). */
#include "check.h"
#include "gic.h"
#include "platform.h"
#include "smp.h"

#define GICD_CTLR_RWP  (1u << 31)
#define GICD_CTLR_ARE  (1u << 4)
#define GICD_CTLR_GRP1 (1u << 1) /* EnableGrp1 (one security state) or EnableGrp1NS */
#define GICR_TYPER     0x0008
#define GICR_WAKER     0x0014
#define GICR_SGI_BASE  0x10000
#define TYPER_VLPIS    (1u << 1)
#define TYPER_LAST     (1u << 4)
#define WAKER_SLEEP    (1u << 1)
#define WAKER_ASLEEP   (1u << 2)

/* Affinity-routed: groups are enabled only after ARE, each write waits for RWP (12.9.4). */
static void v3_init(void)
{
    uintptr_t d = platform.gicd;

    mmio_write32(d + GICD_CTLR, GICD_CTLR_ARE);
    if (!gic_wait_clear(d + GICD_CTLR, GICD_CTLR_RWP))
        check_fail("gic", "GICD_CTLR.RWP stays set");
    mmio_write32(d + GICD_CTLR, GICD_CTLR_ARE | GICD_CTLR_GRP1);
    if (!gic_wait_clear(d + GICD_CTLR, GICD_CTLR_RWP))
        check_fail("gic", "GICD_CTLR.RWP stays set");
}

/* MPIDR affinity in GICR_TYPER's packing: Aff3.Aff2.Aff1.Aff0. */
static uint32_t v3_affinity(uint64_t mpidr)
{
    return (uint32_t)((mpidr >> 8) & 0xff000000) | (uint32_t)(mpidr & 0xffffff);
}

static uintptr_t v3_find_redistributor(uint64_t mpidr)
{
    uintptr_t rd = platform.gicr, end = platform.gicr + platform.gicr_size;

    while (rd + GICR_SGI_BASE + 0x10000 <= end) {
        uint64_t typer = mmio_read64(rd + GICR_TYPER);
        if ((uint32_t)(typer >> 32) == v3_affinity(mpidr))
            return rd;
        if (typer & TYPER_LAST)
            break;
        rd += (typer & TYPER_VLPIS) ? 0x40000 : 0x20000;
    }
    return 0;
}

static void v3_cpu_init(void)
{
    struct cpu *me = smp_this_cpu();
    uintptr_t sgi;

    me->gicr = v3_find_redistributor(me->mpidr);
    if (!me->gicr)
        check_fail("gic", "no redistributor for MPIDR 0x%lx in 0x%lx+0x%lx", me->mpidr,
                   platform.gicr, platform.gicr_size);
    mmio_write32(me->gicr + GICR_WAKER, mmio_read32(me->gicr + GICR_WAKER) & ~WAKER_SLEEP);
    if (!gic_wait_clear(me->gicr + GICR_WAKER, WAKER_ASLEEP))
        check_fail("gic", "redistributor of cpu%u stays asleep", me->index);
    sgi = me->gicr + GICR_SGI_BASE;
    mmio_write32(sgi + GICD_IGROUPR, 0xffffffff); /* SGIs and PPIs in group 1 */

    write_sysreg(ICC_SRE_EL1, read_sysreg(ICC_SRE_EL1) | 1);
    isb();
    if (!(read_sysreg(ICC_SRE_EL1) & 1))
        check_fail("gic", "ICC_SRE_EL1.SRE stays 0: no system register interface");
    write_sysreg(ICC_PMR_EL1, 0xff);
    write_sysreg(ICC_BPR1_EL1, 0);
    write_sysreg(ICC_CTLR_EL1, 0); /* EOImode 0: EOIR also deactivates */
    write_sysreg(ICC_IGRPEN1_EL1, 1);
    isb();
}

static void v3_enable_irq(unsigned int intid)
{
    uintptr_t d = platform.gicd;

    if (intid < 32) {
        uintptr_t sgi = smp_this_cpu()->gicr + GICR_SGI_BASE;
        gic_set_byte(sgi + GICD_IPRIORITYR, intid, GIC_PRIORITY);
        mmio_write32(sgi + GICD_ISENABLER, 1u << intid);
        return;
    }
    uintptr_t group = d + GICD_IGROUPR + 4 * (intid / 32);
    mmio_write32(group, mmio_read32(group) | 1u << (intid % 32));
    gic_set_byte(d + GICD_IPRIORITYR, intid, GIC_PRIORITY);
    gic_set_level_triggered(d + GICD_ICFGR, intid);
    uint64_t boot = smp_cpus[0].mpidr;
    mmio_write64(d + GICD_IROUTER + 8 * intid, boot & MPIDR_AFF_MASK);
    mmio_write32(d + GICD_ISENABLER + 4 * (intid / 32), 1u << (intid % 32));
}

/* ICC_SGI1R_EL1: Aff3.Aff2.Aff1 of the target, RS selects the 16-CPU range of Aff0 (12.2.22). */
static void v3_send_sgi(unsigned int cpu_index, unsigned int intid)
{
    uint64_t mpidr = smp_cpus[cpu_index].mpidr;
    uint64_t aff0 = mpidr & 0xff;
    uint64_t val = ((mpidr >> 32) & 0xff) << 48 | ((mpidr >> 16) & 0xff) << 32 | (aff0 / 16) << 44 |
                   ((mpidr >> 8) & 0xff) << 16 | (uint64_t)intid << 24 | 1u << (aff0 % 16);

    write_sysreg(ICC_SGI1R_EL1, val);
    isb();
}

static uint32_t v3_ack(void)
{
    uint32_t iar = (uint32_t)read_sysreg(ICC_IAR1_EL1);

    __asm__ volatile("dsb sy" ::: "memory"); /* acknowledge before reading the device */
    return iar;
}

static void v3_eoi(uint32_t iar)
{
    write_sysreg(ICC_EOIR1_EL1, iar);
    isb();
}

const struct gic_ops gic_v3_ops = {
    .init = v3_init,
    .cpu_init = v3_cpu_init,
    .enable_irq = v3_enable_irq,
    .send_sgi = v3_send_sgi,
    .ack = v3_ack,
    .eoi = v3_eoi,
    .pidr2 = GICD_PIDR2_V3,
    .intid_mask = 0xffffff,
};
