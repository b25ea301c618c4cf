/* gic.c - TestOS's GIC front end: pick the driver the platform names, shared helpers. */
#include "gic.h"
#include "platform.h"

static const struct gic_ops *ops;

/** Distributor set-up (boot CPU, once, before any CPU calls gic_cpu_init). */
void gic_init(void)
{
    ops = platform.gic_version == 3 ? &gic_v3_ops : &gic_v2_ops;
    ops->init();
}

/** The calling CPU's interface (and, on GICv3, its redistributor). */
void gic_cpu_init(void)
{
    ops->cpu_init();
}

/** Enable intid: SGIs and PPIs for the calling CPU, SPIs routed to the boot CPU. Level. */
void gic_enable_irq(unsigned int intid)
{
    ops->enable_irq(intid);
}

/** Send SGI intid to the CPU with TestOS index cpu_index. */
void gic_send_sgi(unsigned int cpu_index, unsigned int intid)
{
    __asm__ volatile("dsb ish" ::: "memory"); /* stores before the SGI are seen by its handler */
    ops->send_sgi(cpu_index, intid);
}

uint32_t gic_ack(void)
{
    return ops->ack();
}

void gic_eoi(uint32_t iar)
{
    ops->eoi(iar);
}

unsigned int gic_intid(uint32_t iar)
{
    return iar & ops->intid_mask;
}

uint32_t gic_dist_read(uint32_t offset)
{
    return mmio_read32(platform.gicd + offset);
}

/** GICD_PIDR2 where the platform's GIC version has it; usable before gic_init. */
uint32_t gic_pidr2(void)
{
    return gic_dist_read(platform.gic_version == 3 ? gic_v3_ops.pidr2 : gic_v2_ops.pidr2);
}

void gic_set_byte(uintptr_t reg_base, unsigned int intid, uint8_t val)
{
    uintptr_t reg = reg_base + (intid & ~3u);
    unsigned int shift = 8 * (intid & 3);

    mmio_write32(reg, (mmio_read32(reg) & ~(0xffu << shift)) | (uint32_t)val << shift);
}

void gic_set_level_triggered(uintptr_t cfg_base, unsigned int intid)
{
    uintptr_t reg = cfg_base + 4 * (intid / 16);

    mmio_write32(reg, mmio_read32(reg) & ~(2u << (2 * (intid % 16))));
}

/** Poll until bits clear in reg; false after a bound no working GIC needs. */
bool gic_wait_clear(uintptr_t reg, uint32_t bits)
{
    for (unsigned int i = 0; i < 1000000; i++)
        if (!(mmio_read32(reg) & bits))
            return true;
    return false;
}
