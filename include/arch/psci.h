/* psci.h - PSCI client (Arm DEN 0022): CPU_ON, SYSTEM_OFF over the device tree's conduit. */
#ifndef ARCH_PSCI_H
#define ARCH_PSCI_H

#include <stdint.h>

#include "lib/fdt.h"

#define PSCI_VERSION           0x84000000u
#define PSCI_CPU_OFF           0x84000002u
#define PSCI_CPU_ON            0xc4000003u
#define PSCI_AFFINITY_INFO     0xc4000004u
#define PSCI_MIGRATE_INFO_TYPE 0x84000006u
#define PSCI_SYSTEM_OFF        0x84000008u
#define PSCI_SYSTEM_RESET      0x84000009u
#define PSCI_FEATURES          0x8400000au

#define PSCI_SUCCESS            0
#define PSCI_NOT_SUPPORTED      -1
#define PSCI_INVALID_PARAMETERS -2
#define PSCI_DENIED             -3
#define PSCI_ALREADY_ON         -4
#define PSCI_ON_PENDING         -5
#define PSCI_INTERNAL_FAILURE   -6
#define PSCI_NOT_PRESENT        -7
#define PSCI_DISABLED           -8
#define PSCI_INVALID_ADDRESS    -9

int psci_init(enum fdt_psci conduit);
int64_t psci_call(uint32_t fn, uint64_t a1, uint64_t a2, uint64_t a3);
int psci_cpu_on(uint64_t mpidr, uint64_t entry_pa, uint64_t context);
void psci_system_off(void) __attribute__((noreturn));

#endif
