/* test_fdt.c - lib/fdt.c on QEMU's own device trees, a dtc-built tree, and malformed blobs. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/errno.h"
#include "lib/fdt.h"
#include "test.h"

#define ERRLEN 160

/* ---- DTB bytes: big-endian fields and rewritten copies ---- */

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

/* QEMU pads its dump to 1 MiB; a copy cut to the last used byte keeps fuzzing loops fast. */
static struct test_blob compact_copy(const struct test_blob *d)
{
    struct test_blob c = {NULL, 0};
    uint32_t end_struct = get32(d->data + 8) + get32(d->data + 36);
    uint32_t end_strings = get32(d->data + 12) + get32(d->data + 32);

    c.size = end_struct > end_strings ? end_struct : end_strings;
    c.data = malloc(c.size);
    memcpy(c.data, d->data, c.size);
    put32(c.data + 4, (uint32_t)c.size);
    return c;
}

/* The same tree with the strings block before the structure block, so that cutting the blob
   short cuts the token stream while every name stays readable. */
static struct test_blob strings_first_copy(const struct test_blob *c)
{
    uint32_t off_st = get32(c->data + 8), size_st = get32(c->data + 36);
    uint32_t off_str = get32(c->data + 12), size_str = get32(c->data + 32);
    uint32_t new_str = 40 + 16, new_st = (new_str + size_str + 3) & ~3u;
    struct test_blob r;

    r.size = new_st + size_st;
    r.data = calloc(1, r.size);
    memcpy(r.data, c->data, 40);
    memcpy(r.data + new_str, c->data + off_str, size_str);
    memcpy(r.data + new_st, c->data + off_st, size_st);
    put32(r.data + 4, (uint32_t)r.size);
    put32(r.data + 8, new_st);
    put32(r.data + 12, new_str);
    put32(r.data + 16, 40);
    return r;
}

/* ---- a small builder for hand-made, often deliberately broken, blobs ---- */

static struct {
    uint8_t st[1 << 18];
    size_t st_len;
    char str[4096];
    size_t str_len;
    uint8_t rsv[1024];
    size_t rsv_len;
} B;

static void bld_reset(void)
{
    memset(&B, 0, sizeof(B));
}

static void bld_word(uint32_t v)
{
    put32(B.st + B.st_len, v);
    B.st_len += 4;
}

static void bld_begin(const char *name)
{
    size_t n = strlen(name) + 1;

    bld_word(1);
    memcpy(B.st + B.st_len, name, n);
    B.st_len += (n + 3) & ~(size_t)3;
}

static void bld_end(void)
{
    bld_word(2);
}

static uint32_t bld_string(const char *s)
{
    uint32_t off = (uint32_t)B.str_len;

    memcpy(B.str + B.str_len, s, strlen(s) + 1);
    B.str_len += strlen(s) + 1;
    return off;
}

static void bld_prop(const char *name, const void *val, uint32_t len)
{
    bld_word(3);
    bld_word(len);
    bld_word(bld_string(name));
    memcpy(B.st + B.st_len, val, len);
    B.st_len += (len + 3) & ~(size_t)3;
}

static void bld_prop_str(const char *name, const char *s)
{
    bld_prop(name, s, (uint32_t)strlen(s) + 1);
}

static void bld_prop_cells(const char *name, int n, ...)
{
    uint8_t buf[128];
    va_list ap;

    va_start(ap, n);
    for (int i = 0; i < n; i++)
        put32(buf + 4 * i, va_arg(ap, uint32_t));
    va_end(ap);
    bld_prop(name, buf, (uint32_t)(4 * n));
}

static void bld_rsv(uint64_t base, uint64_t size)
{
    put64(B.rsv + B.rsv_len, base);
    put64(B.rsv + B.rsv_len + 8, size);
    B.rsv_len += 16;
}

/* Header, reservation block (terminated), structure block, strings; exactly sized. */
static uint8_t *bld_finish(size_t *size)
{
    size_t off_rsv = 40, off_st = off_rsv + B.rsv_len + 16, off_str = off_st + B.st_len;
    size_t total = off_str + B.str_len;
    uint8_t *b = calloc(1, total);

    put32(b, FDT_MAGIC);
    put32(b + 4, (uint32_t)total);
    put32(b + 8, (uint32_t)off_st);
    put32(b + 12, (uint32_t)off_str);
    put32(b + 16, (uint32_t)off_rsv);
    put32(b + 20, 17);
    put32(b + 24, 16);
    put32(b + 32, (uint32_t)B.str_len);
    put32(b + 36, (uint32_t)B.st_len);
    memcpy(b + off_rsv, B.rsv, B.rsv_len);
    memcpy(b + off_st, B.st, B.st_len);
    memcpy(b + off_str, B.str, B.str_len);
    *size = total;
    return b;
}

/* Root with 2/2 cells, as QEMU virt has. */
static void bld_root(void)
{
    bld_begin("");
    bld_prop_cells("#address-cells", 1, 2);
    bld_prop_cells("#size-cells", 1, 2);
}

/* Root routed to a GICv2 at phandle 1; callers add nodes then close. */
static void bld_root_with_gic(void)
{
    bld_root();
    bld_prop_cells("interrupt-parent", 1, 1);
    bld_begin("intc@8000000");
    bld_prop_str("compatible", "arm,cortex-a15-gic");
    bld_prop_cells("#interrupt-cells", 1, 3);
    bld_prop_cells("phandle", 1, 1);
    bld_prop_cells("reg", 8, 0, 0x08000000, 0, 0x10000, 0, 0x08010000, 0, 0x10000);
    bld_end();
}

static void bld_close_root(void)
{
    bld_end();
    bld_word(9);
}

/* ---- assertions ---- */

static void check_error(int rc, const char *err, const char *want, int line)
{
    if (rc >= 0 || !err[0] || strchr(err, '\n') || (want && !strstr(err, want))) {
        test_failed_checks++;
        fprintf(stderr, "  %s: line %d: rc %d err \"%s\", want failure mentioning \"%s\"\n",
                test_current, line, rc, err, want ? want : "");
    }
}

/* Builds the blob in B, parses it, expects failure with want in the message. */
#define EXPECT_BUILD_FAILS(want)                                                                   \
    do {                                                                                           \
        size_t size_;                                                                              \
        uint8_t *blob_ = bld_finish(&size_);                                                       \
        struct fdt_platform plat_;                                                                 \
        char err_[ERRLEN] = "";                                                                    \
        check_error(fdt_parse_platform(blob_, size_, &plat_, err_, sizeof(err_)), err_, want,      \
                    __LINE__);                                                                     \
        free(blob_);                                                                               \
    } while (0)

static int parse_built(struct fdt_platform *plat, char *err)
{
    size_t size;
    uint8_t *blob = bld_finish(&size);
    int rc = fdt_parse_platform(blob, size, plat, err, ERRLEN);

    /* bootargs points into the blob; tests only compare it before this returns. */
    if (rc == 0 && plat->bootargs)
        plat->bootargs = NULL;
    free(blob);
    return rc;
}

#define CHECK_REGION(r, b, s)                                                                      \
    do {                                                                                           \
        CHECK_EQ((r).base, (b));                                                                   \
        CHECK_EQ((r).size, (s));                                                                   \
    } while (0)

/* ---- QEMU virt, as dumped by QEMU itself (values checked against dtc -O dts) ---- */

static void check_virt_common(const struct fdt_platform *p)
{
    CHECK_EQ(p->nmem, 1);
    CHECK_REGION(p->mem[0], 0x40000000, 0x10000000);
    CHECK_EQ(p->nrsv, 0);
    CHECK_EQ(p->ncpus, 4);
    for (int i = 0; i < 4; i++)
        CHECK_EQ(p->cpu_mpidr[i], i);
    CHECK_REGION(p->gicd, 0x08000000, 0x10000);
    CHECK_REGION(p->uart, 0x09000000, 0x1000);
    CHECK_EQ(p->uart_irq, 33);
    CHECK_REGION(p->rtc, 0x09010000, 0x1000); /* PL031 */
    CHECK_EQ(p->nvirtio, 32);
    for (int i = 0; i < p->nvirtio; i++) {
        CHECK_REGION(p->virtio[i].reg, 0x0a000000 + 0x200 * (uint64_t)i, 0x200);
        CHECK_EQ(p->virtio[i].irq, 48 + i);
    }
    CHECK_EQ(p->timer_irq[0], 29);
    CHECK_EQ(p->timer_irq[1], 30);
    CHECK_EQ(p->timer_irq[2], 27);
    CHECK_EQ(p->timer_irq[3], 26);
    CHECK_EQ(p->initrd_start, 0);
    CHECK_EQ(p->initrd_end, 0);
    CHECK(p->bootargs == NULL);
}

static bool parse_file(const char *name, struct fdt_platform *p)
{
    struct test_blob d = test_load_dtb(name);
    char err[ERRLEN] = "";
    int rc;

    if (!d.data)
        return false;
    CHECK_EQ(fdt_totalsize(d.data), get32(d.data + 4));
    rc = fdt_parse_platform(d.data, d.size, p, err, sizeof(err));
    if (rc)
        fprintf(stderr, "  %s: %s: %d %s\n", test_current, name, rc, err);
    CHECK_EQ(rc, 0);
    free(d.data);
    return rc == 0;
}

static void test_virt_gicv2(void)
{
    struct fdt_platform p;

    if (!parse_file("virt-gicv2.dtb", &p))
        return;
    check_virt_common(&p);
    CHECK_EQ(p.gic_version, 2);
    CHECK_REGION(p.gicc, 0x08010000, 0x10000);
    CHECK_EQ(p.gich.size, 0);
    CHECK_EQ(p.gicv.size, 0);
    CHECK_EQ(p.gicr.size, 0);
    CHECK_EQ(p.gic_maint_irq, 0);
    CHECK_EQ(p.psci, FDT_PSCI_HVC);
}

static void test_virt_gicv2_virt(void)
{
    struct fdt_platform p;

    if (!parse_file("virt-gicv2-virt.dtb", &p))
        return;
    check_virt_common(&p);
    CHECK_EQ(p.gic_version, 2);
    CHECK_REGION(p.gicc, 0x08010000, 0x10000);
    CHECK_REGION(p.gich, 0x08030000, 0x10000);
    CHECK_REGION(p.gicv, 0x08040000, 0x10000);
    CHECK_EQ(p.gic_maint_irq, 25);
    CHECK_EQ(p.psci, FDT_PSCI_SMC);
}

static void test_virt_gicv3(void)
{
    struct fdt_platform p;

    if (!parse_file("virt-gicv3.dtb", &p))
        return;
    check_virt_common(&p);
    CHECK_EQ(p.gic_version, 3);
    CHECK_REGION(p.gicr, 0x080a0000, 0xf60000);
    CHECK_EQ(p.gicc.size, 0);
    CHECK_EQ(p.gic_maint_irq, 0);
    CHECK_EQ(p.psci, FDT_PSCI_HVC);
}

static void test_virt_gicv3_virt(void)
{
    struct fdt_platform p;

    if (!parse_file("virt-gicv3-virt.dtb", &p))
        return;
    check_virt_common(&p);
    CHECK_EQ(p.gic_version, 3);
    CHECK_REGION(p.gicr, 0x080a0000, 0xf60000);
    CHECK_EQ(p.gic_maint_irq, 25);
    CHECK_EQ(p.psci, FDT_PSCI_SMC);
}

/* The dtc-compiled tree in gen_dtbs.sh: memreserve, reserved-memory, aliases, 1-cell roots. */
static void test_custom(void)
{
    struct test_blob d = test_load_dtb("custom.dtb");
    struct fdt_platform p;
    char err[ERRLEN] = "";

    if (!d.data)
        return;
    CHECK_EQ(fdt_parse_platform(d.data, d.size, &p, err, sizeof(err)), 0);
    CHECK_EQ(p.nmem, 2);
    CHECK_REGION(p.mem[0], 0x80000000, 0x20000000);
    CHECK_REGION(p.mem[1], 0xc0000000, 0x10000000);
    CHECK_EQ(p.nrsv, 2);
    CHECK_REGION(p.rsv[0], 0x48000000, 0x10000);
    CHECK_REGION(p.rsv[1], 0x8f000000, 0x100000);
    CHECK_EQ(p.ncpus, 3);
    CHECK_EQ(p.cpu_mpidr[0], 0);
    CHECK_EQ(p.cpu_mpidr[1], 0x100);
    CHECK_EQ(p.cpu_mpidr[2], 0x100010000ULL);
    CHECK_EQ(p.gic_version, 2);
    CHECK_REGION(p.gicd, 0x2f000000, 0x1000);
    CHECK_REGION(p.gicc, 0x2f002000, 0x2000);
    CHECK_REGION(p.gich, 0x2f004000, 0x2000);
    CHECK_REGION(p.gicv, 0x2f006000, 0x2000);
    CHECK_EQ(p.gic_maint_irq, 25);
    /* stdout-path "serial1:115200n8" resolves through /aliases to the second PL011. */
    CHECK_REGION(p.uart, 0x09040000, 0x1000);
    CHECK_EQ(p.uart_irq, 40);
    /* Sorted by address; the disabled one and the one behind a translating bus are left out. */
    CHECK_EQ(p.nvirtio, 2);
    CHECK_REGION(p.virtio[0].reg, 0x0a000000, 0x200);
    CHECK_EQ(p.virtio[0].irq, 48);
    CHECK_REGION(p.virtio[1].reg, 0x0a000400, 0x200);
    CHECK_EQ(p.virtio[1].irq, 50);
    CHECK_EQ(p.timer_irq[1], 30);
    CHECK_EQ(p.psci, FDT_PSCI_SMC);
    CHECK_EQ(p.initrd_start, 0x44000000);
    CHECK_EQ(p.initrd_end, 0x44100000);
    CHECK(p.bootargs && strcmp(p.bootargs, "console=ttyAMA1 root=/dev/vda") == 0);
    CHECK(p.bootargs > (const char *)d.data && p.bootargs < (const char *)d.data + d.size);
    free(d.data);
}

/* Node paths from our walker, in order, must equal those dtc prints (its own parser). */
static void test_walker_vs_dtc(void)
{
    static const char *const files[] = {"virt-gicv2.dtb", "virt-gicv3-virt.dtb", "custom.dtb"};

    for (size_t fi = 0; fi < sizeof(files) / sizeof(files[0]); fi++) {
        struct test_blob d = test_load_dtb(files[fi]);
        const char *build = getenv("AVATAR_BUILD");
        char cmd[600], line[1024], stack[FDT_MAX_DEPTH][256], path[FDT_MAX_PATH];
        struct fdt fdt;
        struct fdt_iter it;
        struct fdt_node node;
        char err[ERRLEN];
        int nodes = 0, rc = 0;
        FILE *p;

        if (!d.data)
            continue;
        CHECK_EQ(fdt_open(&fdt, d.data, d.size, err, sizeof(err)), 0);
        snprintf(cmd, sizeof(cmd), "dtc -q -I dtb -O dts %s/unit/dtb/%s", build ? build : "build",
                 files[fi]);
        p = popen(cmd, "r");
        CHECK(p != NULL);
        if (!p) {
            free(d.data);
            continue;
        }
        fdt_iter_init(&it);
        while (fgets(line, sizeof(line), p)) {
            size_t len = strlen(line), tabs = 0;
            if (len < 3 || strcmp(line + len - 3, " {\n") != 0)
                continue;
            line[len - 3] = '\0';
            while (line[tabs] == '\t')
                tabs++;
            /* dtc prints labels as "label: name"; the node name follows the last ": ". */
            const char *name =
                strrchr(line + tabs, ' ') ? strrchr(line + tabs, ' ') + 1 : line + tabs;
            if (tabs >= FDT_MAX_DEPTH)
                break;
            size_t nlen = tabs == 0 ? 0 : strlen(name);
            if (nlen >= sizeof(stack[tabs]))
                nlen = sizeof(stack[tabs]) - 1;
            memcpy(stack[tabs], name, nlen);
            stack[tabs][nlen] = '\0';
            size_t plen = 0;
            for (size_t i = 1; i <= tabs && plen + 1 + strlen(stack[i]) < sizeof(path); i++)
                plen += (size_t)sprintf(path + plen, "/%s", stack[i]);
            if (tabs == 0)
                strcpy(path, "/");
            rc = fdt_next_node(&fdt, &it, &node);
            CHECK_EQ(rc, 1);
            if (rc != 1)
                break;
            if (strcmp(node.path, path) != 0 || node.depth != (int)tabs) {
                test_failed_checks++;
                fprintf(stderr, "  %s: %s: walker %s (depth %d), dtc %s (depth %zu)\n",
                        test_current, files[fi], node.path, node.depth, path, tabs);
                break;
            }
            nodes++;
        }
        pclose(p);
        CHECK(nodes > 5);
        CHECK_EQ(fdt_next_node(&fdt, &it, &node), 0);
        free(d.data);
    }
}

/* The generic helpers on QEMU's tree: lookups by path, properties, reg with per-bus cells. */
static void test_walker_helpers(void)
{
    struct test_blob d = test_load_dtb("virt-gicv2.dtb");
    struct fdt fdt;
    struct fdt_iter it;
    struct fdt_node node;
    struct fdt_region r;
    char err[ERRLEN];
    uint32_t v, len;

    if (!d.data)
        return;
    CHECK_EQ(fdt_open(&fdt, d.data, d.size, err, sizeof(err)), 0);
    CHECK_EQ(fdt_find_node(&fdt, "/chosen", &it, &node), 1);
    CHECK(fdt_prop_str(&fdt, &node, "stdout-path") &&
          strcmp(fdt_prop_str(&fdt, &node, "stdout-path"), "/pl011@9000000") == 0);
    CHECK(fdt_prop(&fdt, &node, "no-such-property", &len) == NULL);
    CHECK_EQ(fdt_find_node(&fdt, "/cpus/cpu@2", &it, &node), 1);
    CHECK_EQ(node.depth, 2);
    CHECK_EQ(node.addr_cells, 1);
    CHECK_EQ(node.size_cells, 0);
    CHECK_EQ(fdt_node_reg(&fdt, &node, 0, &r), 0);
    CHECK_EQ(r.base, 2);
    CHECK_EQ(fdt_node_reg(&fdt, &node, 1, &r), -ENOENT);
    CHECK(fdt_node_compatible(&fdt, &node, "arm,cortex-a72"));
    CHECK(!fdt_node_compatible(&fdt, &node, "arm,cortex-a7"));
    CHECK_EQ(fdt_find_node(&fdt, "/intc@8000000", &it, &node), 1);
    CHECK_EQ(fdt_prop_u32(&fdt, &node, "#interrupt-cells", &v), 0);
    CHECK_EQ(v, 3);
    CHECK_EQ(fdt_prop_u32(&fdt, &node, "compatible", &v), -EINVAL);
    CHECK(strstr(err, "expected one cell") != NULL);
    CHECK(fdt_node_compatible(&fdt, &node, "arm,cortex-a15-gic"));
    CHECK(fdt_node_enabled(&fdt, &node));
    CHECK_EQ(fdt_find_node(&fdt, "/platform-bus@c000000", &it, &node), 1);
    CHECK(node.phys);
    CHECK_EQ(fdt_find_node(&fdt, "/nowhere", &it, &node), 0);
    CHECK_EQ(fdt_be32("\x12\x34\x56\x78"), 0x12345678);
    CHECK_EQ(fdt_be64("\x01\x02\x03\x04\x05\x06\x07\x08"), 0x0102030405060708LL);
    free(d.data);
}

/* ---- malformed input ---- */

static void test_bad_header(void)
{
    struct test_blob d = test_load_dtb("virt-gicv2.dtb");
    struct test_blob c;
    struct fdt_platform p;
    char err[ERRLEN];
    uint8_t *b;

    if (!d.data)
        return;
    c = compact_copy(&d);
    free(d.data);
    b = malloc(c.size);

#define HDR_CASE(off, val, max, want)                                                              \
    do {                                                                                           \
        memcpy(b, c.data, c.size);                                                                 \
        put32(b + (off), (val));                                                                   \
        err[0] = '\0';                                                                             \
        check_error(fdt_parse_platform(b, (max), &p, err, sizeof(err)), err, want, __LINE__);      \
    } while (0)

    HDR_CASE(0, 0x12345678, c.size, "bad magic 0x12345678");
    HDR_CASE(20, 15, c.size, "version 15 too old");
    HDR_CASE(24, 18, c.size, "last compatible version 18");
    HDR_CASE(4, 39, c.size, "smaller than the header");
    HDR_CASE(4, (uint32_t)c.size + 1, c.size, "exceeds");
    HDR_CASE(4, 0xffffffff, c.size, "exceeds");
    HDR_CASE(8, get32(c.data + 8) + 2, c.size, "not 4-byte aligned");
    HDR_CASE(8, (uint32_t)c.size + 4, c.size, "struct block offset");
    HDR_CASE(8, 0, c.size, "struct block offset");
    HDR_CASE(36, (uint32_t)c.size, c.size, "struct block runs past totalsize");
    HDR_CASE(36, 0xfffffffc, c.size, "struct block runs past totalsize");
    HDR_CASE(12, 0xfffffff0, c.size, "strings block runs past totalsize");
    HDR_CASE(32, (uint32_t)c.size, c.size, "strings block runs past totalsize");
    HDR_CASE(16, (uint32_t)c.size - 8, c.size, "memory reservation block outside");
    HDR_CASE(16, 0xffffffff, c.size, "memory reservation block outside");
    /* A struct block too short to hold the tree. */
    HDR_CASE(36, 64, c.size, "runs past struct block");
    HDR_CASE(36, 0, c.size, "without FDT_END");
    /* Short inputs and a missing blob. */
    check_error(fdt_parse_platform(c.data, 39, &p, err, sizeof(err)), err, "smaller than",
                __LINE__);
    check_error(fdt_parse_platform(c.data, 0, &p, err, sizeof(err)), err, "smaller than", __LINE__);
    check_error(fdt_parse_platform(NULL, 4096, &p, err, sizeof(err)), err, "no blob", __LINE__);
    CHECK_EQ(fdt_totalsize("\x00\x00\x00\x00\x00\x00\x10\x00"), 0);
    /* Errors without a message buffer are still reported, just not described. */
    memcpy(b, c.data, c.size);
    put32(b, 0);
    CHECK_EQ(fdt_parse_platform(b, c.size, &p, NULL, 0), -EINVAL);
    /* A tiny message buffer truncates the text but still terminates it. */
    CHECK_EQ(fdt_parse_platform(b, c.size, &p, err, 5), -EINVAL);
    CHECK(strcmp(err, "fdt:") == 0);
    /* Version 16 has no size_dt_struct: the struct block then runs to totalsize. */
    memcpy(b, c.data, c.size);
    put32(b + 20, 16);
    put32(b + 36, 0xdeadbeef);
    CHECK_EQ(fdt_parse_platform(b, c.size, &p, err, sizeof(err)), 0);
    CHECK_EQ(p.nvirtio, 32);
#undef HDR_CASE
    free(b);
    free(c.data);
}

static void test_bad_structure(void)
{
    /* No FDT_END at all. */
    bld_reset();
    bld_begin("");
    bld_end();
    EXPECT_BUILD_FAILS("without FDT_END");
    /* FDT_END while the root is still open. */
    bld_reset();
    bld_begin("");
    bld_word(9);
    EXPECT_BUILD_FAILS("still open");
    /* One FDT_END_NODE too many. */
    bld_reset();
    bld_begin("");
    bld_end();
    bld_end();
    bld_word(9);
    EXPECT_BUILD_FAILS("FDT_END_NODE without FDT_BEGIN_NODE");
    /* Two roots. */
    bld_reset();
    bld_begin("");
    bld_end();
    bld_begin("");
    bld_end();
    bld_word(9);
    EXPECT_BUILD_FAILS("second root");
    /* Only NOPs. */
    bld_reset();
    bld_word(4);
    bld_word(4);
    bld_word(9);
    EXPECT_BUILD_FAILS("no root node");
    /* A property before any node. */
    bld_reset();
    bld_prop_cells("x", 1, 1);
    bld_begin("");
    bld_end();
    bld_word(9);
    EXPECT_BUILD_FAILS("outside any node");
    /* A property after a subnode. */
    bld_reset();
    bld_begin("");
    bld_begin("child");
    bld_end();
    bld_prop_cells("late", 1, 1);
    bld_close_root();
    EXPECT_BUILD_FAILS("property after a subnode");
    /* An unknown token. */
    bld_reset();
    bld_begin("");
    bld_word(7);
    bld_close_root();
    EXPECT_BUILD_FAILS("unknown token 0x7");
    /* A node name running off the end of the struct block. */
    bld_reset();
    bld_word(1);
    memcpy(B.st + B.st_len, "abcdefgh", 8);
    B.st_len += 8;
    EXPECT_BUILD_FAILS("not terminated");
    /* Property lengths overflowing the struct block, including wrap-around values. */
    static const uint32_t lens[] = {0xffffffff, 0xfffffff4, 0x80000000, 64};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        bld_reset();
        bld_begin("");
        bld_word(3);
        bld_word(lens[i]);
        bld_word(bld_string("p"));
        bld_close_root();
        EXPECT_BUILD_FAILS("runs past struct block");
    }
    /* A property header cut short. */
    bld_reset();
    bld_begin("");
    bld_word(3);
    bld_word(0);
    EXPECT_BUILD_FAILS("runs past struct block");
    /* Name offsets outside the strings block. */
    bld_reset();
    bld_begin("");
    bld_word(3);
    bld_word(0);
    bld_word(0x10000);
    bld_close_root();
    bld_string("pad");
    EXPECT_BUILD_FAILS("property name offset 0x10000 out of strings block");
    /* A property name with no terminator before the strings block ends. */
    bld_reset();
    bld_begin("");
    bld_prop_cells("reg", 1, 0);
    bld_close_root();
    B.str[B.str_len - 1] = 'x';
    EXPECT_BUILD_FAILS("not terminated");
}

static void test_depth(void)
{
    struct fdt_platform p;
    char err[ERRLEN];

    /* FDT_MAX_DEPTH nodes open at once is fine ... */
    bld_reset();
    for (int i = 0; i < FDT_MAX_DEPTH; i++)
        bld_begin(i ? "n" : "");
    for (int i = 0; i < FDT_MAX_DEPTH; i++)
        bld_end();
    bld_word(9);
    CHECK_EQ(parse_built(&p, err), 0);
    /* ... one more is refused ... */
    bld_reset();
    for (int i = 0; i <= FDT_MAX_DEPTH; i++)
        bld_begin(i ? "n" : "");
    for (int i = 0; i <= FDT_MAX_DEPTH; i++)
        bld_end();
    bld_word(9);
    EXPECT_BUILD_FAILS("nesting deeper than 16");
    /* ... and a bomb of 20000 levels fails just as fast. */
    bld_reset();
    for (int i = 0; i < 20000; i++)
        bld_begin(i ? "n" : "");
    bld_word(9);
    EXPECT_BUILD_FAILS("nesting deeper than 16");
    /* A path that does not fit FDT_MAX_PATH. */
    bld_reset();
    bld_begin("");
    for (int i = 0; i < 12; i++)
        bld_begin("a-rather-long-node-name@123456");
    for (int i = 0; i < 12; i++)
        bld_end();
    bld_close_root();
    EXPECT_BUILD_FAILS("longer than 255 bytes");
}

static void test_reservations(void)
{
    struct fdt_platform p;
    char err[ERRLEN];

    bld_reset();
    bld_rsv(0x40000000, 0x1000);
    bld_rsv(0x50000000, 0);
    bld_rsv(0x60000000, 0x2000);
    bld_begin("");
    bld_begin("reserved-memory");
    bld_prop_cells("#address-cells", 1, 1);
    bld_prop_cells("#size-cells", 1, 1);
    bld_prop("ranges", "", 0);
    bld_begin("a@70000000");
    bld_prop_cells("reg", 4, 0x70000000, 0x100, 0x71000000, 0x200);
    bld_end();
    bld_begin("b");
    bld_prop_cells("size", 1, 0x1000);
    bld_end();
    bld_begin("c@72000000");
    bld_prop_str("status", "disabled");
    bld_prop_cells("reg", 2, 0x72000000, 0x100);
    bld_end();
    bld_end();
    bld_close_root();
    CHECK_EQ(parse_built(&p, err), 0);
    CHECK_EQ(p.nrsv, 4);
    CHECK_REGION(p.rsv[0], 0x40000000, 0x1000);
    CHECK_REGION(p.rsv[1], 0x60000000, 0x2000);
    CHECK_REGION(p.rsv[2], 0x70000000, 0x100);
    CHECK_REGION(p.rsv[3], 0x71000000, 0x200);

    /* More reservations than the table holds is an error, not a silent drop. */
    bld_reset();
    for (int i = 0; i <= FDT_MAX_RSV; i++)
        bld_rsv(0x40000000 + 0x10000 * (uint64_t)i, 0x1000);
    bld_begin("");
    bld_close_root();
    EXPECT_BUILD_FAILS("more than 8 reserved");
    bld_reset();
    bld_rsv(0xfffffffffffff000ULL, 0x2000);
    bld_begin("");
    bld_close_root();
    EXPECT_BUILD_FAILS("wraps");
    /* /reserved-memory whose children are not in CPU address space. */
    bld_reset();
    bld_begin("");
    bld_begin("reserved-memory");
    bld_begin("x@0");
    bld_prop_cells("reg", 3, 0, 0x1000, 0x1000);
    bld_end();
    bld_end();
    bld_close_root();
    EXPECT_BUILD_FAILS("empty ranges");

    /* A reservation block without its (0, 0) terminator before the end of the blob. */
    {
        size_t size;
        uint8_t *blob;
        bld_reset();
        bld_begin("");
        bld_close_root();
        bld_string("0123456789abcdefghij");
        blob = bld_finish(&size);
        put32(blob + 16, (uint32_t)size - 16);
        err[0] = '\0';
        check_error(fdt_parse_platform(blob, size, &p, err, sizeof(err)), err, "no terminator",
                    __LINE__);
        free(blob);
    }
}

/* Values that are well-formed tokens but make no sense for the platform. */
static void test_bad_values(void)
{
    bld_reset();
    bld_root_with_gic();
    bld_begin("chosen");
    bld_prop("bootargs", "abc", 3);
    bld_end();
    bld_close_root();
    EXPECT_BUILD_FAILS("bootargs is not a terminated string");

    bld_reset();
    bld_root_with_gic();
    bld_begin("chosen");
    bld_prop("linux,initrd-start", "\0\0\1", 3);
    bld_end();
    bld_close_root();
    EXPECT_BUILD_FAILS("expected 4 or 8");

    bld_reset();
    bld_root_with_gic();
    bld_begin("chosen");
    bld_prop_cells("linux,initrd-start", 1, 0x2000);
    bld_prop_cells("linux,initrd-end", 1, 0x1000);
    bld_end();
    bld_close_root();
    EXPECT_BUILD_FAILS("initrd ends before it starts");

    bld_reset();
    bld_root();
    bld_begin("intc");
    bld_prop_str("compatible", "arm,gic-400");
    bld_prop_cells("reg", 8, 0, 0x08000000, 0, 0x10000, 0, 0x08010000, 0, 0x10000);
    bld_end();
    bld_close_root();
    EXPECT_BUILD_FAILS("GIC without #interrupt-cells");

    bld_reset();
    bld_root();
    bld_begin("intc");
    bld_prop_str("compatible", "arm,gic-400");
    bld_prop_cells("#interrupt-cells", 1, 2);
    bld_end();
    bld_close_root();
    EXPECT_BUILD_FAILS("#interrupt-cells 2 unsupported");

    bld_reset();
    bld_root();
    bld_begin("intc");
    bld_prop_str("compatible", "arm,gic-400");
    bld_prop_cells("#interrupt-cells", 1, 3);
    bld_prop_cells("reg", 4, 0, 0x08000000, 0, 0x10000);
    bld_end();
    bld_close_root();
    EXPECT_BUILD_FAILS("reg entry 1 missing");

    bld_reset();
    bld_root_with_gic();
    bld_begin("uart@9000000");
    bld_prop_str("compatible", "arm,pl011");
    bld_prop_cells("reg", 4, 0, 0x09000000, 0, 0x1000);
    bld_prop_cells("interrupts", 2, 0, 1);
    bld_end();
    bld_close_root();
    EXPECT_BUILD_FAILS("interrupts length 8 is not a multiple of 12");

    bld_reset();
    bld_root_with_gic();
    bld_begin("uart@9000000");
    bld_prop_str("compatible", "arm,pl011");
    bld_prop_cells("reg", 4, 0, 0x09000000, 0, 0x1000);
    bld_prop_cells("interrupts", 3, 5, 1, 4);
    bld_end();
    bld_close_root();
    EXPECT_BUILD_FAILS("interrupt type 5 number 1 unsupported");

    bld_reset();
    bld_root_with_gic();
    bld_begin("uart@9000000");
    bld_prop_str("compatible", "arm,pl011");
    bld_prop_cells("reg", 4, 0, 0x09000000, 0, 0x1000);
    bld_prop_cells("interrupts", 3, 1, 16, 4);
    bld_end();
    bld_close_root();
    EXPECT_BUILD_FAILS("interrupt type 1 number 16 unsupported");

    bld_reset();
    bld_root_with_gic();
    bld_begin("memory@40000000");
    bld_prop_str("device_type", "memory");
    bld_prop_cells("reg", 5, 0, 0x40000000, 0, 0x1000, 0);
    bld_end();
    bld_close_root();
    EXPECT_BUILD_FAILS("reg length 20 is not a multiple of 16");

    bld_reset();
    bld_root_with_gic();
    bld_begin("memory@40000000");
    bld_prop_str("device_type", "memory");
    bld_prop_cells("reg", 4, 0xffffffff, 0xfffff000, 0, 0x2000);
    bld_end();
    bld_close_root();
    EXPECT_BUILD_FAILS("wraps the address space");

    bld_reset();
    bld_begin("");
    bld_prop("#address-cells", "\0\2", 2);
    bld_close_root();
    EXPECT_BUILD_FAILS("#address-cells has 2 bytes, expected one cell");

    bld_reset();
    bld_begin("");
    bld_prop_cells("#address-cells", 1, 3);
    bld_begin("memory@0");
    bld_prop_str("device_type", "memory");
    bld_prop_cells("reg", 4, 0, 0, 0, 0x1000);
    bld_end();
    bld_close_root();
    EXPECT_BUILD_FAILS("#address-cells 3 #size-cells 1 unsupported");

    bld_reset();
    bld_root_with_gic();
    bld_begin("psci");
    bld_prop_str("compatible", "arm,psci-1.0");
    bld_prop_str("method", "svc");
    bld_end();
    bld_close_root();
    EXPECT_BUILD_FAILS("PSCI method missing or not hvc/smc");

    /* A message stays on one line even when it quotes a name with control characters. */
    bld_reset();
    bld_begin("");
    bld_begin("bad\nname");
    bld_prop("#size-cells", "\1", 1);
    bld_end();
    bld_close_root();
    EXPECT_BUILD_FAILS("/bad?name: #size-cells has 1 bytes");
}

/* Well-formed trees that stretch the tables and the less common encodings. */
static void test_limits_and_variants(void)
{
    struct fdt_platform p;
    char err[ERRLEN] = "";

    bld_reset();
    bld_root_with_gic();
    bld_begin("chosen");
    bld_prop_cells("linux,initrd-start", 2, 0x1, 0x00000000);
    bld_prop_cells("linux,initrd-end", 2, 0x1, 0x00800000);
    bld_prop_str("stdout-path", "/uart@9100000");
    bld_end();
    bld_begin("memory@40000000");
    bld_prop_str("device_type", "memory");
    bld_prop_cells("reg", 20, 0, 0x40000000, 0, 0x1000, 0, 0x50000000, 0, 0, 0, 0x60000000, 0,
                   0x1000, 0, 0x70000000, 0, 0x1000, 1, 0, 0, 0x1000);
    bld_prop_cells("reg2", 1, 0);
    bld_end();
    bld_begin("memory@100000000");
    bld_prop_str("device_type", "memory");
    bld_prop_cells("reg", 4, 2, 0, 0, 0x1000);
    bld_end();
    bld_begin("cpus");
    bld_prop_cells("#address-cells", 1, 1);
    bld_prop_cells("#size-cells", 1, 0);
    for (uint32_t i = 0; i < 12; i++) {
        bld_begin("cpu");
        bld_prop_str("device_type", "cpu");
        bld_prop_cells("reg", 1, i);
        bld_end();
    }
    bld_end();
    /* 40 virtio slots in scrambled order: the 32 lowest must come out ascending. */
    for (uint32_t k = 0; k < 40; k++) {
        uint32_t i = (k * 7) % 40;
        bld_begin("virtio_mmio");
        bld_prop_str("compatible", "virtio,mmio");
        bld_prop_cells("reg", 4, 0, 0x0a000000 + 0x200 * i, 0, 0x200);
        bld_prop_cells("interrupts", 3, 0, 16 + i, 1);
        bld_end();
    }
    bld_begin("uart@9000000");
    bld_prop_str("compatible", "arm,pl011");
    bld_prop_cells("reg", 4, 0, 0x09000000, 0, 0x1000);
    bld_prop_cells("interrupts", 3, 0, 1, 4);
    bld_end();
    bld_begin("uart@9100000");
    bld_prop_str("compatible", "arm,pl011");
    bld_prop_cells("reg", 4, 0, 0x09100000, 0, 0x1000);
    /* Routed to another interrupt controller: not a GIC INTID. */
    bld_prop_cells("interrupt-parent", 1, 7);
    bld_prop_cells("interrupts", 3, 0, 2, 4);
    bld_end();
    bld_begin("uart@9200000");
    bld_prop_str("compatible", "arm,pl011");
    bld_prop_cells("reg", 4, 0, 0x09200000, 0, 0x1000);
    bld_end();
    bld_begin("psci");
    bld_prop("compatible", "arm,psci-0.2\0arm,psci", 22);
    bld_prop_str("method", "hvc");
    bld_end();
    bld_close_root();
    CHECK_EQ(parse_built(&p, err), 0);
    CHECK_EQ(p.initrd_start, 0x100000000ULL);
    CHECK_EQ(p.initrd_end, 0x100800000ULL);
    CHECK_EQ(p.nmem, FDT_MAX_MEM);
    CHECK_REGION(p.mem[0], 0x40000000, 0x1000);
    CHECK_REGION(p.mem[1], 0x60000000, 0x1000);
    CHECK_REGION(p.mem[3], 0x100000000ULL, 0x1000);
    CHECK_EQ(p.ncpus, FDT_MAX_CPUS);
    CHECK_EQ(p.cpu_mpidr[7], 7);
    CHECK_EQ(p.nvirtio, FDT_MAX_VIRTIO);
    for (int i = 0; i < FDT_MAX_VIRTIO; i++) {
        CHECK_EQ(p.virtio[i].reg.base, 0x0a000000 + 0x200 * (uint64_t)i);
        CHECK_EQ(p.virtio[i].irq, 48 + i);
    }
    CHECK_REGION(p.uart, 0x09100000, 0x1000);
    CHECK_EQ(p.uart_irq, 0);
    CHECK_EQ(p.psci, FDT_PSCI_HVC);
    CHECK_EQ(p.gic_maint_irq, 0);

    /* GICv3 with 4-cell specifiers (PPI partitions); an old "arm,psci" alone is not PSCI 0.2. */
    bld_reset();
    bld_root();
    bld_prop_cells("interrupt-parent", 1, 9);
    bld_begin("intc");
    bld_prop_str("compatible", "arm,gic-v3");
    bld_prop_cells("#interrupt-cells", 1, 4);
    bld_prop_cells("phandle", 1, 9);
    bld_prop_cells("reg", 8, 0, 0x08000000, 0, 0x10000, 0, 0x080a0000, 0, 0xf60000);
    bld_prop_cells("interrupts", 4, 1, 9, 4, 0);
    bld_end();
    bld_begin("timer");
    bld_prop_str("compatible", "arm,armv8-timer");
    bld_prop_cells("interrupts", 16, 1, 13, 4, 0, 1, 14, 4, 0, 1, 11, 4, 0, 1, 10, 4, 0);
    bld_end();
    bld_begin("psci");
    bld_prop_str("compatible", "arm,psci");
    bld_prop_str("method", "smc");
    bld_end();
    bld_close_root();
    CHECK_EQ(parse_built(&p, err), 0);
    CHECK_EQ(p.gic_version, 3);
    CHECK_REGION(p.gicr, 0x080a0000, 0xf60000);
    CHECK_EQ(p.gic_maint_irq, 25);
    CHECK_EQ(p.timer_irq[0], 29);
    CHECK_EQ(p.timer_irq[3], 26);
    CHECK_EQ(p.psci, FDT_PSCI_NONE);

    /* A stdout-path alias that /aliases does not define falls back to the first PL011. */
    bld_reset();
    bld_root_with_gic();
    bld_begin("aliases");
    bld_prop_str("serial0", "/uart@9100000");
    bld_end();
    bld_begin("chosen");
    bld_prop_str("stdout-path", "serial3:115200n8");
    bld_end();
    bld_begin("uart@9000000");
    bld_prop_str("compatible", "arm,pl011");
    bld_prop_cells("reg", 4, 0, 0x09000000, 0, 0x1000);
    bld_prop_cells("interrupts", 3, 0, 1, 4);
    bld_end();
    bld_begin("uart@9100000");
    bld_prop_str("compatible", "arm,pl011");
    bld_prop_cells("reg", 4, 0, 0x09100000, 0, 0x1000);
    bld_end();
    bld_close_root();
    CHECK_EQ(parse_built(&p, err), 0);
    CHECK_REGION(p.uart, 0x09000000, 0x1000);
    CHECK_EQ(p.uart_irq, 33);

    /* An empty root is a valid, if useless, tree. */
    bld_reset();
    bld_begin("");
    bld_close_root();
    CHECK_EQ(parse_built(&p, err), 0);
    CHECK_EQ(p.gic_version, 0);
    CHECK_EQ(p.nmem, 0);
}

/* Every prefix of a real DTB, both as a short buffer under the original header and with the
   header rewritten to claim only the prefix; ASan turns any stray read into a failure. */
static void test_truncated(void)
{
    struct test_blob d = test_load_dtb("virt-gicv3-virt.dtb");
    struct test_blob c;
    struct fdt_platform p;
    char err[ERRLEN];
    int ok = 0;

    if (!d.data)
        return;
    c = compact_copy(&d);
    free(d.data);
    for (size_t len = 0; len <= c.size + 64; len++) {
        uint8_t *b = malloc(len ? len : 1);
        size_t have = len < c.size ? len : c.size;
        memcpy(b, c.data, have);
        memset(b + have, 0, len - have);
        err[0] = '\0';
        int rc = fdt_parse_platform(b, len, &p, err, sizeof(err));
        if (len < c.size)
            check_error(rc, err, NULL, __LINE__);
        else
            CHECK_EQ(rc, 0);

        if (len >= 40 && len < c.size) {
            uint32_t off_st = get32(b + 8), off_str = get32(b + 12);
            uint32_t l = (uint32_t)len;
            put32(b + 4, l);
            put32(b + 36, l > off_st
                              ? (l - off_st < get32(c.data + 36) ? l - off_st : get32(c.data + 36))
                              : 0);
            put32(b + 32, l > off_str ? l - off_str : 0);
            err[0] = '\0';
            rc = fdt_parse_platform(b, len, &p, err, sizeof(err));
            if (rc == 0)
                ok++;
            else
                check_error(rc, err, NULL, __LINE__);
        }
        free(b);
    }
    /* Cutting the strings block drops terminators of names in use, so nothing short parses. */
    CHECK_EQ(ok, 0);

    /* Strings first: every cut lands inside the token stream (names, values, headers). */
    struct test_blob s = strings_first_copy(&c);
    uint32_t off_st = get32(s.data + 8), size_st = get32(s.data + 36);
    CHECK_EQ(fdt_parse_platform(s.data, s.size, &p, err, sizeof(err)), 0);
    CHECK_EQ(p.gic_maint_irq, 25);
    for (uint32_t cut = 0; cut < size_st; cut++) {
        uint32_t len = off_st + cut;
        uint8_t *b = malloc(len);
        memcpy(b, s.data, len);
        put32(b + 4, len);
        put32(b + 36, cut);
        err[0] = '\0';
        check_error(fdt_parse_platform(b, len, &p, err, sizeof(err)), err, NULL, __LINE__);
        free(b);
        if (test_failed_checks)
            break;
    }
    free(s.data);
    free(c.data);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

/* Runs the walker and all helpers over whatever the mutated blob holds. */
static void walk_everything(const uint8_t *b, size_t size)
{
    struct fdt fdt;
    struct fdt_iter it;
    struct fdt_node node;
    struct fdt_region r;
    char err[ERRLEN];
    uint32_t v, len;
    int rc, n = 0;

    if (fdt_open(&fdt, b, size, err, sizeof(err)))
        return;
    fdt_iter_init(&it);
    while ((rc = fdt_next_node(&fdt, &it, &node)) == 1) {
        n++;
        fdt_node_compatible(&fdt, &node, "virtio,mmio");
        fdt_node_enabled(&fdt, &node);
        fdt_prop_str(&fdt, &node, "compatible");
        fdt_prop_u32(&fdt, &node, "phandle", &v);
        fdt_prop(&fdt, &node, "interrupts", &len);
        for (int i = 0; i < 4 && fdt_node_reg(&fdt, &node, i, &r) == 0; i++)
            ;
    }
    CHECK(rc <= 0);
    CHECK(n < 100000);
}

static void test_mutations(void)
{
    struct test_blob d = test_load_dtb("virt-gicv2-virt.dtb");
    struct test_blob c;
    struct fdt_platform p;
    char err[ERRLEN];
    int succeeded = 0, failed = 0;

    if (!d.data)
        return;
    c = compact_copy(&d);
    free(d.data);
    uint8_t *b = malloc(c.size);
    for (int iter = 0; iter < 3000; iter++) {
        memcpy(b, c.data, c.size);
        int nmut = 1 + (int)(rng() % 3);
        for (int m = 0; m < nmut; m++) {
            static const uint32_t interesting[] = {
                0, 1, 2, 3, 4, 9, 0x7fffffff, 0x80000000, 0xfffffffc, 0xffffffff, 16, 17};
            uint32_t kind = rng() % 5, off = rng() % (uint32_t)c.size;
            switch (kind) {
            case 0: b[off] = (uint8_t)rng(); break;
            case 1: b[off] ^= (uint8_t)(1u << (rng() % 8)); break;
            case 2:
                off &= ~3u;
                if (off + 4 <= c.size)
                    put32(b + off, interesting[rng() % 12]);
                break;
            case 3:
                off &= ~3u;
                if (off + 4 <= c.size)
                    put32(b + off, rng() % (uint32_t)(c.size + 64));
                break;
            default:
                put32(b + 4 + 4 * (rng() % 9),
                      rng() % 3 ? rng() % (uint32_t)(c.size + 64) : interesting[rng() % 12]);
                break;
            }
        }
        err[0] = '\0';
        int rc = fdt_parse_platform(b, c.size, &p, err, sizeof(err));
        if (rc == 0) {
            succeeded++;
            CHECK(p.nmem <= FDT_MAX_MEM && p.ncpus <= FDT_MAX_CPUS && p.nvirtio <= FDT_MAX_VIRTIO);
            CHECK(!p.bootargs || (p.bootargs >= (char *)b && p.bootargs < (char *)b + c.size));
        } else {
            failed++;
            check_error(rc, err, NULL, __LINE__);
        }
        walk_everything(b, c.size);
        if (test_failed_checks)
            break;
    }
    /* Both outcomes must occur, or the mutations are not reaching the parser. */
    CHECK(succeeded > 100);
    CHECK(failed > 100);
    free(b);
    free(c.data);
}

static const struct test_case cases[] = {
    {"boot/fdt/virt-gicv2", test_virt_gicv2},
    {"boot/fdt/virt-gicv2-virt", test_virt_gicv2_virt},
    {"boot/fdt/virt-gicv3", test_virt_gicv3},
    {"boot/fdt/virt-gicv3-virt", test_virt_gicv3_virt},
    {"boot/fdt/custom", test_custom},
    {"boot/fdt/walker-vs-dtc", test_walker_vs_dtc},
    {"boot/fdt/walker-helpers", test_walker_helpers},
    {"boot/fdt/bad-header", test_bad_header},
    {"boot/fdt/bad-structure", test_bad_structure},
    {"boot/fdt/depth", test_depth},
    {"boot/fdt/reservations", test_reservations},
    {"boot/fdt/bad-values", test_bad_values},
    {"boot/fdt/limits-and-variants", test_limits_and_variants},
    {"boot/fdt/truncated", test_truncated},
    {"boot/fdt/mutations", test_mutations},
};

int main(int argc, char **argv)
{
    return test_main(cases, (int)(sizeof(cases) / sizeof(cases[0])), argc, argv);
}
