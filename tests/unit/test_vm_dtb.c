/* test_vm_dtb.c - vmm/vm_dtb.c and lib/fdt_write.c, checked with lib/fdt.c and the host's dtc. */
#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/errno.h"
#include "lib/fdt.h"
#include "lib/fdt_write.h"
#include "test.h"
#include "vmm/vm_dtb.h"

#define ERRLEN  160
#define BLOBMAX 16384

/* A GICv2 guest laid out like QEMU virt: 4 CPUs, two virtio devices, bootargs and an initrd. */
static struct vm_dtb_config cfg_v2(void)
{
    struct vm_dtb_config c;

    memset(&c, 0, sizeof(c));
    c.ram_base = 0x40000000;
    c.ram_size = 0x10000000;
    c.ncpus = 4;
    c.gic_version = 2;
    c.gicd_base = 0x08000000;
    c.gicc_base = 0x08010000;
    c.uart_base = 0x09000000;
    c.uart_intid = 33;
    c.rtc_base = 0x09010000;
    c.rtc_intid = 34;
    c.bootargs = "console=ttyAMA0 root=/dev/vda rw";
    c.initrd_start = 0x48000000;
    c.initrd_end = 0x48123456;
    c.nvirtio = 2;
    c.virtio[0].base = 0x0a000000;
    c.virtio[0].size = 0x200;
    c.virtio[0].intid = 48;
    c.virtio[1].base = 0x0a000200;
    c.virtio[1].size = 0x200;
    c.virtio[1].intid = 49;
    c.psci_method = "hvc";
    return c;
}

/* A GICv3 guest with 8 CPUs, RAM above 4 GiB, SMC, passthrough devices, no bootargs or initrd. */
static struct vm_dtb_config cfg_v3(void)
{
    struct vm_dtb_config c;

    memset(&c, 0, sizeof(c));
    c.ram_base = 0x100000000ull;
    c.ram_size = 0x80000000ull;
    c.ncpus = 8;
    c.gic_version = 3;
    c.gicd_base = 0x08000000;
    c.gicr_base = 0x080a0000;
    c.uart_base = 0x09000000;
    c.uart_intid = 33;
    c.bootargs = "";
    c.nvirtio = 1;
    c.virtio[0].base = 0x0a000000;
    c.virtio[0].size = 0x200;
    c.virtio[0].intid = 48;
    c.npassthrough = 3;
    c.passthrough[0].base = 0x09010000;
    c.passthrough[0].size = 0x1000;
    c.passthrough[0].intid = 34;
    c.passthrough[0].compatible = "arm,pl031";
    c.passthrough[1].base = 0x0c000000;
    c.passthrough[1].size = 0x10000;
    c.passthrough[1].compatible = "acme,9widget";
    c.passthrough[2].base = 0x0c100000;
    c.passthrough[2].size = 0x1000;
    c.passthrough[2].intid = 100;
    c.passthrough[2].compatible = "ns16550a";
    c.psci_method = "smc";
    return c;
}

static size_t build(const struct vm_dtb_config *c, uint8_t *blob)
{
    char err[ERRLEN] = "";
    size_t len = 0;
    int rc = vm_dtb_build(c, blob, BLOBMAX, &len, err, sizeof(err));

    CHECK_EQ(rc, 0);
    if (rc)
        fprintf(stderr, "  %s: %s\n", test_current, err);
    return rc ? 0 : len;
}

/* The cells of a node's property, with its length in bytes in *len; NULL if absent. */
static const uint8_t *node_prop(const uint8_t *blob, size_t size, const char *path,
                                const char *prop, uint32_t *len)
{
    struct fdt fdt;
    struct fdt_iter it;
    struct fdt_node node;

    if (fdt_open(&fdt, blob, size, NULL, 0) || fdt_find_node(&fdt, path, &it, &node) != 1)
        return NULL;
    return fdt_prop(&fdt, &node, prop, len);
}

static bool has_node(const uint8_t *blob, size_t size, const char *path)
{
    struct fdt fdt;
    struct fdt_iter it;
    struct fdt_node node;

    return fdt_open(&fdt, blob, size, NULL, 0) == 0 && fdt_find_node(&fdt, path, &it, &node) == 1;
}

/* The summary the kernel itself reads matches what was configured. */
static void check_platform(const struct vm_dtb_config *c, const uint8_t *blob, size_t size)
{
    static const int timer_intids[4] = {29, 30, 27, 26};
    struct fdt_platform p;
    char err[ERRLEN] = "";
    int rc = fdt_parse_platform(blob, size, &p, err, sizeof(err));

    CHECK_EQ(rc, 0);
    if (rc) {
        fprintf(stderr, "  %s: %s\n", test_current, err);
        return;
    }
    CHECK_EQ(fdt_totalsize(blob), size);
    CHECK_EQ(p.nmem, 1);
    CHECK_EQ(p.mem[0].base, c->ram_base);
    CHECK_EQ(p.mem[0].size, c->ram_size);
    CHECK_EQ(p.nrsv, 0);
    CHECK_EQ(p.ncpus, (int)c->ncpus);
    for (unsigned i = 0; i < c->ncpus && i < FDT_MAX_CPUS; i++)
        CHECK_EQ(p.cpu_mpidr[i], i);
    CHECK_EQ(p.gic_version, c->gic_version);
    CHECK_EQ(p.gicd.base, c->gicd_base);
    if (c->gic_version == 2) {
        CHECK_EQ(p.gicd.size, 0x1000);
        CHECK_EQ(p.gicc.base, c->gicc_base);
        CHECK_EQ(p.gicc.size, 0x2000);
        CHECK_EQ(p.gicr.size, 0);
    } else {
        CHECK_EQ(p.gicd.size, 0x10000);
        CHECK_EQ(p.gicr.base, c->gicr_base);
        CHECK_EQ(p.gicr.size, 0x20000ull * c->ncpus);
        CHECK_EQ(p.gicc.size, 0);
    }
    CHECK_EQ(p.gic_maint_irq, 0);
    CHECK_EQ(p.uart.base, c->uart_base);
    CHECK_EQ(p.uart.size, 0x1000);
    CHECK_EQ(p.uart_irq, c->uart_intid);
    if (c->rtc_base) {
        CHECK_EQ(p.rtc.base, c->rtc_base);
        CHECK_EQ(p.rtc.size, 0x1000);
    }
    CHECK_EQ(p.nvirtio, (int)c->nvirtio);
    for (unsigned i = 0; i < c->nvirtio; i++) {
        CHECK_EQ(p.virtio[i].reg.base, c->virtio[i].base);
        CHECK_EQ(p.virtio[i].reg.size, c->virtio[i].size);
        CHECK_EQ(p.virtio[i].irq, c->virtio[i].intid);
    }
    for (int i = 0; i < 4; i++)
        CHECK_EQ(p.timer_irq[i], timer_intids[i]);
    CHECK_EQ(p.psci, strcmp(c->psci_method, "hvc") == 0 ? FDT_PSCI_HVC : FDT_PSCI_SMC);
    CHECK_EQ(p.initrd_start, c->initrd_start);
    CHECK_EQ(p.initrd_end, c->initrd_end);
    if (c->bootargs && c->bootargs[0])
        CHECK(p.bootargs && strcmp(p.bootargs, c->bootargs) == 0);
    else
        CHECK(p.bootargs == NULL);
}

/* Trigger and CPU-mask cells that fdt_parse_platform() does not report. */
static void check_flags(const struct vm_dtb_config *c, const uint8_t *blob, size_t size)
{
    uint32_t len = 0;
    const uint8_t *v = node_prop(blob, size, "/timer", "interrupts", &len);
    uint32_t timer_flags = c->gic_version == 2 ? ((1u << c->ncpus) - 1) << 8 | 8 : 8;
    char path[64];

    CHECK(v && len == 48);
    for (uint32_t i = 0; v && i < len / 12; i++) {
        CHECK_EQ(fdt_be32(v + 12 * i), 1);
        CHECK_EQ(fdt_be32(v + 12 * i + 8), timer_flags);
    }
    v = node_prop(blob, size, "/timer", "always-on", &len);
    CHECK(v && len == 0);
    snprintf(path, sizeof(path), "/pl011@%llx", (unsigned long long)c->uart_base);
    v = node_prop(blob, size, path, "interrupts", &len);
    CHECK(v && len == 12 && fdt_be32(v + 8) == 4);
    v = node_prop(blob, size, path, "clocks", &len);
    CHECK(v && len == 8 && fdt_be32(v) == fdt_be32(v + 4));
    for (unsigned i = 0; i < c->nvirtio; i++) {
        snprintf(path, sizeof(path), "/virtio_mmio@%llx", (unsigned long long)c->virtio[i].base);
        v = node_prop(blob, size, path, "interrupts", &len);
        CHECK(v && len == 12 && fdt_be32(v) == 0 && fdt_be32(v + 8) == 1);
        CHECK(node_prop(blob, size, path, "dma-coherent", &len) != NULL);
    }
}

/* dtc decompiles the blob with no warning, and the nodes are where QEMU virt puts them. */
static void check_dtc(const char *name, const uint8_t *blob, size_t size, const char *const *nodes,
                      int nnodes)
{
    const char *b = getenv("AVATAR_BUILD");
    char dir[400], path[512];
    FILE *f;

    snprintf(dir, sizeof(dir), "%s/unit/tmp/vm_dtb", b ? b : "build");
    CHECK_EQ(test_sh("mkdir -p '%s'", dir), 0);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK_EQ(fwrite(blob, 1, size, f), size);
    fclose(f);
    CHECK_EQ(test_sh("dtc -I dtb -O dts -o '%s.dts' '%s' 2>'%s.err'", path, path, path), 0);
    if (test_sh("test ! -s '%s.err'", path) != 0) {
        test_failed_checks++;
        fprintf(stderr, "  %s: dtc warned:\n", test_current);
        test_sh("sed 's/^/    dtc: /' '%s.err' >&2", path);
    }
    for (int i = 0; i < nnodes; i++) {
        if (test_sh("grep -q '^[[:space:]]*%s {$' '%s.dts'", nodes[i], path) != 0) {
            test_failed_checks++;
            fprintf(stderr, "  %s: no line '%s {' in %s.dts\n", test_current, nodes[i], path);
        }
    }
}

static void test_gicv2_tree(void)
{
    static const char *const nodes[] = {
        "psci",
        "memory@40000000",
        "cpus",
        "cpu@0",
        "cpu@3",
        "timer",
        "intc@8000000",
        "apb-pclk",
        "pl011@9000000",
        "pl031@9010000",
        "virtio_mmio@a000000",
        "virtio_mmio@a000200",
        "chosen",
    };
    static uint8_t blob[BLOBMAX];
    struct vm_dtb_config c = cfg_v2();
    size_t size = build(&c, blob);
    uint32_t len;
    const char *s;

    if (!size)
        return;
    check_platform(&c, blob, size);
    check_flags(&c, blob, size);
    s = (const char *)node_prop(blob, size, "/chosen", "stdout-path", &len);
    CHECK(s && strcmp(s, "/pl011@9000000") == 0);
    s = (const char *)node_prop(blob, size, "/", "compatible", &len);
    CHECK(s && strcmp(s, "linux,dummy-virt") == 0);
    s = (const char *)node_prop(blob, size, "/psci", "compatible", &len);
    CHECK(s && len == sizeof("arm,psci-1.0\0arm,psci-0.2") &&
          memcmp(s, "arm,psci-1.0\0arm,psci-0.2", len) == 0);
    /* The emulated RTC as QEMU virt has it: SPI 2, level high, a PrimeCell with its bus clock. */
    const uint8_t *v = node_prop(blob, size, "/pl031@9010000", "interrupts", &len);
    CHECK(v && len == 12 && fdt_be32(v) == 0 && fdt_be32(v + 4) == 2 && fdt_be32(v + 8) == 4);
    v = node_prop(blob, size, "/pl031@9010000", "compatible", &len);
    CHECK(v && len == sizeof("arm,pl031\0arm,primecell") &&
          memcmp(v, "arm,pl031\0arm,primecell", len) == 0);
    CHECK(node_prop(blob, size, "/pl031@9010000", "clocks", &len) != NULL);
    s = (const char *)node_prop(blob, size, "/pl031@9010000", "clock-names", &len);
    CHECK(s && strcmp(s, "apb_pclk") == 0);
    check_dtc("gicv2.dtb", blob, size, nodes, (int)(sizeof(nodes) / sizeof(nodes[0])));
}

static void test_gicv3_tree(void)
{
    static const char *const nodes[] = {
        "memory@100000000",    "cpu@7",         "intc@8000000",        "pl011@9000000",
        "virtio_mmio@a000000", "pl031@9010000", "passthrough@c000000", "ns16550a@c100000",
    };
    static uint8_t blob[BLOBMAX];
    struct vm_dtb_config c = cfg_v3();
    size_t size = build(&c, blob);
    uint32_t len;
    const uint8_t *v;

    if (!size)
        return;
    check_platform(&c, blob, size);
    check_flags(&c, blob, size);
    v = node_prop(blob, size, "/intc@8000000", "#redistributor-regions", &len);
    CHECK(v && len == 4 && fdt_be32(v) == 1);
    v = node_prop(blob, size, "/pl031@9010000", "interrupts", &len);
    CHECK(v && len == 12 && fdt_be32(v) == 0 && fdt_be32(v + 4) == 2 && fdt_be32(v + 8) == 4);
    CHECK(node_prop(blob, size, "/passthrough@c000000", "interrupts", &len) == NULL);
    v = node_prop(blob, size, "/passthrough@c000000", "compatible", &len);
    CHECK(v && len == sizeof("acme,9widget") && memcmp(v, "acme,9widget", len) == 0);
    v = node_prop(blob, size, "/ns16550a@c100000", "reg", &len);
    CHECK(v && len == 16 && fdt_be64(v) == 0x0c100000 && fdt_be64(v + 8) == 0x1000);
    CHECK(node_prop(blob, size, "/ns16550a@c100000", "dma-coherent", &len) != NULL);
    CHECK(has_node(blob, size, "/chosen"));
    CHECK(node_prop(blob, size, "/chosen", "linux,initrd-start", &len) == NULL);
    check_dtc("gicv3.dtb", blob, size, nodes, (int)(sizeof(nodes) / sizeof(nodes[0])));
}

/* Every buffer shorter than the blob fails with -ENOSPC inside its bounds (ASan watches the
   exactly-sized heap buffer); the exact size gives the same blob. */
static void test_every_length(void)
{
    struct vm_dtb_config cfgs[2] = {cfg_v2(), cfg_v3()};

    for (int k = 0; k < 2; k++) {
        static uint8_t full[BLOBMAX];
        size_t size = build(&cfgs[k], full);

        for (size_t len = 0; size && len <= size; len++) {
            uint8_t *buf = malloc(len ? len : 1);
            char err[ERRLEN] = "";
            size_t out = 0;
            int rc = vm_dtb_build(&cfgs[k], len ? buf : NULL, len, &out, err, sizeof(err));
            if (len < size) {
                CHECK_EQ(rc, -ENOSPC);
                CHECK(strstr(err, "too small") != NULL);
            } else {
                CHECK_EQ(rc, 0);
                CHECK_EQ(out, size);
                CHECK(memcmp(buf, full, size) == 0);
            }
            free(buf);
        }
    }
}

static void expect_invalid(const struct vm_dtb_config *c, const char *what, const char *msg)
{
    static uint8_t blob[BLOBMAX];
    char err[ERRLEN] = "";
    size_t out = 12345;
    int rc = vm_dtb_build(c, blob, sizeof(blob), &out, err, sizeof(err));

    if (rc != -EINVAL || !strstr(err, msg) || strchr(err, '\n') || out != 12345) {
        test_failed_checks++;
        fprintf(stderr, "  %s: %s: rc %d, err \"%s\", wanted -EINVAL with \"%s\"\n", test_current,
                what, rc, err, msg);
    }
}

static void test_bad_configs(void)
{
    struct vm_dtb_config c;

#define BAD(mutation, msg)                                                                         \
    do {                                                                                           \
        c = cfg_v2();                                                                              \
        mutation;                                                                                  \
        expect_invalid(&c, #mutation, msg);                                                        \
        c = cfg_v3();                                                                              \
        mutation;                                                                                  \
        expect_invalid(&c, #mutation, msg);                                                        \
    } while (0)

    BAD(c.ncpus = 0, "ncpus");
    BAD(c.ncpus = 9, "ncpus");
    BAD(c.gic_version = 4, "GIC version");
    BAD(c.gic_version = 0, "GIC version");
    BAD(c.psci_method = NULL, "PSCI");
    BAD(c.psci_method = "svc", "PSCI");
    BAD(c.nvirtio = 9, "virtio");
    BAD(c.npassthrough = 9, "passthrough");
    BAD(c.ram_size = 0, "RAM has size 0");
    BAD(c.ram_base = 0xfffffffff8000000ull, "wraps");
    BAD(c.uart_intid = 31, "UART INTID");
    BAD(c.uart_intid = 1020, "UART INTID");
    BAD(c.uart_base = c.ram_base + 0x1000, "overlaps RAM");
    BAD(c.gicd_base = c.ram_base + c.ram_size - 0x1000, "overlaps RAM");
    BAD(c.virtio[0].intid = 0, "virtio 0 INTID");
    BAD(c.virtio[0].size = 0, "virtio 0 has size 0");
    BAD(c.virtio[0].base = c.uart_base + 0x800, "overlaps UART");
    BAD(c.virtio[0].intid = c.uart_intid, "given to two devices");
    BAD(c.initrd_start = 0x1000; c.initrd_end = 0x2000, "initrd");
    BAD(c.initrd_start = c.ram_base; c.initrd_end = 0, "initrd");
    BAD(c.initrd_start = c.ram_base; c.initrd_end = c.ram_base + c.ram_size + 1, "initrd");
    BAD(c.npassthrough = 1; c.passthrough[0].compatible = NULL; c.passthrough[0].base = 0x0c000000;
        c.passthrough[0].size = 0x1000, "compatible");
    BAD(c.npassthrough = 1; c.passthrough[0].compatible = "a b"; c.passthrough[0].base = 0x0c000000;
        c.passthrough[0].size = 0x1000, "compatible");
    BAD(c.npassthrough = 1; c.passthrough[0].compatible = "x,y"; c.passthrough[0].base = 0x0c000000;
        c.passthrough[0].size = 0x1000; c.passthrough[0].intid = 16, "passthrough 0 INTID");
    BAD(c.npassthrough = 1; c.passthrough[0].compatible = "x,y"; c.passthrough[0].base = c.ram_base;
        c.passthrough[0].size = 0x1000, "overlaps RAM");
#undef BAD

    c = cfg_v2();
    c.rtc_intid = 20;
    expect_invalid(&c, "RTC INTID a PPI", "RTC INTID");
    c = cfg_v2();
    c.rtc_intid = c.uart_intid;
    expect_invalid(&c, "RTC INTID the UART's", "given to two devices");
    c = cfg_v2();
    c.rtc_base = c.uart_base + 0x800;
    expect_invalid(&c, "RTC inside the UART", "overlaps UART");
    c = cfg_v2();
    c.gicc_base = c.gicd_base + 0x800;
    expect_invalid(&c, "GICC inside GICD", "overlaps GICD");
    c = cfg_v3();
    c.gicr_base = c.uart_base - 0x20000 * 7;
    expect_invalid(&c, "GICR reaching the UART", "overlaps GICR");
    expect_invalid(NULL, "no config", "missing");
}

/* The writer on its own: shared property names, /memreserve/, and misuse refused. */
static void test_writer(void)
{
    static uint8_t blob[4096];
    struct fdt_writer w;
    struct fdt_platform p;
    size_t size = 0;
    char err[ERRLEN] = "";

    fdt_write_init(&w, blob, sizeof(blob));
    fdt_write_reserve(&w, 0x48000000, 0x10000);
    fdt_write_begin_node(&w, "");
    fdt_write_prop_u32(&w, "#address-cells", 2);
    fdt_write_prop_u32(&w, "#size-cells", 2);
    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof(name), "memory@%x", 0x40000000 + i * 0x10000000);
        fdt_write_begin_node(&w, name);
        fdt_write_prop_str(&w, "device_type", "memory");
        uint32_t reg[4] = {0, 0x40000000u + i * 0x10000000u, 0, 0x10000000u};
        fdt_write_prop_cells(&w, "reg", reg, 4);
        fdt_write_end_node(&w);
    }
    fdt_write_end_node(&w);
    CHECK_EQ(fdt_write_finish(&w, &size), 0);
    CHECK_EQ(fdt_totalsize(blob), size);
    /* Each name once: "#address-cells" "#size-cells" "device_type" "reg", with their NULs. */
    CHECK_EQ(fdt_be32(blob + 32), 15 + 12 + 12 + 4);
    CHECK_EQ(fdt_parse_platform(blob, size, &p, err, sizeof(err)), 0);
    CHECK_EQ(p.nrsv, 1);
    CHECK_EQ(p.rsv[0].base, 0x48000000);
    CHECK_EQ(p.rsv[0].size, 0x10000);
    CHECK_EQ(p.nmem, 3);
    CHECK_EQ(p.mem[2].base, 0x60000000);
    /* A second finish after the strings moved is refused. */
    CHECK_EQ(fdt_write_finish(&w, &size), -EINVAL);

    /* Misuse, each on a fresh writer. */
    fdt_write_init(&w, blob, sizeof(blob));
    fdt_write_begin_node(&w, "");
    fdt_write_begin_node(&w, "a");
    fdt_write_end_node(&w);
    fdt_write_prop_u32(&w, "late", 1); /* after a child node */
    fdt_write_end_node(&w);
    CHECK_EQ(fdt_write_finish(&w, &size), -EINVAL);

    fdt_write_init(&w, blob, sizeof(blob));
    fdt_write_begin_node(&w, "");
    CHECK_EQ(fdt_write_finish(&w, &size), -EINVAL); /* root left open */

    fdt_write_init(&w, blob, sizeof(blob));
    CHECK_EQ(fdt_write_finish(&w, &size), -EINVAL); /* no root */

    fdt_write_init(&w, blob, sizeof(blob));
    fdt_write_begin_node(&w, "");
    fdt_write_end_node(&w);
    fdt_write_begin_node(&w, ""); /* a second root */
    fdt_write_end_node(&w);
    CHECK_EQ(fdt_write_finish(&w, &size), -EINVAL);

    fdt_write_init(&w, blob, sizeof(blob));
    fdt_write_begin_node(&w, "");
    fdt_write_reserve(&w, 0x1000, 0x1000); /* reservations come before the structure */
    fdt_write_end_node(&w);
    CHECK_EQ(fdt_write_finish(&w, &size), -EINVAL);

    static const char *const bad_nodes[] = {"9lives", "a b", "x@",
                                            "abcdefghijklmnopqrstuvwxyz01234567"};
    for (size_t i = 0; i < sizeof(bad_nodes) / sizeof(bad_nodes[0]); i++) {
        fdt_write_init(&w, blob, sizeof(blob));
        fdt_write_begin_node(&w, "");
        fdt_write_begin_node(&w, bad_nodes[i]);
        fdt_write_end_node(&w);
        fdt_write_end_node(&w);
        CHECK_EQ(fdt_write_finish(&w, &size), -EINVAL);
    }
    static const char *const bad_props[] = {"", "a b", "abcdefghijklmnopqrstuvwxyz0123456"};
    for (size_t i = 0; i < sizeof(bad_props) / sizeof(bad_props[0]); i++) {
        fdt_write_init(&w, blob, sizeof(blob));
        fdt_write_begin_node(&w, "");
        fdt_write_prop_empty(&w, bad_props[i]);
        fdt_write_end_node(&w);
        CHECK_EQ(fdt_write_finish(&w, &size), -EINVAL);
    }
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"vm_dtb_gicv2_tree", test_gicv2_tree},     {"vm_dtb_gicv3_tree", test_gicv3_tree},
        {"vm_dtb_every_length", test_every_length}, {"vm_dtb_bad_configs", test_bad_configs},
        {"fdt_write_tree_and_misuse", test_writer},
    };

    return test_main(cases, (int)(sizeof(cases) / sizeof(cases[0])), argc, argv);
}
