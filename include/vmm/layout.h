/* layout.h - the IPA map every VM sees, shaped like QEMU virt (docs/guests.md). */
#ifndef VMM_LAYOUT_H
#define VMM_LAYOUT_H

/* Guest RAM starts here and runs for the manifest's memory size. */
#define GUEST_RAM_BASE 0x40000000UL

/* The emulated GIC: distributor at the base, GICv2 GICC at +0x10000, GICv3 GICR at +0xa0000. */
#define GUEST_GIC_BASE 0x08000000UL
#define GUEST_GIC_SIZE 0x01000000UL

/* The emulated PL011 console. */
#define GUEST_UART_BASE 0x09000000UL
#define GUEST_UART_SIZE 0x1000UL

/* The emulated PL031 RTC (QEMU virt: SPI 2). */
#define GUEST_RTC_BASE  0x09010000UL
#define GUEST_RTC_SIZE  0x1000UL
#define GUEST_RTC_INTID 34

/* Emulated virtio-mmio devices: slot i of a VM's virtio devices at BASE + i * SLOT_SIZE. The
 * slots without a device read as empty transports, as QEMU virt's 32 do. */
#define GUEST_VIRTIO_BASE      0x0a000000UL
#define GUEST_VIRTIO_SLOT_SIZE 0x200UL
#define GUEST_VIRTIO_SLOTS     32

/* Every VM's IPA space has at least this many bits (the hypervisor refuses smaller hosts). */
#define GUEST_IPA_MIN_BITS 40

#endif
