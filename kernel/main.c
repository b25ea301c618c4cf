/* main.c - boot CPU start-up: discover the machine, bring up memory, IRQs, CPUs, then the layers
 * above through their start-up hooks (kernel/init.h). */
#include "arch/cpu.h"
#include "arch/irqflags.h"
#include "arch/memlayout.h"
#include "arch/mmu.h"
#include "arch/psci.h"
#include "drivers/gic.h"
#include "drivers/pl011.h"
#include "drivers/virtio_blk.h"
#include "kernel/init.h"
#include "kernel/irq.h"
#include "kernel/page_alloc.h"
#include "kernel/panic.h"
#include "kernel/platform.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/smp.h"
#include "kernel/storage.h"
#include "kernel/time.h"
#include "kernel/version.h"

#define DTB_MAX_SIZE (2UL << 20)
/* Used only to report a device tree we cannot read: QEMU virt's first UART. */
#define FALLBACK_UART_PA 0x09000000UL

struct fdt_platform platform;
uint64_t platform_dtb_pa;

uint64_t platform_ram_bytes(void)
{
    uint64_t total = 0;

    for (int i = 0; i < platform.nmem; i++)
        total += platform.mem[i].size;
    return total;
}

int platform_va_in_ram(uint64_t va, uint64_t len)
{
    uint64_t pa = va - KERNEL_VA_OFFSET;

    for (int i = 0; i < platform.nmem; i++) {
        const struct fdt_region *r = &platform.mem[i];
        if (pa >= r->base && pa + len <= r->base + r->size && pa + len > pa)
            return 1;
    }
    return 0;
}

/* Give [start, end) to the page allocator minus the image, the DTB and reserved regions. */
static void add_free_range(uint64_t start, uint64_t end, int from)
{
    uint64_t dtb_end = platform_dtb_pa + fdt_totalsize(phys_to_virt(platform_dtb_pa));
    struct fdt_region holes[FDT_MAX_RSV + 2];
    int n = 0;

    holes[n++] = (struct fdt_region){virt_to_phys(_kernel_start),
                                     virt_to_phys(_kernel_end) - virt_to_phys(_kernel_start)};
    holes[n++] = (struct fdt_region){platform_dtb_pa, dtb_end - platform_dtb_pa};
    for (int i = 0; i < platform.nrsv; i++)
        holes[n++] = platform.rsv[i];

    for (int i = from; i < n; i++) {
        uint64_t hs = holes[i].base & ~(PAGE_SIZE - 1);
        uint64_t he = (holes[i].base + holes[i].size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
        if (he <= start || hs >= end)
            continue;
        /* Split around the hole; later holes are checked against both halves. */
        if (hs > start)
            add_free_range(start, hs, i + 1);
        if (he < end)
            add_free_range(he, end, i + 1);
        return;
    }
    start = (start + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    end &= ~(PAGE_SIZE - 1);
    if (end > start)
        page_alloc_add_range(start, end);
}

static void memory_init(void)
{
    for (int i = 0; i < platform.nmem; i++)
        add_free_range(platform.mem[i].base, platform.mem[i].base + platform.mem[i].size, 0);
}

static void check(int err, const char *what)
{
    if (err)
        panic("%s failed: error %d", what, err);
}

void kernel_main(uint64_t dtb_pa)
{
    char err[96];

    platform_dtb_pa = dtb_pa;
    if (fdt_parse_platform(phys_to_virt(dtb_pa), DTB_MAX_SIZE, &platform, err, sizeof(err))) {
        pl011_init(FALLBACK_UART_PA);
        kprintf("Avatar: cannot read the device tree at 0x%lx: %s\n", (unsigned long)dtb_pa, err);
        cpu_halt();
    }
    pl011_init(platform.uart.size ? platform.uart.base : FALLBACK_UART_PA);
    kprintf("\nAvatar " AVATAR_VERSION " " AVATAR_MODE " at EL%d\n", CUR_EL);

    mmu_init(&platform);
    memory_init();
    smp_init_boot_cpu();

    check(irq_init(&platform), "GIC init");
    irq_cpu_init();
    smp_init_irqs();
    sched_init(); /* this boot context becomes CPU 0's idle thread */
    check(timer_init(&platform), "timer init");
    check(pl011_enable_rx_irq((unsigned int)platform.uart_irq), "UART receive interrupt");
    check(psci_init(platform.psci), "PSCI (device tree conduit)");
    this_cpu()->online = true;
    arch_irq_enable();

    virtio_blk_probe_all();
    storage_init();
    init_run_stage(INIT_SERVICES); /* the vmm (EL2) */
    init_run_cpu_hooks();
    smp_boot_secondaries();
    init_run_stage(INIT_LATE); /* user processes (EL1) */

    kprintf("  memory: %lu MiB at 0x%lx, image 0x%lx-0x%lx\n",
            (unsigned long)(platform_ram_bytes() >> 20), (unsigned long)platform.mem[0].base,
            (unsigned long)virt_to_phys(_kernel_start), (unsigned long)virt_to_phys(_kernel_end));
    kprintf("  gic: v%d, distributor 0x%lx; uart: pl011 0x%lx irq %d; timer: %lu Hz; psci: %s\n",
            gic_version(), (unsigned long)platform.gicd.base, (unsigned long)platform.uart.base,
            platform.uart_irq, (unsigned long)timer_frequency(),
            platform.psci == FDT_PSCI_SMC ? "smc" : "hvc");
    kprintf("  virtio-mmio slots: %d\n", platform.nvirtio);
    kprintf("boot: EL%d, %u/%u CPUs online, GICv%d, %lu MiB RAM\n", CUR_EL, cpu_online_count(),
            cpus_possible, gic_version(), (unsigned long)(platform_ram_bytes() >> 20));
    init_run_stage(INIT_LAST); /* the shell */
    sched_run_idle();
}
