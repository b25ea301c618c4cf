/* elf.h - ELF64 executables for AArch64: header and segment checks (pure logic, host-tested). */
#ifndef KERNEL_ELF_H
#define KERNEL_ELF_H

#include <stddef.h>
#include <stdint.h>

#define ELF_MAX_SEGMENTS 16

/** A PT_LOAD segment: file bytes [offset, offset + filesz) at vaddr, zero-filled to memsz. */
struct elf_segment {
    uint64_t vaddr, memsz;
    uint64_t offset, filesz;
    unsigned int prot; /* PROT_READ 1 | PROT_WRITE 2 | PROT_EXEC 4 */
};

/** What a loader needs from a checked executable. */
struct elf_image {
    uint64_t entry;
    uint64_t phdr_vaddr; /* where the program headers are once loaded (AT_PHDR), 0 if nowhere */
    uint16_t phnum, phentsize;
    uint64_t end; /* highest segment end: the heap starts above it */
    unsigned int nseg;
    struct elf_segment seg[ELF_MAX_SEGMENTS]; /* in address order */
};

/*
 * Check data[0, size) as a static ELF64 little-endian AArch64 executable (ET_EXEC, no
 * interpreter) whose segments lie in [min_va, max_va), are within the file, do not overlap and
 * have an executable segment holding the entry point. 0 and *img filled, or -ENOEXEC with *why
 * saying what is wrong.
 */
int elf_parse(const void *data, size_t size, uint64_t min_va, uint64_t max_va,
              struct elf_image *img, const char **why);

#endif
