/* elf.c - checks ELF64 AArch64 executables before anything of them is loaded (ELF gABI, ch. 4-5).
 */
#include <stdbool.h>

#include "kernel/elf.h"
#include "lib/errno.h"
#include "lib/string.h"

#define EI_NIDENT   16
#define ELFCLASS64  2
#define ELFDATA2LSB 1
#define EV_CURRENT  1
#define ET_EXEC     2
#define ET_DYN      3
#define EM_AARCH64  183
#define PT_LOAD     1
#define PT_INTERP   3
#define PT_PHDR     6
#define PF_X        1
#define PF_W        2
#define PF_R        4
#define ELF_PAGE    4096

struct elf64_ehdr {
    unsigned char e_ident[EI_NIDENT];
    uint16_t e_type, e_machine;
    uint32_t e_version;
    uint64_t e_entry, e_phoff, e_shoff;
    uint32_t e_flags;
    uint16_t e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx;
};

struct elf64_phdr {
    uint32_t p_type, p_flags;
    uint64_t p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align;
};

static int elf_fail(const char **why, const char *reason)
{
    *why = reason;
    return -ENOEXEC;
}

static int elf_check_header(const struct elf64_ehdr *eh, size_t size, const char **why)
{
    if (memcmp(eh->e_ident, "\177ELF", 4))
        return elf_fail(why, "no ELF magic");
    if (eh->e_ident[4] != ELFCLASS64 || eh->e_ident[5] != ELFDATA2LSB ||
        eh->e_ident[6] != EV_CURRENT || eh->e_version != EV_CURRENT)
        return elf_fail(why, "not ELF64 little-endian version 1");
    if (eh->e_machine != EM_AARCH64)
        return elf_fail(why, "not an AArch64 program");
    if (eh->e_type == ET_DYN)
        return elf_fail(why, "position-independent or shared object (only static ET_EXEC runs)");
    if (eh->e_type != ET_EXEC)
        return elf_fail(why, "not an executable");
    if (eh->e_ehsize < sizeof(*eh) || eh->e_phentsize != sizeof(struct elf64_phdr))
        return elf_fail(why, "bad header sizes");
    if (eh->e_phnum == 0 || eh->e_phnum > 64)
        return elf_fail(why, "bad program header count");
    if (eh->e_phoff > size ||
        (uint64_t)eh->e_phnum * sizeof(struct elf64_phdr) > size - eh->e_phoff)
        return elf_fail(why, "program headers outside the file");
    if (eh->e_phoff % 8)
        return elf_fail(why, "misaligned program headers");
    return 0;
}

static unsigned int elf_prot(uint32_t flags)
{
    return ((flags & PF_R) ? 1u : 0) | ((flags & PF_W) ? 2u : 0) | ((flags & PF_X) ? 4u : 0);
}

/* Check one PT_LOAD and insert it in address order. */
static int elf_add_segment(struct elf_image *img, const struct elf64_phdr *ph, size_t size,
                           uint64_t min_va, uint64_t max_va, const char **why)
{
    if (ph->p_memsz == 0)
        return 0;
    if (img->nseg == ELF_MAX_SEGMENTS)
        return elf_fail(why, "too many segments");
    if (ph->p_filesz > ph->p_memsz)
        return elf_fail(why, "segment file size exceeds its memory size");
    if (ph->p_offset > size || ph->p_filesz > size - ph->p_offset)
        return elf_fail(why, "segment outside the file");
    if (ph->p_vaddr < min_va || ph->p_vaddr >= max_va || ph->p_memsz > max_va - ph->p_vaddr)
        return elf_fail(why, "segment outside the user address range");
    if (ph->p_align > 1 &&
        (ph->p_vaddr - ph->p_offset) % (ph->p_align < ELF_PAGE ? ph->p_align : ELF_PAGE))
        return elf_fail(why, "segment address and file offset disagree modulo the page size");
    struct elf_segment s = {ph->p_vaddr, ph->p_memsz, ph->p_offset, ph->p_filesz,
                            elf_prot(ph->p_flags)};
    unsigned int i = img->nseg;
    while (i > 0 && img->seg[i - 1].vaddr > s.vaddr) {
        img->seg[i] = img->seg[i - 1];
        i--;
    }
    img->seg[i] = s;
    img->nseg++;
    return 0;
}

static int elf_check_layout(struct elf_image *img, uint64_t entry, const char **why)
{
    bool entry_ok = false;

    for (unsigned int i = 0; i < img->nseg; i++) {
        const struct elf_segment *s = &img->seg[i];
        if (i > 0) {
            uint64_t prev_end = img->seg[i - 1].vaddr + img->seg[i - 1].memsz;
            if (s->vaddr < prev_end)
                return elf_fail(why, "overlapping segments");
            /* Each page gets one segment's permissions: W^X stays intact. */
            if (s->vaddr / ELF_PAGE < (prev_end + ELF_PAGE - 1) / ELF_PAGE)
                return elf_fail(why, "segments share a page");
        }
        if ((s->prot & 4) && entry >= s->vaddr && entry - s->vaddr < s->memsz)
            entry_ok = true;
        if (s->vaddr + s->memsz > img->end)
            img->end = s->vaddr + s->memsz;
    }
    if (img->nseg == 0)
        return elf_fail(why, "no loadable segment");
    if (!entry_ok)
        return elf_fail(why, "entry point outside the executable segments");
    return 0;
}

/* AT_PHDR: the program headers' address, if a segment loads that part of the file. */
static uint64_t elf_phdr_vaddr(const struct elf_image *img, uint64_t phoff, uint64_t phsize)
{
    for (unsigned int i = 0; i < img->nseg; i++) {
        const struct elf_segment *s = &img->seg[i];
        if (phoff >= s->offset && phoff - s->offset <= s->filesz &&
            phsize <= s->filesz - (phoff - s->offset))
            return s->vaddr + (phoff - s->offset);
    }
    return 0;
}

int elf_parse(const void *data, size_t size, uint64_t min_va, uint64_t max_va,
              struct elf_image *img, const char **why)
{
    struct elf64_ehdr eh;
    int err;

    *why = "";
    memset(img, 0, sizeof(*img));
    if (size < sizeof(eh))
        return elf_fail(why, "file too short for an ELF header");
    memcpy(&eh, data, sizeof(eh)); /* the blob may not be aligned */
    if ((err = elf_check_header(&eh, size, why)))
        return err;
    for (unsigned int i = 0; i < eh.e_phnum; i++) {
        struct elf64_phdr ph;
        memcpy(&ph, (const char *)data + eh.e_phoff + i * sizeof(ph), sizeof(ph));
        if (ph.p_type == PT_INTERP)
            return elf_fail(why, "dynamically linked (needs an interpreter)");
        if (ph.p_type == PT_LOAD && (err = elf_add_segment(img, &ph, size, min_va, max_va, why)))
            return err;
    }
    if ((err = elf_check_layout(img, eh.e_entry, why)))
        return err;
    img->entry = eh.e_entry;
    img->phnum = eh.e_phnum;
    img->phentsize = eh.e_phentsize;
    img->phdr_vaddr = elf_phdr_vaddr(img, eh.e_phoff, (uint64_t)eh.e_phnum * eh.e_phentsize);
    return 0;
}
