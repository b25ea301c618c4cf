/* checks.c - TestOS's self-checks: each passes with a line, or fails the whole run. */
#include "checks.h"
#include "check.h"
#include "console.h"
#include "exception.h"
#include "gic.h"
#include "platform.h"
#include "psci.h"
#include "smp.h"
#include "timer.h"

#define MEMTEST_SIZE        (1UL << 20)
#define PSCI_INVALID_PARAMS (-2)
#define PSCI_ALREADY_ON     (-4)
#define MPIDR_U             (1UL << 30) /* not an affinity field: CPU_ON must refuse it */
#define PSCI_UNKNOWN_FN     0x8400001fu /* reserved in the PSCI range: must be NOT_SUPPORTED */
#define PAR_F               1UL
#define PAR_ATTR(par)       ((par) >> 56)
#define PAR_PA(par)         ((par)&0xfffffffff000UL)
#define ATTR_DEVICE_NGNRNE  0x00
#define ATTR_NORMAL_WB      0xff

extern const char _end[];
extern const char secondary_entry[];

static uint64_t seconds(uint64_t n)
{
    return n * timer_frequency();
}

static void check_dtb(void)
{
    check_pass("dtb",
               "%u CPUs, GICv%u, %lu MiB RAM at 0x%lx, PL011 0x%lx IRQ %u, timers PPI %u/%u, "
               "PSCI over %s",
               platform.ncpus, platform.gic_version, platform.ram_size >> 20, platform.ram_base,
               platform.uart, platform.uart_irq, platform.vtimer_irq, platform.ptimer_irq,
               platform_conduit_name());
}

/* One trap with x0 = arg; returns x0 as the handler left it. */
static uint64_t trap_svc(uint64_t arg)
{
    register uint64_t x0 __asm__("x0") = arg;

    __asm__ volatile("svc %1" : "+r"(x0) : "i"(EXCEPTION_SVC_ECHO) : "memory");
    return x0;
}

static uint64_t trap_brk(uint64_t arg)
{
    register uint64_t x0 __asm__("x0") = arg;

    __asm__ volatile("brk %1" : "+r"(x0) : "i"(EXCEPTION_BRK_SKIP) : "memory");
    return x0;
}

/* An SVC and a BRK must come back through the vectors with the handler's result in x0. */
static void check_vectors(void)
{
    uint64_t svcs = exception_svc_count(), brks = exception_brk_count();
    uint64_t r = trap_svc(0x5a5a);

    if (r != ~0x5a5aUL || exception_svc_count() != svcs + 1)
        check_fail("vectors-svc", "x0 0x%lx after SVC, %lu traps", r, exception_svc_count() - svcs);
    check_pass("vectors-svc", "SVC #0x%x round trip", EXCEPTION_SVC_ECHO);

    r = trap_brk(0xa5a5);
    if (r != ~0xa5a5UL || exception_brk_count() != brks + 1)
        check_fail("vectors-brk", "x0 0x%lx after BRK, %lu traps", r, exception_brk_count() - brks);
    check_pass("vectors-brk", "BRK #0x%x round trip", EXCEPTION_BRK_SKIP);
}

static uint64_t translate(uintptr_t va)
{
    __asm__ volatile("at s1e1r, %0" ::"r"(va));
    isb();
    return read_sysreg(par_el1);
}

/* The MMU is on and maps RAM as normal memory, devices as Device-nGnRnE, both identity. */
static void check_mmu(void)
{
    uintptr_t ram = (uintptr_t)&platform, dev = platform.uart;
    uint64_t par_ram = translate(ram), par_dev = translate(dev);

    if (!(read_sysreg(sctlr_el1) & 1))
        check_fail("mmu", "SCTLR_EL1.M is 0");
    if ((par_ram & PAR_F) || PAR_PA(par_ram) != (ram & ~0xfffUL) ||
        PAR_ATTR(par_ram) != ATTR_NORMAL_WB)
        check_fail("mmu", "AT S1E1R 0x%lx gives PAR 0x%lx", ram, par_ram);
    if ((par_dev & PAR_F) || PAR_PA(par_dev) != (dev & ~0xfffUL) ||
        PAR_ATTR(par_dev) != ATTR_DEVICE_NGNRNE)
        check_fail("mmu", "AT S1E1R 0x%lx gives PAR 0x%lx", dev, par_dev);
    check_pass("mmu", "identity map: RAM normal write-back, devices Device-nGnRnE");
}

/* The distributor's ID and type registers agree with what the platform says. */
static void check_gic_ids(void)
{
    uint32_t pidr2 = gic_pidr2(), typer = gic_dist_read(GICD_TYPER);
    uint32_t iidr = gic_dist_read(GICD_IIDR), rev = (pidr2 >> 4) & 0xf;
    unsigned int lines = 32 * ((typer & 0x1f) + 1), gic_cpus = ((typer >> 5) & 7) + 1;
    bool rev_ok = platform.gic_version == 3 ? (rev == 3 || rev == 4) : rev == 2;

    if (!rev_ok)
        check_fail("gic-id", "GICD_PIDR2 0x%x: ArchRev %u on a GICv%u", pidr2, rev,
                   platform.gic_version);
    if (lines <= platform.uart_irq)
        check_fail("gic-id", "GICD_TYPER 0x%x: %u interrupt lines, UART is %u", typer, lines,
                   platform.uart_irq);
    if (platform.gic_version == 2 && gic_cpus < platform.ncpus)
        check_fail("gic-id", "GICD_TYPER 0x%x: %u CPU interfaces for %u CPUs", typer, gic_cpus,
                   platform.ncpus);
    check_pass("gic-id", "GICv%u: PIDR2 0x%x, TYPER 0x%x (%u lines), IIDR 0x%x",
               platform.gic_version, pidr2, typer, lines, iidr);
}

static void check_psci(void)
{
    int64_t v = psci_call(PSCI_VERSION, 0, 0, 0);
    uint32_t major = (uint32_t)v >> 16, minor = v & 0xffff;
    int64_t mit, aff;

    if (v < 0 || (major == 0 && minor < 2))
        check_fail("psci-version", "PSCI_VERSION returned 0x%lx", v);
    check_pass("psci-version", "%u.%u over %s", major, minor, platform_conduit_name());

    if (major >= 1) { /* PSCI_FEATURES is new in 1.0 */
        static const uint32_t needed[] = {PSCI_VERSION, PSCI_CPU_ON, PSCI_AFFINITY_INFO,
                                          PSCI_SYSTEM_OFF, PSCI_FEATURES};
        for (unsigned int i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
            int64_t r = psci_call(PSCI_FEATURES, needed[i], 0, 0);
            if (r < 0)
                check_fail("psci-features", "PSCI_FEATURES(0x%x) returned %ld", needed[i], r);
        }
        int64_t r = psci_call(PSCI_FEATURES, PSCI_UNKNOWN_FN, 0, 0);
        if (r != PSCI_NOT_SUPPORTED)
            check_fail("psci-features", "PSCI_FEATURES(0x%x), a reserved ID, returned %ld",
                       PSCI_UNKNOWN_FN, r);
    }
    mit = psci_call(PSCI_MIGRATE_INFO_TYPE, 0, 0, 0);
    if (mit < 0 || mit > 2)
        check_fail("psci-features", "MIGRATE_INFO_TYPE returned %ld", mit);
    aff = psci_call(PSCI_AFFINITY_INFO, platform.mpidr[0], 0, 0);
    if (aff != PSCI_AFF_ON)
        check_fail("psci-features", "AFFINITY_INFO of the boot CPU returned %ld", aff);
    aff = psci_call(PSCI_CPU_ON, platform.mpidr[0] | MPIDR_U, (uintptr_t)secondary_entry, 0);
    if (aff != PSCI_INVALID_PARAMS)
        check_fail("psci-features", "CPU_ON of MPIDR 0x%lx (U bit set) returned %ld",
                   platform.mpidr[0] | MPIDR_U, aff);
    check_pass("psci-features",
               "%s; MIGRATE_INFO_TYPE %ld; AFFINITY_INFO(self) ON; CPU_ON refuses a non-affinity "
               "bit",
               major >= 1 ? "FEATURES: 5 calls present, a reserved ID refused"
                          : "no FEATURES before PSCI 1.0",
               mit);
}

/* 1 MiB at the top of (mapped) RAM, below the DTB if it sits there, with four patterns. */
static void check_memory(void)
{
    uint64_t top = platform.ram_base + platform.ram_size;
    uint64_t end = (top < TESTOS_MAP_LIMIT ? top : TESTOS_MAP_LIMIT) &
                   ~(MEMTEST_SIZE - 1); /* head.S maps 4 GiB */
    uint64_t dtb = (uintptr_t)platform.dtb, dtb_end = dtb + platform.dtb_size;
    uint64_t image_end = ((uintptr_t)_end + MEMTEST_SIZE - 1) & ~(MEMTEST_SIZE - 1);

    if (dtb && dtb < end && dtb_end > end - MEMTEST_SIZE)
        end = dtb & ~(MEMTEST_SIZE - 1);
    if (end < image_end + MEMTEST_SIZE)
        check_fail("memory", "no 1 MiB between TestOS (ends 0x%lx) and the top of RAM 0x%lx",
                   (uint64_t)(uintptr_t)_end, end);

    volatile uint64_t *mem = (volatile uint64_t *)(end - MEMTEST_SIZE);
    const size_t words = MEMTEST_SIZE / 8;
    static const uint64_t patterns[] = {0x5555555555555555UL, 0xaaaaaaaaaaaaaaaaUL, 0, ~0UL};

    for (unsigned int p = 0; p < 4; p++) {
        /* Patterns 2 and 3 store each word's address (and its inverse): catches aliasing. */
        for (size_t i = 0; i < words; i++)
            mem[i] = p < 2 ? patterns[p] : (uintptr_t)&mem[i] ^ patterns[p];
        for (size_t i = 0; i < words; i++) {
            uint64_t want = p < 2 ? patterns[p] : (uintptr_t)&mem[i] ^ patterns[p];
            if (mem[i] != want)
                check_fail("memory", "0x%lx reads 0x%lx, wrote 0x%lx", (uintptr_t)&mem[i], mem[i],
                           want);
        }
    }
    check_pass("memory", "1 MiB at 0x%lx, 4 patterns", (uint64_t)(uintptr_t)mem);
}

static void check_timer(enum timer_kind kind, const char *name, unsigned int intid)
{
    uint64_t late = 0;
    const char *err = timer_check(kind, &late);

    if (err)
        check_fail(name, "cpu0: %s", err);
    check_pass(name, "cpu0: PPI %u, handler %lu ticks after the 1 ms deadline", intid, late);
}

/* CPU_ON each secondary; it reports its MPIDR, PSCI sees it ON, a second CPU_ON is refused. */
static void check_cpu_online(unsigned int i)
{
    int64_t r = smp_start_cpu(i), again, aff;

    if (r != PSCI_SUCCESS)
        check_fail("cpu-online", "CPU_ON cpu%u (MPIDR 0x%lx) returned %ld", i, platform.mpidr[i],
                   r);
    if (!smp_wait_online(i, seconds(10)))
        check_fail("cpu-online", "cpu%u (MPIDR 0x%lx) did not report in", i, platform.mpidr[i]);
    if (smp_cpus[i].mpidr != platform.mpidr[i])
        check_fail("cpu-online", "cpu%u runs with MPIDR 0x%lx, the DTB says 0x%lx", i,
                   smp_cpus[i].mpidr, platform.mpidr[i]);
    aff = psci_call(PSCI_AFFINITY_INFO, platform.mpidr[i], 0, 0);
    again = smp_start_cpu(i);
    if (aff != PSCI_AFF_ON || again != PSCI_ALREADY_ON)
        check_fail("cpu-online", "cpu%u: AFFINITY_INFO %ld, second CPU_ON %ld", i, aff, again);
    check_pass("cpu-online", "cpu%u MPIDR 0x%lx, AFFINITY_INFO ON, second CPU_ON ALREADY_ON", i,
               platform.mpidr[i]);
}

static void check_cpu_timer(unsigned int i)
{
    struct cpu *c = &smp_cpus[i];

    if (!smp_wait_flag(&c->vtimer_done, 1, seconds(10)))
        check_fail("cpu-timer-virt", "cpu%u did not finish its timer check", i);
    if (c->vtimer_error)
        check_fail("cpu-timer-virt", "cpu%u: %s", i, c->vtimer_error);
    check_pass("cpu-timer-virt", "cpu%u: PPI %u, handler %lu ticks after the 1 ms deadline", i,
               platform.vtimer_irq, c->vtimer_late);
}

/* SGI_PING to the CPU, which answers with SGI_PONG naming itself. */
static void check_sgi(unsigned int i)
{
    struct cpu *boot = &smp_cpus[0];
    uint32_t pongs = boot->pongs, pings = smp_cpus[i].pings;

    smp_ping(i);
    if (!smp_wait_flag(&boot->pongs, pongs + 1, seconds(10)))
        check_fail("sgi", "no SGI %u back from cpu%u (it took %u pings)", SGI_PONG, i,
                   smp_cpus[i].pings - pings);
    if (boot->pong_from != i || smp_cpus[i].pings != pings + 1)
        check_fail("sgi", "SGI %u to cpu%u: answered by cpu%u, %u pings taken", SGI_PING, i,
                   boot->pong_from, smp_cpus[i].pings - pings);
    check_pass("sgi", "cpu0 -> cpu%u -> cpu0", i);
}

static void check_smp(void)
{
    unsigned int online = 1;

    for (unsigned int i = 1; i < platform.ncpus; i++)
        check_cpu_online(i);
    for (unsigned int i = 1; i < platform.ncpus; i++)
        check_cpu_timer(i);
    for (unsigned int i = 1; i < platform.ncpus; i++)
        check_sgi(i);
    for (unsigned int i = 1; i < platform.ncpus; i++)
        online += smp_cpus[i].online;
    if (online != platform.ncpus)
        check_fail("smp", "%u of %u CPUs online", online, platform.ncpus);
    check_pass("smp", "%u/%u CPUs online", online, platform.ncpus);
}

/* Only when input is already waiting: nobody is made to type. */
static void check_uart_rx(void)
{
    volatile uint32_t *irqs = console_rx_irq_count();

    if (!console_rx_pending())
        return;
    console_rx_start(platform.uart_irq);
    if (!smp_wait_flag(irqs, 1, seconds(1)))
        check_fail("uart-rx", "input waiting, but no interrupt %u", platform.uart_irq);
    check_pass("uart-rx", "receive interrupt %u taken", platform.uart_irq);
}

/** The checks that need no interrupts: the GIC's identity is known before it is used. */
void checks_basic(void)
{
    if (!platform.nimbos)
        check_dtb();
    check_vectors();
    check_mmu();
    check_gic_ids();
    if (platform.psci_probe)
        check_psci();
    check_memory();
}

/** The checks that take interrupts (GIC, timers and the boot CPU set up, IRQs unmasked). */
void checks_interrupts(void)
{
    if (platform.vtimer_irq)
        check_timer(TIMER_VIRT, "timer-virt", platform.vtimer_irq);
    check_timer(TIMER_PHYS, "timer-phys", platform.ptimer_irq);
    if (platform.psci_probe)
        check_smp();
    check_uart_rx();
}
