/* panic.c - the fatal-error path: one report (syndrome, registers, backtrace), then every CPU
 * stops. */
#include <stdarg.h>
#include <stdbool.h>

#include "arch/cpu.h"
#include "arch/sysreg.h"
#include "kernel/panic.h"
#include "kernel/platform.h"
#include "kernel/printk.h"
#include "kernel/smp.h"

#define BACKTRACE_MAX 32

static int panicking; /* first CPU to panic owns the report */

static const char *ec_name(unsigned int ec)
{
    switch (ec) {
    case EC_UNKNOWN: return "unknown reason";
    case EC_WFX: return "WFI/WFE";
    case EC_SVC64: return "SVC";
    case EC_HVC64: return "HVC";
    case EC_SMC64: return "SMC";
    case EC_SYSREG: return "system register access";
    case EC_IABT_LOW: return "instruction abort from a lower level";
    case EC_IABT_CUR: return "instruction abort";
    case EC_PC_ALIGN: return "PC alignment fault";
    case EC_DABT_LOW: return "data abort from a lower level";
    case EC_DABT_CUR: return "data abort";
    case EC_SP_ALIGN: return "SP alignment fault";
    case EC_SERROR: return "SError";
    case EC_BRK64: return "BRK";
    default: return "other";
    }
}

/* Returns false if another CPU is already panicking (this one just stops). */
static bool panic_begin(void)
{
    __asm__ volatile("msr daifset, #0xf" ::: "memory");
    int expected = 0;
    if (!__atomic_compare_exchange_n(&panicking, &expected, 1, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE))
        return false;
    console_enter_panic_mode();
    return true;
}

/* Follow the AAPCS64 frame-record chain {fp, lr}; numbering starts at first. */
static void backtrace_walk(uint64_t fp, int first)
{
    for (int i = first; i < BACKTRACE_MAX && fp; i++) {
        if ((fp & 7) || !platform_va_in_ram(fp, 16)) {
            kprintf("  (frame pointer 0x%lx outside RAM: stop)\n", (unsigned long)fp);
            return;
        }
        const uint64_t *frame = (const uint64_t *)fp;
        if (!frame[1])
            return;
        kprintf("  #%d 0x%016lx\n", i, (unsigned long)(frame[1] - 4));
        fp = frame[0];
    }
}

static void __attribute__((noreturn)) panic_end(void)
{
    smp_stop_others();
    kprintf("system halted\n");
    cpu_halt();
}

void panic(const char *fmt, ...)
{
    va_list ap;

    if (!panic_begin())
        cpu_halt();
    kprintf("\nPANIC: ");
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
    kprintf(" (cpu%u)\n", cpu_id());
    kprintf("backtrace:\n");
    backtrace_walk((uint64_t)__builtin_frame_address(0), 0);
    panic_end();
}

void panic_trap(struct trap_frame *tf, unsigned int vector, const char *why)
{
    unsigned int ec = ESR_EC(tf->esr);

    if (!panic_begin())
        cpu_halt();
    kprintf("\nPANIC: %s (cpu%u, vector %u)\n", why, cpu_id(), vector);
    kprintf("  ESR_EL%d 0x%08lx  EC 0x%02x %s, ISS 0x%07lx\n", CUR_EL, (unsigned long)tf->esr, ec,
            ec_name(ec), (unsigned long)(tf->esr & 0x1ffffff));
    kprintf("  FAR_EL%d 0x%016lx\n", CUR_EL, (unsigned long)tf->far);
    kprintf("  ELR_EL%d 0x%016lx  SPSR 0x%08lx  SP 0x%016lx\n", CUR_EL, (unsigned long)tf->elr,
            (unsigned long)tf->spsr, (unsigned long)tf->sp);
    for (int i = 0; i < 31; i += 2) {
        if (i == 30)
            kprintf("  x30 0x%016lx\n", (unsigned long)tf->x[30]);
        else
            kprintf("  x%-2d 0x%016lx  x%-2d 0x%016lx\n", i, (unsigned long)tf->x[i], i + 1,
                    (unsigned long)tf->x[i + 1]);
    }
    /* Start at the faulting context: its PC, then its frame chain. */
    kprintf("backtrace:\n  #0 0x%016lx (faulting PC)\n", (unsigned long)tf->elr);
    backtrace_walk(tf->x[29], 1);
    panic_end();
}
