/* test_vm_dtb_patch.c - vmm/vm_dtb_patch.c on QEMU's own DTBs, a dtc-built tree and mutations. */
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
#define OUTMAX  (256 * 1024)
#define RAM     0x40000000ull
#define RAMSIZE 0x08000000ull /* 128 MiB */

/* The VM the QEMU trees are patched for: 2 CPUs, 128 MiB at 1 GiB, new bootargs, an initrd. */
static struct vm_dtb_config vm_cfg(void)
{
    struct vm_dtb_config c;

    memset(&c, 0, sizeof(c));
    c.ram_base = RAM;
    c.ram_size = RAMSIZE;
    c.ncpus = 2;
    c.bootargs = "console=ttyAMA0 root=/dev/vda rw";
    c.initrd_start = RAM + 0x4000000;
    c.initrd_end = RAM + 0x4123456;
    c.psci_method = "smc"; /* QEMU says hvc, so the change is visible */
    return c;
}

/* Patches into a fresh OUTMAX buffer; the result's size in *size. */
static int patch(const struct test_blob *d, const struct vm_dtb_config *cfg, uint8_t **out,
                 size_t *size, char *err)
{
    *out = malloc(OUTMAX);
    CHECK(*out != NULL);
    err[0] = '\0';
    return vm_dtb_patch(d->data, d->size, cfg, *out, OUTMAX, size, err, ERRLEN);
}

/* Calls fn(name, value, len) for each property of node, in blob order, and returns how many. */
static int each_prop(const struct fdt *fdt, const struct fdt_node *node,
                     void (*fn)(void *, const char *, const uint8_t *, uint32_t), void *arg)
{
    const uint8_t *s = fdt->blob + fdt->off_struct;
    uint32_t off = node->props;
    int n = 0;

    for (;;) {
        uint32_t tag = fdt_be32(s + off), len;
        if (tag == 4) { /* FDT_NOP */
            off += 4;
            continue;
        }
        if (tag != 3) /* FDT_PROP */
            return n;
        len = fdt_be32(s + off + 4);
        if (fn)
            fn(arg, (const char *)fdt->blob + fdt->off_strings + fdt_be32(s + off + 8),
               s + off + 12, len);
        n++;
        off = (off + 12 + len + 3) & ~3u;
    }
}

struct same_ctx {
    const struct fdt *out;
    const struct fdt_node *node;
    const char *path;
};

static void check_same_prop(void *arg, const char *name, const uint8_t *val, uint32_t len)
{
    struct same_ctx *c = arg;
    uint32_t olen;
    const uint8_t *o = fdt_prop(c->out, c->node, name, &olen);

    if (!o || olen != len || memcmp(o, val, len) != 0) {
        test_failed_checks++;
        fprintf(stderr, "  %s: %s: property %s %s\n", test_current, c->path, name,
                o ? "changed" : "missing");
    }
}

/* Nodes the patch drops or rewrites, for a 2-CPU VM. */
static bool patched_path(const char *path)
{
    return strncmp(path, "/memory", 7) == 0 || strcmp(path, "/cpus/cpu@2") == 0 ||
           strcmp(path, "/cpus/cpu@3") == 0 || strncmp(path, "/cpus/cpu-map", 13) == 0 ||
           strcmp(path, "/chosen") == 0 || strcmp(path, "/psci") == 0;
}

/* Every node the patch has no business with is in the output with the same properties; returns
   how many nodes were compared. */
static int check_copied_verbatim(const struct test_blob *in, const uint8_t *out, size_t out_size)
{
    struct fdt fin, fout;
    struct fdt_iter it, oit;
    struct fdt_node node, onode;
    char err[ERRLEN];
    char path[FDT_MAX_PATH];
    int n = 0;

    CHECK_EQ(fdt_open(&fin, in->data, in->size, err, sizeof(err)), 0);
    CHECK_EQ(fdt_open(&fout, out, out_size, err, sizeof(err)), 0);
    fdt_iter_init(&it);
    while (fdt_next_node(&fin, &it, &node) == 1) {
        struct same_ctx c = {&fout, &onode, path};
        if (patched_path(node.path))
            continue;
        snprintf(path, sizeof(path), "%s", node.path);
        if (fdt_find_node(&fout, path, &oit, &onode) != 1) {
            test_failed_checks++;
            fprintf(stderr, "  %s: node %s is missing from the output\n", test_current, path);
            continue;
        }
        CHECK_EQ(each_prop(&fin, &node, check_same_prop, &c), each_prop(&fout, &onode, NULL, 0));
        n++;
    }
    return n;
}

/* dtc (a parser other than ours) decompiles the blob with no warning; returns the .dts path. */
static void check_dtc(const char *name, const uint8_t *blob, size_t size, char *dts, size_t dtslen)
{
    char dir[400], path[512];
    FILE *f;

    snprintf(dir, sizeof(dir), "%s/unit/tmp/vm_dtb_patch", test_build_dir());
    CHECK_EQ(test_sh("mkdir -p '%s'", dir), 0);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    snprintf(dts, dtslen, "%s.dts", path);
    f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK_EQ(fwrite(blob, 1, size, f), size);
    fclose(f);
    CHECK_EQ(test_sh("dtc -I dtb -O dts -o '%s' '%s' 2>'%s.err'", dts, path, path), 0);
    if (test_sh("test ! -s '%s.err'", path) != 0) {
        test_failed_checks++;
        fprintf(stderr, "  %s: dtc warned:\n", test_current);
        test_sh("sed 's/^/    dtc: /' '%s.err' >&2", path);
    }
}

static bool dts_has(const char *dts, const char *line)
{
    return test_sh("grep -q '^[[:space:]]*%s$' '%s'", line, dts) == 0;
}

/* A QEMU virt tree patched for the VM: what the kernel reads is the VM, the rest is the input. */
static void check_qemu_tree(const char *file, int gic_version)
{
    struct test_blob d = test_load_dtb(file);
    struct vm_dtb_config cfg = vm_cfg();
    struct fdt_platform in, p;
    char err[ERRLEN], dts[600];
    uint8_t *out;
    size_t size = 0;

    if (!d.data)
        return;
    CHECK_EQ(fdt_parse_platform(d.data, d.size, &in, err, sizeof(err)), 0);
    CHECK_EQ(in.ncpus, 4);
    CHECK_EQ(patch(&d, &cfg, &out, &size, err), 0);
    if (err[0])
        fprintf(stderr, "  %s: %s\n", test_current, err);
    CHECK_EQ(fdt_parse_platform(out, size, &p, err, sizeof(err)), 0);
    CHECK_EQ(p.nmem, 1);
    CHECK_EQ(p.mem[0].base, RAM);
    CHECK_EQ(p.mem[0].size, RAMSIZE);
    CHECK_EQ(p.ncpus, 2);
    CHECK_EQ(p.cpu_mpidr[0], 0);
    CHECK_EQ(p.cpu_mpidr[1], 1);
    CHECK(p.bootargs && strcmp(p.bootargs, cfg.bootargs) == 0);
    CHECK_EQ(p.initrd_start, cfg.initrd_start);
    CHECK_EQ(p.initrd_end, cfg.initrd_end);
    CHECK_EQ(p.psci, FDT_PSCI_SMC);
    /* The devices the kernel finds are the input's. */
    CHECK_EQ(p.gic_version, gic_version);
    CHECK(memcmp(&p.gicd, &in.gicd, sizeof(p.gicd)) == 0);
    CHECK(memcmp(&p.gicr, &in.gicr, sizeof(p.gicr)) == 0);
    CHECK(memcmp(&p.gich, &in.gich, sizeof(p.gich)) == 0);
    CHECK_EQ(p.gic_maint_irq, in.gic_maint_irq);
    CHECK_EQ(p.uart.base, in.uart.base);
    CHECK_EQ(p.uart_irq, in.uart_irq);
    CHECK_EQ(p.rtc.base, in.rtc.base);
    CHECK_EQ(p.nvirtio, in.nvirtio);
    CHECK_EQ(p.nvirtio, 32);
    CHECK(memcmp(p.timer_irq, in.timer_irq, sizeof(p.timer_irq)) == 0);
    CHECK(check_copied_verbatim(&d, out, size) > 40);

    check_dtc(file, out, size, dts, sizeof(dts));
    CHECK(dts_has(dts, "memory@40000000 {"));
    CHECK(dts_has(dts, "reg = <0x00 0x40000000 0x00 0x8000000>;"));
    CHECK(dts_has(dts, "cpu@1 {"));
    CHECK(!dts_has(dts, "cpu@2 {"));
    CHECK(!dts_has(dts, "cpu-map {"));
    CHECK(dts_has(dts, "pl061@9030000 {"));
    CHECK(dts_has(dts, "pcie@10000000 {"));
    CHECK(dts_has(dts, "gpio-keys {"));
    CHECK(dts_has(dts, "stdout-path = \"/pl011@9000000\";"));
    CHECK(dts_has(dts, "method = \"smc\";"));
    CHECK(dts_has(dts, "linux,initrd-start = <0x00 0x44000000>;"));
    free(out);
    free(d.data);
}

static void test_qemu_gicv2(void)
{
    check_qemu_tree("virt-gicv2.dtb", 2);
}

static void test_qemu_gicv3_virt(void)
{
    check_qemu_tree("virt-gicv3-virt.dtb", 3);
}

/* Patching what the patch wrote changes nothing: no property moves or repeats on the way. */
static void test_idempotent(void)
{
    struct test_blob d = test_load_dtb("virt-gicv3.dtb");
    struct vm_dtb_config cfg = vm_cfg();
    char err[ERRLEN];
    uint8_t *once, *twice;
    size_t n1 = 0, n2 = 0;

    if (!d.data)
        return;
    CHECK_EQ(patch(&d, &cfg, &once, &n1, err), 0);
    struct test_blob d1 = {once, n1};
    CHECK_EQ(patch(&d1, &cfg, &twice, &n2, err), 0);
    CHECK_EQ(n1, n2);
    CHECK(n1 == n2 && memcmp(once, twice, n1) == 0);
    free(once);
    free(twice);
    free(d.data);
}

/* The dtc tree: 1-cell root, /memreserve/, reserved-memory, CPUs at MPIDR 0, 0x100, 1.0.0.0. */
static void test_custom_tree(void)
{
    struct test_blob d = test_load_dtb("custom.dtb");
    struct vm_dtb_config cfg = vm_cfg();
    struct fdt_platform in, p;
    char err[ERRLEN], dts[600];
    uint8_t *out;
    size_t size = 0;

    if (!d.data)
        return;
    CHECK_EQ(fdt_parse_platform(d.data, d.size, &in, err, sizeof(err)), 0);
    /* No CPU node has MPIDR 1, which vCPU 1 has. */
    CHECK_EQ(patch(&d, &cfg, &out, &size, err), -EINVAL);
    CHECK(strstr(err, "2 CPUs") && strstr(err, "reg 1"));
    free(out);

    cfg.ncpus = 1;
    cfg.bootargs = NULL;
    cfg.initrd_start = cfg.initrd_end = 0;
    cfg.psci_method = "hvc";
    CHECK_EQ(patch(&d, &cfg, &out, &size, err), 0);
    CHECK_EQ(fdt_parse_platform(out, size, &p, err, sizeof(err)), 0);
    CHECK_EQ(p.nmem, 1);
    CHECK_EQ(p.mem[0].base, RAM);
    CHECK_EQ(p.mem[0].size, RAMSIZE);
    CHECK_EQ(p.ncpus, 1);
    CHECK(p.bootargs == NULL);
    CHECK_EQ(p.initrd_start, 0);
    CHECK_EQ(p.initrd_end, 0);
    CHECK_EQ(p.psci, FDT_PSCI_HVC);
    /* /memreserve/ and /reserved-memory survive: the guest must not touch them either. */
    CHECK_EQ(p.nrsv, in.nrsv);
    CHECK(memcmp(p.rsv, in.rsv, sizeof(p.rsv)) == 0);
    CHECK_EQ(p.nvirtio, in.nvirtio);
    CHECK_EQ(p.uart.base, 0x9040000); /* still found through the aliased stdout-path */
    check_dtc("custom.dtb", out, size, dts, sizeof(dts));
    CHECK(dts_has(dts, "/memreserve/[[:space:]]*0x0*48000000 0x0*10000;"));
    CHECK(dts_has(dts, "reg = <0x40000000 0x8000000>;"));
    CHECK(dts_has(dts, "stdout-path = \"serial1:115200n8\";"));
    CHECK(!dts_has(dts, "memory@80000000 {"));
    CHECK(!dts_has(dts, "cpu@100 {"));
    CHECK(!dts_has(dts, "cpu@10000 {"));
    free(out);

    /* RAM past 4 GiB cannot be said in the root's one address cell. */
    cfg.ram_base = 0x100000000ull;
    CHECK_EQ(patch(&d, &cfg, &out, &size, err), -EINVAL);
    CHECK(strstr(err, "cells") != NULL);
    free(out);
    free(d.data);
}

/* A tree with no memory, /chosen or /psci gets all three, at the root. */
static void test_missing_nodes(void)
{
    static uint8_t blob[1024];
    struct vm_dtb_config cfg = vm_cfg();
    struct fdt_writer w;
    struct fdt_platform p;
    char err[ERRLEN], dts[600];
    uint8_t *out;
    size_t size = 0;

    fdt_write_init(&w, blob, sizeof(blob));
    fdt_write_begin_node(&w, "");
    fdt_write_prop_u32(&w, "#address-cells", 2);
    fdt_write_prop_u32(&w, "#size-cells", 2);
    fdt_write_begin_node(&w, "cpus");
    fdt_write_prop_u32(&w, "#address-cells", 1);
    fdt_write_prop_u32(&w, "#size-cells", 0);
    for (uint32_t i = 0; i < 2; i++) {
        char name[16];
        snprintf(name, sizeof(name), "cpu@%u", i);
        fdt_write_begin_node(&w, name);
        fdt_write_prop_str(&w, "device_type", "cpu");
        fdt_write_prop_u32(&w, "reg", i);
        fdt_write_end_node(&w);
    }
    fdt_write_end_node(&w);
    fdt_write_end_node(&w);
    CHECK_EQ(fdt_write_finish(&w, &size), 0);

    struct test_blob d = {blob, size};
    CHECK_EQ(patch(&d, &cfg, &out, &size, err), 0);
    CHECK_EQ(fdt_parse_platform(out, size, &p, err, sizeof(err)), 0);
    CHECK_EQ(p.nmem, 1);
    CHECK_EQ(p.mem[0].base, RAM);
    CHECK_EQ(p.ncpus, 2);
    CHECK(p.bootargs && strcmp(p.bootargs, cfg.bootargs) == 0);
    CHECK_EQ(p.initrd_end, cfg.initrd_end);
    CHECK_EQ(p.psci, FDT_PSCI_SMC);
    check_dtc("missing.dtb", out, size, dts, sizeof(dts));
    CHECK(dts_has(dts, "compatible = \"arm,psci-1.0\\\\0arm,psci-0.2\";"));
    free(out);

    /* Three vCPUs, two CPU nodes: the user's tree does not describe this VM. */
    cfg.ncpus = 3;
    d.size = fdt_totalsize(blob);
    CHECK_EQ(patch(&d, &cfg, &out, &size, err), -EINVAL);
    CHECK(strstr(err, "3 CPUs") && strstr(err, "2 CPU node"));
    free(out);
}

/* A name the writer cannot emit (DT spec 2.2.1: a node name starts with a letter) is reported
   with its path, and bad input and configurations are refused with a message. */
static void test_refusals(void)
{
    static uint8_t blob[1024];
    struct test_blob qemu = test_load_dtb("virt-gicv2.dtb");
    struct vm_dtb_config cfg = vm_cfg();
    struct fdt_writer w;
    char err[ERRLEN];
    uint8_t *out;
    size_t size = 0;

    fdt_write_init(&w, blob, sizeof(blob));
    fdt_write_begin_node(&w, "");
    fdt_write_begin_node(&w, "cpus");
    fdt_write_prop_u32(&w, "#address-cells", 1);
    fdt_write_prop_u32(&w, "#size-cells", 0);
    fdt_write_begin_node(&w, "cpu@0");
    fdt_write_prop_str(&w, "device_type", "cpu");
    fdt_write_prop_u32(&w, "reg", 0);
    fdt_write_end_node(&w);
    fdt_write_end_node(&w);
    fdt_write_begin_node(&w, "symbols");
    fdt_write_end_node(&w);
    fdt_write_end_node(&w);
    CHECK_EQ(fdt_write_finish(&w, &size), 0);
    /* "symbols" -> "_ymbols" in place: the reader accepts any name, the writer does not. */
    uint8_t *s = NULL;
    for (size_t i = 0; i + 7 <= size && !s; i++) {
        if (memcmp(blob + i, "symbols", 7) == 0)
            s = blob + i;
    }
    CHECK(s != NULL);
    if (s)
        s[0] = '_';
    struct test_blob d = {blob, size};
    cfg.ncpus = 1;
    CHECK_EQ(patch(&d, &cfg, &out, &size, err), -EINVAL);
    CHECK(strstr(err, "/_ymbols") != NULL);
    free(out);

    if (!qemu.data)
        return;
    cfg = vm_cfg();
    struct test_blob cut = {qemu.data, 39};
    CHECK_EQ(patch(&cut, &cfg, &out, &size, err), -EINVAL);
    CHECK(strncmp(err, "fdt: ", 5) == 0);
    free(out);
    cfg.psci_method = "svc";
    CHECK_EQ(patch(&qemu, &cfg, &out, &size, err), -EINVAL);
    free(out);
    cfg = vm_cfg();
    cfg.initrd_end = RAM + RAMSIZE + 1;
    CHECK_EQ(patch(&qemu, &cfg, &out, &size, err), -EINVAL);
    free(out);
    cfg = vm_cfg();
    cfg.ncpus = 0;
    CHECK_EQ(patch(&qemu, &cfg, &out, &size, err), -EINVAL);
    free(out);
    free(qemu.data);
}

/* Each output length from 0 up fails with -ENOSPC until the blob fits, then gives the same blob;
   each buffer is exactly that long, so ASan sees any write past it. */
static void test_every_length(void)
{
    struct test_blob d = test_load_dtb("virt-gicv3-virt.dtb");
    struct vm_dtb_config cfg = vm_cfg();
    char err[ERRLEN];
    uint8_t *full;
    size_t total = 0;

    if (!d.data)
        return;
    CHECK_EQ(patch(&d, &cfg, &full, &total, err), 0);
    for (size_t len = 0; len <= total; len++) {
        uint8_t *buf = malloc(len ? len : 1);
        size_t size = 0;
        int rc = vm_dtb_patch(d.data, d.size, &cfg, buf, len, &size, err, sizeof(err));
        if (len < total) {
            CHECK_EQ(rc, -ENOSPC);
        } else {
            CHECK_EQ(rc, 0);
            CHECK_EQ(size, total);
            CHECK(memcmp(buf, full, total) == 0);
        }
        free(buf);
    }
    free(full);
    free(d.data);
}

/* Fixed-seed mutations (truncations, byte flips, small words written over header and structure)
   of each tree are refused or patched into a blob our reader accepts; never a crash (ASan). */
static void test_mutations(void)
{
    static const char *const files[] = {"virt-gicv2.dtb", "custom.dtb"};
    struct vm_dtb_config cfg = vm_cfg();
    uint32_t seed = 0x5eed1234;
    int ok = 0, refused = 0;

    cfg.ncpus = 1;
    for (size_t fi = 0; fi < sizeof(files) / sizeof(files[0]); fi++) {
        struct test_blob d = test_load_dtb(files[fi]);
        uint8_t *out = malloc(OUTMAX);
        if (!d.data || !out) {
            free(out);
            continue;
        }
        for (int iter = 0; iter < 3000; iter++) {
            size_t len = d.size;
            uint8_t *in;
            char err[ERRLEN];
            size_t size = 0;
            int rc;
            seed = seed * 1103515245u + 12345u;
            if (seed >> 30 == 0)
                len = (seed >> 8) % d.size; /* a truncation */
            in = malloc(len ? len : 1);
            memcpy(in, d.data, len);
            for (int f = 0, nflips = 1 + (int)((seed >> 4) % 8); len && f < nflips; f++) {
                seed = seed * 1103515245u + 12345u;
                size_t at = (seed >> 8) % len;
                /* Half the flips land in the header and early structure, where they matter most. */
                if (seed & 1)
                    at %= len < 256 ? len : 256;
                in[at] ^= (uint8_t)(1u << ((seed >> 3) % 8));
            }
            rc = vm_dtb_patch(in, len, &cfg, out, OUTMAX, &size, err, sizeof(err));
            CHECK(rc == 0 || rc == -EINVAL);
            if (rc == 0) {
                struct fdt fdt;
                CHECK_EQ(fdt_open(&fdt, out, size, err, sizeof(err)), 0);
                ok++;
            } else {
                CHECK(err[0] != '\0');
                refused++;
            }
            free(in);
        }
        free(out);
        free(d.data);
    }
    /* Both outcomes happen, so the mutations reach past the header checks. */
    CHECK(ok > 100);
    CHECK(refused > 100);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"vm_dtb_patch_qemu_gicv2", test_qemu_gicv2},
        {"vm_dtb_patch_qemu_gicv3_virt", test_qemu_gicv3_virt},
        {"vm_dtb_patch_idempotent", test_idempotent},
        {"vm_dtb_patch_custom_tree", test_custom_tree},
        {"vm_dtb_patch_missing_nodes", test_missing_nodes},
        {"vm_dtb_patch_refusals", test_refusals},
        {"vm_dtb_patch_every_length", test_every_length},
        {"vm_dtb_patch_mutations", test_mutations},
    };

    return test_main(cases, (int)(sizeof(cases) / sizeof(cases[0])), argc, argv);
}
