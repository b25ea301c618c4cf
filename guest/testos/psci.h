/* psci.h - TestOS's PSCI client (Arm DEN0022), over the conduit the platform names. */
#ifndef TESTOS_PSCI_H
#define TESTOS_PSCI_H

#include "arch.h"

#define PSCI_VERSION           0x84000000u
#define PSCI_CPU_ON            0xc4000003u
#define PSCI_AFFINITY_INFO     0xc4000004u
#define PSCI_MIGRATE_INFO_TYPE 0x84000006u
#define PSCI_SYSTEM_OFF        0x84000008u
#define PSCI_FEATURES          0x8400000au

#define PSCI_SUCCESS       0
#define PSCI_NOT_SUPPORTED (-1)
#define PSCI_AFF_ON        0

bool psci_ready(void);
int64_t psci_call(uint32_t fn, uint64_t a1, uint64_t a2, uint64_t a3);
__attribute__((noreturn)) void psci_system_off(void);

#endif
