/* smp.c - per-CPU data and secondary CPU bring-up through PSCI CPU_ON. */
#include "arch/cpu.h"
#include "arch/memlayout.h"
#include "arch/mmu.h"
#include "arch/psci.h"
#include "kernel/irq.h"
#include "kernel/init.h"
#include "kernel/platform.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/smp.h"
#include "kernel/time.h"

_Static_assert(sizeof(struct percpu) == PERCPU_SIZE, "head.S indexes percpu_data by PERCPU_SIZE");

struct percpu percpu_data[MAX_CPUS];
unsigned int cpus_possible;

extern char secondary_entry[];

void cpu_halt(void)
{
    __asm__ volatile("msr daifset, #0xf" ::: "memory");
    for (;;)
        wfi();
}

unsigned int cpu_online_count(void)
{
    unsigned int n = 0;

    for (unsigned int i = 0; i < cpus_possible; i++)
        n += percpu_data[i].online;
    return n;
}

static void smp_sgi(unsigned int intid, void *arg)
{
    (void)arg;
    if (intid == SGI_STOP)
        cpu_halt();
    /* SGI_PING only needs to be counted (irq_handle does that). */
}

void smp_init_boot_cpu(void)
{
    uint64_t self = read_sysreg(mpidr_el1) & 0xff00ffffffUL;
    unsigned int boot_index = 0;

    cpus_possible = platform.ncpus < MAX_CPUS ? (unsigned int)platform.ncpus : MAX_CPUS;
    if (cpus_possible == 0)
        cpus_possible = 1;
    for (unsigned int i = 0; i < cpus_possible; i++) {
        percpu_data[i].id = i;
        percpu_data[i].mpidr = platform.cpu_mpidr[i];
        if (platform.cpu_mpidr[i] == self)
            boot_index = i;
    }
    /* Logical CPU 0 is always the boot CPU. */
    percpu_data[boot_index].mpidr = percpu_data[0].mpidr;
    percpu_data[0].mpidr = self;
}

void smp_init_irqs(void)
{
    irq_register(SGI_PING, smp_sgi, NULL);
    irq_register(SGI_STOP, smp_sgi, NULL);
}

void smp_boot_secondaries(void)
{
    uint64_t entry = virt_to_phys(secondary_entry);

    for (unsigned int i = 1; i < cpus_possible; i++) {
        int err = psci_cpu_on(percpu_data[i].mpidr, entry, i);

        if (err)
            kprintf("smp: CPU_ON cpu%u (mpidr 0x%lx) failed: %d\n", i,
                    (unsigned long)percpu_data[i].mpidr, err);
    }
    /* Wait up to one second of counter time for them to report in. */
    uint64_t deadline = timer_counter() + timer_frequency();
    while (cpu_online_count() < cpus_possible && timer_counter() < deadline)
        __asm__ volatile("yield");
    for (unsigned int i = 1; i < cpus_possible; i++) {
        if (!percpu_data[i].online)
            kprintf("smp: cpu%u did not come online\n", i);
    }
}

void secondary_main(unsigned int cpu)
{
    mmu_cpu_init();
    irq_cpu_init();
    irq_enable_local(SGI_PING);
    irq_enable_local(SGI_STOP);
    timer_cpu_init();
    init_run_cpu_hooks(); /* the layers above: e.g. the vmm's per-CPU interrupts */
    __atomic_store_n(&this_cpu()->online, true, __ATOMIC_RELEASE);
    (void)cpu;
    sched_run_idle();
}

int smp_ping(unsigned int cpu)
{
    uint64_t before = __atomic_load_n(&percpu_data[cpu].ipis, __ATOMIC_ACQUIRE);
    uint64_t deadline = timer_counter() + timer_frequency() / 10;

    irq_send_ipi(cpu, SGI_PING);
    while (__atomic_load_n(&percpu_data[cpu].ipis, __ATOMIC_ACQUIRE) == before) {
        if (timer_counter() > deadline)
            return -1;
        __asm__ volatile("yield");
    }
    return 0;
}

void smp_stop_others(void)
{
    for (unsigned int i = 0; i < cpus_possible; i++) {
        if (i != cpu_id() && percpu_data[i].online)
            irq_send_ipi(i, SGI_STOP);
    }
}
