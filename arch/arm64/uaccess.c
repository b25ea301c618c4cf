/* uaccess.c - the kernel's access to user memory: range checks, the right TTBR0, fault exits. */
#include "arch/uvm.h"
#include "kernel/preempt.h"
#include "lib/errno.h"

/* uaccess.S */
long uaccess_copy_in(void *dst, uint64_t src, size_t n);
long uaccess_copy_out(uint64_t dst, const void *src, size_t n);
long uaccess_strncpy(char *dst, uint64_t src, size_t max);
long uaccess_read_u32(uint64_t addr, uint32_t *out);
extern char uaccess_text_start[], uaccess_text_end[], uaccess_fault[];

bool uvm_uaccess_pc(uint64_t pc)
{
    return pc >= (uintptr_t)uaccess_text_start && pc < (uintptr_t)uaccess_text_end;
}

void uvm_uaccess_fixup(struct trap_frame *tf)
{
    tf->elr = (uintptr_t)uaccess_fault;
}

/*
 * Run one user access with s in TTBR0: preemption is off so no other space can be installed on
 * this CPU meanwhile. Accesses are cut at page boundaries to keep those stretches short.
 */
static size_t uvm_chunk(uint64_t addr, size_t n)
{
    size_t room = PAGE_SIZE - (addr & (PAGE_SIZE - 1));

    return n < room ? n : room;
}

int uvm_copy_in(struct uvm_space *s, void *dst, uint64_t src, size_t n)
{
    if (!uvm_range_ok(src, n))
        return -EFAULT;
    while (n) {
        size_t c = uvm_chunk(src, n);
        preempt_disable();
        uvm_activate(s);
        long r = uaccess_copy_in(dst, src, c);
        preempt_enable();
        if (r)
            return -EFAULT;
        dst = (char *)dst + c;
        src += c;
        n -= c;
    }
    return 0;
}

int uvm_copy_out(struct uvm_space *s, uint64_t dst, const void *src, size_t n)
{
    if (!uvm_range_ok(dst, n))
        return -EFAULT;
    while (n) {
        size_t c = uvm_chunk(dst, n);
        preempt_disable();
        uvm_activate(s);
        long r = uaccess_copy_out(dst, src, c);
        preempt_enable();
        if (r)
            return -EFAULT;
        src = (const char *)src + c;
        dst += c;
        n -= c;
    }
    return 0;
}

long uvm_strncpy_in(struct uvm_space *s, char *dst, uint64_t src, size_t max)
{
    size_t done = 0;

    while (done < max) {
        if (src >= UVM_USER_END)
            return -EFAULT;
        size_t c = uvm_chunk(src, max - done);
        preempt_disable();
        uvm_activate(s);
        long r = uaccess_strncpy(dst + done, src, c);
        preempt_enable();
        if (r >= 0)
            return (long)done + r;
        if (r != -ENAMETOOLONG)
            return r;
        done += c;
        src += c;
    }
    return -ENAMETOOLONG;
}

int uvm_read_u32(struct uvm_space *s, uint64_t addr, uint32_t *out)
{
    if ((addr & 3) || !uvm_range_ok(addr, 4))
        return -EFAULT;
    preempt_disable();
    uvm_activate(s);
    long r = uaccess_read_u32(addr, out);
    preempt_enable();
    return r ? -EFAULT : 0;
}
