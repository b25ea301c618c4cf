/* config.h - TestOS's compile-time limits, shared by the C and assembly sources. */
#ifndef TESTOS_CONFIG_H
#define TESTOS_CONFIG_H

#define TESTOS_MAX_CPUS   8
#define TESTOS_MAX_VIRTIO 32
#define TESTOS_STACK_SIZE 16384

/* The NimbOS-like build (make TESTOS_NIMBOS=1, and testos-nimbos.bin) defines TESTOS_NIMBOS. */
#ifdef TESTOS_NIMBOS
#define TESTOS_NIMBOS_LIKE 1
#else
#define TESTOS_NIMBOS_LIKE 0
#endif

/* head.S's identity map: the first GiB is devices, the next three RAM (QEMU virt's layout). */
#define TESTOS_DEVICE_LIMIT 0x40000000UL
#define TESTOS_MAP_LIMIT    0x100000000UL
/* ... and the first GiB of RAM (0x40000000) again here, for EL0. */
#define TESTOS_EL0_ALIAS 0x100000000UL

/* The SVC that ends code run at EL0 by exception_el0_call (exception.c, pmuprobe_el0.S). */
#define EXCEPTION_SVC_EL0_DONE 0x7e7

/* Exception frame (vectors.S): x0-x30, ELR, SPSR, and CNTVCT read on entry. */
#define FRAME_SPSR  (32 * 8)
#define FRAME_STAMP (33 * 8)
#define FRAME_SIZE  (34 * 8)

#endif
