/* head.S - TestOS entry: arm64 Image header, drop from EL2, MMU on, per-CPU stack, into C. */
#include "config.h"

/* MAIR_EL1: attribute 0 Device-nGnRnE, attribute 1 Normal write-back (Arm ARM D17.2.97). */
#define MAIR_VALUE 0xff00
/*
 * TCR_EL1: T0SZ=31 (8 GiB of VA, walks start at level 1), inner/outer write-back walks,
 * inner shareable, 4K granule, TTBR1 walks disabled (EPD1), 32-bit PA (IPS=0).
 */
#define TCR_VALUE ((31 << 0) | (1 << 8) | (1 << 10) | (3 << 12) | (1 << 23))
/* SCTLR_EL1: RES1 bits, then M (MMU), C (data cache), I (instruction cache). */
#define SCTLR_VALUE (0x30d00800 | (1 << 0) | (1 << 2) | (1 << 12))
/* Level-1 block descriptors: valid block, AF, AttrIndx; devices never executable. */
#define BLOCK_DEVICE 0x0060000000000401
#define BLOCK_NORMAL 0x0000000000000705
/* The same normal memory open to EL0 (AP[2:1] = 01) and executable only there (PXN). */
#define BLOCK_EL0    0x0020000000000745

    .section .text.head, "ax"
    .globl _start
_start:
    b       primary_entry           /* code0 */
    .long   0                       /* code1 */
    .quad   0x80000                 /* text_offset: loaded at RAM base + 512 KiB */
    .quad   testos_image_size       /* image_size, bss and stacks included */
    .quad   0x2                     /* flags: little endian, 4K pages, base 2 MiB aligned */
    .quad   0, 0, 0                 /* res2-res4 */
    .ascii  "ARM\x64"               /* magic */
    .long   0                       /* res5 */

primary_entry:
    mov     x19, x0                 /* the DTB address (Linux boot protocol) */
    mov     x20, #0                 /* CPU index */
    b       cpu_entry

/* PSCI CPU_ON target: x0 = context_id = the CPU's index in TestOS's table. */
    .globl  secondary_entry
secondary_entry:
    mov     x19, #0
    mov     x20, x0
    cmp     x20, #TESTOS_MAX_CPUS
    b.hs    halt

cpu_entry:
    msr     daifset, #0xf
    bl      drop_to_el1
    adrp    x0, testos_stacks
    add     x0, x0, :lo12:testos_stacks
    add     x1, x20, #1
    mov     x2, #TESTOS_STACK_SIZE
    madd    x0, x1, x2, x0
    mov     sp, x0
    msr     tpidr_el1, x20
    bl      mmu_enable
    cbnz    x20, 2f

    adrp    x0, __bss_start
    add     x0, x0, :lo12:__bss_start
    adrp    x1, __bss_end
    add     x1, x1, :lo12:__bss_end
1:  cmp     x0, x1
    b.hs    3f
    stp     xzr, xzr, [x0], #16
    b       1b
3:  mov     x0, x19
    bl      testos_main
    b       halt

2:  mov     x0, x20
    bl      smp_secondary_main
halt:
    wfi
    b       halt

/*
 * TestOS is an EL1 OS. QEMU with virtualization=on starts it at EL2: make EL1 AArch64, give it
 * the physical counter and timer (CNTHCTL_EL2.EL1PCTEN/EL1PCEN), the GICv3 system registers
 * (ICC_SRE_EL2.Enable), real MPIDR/MIDR, and return to EL1h with interrupts masked.
 */
drop_to_el1:
    mrs     x0, CurrentEL
    cmp     x0, #(2 << 2)
    b.ne    1f
    mov     x0, #(1 << 31)          /* HCR_EL2.RW */
    msr     hcr_el2, x0
    mrs     x0, cnthctl_el2
    orr     x0, x0, #3
    msr     cnthctl_el2, x0
    msr     cntvoff_el2, xzr
    mrs     x0, midr_el1
    msr     vpidr_el2, x0
    mrs     x0, mpidr_el1
    msr     vmpidr_el2, x0
    mrs     x0, id_aa64pfr0_el1
    ubfx    x0, x0, #24, #4         /* GIC system register interface implemented? */
    cbz     x0, 2f
    mrs     x0, S3_4_C12_C9_5       /* ICC_SRE_EL2 */
    mov     x1, #0x9                /* SRE | Enable */
    orr     x0, x0, x1
    msr     S3_4_C12_C9_5, x0
    isb
2:  mov     x0, #0x3c5              /* EL1h, DAIF masked */
    msr     spsr_el2, x0
    msr     elr_el2, x30
    eret
1:  ret

/* Identity map (testos_pgtable), caches on. Runs on every CPU before it touches shared data. */
    .globl  mmu_enable
mmu_enable:
    ldr     x0, =MAIR_VALUE
    msr     mair_el1, x0
    ldr     x0, =TCR_VALUE
    msr     tcr_el1, x0
    adrp    x0, testos_pgtable
    add     x0, x0, :lo12:testos_pgtable
    msr     ttbr0_el1, x0
    isb
    tlbi    vmalle1
    ic      iallu
    dsb     nsh
    isb
    ldr     x0, =SCTLR_VALUE
    msr     sctlr_el1, x0
    isb
    ret

/*
 * 4 GiB identity-mapped in 1 GiB blocks: the first is QEMU virt's device space, the rest RAM.
 * Then the first GiB of RAM again at 4 GiB for EL0 (TESTOS_EL0_ALIAS; pmuprobe's EL0 code).
 */
    .section .rodata.pgtable, "a"
    .balign 4096
    .globl  testos_pgtable
testos_pgtable:
    .quad   0x00000000 | BLOCK_DEVICE
    .quad   0x40000000 | BLOCK_NORMAL
    .quad   0x80000000 | BLOCK_NORMAL
    .quad   0xc0000000 | BLOCK_NORMAL
    .quad   0x40000000 | BLOCK_EL0
    .quad   0, 0, 0

    .section .stacks, "aw", %nobits
    .balign 16
    .globl  testos_stacks
testos_stacks:
    .space  TESTOS_MAX_CPUS * TESTOS_STACK_SIZE
