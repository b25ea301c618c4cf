/* manifest.h - what a guest is: the model shared by the built-in table and guest.cfg files. */
#ifndef VMM_MANIFEST_H
#define VMM_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/vswitch.h"

#define GUEST_NAME_MAX     32  /* bytes, NUL included */
#define GUEST_PATH_MAX     256 /* bytes, NUL included */
#define GUEST_BOOTARGS_MAX 512 /* bytes, NUL included */
#define GUEST_MAX_DEVICES  8
#define GUEST_SMP_MAX      8
#define GUEST_MEMORY_MIN   (4UL << 20)
#define GUEST_MEMORY_MAX   (16UL << 30)
#define GUEST_MEMORY_ALIGN (2UL << 20) /* stage-2 maps guest RAM with 2 MiB blocks */

#define MANIFEST_FILE_MAX (64 << 10) /* a guest.cfg larger than this is refused */
#define MANIFEST_LINE_MAX 1024       /* bytes per line, line break excluded */
#define MANIFEST_ERR_MAX  384        /* a buffer this large holds any parser message */

/* Passthrough SPIs: GIC INTIDs 32..1019 (Arm GIC architecture, "INTID ranges"). */
#define GUEST_SPI_MIN                  32
#define GUEST_SPI_MAX                  1019
#define GUEST_PASSTHROUGH_DEFAULT_SIZE 0x1000UL

enum guest_device_kind {
    GUEST_DEV_NONE,
    GUEST_DEV_VIRTIO_BLK,  /* an emulated virtio-blk disk backed by an image file */
    GUEST_DEV_PASSTHROUGH, /* a host MMIO range (and SPI) given to the guest at the same address */
    GUEST_DEV_VIRTIO_NET,  /* an emulated virtio-net NIC on one of the hypervisor's switches */
};

/* What a guest access outside its RAM and devices does (`on_fault =`). */
enum guest_fault_policy {
    GUEST_FAULT_INJECT, /* a synchronous external abort into the guest, as hardware does */
    GUEST_FAULT_STOP,   /* stop the VM with a report */
};

/** One `device =` or `passthrough =` line. */
struct guest_device {
    enum guest_device_kind kind;
    char image[GUEST_PATH_MAX];        /* virtio-blk: the disk image, an absolute path */
    bool read_only;                    /* virtio-blk */
    char label[GUEST_NAME_MAX];        /* passthrough: what the range is, e.g. "virtio-mmio" */
    uint64_t base, size;               /* passthrough: host physical range, mapped at IPA == PA */
    uint32_t irq;                      /* passthrough: SPI INTID routed to the guest, 0 for none */
    bool has_mac;                      /* virtio-net: mac was given (else derived from the name) */
    uint8_t mac[6];                    /* virtio-net: a unicast address */
    char net_switch[VSWITCH_NAME_MAX]; /* virtio-net: the switch it joins */
};

/**
 * A guest. Paths are absolute (relative ones in a guest.cfg are resolved when it is parsed); an
 * empty string means "none". load_addr and entry 0 mean "the kernel format's default".
 */
struct guest_manifest {
    int id;
    char name[GUEST_NAME_MAX];
    char kernel_path[GUEST_PATH_MAX];
    char dtb_path[GUEST_PATH_MAX];
    char initrd_path[GUEST_PATH_MAX];
    uint64_t load_addr;
    uint64_t entry;
    uint32_t smp_cores;
    uint64_t memory_size;
    char bootargs[GUEST_BOOTARGS_MAX];
    enum guest_fault_policy on_fault;
    uint32_t ndevices;
    struct guest_device devices[GUEST_MAX_DEVICES];
};

/*
 * Parse a guest.cfg (text[0, len), any bytes) found at cfg_path into *out, then manifest_check
 * it. A missing name defaults to the directory holding the file. 0, or -EINVAL with
 * err = "<cfg_path>:<line>: <problem>" (no line number for a problem of the whole file).
 */
int manifest_parse(const char *text, size_t len, const char *cfg_path, struct guest_manifest *out,
                   char *err, size_t errlen);

/** Where in a manifest a problem lies, so the parser can name the guest.cfg line. */
struct manifest_where {
    const char *key; /* the guest.cfg key ("smp", "device", ...), "" for the whole manifest */
    int device;      /* index in devices[] for "device" and "passthrough", else -1 */
};

/*
 * Check every field of m and how they fit together (RAM, load address, entry, device ranges
 * against the guest's IPA map). 0, or -EINVAL with the problem in err and, if where is not
 * NULL, what it is about.
 */
int manifest_check(const struct guest_manifest *m, char *err, size_t errlen,
                   struct manifest_where *where);

/* A guest name: a letter, then letters, digits, '-' or '_', at most GUEST_NAME_MAX - 1 bytes. */
bool manifest_name_valid(const char *name);
/* Names are compared without regard to case ("Linux" and "linux" are the same guest). */
bool manifest_same_name(const char *a, const char *b);

const char *manifest_device_kind_name(enum guest_device_kind kind);
/* "inject" or "stop": the on_fault value as written in a guest.cfg. */
const char *manifest_fault_policy_name(enum guest_fault_policy policy);

#endif
