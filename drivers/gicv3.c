/* gicv3.c - GICv3 distributor, redistributors and system-register CPU interface (Arm IHI 0069). */
#include "arch/cpu.h"
#include "arch/memlayout.h"
#include "arch/mmio.h"
#include "arch/sysreg.h"
#include "drivers/gic.h"
#include "kernel/printk.h"
#include "lib/errno.h"

#define GICD_CTLR       0x0000
#define GICD_TYPER      0x0004
#define GICD_IGROUPR    0x0080
#define GICD_ISENABLER  0x0100
#define GICD_ICENABLER  0x0180
#define GICD_ICPENDR    0x0280
#define GICD_IPRIORITYR 0x0400
#define GICD_IROUTER    0x6000

#define CTLR_RWP  (1u << 31)
#define CTLR_ARE  (1u << 4)
#define CTLR_GRP1 (1u << 1)

#define GICR_TYPER            0x0008
#define GICR_WAKER            0x0014
#define GICR_SGI              0x10000 /* SGI_base frame follows RD_base */
#define GICR_IGROUPR0         (GICR_SGI + 0x080)
#define GICR_ISENABLER0       (GICR_SGI + 0x100)
#define GICR_ICENABLER0       (GICR_SGI + 0x180)
#define GICR_ISACTIVER0       (GICR_SGI + 0x300)
#define GICR_ICACTIVER0       (GICR_SGI + 0x380)
#define GICR_IPRIORITYR       (GICR_SGI + 0x400)
#define GICR_FRAME            0x20000
#define TYPER_LAST            (1u << 4)
#define TYPER_VLPIS           (1u << 1)
#define WAKER_SLEEP           (1u << 1)
#define WAKER_CHILDREN_ASLEEP (1u << 2)

/* ICC_* system registers by encoding, so any assembler accepts them. */
#define ICC_PMR_EL1     S3_0_C4_C6_0
#define ICC_IAR1_EL1    S3_0_C12_C12_0
#define ICC_EOIR1_EL1   S3_0_C12_C12_1
#define ICC_BPR1_EL1    S3_0_C12_C12_3
#define ICC_CTLR_EL1    S3_0_C12_C12_4
#define ICC_SRE_EL1     S3_0_C12_C12_5
#define ICC_IGRPEN1_EL1 S3_0_C12_C12_7
#define ICC_SGI1R_EL1   S3_0_C12_C11_5
#define ICC_DIR_EL1     S3_0_C12_C11_1

#define ICC_CTLR_EOIMODE (1u << 1) /* ICC_EOIR1_EL1 drops priority, ICC_DIR_EL1 deactivates */

#define IRQ_PRIORITY 0xa0

static uintptr_t gicd, gicr_base;
static uint64_t gicr_size;
static unsigned int nr_lines;
static uintptr_t rdist[MAX_CPUS]; /* each CPU's RD_base, found by affinity */

static void gicd_wait_rwp(void)
{
    for (int i = 0; i < 1000000 && (mmio_read32(gicd + GICD_CTLR) & CTLR_RWP); i++)
        ;
}

static uint64_t mpidr_affinity(uint64_t mpidr)
{
    return (mpidr & 0xffffff) | ((mpidr >> 8) & 0xff000000);
}

static int gicv3_init(const struct fdt_platform *plat)
{
    if (!plat->gicd.size || !plat->gicr.size)
        return -ENODEV;
    gicd = (uintptr_t)phys_to_virt(plat->gicd.base);
    gicr_base = (uintptr_t)phys_to_virt(plat->gicr.base);
    gicr_size = plat->gicr.size;
    nr_lines = 32 * ((mmio_read32(gicd + GICD_TYPER) & 0x1f) + 1);
    if (nr_lines > GIC_MAX_INTID)
        nr_lines = GIC_MAX_INTID;

    mmio_write32(gicd + GICD_CTLR, 0);
    gicd_wait_rwp();
    for (unsigned int i = 32; i < nr_lines; i += 32) {
        mmio_write32(gicd + GICD_ICENABLER + i / 8, 0xffffffff);
        mmio_write32(gicd + GICD_ICPENDR + i / 8, 0xffffffff);
        mmio_write32(gicd + GICD_IGROUPR + i / 8, 0xffffffff); /* all Group 1 */
    }
    for (unsigned int i = 32; i < nr_lines; i += 4)
        mmio_write32(gicd + GICD_IPRIORITYR + i, 0x01010101u * IRQ_PRIORITY);
    gicd_wait_rwp();
    mmio_write32(gicd + GICD_CTLR, CTLR_ARE | CTLR_GRP1);
    gicd_wait_rwp();
    return 0;
}

static uintptr_t find_redistributor(uint64_t mpidr)
{
    uint64_t want = mpidr_affinity(mpidr);

    for (uint64_t off = 0; off + GICR_FRAME <= gicr_size;) {
        uintptr_t rd = gicr_base + off;
        uint64_t typer = mmio_read64(rd + GICR_TYPER);

        if ((typer >> 32) == want)
            return rd;
        if (typer & TYPER_LAST)
            break;
        off += (typer & TYPER_VLPIS) ? 2 * GICR_FRAME : GICR_FRAME;
    }
    return 0;
}

static void gicv3_cpu_init(void)
{
    struct percpu *c = this_cpu();
    uintptr_t rd = find_redistributor(read_sysreg(mpidr_el1));

    if (!rd) {
        kprintf("gicv3: no redistributor for cpu%u (mpidr 0x%lx)\n", c->id,
                (unsigned long)c->mpidr);
        return;
    }
    rdist[c->id] = rd;
    mmio_write32(rd + GICR_WAKER, mmio_read32(rd + GICR_WAKER) & ~WAKER_SLEEP);
    for (int i = 0; i < 1000000 && (mmio_read32(rd + GICR_WAKER) & WAKER_CHILDREN_ASLEEP); i++)
        ;
    mmio_write32(rd + GICR_ICENABLER0, 0xffffffff);
    mmio_write32(rd + GICR_IGROUPR0, 0xffffffff);
    for (unsigned int i = 0; i < 32; i += 4)
        mmio_write32(rd + GICR_IPRIORITYR + i, 0x01010101u * IRQ_PRIORITY);

    write_sysreg(ICC_SRE_EL1, read_sysreg(ICC_SRE_EL1) | 1);
    isb();
    write_sysreg(ICC_PMR_EL1, 0xff);
    write_sysreg(ICC_BPR1_EL1, 0);
    write_sysreg(ICC_CTLR_EL1, ICC_CTLR_EOIMODE);
    write_sysreg(ICC_IGRPEN1_EL1, 1);
    isb();
}

static void gicv3_route_here(unsigned int intid)
{
    mmio_write64(gicd + GICD_IROUTER + 8 * intid, mpidr_affinity(read_sysreg(mpidr_el1)));
}

static void gicv3_enable(unsigned int intid)
{
    if (intid < 32) {
        uintptr_t rd = rdist[cpu_id()];

        if (rd)
            mmio_write32(rd + GICR_ISENABLER0, 1u << intid);
        return;
    }
    gicv3_route_here(intid);
    mmio_write32(gicd + GICD_ISENABLER + (intid / 32) * 4, 1u << (intid % 32));
}

static void gicv3_disable(unsigned int intid)
{
    if (intid < 32) {
        uintptr_t rd = rdist[cpu_id()];

        if (rd)
            mmio_write32(rd + GICR_ICENABLER0, 1u << intid);
        return;
    }
    mmio_write32(gicd + GICD_ICENABLER + (intid / 32) * 4, 1u << (intid % 32));
}

static uint32_t gicv3_ack(void)
{
    uint32_t iar = (uint32_t)read_sysreg(ICC_IAR1_EL1);

    __asm__ volatile("dsb sy" ::: "memory");
    return iar;
}

static void gicv3_eoi(uint32_t iar)
{
    write_sysreg(ICC_EOIR1_EL1, iar);
    isb();
}

static void gicv3_deactivate(uint32_t iar)
{
    write_sysreg(ICC_DIR_EL1, iar);
    isb();
}

static void gicv3_set_active_local(unsigned int intid, bool active)
{
    uintptr_t rd = rdist[cpu_id()];

    if (rd)
        mmio_write32(rd + (active ? GICR_ISACTIVER0 : GICR_ICACTIVER0), 1u << intid);
}

static void gicv3_send_sgi(unsigned int cpu, unsigned int sgi)
{
    uint64_t mpidr = percpu_data[cpu].mpidr;
    uint64_t v = ((uint64_t)(sgi & 0xf) << 24) | (((mpidr >> 8) & 0xff) << 16) |
                 (((mpidr >> 16) & 0xff) << 32) | (((mpidr >> 32) & 0xff) << 48) |
                 (1u << (mpidr & 0xf));

    __asm__ volatile("dsb ishst" ::: "memory");
    write_sysreg(ICC_SGI1R_EL1, v);
    isb();
}

const struct gic_ops gicv3_ops = {
    .name = "GICv3",
    .init = gicv3_init,
    .cpu_init = gicv3_cpu_init,
    .enable = gicv3_enable,
    .route_here = gicv3_route_here,
    .disable = gicv3_disable,
    .ack = gicv3_ack,
    .eoi = gicv3_eoi,
    .deactivate = gicv3_deactivate,
    .set_active_local = gicv3_set_active_local,
    .send_sgi = gicv3_send_sgi,
};
