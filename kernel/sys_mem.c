/* sys_mem.c - memory system calls: brk, anonymous mmap/munmap, mprotect, madvise. */
#include "kernel/proc.h"
#include "kernel/syscall.h"
#include "lib/errno.h"

#define MAP_TYPE            0x0f
#define MAP_PRIVATE         0x02
#define MAP_FIXED           0x10
#define MAP_ANONYMOUS       0x20
#define MAP_FIXED_NOREPLACE 0x100000
#define PROT_ALL            (UVM_READ | UVM_WRITE | UVM_EXEC)
#define MADV_DONTNEED       4
#define MADV_FREE           8

static struct aspace *as(void)
{
    return proc_current()->as;
}

int64_t sys_brk(const uint64_t *a)
{
    return (int64_t)aspace_brk(as(), a[0]);
}

int64_t sys_mmap(const uint64_t *a)
{
    uint64_t addr = a[0], len = a[1], prot = a[2], flags = a[3];

    if (!len || (prot & ~(uint64_t)PROT_ALL) || (flags & MAP_TYPE) != MAP_PRIVATE)
        return -EINVAL; /* shared mappings are not supported */
    if (!(flags & MAP_ANONYMOUS))
        return -ENODEV; /* nor file mappings */
    bool noreplace = flags & MAP_FIXED_NOREPLACE;
    return aspace_mmap(as(), addr, len, (unsigned int)prot, (flags & MAP_FIXED) || noreplace,
                       noreplace);
}

int64_t sys_munmap(const uint64_t *a)
{
    return aspace_munmap(as(), a[0], a[1]);
}

int64_t sys_mprotect(const uint64_t *a)
{
    if (a[2] & ~(uint64_t)PROT_ALL)
        return -EINVAL;
    return aspace_mprotect(as(), a[0], a[1], (unsigned int)a[2]);
}

int64_t sys_madvise(const uint64_t *a)
{
    if ((a[0] & (PAGE_SIZE - 1)) || !uvm_range_ok(a[0], a[1]))
        return -EINVAL;
    switch (a[2]) {
    case 0: /* MADV_NORMAL, _RANDOM, _SEQUENTIAL, _WILLNEED: hints only */
    case 1:
    case 2:
    case 3:
    case MADV_FREE: /* the pages may be dropped; keeping them is allowed */ return 0;
    case MADV_DONTNEED: return aspace_discard(as(), a[0], a[1]);
    default: return -EINVAL;
    }
}
