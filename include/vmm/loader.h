/* loader.h - guest kernels (raw, ELF64, arm64 Image): format checks and where everything goes. */
#ifndef VMM_LOADER_H
#define VMM_LOADER_H

#include <stddef.h>
#include <stdint.h>

#define LOADER_MAX_SEGMENTS 16
#define LOADER_DTB_MAX      (2UL << 20) /* arm64 boot protocol: a DTB is at most 2 MiB */
#define LOADER_ERR_MAX      192         /* a buffer this large holds any loader message */

enum loader_format {
    LOADER_RAW,   /* bytes copied to load_addr, entered at entry */
    LOADER_ELF,   /* ELF64 AArch64 ET_EXEC: PT_LOAD segments at their physical addresses */
    LOADER_IMAGE, /* arm64 Linux Image (Documentation/arch/arm64/booting.rst) */
};

/** A file the loader reads through a callback, so validation never holds a whole kernel. */
struct loader_file {
    uint64_t size;
    /* Exactly len bytes at off: 0, or a negative errno. */
    int (*read)(void *ctx, uint64_t off, void *buf, size_t len);
    void *ctx;
};

/** What to place: the guest's RAM and the manifest's wishes (0: the format's default). */
struct loader_request {
    uint64_t ram_base, ram_size; /* IPA range of guest RAM; base 2 MiB aligned */
    uint64_t load_addr, entry;
    uint64_t dtb_size, initrd_size; /* 0: none */
};

/** File bytes [offset, offset + filesz) at ipa, then zeros up to memsz. */
struct loader_segment {
    uint64_t ipa, offset, filesz, memsz;
};

/** Where everything goes in guest RAM; all of it checked to fit without overlaps. */
struct load_plan {
    enum loader_format format;
    uint64_t entry;
    uint64_t kernel_start, kernel_end; /* IPAs the kernel occupies, BSS included */
    unsigned nseg;
    struct loader_segment seg[LOADER_MAX_SEGMENTS]; /* in address order */
    uint64_t dtb_ipa, dtb_size;                     /* size 0: no dtb */
    uint64_t initrd_ipa, initrd_size;               /* size 0: no initrd */
};

/*
 * Recognise the kernel's format, check every header field, size and offset against the file,
 * and place kernel, dtb (the last 2 MiB of RAM) and initrd (just below the dtb) in guest RAM.
 * 0 and *plan filled, or -ENOEXEC (malformed kernel), -ENOSPC (does not fit), -EINVAL (bad
 * request) or a read error, with one line in err saying what is wrong.
 */
int loader_plan(const struct loader_request *req, const struct loader_file *kernel,
                struct load_plan *plan, char *err, size_t errlen);

/* Writes len bytes at a guest IPA (the caller translates through stage 2): 0 or -errno. */
typedef int (*loader_write_fn)(void *ctx, uint64_t ipa, const void *src, size_t len);

/* Copy the kernel's segments from the file into guest memory and zero their BSS. */
int loader_load_kernel(const struct load_plan *plan, const struct loader_file *kernel,
                       loader_write_fn write, void *ctx);

const char *loader_format_name(enum loader_format format);

#endif
