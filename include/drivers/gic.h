/* gic.h - interrupt controller (GICv2 or GICv3, chosen from the device tree) and IRQ registration.
 */
#ifndef DRIVERS_GIC_H
#define DRIVERS_GIC_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/fdt.h"

#define GIC_MAX_INTID 1020
#define GIC_SPURIOUS  1023

/* SGIs (software-generated interrupts, INTID 0-15) used between CPUs. */
#define SGI_RESCHEDULE 0
#define SGI_PING       1
#define SGI_STOP       2
#define SGI_VCPU_KICK  3 /* make a CPU leave the guest it runs (vmm) */

typedef void (*irq_handler_t)(unsigned int intid, void *arg);

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

int gic_init(const struct fdt_platform *plat);
void gic_cpu_init(void);
int gic_version(void);
/* Install handler for intid and enable it (PPIs/SGIs: on the calling CPU). */
int irq_register(unsigned int intid, irq_handler_t fn, void *arg);
/* Enable an already registered PPI on the calling CPU (per-CPU part of bring-up). */
void irq_enable_local(unsigned int intid);
/* Disable an SGI/PPI on the calling CPU only (SPIs: everywhere). */
void irq_disable_local(unsigned int intid);
void gic_send_sgi(unsigned int cpu, unsigned int sgi);
/*
 * Deliver SPI intid to the calling CPU from now on (call with IRQs masked, so that the CPU
 * stays the caller's). An interrupt already pending or active finishes where it was.
 */
void irq_route_here(unsigned int intid);
/*
 * The handler of intid ends its active state itself (irq_deactivate), or hands that to a guest
 * through a hardware-mapped list register: gic_handle_irq only drops the running priority.
 */
void irq_set_forwarded(unsigned int intid, bool forwarded);
void irq_deactivate(unsigned int intid);
/* Set or clear the active state of an SGI/PPI on the calling CPU. */
void irq_set_active_local(unsigned int intid, bool active);
/* Acknowledge and dispatch every pending interrupt (called from the IRQ vector). */
void gic_handle_irq(void);
uint64_t irq_count(unsigned int intid);

#endif
