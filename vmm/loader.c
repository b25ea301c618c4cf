/* loader.c - guest kernel formats (raw, ELF64, arm64 Image) and placement in guest RAM. */
#include "vmm/loader.h"

#include <stdbool.h>

#include "hw/byteorder.h"
#include "kernel/kmalloc.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "lib/string.h"

#define SZ_4K (1UL << 12)
#define SZ_2M (1UL << 21)
#define SZ_1G (1UL << 30)

/* ELF64 (System V gABI; AArch64 ELF ABI for EM_AARCH64). */
#define EHDR_SIZE     64
#define PHDR_SIZE     56
#define ET_EXEC       2
#define EM_AARCH64    183
#define PT_LOAD       1
#define PT_INTERP     3
#define PF_X          1
#define ELF_MAX_PHDRS 256

/* arm64 Image header (Linux Documentation/arch/arm64/booting.rst): 64 bytes, little-endian. */
#define IMAGE_HDR_SIZE        64
#define IMAGE_MAGIC           0x644d5241u /* "ARM\x64" at offset 56 */
#define IMAGE_LEGACY_OFFSET   0x80000     /* text_offset when image_size is 0 (before 3.17) */
#define IMAGE_FLAG_BIG_ENDIAN 1

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fmt_vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return code;
}

static int read_at(const struct loader_file *f, uint64_t off, void *buf, size_t len, char *err,
                   size_t errlen)
{
    int e = f->read(f->ctx, off, buf, len);

    return e ? fail(err, errlen, e, "read error at offset 0x%lx: %s", (unsigned long)off,
                    errno_str(e))
             : 0;
}

const char *loader_format_name(enum loader_format format)
{
    switch (format) {
    case LOADER_RAW: return "raw";
    case LOADER_ELF: return "ELF64";
    case LOADER_IMAGE: return "arm64 Image";
    default: return "unknown";
    }
}

/* An ELF program header as far as placement cares. */
struct elf_seg {
    uint64_t vaddr, paddr, offset, filesz, memsz;
    uint32_t flags;
};

static int elf_read_phdr(const struct loader_file *f, uint64_t off, struct elf_seg *s,
                         uint32_t *type, char *err, size_t errlen)
{
    uint8_t ph[PHDR_SIZE];
    int e = read_at(f, off, ph, sizeof(ph), err, errlen);

    if (e)
        return e;
    *type = load_le32(ph);
    s->flags = load_le32(ph + 4);
    s->offset = load_le64(ph + 8);
    s->vaddr = load_le64(ph + 16);
    s->paddr = load_le64(ph + 24);
    s->filesz = load_le64(ph + 32);
    s->memsz = load_le64(ph + 40);
    return 0;
}

/* One PT_LOAD segment: inside the file, filesz <= memsz, no address wrap-around. */
static int elf_check_segment(const struct elf_seg *s, unsigned i, uint64_t file_size, char *err,
                             size_t errlen)
{
    if (s->filesz > s->memsz)
        return fail(err, errlen, -ENOEXEC, "segment %u: file size 0x%lx exceeds memory size 0x%lx",
                    i, (unsigned long)s->filesz, (unsigned long)s->memsz);
    if (s->offset > file_size || s->filesz > file_size - s->offset)
        return fail(err, errlen, -ENOEXEC,
                    "segment %u: bytes 0x%lx+0x%lx lie past the end of the file (0x%lx bytes)", i,
                    (unsigned long)s->offset, (unsigned long)s->filesz, (unsigned long)file_size);
    if (s->paddr + s->memsz < s->paddr || s->vaddr + s->memsz < s->vaddr)
        return fail(err, errlen, -ENOEXEC, "segment %u: address 0x%lx + size 0x%lx wraps around", i,
                    (unsigned long)s->paddr, (unsigned long)s->memsz);
    return 0;
}

/* Insert seg into plan->seg, keeping address order; refuse overlaps. */
static int plan_add_segment(struct load_plan *plan, const struct elf_seg *s, char *err,
                            size_t errlen)
{
    unsigned i = plan->nseg;

    if (plan->nseg == LOADER_MAX_SEGMENTS)
        return fail(err, errlen, -ENOEXEC, "more than %d PT_LOAD segments", LOADER_MAX_SEGMENTS);
    while (i > 0 && plan->seg[i - 1].ipa > s->paddr)
        i--;
    for (unsigned j = (i ? i - 1 : 0); j < plan->nseg && j <= i; j++) {
        const struct loader_segment *o = &plan->seg[j];
        if (s->paddr < o->ipa + o->memsz && o->ipa < s->paddr + s->memsz)
            return fail(err, errlen, -ENOEXEC, "segments at 0x%lx and 0x%lx overlap",
                        (unsigned long)o->ipa, (unsigned long)s->paddr);
    }
    memmove(&plan->seg[i + 1], &plan->seg[i], (plan->nseg - i) * sizeof(plan->seg[0]));
    plan->seg[i] = (struct loader_segment){s->paddr, s->offset, s->filesz, s->memsz};
    plan->nseg++;
    return 0;
}

static int elf_check_header(const uint8_t *h, uint64_t size, char *err, size_t errlen)
{
    uint16_t type = load_le16(h + 16), machine = load_le16(h + 18), phentsize = load_le16(h + 54);
    uint16_t phnum = load_le16(h + 56);
    uint64_t phoff = load_le64(h + 32);

    if (size < EHDR_SIZE)
        return fail(err, errlen, -ENOEXEC, "ELF header truncated (file is %lu bytes)",
                    (unsigned long)size);
    if (h[4] != 2)
        return fail(err, errlen, -ENOEXEC, "not a 64-bit ELF (class %u)", h[4]);
    if (h[5] != 1)
        return fail(err, errlen, -ENOEXEC, "not a little-endian ELF (data encoding %u)", h[5]);
    if (h[6] != 1 || load_le32(h + 20) != 1)
        return fail(err, errlen, -ENOEXEC, "unknown ELF version");
    if (machine != EM_AARCH64)
        return fail(err, errlen, -ENOEXEC, "ELF machine %u is not AArch64 (%d)", machine,
                    EM_AARCH64);
    if (type != ET_EXEC)
        return fail(err, errlen, -ENOEXEC,
                    "ELF type %u is not EXEC (2): only executables linked at their load "
                    "address can be loaded",
                    type);
    if (phentsize != PHDR_SIZE || phnum == 0 || phnum > ELF_MAX_PHDRS)
        return fail(err, errlen, -ENOEXEC,
                    "bad program header table (%u entries of %u bytes; want 1..%d of %d)", phnum,
                    phentsize, ELF_MAX_PHDRS, PHDR_SIZE);
    if (phoff > size || (uint64_t)phnum * PHDR_SIZE > size - phoff)
        return fail(err, errlen, -ENOEXEC, "program headers at 0x%lx lie past the end of the file",
                    (unsigned long)phoff);
    return 0;
}

/* The entry point's IPA: e_entry must fall in an executable PT_LOAD segment. */
static int elf_plan(const struct loader_request *req, const struct loader_file *f, const uint8_t *h,
                    struct load_plan *plan, char *err, size_t errlen)
{
    uint64_t e_entry = load_le64(h + 24), phoff = load_le64(h + 32);
    uint16_t phnum = load_le16(h + 56);
    bool entry_found = false;
    int e = elf_check_header(h, f->size, err, errlen);

    for (unsigned i = 0; !e && i < phnum; i++) {
        struct elf_seg s;
        uint32_t type;

        e = elf_read_phdr(f, phoff + (uint64_t)i * PHDR_SIZE, &s, &type, err, errlen);
        if (!e && type == PT_INTERP)
            e = fail(err, errlen, -ENOEXEC, "has an interpreter: dynamically linked");
        if (e || type != PT_LOAD || s.memsz == 0)
            continue;
        e = elf_check_segment(&s, i, f->size, err, errlen);
        if (!e)
            e = plan_add_segment(plan, &s, err, errlen);
        if (!e && (s.flags & PF_X) && e_entry >= s.vaddr && e_entry - s.vaddr < s.memsz) {
            plan->entry = s.paddr + (e_entry - s.vaddr);
            entry_found = true;
        }
    }
    if (e)
        return e;
    if (plan->nseg == 0)
        return fail(err, errlen, -ENOEXEC, "no PT_LOAD segments");
    if (!entry_found)
        return fail(err, errlen, -ENOEXEC, "entry 0x%lx is not in an executable segment",
                    (unsigned long)e_entry);
    plan->kernel_start = plan->seg[0].ipa;
    for (unsigned i = 0; i < plan->nseg; i++) {
        uint64_t end = plan->seg[i].ipa + plan->seg[i].memsz;
        if (end > plan->kernel_end)
            plan->kernel_end = end;
    }
    if (req->entry && req->entry != plan->entry)
        return fail(err, errlen, -ENOEXEC, "entry 0x%lx does not match the ELF's entry 0x%lx",
                    (unsigned long)req->entry, (unsigned long)plan->entry);
    if (req->load_addr && req->load_addr != plan->kernel_start)
        return fail(err, errlen, -ENOEXEC,
                    "load_addr 0x%lx does not match the ELF's first segment at 0x%lx",
                    (unsigned long)req->load_addr, (unsigned long)plan->kernel_start);
    return 0;
}

/* Linux arm64 boot protocol: the Image goes text_offset bytes above a 2 MiB-aligned base. */
static int image_plan(const struct loader_request *req, const struct loader_file *f,
                      const uint8_t *h, struct load_plan *plan, char *err, size_t errlen)
{
    uint64_t text_offset = load_le64(h + 8), image_size = load_le64(h + 16),
             flags = load_le64(h + 24);
    uint64_t base;

    if (flags & IMAGE_FLAG_BIG_ENDIAN)
        return fail(err, errlen, -ENOEXEC, "big-endian Image (flags 0x%lx)", (unsigned long)flags);
    if (image_size == 0) {
        text_offset = IMAGE_LEGACY_OFFSET;
        image_size = f->size;
    }
    if (image_size < f->size)
        return fail(err, errlen, -ENOEXEC,
                    "image_size 0x%lx is smaller than the file (0x%lx bytes)",
                    (unsigned long)image_size, (unsigned long)f->size);
    if (text_offset % SZ_4K || text_offset >= req->ram_size)
        return fail(err, errlen, -ENOEXEC, "text_offset 0x%lx is not a 4 KiB multiple inside RAM",
                    (unsigned long)text_offset);
    if (req->load_addr) {
        base = req->load_addr - text_offset;
        if (req->load_addr < text_offset || base % SZ_2M)
            return fail(err, errlen, -ENOEXEC,
                        "load_addr 0x%lx is not text_offset 0x%lx above a 2 MiB boundary "
                        "(arm64 boot protocol)",
                        (unsigned long)req->load_addr, (unsigned long)text_offset);
    } else {
        base = req->ram_base; /* flags bit 3 clear asks for the base "as close as possible" */
    }
    plan->kernel_start = base + text_offset;
    plan->kernel_end = plan->kernel_start + image_size;
    plan->entry = plan->kernel_start; /* code0, the first word of the Image */
    if (plan->kernel_end < plan->kernel_start)
        return fail(err, errlen, -ENOEXEC, "image_size 0x%lx wraps around",
                    (unsigned long)image_size);
    if (req->entry && req->entry != plan->entry)
        return fail(err, errlen, -ENOEXEC,
                    "entry 0x%lx: an Image is entered at its first byte, 0x%lx",
                    (unsigned long)req->entry, (unsigned long)plan->entry);
    plan->seg[0] = (struct loader_segment){plan->kernel_start, 0, f->size, image_size};
    plan->nseg = 1;
    return 0;
}

static int raw_plan(const struct loader_request *req, const struct loader_file *f,
                    struct load_plan *plan, char *err, size_t errlen)
{
    if (f->size == 0)
        return fail(err, errlen, -ENOEXEC, "empty file");
    plan->kernel_start = req->load_addr ? req->load_addr : req->ram_base;
    plan->kernel_end = plan->kernel_start + f->size;
    plan->entry = req->entry ? req->entry : plan->kernel_start;
    if (plan->kernel_end < plan->kernel_start)
        return fail(err, errlen, -ENOSPC, "file size 0x%lx wraps around", (unsigned long)f->size);
    if (plan->entry < plan->kernel_start || plan->entry >= plan->kernel_end)
        return fail(err, errlen, -ENOEXEC, "entry 0x%lx is outside the kernel at 0x%lx-0x%lx",
                    (unsigned long)plan->entry, (unsigned long)plan->kernel_start,
                    (unsigned long)(plan->kernel_end - 1));
    plan->seg[0] = (struct loader_segment){plan->kernel_start, 0, f->size, f->size};
    plan->nseg = 1;
    return 0;
}

/*
 * The dtb takes the last 2 MiB block of RAM (booting.rst: at most 2 MiB, 8-byte aligned, in a
 * 2 MiB region of its own); the initrd sits just below, page aligned. Linux also wants the
 * initrd and kernel inside one 1 GiB-aligned window of at most 32 GiB.
 */
static int place_extras(const struct loader_request *req, struct load_plan *plan, char *err,
                        size_t errlen)
{
    uint64_t ram_end = req->ram_base + req->ram_size, top = ram_end;

    if (req->dtb_size) {
        if (req->dtb_size > LOADER_DTB_MAX)
            return fail(err, errlen, -ENOSPC,
                        "dtb is %lu bytes, over the 2 MiB the arm64 boot protocol allows",
                        (unsigned long)req->dtb_size);
        uint64_t last_block = ram_end & ~(SZ_2M - 1);
        if (last_block < req->ram_base + SZ_2M || last_block - SZ_2M < plan->kernel_end)
            return fail(err, errlen, -ENOSPC,
                        "no room for the dtb: the kernel ends at 0x%lx and RAM at 0x%lx",
                        (unsigned long)plan->kernel_end, (unsigned long)ram_end);
        top = last_block - SZ_2M;
        plan->dtb_ipa = top;
        plan->dtb_size = req->dtb_size;
    }
    if (req->initrd_size) {
        uint64_t floor = (plan->kernel_end + SZ_4K - 1) & ~(SZ_4K - 1);
        uint64_t room = top > floor ? top - floor : 0;
        if (req->initrd_size > room)
            return fail(err, errlen, -ENOSPC,
                        "initrd (%lu KiB) does not fit in the %lu KiB between the kernel and "
                        "the top of RAM%s",
                        (unsigned long)(req->initrd_size >> 10), (unsigned long)(room >> 10),
                        req->dtb_size ? " (less the dtb's 2 MiB)" : "");
        plan->initrd_ipa = (top - req->initrd_size) & ~(SZ_4K - 1);
        plan->initrd_size = req->initrd_size;
        /* The initrd lies above the kernel, so the window starts at the kernel's GiB. */
        uint64_t window = plan->kernel_start & ~(SZ_1G - 1);
        if (plan->initrd_ipa + plan->initrd_size - window > 32 * SZ_1G)
            return fail(err, errlen, -ENOSPC,
                        "initrd at 0x%lx is not within 32 GiB of the kernel's 1 GiB window",
                        (unsigned long)plan->initrd_ipa);
    }
    return 0;
}

int loader_plan(const struct loader_request *req, const struct loader_file *kernel,
                struct load_plan *plan, char *err, size_t errlen)
{
    uint8_t h[IMAGE_HDR_SIZE] = {0};
    size_t hlen = kernel->size < sizeof(h) ? (size_t)kernel->size : sizeof(h);
    uint64_t ram_end = req->ram_base + req->ram_size;
    int e;

    memset(plan, 0, sizeof(*plan));
    if (req->ram_base % SZ_2M || req->ram_size == 0 || ram_end < req->ram_base)
        return fail(err, errlen, -EINVAL, "guest RAM 0x%lx+0x%lx is not a 2 MiB aligned range",
                    (unsigned long)req->ram_base, (unsigned long)req->ram_size);
    e = read_at(kernel, 0, h, hlen, err, errlen);
    if (e)
        return e;
    if (hlen >= 4 && !memcmp(h,
                             "\x7f"
                             "ELF",
                             4)) {
        plan->format = LOADER_ELF;
        e = elf_plan(req, kernel, h, plan, err, errlen);
    } else if (hlen == IMAGE_HDR_SIZE && load_le32(h + 56) == IMAGE_MAGIC) {
        plan->format = LOADER_IMAGE;
        e = image_plan(req, kernel, h, plan, err, errlen);
    } else {
        plan->format = LOADER_RAW;
        e = raw_plan(req, kernel, plan, err, errlen);
    }
    if (e)
        return e;
    if (plan->kernel_start < req->ram_base || plan->kernel_end > ram_end)
        return fail(err, errlen, -ENOSPC, "kernel needs 0x%lx-0x%lx but guest RAM is 0x%lx-0x%lx",
                    (unsigned long)plan->kernel_start, (unsigned long)(plan->kernel_end - 1),
                    (unsigned long)req->ram_base, (unsigned long)(ram_end - 1));
    return place_extras(req, plan, err, errlen);
}

int loader_load_kernel(const struct load_plan *plan, const struct loader_file *kernel,
                       loader_write_fn write, void *ctx)
{
    uint8_t *buf = kmalloc(SZ_4K);
    int e = buf ? 0 : -ENOMEM;

    for (unsigned i = 0; !e && i < plan->nseg; i++) {
        const struct loader_segment *s = &plan->seg[i];
        for (uint64_t done = 0; !e && done < s->memsz;) {
            uint64_t left = s->memsz - done;
            size_t n = left < SZ_4K ? (size_t)left : SZ_4K;
            if (done < s->filesz) {
                if (n > s->filesz - done)
                    n = (size_t)(s->filesz - done);
                e = kernel->read(kernel->ctx, s->offset + done, buf, n);
            } else {
                memset(buf, 0, n);
            }
            if (!e)
                e = write(ctx, s->ipa + done, buf, n);
            done += n;
        }
    }
    kfree(buf);
    return e;
}
