/* vm_dtb.h - builds a guest's device tree blob, shaped like QEMU virt, from the VM's configuration.
 */
#ifndef VMM_VM_DTB_H
#define VMM_VM_DTB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VM_DTB_MAX_CPUS        8 /* GICv2 targets at most 8 CPUs; MPIDR = index fits Aff0 */
#define VM_DTB_MAX_VIRTIO      8
#define VM_DTB_MAX_PASSTHROUGH 8

/** What the guest's device tree describes; every address is a guest physical address (IPA). */
struct vm_dtb_config {
    uint64_t ram_base, ram_size;
    unsigned ncpus;                    /* 1..VM_DTB_MAX_CPUS, MPIDR (reg) = cpu index */
    int gic_version;                   /* 2 or 3 */
    uint64_t gicd_base, gicc_base;     /* v2: GICD 0x1000 bytes, GICC 0x2000 */
    uint64_t gicr_base;                /* v3: GICD 0x10000, GICR 0x20000 per cpu */
    uint64_t uart_base;                /* PL011, 0x1000 bytes */
    uint32_t uart_intid;               /* SPI INTID, 32..1019 */
    uint64_t rtc_base;                 /* PL031, 0x1000 bytes; 0 for none */
    uint32_t rtc_intid;                /* its SPI INTID */
    const char *bootargs;              /* NULL or "" -> no bootargs property */
    uint64_t initrd_start, initrd_end; /* 0, 0 -> none; else inside RAM */
    unsigned nvirtio;
    struct {
        uint64_t base, size;
        uint32_t intid;          /* SPI INTID */
    } virtio[VM_DTB_MAX_VIRTIO]; /* "virtio,mmio" nodes */
    unsigned npassthrough;
    struct {
        uint64_t base, size;
        uint32_t intid; /* SPI INTID, 0 for none */
        const char *compatible;
        bool primecell; /* an AMBA PrimeCell: also "arm,primecell" and its apb_pclk */
    } passthrough[VM_DTB_MAX_PASSTHROUGH];
    const char *psci_method; /* "hvc" or "smc" */
};

/* Validates cfg and writes its DTB into buf[len]. Returns 0 with the blob's size in *out_len,
   -EINVAL for a bad configuration or -ENOSPC if len is too small, with a one-line message in
   err[errlen]. */
int vm_dtb_build(const struct vm_dtb_config *cfg, void *buf, size_t len, size_t *out_len, char *err,
                 size_t errlen);

/* Re-serialises the user's DTB in[in_len] into out[out_len] with the VM's memory (one node,
   replacing every device_type "memory" node), CPU nodes (reg >= ncpus dropped, one required for
   each vCPU's MPIDR), /chosen bootargs and initrd, and /psci method; everything else is copied
   verbatim. Only those fields of cfg are used. Returns 0 with the blob's size in *out_size,
   -EINVAL for a bad blob or configuration or -ENOSPC if out_len is too small, with a one-line
   message in err[errlen]. */
int vm_dtb_patch(const void *in, size_t in_len, const struct vm_dtb_config *cfg, void *out,
                 size_t out_len, size_t *out_size, char *err, size_t errlen);

#endif
