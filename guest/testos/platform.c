/* platform.c - fill `platform` from the device tree in x0, or from NimbOS's fixed contract. */
#include "platform.h"
#include "check.h"
#include "console.h"
#include "exception.h"
#include "fdt.h"

/* QEMU virt's layout, which every Avatar VM's IPA space copies (include/vmm/layout.h). */
#define VIRT_RAM_BASE  0x40000000UL
#define VIRT_GICD      0x08000000UL
#define VIRT_GICC      0x08010000UL
#define VIRT_UART_IRQ  33
#define PTIMER_PPI     30
#define NIMBOS_RAM_MIN (16UL << 20) /* the NimbOS contract guarantees 16 MiB at least */

struct platform platform;

/** What the DTB walk found, before it is checked and copied into `platform`. */
struct dtb_scan {
    unsigned int ncpus, cpus_seen;
    uint64_t mpidr[TESTOS_MAX_CPUS];
    bool have_memory, have_gic, have_uart, have_timer, have_psci, psci_old;
    const char *error;
};

static const char *bad_cells(const struct fdt_node *n, struct fdt_value v, uint32_t entries)
{
    uint32_t need = 4 * entries * (n->addr_cells + n->size_cells);

    if (n->addr_cells < 1 || n->addr_cells > 2 || n->size_cells > 2 || v.len < need)
        return "reg too short or unsupported #address-cells/#size-cells";
    return NULL;
}

/* Keep the first problem found; true if err is one. */
static bool scan_error(struct dtb_scan *s, const char *err)
{
    if (err && !s->error)
        s->error = err;
    return err != NULL;
}

static uint64_t reg_addr(const struct fdt_node *n, uint32_t i)
{
    return fdt_cells(n->reg, i * (n->addr_cells + n->size_cells), n->addr_cells);
}

static uint64_t reg_size(const struct fdt_node *n, uint32_t i)
{
    return fdt_cells(n->reg, i * (n->addr_cells + n->size_cells) + n->addr_cells, n->size_cells);
}

/* One interrupt specifier (3 cells: SPI/PPI, number, flags) as a GIC INTID. */
static unsigned int irq_intid(struct fdt_value v, uint32_t i)
{
    uint32_t type = (uint32_t)fdt_cells(v, 3 * i, 1), num = (uint32_t)fdt_cells(v, 3 * i + 1, 1);

    return type == 1 ? 16 + num : 32 + num;
}

static void scan_cpu(struct dtb_scan *s, const struct fdt_node *n)
{
    if (n->status.len && !fdt_value_is(n->status, "okay"))
        return;
    if (!n->reg.len || n->reg.len < 4 * n->addr_cells || n->addr_cells > 2) {
        scan_error(s, "cpu node without a usable reg");
        return;
    }
    s->cpus_seen++;
    if (s->ncpus < TESTOS_MAX_CPUS)
        s->mpidr[s->ncpus++] = fdt_cells(n->reg, 0, n->addr_cells) & MPIDR_AFF_MASK;
}

static void scan_gic(struct dtb_scan *s, const struct fdt_node *n)
{
    bool v3 = fdt_has_string(n->compatible, "arm,gic-v3");

    if (scan_error(s, bad_cells(n, n->reg, 2)))
        return;
    platform.gic_version = v3 ? 3 : 2;
    platform.gicd = reg_addr(n, 0);
    if (v3) {
        platform.gicr = reg_addr(n, 1);
        platform.gicr_size = reg_size(n, 1);
    } else {
        platform.gicc = reg_addr(n, 1);
    }
    s->have_gic = true;
}

/* The disk exercises (blk.c) look for their device among these; extra transports are ignored. */
static void scan_virtio(struct dtb_scan *s, const struct fdt_node *n)
{
    if (scan_error(s, bad_cells(n, n->reg, 1)) || n->interrupts.len < 12 ||
        platform.nvirtio == TESTOS_MAX_VIRTIO)
        return;
    platform.virtio[platform.nvirtio] = reg_addr(n, 0);
    platform.virtio_irq[platform.nvirtio++] = irq_intid(n->interrupts, 0);
}

static void scan_node(void *ctx, const struct fdt_node *n)
{
    struct dtb_scan *s = ctx;
    struct fdt_value compat = n->compatible;

    if (n->depth == 1 && fdt_name_is(n->name, "chosen") && n->bootargs.len) {
        platform.bootargs = (const char *)n->bootargs.data;
        platform.bootargs_len = n->bootargs.len;
    } else if (n->depth == 1 && fdt_value_is(n->device_type, "memory") && !s->have_memory) {
        if (!scan_error(s, bad_cells(n, n->reg, 1))) {
            platform.ram_base = reg_addr(n, 0);
            platform.ram_size = reg_size(n, 0);
            s->have_memory = true;
        }
    } else if (n->depth == 2 && fdt_value_is(n->device_type, "cpu") &&
               fdt_name_is(n->parent_name, "cpus")) {
        scan_cpu(s, n);
    } else if (fdt_has_string(compat, "arm,psci-0.2") || fdt_has_string(compat, "arm,psci-1.0")) {
        platform.conduit = fdt_value_is(n->method, "smc")   ? PSCI_SMC
                           : fdt_value_is(n->method, "hvc") ? PSCI_HVC
                                                            : PSCI_NONE;
        s->have_psci = true;
    } else if (fdt_has_string(compat, "arm,psci")) {
        s->psci_old = true;
    } else if (!s->have_gic && (fdt_has_string(compat, "arm,gic-v3") ||
                                fdt_has_string(compat, "arm,cortex-a15-gic") ||
                                fdt_has_string(compat, "arm,gic-400"))) {
        scan_gic(s, n);
    } else if (!s->have_uart && fdt_has_string(compat, "arm,pl011")) {
        if (!scan_error(s, bad_cells(n, n->reg, 1)) && n->interrupts.len >= 12) {
            platform.uart = reg_addr(n, 0);
            platform.uart_irq = irq_intid(n->interrupts, 0);
            s->have_uart = true;
        }
    } else if (fdt_has_string(compat, "virtio,mmio")) {
        scan_virtio(s, n);
    } else if (fdt_has_string(compat, "arm,armv8-timer") && n->interrupts.len >= 36) {
        platform.ptimer_irq = irq_intid(n->interrupts, 1); /* non-secure EL1 physical */
        platform.vtimer_irq = irq_intid(n->interrupts, 2); /* EL1 virtual */
        s->have_timer = true;
    }
}

__attribute__((noreturn, format(printf, 1, 2))) static void platform_fail(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    check_vfail("dtb", fmt, ap);
}

/* Devices must sit in the device GiB and RAM in the normal-memory GiBs that head.S maps. */
static void platform_check_ranges(void)
{
    uintptr_t devs[] = {platform.gicd, platform.gic_version == 3 ? platform.gicr : platform.gicc,
                        platform.uart};

    for (unsigned int i = 0; i < sizeof(devs) / sizeof(devs[0]); i++)
        if (devs[i] >= TESTOS_DEVICE_LIMIT)
            platform_fail("device at 0x%lx is outside TestOS's device window (below 0x%lx)",
                          devs[i], TESTOS_DEVICE_LIMIT);
    if (platform.ram_base < TESTOS_DEVICE_LIMIT || platform.ram_base >= TESTOS_MAP_LIMIT ||
        !platform.ram_size)
        platform_fail("RAM at 0x%lx (0x%lx bytes) is outside 1-4 GiB", platform.ram_base,
                      platform.ram_size);
    if (platform.uart_irq >= IRQ_MAX || platform.vtimer_irq >= 32 || platform.ptimer_irq >= 32)
        platform_fail("interrupt numbers out of range (UART %u, timers %u and %u)",
                      platform.uart_irq, platform.vtimer_irq, platform.ptimer_irq);
}

/* The boot CPU becomes index 0, so CPU indices match PSCI CPU_ON context IDs. */
static void platform_take_cpus(const struct dtb_scan *s)
{
    uint64_t self = read_sysreg(mpidr_el1) & MPIDR_AFF_MASK;
    unsigned int boot = s->ncpus;

    if (s->cpus_seen > TESTOS_MAX_CPUS)
        platform_fail("%u CPUs, TestOS handles %u", s->cpus_seen, TESTOS_MAX_CPUS);
    if (!s->ncpus)
        platform_fail("no cpu nodes under /cpus");
    for (unsigned int i = 0; i < s->ncpus; i++)
        if (s->mpidr[i] == self)
            boot = i;
    if (boot == s->ncpus)
        platform_fail("the boot CPU (MPIDR 0x%lx) is not among the %u cpu nodes", self, s->ncpus);
    platform.ncpus = s->ncpus;
    platform.mpidr[0] = self;
    for (unsigned int i = 0, j = 1; i < s->ncpus; i++)
        if (i != boot)
            platform.mpidr[j++] = s->mpidr[i];
}

static void platform_from_dtb(uint64_t addr)
{
    struct dtb_scan s = {0};
    const char *err;

    if (!addr)
        platform_fail("no device tree in x0");
    if ((addr & 7) || addr < TESTOS_DEVICE_LIMIT || addr >= TESTOS_MAP_LIMIT - 64)
        platform_fail("x0 = 0x%lx is not an aligned RAM address", addr);
    platform.dtb = (const void *)addr;
    platform.dtb_size = fdt_total_size(platform.dtb);
    if (!platform.dtb_size)
        platform_fail("no FDT magic at 0x%lx", addr);
    if (platform.dtb_size > TESTOS_MAP_LIMIT - addr)
        platform_fail("the blob at 0x%lx runs past 4 GiB (size 0x%x)", addr, platform.dtb_size);
    err = fdt_walk(platform.dtb, scan_node, &s);
    if (!err)
        err = s.error;
    if (!err && !s.have_memory)
        err = "no memory node";
    if (!err && !s.have_gic)
        err = "no GICv2 or GICv3 node";
    if (!err && !s.have_uart)
        err = "no PL011 node with an interrupt";
    if (!err && !s.have_timer)
        err = "no arm,armv8-timer node with 4 interrupts";
    if (!err && !s.have_psci)
        err = s.psci_old ? "PSCI 0.1 only (TestOS needs the standard function IDs of 0.2+)"
                         : "no PSCI node";
    if (!err && platform.conduit == PSCI_NONE)
        err = "PSCI method is neither hvc nor smc";
    if (err)
        check_fail("dtb", "%s", err);
    platform_take_cpus(&s);
    platform.psci_probe = true;
    platform_check_ranges();
}

/* NimbOS's contract (guest/nimbos/README.md): GICv2 at 0x08000000/0x08010000, the PL011, the EL1
 * physical timer, PSCI over hvc for SYSTEM_OFF, 16 MiB of RAM at least, one CPU, no DTB. */
static void platform_nimbos(void)
{
    platform.nimbos = true;
    platform.ram_base = VIRT_RAM_BASE;
    platform.ram_size = NIMBOS_RAM_MIN;
    platform.ncpus = 1;
    platform.mpidr[0] = read_sysreg(mpidr_el1) & MPIDR_AFF_MASK;
    platform.gic_version = 2;
    platform.gicd = VIRT_GICD;
    platform.gicc = VIRT_GICC;
    platform.uart = CONSOLE_FALLBACK_BASE;
    platform.uart_irq = VIRT_UART_IRQ;
    platform.ptimer_irq = PTIMER_PPI;
    platform.conduit = PSCI_HVC;
}

/** Describe the machine: from the DTB at dtb_addr, or (NimbOS-like build) the fixed contract. */
void platform_init(uint64_t dtb_addr)
{
    if (TESTOS_NIMBOS_LIKE)
        platform_nimbos();
    else
        platform_from_dtb(dtb_addr);
    console_set_base(platform.uart);
}

/** Whether the kernel command line (/chosen bootargs) has word as a whole word. */
bool platform_bootarg(const char *word)
{
    const char *p = platform.bootargs, *end;

    if (!p)
        return false;
    for (end = p + platform.bootargs_len; p < end && *p;) {
        while (p < end && *p == ' ')
            p++;
        const char *w = word;
        while (p < end && *w && *p == *w) {
            p++;
            w++;
        }
        if (!*w && (p == end || *p == ' ' || !*p))
            return true;
        while (p < end && *p && *p != ' ')
            p++;
    }
    return false;
}

const char *platform_conduit_name(void)
{
    return platform.conduit == PSCI_SMC ? "smc" : platform.conduit == PSCI_HVC ? "hvc" : "none";
}
