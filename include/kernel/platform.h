/* platform.h - what the boot CPU discovered from the device tree, for the rest of the kernel. */
#ifndef KERNEL_PLATFORM_H
#define KERNEL_PLATFORM_H

#include "lib/fdt.h"

extern struct fdt_platform platform; /* written once by the boot CPU before SMP bring-up */
extern uint64_t platform_dtb_pa;

uint64_t platform_ram_bytes(void);
/* True if [va, va+len) lies in RAM as seen through the kernel's linear map. */
int platform_va_in_ram(uint64_t va, uint64_t len);

#endif
