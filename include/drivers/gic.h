/* gic.h - the GIC driver (GICv2 or GICv3, from the device tree) behind the core's kernel/irq.h. */
#ifndef DRIVERS_GIC_H
#define DRIVERS_GIC_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/irq.h"
#include "lib/fdt.h"

#define GIC_MAX_INTID 1020
#define GIC_SPURIOUS  1023

/* Hardware-specific half: one per GIC version. */
struct gic_ops {
    const char *name;
    int (*init)(const struct fdt_platform *plat);
    void (*cpu_init)(void);
    void (*enable)(unsigned int intid);     /* SPIs are routed to the calling CPU */
    void (*route_here)(unsigned int intid); /* an SPI: to the calling CPU from now on */
    void (*disable)(unsigned int intid);
    uint32_t (*ack)(void);
    void (*eoi)(uint32_t iar);        /* priority drop only (EOImode 1) */
    void (*deactivate)(uint32_t iar); /* as acknowledged (v2 SGIs carry their source) */
    void (*set_active_local)(unsigned int intid, bool active); /* an SGI/PPI of this CPU */
    void (*send_sgi)(unsigned int cpu, unsigned int sgi);
};

extern const struct gic_ops gicv2_ops;
extern const struct gic_ops gicv3_ops;

/* GIC architecture version, 2 or 3 (after irq_init). */
int gic_version(void);

#endif
