/* test_loader.c - guest kernel formats and placement: raw, ELF64 and arm64 Image built here. */
#include <stdint.h>
#include <string.h>

#include "lib/errno.h"
#include "test.h"
#include "vmm/loader.h"

#define RAM      0x40000000UL
#define RAM_SIZE (64UL << 20)
#define SZ_2M    0x200000UL

/** A kernel file in memory. */
struct memfile {
    const uint8_t *data;
    size_t size;
    int fail_reads; /* the reader fails when set */
};

static int mem_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    struct memfile *m = ctx;

    if (m->fail_reads)
        return -EIO;
    if (off > m->size || len > m->size - off) {
        fprintf(stderr, "  loader read 0x%lx+0x%zx past the end (0x%zx)\n", (unsigned long)off, len,
                m->size);
        test_failed_checks++;
        return -EIO;
    }
    memcpy(buf, m->data + off, len);
    return 0;
}

static struct memfile mf;
static struct loader_file lf;

static const struct loader_file *file_of(const void *data, size_t size)
{
    mf = (struct memfile){data, size, 0};
    lf = (struct loader_file){size, mem_read, &mf};
    return &lf;
}

static const struct loader_request default_req = {RAM, RAM_SIZE, 0, 0, 0, 0};

static struct loader_request request(void)
{
    return default_req;
}

static char err[LOADER_ERR_MAX];

/* loader_plan fails with code and a message containing text. */
static void expect_error(const struct loader_request *req, const struct loader_file *f, int code,
                         const char *text)
{
    struct load_plan plan;

    err[0] = '\0';
    int rc = loader_plan(req, f, &plan, err, sizeof(err));
    CHECK_EQ(rc, code);
    if (!strstr(err, text)) {
        fprintf(stderr, "  message '%s' does not contain '%s'\n", err, text);
        test_failed_checks++;
    }
}

static int plan_ok(const struct loader_request *req, const struct loader_file *f,
                   struct load_plan *plan)
{
    err[0] = '\0';
    int rc = loader_plan(req, f, plan, err, sizeof(err));
    if (rc)
        fprintf(stderr, "  loader_plan: %d %s\n", rc, err);
    return rc;
}

/* ---- file builders ---- */

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

struct phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz;
};

/* An ELF64 AArch64 executable: header, program headers at 64, then zero bytes to size. */
static size_t make_elf(uint8_t *buf, size_t size, uint64_t entry, const struct phdr *ph, unsigned n)
{
    memset(buf, 0, size);
    memcpy(buf,
           "\x7f"
           "ELF",
           4);
    buf[4] = 2; /* ELFCLASS64 */
    buf[5] = 1; /* little-endian */
    buf[6] = 1;
    put16(buf + 16, 2);   /* ET_EXEC */
    put16(buf + 18, 183); /* EM_AARCH64 */
    put32(buf + 20, 1);
    put64(buf + 24, entry);
    put64(buf + 32, 64);
    put16(buf + 52, 64);
    put16(buf + 54, 56);
    put16(buf + 56, (uint16_t)n);
    for (unsigned i = 0; i < n; i++) {
        uint8_t *p = buf + 64 + 56 * i;
        put32(p, ph[i].type);
        put32(p + 4, ph[i].flags);
        put64(p + 8, ph[i].offset);
        put64(p + 16, ph[i].vaddr);
        put64(p + 24, ph[i].paddr);
        put64(p + 32, ph[i].filesz);
        put64(p + 40, ph[i].memsz);
        put64(p + 48, 0x1000);
    }
    for (size_t i = 64 + 56 * n; i < size; i++)
        buf[i] = (uint8_t)(i * 7 + 1);
    return size;
}

/* An arm64 Image: the 64-byte header (booting.rst), then a ramp. */
static size_t make_image(uint8_t *buf, size_t size, uint64_t text_offset, uint64_t image_size,
                         uint64_t flags)
{
    memset(buf, 0, 64);
    put32(buf, 0x91005a4d); /* code0: "MZ" + add, as Linux has */
    put32(buf + 4, 0x14000000);
    put64(buf + 8, text_offset);
    put64(buf + 16, image_size);
    put64(buf + 24, flags);
    put32(buf + 56, 0x644d5241);
    for (size_t i = 64; i < size; i++)
        buf[i] = (uint8_t)(i * 13 + 5);
    return size;
}

static uint8_t filebuf[1 << 20];

/* ---- cases ---- */

static void test_raw(void)
{
    struct loader_request req = request();
    struct load_plan plan;

    memset(filebuf, 0x11, 5000);
    CHECK_EQ(plan_ok(&req, file_of(filebuf, 5000), &plan), 0);
    CHECK_EQ(plan.format, LOADER_RAW);
    CHECK_EQ(plan.kernel_start, RAM);
    CHECK_EQ(plan.kernel_end, RAM + 5000);
    CHECK_EQ(plan.entry, RAM);
    CHECK_EQ(plan.nseg, 1);
    CHECK_EQ(plan.seg[0].filesz, 5000);
    CHECK_EQ(plan.dtb_size, 0);
    CHECK_EQ(plan.initrd_size, 0);
    CHECK(!strcmp(loader_format_name(plan.format), "raw"));

    req.load_addr = 0x40080000;
    req.entry = 0x40080800;
    CHECK_EQ(plan_ok(&req, file_of(filebuf, 5000), &plan), 0);
    CHECK_EQ(plan.kernel_start, 0x40080000);
    CHECK_EQ(plan.entry, 0x40080800);

    req.entry = 0x40082000;
    expect_error(&req, file_of(filebuf, 5000), -ENOEXEC, "entry 0x40082000 is outside the kernel");
    req.entry = 0;
    expect_error(&req, file_of(filebuf, 0), -ENOEXEC, "empty file");
    /* Ends one byte past RAM. */
    req.load_addr = RAM + RAM_SIZE - 4096;
    expect_error(&req, file_of(filebuf, 4097), -ENOSPC, "guest RAM is 0x40000000-0x43ffffff");
    req.load_addr = RAM + RAM_SIZE - 4096;
    CHECK_EQ(plan_ok(&req, file_of(filebuf, 4096), &plan), 0);
    /* Shorter than an ELF magic, and a file that starts like one but is too short. */
    CHECK_EQ(plan_ok(&default_req,
                     file_of("\x7f"
                             "E",
                             2),
                     &plan),
             0);
    CHECK_EQ(plan.format, LOADER_RAW);
    expect_error(&default_req,
                 file_of("\x7f"
                         "ELF\2\1\1",
                         7),
                 -ENOEXEC, "ELF header truncated");
}

static const struct phdr good_ph[] = {
    /* Out of address order on purpose, and a non-load header between them. */
    {1, 6, 0x2000, 0x40100000, 0x40100000, 0x100, 0x3000},
    {4, 4, 0x200, 0, 0, 0x20, 0x20},
    {1, 5, 0x1000, 0x40080000, 0x40080000, 0x1000, 0x1000},
};

static void test_elf(void)
{
    struct loader_request req = request();
    struct load_plan plan;
    size_t n = make_elf(filebuf, 0x2100, 0x40080040, good_ph, 3);

    CHECK_EQ(plan_ok(&req, file_of(filebuf, n), &plan), 0);
    CHECK_EQ(plan.format, LOADER_ELF);
    CHECK_EQ(plan.entry, 0x40080040);
    CHECK_EQ(plan.nseg, 2);
    CHECK_EQ(plan.seg[0].ipa, 0x40080000);
    CHECK_EQ(plan.seg[0].offset, 0x1000);
    CHECK_EQ(plan.seg[1].ipa, 0x40100000);
    CHECK_EQ(plan.seg[1].filesz, 0x100);
    CHECK_EQ(plan.seg[1].memsz, 0x3000);
    CHECK_EQ(plan.kernel_start, 0x40080000);
    CHECK_EQ(plan.kernel_end, 0x40103000);

    /* load_addr must agree with the first segment; entry with e_entry. */
    req.load_addr = 0x40080000;
    req.entry = 0x40080040;
    CHECK_EQ(plan_ok(&req, file_of(filebuf, n), &plan), 0);
    req.load_addr = 0x40000000;
    expect_error(&req, file_of(filebuf, n), -ENOEXEC, "does not match the ELF's first segment");
    req.load_addr = 0;
    req.entry = 0x40080000;
    expect_error(&req, file_of(filebuf, n), -ENOEXEC, "does not match the ELF's entry");

    /* Linked high, loaded low: the entry is translated through its segment. */
    struct phdr high[] = {{1, 5, 0x1000, 0xffff000000080000, 0x40080000, 0x1000, 0x1000}};
    n = make_elf(filebuf, 0x2000, 0xffff000000080010, high, 1);
    CHECK_EQ(plan_ok(&default_req, file_of(filebuf, n), &plan), 0);
    CHECK_EQ(plan.entry, 0x40080010);
    CHECK(!strcmp(loader_format_name(plan.format), "ELF64"));
}

/* A valid ELF with one byte range replaced, expected to fail with text. */
static void elf_mutant(size_t at, const void *bytes, size_t len, int code, const char *text)
{
    size_t n = make_elf(filebuf, 0x2100, 0x40080040, good_ph, 3);

    memcpy(filebuf + at, bytes, len);
    expect_error(&default_req, file_of(filebuf, n), code, text);
}

static void test_elf_malformed(void)
{
    uint8_t b[8];

    elf_mutant(4, "\1", 1, -ENOEXEC, "not a 64-bit ELF");
    elf_mutant(5, "\2", 1, -ENOEXEC, "not a little-endian ELF");
    elf_mutant(6, "\7", 1, -ENOEXEC, "unknown ELF version");
    put16(b, 62); /* EM_X86_64 */
    elf_mutant(18, b, 2, -ENOEXEC, "ELF machine 62 is not AArch64");
    put16(b, 3); /* ET_DYN */
    elf_mutant(16, b, 2, -ENOEXEC, "ELF type 3 is not EXEC");
    put16(b, 32);
    elf_mutant(54, b, 2, -ENOEXEC, "bad program header table");
    put16(b, 0);
    elf_mutant(56, b, 2, -ENOEXEC, "bad program header table");
    put64(b, 0x2100 - 100); /* three headers do not fit in the last 100 bytes */
    elf_mutant(32, b, 8, -ENOEXEC, "program headers at 0x209c lie past the end");
    put64(b, UINT64_MAX - 8);
    elf_mutant(32, b, 8, -ENOEXEC, "lie past the end");
    /* Segment 0's file bytes run past the end of the file (and with an offset that wraps). */
    put64(b, 0x2000 + 0x100 + 1 - 0x100);
    elf_mutant(64 + 8, b, 8, -ENOEXEC, "segment 0: bytes 0x2001+0x100 lie past the end");
    put64(b, UINT64_MAX - 0x10);
    elf_mutant(64 + 8, b, 8, -ENOEXEC, "lie past the end of the file");
    put64(b, 0x4000); /* filesz > memsz */
    elf_mutant(64 + 32, b, 8, -ENOEXEC, "file size 0x4000 exceeds memory size 0x3000");
    put64(b, UINT64_MAX - 0x1000); /* memsz wraps the address space */
    elf_mutant(64 + 40, b, 8, -ENOEXEC, "wraps around");
    put64(b, 0x40080800); /* data segment moved onto the text segment */
    elf_mutant(64 + 24, b, 8, -ENOEXEC, "overlap");
    put32(b, 3); /* the note becomes an interpreter */
    elf_mutant(64 + 56, b, 4, -ENOEXEC, "interpreter");
    put32(b, 4); /* the text segment loses its execute permission */
    elf_mutant(64 + 112 + 4, b, 4, -ENOEXEC, "entry 0x40080040 is not in an executable segment");
    put64(b, 0x50000000); /* the data segment lands past RAM */
    elf_mutant(64 + 24, b, 8, -ENOSPC, "kernel needs 0x40080000-0x50002fff");
    put64(b, 512ULL << 20); /* an oversized BSS */
    elf_mutant(64 + 40, b, 8, -ENOSPC, "kernel needs");

    /* No loadable segment at all, and too many. */
    struct phdr note[] = {{4, 4, 0x200, 0, 0, 0x20, 0x20}};
    size_t n = make_elf(filebuf, 0x1000, 0x40080000, note, 1);
    expect_error(&default_req, file_of(filebuf, n), -ENOEXEC, "no PT_LOAD segments");
    struct phdr many[LOADER_MAX_SEGMENTS + 1];
    for (unsigned i = 0; i <= LOADER_MAX_SEGMENTS; i++)
        many[i] = (struct phdr){1, 5, 0x1000, RAM + i * 0x1000, RAM + i * 0x1000, 0x10, 0x10};
    n = make_elf(filebuf, 0x2000, RAM, many, LOADER_MAX_SEGMENTS + 1);
    expect_error(&default_req, file_of(filebuf, n), -ENOEXEC, "more than 16 PT_LOAD segments");
    /* Truncated: the program headers are cut off. */
    n = make_elf(filebuf, 0x2100, 0x40080040, good_ph, 3);
    expect_error(&default_req, file_of(filebuf, 100), -ENOEXEC,
                 "program headers at 0x40 lie past the end");
}

static void test_image(void)
{
    struct loader_request req = request();
    struct load_plan plan;
    size_t n = make_image(filebuf, 0x30000, 0x80000, 0x100000, 0xa);

    CHECK_EQ(plan_ok(&req, file_of(filebuf, n), &plan), 0);
    CHECK_EQ(plan.format, LOADER_IMAGE);
    CHECK_EQ(plan.kernel_start, RAM + 0x80000);
    CHECK_EQ(plan.kernel_end, RAM + 0x180000);
    CHECK_EQ(plan.entry, RAM + 0x80000);
    CHECK_EQ(plan.seg[0].filesz, 0x30000);
    CHECK_EQ(plan.seg[0].memsz, 0x100000);
    CHECK(!strcmp(loader_format_name(plan.format), "arm64 Image"));

    /* load_addr must be text_offset above a 2 MiB boundary. */
    req.load_addr = RAM + 3 * SZ_2M + 0x80000;
    CHECK_EQ(plan_ok(&req, file_of(filebuf, n), &plan), 0);
    CHECK_EQ(plan.kernel_start, req.load_addr);
    req.load_addr = RAM + 0x100000;
    expect_error(&req, file_of(filebuf, n), -ENOEXEC, "not text_offset 0x80000 above a 2 MiB");
    req.load_addr = 0;
    req.entry = RAM;
    expect_error(&req, file_of(filebuf, n), -ENOEXEC, "an Image is entered at its first byte");

    /* text_offset 0 (Linux 5.8 and later). */
    n = make_image(filebuf, 0x30000, 0, 0x40000, 0xa);
    CHECK_EQ(plan_ok(&default_req, file_of(filebuf, n), &plan), 0);
    CHECK_EQ(plan.entry, RAM);
    /* image_size 0: a kernel older than 3.17, text_offset taken as 0x80000. */
    n = make_image(filebuf, 0x30000, 0x1234, 0, 0);
    CHECK_EQ(plan_ok(&default_req, file_of(filebuf, n), &plan), 0);
    CHECK_EQ(plan.kernel_start, RAM + 0x80000);
    CHECK_EQ(plan.kernel_end, RAM + 0x80000 + 0x30000);

    n = make_image(filebuf, 0x30000, 0x80000, 0x100000, 1);
    expect_error(&default_req, file_of(filebuf, n), -ENOEXEC, "big-endian Image");
    n = make_image(filebuf, 0x30000, 0x80000, 0x20000, 0);
    expect_error(&default_req, file_of(filebuf, n), -ENOEXEC,
                 "image_size 0x20000 is smaller than the file");
    n = make_image(filebuf, 0x30000, 0x80100, 0x100000, 0);
    expect_error(&default_req, file_of(filebuf, n), -ENOEXEC, "text_offset 0x80100");
    /* A 1 GiB image_size in 64 MiB of RAM. */
    n = make_image(filebuf, 0x30000, 0x80000, 1UL << 30, 0);
    expect_error(&default_req, file_of(filebuf, n), -ENOSPC, "kernel needs 0x40080000-0x8007ffff");
    n = make_image(filebuf, 0x30000, 0x80000, UINT64_MAX - 0x1000, 0);
    expect_error(&default_req, file_of(filebuf, n), -ENOEXEC, "wraps around");
}

static void test_dtb_and_initrd_placement(void)
{
    struct loader_request req = request();
    struct load_plan plan;
    size_t n = make_image(filebuf, 0x30000, 0x80000, 0x1000000, 0xa);

    req.dtb_size = 0x2345;
    req.initrd_size = 0x123456;
    CHECK_EQ(plan_ok(&req, file_of(filebuf, n), &plan), 0);
    CHECK_EQ(plan.dtb_ipa, RAM + RAM_SIZE - SZ_2M);
    CHECK_EQ(plan.dtb_size, 0x2345);
    CHECK_EQ(plan.initrd_ipa % 4096, 0);
    CHECK(plan.initrd_ipa >= plan.kernel_end);
    CHECK(plan.initrd_ipa + plan.initrd_size <= plan.dtb_ipa);
    CHECK(plan.dtb_ipa - (plan.initrd_ipa + plan.initrd_size) < 4096);

    /* Without a dtb the initrd goes to the top of RAM. */
    req.dtb_size = 0;
    CHECK_EQ(plan_ok(&req, file_of(filebuf, n), &plan), 0);
    CHECK(plan.initrd_ipa + plan.initrd_size <= RAM + RAM_SIZE);
    CHECK(RAM + RAM_SIZE - (plan.initrd_ipa + plan.initrd_size) < 4096);

    req.dtb_size = LOADER_DTB_MAX + 1;
    expect_error(&req, file_of(filebuf, n), -ENOSPC, "over the 2 MiB");
    req.dtb_size = LOADER_DTB_MAX;
    req.initrd_size = RAM_SIZE - 0x1080000 - SZ_2M + 1; /* one byte more than fits */
    expect_error(&req, file_of(filebuf, n), -ENOSPC, "does not fit in the");
    req.initrd_size -= 1;
    CHECK_EQ(plan_ok(&req, file_of(filebuf, n), &plan), 0);
    CHECK_EQ(plan.initrd_ipa, RAM + 0x1080000);

    /* A kernel reaching into the last 2 MiB leaves no room for the dtb. */
    n = make_image(filebuf, 0x30000, 0, RAM_SIZE - 0x1000, 0xa);
    req = request();
    req.dtb_size = 0x1000;
    expect_error(&req, file_of(filebuf, n), -ENOSPC, "no room for the dtb");

    /* A bad RAM description is the caller's bug, refused all the same. */
    req = request();
    req.ram_base = RAM + 0x1000;
    expect_error(&req, file_of(filebuf, n), -EINVAL, "not a 2 MiB aligned range");
}

static uint8_t guest_ram[4 << 20];

static int ram_write(void *ctx, uint64_t ipa, const void *src, size_t len)
{
    (void)ctx;
    if (ipa < RAM || ipa - RAM > sizeof(guest_ram) || len > sizeof(guest_ram) - (ipa - RAM))
        return -EFAULT;
    memcpy(guest_ram + (ipa - RAM), src, len);
    return 0;
}

static void test_load_kernel(void)
{
    struct load_plan plan;
    size_t n = make_elf(filebuf, 0x2100, 0x40080040, good_ph, 3);
    const struct loader_file *f = file_of(filebuf, n);

    memset(guest_ram, 0xaa, sizeof(guest_ram));
    CHECK_EQ(plan_ok(&default_req, f, &plan), 0);
    CHECK_EQ(loader_load_kernel(&plan, f, ram_write, NULL), 0);
    CHECK(!memcmp(guest_ram + 0x80000, filebuf + 0x1000, 0x1000));
    CHECK(!memcmp(guest_ram + 0x100000, filebuf + 0x2000, 0x100));
    for (size_t i = 0x100100; i < 0x103000; i++) {
        if (guest_ram[i] != 0) {
            CHECK_EQ(guest_ram[i], 0); /* BSS is zeroed */
            break;
        }
    }
    CHECK_EQ(guest_ram[0x7ffff], 0xaa); /* nothing written outside the segments */
    CHECK_EQ(guest_ram[0x81000], 0xaa);
    CHECK_EQ(guest_ram[0x103000], 0xaa);

    /* A failing write or read is reported. */
    plan.seg[0].ipa = RAM + sizeof(guest_ram);
    CHECK_EQ(loader_load_kernel(&plan, f, ram_write, NULL), -EFAULT);
    mf.fail_reads = 1;
    CHECK_EQ(loader_plan(&default_req, f, &plan, err, sizeof(err)), -EIO);
    CHECK(strstr(err, "read error at offset 0x0") != NULL);
}

/* Random byte changes to valid ELF and Image files: an error or a plan that really fits. */
static void test_mutations(void)
{
    uint64_t rng = 99;
    unsigned accepted = 0, refused = 0;

    for (int iter = 0; iter < 20000; iter++) {
        size_t n = (iter & 1) ? make_elf(filebuf, 0x2100, 0x40080040, good_ph, 3)
                              : make_image(filebuf, 0x3000, 0x80000, 0x100000, 0xa);
        int flips = 1 + iter % 4;
        for (int k = 0; k < flips; k++) {
            rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
            size_t at = (size_t)(rng >> 33) % ((iter & 1) ? 64 + 3 * 56 : 64);
            filebuf[at] = (uint8_t)(rng >> 20);
        }
        if (iter % 7 == 0)
            n = (size_t)(rng >> 40) % n; /* truncated as well */
        struct load_plan plan;
        struct loader_request req = request();
        req.dtb_size = iter % 3 ? 0x1000 : 0;
        req.initrd_size = iter % 5 ? 0x10000 : 0;
        if (loader_plan(&req, file_of(filebuf, n), &plan, err, sizeof(err))) {
            refused++;
            CHECK(err[0] != '\0');
            continue;
        }
        accepted++;
        CHECK(plan.kernel_start >= RAM && plan.kernel_end <= RAM + RAM_SIZE);
        CHECK(plan.entry >= plan.kernel_start && plan.entry < plan.kernel_end);
        for (unsigned i = 0; i < plan.nseg; i++) {
            const struct loader_segment *s = &plan.seg[i];
            CHECK(s->filesz <= s->memsz && s->offset + s->filesz <= n);
            CHECK(s->ipa >= plan.kernel_start && s->ipa + s->memsz <= plan.kernel_end);
            if (i)
                CHECK(plan.seg[i - 1].ipa + plan.seg[i - 1].memsz <= s->ipa);
        }
        if (plan.initrd_size)
            CHECK(plan.initrd_ipa >= plan.kernel_end);
        if (plan.dtb_size)
            CHECK(plan.dtb_ipa >= plan.kernel_end &&
                  plan.dtb_ipa >= plan.initrd_ipa + plan.initrd_size);
        if (test_failed_checks)
            break;
    }
    CHECK(accepted > 1000 && refused > 1000);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"loader/raw", test_raw},
        {"loader/elf", test_elf},
        {"loader/elf_malformed", test_elf_malformed},
        {"loader/image", test_image},
        {"loader/dtb_and_initrd_placement", test_dtb_and_initrd_placement},
        {"loader/load_kernel", test_load_kernel},
        {"loader/mutations", test_mutations},
    };

    return test_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
