/* psci.c - calls into the PSCI firmware (QEMU's built-in one on virt) through HVC or SMC. */
#include "arch/cpu.h"
#include "arch/psci.h"
#include "arch/sysreg.h"
#include "lib/errno.h"

static enum fdt_psci psci_conduit;

int psci_init(enum fdt_psci conduit)
{
    /* At EL2 an HVC would trap to ourselves: only SMC reaches the firmware. */
    if (CUR_EL == 2 && conduit != FDT_PSCI_SMC)
        return -ENODEV;
    if (conduit == FDT_PSCI_NONE)
        return -ENODEV;
    psci_conduit = conduit;
    return 0;
}

int64_t psci_call(uint32_t fn, uint64_t a1, uint64_t a2, uint64_t a3)
{
    register uint64_t x0 __asm__("x0") = fn;
    register uint64_t x1 __asm__("x1") = a1;
    register uint64_t x2 __asm__("x2") = a2;
    register uint64_t x3 __asm__("x3") = a3;

    if (psci_conduit == FDT_PSCI_HVC)
        __asm__ volatile("hvc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)::"memory");
    else if (psci_conduit == FDT_PSCI_SMC)
        __asm__ volatile("smc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)::"memory");
    else
        return PSCI_NOT_SUPPORTED;
    return (int64_t)x0;
}

int psci_cpu_on(uint64_t mpidr, uint64_t entry_pa, uint64_t context)
{
    int64_t r = psci_call(PSCI_CPU_ON, mpidr, entry_pa, context);

    return r == PSCI_SUCCESS ? 0 : (int)r;
}

void psci_system_off(void)
{
    psci_call(PSCI_SYSTEM_OFF, 0, 0, 0);
    /* Only reached if the firmware refused. */
    cpu_halt();
}
