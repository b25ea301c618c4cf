/* test_vgic.c - the virtual GIC: guest register sequences as Linux issues them, LRs, routing. */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/errno.h"
#include "test.h"
#include "vmm/vgic.h"

#include "../../vmm/vgic_priv.h"

/* Distributor registers (GICv2 IHI 0048B 4.1.2, GICv3 IHI 0069 12.9). */
#define GICD_CTLR       0x000
#define GICD_TYPER      0x004
#define GICD_IIDR       0x008
#define GICD_IGROUPR    0x080
#define GICD_ISENABLER  0x100
#define GICD_ICENABLER  0x180
#define GICD_ISPENDR    0x200
#define GICD_ICPENDR    0x280
#define GICD_ISACTIVER  0x300
#define GICD_ICACTIVER  0x380
#define GICD_IPRIORITYR 0x400
#define GICD_ITARGETSR  0x800
#define GICD_ICFGR      0xc00
#define GICD_SGIR       0xf00
#define GICD_CPENDSGIR  0xf10
#define GICD_SPENDSGIR  0xf20
#define GICD_PIDR2_V2   0xfe8
#define GICD_PIDR2_V3   0xffe8
#define GICD_IROUTER    0x6000
#define RD(n)           (VGIC_REDIST_OFFSET_V3 + (uint64_t)(n)*VGIC_REDIST_STRIDE_V3)
#define SGI(n)          (RD(n) + 0x10000)
#define GICR_TYPER      0x008
#define GICR_WAKER      0x014

#define UART_SPI   33
#define VTIMER_PPI 27

/** What the callbacks saw; each checks it was called with the vGIC lock free. */
static struct {
    unsigned kicks[VGIC_MAX_VCPUS];
    unsigned nr_deact;
    unsigned deact_vcpu[8];
    uint32_t deact_intid[8];
    bool lower_on_deact; /* the deactivated callback lowers the line, as the vtimer does */
    bool locked_call;    /* a callback ran with the lock held */
} rec;

static struct vgic vg;

static void lock_is_free(void)
{
    if (spin_trylock(&vg.lock))
        spin_unlock(&vg.lock);
    else
        rec.locked_call = true;
}

static void on_kick(void *ctx, unsigned vcpu)
{
    CHECK(ctx == &rec);
    CHECK(vcpu < vg.nr_vcpus);
    lock_is_free();
    rec.kicks[vcpu]++;
}

static void on_deactivated(void *ctx, unsigned vcpu, uint32_t intid)
{
    CHECK(ctx == &rec);
    lock_is_free();
    if (rec.nr_deact < 8) {
        rec.deact_vcpu[rec.nr_deact] = vcpu;
        rec.deact_intid[rec.nr_deact] = intid;
    }
    rec.nr_deact++;
    if (rec.lower_on_deact)
        vgic_set_level(&vg, vcpu, intid, false);
}

static const struct vgic_ops ops = {on_kick, on_deactivated, NULL};

static void setup(unsigned version, unsigned nr_vcpus)
{
    memset(&rec, 0, sizeof(rec));
    CHECK_EQ(vgic_init(&vg, version, nr_vcpus, &ops, &rec), 0);
}

static void clear_kicks(void)
{
    memset(rec.kicks, 0, sizeof(rec.kicks));
}

static uint64_t rd(unsigned vcpu, uint64_t off, unsigned size)
{
    uint64_t v = 0xdead;

    CHECK_EQ(vgic_mmio_read(&vg, vcpu, off, size, &v), 0);
    return v;
}

static void wr(unsigned vcpu, uint64_t off, unsigned size, uint64_t v)
{
    CHECK_EQ(vgic_mmio_write(&vg, vcpu, off, size, v), 0);
}

static struct vgic_lr lrs[VGIC_MAX_LRS];
static bool more;

static unsigned flush(unsigned vcpu, unsigned max)
{
    return vgic_flush(&vg, vcpu, lrs, max, &more);
}

/* The guest ran: every LR of the last flush comes back in state. */
static void sync_as(unsigned vcpu, unsigned n, uint8_t state)
{
    for (unsigned i = 0; i < n; i++)
        lrs[i].state = state;
    vgic_sync(&vg, vcpu, lrs, n);
}

/* Linux irq-gic.c gic_dist_init + gic_cpu_init for every CPU (priority 0xa0 everywhere). */
static void linux_v2_init(void)
{
    wr(0, GICD_CTLR, 4, 0);
    unsigned lines = ((rd(0, GICD_TYPER, 4) & 0x1f) + 1) * 32;
    uint32_t mask = 0;

    for (unsigned i = 0; i < 32; i += 4)
        mask |= (uint32_t)rd(0, GICD_ITARGETSR + i, 4);
    mask |= mask >> 16;
    mask |= mask >> 8;
    mask &= 0xff;
    mask |= mask << 8;
    mask |= mask << 16;
    for (unsigned i = 32; i < lines; i += 16)
        wr(0, GICD_ICFGR + i / 4, 4, 0);
    for (unsigned i = 32; i < lines; i += 4) {
        wr(0, GICD_ITARGETSR + i, 4, mask);
        wr(0, GICD_IPRIORITYR + i, 4, 0xa0a0a0a0);
    }
    for (unsigned i = 32; i < lines; i += 32) {
        wr(0, GICD_ICACTIVER + i / 8, 4, ~0u);
        wr(0, GICD_ICENABLER + i / 8, 4, ~0u);
    }
    wr(0, GICD_CTLR, 4, 1);
    for (unsigned cpu = 0; cpu < vg.nr_vcpus; cpu++) {
        wr(cpu, GICD_ICACTIVER, 4, ~0u);
        wr(cpu, GICD_ICENABLER, 4, 0xffff0000);
        wr(cpu, GICD_ISENABLER, 4, 0x0000ffff);
        for (unsigned i = 0; i < 32; i += 4)
            wr(cpu, GICD_IPRIORITYR + i, 4, 0xa0a0a0a0);
    }
}

/* Linux irq-gic-v3.c: gic_dist_init, then per CPU gic_populate_rdist, gic_enable_redist, config. */
static void linux_v3_init(void)
{
    wr(0, GICD_CTLR, 4, 0);
    CHECK_EQ(rd(0, GICD_CTLR, 4) >> 31, 0); /* RWP */
    unsigned lines = ((rd(0, GICD_TYPER, 4) & 0x1f) + 1) * 32;
    for (unsigned i = 32; i < lines; i += 32)
        wr(0, GICD_IGROUPR + i / 8, 4, ~0u);
    for (unsigned i = 32; i < lines; i += 16)
        wr(0, GICD_ICFGR + i / 4, 4, 0);
    for (unsigned i = 32; i < lines; i += 4)
        wr(0, GICD_IPRIORITYR + i, 4, 0xa0a0a0a0);
    for (unsigned i = 32; i < lines; i += 32) {
        wr(0, GICD_ICACTIVER + i / 8, 4, ~0u);
        wr(0, GICD_ICENABLER + i / 8, 4, ~0u);
    }
    wr(0, GICD_CTLR, 4, 0x13); /* ARE_NS | ENABLE_G1A | ENABLE_G1 */
    for (unsigned i = 32; i < lines; i++)
        wr(0, GICD_IROUTER + i * 8, 8, 0);
    for (unsigned cpu = 0; cpu < vg.nr_vcpus; cpu++) {
        uint64_t base = RD(0), typer;
        bool found = false;

        for (;;) {
            CHECK_EQ((rd(cpu, base + 0xffe8, 4) >> 4) & 0xf, 3);
            typer = rd(cpu, base + GICR_TYPER, 8);
            if (typer >> 32 == cpu) {
                found = true;
                break;
            }
            if (typer & 0x10)
                break;
            base += VGIC_REDIST_STRIDE_V3;
        }
        CHECK(found);
        CHECK_EQ(base, RD(cpu));
        wr(cpu, base + GICR_WAKER, 4, rd(cpu, base + GICR_WAKER, 4) & ~2u);
        CHECK_EQ(rd(cpu, base + GICR_WAKER, 4) & 4, 0); /* ChildrenAsleep */
        uint64_t sgi = base + 0x10000;
        wr(cpu, sgi + GICD_IGROUPR, 4, ~0u);
        wr(cpu, sgi + GICD_ICACTIVER, 4, ~0u);
        wr(cpu, sgi + GICD_ICENABLER, 4, 0xffff0000);
        wr(cpu, sgi + GICD_ISENABLER, 4, 0x0000ffff);
        for (unsigned i = 0; i < 32; i += 4)
            wr(cpu, sgi + GICD_IPRIORITYR + i, 4, 0xa0a0a0a0);
    }
}

static void test_v2_ids(void)
{
    setup(2, 3);
    CHECK_EQ(rd(0, GICD_PIDR2_V2, 4), 0x2b);
    CHECK_EQ((rd(0, GICD_PIDR2_V2, 4) >> 4) & 0xf, 2);
    CHECK_EQ(rd(0, GICD_TYPER, 4), 8 | 2 << 5); /* ITLinesNumber 8, CPUNumber = 3 - 1 */
    CHECK_EQ(rd(0, GICD_IIDR, 4) & 0xfff, 0x43b);
    CHECK_EQ(rd(0, GICD_CTLR, 4), 0);
    wr(0, GICD_CTLR, 4, ~0u);
    CHECK_EQ(rd(1, GICD_CTLR, 4), 3);
    CHECK_EQ(rd(0, 0x00c, 4), 0); /* reserved: RAZ/WI */
    wr(0, 0x00c, 4, ~0u);
    CHECK_EQ(rd(0, 0xff0, 4), 0x0d); /* CIDR0 */
    CHECK(!rec.locked_call);
}

static void test_bad_accesses(void)
{
    uint64_t v;

    setup(2, 2);
    CHECK_EQ(vgic_mmio_read(&vg, 0, VGIC_DIST_SIZE_V2, 4, &v), -ENOENT);
    CHECK_EQ(vgic_mmio_read(&vg, 0, 0x10000, 4, &v), -ENOENT); /* GICC: the hardware GICV */
    CHECK_EQ(vgic_mmio_write(&vg, 0, ~0UL - 3, 4, 0), -ENOENT);
    CHECK_EQ(vgic_mmio_read(&vg, 0, GICD_CTLR, 2, &v), -EINVAL);
    CHECK_EQ(vgic_mmio_read(&vg, 0, GICD_CTLR, 8, &v), -EINVAL);
    CHECK_EQ(vgic_mmio_read(&vg, 0, GICD_CTLR + 1, 1, &v), -EINVAL);
    CHECK_EQ(vgic_mmio_read(&vg, 0, GICD_TYPER + 2, 4, &v), -EINVAL);
    CHECK_EQ(vgic_mmio_read(&vg, 0, GICD_ISENABLER, 1, &v), -EINVAL);
    CHECK_EQ(vgic_mmio_read(&vg, 0, GICD_IPRIORITYR, 3, &v), -EINVAL);
    CHECK_EQ(vgic_mmio_read(&vg, 2, GICD_CTLR, 4, &v), -EINVAL); /* no vCPU 2 */
    CHECK_EQ(v, 0);
    CHECK_EQ(vgic_mmio_read(&vg, 0, GICD_IPRIORITYR + 5, 1, &v), 0);
    CHECK_EQ(vgic_sgi1r_write(&vg, 0, 1UL << 40), -EINVAL);

    setup(3, 2);
    CHECK_EQ(vgic_mmio_read(&vg, 0, 0x10000, 4, &v), -ENOENT);
    CHECK_EQ(vgic_mmio_read(&vg, 0, RD(0) - 4, 4, &v), -ENOENT);
    CHECK_EQ(vgic_mmio_read(&vg, 0, RD(2), 4, &v), -ENOENT); /* past the last redistributor */
    CHECK_EQ(vgic_mmio_read(&vg, 0, GICD_IROUTER + 32 * 8, 1, &v), -EINVAL);
    CHECK_EQ(vgic_mmio_read(&vg, 0, GICD_IROUTER + 32 * 8 + 4, 8, &v), -EINVAL);
    CHECK_EQ(vgic_mmio_read(&vg, 0, RD(1) + GICR_TYPER, 2, &v), -EINVAL);
    CHECK_EQ(vgic_mmio_read(&vg, 0, RD(1) + GICR_WAKER, 8, &v), -EINVAL);
    CHECK_EQ(vgic_mmio_read(&vg, 0, GICD_IROUTER, 8, &v), 0); /* INTID 0 has none: RAZ */
    CHECK_EQ(v, 0);
    CHECK_EQ(vgic_sgi1r_write(&vg, 5, 0), -EINVAL);
    CHECK_EQ(vgic_init(&vg, 4, 1, &ops, NULL), -EINVAL);
    CHECK_EQ(vgic_init(&vg, 2, 0, &ops, NULL), -EINVAL);
    CHECK_EQ(vgic_init(&vg, 3, VGIC_MAX_VCPUS + 1, &ops, NULL), -EINVAL);
}

/* The UART's level SPI: delivered, acknowledged, deactivated with the line still high, lowered. */
static void test_v2_level_spi(void)
{
    setup(2, 2);
    linux_v2_init();
    wr(0, GICD_ISENABLER + 4, 4, 1u << (UART_SPI - 32));
    clear_kicks();
    vgic_set_level(&vg, 0, UART_SPI, true);
    CHECK_EQ(rec.kicks[0], 1);
    CHECK_EQ(rec.kicks[1], 0);
    CHECK(vgic_needs_flush(&vg, 0));
    CHECK(vgic_pending(&vg, 0));
    CHECK(!vgic_pending(&vg, 1));
    vgic_set_level(&vg, 0, UART_SPI, true); /* no change, no new kick */
    CHECK_EQ(rec.kicks[0], 1);

    CHECK_EQ(flush(0, 4), 1);
    CHECK(!more);
    CHECK(!vgic_needs_flush(&vg, 0));
    CHECK_EQ(lrs[0].intid, UART_SPI);
    CHECK_EQ(lrs[0].state, VGIC_LR_PENDING);
    CHECK_EQ(lrs[0].priority, 0xa0);
    CHECK(!lrs[0].group1);
    CHECK(lrs[0].notify_eoi); /* resample the line at deactivation */
    CHECK_EQ(rd(1, GICD_ISPENDR + 4, 4), 1u << 1);

    sync_as(0, 1, VGIC_LR_ACTIVE); /* acknowledged: its handler runs */
    CHECK_EQ(rd(1, GICD_ISACTIVER + 4, 4), 1u << 1);
    CHECK_EQ(flush(0, 4), 1);
    CHECK_EQ(lrs[0].state, VGIC_LR_ACTIVE); /* not pending+active off a line about to drop */
    sync_as(0, 1, VGIC_LR_INVALID);         /* deactivated, line still high: pending again */
    CHECK(vgic_needs_flush(&vg, 0));
    CHECK_EQ(flush(0, 4), 1);
    CHECK_EQ(lrs[0].state, VGIC_LR_PENDING);

    vgic_set_level(&vg, 0, UART_SPI, false);
    sync_as(0, 1, VGIC_LR_INVALID);
    CHECK_EQ(flush(0, 4), 0);
    CHECK(!vgic_pending(&vg, 0));
    CHECK_EQ(rd(0, GICD_ISPENDR + 4, 4), 0);
    CHECK_EQ(rec.nr_deact, 0); /* not registered for notification */
    CHECK(!rec.locked_call);
}

/* GICv2 SGIs: one interrupt per source, delivered one source at a time with its CPUID. */
static void test_v2_sgi_sources(void)
{
    setup(2, 4);
    linux_v2_init();
    clear_kicks();
    wr(1, GICD_SGIR, 4, 0x05u << 16 | 3); /* from 1 to 0 and 2 */
    wr(2, GICD_SGIR, 4, 0x01u << 16 | 3); /* from 2 to 0 */
    CHECK_EQ(rec.kicks[0], 1);
    CHECK_EQ(rec.kicks[2], 1);
    CHECK_EQ(rec.kicks[1] + rec.kicks[3], 0);
    CHECK_EQ(rd(0, GICD_SPENDSGIR, 4), 0x06u << 24);
    CHECK_EQ(rd(0, GICD_SPENDSGIR + 3, 1), 0x06);
    CHECK_EQ(rd(2, GICD_SPENDSGIR, 4), 0x02u << 24);
    CHECK_EQ(rd(0, GICD_ISPENDR, 4), 1u << 3);

    CHECK_EQ(flush(0, 4), 1); /* never the same INTID twice */
    CHECK(!more);
    CHECK_EQ(lrs[0].intid, 3);
    CHECK_EQ(lrs[0].source, 1);
    CHECK_EQ(lrs[0].state, VGIC_LR_PENDING);
    CHECK(lrs[0].notify_eoi); /* source 2 waits for this one's deactivation */
    sync_as(0, 1, VGIC_LR_ACTIVE);
    CHECK_EQ(flush(0, 4), 1);
    CHECK_EQ(lrs[0].source, 1);
    CHECK_EQ(lrs[0].state, VGIC_LR_ACTIVE);
    sync_as(0, 1, VGIC_LR_INVALID);
    CHECK_EQ(flush(0, 4), 1);
    CHECK_EQ(lrs[0].source, 2);
    CHECK_EQ(lrs[0].state, VGIC_LR_PENDING);
    CHECK(!lrs[0].notify_eoi);
    sync_as(0, 1, VGIC_LR_INVALID);
    CHECK_EQ(flush(0, 4), 0);
    CHECK(!vgic_pending(&vg, 0));

    /* Per-source pending registers of the reading CPU; ISPENDR0 cannot set an SGI. */
    wr(1, GICD_SGIR, 4, 0x01u << 16 | 5);
    CHECK_EQ(rd(0, GICD_SPENDSGIR + 4, 4), 0x02u << 8);
    wr(0, GICD_CPENDSGIR + 5, 1, 0x02);
    CHECK(!vgic_pending(&vg, 0));
    wr(0, GICD_ISPENDR, 4, 1u << 6);
    CHECK_EQ(rd(0, GICD_ISPENDR, 4), 0);
    wr(0, GICD_SPENDSGIR + 4, 4, 0x08u << 24); /* SGI 7 from CPU 3 */
    CHECK_EQ(flush(0, 4), 1);
    CHECK_EQ(lrs[0].intid, 7);
    CHECK_EQ(lrs[0].source, 3);
    CHECK(!rec.locked_call);
}

static void test_v2_sgir_filters(void)
{
    setup(2, 4);
    linux_v2_init();
    clear_kicks();
    wr(2, GICD_SGIR, 4, 1u << 24 | 1); /* all but self */
    CHECK_EQ(rec.kicks[0] + rec.kicks[1] + rec.kicks[3], 3);
    CHECK_EQ(rec.kicks[2], 0);
    for (unsigned v = 0; v < 4; v++) {
        CHECK_EQ(rd(v, GICD_SPENDSGIR, 4), v == 2 ? 0 : 0x04u << 8);
        CHECK_EQ(vgic_pending(&vg, v), v != 2);
    }
    wr(2, GICD_SGIR, 4, 2u << 24 | 0xffu << 16 | 2); /* self only, the list is ignored */
    CHECK_EQ(rd(2, GICD_SPENDSGIR, 4), 0x04u << 16);
    CHECK_EQ(rd(0, GICD_SPENDSGIR, 4), 0x04u << 8);
    wr(1, GICD_SGIR, 4, 3u << 24 | 0xffu << 16 | 4); /* reserved filter: nothing */
    wr(1, GICD_SGIR, 4, 0xf0u << 16 | 4);            /* CPUs that do not exist */
    for (unsigned v = 0; v < 4; v++)
        CHECK_EQ(rd(v, GICD_SPENDSGIR + 4, 4), 0);
}

static void test_v2_itargetsr(void)
{
    setup(2, 3);
    linux_v2_init();
    for (unsigned v = 0; v < 3; v++) {
        for (unsigned i = 0; i < 32; i += 4)
            CHECK_EQ(rd(v, GICD_ITARGETSR + i, 4), 0x01010101u << v);
        wr(v, GICD_ITARGETSR + 4, 4, 0); /* read-only */
        CHECK_EQ(rd(v, GICD_ITARGETSR + 31, 1), 1u << v);
    }
    CHECK_EQ(rd(0, GICD_ITARGETSR + 40, 4), 0x01010101); /* as linux_v2_init set them */
    wr(0, GICD_ITARGETSR + 40, 1, 0x06);
    CHECK_EQ(rd(2, GICD_ITARGETSR + 40, 1), 0x06);
    wr(0, GICD_ISENABLER + 4, 4, 0xf00); /* 40-43 */
    clear_kicks();
    vgic_inject_edge(&vg, 2, 40); /* vcpu ignored for an SPI: lowest target bit wins */
    CHECK_EQ(rec.kicks[1], 1);
    CHECK_EQ(rec.kicks[0] + rec.kicks[2], 0);
    CHECK_EQ(flush(0, 4), 0);
    CHECK_EQ(flush(1, 4), 1);
    CHECK_EQ(lrs[0].intid, 40);
    sync_as(1, 1, VGIC_LR_INVALID);

    /* Targets of CPUs that do not exist are RAZ/WI: targeting none, it waits in the distributor. */
    wr(0, GICD_ITARGETSR + 41, 1, 0xf8);
    CHECK_EQ(rd(0, GICD_ITARGETSR + 41, 1), 0);
    clear_kicks();
    vgic_inject_edge(&vg, 0, 41);
    for (unsigned v = 0; v < 3; v++) {
        CHECK_EQ(rec.kicks[v], 0);
        CHECK(!vgic_pending(&vg, v));
        CHECK_EQ(flush(v, 4), 0);
    }
    CHECK_EQ(rd(1, GICD_ISPENDR + 4, 4), 1u << 9);
    wr(1, GICD_ITARGETSR + 41, 1, 0x04);
    CHECK_EQ(rec.kicks[2], 1);
    CHECK_EQ(flush(2, 4), 1);
    CHECK_EQ(lrs[0].intid, 41);

    wr(0, GICD_ITARGETSR + 40, 4, 0x01020400);
    CHECK_EQ(rd(0, GICD_ITARGETSR + 40, 4), 0x01020400);
    CHECK_EQ(rd(0, GICD_ITARGETSR + 43, 1), 0x01);

    /* One CPU interface: SPI targets are RAZ/WI and everything goes to it. */
    setup(2, 1);
    linux_v2_init();
    wr(0, GICD_ITARGETSR + 40, 4, 0);
    CHECK_EQ(rd(0, GICD_ITARGETSR + 40, 4), 0);
    CHECK_EQ(rd(0, GICD_ITARGETSR, 4), 0x01010101);
    wr(0, GICD_ISENABLER + 4, 4, 1u << 8);
    vgic_inject_edge(&vg, 0, 40);
    CHECK_EQ(flush(0, 4), 1);
}

static void test_config_and_priority(void)
{
    setup(2, 2);
    CHECK_EQ(rd(0, GICD_ICFGR, 4), 0xaaaaaaaa); /* SGIs: edge, fixed */
    wr(0, GICD_ICFGR, 4, 0);
    CHECK_EQ(rd(0, GICD_ICFGR, 4), 0xaaaaaaaa);
    CHECK_EQ(rd(0, GICD_ICFGR + 4, 4), 0); /* PPIs: level */
    wr(0, GICD_ICFGR + 4, 4, 2u << 22);    /* PPI 27 edge, as Linux may set it */
    CHECK_EQ(rd(0, GICD_ICFGR + 4, 4), 2u << 22);
    CHECK_EQ(rd(1, GICD_ICFGR + 4, 4), 0); /* banked */
    wr(0, GICD_ICFGR + 8, 4, 0xffffffff);  /* Int_config[0] is reserved */
    CHECK_EQ(rd(0, GICD_ICFGR + 8, 4), 0xaaaaaaaa);

    wr(0, GICD_IPRIORITYR + 41, 1, 0x25); /* 5 priority bits, as GICH_LR holds */
    CHECK_EQ(rd(0, GICD_IPRIORITYR + 41, 1), 0x20);
    wr(0, GICD_IPRIORITYR + 44, 4, 0x11223344);
    CHECK_EQ(rd(1, GICD_IPRIORITYR + 44, 4), 0x10203040);
    CHECK_EQ(rd(0, GICD_IPRIORITYR + 40, 4), 0x2000);
    wr(1, GICD_IPRIORITYR + 3, 1, 0x80);
    CHECK_EQ(rd(1, GICD_IPRIORITYR, 4), 0x80000000);
    CHECK_EQ(rd(0, GICD_IPRIORITYR, 4), 0);
    CHECK_EQ(rd(0, GICD_IPRIORITYR + 288, 4), 0); /* beyond our INTIDs: RAZ/WI */
    wr(0, GICD_IPRIORITYR + 288, 4, ~0u);
    CHECK_EQ(rd(0, GICD_IPRIORITYR + 288, 4), 0);

    wr(0, GICD_IGROUPR + 4, 4, 0x5);
    CHECK_EQ(rd(1, GICD_IGROUPR + 4, 4), 0x5);
    CHECK_EQ(rd(1, GICD_IGROUPR, 4), 0);
}

static void enable_and_inject(unsigned intid, uint8_t prio)
{
    wr(0, GICD_IPRIORITYR + intid, 1, prio);
    wr(0, GICD_ISENABLER + intid / 32 * 4, 4, 1u << (intid % 32));
    vgic_inject_edge(&vg, 0, intid);
}

static void test_flush_order_and_more(void)
{
    static const uint8_t prio[6] = {0x80, 0x20, 0x60, 0x20, 0xf0, 0x40};

    setup(2, 1);
    linux_v2_init();
    for (unsigned i = 0; i < 6; i++)
        enable_and_inject(40 + i, prio[i]);
    CHECK_EQ(flush(0, 4), 4);
    CHECK(more);
    CHECK_EQ(lrs[0].intid, 41);
    CHECK_EQ(lrs[1].intid, 43);
    CHECK_EQ(lrs[2].intid, 45);
    CHECK_EQ(lrs[3].intid, 42);
    CHECK_EQ(lrs[2].priority, 0x40);
    lrs[0].state = VGIC_LR_ACTIVE; /* the guest took 41 only */
    vgic_sync(&vg, 0, lrs, 4);
    CHECK_EQ(flush(0, 4), 4);
    CHECK(more);
    CHECK_EQ(lrs[0].intid, 41);
    CHECK_EQ(lrs[0].state, VGIC_LR_ACTIVE);
    CHECK_EQ(lrs[1].intid, 43);
    CHECK_EQ(lrs[1].state, VGIC_LR_PENDING);
    sync_as(0, 4, VGIC_LR_INVALID);
    CHECK_EQ(flush(0, 4), 2);
    CHECK(!more);
    CHECK_EQ(lrs[0].intid, 40);
    CHECK_EQ(lrs[1].intid, 44);
    sync_as(0, 2, VGIC_LR_INVALID);

    /* An edge while the last one is in an LR: pending again, and active once acknowledged. */
    wr(0, GICD_ICFGR + 12, 4, 0xa0); /* 50 and 51 edge-triggered */
    enable_and_inject(50, 0x10);
    CHECK_EQ(flush(0, 4), 1);
    clear_kicks();
    vgic_inject_edge(&vg, 0, 50);
    CHECK_EQ(rec.kicks[0], 1);
    sync_as(0, 1, VGIC_LR_ACTIVE);
    CHECK_EQ(flush(0, 4), 1);
    CHECK_EQ(lrs[0].state, VGIC_LR_PENDING_ACTIVE);
    sync_as(0, 1, VGIC_LR_INVALID);
    CHECK_EQ(flush(0, 4), 0);

    /* A flush with no sync in between takes the LRs as unchanged. */
    enable_and_inject(51, 0x10);
    CHECK_EQ(flush(0, 1), 1);
    CHECK_EQ(flush(0, 1), 1);
    CHECK_EQ(lrs[0].intid, 51);
    CHECK_EQ(lrs[0].state, VGIC_LR_PENDING);
    CHECK_EQ(flush(0, 0), 0);
    CHECK(more);
}

/* The virtual timer's PPI, as vtimer.c drives it: notified on deactivation, then lowered. */
static void test_level_ppi_notify(void)
{
    setup(3, 2);
    linux_v3_init();
    wr(1, SGI(1) + GICD_ISENABLER, 4, 1u << VTIMER_PPI);
    vgic_set_notify(&vg, 1, VTIMER_PPI, true);
    clear_kicks();
    vgic_set_level(&vg, 1, VTIMER_PPI, true);
    CHECK_EQ(rec.kicks[1], 1);
    CHECK_EQ(rec.kicks[0], 0);
    CHECK_EQ(flush(0, 4), 0);
    CHECK_EQ(flush(1, 4), 1);
    CHECK_EQ(lrs[0].intid, VTIMER_PPI);
    CHECK(lrs[0].notify_eoi);
    CHECK(lrs[0].group1);
    sync_as(1, 1, VGIC_LR_ACTIVE);
    CHECK_EQ(rec.nr_deact, 0);
    CHECK_EQ(flush(1, 4), 1);
    CHECK_EQ(lrs[0].state, VGIC_LR_ACTIVE);
    sync_as(1, 1, VGIC_LR_INVALID);
    CHECK_EQ(rec.nr_deact, 1);
    CHECK_EQ(rec.deact_vcpu[0], 1);
    CHECK_EQ(rec.deact_intid[0], VTIMER_PPI);
    /* The line is still high (the callback did not lower it): delivered again. */
    CHECK(vgic_pending(&vg, 1));
    CHECK_EQ(flush(1, 4), 1);
    CHECK_EQ(lrs[0].state, VGIC_LR_PENDING);
    rec.lower_on_deact = true;
    sync_as(1, 1, VGIC_LR_INVALID); /* acknowledged and deactivated in one run */
    CHECK_EQ(rec.nr_deact, 2);
    CHECK_EQ(flush(1, 4), 0);
    CHECK(!vgic_pending(&vg, 1));
    CHECK(!rec.locked_call);

    /* A PPI of vCPU 0 with the same number is another interrupt. */
    wr(0, SGI(0) + GICD_ISENABLER, 4, 1u << VTIMER_PPI);
    vgic_set_level(&vg, 0, VTIMER_PPI, true);
    CHECK_EQ(flush(0, 4), 1);
    sync_as(0, 1, VGIC_LR_INVALID);
    CHECK_EQ(rec.nr_deact, 2);
}

/*
 * A forwarded (hardware-mapped) PPI, as the virtual timer is: its owner raises the line once it
 * has acknowledged the physical interrupt; the LR carries the HW bit and never the EOI bit; the
 * guest's deactivation ends the physical one too, so the line falls without any callback; the
 * model says (hw_live) while the physical interrupt is still owed a deactivation.
 */
static void test_hw_ppi(void)
{
    setup(3, 2);
    linux_v3_init();
    wr(1, SGI(1) + GICD_ISENABLER, 4, 1u << VTIMER_PPI);
    vgic_set_hw(&vg, 1, VTIMER_PPI, true);
    clear_kicks();
    vgic_set_level(&vg, 1, VTIMER_PPI, true);
    CHECK_EQ(rec.kicks[1], 1);
    CHECK_EQ(flush(1, 4), 1);
    CHECK_EQ(lrs[0].intid, VTIMER_PPI);
    CHECK(lrs[0].hw);
    CHECK(!lrs[0].notify_eoi);
    CHECK_EQ(lrs[0].state, VGIC_LR_PENDING);
    CHECK_EQ(vg.cpu[1].hw_live, 1u << VTIMER_PPI);
    /* Taken and deactivated by the guest: nothing left, no deactivation callback. */
    sync_as(1, 1, VGIC_LR_INVALID);
    CHECK_EQ(flush(1, 4), 0);
    CHECK_EQ(vg.cpu[1].hw_live, 0);
    CHECK_EQ(rec.nr_deact, 0);
    CHECK(!vgic_pending(&vg, 1));

    /* Acknowledged (active in the LR): stays live and goes back in as active only. */
    vgic_set_level(&vg, 1, VTIMER_PPI, true);
    CHECK_EQ(flush(1, 4), 1);
    sync_as(1, 1, VGIC_LR_ACTIVE);
    CHECK_EQ(flush(1, 4), 1);
    CHECK_EQ(lrs[0].state, VGIC_LR_ACTIVE);
    CHECK(lrs[0].hw);
    CHECK_EQ(vg.cpu[1].hw_live, 1u << VTIMER_PPI);
    /* A write to ICACTIVER0 deactivates it: the physical one must end too (not live). */
    clear_kicks();
    wr(1, SGI(1) + GICD_ICACTIVER, 4, 1u << VTIMER_PPI);
    CHECK_EQ(rec.kicks[1], 1);
    CHECK_EQ(flush(1, 4), 0);
    CHECK_EQ(vg.cpu[1].hw_live, 0);
    CHECK_EQ(rd(1, SGI(1) + GICD_ISPENDR, 4) & (1u << VTIMER_PPI), 0);

    /* The source stops before the guest took it: withdrawn from its LR, no longer live. */
    vgic_set_level(&vg, 1, VTIMER_PPI, true);
    CHECK_EQ(flush(1, 4), 1);
    clear_kicks();
    vgic_set_level(&vg, 1, VTIMER_PPI, false);
    CHECK_EQ(rec.kicks[1], 1);
    sync_as(1, 1, VGIC_LR_PENDING); /* it came back untouched */
    CHECK_EQ(flush(1, 4), 0);
    CHECK_EQ(vg.cpu[1].hw_live, 0);
    CHECK(!vgic_pending(&vg, 1));

    /* Disabled at the vGIC: pending (registers show it) and live, but in no LR. */
    wr(1, SGI(1) + GICD_ICENABLER, 4, 1u << VTIMER_PPI);
    vgic_set_level(&vg, 1, VTIMER_PPI, true);
    CHECK_EQ(flush(1, 4), 0);
    CHECK_EQ(vg.cpu[1].hw_live, 1u << VTIMER_PPI);
    CHECK(rd(1, SGI(1) + GICD_ISPENDR, 4) & (1u << VTIMER_PPI));
    vgic_set_level(&vg, 1, VTIMER_PPI, false);
    CHECK_EQ(flush(1, 4), 0);
    CHECK_EQ(vg.cpu[1].hw_live, 0);
    CHECK_EQ(rd(1, SGI(1) + GICD_ISPENDR, 4) & (1u << VTIMER_PPI), 0);

    /* vgic_refresh: the last instance back deactivated, the next raised, one call. */
    wr(1, SGI(1) + GICD_ISENABLER, 4, 1u << VTIMER_PPI);
    vgic_set_level(&vg, 1, VTIMER_PPI, true);
    CHECK_EQ(flush(1, 4), 1);
    lrs[0].state = VGIC_LR_INVALID;
    struct vgic_lr back = lrs[0];
    CHECK_EQ(vgic_refresh(&vg, 1, &back, 1, VTIMER_PPI, lrs, 4, &more), 1);
    CHECK_EQ(lrs[0].state, VGIC_LR_PENDING);
    CHECK(lrs[0].hw);
    CHECK_EQ(vg.cpu[1].hw_live, 1u << VTIMER_PPI);

    /* A reset drops a forwarded line: the hardware raises it again if it is still high. */
    vgic_reset(&vg);
    CHECK_EQ(vg.cpu[1].priv_busy & (1u << VTIMER_PPI), 0);
    CHECK_EQ(rec.nr_deact, 0);
    CHECK(!rec.locked_call);
}

/* The list register layouts (GICv2 GICH_LR<n>, GICv3 ICH_LR<n>_EL2), HW bit included. */
static void test_lr_encode(void)
{
    struct vgic_lr lr = {
        .intid = 27, .priority = 0xa0, .state = VGIC_LR_PENDING, .group1 = true, .hw = true};

    /* v2: VirtualID 27, PhysicalID 27 in [19:10], priority 0xa0 >> 3 in [27:23], Grp1, HW. */
    CHECK_EQ(vgic_lr_encode(2, &lr),
             27u | 27u << 10 | 0x14u << 23 | 1u << 28 | 1u << 30 | 1u << 31);
    /* v3: vINTID 27, pINTID 27 at [44:32], priority [55:48], Group, HW, State [63:62]. */
    CHECK_EQ(vgic_lr_encode(3, &lr),
             27UL | 27UL << 32 | 0xa0UL << 48 | 1UL << 60 | 1UL << 61 | 1UL << 62);
    /* HW leaves no room for the EOI bit (it is a PhysicalID / pINTID bit): never set. */
    lr.notify_eoi = true;
    CHECK_EQ(vgic_lr_encode(2, &lr) & (1u << 19), (27u << 10) & (1u << 19));
    CHECK_EQ(vgic_lr_encode(3, &lr) & (1UL << 41), 0);
    /* Software: a v2 SGI's source CPU in [12:10], EOI bit when asked. */
    struct vgic_lr sgi = {.intid = 3, .source = 5, .state = VGIC_LR_ACTIVE, .notify_eoi = true};
    CHECK_EQ(vgic_lr_encode(2, &sgi), 3u | 5u << 10 | 1u << 19 | 2u << 28);
    CHECK_EQ(vgic_lr_encode(3, &sgi), 3UL | 1UL << 41 | 2UL << 62);
    CHECK_EQ(vgic_lr_decode_state(2, 3u << 28), VGIC_LR_PENDING_ACTIVE);
    CHECK_EQ(vgic_lr_decode_state(3, 2UL << 62 | 3u << 28), VGIC_LR_ACTIVE);
}

static void test_pending_active_registers(void)
{
    setup(2, 2);
    linux_v2_init();
    vgic_set_notify(&vg, 0, 42, true);
    wr(0, GICD_ISENABLER + 4, 4, 0x700); /* 40-42 */
    clear_kicks();
    wr(1, GICD_ISPENDR + 4, 4, 1u << 8);
    CHECK_EQ(rec.kicks[0], 1);
    CHECK_EQ(flush(0, 4), 1);
    CHECK(!vgic_needs_flush(&vg, 0));
    CHECK_EQ(rd(1, GICD_ISPENDR + 4, 4), 1u << 8); /* in the LR, still pending */
    CHECK(vgic_needs_flush(&vg, 0));               /* a state read has the LR's vCPU sync soon */
    CHECK_EQ(flush(0, 4), 1);
    CHECK(!vgic_needs_flush(&vg, 0));
    /* Cleared by another vCPU while in vCPU 0's LR: vCPU 0 rebuilds its LRs without it. */
    wr(1, GICD_ICPENDR + 4, 4, 1u << 8);
    CHECK(vgic_needs_flush(&vg, 0));
    CHECK_EQ(rd(1, GICD_ISPENDR + 4, 4), 0);
    sync_as(0, 1, VGIC_LR_PENDING);
    CHECK_EQ(flush(0, 4), 0);

    /* Disabled while pending in an LR: taken out; enabled again: back. */
    vgic_inject_edge(&vg, 0, 41);
    CHECK_EQ(flush(0, 4), 1);
    wr(1, GICD_ICENABLER + 4, 4, 1u << 9);
    CHECK(vgic_needs_flush(&vg, 0));
    sync_as(0, 1, VGIC_LR_PENDING);
    CHECK_EQ(flush(0, 4), 0);
    CHECK(!vgic_pending(&vg, 0));
    clear_kicks();
    wr(1, GICD_ISENABLER + 4, 4, 1u << 9);
    CHECK_EQ(rec.kicks[0], 1);
    CHECK_EQ(flush(0, 4), 1);
    sync_as(0, 1, VGIC_LR_INVALID);

    /* Set active by a write: in the LRs as active; cleared by a write: the owner is told. */
    wr(0, GICD_ISACTIVER + 4, 4, 1u << 10);
    CHECK_EQ(rd(1, GICD_ISACTIVER + 4, 4), 1u << 10);
    CHECK_EQ(flush(0, 4), 1);
    CHECK_EQ(lrs[0].intid, 42);
    CHECK_EQ(lrs[0].state, VGIC_LR_ACTIVE);
    sync_as(0, 1, VGIC_LR_ACTIVE);
    wr(0, GICD_ICACTIVER + 4, 4, 1u << 10);
    CHECK_EQ(rec.nr_deact, 1);
    CHECK_EQ(rec.deact_intid[0], 42);
    CHECK_EQ(flush(0, 4), 0);

    /* Group 0 forwarding off: nothing goes to the CPU interface; on: it does. */
    wr(0, GICD_CTLR, 4, 0);
    vgic_inject_edge(&vg, 0, 40);
    CHECK(!vgic_pending(&vg, 0));
    CHECK_EQ(flush(0, 4), 0);
    clear_kicks();
    wr(0, GICD_CTLR, 4, 1);
    CHECK_EQ(rec.kicks[0], 1);
    CHECK_EQ(flush(0, 4), 1);
    CHECK(!rec.locked_call);
}

static void test_v3_ids_and_redists(void)
{
    setup(3, 4);
    CHECK_EQ(rd(0, GICD_PIDR2_V3, 4), 0x3b);
    CHECK_EQ((rd(0, GICD_PIDR2_V3, 4) >> 4) & 0xf, 3);
    uint32_t typer = (uint32_t)rd(0, GICD_TYPER, 4);
    CHECK_EQ(typer & 0x1f, 8);
    CHECK_EQ((typer >> 19) & 0x1f, 9);   /* IDbits: 10-bit INTIDs */
    CHECK_EQ(typer & (1u << 17), 0);     /* no LPIs */
    CHECK_EQ(typer & (1u << 16), 0);     /* no MBIs */
    CHECK_EQ(rd(0, GICD_CTLR, 4), 0x50); /* ARE and DS, RAZ/WI bits */
    wr(0, GICD_CTLR, 4, ~0u);
    CHECK_EQ(rd(0, GICD_CTLR, 4), 0x53);
    CHECK_EQ(rd(0, GICD_IIDR, 4), rd(0, RD(2) + 4, 4));
    for (unsigned n = 0; n < 4; n++) {
        uint64_t t = rd(0, RD(n) + GICR_TYPER, 8);

        CHECK_EQ(t >> 32, n);           /* Aff0 = n */
        CHECK_EQ((t >> 8) & 0xffff, n); /* Processor_Number */
        CHECK_EQ(!!(t & 0x10), n == 3); /* Last */
        CHECK_EQ(t & 0x3, 0);           /* no physical or virtual LPIs */
        CHECK_EQ(rd(2, RD(n) + GICR_TYPER + 4, 4), n);
        CHECK_EQ(rd(2, RD(n) + GICR_TYPER, 4), (uint32_t)t);
        CHECK_EQ((rd(1, RD(n) + 0xffe8, 4) >> 4) & 0xf, 3);
        CHECK_EQ(rd(1, RD(n) + GICR_WAKER, 4), 6); /* asleep from reset */
        CHECK_EQ(rd(1, RD(n), 4), 0);              /* GICR_CTLR: no LPIs, RWP clear */
    }
    wr(3, RD(1) + GICR_WAKER, 4, 0);
    CHECK_EQ(rd(0, RD(1) + GICR_WAKER, 4), 0);
    CHECK_EQ(rd(0, RD(2) + GICR_WAKER, 4), 6);
    wr(3, RD(1) + GICR_WAKER, 4, 2);
    CHECK_EQ(rd(0, RD(1) + GICR_WAKER, 4), 6);

    linux_v3_init();
    /* The distributor's INTIDs 0-31 are RAZ/WI with affinity routing. */
    CHECK_EQ(rd(0, GICD_ISENABLER, 4), 0);
    wr(0, GICD_ICENABLER, 4, ~0u);
    CHECK_EQ(rd(0, SGI(0) + GICD_ISENABLER, 4), 0xffff);
    /* Any vCPU reaches any redistributor: the registers are that redistributor's vCPU's. */
    wr(3, SGI(2) + GICD_IPRIORITYR + 27, 1, 0x4f);
    CHECK_EQ(rd(0, SGI(2) + GICD_IPRIORITYR + 24, 4), 0x48a0a0a0);
    CHECK_EQ(rd(2, SGI(3) + GICD_IPRIORITYR + 24, 4), 0xa0a0a0a0);
    CHECK_EQ(rd(1, SGI(1) + GICD_ICFGR, 4), 0xaaaaaaaa);
    wr(1, SGI(1) + GICD_ICFGR + 4, 4, 2u << 22);
    CHECK_EQ(rd(1, SGI(1) + GICD_ICFGR + 4, 4), 2u << 22);
    CHECK_EQ(rd(1, SGI(1) + GICD_IGROUPR, 4), ~0u);
    wr(1, SGI(1) + 0xd00, 4, ~0u); /* IGRPMODR0: RAZ/WI */
    CHECK_EQ(rd(1, SGI(1) + 0xd00, 4), 0);
}

static void test_v3_sgi1r(void)
{
    setup(3, 4);
    linux_v3_init();
    clear_kicks();
    CHECK_EQ(vgic_sgi1r_write(&vg, 0, 5UL << 24 | 0xa), 0); /* to 0.0.0.1 and 0.0.0.3 */
    CHECK_EQ(rec.kicks[1], 1);
    CHECK_EQ(rec.kicks[3], 1);
    CHECK_EQ(rec.kicks[0] + rec.kicks[2], 0);
    CHECK_EQ(rd(0, SGI(1) + GICD_ISPENDR, 4), 1u << 5);
    CHECK_EQ(flush(1, 4), 1);
    CHECK_EQ(lrs[0].intid, 5);
    CHECK(lrs[0].group1);
    CHECK_EQ(lrs[0].state, VGIC_LR_PENDING);
    sync_as(1, 1, VGIC_LR_INVALID);
    CHECK_EQ(flush(3, 4), 1);
    sync_as(3, 1, VGIC_LR_INVALID);

    /* Aff1, Aff2, Aff3 or a range selector name PEs we do not have. */
    CHECK_EQ(vgic_sgi1r_write(&vg, 0, 6UL << 24 | 1UL << 16 | 0xf), 0);
    CHECK_EQ(vgic_sgi1r_write(&vg, 0, 6UL << 24 | 1UL << 32 | 0xf), 0);
    CHECK_EQ(vgic_sgi1r_write(&vg, 0, 6UL << 24 | 1UL << 48 | 0xf), 0);
    CHECK_EQ(vgic_sgi1r_write(&vg, 0, 6UL << 24 | 1UL << 44 | 0xf), 0);
    CHECK_EQ(vgic_sgi1r_write(&vg, 0, 6UL << 24 | 0xfff0), 0); /* Aff0 4-15 */
    for (unsigned v = 0; v < 4; v++)
        CHECK_EQ(rd(v, SGI(v) + GICD_ISPENDR, 4) & (1u << 6), 0);

    /* IRM: everyone but the writer, whatever the target list says. */
    clear_kicks();
    CHECK_EQ(vgic_sgi1r_write(&vg, 2, 1UL << 40 | 7UL << 24 | 0x4), 0);
    for (unsigned v = 0; v < 4; v++) {
        CHECK_EQ(rec.kicks[v], v != 2);
        CHECK_EQ(rd(0, SGI(v) + GICD_ISPENDR, 4), v == 2 ? 0 : 1u << 7);
    }
    CHECK_EQ(flush(3, 4), 1);
    CHECK_EQ(lrs[0].intid, 7);
    CHECK_EQ(lrs[0].source, 0);

    /* GICR_ISPENDR0 sets SGIs on v3 (no per-source state). */
    wr(0, SGI(2) + GICD_ISPENDR, 4, 1u << 9);
    CHECK(vgic_pending(&vg, 2));
}

static void test_v3_irouter(void)
{
    const uint64_t r40 = GICD_IROUTER + 40 * 8;

    setup(3, 4);
    linux_v3_init();
    wr(0, GICD_ISENABLER + 4, 4, 1u << 8);
    wr(0, r40, 8, 2);
    CHECK_EQ(rd(1, r40, 8), 2);
    clear_kicks();
    vgic_inject_edge(&vg, 0, 40);
    CHECK_EQ(rec.kicks[2], 1);
    CHECK_EQ(rec.kicks[0] + rec.kicks[1] + rec.kicks[3], 0);
    CHECK_EQ(flush(0, 4), 0);
    CHECK_EQ(flush(2, 4), 1);
    CHECK_EQ(lrs[0].intid, 40);
    sync_as(2, 1, VGIC_LR_INVALID);

    /* Routed to a PE that does not exist: it waits in the distributor until routed anew. */
    wr(0, r40, 8, 9);
    clear_kicks();
    vgic_inject_edge(&vg, 0, 40);
    for (unsigned v = 0; v < 4; v++) {
        CHECK_EQ(rec.kicks[v], 0);
        CHECK(!vgic_pending(&vg, v));
    }
    wr(0, r40, 4, 1); /* the low half */
    CHECK_EQ(rec.kicks[1], 1);
    CHECK_EQ(flush(1, 4), 1);
    sync_as(1, 1, VGIC_LR_INVALID);

    wr(0, r40 + 4, 4, 0x12); /* Aff3 in the high half: no such PE */
    CHECK_EQ(rd(0, r40, 8), 0x1200000001UL);
    vgic_inject_edge(&vg, 0, 40);
    CHECK(!vgic_pending(&vg, 1));
    wr(0, r40, 4, 0x80000000); /* IRM: any PE, which is vCPU 0 */
    CHECK_EQ(rd(0, r40, 8), 0x1280000000UL);
    CHECK_EQ(rd(0, r40 + 4, 4), 0x12);
    CHECK(vgic_pending(&vg, 0));
    wr(0, r40, 8, ~0UL);
    CHECK_EQ(rd(0, r40, 8), 0xff80ffffffUL); /* reserved bits RAZ/WI */

    /* Active on vCPU 0, retargeted: it stays until deactivated, then goes to the new PE. */
    wr(0, r40, 8, 0);
    CHECK_EQ(flush(0, 4), 1);
    sync_as(0, 1, VGIC_LR_ACTIVE);
    wr(0, r40, 8, 3);
    vgic_inject_edge(&vg, 0, 40);
    CHECK_EQ(flush(3, 4), 0);
    CHECK_EQ(flush(0, 4), 1);
    CHECK_EQ(lrs[0].state, VGIC_LR_PENDING_ACTIVE);
    clear_kicks();
    lrs[0].state = VGIC_LR_PENDING; /* deactivated, the new edge not yet taken */
    vgic_sync(&vg, 0, lrs, 1);
    CHECK_EQ(rec.kicks[3], 1);
    CHECK_EQ(flush(0, 4), 0);
    CHECK_EQ(flush(3, 4), 1);
    CHECK_EQ(lrs[0].intid, 40);
}

static void test_reset(void)
{
    setup(2, 2);
    linux_v2_init();
    vgic_set_notify(&vg, 0, UART_SPI, true);
    wr(0, GICD_ISENABLER + 4, 4, ~0u);
    vgic_set_level(&vg, 0, UART_SPI, true);
    vgic_inject_edge(&vg, 0, 40);
    CHECK_EQ(flush(0, 4), 2);
    vgic_reset(&vg);
    CHECK_EQ(rd(0, GICD_CTLR, 4), 0);
    CHECK_EQ(rd(0, GICD_ISENABLER + 4, 4), 0);
    CHECK_EQ(rd(0, GICD_ISENABLER, 4), 0xffff);
    CHECK_EQ(rd(0, GICD_IPRIORITYR + 32, 4), 0);
    CHECK_EQ(rd(0, GICD_ITARGETSR + 32, 4), 0x01010101);
    CHECK_EQ(rd(0, GICD_ISPENDR + 4, 4), 1u << 1); /* the line is still high */
    CHECK(!vgic_needs_flush(&vg, 0));
    sync_as(0, 2, VGIC_LR_INVALID); /* LRs from before the reset are ignored */
    CHECK_EQ(rec.nr_deact, 0);
    wr(0, GICD_CTLR, 4, 1);
    wr(0, GICD_ISENABLER + 4, 4, 1u << 1);
    CHECK_EQ(flush(0, 4), 1);
    CHECK(lrs[0].notify_eoi); /* the registration stays */
    sync_as(0, 1, VGIC_LR_INVALID);
    CHECK_EQ(rec.nr_deact, 1);
}

/* A device thread raises edges one at a time; a vCPU thread takes them: none is lost. */
#define STRESS_EDGES 20000
static volatile unsigned handled;

static void *device_thread(void *arg)
{
    (void)arg;
    for (unsigned i = 0; i < STRESS_EDGES; i++) {
        vgic_inject_edge(&vg, 0, 40);
        while (__atomic_load_n(&handled, __ATOMIC_ACQUIRE) <= i)
            sched_yield();
    }
    return NULL;
}

static void *sgi_thread(void *arg)
{
    (void)arg;
    for (unsigned i = 0; i < STRESS_EDGES; i++)
        wr(0, GICD_SGIR, 4, 1u << 24 | (i & 0xf));
    return NULL;
}

static void test_threads(void)
{
    pthread_t dev, sgi;
    struct vgic_lr l[4];
    bool m;

    setup(2, 2);
    linux_v2_init();
    wr(0, GICD_ISENABLER + 4, 4, 1u << 8);
    wr(0, GICD_ITARGETSR + 40, 1, 2);
    wr(0, GICD_ICFGR + 8, 4, 2u << 16); /* 40 edge-triggered: each edge is one interrupt */
    handled = 0;
    CHECK_EQ(pthread_create(&dev, NULL, device_thread, NULL), 0);
    CHECK_EQ(pthread_create(&sgi, NULL, sgi_thread, NULL), 0);
    while (__atomic_load_n(&handled, __ATOMIC_ACQUIRE) < STRESS_EDGES) {
        if (!vgic_needs_flush(&vg, 1)) {
            sched_yield();
            continue;
        }
        unsigned n = vgic_flush(&vg, 1, l, 4, &m);
        for (unsigned i = 0; i < n; i++) {
            CHECK(l[i].intid == 40 || l[i].intid < 16);
            if (l[i].intid == 40 && (l[i].state & VGIC_LR_PENDING))
                __atomic_fetch_add(&handled, 1, __ATOMIC_RELEASE);
            l[i].state = VGIC_LR_INVALID;
        }
        vgic_sync(&vg, 1, l, n);
    }
    pthread_join(dev, NULL);
    pthread_join(sgi, NULL);
    CHECK_EQ(handled, STRESS_EDGES);
    CHECK(rec.kicks[1] >= STRESS_EDGES); /* (the lock check means nothing with threads) */
}

static uint64_t rng = 0x9e3779b97f4a7c15UL;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* What the busy bitmaps must say of an interrupt: pending, active or in an LR. */
static bool irq_busy(const struct vgic_irq *irq)
{
    return irq->latch || irq->sgi_src || (!irq->edge && irq->line) || irq->active || irq->in_lr;
}

static void check_busy_bits(const struct vgic *g)
{
    for (unsigned v = 0; v < g->nr_vcpus; v++)
        for (uint32_t i = 0; i < VGIC_NR_PRIVATE; i++)
            CHECK_EQ((g->cpu[v].priv_busy >> i) & 1, irq_busy(&g->cpu[v].priv[i]));
    for (uint32_t i = 0; i < VGIC_NR_SPIS; i++)
        CHECK_EQ((g->spi_busy[i / 64] >> (i % 64)) & 1, irq_busy(&g->spi[i]));
}

/*
 * The oracle: vgic_flush and vgic_pending on a copy of vg with every busy bit set are the full
 * scan of all INTIDs they did before the bitmaps. They must agree with the same on a plain copy.
 */
static struct vgic fast, full;

static void check_against_full_scan(void)
{
    struct vgic_lr lf[VGIC_MAX_LRS], ls[VGIC_MAX_LRS];
    __typeof__(rec) saved = rec;

    check_busy_bits(&vg);
    fast = vg;
    full = vg;
    for (unsigned v = 0; v < vg.nr_vcpus; v++) {
        bool mf, ms;

        memset(full.spi_busy, 0xff, sizeof(full.spi_busy));
        for (unsigned u = 0; u < vg.nr_vcpus; u++)
            full.cpu[u].priv_busy = ~0u;
        CHECK_EQ(vgic_pending(&fast, v), vgic_pending(&full, v));
        unsigned nf = vgic_flush(&fast, v, lf, VGIC_MAX_LRS, &mf);
        unsigned ns = vgic_flush(&full, v, ls, VGIC_MAX_LRS, &ms);
        CHECK_EQ(nf, ns);
        CHECK_EQ(mf, ms);
        for (unsigned i = 0; i < nf && i < ns; i++) {
            CHECK_EQ(lf[i].intid, ls[i].intid);
            CHECK_EQ(lf[i].source, ls[i].source);
            CHECK_EQ(lf[i].priority, ls[i].priority);
            CHECK_EQ(lf[i].state, ls[i].state);
            CHECK_EQ(lf[i].group1, ls[i].group1);
            CHECK_EQ(lf[i].notify_eoi, ls[i].notify_eoi);
        }
    }
    check_busy_bits(&fast);
    rec = saved;
}

/* Random guest accesses, lines and LR round trips: no crash, only the documented errors. */
static void fuzz_one(unsigned version, unsigned nr, bool oracle)
{
    static const unsigned sizes[] = {1, 2, 4, 8, 4, 4, 3, 16, 0};
    struct vgic_lr l[VGIC_MAX_VCPUS][VGIC_MAX_LRS];
    unsigned n[VGIC_MAX_VCPUS] = {0};

    setup(version, nr);
    for (unsigned it = 0; it < 30000; it++) {
        uint64_t r = rnd(), val = rnd();
        unsigned vcpu = (unsigned)(r >> 8) % (nr + 1), size = sizes[(r >> 16) % 9];
        uint64_t off;

        /* The oracle run starts as Linux does, again after a reset now and then. */
        if (oracle && it % 7500 == 0) {
            vgic_reset(&vg);
            memset(n, 0, sizeof(n));
            check_against_full_scan();
            if (version == 2)
                linux_v2_init();
            else
                linux_v3_init();
        }
        switch (r % 4) {
        case 0: off = (r >> 24) % VGIC_DIST_SIZE_V3; break;
        case 1: off = RD(0) + (r >> 24) % (VGIC_REDIST_STRIDE_V3 * (nr + 1)); break;
        case 2:
            if (!oracle) {
                off = rnd() >> (r >> 32) % 64;
                break;
            }
            /* GICD_CTLR and the per-INTID bit registers of either frame, GICD_SGIR and such. */
            off = version == 3 && (r >> 33) % 2 ? SGI((r >> 34) % nr) : 0;
            off += (r >> 37) % 8 ? (r >> 24) % 0x400 : 0xf00 + (r >> 24) % 0x30;
            break;
        default: off = (r >> 24) & 0xfff; break;
        }
        if ((r >> 40) % 8 == 0)
            off &= ~3UL;
        switch ((r >> 44) % 8) {
        case 0: {
            int rc = vgic_mmio_read(&vg, vcpu, off, size, &val);
            CHECK(rc == 0 || rc == -EINVAL || rc == -ENOENT);
            if (rc == 0 && size < 8)
                CHECK_EQ(val >> (8 * size), 0);
            break;
        }
        case 1:
        case 2: {
            int rc = vgic_mmio_write(&vg, vcpu, off, size, val);
            CHECK(rc == 0 || rc == -EINVAL || rc == -ENOENT);
            break;
        }
        case 3: vgic_set_level(&vg, vcpu, (uint32_t)val % 320, val >> 63); break;
        case 4: vgic_inject_edge(&vg, vcpu, (uint32_t)(val >> 8) % 320); break;
        case 5: {
            int rc = vgic_sgi1r_write(&vg, vcpu, val);
            CHECK_EQ(rc, version == 3 && vcpu < nr ? 0 : -EINVAL);
            break;
        }
        case 6:
            vgic_set_notify(&vg, vcpu, (uint32_t)val % 320, val & 1);
            CHECK(!vgic_pending(&vg, vcpu) || vcpu < nr);
            break;
        default: {
            unsigned v = vcpu % nr, max = (unsigned)(val >> 8) % 6;
            bool m;

            /* The guest ran: LRs move as hardware moves them, or anyhow. */
            for (unsigned i = 0; i < n[v]; i++)
                l[v][i].state = (uint8_t)((l[v][i].state & rnd()) | (rnd() % 8 == 0 ? 2 : 0));
            if (val & 1)
                vgic_sync(&vg, v, l[v], n[v] - (unsigned)(val >> 1) % (n[v] + 1));
            n[v] = vgic_flush(&vg, v, l[v], max, &m);
            CHECK(n[v] <= max);
            for (unsigned i = 0; i < n[v]; i++) {
                CHECK(l[v][i].intid < VGIC_NR_IRQS);
                CHECK(l[v][i].state != VGIC_LR_INVALID);
                CHECK(l[v][i].source < nr);
                for (unsigned j = 0; j < i; j++)
                    CHECK(l[v][j].intid != l[v][i].intid);
            }
            break;
        }
        }
        if (oracle)
            check_against_full_scan();
        if (test_failed_checks)
            return;
    }
    /* Lines low, the guest takes and finishes everything: nothing may stay stuck. */
    for (unsigned v = 0; v < nr; v++)
        for (uint32_t intid = 0; intid < VGIC_NR_IRQS; intid++)
            vgic_set_level(&vg, v, intid, false);
    for (unsigned round = 0; round < 64; round++) {
        for (unsigned v = 0; v < nr; v++) {
            bool m;

            for (unsigned i = 0; i < n[v]; i++)
                l[v][i].state = VGIC_LR_INVALID;
            vgic_sync(&vg, v, l[v], n[v]);
            n[v] = vgic_flush(&vg, v, l[v], 4, &m);
        }
    }
    for (unsigned v = 0; v < nr; v++) {
        CHECK_EQ(n[v], 0);
        CHECK(!vgic_pending(&vg, v));
    }
    CHECK(!rec.locked_call);
}

static void test_random(void)
{
    for (unsigned round = 0; round < 8; round++) {
        fuzz_one(2, 1 + round % VGIC_MAX_VCPUS, false);
        fuzz_one(3, VGIC_MAX_VCPUS - round % VGIC_MAX_VCPUS, false);
    }
}

/* The same, checking the busy bitmaps and flush against a scan of every INTID at each step. */
static void test_busy_bitmaps(void)
{
    for (unsigned round = 0; round < 2; round++) {
        fuzz_one(2, 1 + round * 3, true);
        fuzz_one(3, VGIC_MAX_VCPUS - round * 3, true);
    }
}

/*
 * The refresh that keeps the LRs the guest left alone against the full rebuild: twin takes the
 * same guest accesses, lines and LR round trips as vg but rebuilds every time. Their LRs must be
 * the same set and their interrupt state the same, step by step.
 */
static struct vgic twin;

static int lr_cmp(const void *a, const void *b)
{
    const struct vgic_lr *x = a, *y = b;

    return (int)x->intid - (int)y->intid;
}

/* How the guest moved the LR of intid in round seed: the same in both models. */
static uint8_t guest_moved(uint64_t seed, uint32_t intid, uint8_t state)
{
    uint64_t h = (seed ^ intid) * 0x9e3779b97f4a7c15ull;

    h ^= h >> 29;
    return (uint8_t)((state & (h >> 7)) | ((h >> 13) % 8 == 0 ? VGIC_LR_ACTIVE : 0));
}

static void twins_agree(void)
{
    for (unsigned v = 0; v < vg.nr_vcpus; v++) {
        CHECK(memcmp(vg.cpu[v].priv, twin.cpu[v].priv, sizeof(vg.cpu[v].priv)) == 0);
        CHECK_EQ(vg.cpu[v].priv_busy, twin.cpu[v].priv_busy);
        CHECK_EQ(vg.cpu[v].hw_live, twin.cpu[v].hw_live);
    }
    CHECK(memcmp(vg.spi, twin.spi, sizeof(vg.spi)) == 0);
    CHECK(memcmp(vg.spi_busy, twin.spi_busy, sizeof(vg.spi_busy)) == 0);
}

static unsigned in_place, refreshes, agains; /* how often the refresh could keep the LRs */

static void in_place_one(unsigned version, unsigned nr)
{
    struct vgic_lr la[VGIC_MAX_VCPUS][VGIC_MAX_LRS], lb[VGIC_MAX_VCPUS][VGIC_MAX_LRS];
    unsigned na[VGIC_MAX_VCPUS] = {0}, nb[VGIC_MAX_VCPUS] = {0};

    setup(version, nr);
    if (version == 2)
        linux_v2_init();
    else
        linux_v3_init();
    for (unsigned v = 0; v < nr; v++) {
        vgic_set_hw(&vg, v, VTIMER_PPI, true);
        wr(v, version == 2 ? GICD_ISENABLER : SGI(v) + GICD_ISENABLER, 4, ~0u);
    }
    twin = vg;
    for (unsigned it = 0; it < 20000 && !test_failed_checks; it++) {
        uint64_t r = rnd(), val = rnd();
        unsigned vcpu = (unsigned)(r >> 8) % nr;
        uint32_t intid = (r >> 12) % 4 ? 16 + (uint32_t)(val % 24) : (uint32_t)(val % VGIC_NR_IRQS);
        uint64_t off = version == 3 && (r >> 33) % 2 ? SGI(vcpu) : 0;
        struct vgic saved;

        /* The per-INTID registers up to GICD_ICFGR, GICD_SGIR and the SGI pending registers. */
        off += (r >> 37) % 8 ? (r >> 24) % 0xd00 : 0xf00 + (r >> 24) % 0x30;
        off &= ~3ull;
        switch ((r >> 44) % 10) {
        case 0: {
            int ra = vgic_mmio_write(&vg, vcpu, off, 4, val), rb;

            saved = vg;
            vg = twin;
            rb = vgic_mmio_write(&vg, vcpu, off, 4, val);
            twin = vg;
            vg = saved;
            CHECK_EQ(ra, rb);
            break;
        }
        case 1: {
            uint64_t a = 0, b = 0;
            int ra = vgic_mmio_read(&vg, vcpu, off, 4, &a), rb;

            saved = vg;
            vg = twin;
            rb = vgic_mmio_read(&vg, vcpu, off, 4, &b);
            twin = vg;
            vg = saved;
            CHECK_EQ(ra, rb);
            CHECK_EQ(a, b);
            break;
        }
        case 2:
            vgic_set_level(&vg, vcpu, intid, val % 4 == 0);
            vgic_set_level(&twin, vcpu, intid, val % 4 == 0);
            break;
        case 3:
            vgic_inject_edge(&vg, vcpu, intid);
            vgic_inject_edge(&twin, vcpu, intid);
            break;
        case 4:
            if (version == 3) {
                val &= 0xff0f00ffffull; /* INTID [27:24] and target list, IRM now and then */
                CHECK_EQ(vgic_sgi1r_write(&vg, vcpu, val), vgic_sgi1r_write(&twin, vcpu, val));
            } else {
                wr(vcpu, GICD_SGIR, 4, val & 0x03ff000f);
                saved = vg;
                vg = twin;
                wr(vcpu, GICD_SGIR, 4, val & 0x03ff000f);
                twin = vg;
                vg = saved;
            }
            break;
        default: {
            unsigned max = 2 + (unsigned)(val >> 8) % 7;
            int raise = (val >> 16) % 4 == 0 ? VTIMER_PPI : -1;
            bool ma, mb;

            for (unsigned i = 0; i < na[vcpu]; i++)
                la[vcpu][i].state = guest_moved(r, la[vcpu][i].intid, la[vcpu][i].state);
            for (unsigned i = 0; i < nb[vcpu]; i++)
                lb[vcpu][i].state = guest_moved(r, lb[vcpu][i].intid, lb[vcpu][i].state);
            in_place += !vg.cpu[vcpu].full && !vg.cpu[vcpu].overflow;
            refreshes++;
            /* As vgic_hw_forwarded does: the timer's done LR offered again, if that is all. */
            for (unsigned i = 0; i < na[vcpu] && raise >= 0; i++)
                if (la[vcpu][i].intid == (uint32_t)raise && la[vcpu][i].hw &&
                    la[vcpu][i].state == VGIC_LR_INVALID && vgic_hw_again(&vg, vcpu, raise)) {
                    la[vcpu][i].state = VGIC_LR_PENDING;
                    raise = -1;
                    agains++;
                }
            na[vcpu] = vgic_refresh(&vg, vcpu, la[vcpu], na[vcpu], raise, la[vcpu], max, &ma);
            raise = (val >> 16) % 4 == 0 ? VTIMER_PPI : -1;
            twin.cpu[vcpu].full = true;
            nb[vcpu] = vgic_refresh(&twin, vcpu, lb[vcpu], nb[vcpu], raise, lb[vcpu], max, &mb);
            CHECK_EQ(na[vcpu], nb[vcpu]);
            CHECK_EQ(ma, mb);
            if (na[vcpu] != nb[vcpu])
                return;
            struct vgic_lr sa[VGIC_MAX_LRS], sb[VGIC_MAX_LRS];
            memcpy(sa, la[vcpu], sizeof(sa));
            memcpy(sb, lb[vcpu], sizeof(sb));
            qsort(sa, na[vcpu], sizeof(sa[0]), lr_cmp);
            qsort(sb, nb[vcpu], sizeof(sb[0]), lr_cmp);
            for (unsigned i = 0; i < na[vcpu]; i++) {
                CHECK_EQ(sa[i].intid, sb[i].intid);
                CHECK_EQ(sa[i].source, sb[i].source);
                CHECK_EQ(sa[i].priority, sb[i].priority);
                CHECK_EQ(sa[i].state, sb[i].state);
                CHECK_EQ(sa[i].group1, sb[i].group1);
                CHECK_EQ(sa[i].hw, sb[i].hw);
                CHECK_EQ(sa[i].notify_eoi, sb[i].notify_eoi);
            }
            break;
        }
        }
        twins_agree();
    }
    CHECK(!rec.locked_call);
}

static void test_refresh_in_place(void)
{
    in_place = refreshes = agains = 0;
    for (unsigned round = 0; round < 4; round++) {
        in_place_one(2, 1 + round);
        in_place_one(3, VGIC_MAX_VCPUS - round);
    }
    /* The point is the in-place path: it must have been taken a good share of the time. */
    CHECK(in_place * 4 > refreshes);
    CHECK(agains > 50); /* and the timer's shortcut, vgic_hw_again */
}

/* The granule maps of the register tables say what a search of each table says, offset by offset.
 */
static void test_reg_granules(void)
{
    const struct vgic_irq_regs *tables[] = {&vgic_v2_dist_regs, &vgic_v3_dist_regs,
                                            &vgic_v3_sgi_regs};

    for (unsigned t = 0; t < 3; t++) {
        unsigned found = 0, total = 0;

        for (unsigned i = 0; i < tables[t]->n; i++)
            total += tables[t]->regs[i].len;
        for (uint32_t off = 0; off < 0x10000; off++) {
            const struct vgic_irq_reg *want = NULL;

            for (unsigned i = 0; i < tables[t]->n; i++)
                if (off >= tables[t]->regs[i].offset &&
                    off < tables[t]->regs[i].offset + tables[t]->regs[i].len)
                    want = &tables[t]->regs[i];
            CHECK(vgic_irq_reg_find(tables[t], off) == want);
            found += want != NULL;
            if (test_failed_checks)
                return;
        }
        CHECK_EQ(found, total); /* the arrays do not overlap, and each was found whole */
    }
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"vgic/v2_ids", test_v2_ids},
        {"vgic/bad_accesses", test_bad_accesses},
        {"vgic/v2_level_spi", test_v2_level_spi},
        {"vgic/v2_sgi_sources", test_v2_sgi_sources},
        {"vgic/v2_sgir_filters", test_v2_sgir_filters},
        {"vgic/v2_itargetsr", test_v2_itargetsr},
        {"vgic/config_and_priority", test_config_and_priority},
        {"vgic/flush_order_and_more", test_flush_order_and_more},
        {"vgic/level_ppi_notify", test_level_ppi_notify},
        {"vgic/hw_ppi", test_hw_ppi},
        {"vgic/lr_encode", test_lr_encode},
        {"vgic/pending_active_registers", test_pending_active_registers},
        {"vgic/v3_ids_and_redists", test_v3_ids_and_redists},
        {"vgic/v3_sgi1r", test_v3_sgi1r},
        {"vgic/v3_irouter", test_v3_irouter},
        {"vgic/reset", test_reset},
        {"vgic/threads", test_threads},
        {"vgic/random", test_random},
        {"vgic/busy_bitmaps", test_busy_bitmaps},
        {"vgic/refresh_in_place", test_refresh_in_place},
        {"vgic/reg_granules", test_reg_granules},
    };

    return test_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
