/* vm_dtb.c - a guest's device tree, shaped like QEMU virt (hw/arm/virt.c), from its VM config. */
#include <stdarg.h>
#include <stdbool.h>

#include "drivers/pl031.h"
#include "hw/pl011.h"
#include "lib/errno.h"
#include "lib/fdt_write.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "vmm/vm_dtb.h"

#define GIC_PHANDLE 1
#define CLK_PHANDLE 2

/* Frame sizes from the GIC architecture register maps: GICv2 GICD 4 KiB and GICC 8 KiB; GICv3
   GICD 64 KiB and per CPU a 128 KiB redistributor (RD_base and SGI_base 64 KiB frames). */
#define GICV2_DIST_SIZE   0x1000u
#define GICV2_CPU_SIZE    0x2000u
#define GICV3_DIST_SIZE   0x10000u
#define GICV3_REDIST_SIZE 0x20000u
#define APB_PCLK_HZ       24000000u /* QEMU virt's fixed "clk24mhz" */

/* GIC interrupt specifier cells (Linux bindings interrupt-controller/arm,gic.yaml): type, number,
   flags. SPI number = INTID - 32, PPI number = INTID - 16. */
#define IRQ_SPI         0u
#define IRQ_PPI         1u
#define IRQ_EDGE_RISING 1u
#define IRQ_LEVEL_HIGH  4u
#define IRQ_LEVEL_LOW   8u
#define SPI_FIRST       32u
#define SPI_LAST        1019u /* 1020..1023 are special (GIC architecture, "INTID ranges") */

/* Generic timer PPIs in binding order (timer/arm,arch_timer.yaml): secure physical, non-secure
   physical, virtual, hypervisor physical; INTIDs 29, 30, 27, 26 as the Arm Base System
   Architecture assigns them and QEMU virt uses them. */
static const uint32_t timer_ppis[4] = {13, 14, 11, 10};

#define NAME_MAX_LEN 64 /* node name: node-name (<= 31) '@' 16 hex digits, NUL */

/** One address range the guest sees, named for error messages. */
struct region {
    const char *what;
    int index; /* -1 when there is only one */
    uint64_t base, size;
};

#define MAX_REGIONS (5 + VM_DTB_MAX_VIRTIO + VM_DTB_MAX_PASSTHROUGH)

static int dtb_fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int dtb_fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
    va_list ap;

    if (err && errlen) {
        va_start(ap, fmt);
        fmt_vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

static bool spi_valid(uint32_t intid)
{
    return intid >= SPI_FIRST && intid <= SPI_LAST;
}

/* Printable, no spaces: compatible strings are "manufacturer,model" (DT spec 2.3.1). */
static bool compatible_valid(const char *s)
{
    if (!s || !*s)
        return false;
    for (; *s; s++) {
        if (*s < 0x21 || *s > 0x7e)
            return false;
    }
    return true;
}

/* All guest-visible ranges: RAM first, then the devices in tree order. */
static int collect_regions(const struct vm_dtb_config *cfg, struct region *r)
{
    int n = 0;

    r[n++] = (struct region){"RAM", -1, cfg->ram_base, cfg->ram_size};
    if (cfg->gic_version == 2) {
        r[n++] = (struct region){"GICD", -1, cfg->gicd_base, GICV2_DIST_SIZE};
        r[n++] = (struct region){"GICC", -1, cfg->gicc_base, GICV2_CPU_SIZE};
    } else {
        r[n++] = (struct region){"GICD", -1, cfg->gicd_base, GICV3_DIST_SIZE};
        r[n++] =
            (struct region){"GICR", -1, cfg->gicr_base, (uint64_t)cfg->ncpus * GICV3_REDIST_SIZE};
    }
    r[n++] = (struct region){"UART", -1, cfg->uart_base, PL011_SIZE};
    if (cfg->rtc_base)
        r[n++] = (struct region){"RTC", -1, cfg->rtc_base, PL031_SIZE};
    for (unsigned i = 0; i < cfg->nvirtio; i++)
        r[n++] = (struct region){"virtio", (int)i, cfg->virtio[i].base, cfg->virtio[i].size};
    for (unsigned i = 0; i < cfg->npassthrough; i++)
        r[n++] = (struct region){"passthrough", (int)i, cfg->passthrough[i].base,
                                 cfg->passthrough[i].size};
    return n;
}

static const char *region_name(const struct region *r, char *buf, size_t len)
{
    if (r->index < 0)
        return r->what;
    fmt_snprintf(buf, len, "%s %d", r->what, r->index);
    return buf;
}

/* Sizes nonzero, no range wrapping past 2^64, no two ranges overlapping: each node's reg must
   describe distinct hardware for the guest, and devices must not shadow RAM. */
static int check_regions(const struct vm_dtb_config *cfg, char *err, size_t errlen)
{
    struct region r[MAX_REGIONS];
    char a[24], b[24];
    int n = collect_regions(cfg, r);

    for (int i = 0; i < n; i++) {
        if (r[i].size == 0)
            return dtb_fail(err, errlen, -EINVAL, "dtb: %s has size 0",
                            region_name(&r[i], a, sizeof(a)));
        if (r[i].base + r[i].size - 1 < r[i].base)
            return dtb_fail(err, errlen, -EINVAL, "dtb: %s 0x%llx+0x%llx wraps the address space",
                            region_name(&r[i], a, sizeof(a)), (unsigned long long)r[i].base,
                            (unsigned long long)r[i].size);
    }
    for (int i = 0; i < n; i++) {
        for (int j = i + 1; j < n; j++) {
            if (r[i].base <= r[j].base + r[j].size - 1 && r[j].base <= r[i].base + r[i].size - 1)
                return dtb_fail(err, errlen, -EINVAL, "dtb: %s at 0x%llx overlaps %s at 0x%llx",
                                region_name(&r[j], a, sizeof(a)), (unsigned long long)r[j].base,
                                region_name(&r[i], b, sizeof(b)), (unsigned long long)r[i].base);
        }
    }
    return 0;
}

/* Every device's SPI in range and used once, so no guest driver shares a line it did not ask to. */
static int check_intids(const struct vm_dtb_config *cfg, char *err, size_t errlen)
{
    uint32_t used[2 + VM_DTB_MAX_VIRTIO + VM_DTB_MAX_PASSTHROUGH];
    int n = 0;

    if (!spi_valid(cfg->uart_intid))
        return dtb_fail(err, errlen, -EINVAL, "dtb: UART INTID %u is not an SPI (32..1019)",
                        cfg->uart_intid);
    used[n++] = cfg->uart_intid;
    if (cfg->rtc_base) {
        if (!spi_valid(cfg->rtc_intid))
            return dtb_fail(err, errlen, -EINVAL, "dtb: RTC INTID %u is not an SPI (32..1019)",
                            cfg->rtc_intid);
        used[n++] = cfg->rtc_intid;
    }
    for (unsigned i = 0; i < cfg->nvirtio; i++) {
        if (!spi_valid(cfg->virtio[i].intid))
            return dtb_fail(err, errlen, -EINVAL,
                            "dtb: virtio %u INTID %u is not an SPI (32..1019)", i,
                            cfg->virtio[i].intid);
        used[n++] = cfg->virtio[i].intid;
    }
    for (unsigned i = 0; i < cfg->npassthrough; i++) {
        uint32_t intid = cfg->passthrough[i].intid;
        if (intid == 0)
            continue;
        if (!spi_valid(intid))
            return dtb_fail(err, errlen, -EINVAL,
                            "dtb: passthrough %u INTID %u is not 0 or an SPI (32..1019)", i, intid);
        used[n++] = intid;
    }
    for (int i = 0; i < n; i++) {
        for (int j = i + 1; j < n; j++) {
            if (used[i] == used[j])
                return dtb_fail(err, errlen, -EINVAL, "dtb: INTID %u is given to two devices",
                                used[i]);
        }
    }
    return 0;
}

static int check_config(const struct vm_dtb_config *cfg, char *err, size_t errlen)
{
    int rc;

    if (cfg->ncpus < 1 || cfg->ncpus > VM_DTB_MAX_CPUS)
        return dtb_fail(err, errlen, -EINVAL, "dtb: ncpus must be 1..%d, got %u", VM_DTB_MAX_CPUS,
                        cfg->ncpus);
    if (cfg->gic_version != 2 && cfg->gic_version != 3)
        return dtb_fail(err, errlen, -EINVAL, "dtb: GIC version must be 2 or 3, got %d",
                        cfg->gic_version);
    if (!cfg->psci_method ||
        (strcmp(cfg->psci_method, "hvc") != 0 && strcmp(cfg->psci_method, "smc") != 0))
        return dtb_fail(err, errlen, -EINVAL, "dtb: PSCI method must be \"hvc\" or \"smc\"");
    if (cfg->nvirtio > VM_DTB_MAX_VIRTIO)
        return dtb_fail(err, errlen, -EINVAL, "dtb: at most %d virtio devices, got %u",
                        VM_DTB_MAX_VIRTIO, cfg->nvirtio);
    if (cfg->npassthrough > VM_DTB_MAX_PASSTHROUGH)
        return dtb_fail(err, errlen, -EINVAL, "dtb: at most %d passthrough devices, got %u",
                        VM_DTB_MAX_PASSTHROUGH, cfg->npassthrough);
    for (unsigned i = 0; i < cfg->npassthrough; i++) {
        if (!compatible_valid(cfg->passthrough[i].compatible))
            return dtb_fail(err, errlen, -EINVAL,
                            "dtb: passthrough %u compatible must be non-empty printable text", i);
    }
    rc = check_regions(cfg, err, errlen);
    if (!rc)
        rc = check_intids(cfg, err, errlen);
    if (rc)
        return rc;
    /* The guest can only read an initrd that the loader placed in its RAM. */
    if (cfg->initrd_start || cfg->initrd_end) {
        if (cfg->initrd_end <= cfg->initrd_start || cfg->initrd_start < cfg->ram_base ||
            cfg->initrd_end - cfg->ram_base > cfg->ram_size)
            return dtb_fail(
                err, errlen, -EINVAL, "dtb: initrd 0x%llx..0x%llx is empty or not inside RAM",
                (unsigned long long)cfg->initrd_start, (unsigned long long)cfg->initrd_end);
    }
    return 0;
}

/* reg with the root's #address-cells = #size-cells = 2. */
static void prop_reg2(struct fdt_writer *w, uint64_t base0, uint64_t size0, uint64_t base1,
                      uint64_t size1, size_t nregs)
{
    uint32_t cells[8] = {
        (uint32_t)(base0 >> 32), (uint32_t)base0, (uint32_t)(size0 >> 32), (uint32_t)size0,
        (uint32_t)(base1 >> 32), (uint32_t)base1, (uint32_t)(size1 >> 32), (uint32_t)size1,
    };

    fdt_write_prop_cells(w, "reg", cells, 4 * nregs);
}

static void prop_reg(struct fdt_writer *w, uint64_t base, uint64_t size)
{
    prop_reg2(w, base, size, 0, 0, 1);
}

static void prop_spi(struct fdt_writer *w, uint32_t intid, uint32_t flags)
{
    uint32_t cells[3] = {IRQ_SPI, intid - SPI_FIRST, flags};

    fdt_write_prop_cells(w, "interrupts", cells, 3);
}

static void prop_compatible(struct fdt_writer *w, const char *a, const char *b)
{
    const char *list[2] = {a, b};

    fdt_write_prop_strs(w, "compatible", list, b ? 2 : 1);
}

/* Opens "name@<base in hex>", the unit address being the first reg address (DT spec 2.2.1). */
static void begin_at(struct fdt_writer *w, const char *name, uint64_t base)
{
    char buf[NAME_MAX_LEN];

    fmt_snprintf(buf, sizeof(buf), "%s@%llx", name, (unsigned long long)base);
    fdt_write_begin_node(w, buf);
}

static void emit_root_props(struct fdt_writer *w)
{
    fdt_write_prop_u32(w, "interrupt-parent", GIC_PHANDLE);
    fdt_write_prop_str(w, "model", "linux,dummy-virt");
    fdt_write_prop_u32(w, "#size-cells", 2);
    fdt_write_prop_u32(w, "#address-cells", 2);
    prop_compatible(w, "linux,dummy-virt", NULL);
}

/* PSCI 1.0 with the 0.2 fallback: function IDs are the standard ones, so none are listed
   (Linux bindings arm/psci.yaml). */
static void emit_psci(struct fdt_writer *w, const struct vm_dtb_config *cfg)
{
    fdt_write_begin_node(w, "psci");
    prop_compatible(w, "arm,psci-1.0", "arm,psci-0.2");
    fdt_write_prop_str(w, "method", cfg->psci_method);
    fdt_write_end_node(w);
}

static void emit_memory(struct fdt_writer *w, const struct vm_dtb_config *cfg)
{
    begin_at(w, "memory", cfg->ram_base);
    fdt_write_prop_str(w, "device_type", "memory");
    prop_reg(w, cfg->ram_base, cfg->ram_size);
    fdt_write_end_node(w);
}

/* CPU reg is the MPIDR affinity; one cell holds Aff0 = index (Linux bindings arm/cpus.yaml). */
static void emit_cpus(struct fdt_writer *w, const struct vm_dtb_config *cfg)
{
    fdt_write_begin_node(w, "cpus");
    fdt_write_prop_u32(w, "#address-cells", 1);
    fdt_write_prop_u32(w, "#size-cells", 0);
    for (unsigned i = 0; i < cfg->ncpus; i++) {
        begin_at(w, "cpu", i);
        fdt_write_prop_str(w, "device_type", "cpu");
        prop_compatible(w, "arm,armv8", NULL);
        fdt_write_prop_u32(w, "reg", i);
        fdt_write_prop_str(w, "enable-method", "psci");
        fdt_write_end_node(w);
    }
    fdt_write_end_node(w);
}

/* Level-low, as in the arch timer binding's example (QEMU virt says level-high; Linux takes either
   for these PPIs). On GICv2 the flags also carry in bits [15:8] the CPUs a PPI reaches (Linux
   bindings interrupt-controller/arm,gic.yaml), set as QEMU virt sets them; GICv3 has no mask. */
static void emit_timer(struct fdt_writer *w, const struct vm_dtb_config *cfg)
{
    uint32_t flags = IRQ_LEVEL_LOW;
    uint32_t cells[12];

    if (cfg->gic_version == 2)
        flags |= ((1u << cfg->ncpus) - 1) << 8;
    for (int i = 0; i < 4; i++) {
        cells[3 * i] = IRQ_PPI;
        cells[3 * i + 1] = timer_ppis[i];
        cells[3 * i + 2] = flags;
    }
    fdt_write_begin_node(w, "timer");
    prop_compatible(w, "arm,armv8-timer", NULL);
    fdt_write_prop_cells(w, "interrupts", cells, 12);
    /* The emulated timer never loses state in idle, so Linux needs no broadcast timer for it
       (timer/arm,arch_timer.yaml "always-on"). */
    fdt_write_prop_empty(w, "always-on");
    fdt_write_end_node(w);
}

static void emit_gic(struct fdt_writer *w, const struct vm_dtb_config *cfg)
{
    begin_at(w, "intc", cfg->gicd_base);
    if (cfg->gic_version == 2) {
        prop_compatible(w, "arm,cortex-a15-gic", NULL);
        prop_reg2(w, cfg->gicd_base, GICV2_DIST_SIZE, cfg->gicc_base, GICV2_CPU_SIZE, 2);
    } else {
        prop_compatible(w, "arm,gic-v3", NULL);
        fdt_write_prop_u32(w, "#redistributor-regions", 1);
        prop_reg2(w, cfg->gicd_base, GICV3_DIST_SIZE, cfg->gicr_base,
                  (uint64_t)cfg->ncpus * GICV3_REDIST_SIZE, 2);
    }
    fdt_write_prop_u32(w, "#interrupt-cells", 3);
    /* No children (no ITS or v2m frame), and an interrupt-map parent contributes no address
       cells (DT spec 2.4.3.1), so 0. */
    fdt_write_prop_u32(w, "#address-cells", 0);
    fdt_write_prop_empty(w, "interrupt-controller");
    fdt_write_prop_u32(w, "phandle", GIC_PHANDLE);
    fdt_write_end_node(w);
}

/* The PL011 wants its UART clock and bus clock (Linux bindings serial/arm,pl011.yaml); both
   come from one fixed clock, as on QEMU virt. */
static void emit_uart(struct fdt_writer *w, const struct vm_dtb_config *cfg)
{
    static const char *const clock_names[2] = {"uartclk", "apb_pclk"};
    uint32_t clocks[2] = {CLK_PHANDLE, CLK_PHANDLE};

    fdt_write_begin_node(w, "apb-pclk");
    prop_compatible(w, "fixed-clock", NULL);
    fdt_write_prop_u32(w, "#clock-cells", 0);
    fdt_write_prop_u32(w, "clock-frequency", APB_PCLK_HZ);
    fdt_write_prop_str(w, "clock-output-names", "clk24mhz");
    fdt_write_prop_u32(w, "phandle", CLK_PHANDLE);
    fdt_write_end_node(w);

    begin_at(w, "pl011", cfg->uart_base);
    prop_compatible(w, "arm,pl011", "arm,primecell");
    prop_reg(w, cfg->uart_base, PL011_SIZE);
    prop_spi(w, cfg->uart_intid, IRQ_LEVEL_HIGH);
    fdt_write_prop_cells(w, "clocks", clocks, 2);
    fdt_write_prop_strs(w, "clock-names", clock_names, 2);
    fdt_write_end_node(w);
}

/* The PL031 RTC as QEMU virt describes it: a PrimeCell with its bus clock. */
static void emit_rtc(struct fdt_writer *w, const struct vm_dtb_config *cfg)
{
    if (!cfg->rtc_base)
        return;
    begin_at(w, "pl031", cfg->rtc_base);
    prop_compatible(w, "arm,pl031", "arm,primecell");
    prop_reg(w, cfg->rtc_base, PL031_SIZE);
    prop_spi(w, cfg->rtc_intid, IRQ_LEVEL_HIGH);
    fdt_write_prop_u32(w, "clocks", CLK_PHANDLE);
    fdt_write_prop_str(w, "clock-names", "apb_pclk");
    fdt_write_end_node(w);
}

/* Edge-triggered, as QEMU virt declares its virtio-mmio transports. */
static void emit_virtio(struct fdt_writer *w, const struct vm_dtb_config *cfg)
{
    for (unsigned i = 0; i < cfg->nvirtio; i++) {
        begin_at(w, "virtio_mmio", cfg->virtio[i].base);
        prop_compatible(w, "virtio,mmio", NULL);
        prop_reg(w, cfg->virtio[i].base, cfg->virtio[i].size);
        prop_spi(w, cfg->virtio[i].intid, IRQ_EDGE_RISING);
        fdt_write_prop_empty(w, "dma-coherent");
        fdt_write_end_node(w);
    }
}

/* The node name is the compatible's model part ("arm,pl031" -> "pl031") when that is a valid
   node-name (DT spec 2.2.1: a letter, then up to 30 of [0-9a-zA-Z,._+-]), else "passthrough". */
static const char *passthrough_name(const char *compatible, char *buf, size_t len)
{
    const char *model = strrchr(compatible, ',');
    size_t n;

    model = model ? model + 1 : compatible;
    n = strlen(model);
    if (n == 0 || n > 31 || n >= len ||
        !((model[0] >= 'a' && model[0] <= 'z') || (model[0] >= 'A' && model[0] <= 'Z')))
        return "passthrough";
    for (size_t i = 0; i < n; i++) {
        char c = model[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              strchr("._+-", c)))
            return "passthrough";
    }
    memcpy(buf, model, n + 1);
    return buf;
}

/* Passed-through host devices: level-triggered SPIs, as platform devices' lines usually are;
   dma-coherent like QEMU virt's devices, which holds when the host device snoops the caches. */
static void emit_passthrough(struct fdt_writer *w, const struct vm_dtb_config *cfg)
{
    char name[32];

    for (unsigned i = 0; i < cfg->npassthrough; i++) {
        begin_at(w, passthrough_name(cfg->passthrough[i].compatible, name, sizeof(name)),
                 cfg->passthrough[i].base);
        prop_compatible(w, cfg->passthrough[i].compatible,
                        cfg->passthrough[i].primecell ? "arm,primecell" : NULL);
        prop_reg(w, cfg->passthrough[i].base, cfg->passthrough[i].size);
        if (cfg->passthrough[i].intid)
            prop_spi(w, cfg->passthrough[i].intid, IRQ_LEVEL_HIGH);
        if (cfg->passthrough[i].primecell) {
            /* The AMBA bus gates a PrimeCell's probe on its bus clock (Linux amba/bus.c). */
            fdt_write_prop_u32(w, "clocks", CLK_PHANDLE);
            fdt_write_prop_str(w, "clock-names", "apb_pclk");
        }
        fdt_write_prop_empty(w, "dma-coherent");
        fdt_write_end_node(w);
    }
}

/* Boot parameters (DT spec 3.6; Linux bindings chosen.yaml). */
static void emit_chosen(struct fdt_writer *w, const struct vm_dtb_config *cfg)
{
    char path[NAME_MAX_LEN];

    fdt_write_begin_node(w, "chosen");
    if (cfg->bootargs && cfg->bootargs[0])
        fdt_write_prop_str(w, "bootargs", cfg->bootargs);
    fmt_snprintf(path, sizeof(path), "/pl011@%llx", (unsigned long long)cfg->uart_base);
    fdt_write_prop_str(w, "stdout-path", path);
    if (cfg->initrd_start || cfg->initrd_end) {
        fdt_write_prop_u64(w, "linux,initrd-start", cfg->initrd_start);
        fdt_write_prop_u64(w, "linux,initrd-end", cfg->initrd_end);
    }
    fdt_write_end_node(w);
}

int vm_dtb_build(const struct vm_dtb_config *cfg, void *buf, size_t len, size_t *out_len, char *err,
                 size_t errlen)
{
    struct fdt_writer w;
    size_t total;
    int rc;

    if (!cfg || (!buf && len) || !out_len)
        return dtb_fail(err, errlen, -EINVAL, "dtb: missing configuration or buffer");
    rc = check_config(cfg, err, errlen);
    if (rc)
        return rc;
    fdt_write_init(&w, buf, len);
    fdt_write_begin_node(&w, "");
    emit_root_props(&w);
    emit_psci(&w, cfg);
    emit_memory(&w, cfg);
    emit_cpus(&w, cfg);
    emit_timer(&w, cfg);
    emit_gic(&w, cfg);
    emit_uart(&w, cfg);
    emit_rtc(&w, cfg);
    emit_virtio(&w, cfg);
    emit_passthrough(&w, cfg);
    emit_chosen(&w, cfg);
    fdt_write_end_node(&w);
    rc = fdt_write_finish(&w, &total);
    if (rc == -ENOSPC)
        return dtb_fail(err, errlen, rc, "dtb: a %zu-byte buffer is too small for the device tree",
                        len);
    if (rc)
        return dtb_fail(err, errlen, rc, "dtb: the writer refused the tree (%s)", errno_str(rc));
    *out_len = total;
    return 0;
}
