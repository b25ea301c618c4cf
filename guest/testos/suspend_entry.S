/* suspend_entry.S - PSCI CPU_SUSPEND to a power-down state, and the warm-boot entry it returns to. */

#define PSCI_CPU_SUSPEND64  0xc4000001
#define POWER_DOWN          0x10000 /* power_state: StateType 1, StateID 0 */
#define SAVED               (12 * 8)

/*
 * int64_t suspend_powerdown(bool smc): returns the call's result if it returns (an error, or a
 * power-down taken as standby), or 1 when the CPU came back through suspend_resume (x0 there is
 * the context_id: the stack holding the callee-saved registers).
 */
    .text
    .globl  suspend_powerdown
suspend_powerdown:
    sub     sp, sp, #SAVED
    stp     x19, x20, [sp, #16 * 0]
    stp     x21, x22, [sp, #16 * 1]
    stp     x23, x24, [sp, #16 * 2]
    stp     x25, x26, [sp, #16 * 3]
    stp     x27, x28, [sp, #16 * 4]
    stp     x29, x30, [sp, #16 * 5]
    mov     x9, x0
    ldr     x0, =PSCI_CPU_SUSPEND64
    mov     x1, #POWER_DOWN
    adr     x2, suspend_resume
    mov     x3, sp
    cbnz    x9, 1f
    hvc     #0
    b       suspend_restore
1:  smc     #0
    b       suspend_restore

/* Warm boot: MMU and caches off, x0 = context_id. */
suspend_resume:
    mov     sp, x0
    bl      mmu_enable
    mov     x0, #1
suspend_restore:
    ldp     x19, x20, [sp, #16 * 0]
    ldp     x21, x22, [sp, #16 * 1]
    ldp     x23, x24, [sp, #16 * 2]
    ldp     x25, x26, [sp, #16 * 3]
    ldp     x27, x28, [sp, #16 * 4]
    ldp     x29, x30, [sp, #16 * 5]
    add     sp, sp, #SAVED
    ret
