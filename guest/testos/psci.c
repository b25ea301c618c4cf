/* psci.c - TestOS's PSCI client: SMC Calling Convention calls over hvc or smc. */
#include "psci.h"
#include "platform.h"

bool psci_ready(void)
{
    return platform.conduit != PSCI_NONE;
}

/** One SMCCC call; x4-x17 may be clobbered by SMCCC 1.0 implementations. */
int64_t psci_call(uint32_t fn, uint64_t a1, uint64_t a2, uint64_t a3)
{
    register uint64_t x0 __asm__("x0") = fn;
    register uint64_t x1 __asm__("x1") = a1;
    register uint64_t x2 __asm__("x2") = a2;
    register uint64_t x3 __asm__("x3") = a3;

    if (platform.conduit == PSCI_SMC)
        __asm__ volatile("smc #0"
                         : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)
                         :
                         : "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14",
                           "x15", "x16", "x17", "memory");
    else
        __asm__ volatile("hvc #0"
                         : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)
                         :
                         : "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14",
                           "x15", "x16", "x17", "memory");
    /* SMC32/HVC32 functions return in w0 (SMCCC 2.6); SMC64 ones (bit 30) in x0. */
    return (fn & 0x40000000u) ? (int64_t)x0 : (int32_t)x0;
}

/** SYSTEM_OFF; should it return, this CPU stops here. */
void psci_system_off(void)
{
    psci_call(PSCI_SYSTEM_OFF, 0, 0, 0);
    for (;;)
        wfi();
}
