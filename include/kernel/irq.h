/* irq.h - the interrupt interface of the core: registration, per-CPU enables, IPIs, dispatch. */
#ifndef KERNEL_IRQ_H
#define KERNEL_IRQ_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Implemented by the interrupt controller driver (drivers/gic.c), so that arch/ and the core
 * name no controller. Interrupt numbers are the controller's INTIDs: 0-15 are IPIs (SGIs), 16-31
 * per-CPU (PPIs), 32 and up shared (SPIs).
 */

struct fdt_platform;

/* IPIs (software-generated interrupts) used between CPUs. */
#define SGI_RESCHEDULE 0
#define SGI_PING       1
#define SGI_STOP       2
#define SGI_VCPU_KICK  3 /* make a CPU leave the guest it runs (vmm) */

typedef void (*irq_handler_t)(unsigned int intid, void *arg);

/* Find the controller the device tree describes and bring up its shared part (boot CPU). */
int irq_init(const struct fdt_platform *plat);
/* This CPU's part of the controller (every CPU, before it unmasks IRQs). */
void irq_cpu_init(void);
/* Install handler for intid and enable it (PPIs/SGIs: on the calling CPU). */
int irq_register(unsigned int intid, irq_handler_t fn, void *arg);
/* Enable an already registered PPI on the calling CPU (per-CPU part of bring-up). */
void irq_enable_local(unsigned int intid);
/* Disable an SGI/PPI on the calling CPU only (SPIs: everywhere). */
void irq_disable_local(unsigned int intid);
/* Send IPI sgi to cpu. */
void irq_send_ipi(unsigned int cpu, unsigned int sgi);
/*
 * Deliver SPI intid to the calling CPU from now on (call with IRQs masked, so that the CPU
 * stays the caller's). An interrupt already pending or active finishes where it was.
 */
void irq_route_here(unsigned int intid);
/*
 * The handler of intid ends its active state itself (irq_deactivate), or hands that to a guest
 * through a hardware-mapped list register: irq_handle only drops the running priority.
 */
void irq_set_forwarded(unsigned int intid, bool forwarded);
void irq_deactivate(unsigned int intid);
/* Set or clear the active state of an SGI/PPI on the calling CPU. */
void irq_set_active_local(unsigned int intid, bool active);
/* Acknowledge and dispatch every pending interrupt (called from the IRQ vector). */
void irq_handle(void);
uint64_t irq_count(unsigned int intid);

#endif
