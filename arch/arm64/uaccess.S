/* uaccess.S - copies to and from user memory with EL0's permissions, and their fault exit. */

/*
 * LDTR/STTR executed at EL1 are checked as if by EL0 (Arm ARM C6.2 "LDTR"), so a user pointer
 * into the kernel half, or a write to a read-only (copy-on-write) page, faults here like it would
 * in the program. kernel/fault.c resolves what it can (demand-zero, copy-on-write) and retries;
 * otherwise uvm_uaccess_fixup() resumes at uaccess_fault, which returns -EFAULT to the caller.
 * Every routine is a leaf that keeps nothing on the stack, so one fault exit serves them all.
 */

#define EFAULT 14
#define ENAMETOOLONG 36

    .text
    .balign 16
    .global uaccess_text_start
uaccess_text_start:

/* long uaccess_copy_in(void *dst, uint64_t user_src, size_t n): 0 or -EFAULT */
    .global uaccess_copy_in
    .type   uaccess_copy_in, %function
uaccess_copy_in:
    /* 64 bytes a round: eight LDTRs (no pair form exists) and four STPs. */
0:  cmp     x2, #64
    b.lo    1f
    ldtr    x3, [x1]
    ldtr    x4, [x1, #8]
    ldtr    x5, [x1, #16]
    ldtr    x6, [x1, #24]
    stp     x3, x4, [x0]
    stp     x5, x6, [x0, #16]
    ldtr    x3, [x1, #32]
    ldtr    x4, [x1, #40]
    ldtr    x5, [x1, #48]
    ldtr    x6, [x1, #56]
    stp     x3, x4, [x0, #32]
    stp     x5, x6, [x0, #48]
    add     x0, x0, #64
    add     x1, x1, #64
    sub     x2, x2, #64
    b       0b
1:  cmp     x2, #32
    b.lo    2f
    ldtr    x3, [x1]
    ldtr    x4, [x1, #8]
    ldtr    x5, [x1, #16]
    ldtr    x6, [x1, #24]
    stp     x3, x4, [x0]
    stp     x5, x6, [x0, #16]
    add     x0, x0, #32
    add     x1, x1, #32
    sub     x2, x2, #32
    b       1b
2:  cbz     x2, 3f
    ldtrb   w3, [x1]
    strb    w3, [x0], #1
    add     x1, x1, #1
    sub     x2, x2, #1
    b       2b
3:  mov     x0, #0
    ret
    .size   uaccess_copy_in, . - uaccess_copy_in

/* long uaccess_copy_out(uint64_t user_dst, const void *src, size_t n): 0 or -EFAULT */
    .global uaccess_copy_out
    .type   uaccess_copy_out, %function
uaccess_copy_out:
    /* 64 bytes a round: four LDPs and eight STTRs (no pair form exists). */
0:  cmp     x2, #64
    b.lo    1f
    ldp     x3, x4, [x1]
    ldp     x5, x6, [x1, #16]
    ldp     x7, x8, [x1, #32]
    ldp     x9, x10, [x1, #48]
    sttr    x3, [x0]
    sttr    x4, [x0, #8]
    sttr    x5, [x0, #16]
    sttr    x6, [x0, #24]
    sttr    x7, [x0, #32]
    sttr    x8, [x0, #40]
    sttr    x9, [x0, #48]
    sttr    x10, [x0, #56]
    add     x0, x0, #64
    add     x1, x1, #64
    sub     x2, x2, #64
    b       0b
1:  cmp     x2, #32
    b.lo    2f
    ldp     x3, x4, [x1]
    ldp     x5, x6, [x1, #16]
    sttr    x3, [x0]
    sttr    x4, [x0, #8]
    sttr    x5, [x0, #16]
    sttr    x6, [x0, #24]
    add     x0, x0, #32
    add     x1, x1, #32
    sub     x2, x2, #32
    b       1b
2:  cbz     x2, 3f
    ldrb    w3, [x1], #1
    sttrb   w3, [x0]
    add     x0, x0, #1
    sub     x2, x2, #1
    b       2b
3:  mov     x0, #0
    ret
    .size   uaccess_copy_out, . - uaccess_copy_out

/*
 * long uaccess_strncpy(char *dst, uint64_t user_src, size_t max): the string's length (its NUL
 * copied too), -ENAMETOOLONG if max bytes hold no NUL, or -EFAULT.
 */
    .global uaccess_strncpy
    .type   uaccess_strncpy, %function
uaccess_strncpy:
    mov     x4, #0
1:  cmp     x4, x2
    b.hs    2f
    ldtrb   w3, [x1]
    strb    w3, [x0, x4]
    cbz     w3, 3f
    add     x1, x1, #1
    add     x4, x4, #1
    b       1b
2:  mov     x0, #-ENAMETOOLONG
    ret
3:  mov     x0, x4
    ret
    .size   uaccess_strncpy, . - uaccess_strncpy

/* long uaccess_read_u32(uint64_t user_addr, uint32_t *out): 0 or -EFAULT; one 32-bit access */
    .global uaccess_read_u32
    .type   uaccess_read_u32, %function
uaccess_read_u32:
    ldtr    w2, [x0]
    str     w2, [x1]
    mov     x0, #0
    ret
    .size   uaccess_read_u32, . - uaccess_read_u32

    .global uaccess_fault
uaccess_fault:
    mov     x0, #-EFAULT
    ret

    .global uaccess_text_end
uaccess_text_end:
