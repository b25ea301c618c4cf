/* test_elf.c - the user-program ELF checks: a good image, each malformation, random mutations. */
#include <stdint.h>
#include <string.h>

#include "kernel/elf.h"
#include "lib/errno.h"
#include "test.h"

#define MIN_VA    0x10000UL
#define MAX_VA    0x7f00000000UL
#define TEXT_VA   0x400000UL
#define DATA_VA   0x411000UL
#define EHDR_SIZE 64
#define PHDR_SIZE 56
#define MAX_PHDRS 20
#define FILE_SIZE 0x3000

/* Offsets in the ELF64 header and a program header (ELF gABI). */
#define E_TYPE      16
#define E_MACHINE   18
#define E_VERSION   20
#define E_ENTRY     24
#define E_PHOFF     32
#define E_EHSIZE    52
#define E_PHENTSIZE 54
#define E_PHNUM     56
#define P_TYPE      0
#define P_FLAGS     4
#define P_OFFSET    8
#define P_VADDR     16
#define P_FILESZ    32
#define P_MEMSZ     40
#define P_ALIGN     48

static uint8_t img[FILE_SIZE];
static size_t img_size;

static void put16(size_t off, uint16_t v)
{
    memcpy(img + off, &v, 2);
}

static void put32(size_t off, uint32_t v)
{
    memcpy(img + off, &v, 4);
}

static void put64(size_t off, uint64_t v)
{
    memcpy(img + off, &v, 8);
}

static size_t ph(int i)
{
    return EHDR_SIZE + (size_t)i * PHDR_SIZE;
}

static void set_phdr(int i, uint32_t type, uint32_t flags, uint64_t off, uint64_t va,
                     uint64_t filesz, uint64_t memsz)
{
    put32(ph(i) + P_TYPE, type);
    put32(ph(i) + P_FLAGS, flags);
    put64(ph(i) + P_OFFSET, off);
    put64(ph(i) + P_VADDR, va);
    put64(ph(i) + 24, va); /* p_paddr */
    put64(ph(i) + P_FILESZ, filesz);
    put64(ph(i) + P_MEMSZ, memsz);
    put64(ph(i) + P_ALIGN, 0x1000);
}

/*
 * A static executable like the ones app/ builds: text (R+X, from offset 0 so it holds the
 * headers) at 0x400000, data (R+W) with bss at 0x411000, and a GNU_STACK header.
 */
static void make_good(void)
{
    memset(img, 0, sizeof(img));
    memcpy(img, "\177ELF", 4);
    img[4] = 2;            /* ELFCLASS64 */
    img[5] = 1;            /* little-endian */
    img[6] = 1;            /* EV_CURRENT */
    put16(E_TYPE, 2);      /* ET_EXEC */
    put16(E_MACHINE, 183); /* EM_AARCH64 */
    put32(E_VERSION, 1);
    put64(E_ENTRY, TEXT_VA + 0x200);
    put64(E_PHOFF, EHDR_SIZE);
    put16(E_EHSIZE, EHDR_SIZE);
    put16(E_PHENTSIZE, PHDR_SIZE);
    put16(E_PHNUM, 3);
    set_phdr(0, 1, 5, 0, TEXT_VA, 0x1800, 0x1800);
    set_phdr(1, 1, 6, 0x2000, DATA_VA, 0x800, 0x5000);
    set_phdr(2, 0x6474e551, 6, 0, 0, 0, 0); /* PT_GNU_STACK */
    img_size = FILE_SIZE;
}

static int parse(struct elf_image *out, const char **why)
{
    return elf_parse(img, img_size, MIN_VA, MAX_VA, out, why);
}

/* The current image is refused, with a reason containing expect. */
static void expect_refused(const char *expect)
{
    struct elf_image out;
    const char *why = NULL;
    int err = parse(&out, &why);

    CHECK_EQ(err, -ENOEXEC);
    CHECK(why && strstr(why, expect));
    if (why && !strstr(why, expect))
        fprintf(stderr, "  reason was '%s', expected '%s'\n", why, expect);
}

static void test_good(void)
{
    struct elf_image out;
    const char *why;

    make_good();
    CHECK_EQ(parse(&out, &why), 0);
    CHECK_EQ(out.entry, TEXT_VA + 0x200);
    CHECK_EQ(out.nseg, 2);
    CHECK_EQ(out.seg[0].vaddr, TEXT_VA);
    CHECK_EQ(out.seg[0].prot, 5);
    CHECK_EQ(out.seg[1].vaddr, DATA_VA);
    CHECK_EQ(out.seg[1].filesz, 0x800);
    CHECK_EQ(out.seg[1].memsz, 0x5000);
    CHECK_EQ(out.seg[1].prot, 3);
    CHECK_EQ(out.end, DATA_VA + 0x5000);
    CHECK_EQ(out.phdr_vaddr, TEXT_VA + EHDR_SIZE); /* AT_PHDR */
    CHECK_EQ(out.phnum, 3);
    CHECK_EQ(out.phentsize, PHDR_SIZE);

    /* Segments listed out of order come back in address order. */
    set_phdr(0, 1, 6, 0x2000, DATA_VA, 0x800, 0x5000);
    set_phdr(1, 1, 5, 0, TEXT_VA, 0x1800, 0x1800);
    CHECK_EQ(parse(&out, &why), 0);
    CHECK_EQ(out.seg[0].vaddr, TEXT_VA);
    CHECK_EQ(out.seg[1].vaddr, DATA_VA);

    /* Empty segments are ignored; headers not in any segment give AT_PHDR 0. */
    make_good();
    set_phdr(2, 1, 4, 0, 0x500000, 0, 0);
    CHECK_EQ(parse(&out, &why), 0);
    CHECK_EQ(out.nseg, 2);
    put64(ph(0) + P_OFFSET, 0x1000);
    put64(ph(0) + P_VADDR, TEXT_VA + 0x1000);
    put64(ph(0) + P_FILESZ, 0x800);
    put64(ph(0) + P_MEMSZ, 0x800);
    put64(E_ENTRY, TEXT_VA + 0x1200);
    CHECK_EQ(parse(&out, &why), 0);
    CHECK_EQ(out.phdr_vaddr, 0);
}

static void test_bad_header(void)
{
    make_good();
    img_size = 40;
    expect_refused("too short");
    make_good();
    img[0] = 0x7e;
    expect_refused("magic");
    make_good();
    img[4] = 1; /* ELFCLASS32 */
    expect_refused("ELF64");
    make_good();
    img[5] = 2; /* big-endian */
    expect_refused("ELF64");
    make_good();
    put32(E_VERSION, 0);
    expect_refused("version");
    make_good();
    put16(E_MACHINE, 62); /* x86-64 */
    expect_refused("AArch64");
    make_good();
    put16(E_TYPE, 3);
    expect_refused("position-independent");
    make_good();
    put16(E_TYPE, 1); /* ET_REL */
    expect_refused("not an executable");
    make_good();
    put16(E_PHENTSIZE, 32);
    expect_refused("header sizes");
    make_good();
    put16(E_EHSIZE, 20);
    expect_refused("header sizes");
    make_good();
    put16(E_PHNUM, 0);
    expect_refused("program header count");
    make_good();
    put16(E_PHNUM, 65535);
    expect_refused("program header count");
    make_good();
    put64(E_PHOFF, FILE_SIZE - 10);
    expect_refused("outside the file");
    make_good();
    put64(E_PHOFF, UINT64_MAX - 8); /* would wrap */
    expect_refused("outside the file");
    make_good();
    put64(E_PHOFF, EHDR_SIZE + 4);
    expect_refused("misaligned");
}

static void test_bad_segments(void)
{
    make_good();
    put64(ph(1) + P_FILESZ, 0x6000);
    expect_refused("file size exceeds");
    make_good();
    put64(ph(1) + P_OFFSET, FILE_SIZE - 0x100);
    expect_refused("outside the file");
    make_good();
    put64(ph(1) + P_OFFSET, UINT64_MAX - 0x100); /* offset + filesz wraps */
    expect_refused("outside the file");
    make_good();
    put64(ph(0) + P_VADDR, 0x1000);
    put64(E_ENTRY, 0x1200);
    expect_refused("user address range");
    make_good();
    put64(ph(1) + P_VADDR, MAX_VA - 0x1000 + 0x800 - 0x800);
    put64(ph(1) + P_MEMSZ, 0x2000);
    expect_refused("user address range");
    make_good();
    put64(ph(1) + P_VADDR, UINT64_MAX - 0xfff);
    expect_refused("user address range");
    make_good();
    put64(ph(1) + P_MEMSZ, UINT64_MAX - 0x1000); /* vaddr + memsz wraps */
    expect_refused("user address range");
    make_good();
    put64(ph(1) + P_VADDR, TEXT_VA + 0x1000);
    put64(ph(1) + P_OFFSET, 0x1000);
    expect_refused("overlapping");
    make_good();
    put64(ph(1) + P_VADDR, TEXT_VA + 0x1900); /* after the text, on its last page */
    put64(ph(1) + P_OFFSET, 0x2900);
    put64(ph(1) + P_FILESZ, 0x100);
    expect_refused("share a page");
    make_good();
    put64(ph(1) + P_VADDR, DATA_VA + 0x10); /* address and offset disagree */
    expect_refused("modulo");
    make_good();
    put64(E_ENTRY, DATA_VA + 0x10); /* inside a segment, but not an executable one */
    expect_refused("entry point");
    make_good();
    put64(E_ENTRY, 0x900000);
    expect_refused("entry point");
    make_good();
    put32(ph(0) + P_TYPE, 4); /* PT_NOTE: no PT_LOAD left with the entry point */
    put32(ph(1) + P_TYPE, 4);
    expect_refused("no loadable segment");
    make_good();
    set_phdr(2, 3, 4, 0x2800, 0, 0x10, 0x10); /* PT_INTERP */
    expect_refused("interpreter");
    make_good();
    put16(E_PHNUM, MAX_PHDRS);
    for (int i = 2; i < MAX_PHDRS; i++)
        set_phdr(i, 1, 4, 0x2000, 0x500000 + (uint64_t)i * 0x1000, 0x10, 0x10);
    expect_refused("too many segments");
}

static uint32_t rng_state = 12345;

static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

/* Random corruption of a good image: never a crash (the sanitizers watch), and whatever is
 * accepted keeps every promise elf_parse makes. */
static void test_mutations(void)
{
    unsigned int accepted = 0, refused = 0;

    for (int round = 0; round < 20000; round++) {
        make_good();
        int flips = 1 + (int)(rng() % 4);
        for (int i = 0; i < flips; i++) {
            size_t at = (size_t)rng() % (ph(3));
            img[at] ^= (uint8_t)(1u << (rng() % 8));
        }
        img_size = (rng() % 8) ? FILE_SIZE : (size_t)rng() % FILE_SIZE;
        struct elf_image out;
        const char *why;
        if (parse(&out, &why)) {
            refused++;
            continue;
        }
        accepted++;
        CHECK(out.nseg >= 1 && out.nseg <= ELF_MAX_SEGMENTS);
        for (unsigned int i = 0; i < out.nseg; i++) {
            const struct elf_segment *s = &out.seg[i];
            CHECK(s->vaddr >= MIN_VA && s->memsz <= MAX_VA - s->vaddr);
            CHECK(s->filesz <= s->memsz && s->offset <= img_size &&
                  s->filesz <= img_size - s->offset);
            if (i)
                CHECK(s->vaddr >= out.seg[i - 1].vaddr + out.seg[i - 1].memsz);
        }
        if (test_failed_checks)
            break;
    }
    CHECK(accepted > 100 && refused > 100);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"elf/good", test_good},
        {"elf/bad_header", test_bad_header},
        {"elf/bad_segments", test_bad_segments},
        {"elf/mutations", test_mutations},
    };

    return test_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
