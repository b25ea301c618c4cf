/* pmuprobe.c - bootargs pmuprobe=write|read: PMU and debug state one VM leaves for the next.
 *
 * write: put marker values into the PMU and debug registers, arm a breakpoint and a watchpoint,
 * open the cycle counter to EL0, check they all work, print `TESTOS PMUPROBE armed`, wait for a
 * line on the console, then check that everything is still as it was (another VM ran meanwhile).
 * read: check that none of the markers is visible, that no breakpoint or watchpoint fires, that
 * EL0 cannot read the cycle counter; then, as in write, that no counter counts at EL2. Both then
 * check that a nonexistent PMU counter is UNDEFINED, report what reading an IMPLEMENTATION
 * DEFINED register did, and end with `TESTOS PMUPROBE done`.
 */
#include "pmuprobe.h"
#include "check.h"
#include "console.h"
#include "exception.h"
#include "platform.h"
#include "psci.h"
#include "smp.h"

#define ESR_EC(esr)       (((esr) >> 26) & 0x3f)
#define EC_UNKNOWN        0x00
#define EC_SYSREG         0x18
#define EC_BREAKPOINT_CUR 0x31
#define EC_WATCHPOINT_CUR 0x35
#define MDSCR_KDE         (1UL << 13)
#define MDSCR_MDE         (1UL << 15)
#define BCR_ARM           0x1e7UL  /* E, PMC EL1+EL0, BAS all: unlinked address match */
#define WCR_ARM           0x1fffUL /* E, PAC EL1+EL0, LSC load+store, BAS 8 bytes */
#define PMCR_E            1UL
#define CYCLE_BIT         (1UL << 31)
#define FILTER_P          (1UL << 31) /* do not count at EL1 */
#define FILTER_U          (1UL << 30) /* do not count at EL0 */
#define FILTER_NSK        (1UL << 29)
#define FILTER_NSH        (1UL << 27) /* count at EL2 */
#define MARK_EVTYPER      (FILTER_NSK | FILTER_NSH | 0x11UL)
#define MARK_EVCNTR       0x5a5a1234UL
#define MARK_CCNTR        0x123456789aUL
#define MARK_SELR         3UL
#define MARK_USERENR      0xfUL /* EN, SW, CR, ER */
#define MARK_CCFILTR      (FILTER_P | FILTER_U | FILTER_NSK | FILTER_NSH)
#define EL0_TRAPPED       0xdead
#define HVC_ROUNDS        16

extern void pmuprobe_bp_target(void);
extern const char pmuprobe_el0_read_ccntr[];

static volatile uint64_t watched __attribute__((aligned(8)));

/** The registers a VM could leave behind, as one VM reads them. */
struct probe_regs {
    uint64_t bvr0, bcr0, wvr0, wcr0, evtyper0, evcntr0, ccntr, selr, userenr, ccfiltr;
};

static const char *const reg_names[] = {
    "DBGBVR0_EL1",   "DBGBCR0_EL1", "DBGWVR0_EL1", "DBGWCR0_EL1",   "PMEVTYPER0_EL0",
    "PMEVCNTR0_EL0", "PMCCNTR_EL0", "PMSELR_EL0",  "PMUSERENR_EL0", "PMCCFILTR_EL0",
};

bool pmuprobe_wanted(void)
{
    return platform_bootarg("pmuprobe=write") || platform_bootarg("pmuprobe=read");
}

/* What VM A writes; what it reads back has NSH cleared (no counting at EL2). */
static struct probe_regs markers(bool as_read_back)
{
    uint64_t nsh = as_read_back ? FILTER_NSH : 0;

    return (struct probe_regs){
        .bvr0 = (uintptr_t)pmuprobe_bp_target,
        .bcr0 = BCR_ARM,
        .wvr0 = (uintptr_t)&watched,
        .wcr0 = WCR_ARM,
        .evtyper0 = MARK_EVTYPER & ~nsh,
        .evcntr0 = MARK_EVCNTR,
        .ccntr = MARK_CCNTR,
        .selr = MARK_SELR,
        .userenr = MARK_USERENR,
        .ccfiltr = MARK_CCFILTR & ~nsh,
    };
}

static struct probe_regs regs_read(void)
{
    return (struct probe_regs){
        .bvr0 = read_sysreg(dbgbvr0_el1),
        .bcr0 = read_sysreg(dbgbcr0_el1),
        .wvr0 = read_sysreg(dbgwvr0_el1),
        .wcr0 = read_sysreg(dbgwcr0_el1),
        .evtyper0 = read_sysreg(pmevtyper0_el0),
        .evcntr0 = read_sysreg(pmevcntr0_el0),
        .ccntr = read_sysreg(pmccntr_el0),
        .selr = read_sysreg(pmselr_el0),
        .userenr = read_sysreg(pmuserenr_el0),
        .ccfiltr = read_sysreg(pmccfiltr_el0),
    };
}

static void regs_write(const struct probe_regs *r)
{
    write_sysreg(pmcr_el0, 0); /* nothing counts: the counters keep their markers */
    write_sysreg(pmevtyper0_el0, r->evtyper0);
    write_sysreg(pmevcntr0_el0, r->evcntr0);
    write_sysreg(pmccntr_el0, r->ccntr);
    write_sysreg(pmselr_el0, r->selr);
    write_sysreg(pmuserenr_el0, r->userenr);
    write_sysreg(pmccfiltr_el0, r->ccfiltr);
    write_sysreg(dbgbvr0_el1, r->bvr0);
    write_sysreg(dbgbcr0_el1, r->bcr0);
    write_sysreg(dbgwvr0_el1, r->wvr0);
    write_sysreg(dbgwcr0_el1, r->wcr0);
    isb();
}

static const uint64_t *reg_at(const struct probe_regs *r, unsigned int i)
{
    return (const uint64_t *)r + i;
}

/* Debug exceptions on at EL1 for this VM: OS lock open, MDE and KDE, PSTATE.D clear while we
 * call the breakpoint target and load the watched word. Returns {breakpoints, watchpoints}. */
static void debug_hits(unsigned int *bp, unsigned int *wp)
{
    struct exception_caught c;

    write_sysreg(oslar_el1, 0);
    write_sysreg(mdscr_el1, MDSCR_MDE | MDSCR_KDE);
    isb();
    exception_catch(&c);
    __asm__ volatile("msr daifclr, #8\n\tisb" ::: "memory");
    pmuprobe_bp_target();
    *bp = c.count;
    if (c.count && ESR_EC(c.esr) != EC_BREAKPOINT_CUR)
        check_fail("pmuprobe-debug", "breakpoint target: exception ESR 0x%lx", c.esr);
    c.count = 0;
    uint64_t word;
    __asm__ volatile("ldr %0, [%1]" : "=r"(word) : "r"(&watched) : "memory");
    (void)word;
    *wp = c.count;
    if (c.count && ESR_EC(c.esr) != EC_WATCHPOINT_CUR)
        check_fail("pmuprobe-debug", "watched load: exception ESR 0x%lx", c.esr);
    __asm__ volatile("msr daifset, #8\n\tisb" ::: "memory");
    exception_catch(NULL);
}

/* PMCCNTR_EL0 read at EL0 (EL0_TRAPPED if that trapped to our EL1). */
static uint64_t el0_read_ccntr(unsigned int *traps)
{
    struct exception_caught c;
    uint64_t el0_pc = (uintptr_t)pmuprobe_el0_read_ccntr - TESTOS_DEVICE_LIMIT + TESTOS_EL0_ALIAS;
    uint64_t val;

    exception_catch(&c);
    val = exception_el0_call(el0_pc);
    exception_catch(NULL);
    irq_enable();
    *traps = c.count;
    if (c.count && ESR_EC(c.esr) != EC_SYSREG && ESR_EC(c.esr) != EC_UNKNOWN)
        check_fail("pmuprobe-el0", "PMCCNTR_EL0 at EL0: exception ESR 0x%lx", c.esr);
    return val;
}

/* The cycle counter, filtered to count only at EL2, must not move across HVCs. */
static void check_el2_cycles(void)
{
    uint64_t saved_cr = read_sysreg(pmcr_el0), saved_filter = read_sysreg(pmccfiltr_el0);
    uint64_t saved_ccntr = read_sysreg(pmccntr_el0), cycles, filter;

    write_sysreg(pmcr_el0, 0);
    write_sysreg(pmccfiltr_el0, FILTER_P | FILTER_U | FILTER_NSH);
    write_sysreg(pmccntr_el0, 0);
    write_sysreg(pmcntenset_el0, CYCLE_BIT);
    write_sysreg(pmcr_el0, PMCR_E);
    isb();
    for (unsigned int i = 0; i < HVC_ROUNDS; i++)
        psci_call(PSCI_VERSION, 0, 0, 0);
    write_sysreg(pmcr_el0, 0);
    isb();
    cycles = read_sysreg(pmccntr_el0);
    filter = read_sysreg(pmccfiltr_el0);
    write_sysreg(pmcntenclr_el0, CYCLE_BIT);
    write_sysreg(pmccfiltr_el0, saved_filter);
    write_sysreg(pmccntr_el0, saved_ccntr);
    write_sysreg(pmcr_el0, saved_cr);
    isb();
    if (cycles || (filter & FILTER_NSH))
        check_fail("pmuprobe-el2-cycles",
                   "%lu cycles counted at EL2 over %u PSCI calls (PMCCFILTR_EL0 0x%lx)", cycles,
                   HVC_ROUNDS, filter);
    check_pass("pmuprobe-el2-cycles", "0 cycles at EL2 over %u PSCI calls, NSH reads 0",
               HVC_ROUNDS);
}

/*
 * PMXEVCNTR_EL0 with PMSELR_EL0.SEL = 31 (no such event counter) is CONSTRAINED UNPREDICTABLE;
 * a hypervisor that traps the PMU (Avatar) makes it UNDEFINED, with the exception taken here.
 */
static void check_undef(void)
{
    struct exception_caught c;
    uint64_t sel = read_sysreg(pmselr_el0), val = 0;

    write_sysreg(pmselr_el0, 31);
    isb();
    exception_catch(&c);
    __asm__ volatile("mrs %0, pmxevcntr_el0" : "+r"(val));
    exception_catch(NULL);
    write_sysreg(pmselr_el0, sel);
    if (c.count != 1 || ESR_EC(c.esr) != EC_UNKNOWN)
        check_fail("pmuprobe-undef",
                   "PMXEVCNTR_EL0 of counter 31 read 0x%lx with %u exceptions "
                   "(ESR 0x%lx)",
                   val, c.count, c.esr);
    check_pass("pmuprobe-undef", "PMXEVCNTR_EL0 of counter 31: UNDEF, ESR 0x%lx", c.esr);
}

/*
 * S3_1_C15_C2_0 (CPUACTLR_EL1 on Cortex-A57/A72) is IMPLEMENTATION DEFINED: a hypervisor setting
 * HCR_EL2.TIDCP traps it and should give an UNDEF. Reported, not checked: a CPU that ignores
 * TIDCP (QEMU before 8.1) never traps it, and the reader of the line knows which CPU it is.
 */
static void report_impdef(void)
{
    struct exception_caught c;
    uint64_t val = 0;

    exception_catch(&c);
    __asm__ volatile("mrs %0, S3_1_C15_C2_0" : "+r"(val));
    exception_catch(NULL);
    if (c.count == 1 && ESR_EC(c.esr) == EC_UNKNOWN)
        console_printf("TESTOS PMUPROBE impdef UNDEF (ESR 0x%lx)\n", c.esr);
    else
        console_printf("TESTOS PMUPROBE impdef read 0x%lx (%u exceptions)\n", val, c.count);
}

/* Everything VM A set is still there and still works. */
static void check_own(const char *when)
{
    struct probe_regs want = markers(true), got = regs_read();
    unsigned int bp, wp, traps;
    uint64_t el0;

    for (unsigned int i = 0; i < sizeof(reg_names) / sizeof(reg_names[0]); i++)
        if (*reg_at(&got, i) != *reg_at(&want, i))
            check_fail("pmuprobe-own", "%s: %s reads 0x%lx, wrote 0x%lx", when, reg_names[i],
                       *reg_at(&got, i), *reg_at(&want, i));
    debug_hits(&bp, &wp);
    el0 = el0_read_ccntr(&traps);
    if (bp != 1 || wp != 1 || traps || el0 != MARK_CCNTR)
        check_fail("pmuprobe-own",
                   "%s: %u breakpoint and %u watchpoint exceptions (1 each expected), EL0 "
                   "read PMCCNTR_EL0 0x%lx with %u traps",
                   when, bp, wp, el0, traps);
    check_pass("pmuprobe-own",
               "%s: markers read back, NSH masked, breakpoint and watchpoint fire, "
               "EL0 reads the cycle counter",
               when);
}

static void wait_for_line(void)
{
    uint32_t seen = *console_rx_irq_count();
    int c;

    console_rx_start(platform.uart_irq);
    for (;;) {
        smp_wait_irq(console_rx_irq_count(), seen + 1);
        seen = *console_rx_irq_count();
        while ((c = console_rx_pop()) >= 0)
            if (c == '\r' || c == '\n')
                return;
    }
}

static void probe_write(void)
{
    struct probe_regs m = markers(false);

    check_el2_cycles();
    regs_write(&m);
    check_own("armed");
    console_printf("TESTOS PMUPROBE armed\n");
    wait_for_line();
    check_own("after input");
}

static void probe_read(void)
{
    struct probe_regs mine, theirs = markers(true), written = markers(false);
    unsigned int bp, wp, traps;
    uint64_t el0;

    /* First, before this VM touches its own PMU at all: what EL0 is given. */
    el0 = el0_read_ccntr(&traps);
    if (traps != 1)
        check_fail("pmuprobe-el0", "EL0 read PMCCNTR_EL0 = 0x%lx: PMUSERENR_EL0 is not this VM's",
                   el0);
    check_pass("pmuprobe-el0", "PMCCNTR_EL0 at EL0 trapped to EL1");
    mine = regs_read();
    for (unsigned int i = 0; i < sizeof(reg_names) / sizeof(reg_names[0]); i++) {
        uint64_t v = *reg_at(&mine, i);
        if (v == *reg_at(&theirs, i) || v == *reg_at(&written, i))
            check_fail("pmuprobe-clean", "%s reads 0x%lx: another VM's value", reg_names[i], v);
    }
    check_pass("pmuprobe-clean",
               "BVR0 0x%lx WVR0 0x%lx EVCNTR0 0x%lx CCNTR 0x%lx SELR %lu "
               "USERENR 0x%lx CCFILTR 0x%lx",
               mine.bvr0, mine.wvr0, mine.evcntr0, mine.ccntr, mine.selr, mine.userenr,
               mine.ccfiltr);
    debug_hits(&bp, &wp);
    if (bp || wp)
        check_fail("pmuprobe-debug", "%u breakpoint and %u watchpoint exceptions this VM never set",
                   bp, wp);
    check_pass("pmuprobe-debug", "no breakpoint or watchpoint fired");
    check_el2_cycles();
}

/* GICv3: the other two SGI registers are taken (here with an empty target list, so nothing is
 * delivered), not a reason to stop the VM. */
static void check_sgi_registers(void)
{
    if (platform.gic_version != 3)
        return;
    write_sysreg(S3_0_C12_C11_7, 0); /* ICC_SGI0R_EL1 */
    write_sysreg(S3_0_C12_C11_6, 0); /* ICC_ASGI1R_EL1 */
    isb();
    check_pass("pmuprobe-sgi-regs", "ICC_SGI0R_EL1 and ICC_ASGI1R_EL1 written");
}

void pmuprobe_run(void)
{
    if (platform_bootarg("pmuprobe=write"))
        probe_write();
    else
        probe_read();
    check_undef();
    check_sgi_registers();
    report_impdef();
    console_printf("TESTOS PMUPROBE done\n");
}
