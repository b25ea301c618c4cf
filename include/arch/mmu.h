/* mmu.h - the kernel's own translation tables (built from the device tree at boot). */
#ifndef ARCH_MMU_H
#define ARCH_MMU_H

#include <stdint.h>

#include "lib/fdt.h"

extern uint64_t mmu_kernel_ttbr; /* PA of the kernel's root table, for CPUs starting up */

/* Build the final kernel map (RAM, kernel image with W^X, discovered devices) and switch to it. */
void mmu_init(const struct fdt_platform *plat);
/* Per-CPU part of mmu_init for secondaries (they start on the final tables already). */
void mmu_cpu_init(void);

/* Kernel image bounds (linker symbols). */
extern char _kernel_start[], _kernel_end[], _text_start[], _text_end[];
extern char _rodata_start[], _rodata_end[], _data_start[], _bss_end[];

#endif
