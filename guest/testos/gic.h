/* gic.h - TestOS's interrupt controller front end over the GICv2 and GICv3 drivers. */
#ifndef TESTOS_GIC_H
#define TESTOS_GIC_H

#include "arch.h"

/* Distributor registers common to both versions (GICv2 4.3, GICv3 12.9). */
#define GICD_CTLR       0x0000
#define GICD_TYPER      0x0004
#define GICD_IIDR       0x0008
#define GICD_IGROUPR    0x0080
#define GICD_ISENABLER  0x0100
#define GICD_IPRIORITYR 0x0400
#define GICD_ITARGETSR  0x0800
#define GICD_ICFGR      0x0c00
#define GICD_SGIR       0x0f00
#define GICD_PIDR2_V2   0x0fe8
#define GICD_IROUTER    0x6000
#define GICD_PIDR2_V3   0xffe8

#define GIC_PRIORITY 0xa0 /* every interrupt TestOS uses, well below the PMR's 0xff */

/** One GIC version's driver. */
struct gic_ops {
    void (*init)(void);
    void (*cpu_init)(void);
    void (*enable_irq)(unsigned int intid);
    void (*send_sgi)(unsigned int cpu_index, unsigned int intid);
    uint32_t (*ack)(void);
    void (*eoi)(uint32_t iar);
    uint32_t pidr2;      /* offset of GICD_PIDR2 */
    uint32_t intid_mask; /* INTID field of the acknowledge register */
};

extern const struct gic_ops gic_v2_ops, gic_v3_ops;

void gic_init(void);
void gic_cpu_init(void);
void gic_enable_irq(unsigned int intid);
void gic_send_sgi(unsigned int cpu_index, unsigned int intid);
uint32_t gic_ack(void);
void gic_eoi(uint32_t iar);
unsigned int gic_intid(uint32_t iar);
uint32_t gic_dist_read(uint32_t offset);
uint32_t gic_pidr2(void);

/* Helpers the drivers share: 32-bit read-modify-write of byte and 2-bit fields. */
void gic_set_byte(uintptr_t reg_base, unsigned int intid, uint8_t val);
void gic_set_level_triggered(uintptr_t cfg_base, unsigned int intid);
bool gic_wait_clear(uintptr_t reg, uint32_t bits);

#endif
