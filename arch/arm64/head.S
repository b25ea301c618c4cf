/* head.S - arm64 Image header and the first instructions of every CPU: EL setup, early MMU, stack. */
#include "arch/cpu.h"
#include "arch/memlayout.h"
#include "arch/sysreg.h"
#include "arch/mmu_defs.h"
#include "hw/el2.h"
#include "hw/pl011.h"

/* QEMU virt first PL011: only for a message before the device tree can be read. */
#define FALLBACK_UART_PA 0x09000000

    .section .text.head, "ax"
    .global _start
_start:
    /* arm64 Image header (Documentation/arm64/booting.rst): QEMU and U-Boot load us at
     * RAM base + text_offset and pass the DTB's physical address in x0. */
    b       primary_entry
    .word   0
    .quad   0x200000                /* text_offset: keeps the image 2 MiB aligned */
    .quad   _kernel_size            /* image_size, including BSS (linker script) */
    .quad   0xa                     /* flags: little endian, 4K pages, anywhere in RAM */
    .quad   0, 0, 0
    .ascii  "ARM\x64"
    .word   0

primary_entry:
    mov     x19, x0                 /* DTB physical address */
    mov     x20, #0                 /* logical CPU 0 */
    bl      el_setup
    /* Zero BSS (MMU off: physical addresses through PC-relative adrp). */
    adrp    x0, _bss_start
    add     x0, x0, :lo12:_bss_start
    adrp    x1, _bss_end
    add     x1, x1, :lo12:_bss_end
1:  cmp     x0, x1
    b.hs    2f
    stp     xzr, xzr, [x0], #16
    b       1b
2:  bl      early_tables
    adrp    x0, early_l1
    add     x0, x0, :lo12:early_l1
    bl      mmu_turn_on
    ldr     x0, =primary_high
    br      x0

/* PSCI CPU_ON lands here with the MMU off; x0 = context id = logical CPU number. */
    .global secondary_entry
secondary_entry:
    mov     x20, x0
    mov     x19, #0
    bl      el_setup
    adrp    x0, mmu_kernel_ttbr
    ldr     x0, [x0, :lo12:mmu_kernel_ttbr]
    bl      mmu_turn_on
    ldr     x0, =secondary_high
    br      x0

/* Running at the link address from here on. */
primary_high:
    bl      set_cpu_stack
    mov     x0, x19
    bl      kernel_main
    b       .

secondary_high:
    bl      set_cpu_stack
    mov     x0, x20
    bl      secondary_main
    b       .

/* sp = top of boot stack x20; TPIDR = &percpu_data[x20]; VBAR = vectors. Clobbers x0-x2. */
set_cpu_stack:
    ldr     x0, =boot_stacks
    mov     x1, #BOOT_STACK_SIZE
    madd    x0, x20, x1, x0
    add     sp, x0, x1
    mov     x29, #0                 /* terminate frame-pointer chain for backtraces */
    ldr     x0, =percpu_data
    mov     x1, #PERCPU_SIZE
    madd    x0, x20, x1, x0
    msr     SYSREG_TPIDR, x0
    ldr     x0, =exception_vectors
    msr     SYSREG_VBAR, x0
    isb
    ret

/*
 * el_setup: bring the CPU to the exception level this build runs at.
 * Native kernel: from EL2, set up EL2 minimally and drop to EL1.
 * Hypervisor: must already be at EL2 (QEMU virtualization=on).
 */
el_setup:
    mov     x21, x30
    mrs     x0, CurrentEL
    lsr     x0, x0, #2
#ifdef AVATAR_HV
    cmp     x0, #2
    b.ne    wrong_el
    /* EL2 owns physical interrupts (IMO/FMO/AMO): without them IRQs target EL1 and
     * are never taken while at EL2. RW: lower levels are AArch64. */
    ldr     x0, =(HCR_RW | HCR_IMO | HCR_FMO | HCR_AMO)
    msr     hcr_el2, x0
    mov     x0, #(CNTHCTL_EL1PCTEN | CNTHCTL_EL1PCEN) /* guests may use the physical counter/timer */
    msr     cnthctl_el2, x0
    msr     cntvoff_el2, xzr
    msr     vttbr_el2, xzr
    ldr     x0, =CPTR_EL2_RES1
    msr     cptr_el2, x0            /* no FP/SIMD traps */
    bl      gicv3_sre_el2
    ldr     x0, =SCTLR_EL2_RES1
    msr     sctlr_el2, x0
    isb
    ret     x21
wrong_el:
    /*
     * Hypervisor build started below EL2 (QEMU without virtualization=on). Nothing is set
     * up yet, so say why on QEMU virt's first UART (MMU off, physical address) and stop.
     */
    adr     x1, wrong_el_msg
    ldr     x2, =FALLBACK_UART_PA
1:  ldrb    w3, [x1], #1
    cbz     w3, 3f
2:  ldr     w4, [x2, #PL011_FR]     /* wait while the transmit FIFO is full */
    tbnz    w4, #PL011_FR_TXFF_SHIFT, 2b
    str     w3, [x2, #PL011_DR]
    b       1b
3:  wfi
    b       3b
#else
    cmp     x0, #2
    b.ne    1f
    ldr     x0, =HCR_RW
    msr     hcr_el2, x0
    mov     x0, #(CNTHCTL_EL1PCTEN | CNTHCTL_EL1PCEN) /* EL1 may use the physical counter and timer */
    msr     cnthctl_el2, x0
    msr     cntvoff_el2, xzr
    msr     vttbr_el2, xzr
    ldr     x0, =CPTR_EL2_RES1
    msr     cptr_el2, x0
    mrs     x0, midr_el1            /* EL1 reads of MIDR/MPIDR come from VPIDR/VMPIDR */
    msr     vpidr_el2, x0
    mrs     x0, mpidr_el1
    msr     vmpidr_el2, x0
    bl      gicv3_sre_el2
    ldr     x0, =SCTLR_EL1_RES1
    msr     sctlr_el1, x0
    mov     x0, #0x3c5              /* EL1h, DAIF masked */
    msr     spsr_el2, x0
    adr     x0, 1f
    msr     elr_el2, x0
    eret
1:  ldr     x0, =SCTLR_EL1_RES1
    msr     sctlr_el1, x0
    ldr     x0, =CPACR_FPEN
    msr     cpacr_el1, x0           /* FP/SIMD usable at EL0/EL1 (user programs) */
    isb
    ret     x21
#endif

/* If the CPU has the GICv3 system-register interface, enable it for EL2 and EL1. */
gicv3_sre_el2:
    mrs     x0, id_aa64pfr0_el1
    ubfx    x0, x0, #24, #4
    cbz     x0, 1f
    mrs     x0, S3_4_C12_C9_5       /* ICC_SRE_EL2 */
    mov     x1, #0x9                /* SRE | Enable (EL1 may use ICC_SRE_EL1) */
    orr     x0, x0, x1
    msr     S3_4_C12_C9_5, x0
    isb
1:  ret

/*
 * mmu_turn_on(x0 = PA of the kernel's top-level table). MAIR/TCR as in mmu_defs.h.
 * At EL1 the identity map early_l1 also goes in TTBR0 so the instruction after the
 * SCTLR write (still at its physical address) is translated.
 */
mmu_turn_on:
    ldr     x1, =MAIR_VALUE
    msr     SYSREG_MAIR, x1
    mrs     x1, id_aa64mmfr0_el1
    and     x1, x1, #0x7            /* PARange -> IPS/PS */
    cmp     x1, #5
    mov     x2, #5
    csel    x1, x1, x2, ls          /* 48-bit PA at most with 4K pages (no LPA) */
#ifdef AVATAR_HV
    ldr     x2, =TCR_EL2_VALUE
    orr     x2, x2, x1, lsl #16
    msr     tcr_el2, x2
    msr     ttbr0_el2, x0
    isb
    tlbi    alle2
    dsb     nsh
    isb
    ldr     x1, =SCTLR_EL2_MMU
    msr     sctlr_el2, x1
    isb
#else
    ldr     x2, =TCR_EL1_VALUE
    orr     x2, x2, x1, lsl #32
    msr     tcr_el1, x2
    adrp    x1, early_l1
    add     x1, x1, :lo12:early_l1
    msr     ttbr0_el1, x1
    msr     ttbr1_el1, x0
    isb
    tlbi    vmalle1
    dsb     nsh
    isb
    ldr     x1, =SCTLR_EL1_MMU
    msr     sctlr_el1, x1
    isb
#endif
    ret

/*
 * early_tables: one level-1 table of 1 GiB blocks covering PA 0-4 GiB:
 * the first GiB (MMIO on virt) as device memory, the rest as normal memory.
 * It serves only until mmu_init() builds the real map from the device tree.
 */
early_tables:
    adrp    x0, early_l1
    add     x0, x0, :lo12:early_l1
    ldr     x1, =EARLY_DEVICE_BLOCK
    str     x1, [x0]
    ldr     x1, =EARLY_NORMAL_BLOCK
    mov     x2, #1
1:  orr     x3, x1, x2, lsl #30
    str     x3, [x0, x2, lsl #3]
    add     x2, x2, #1
    cmp     x2, #4
    b.lo    1b
    dsb     sy
    ret

wrong_el_msg:
    .asciz  "\r\nAvatar hypervisor: started below EL2; run QEMU with -M virt,virtualization=on\r\n"
    .balign 4

    .section .bss
    .balign 4096
    .global early_l1
early_l1:
    .space  4096
    .balign 16
    .global boot_stacks
boot_stacks:
    .space  BOOT_STACK_SIZE * MAX_CPUS
