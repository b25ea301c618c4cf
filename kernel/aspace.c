/* aspace.c - user address spaces: brk, mmap, munmap, mprotect, page faults, loading, fork. */
#include "kernel/aspace.h"
#include "kernel/vma.h"
#include "kernel/kmalloc.h"
#include "kernel/page_alloc.h"
#include "lib/errno.h"
#include "lib/string.h"

#define PAGE_MASK (PAGE_SIZE - 1)
#define HEAP_MAX  (16UL << 30) /* the break may grow this far; mmap keeps out of the way */

static uint64_t page_up(uint64_t a)
{
    return (a + PAGE_MASK) & ~PAGE_MASK;
}

struct aspace *aspace_create(void)
{
    struct aspace *as = kzalloc(sizeof(*as));

    if (!as)
        return NULL;
    as->uvm = uvm_create();
    if (!as->uvm) {
        kfree(as);
        return NULL;
    }
    as->uvm->owner = as;
    spin_init(&as->lock);
    list_init(&as->vmas);
    as->users = 1;
    return as;
}

void aspace_get(struct aspace *as)
{
    __atomic_add_fetch(&as->users, 1, __ATOMIC_ACQ_REL);
}

void aspace_put(struct aspace *as)
{
    if (__atomic_sub_fetch(&as->users, 1, __ATOMIC_ACQ_REL))
        return;
    while (!list_empty(&as->vmas)) {
        struct vma *v = vma_of(as->vmas.next);
        list_del(&v->link);
        kfree(v);
    }
    vma_commit_uncharge(as->committed);
    as->uvm->owner = NULL;
    uvm_release(as->uvm);
    kfree(as);
}

void aspace_activate(struct aspace *as)
{
    uvm_activate(as->uvm);
}

/* Would removing [start, end) cut a region in two? The region count is bounded (like Linux's
 * max_map_count), so such a cut may be refused with ENOMEM. */
static bool vma_carve_splits(struct aspace *as, uint64_t start, uint64_t end)
{
    struct vma *v = vma_find(as, start);

    return v && v->start < start && v->end > end;
}

static bool user_range(uint64_t start, uint64_t len)
{
    return !(start & PAGE_MASK) && len && start >= ASPACE_MIN_ADDR && uvm_range_ok(start, len);
}

int aspace_map_fixed(struct aspace *as, uint64_t start, uint64_t len, unsigned int prot,
                     enum vma_kind kind)
{
    len = page_up(len);
    if (!user_range(start, len))
        return -EINVAL;
    spin_lock(&as->lock);
    int err = vma_range_free(as, start, start + len) ? vma_add(as, start, start + len, prot, kind)
                                                     : -EEXIST;
    spin_unlock(&as->lock);
    return err;
}

int64_t aspace_mmap(struct aspace *as, uint64_t addr, uint64_t len, unsigned int prot, bool fixed,
                    bool noreplace)
{
    if (!len || len > UVM_USER_END)
        return -ENOMEM;
    len = page_up(len);
    if (fixed && !user_range(addr, len))
        return -EINVAL;
    struct vma *spare = kzalloc(sizeof(*spare));
    if (!spare)
        return -ENOMEM;
    spin_lock(&as->lock);
    int64_t ret;
    if (fixed && !vma_range_free(as, addr, addr + len)) {
        if (noreplace ||
            (vma_carve_splits(as, addr, addr + len) && as->nvmas + 2 > ASPACE_MAX_VMAS)) {
            ret = noreplace ? -EEXIST : -ENOMEM;
            goto out;
        }
        vma_carve(as, addr, addr + len, &spare);
    } else if (!fixed) {
        if (!(addr && user_range(addr & ~PAGE_MASK, len) &&
              vma_range_free(as, addr & ~PAGE_MASK, (addr & ~PAGE_MASK) + len)))
            addr = vma_find_gap(as, len, as->brk_base + HEAP_MAX);
        addr &= ~PAGE_MASK;
        if (!addr) {
            ret = -ENOMEM;
            goto out;
        }
    }
    ret = vma_add(as, addr, addr + len, prot, VMA_MMAP);
    if (!ret)
        ret = (int64_t)addr;
out:
    spin_unlock(&as->lock);
    kfree(spare);
    return ret;
}

int aspace_munmap(struct aspace *as, uint64_t addr, uint64_t len)
{
    if ((addr & PAGE_MASK) || !len || !uvm_range_ok(addr, page_up(len)))
        return -EINVAL;
    struct vma *spare = kzalloc(sizeof(*spare));
    if (!spare)
        return -ENOMEM;
    spin_lock(&as->lock);
    int err = vma_carve_splits(as, addr, addr + page_up(len)) && as->nvmas >= ASPACE_MAX_VMAS
                  ? -ENOMEM
                  : 0;
    if (!err)
        vma_carve(as, addr, addr + page_up(len), &spare);
    spin_unlock(&as->lock);
    kfree(spare);
    return err;
}

int aspace_discard(struct aspace *as, uint64_t addr, uint64_t len)
{
    if (addr & PAGE_MASK || !uvm_range_ok(addr, page_up(len)))
        return -EINVAL;
    spin_lock(&as->lock);
    as->resident -= uvm_unmap(as->uvm, addr, addr + page_up(len));
    spin_unlock(&as->lock);
    return 0;
}

int aspace_mprotect(struct aspace *as, uint64_t addr, uint64_t len, unsigned int prot)
{
    uint64_t end = addr + page_up(len);

    if ((addr & PAGE_MASK) || !uvm_range_ok(addr, page_up(len)))
        return -EINVAL;
    if (!len)
        return 0;
    struct vma *spare[2] = {kzalloc(sizeof(struct vma)), kzalloc(sizeof(struct vma))};
    int err = 0;
    if (!spare[0] || !spare[1]) {
        err = -ENOMEM;
        goto out_free;
    }
    spin_lock(&as->lock);
    if (as->nvmas + 2 > ASPACE_MAX_VMAS) {
        err = -ENOMEM;
        goto out;
    }
    /* Like Linux: the whole range must be mapped, else -ENOMEM and nothing changes. */
    for (uint64_t a = addr; a < end;) {
        struct vma *v = vma_find(as, a);
        if (!v) {
            err = -ENOMEM;
            goto out;
        }
        a = v->end;
    }
    for (uint64_t a = addr; a < end;) {
        struct vma *v = vma_find(as, a);
        if (v->start < a) {
            vma_split(as, v, a, spare[0]);
            spare[0] = NULL;
            v = vma_of(v->link.next);
        }
        if (v->end > end) {
            vma_split(as, v, end, spare[1]);
            spare[1] = NULL;
        }
        v->prot = prot;
        uvm_protect(as->uvm, v->start, v->end, prot);
        a = v->end;
    }
out:
    spin_unlock(&as->lock);
out_free:
    kfree(spare[0]);
    kfree(spare[1]);
    return err;
}

void aspace_set_brk_base(struct aspace *as, uint64_t base)
{
    spin_lock(&as->lock);
    as->brk_base = page_up(base);
    as->brk = as->brk_base;
    spin_unlock(&as->lock);
}

uint64_t aspace_brk(struct aspace *as, uint64_t newbrk)
{
    struct vma *spare = NULL;

    spin_lock(&as->lock);
    uint64_t old_top = page_up(as->brk), new_top = page_up(newbrk);
    if (newbrk < as->brk_base || newbrk > as->brk_base + HEAP_MAX)
        goto out;
    if (new_top > old_top) {
        if (!vma_range_free(as, old_top, new_top) ||
            vma_add(as, old_top, new_top, UVM_READ | UVM_WRITE, VMA_HEAP))
            goto out;
    } else if (new_top < old_top) {
        /* The heap region ends at old_top: cutting its tail never splits it in two. */
        vma_carve(as, new_top, old_top, &spare);
    }
    as->brk = newbrk;
out:
    newbrk = as->brk;
    spin_unlock(&as->lock);
    return newbrk;
}

/* A zeroed page mapped at va for region v. Caller holds as->lock. */
static int fault_zero(struct aspace *as, struct vma *v, uint64_t va, uint64_t *pte)
{
    uint64_t pa = page_alloc_zeroed(0);

    if (!pa)
        return -ENOMEM;
    if (v->prot & UVM_EXEC)
        uvm_sync_icache(pa);
    uvm_set_pte(as->uvm, va, pte, uvm_pte_make(pa, v->prot));
    as->resident++;
    return 0;
}

/* Write to a read-only page of a writable region: it is shared after fork. */
static int fault_cow(struct aspace *as, struct vma *v, uint64_t va, uint64_t *pte)
{
    uint64_t old = uvm_pte_pa(*pte);

    if (page_ref_count(old) == 1) {
        /* The other sharers are gone: the page is ours alone, just allow writes again. */
        uvm_set_pte(as->uvm, va, pte, uvm_pte_make(old, v->prot));
        return 0;
    }
    uint64_t pa = page_alloc(0);
    if (!pa)
        return -ENOMEM;
    memcpy(phys_to_virt(pa), phys_to_virt(old), PAGE_SIZE);
    uvm_set_pte(as->uvm, va, pte, uvm_pte_make(pa, v->prot));
    uvm_page_unref(old);
    return 0;
}

int aspace_fault(struct aspace *as, uint64_t va, unsigned int access)
{
    int err = 0;

    va &= ~PAGE_MASK;
    spin_lock(&as->lock);
    struct vma *v = vma_find(as, va);
    if (!v || !(v->prot & access)) {
        err = -EFAULT;
        goto out;
    }
    uint64_t *pte = uvm_walk(as->uvm, va, true);
    if (!pte)
        err = -ENOMEM;
    else if (!uvm_pte_present(*pte))
        err = fault_zero(as, v, va, pte);
    else if ((access & UVM_WRITE) && !(uvm_pte_prot(*pte) & UVM_WRITE))
        err = fault_cow(as, v, va, pte);
    /* Otherwise another CPU resolved it first: the access just retries. */
out:
    spin_unlock(&as->lock);
    return err;
}

int aspace_write(struct aspace *as, uint64_t va, const void *data, size_t len)
{
    int err = 0;

    spin_lock(&as->lock);
    while (len) {
        uint64_t off = va & PAGE_MASK, n = PAGE_SIZE - off;
        struct vma *v = vma_find(as, va);
        uint64_t *pte = v ? uvm_walk(as->uvm, va & ~PAGE_MASK, true) : NULL;
        if (!v || !pte) {
            err = v ? -ENOMEM : -EFAULT;
            break;
        }
        if (!uvm_pte_present(*pte) && (err = fault_zero(as, v, va & ~PAGE_MASK, pte)))
            break;
        if (n > len)
            n = len;
        uint64_t pa = uvm_pte_pa(*pte);
        memcpy((char *)phys_to_virt(pa) + off, data, n);
        if (v->prot & UVM_EXEC)
            uvm_sync_icache(pa);
        data = (const char *)data + n;
        va += n;
        len -= n;
    }
    spin_unlock(&as->lock);
    return err;
}

int aspace_fork(struct aspace *parent, struct aspace **out)
{
    struct aspace *child = aspace_create();
    int err = 0;

    if (!child)
        return -ENOMEM;
    spin_lock(&parent->lock);
    if (!vma_commit_charge(parent->committed)) {
        spin_unlock(&parent->lock);
        aspace_put(child);
        return -ENOMEM;
    }
    child->committed = parent->committed;
    child->brk_base = parent->brk_base;
    child->brk = parent->brk;
    for (struct list_node *n = parent->vmas.next; n != &parent->vmas && !err; n = n->next) {
        struct vma *v = vma_of(n), *c = kmalloc(sizeof(*c));
        if (!c) {
            err = -ENOMEM;
            break;
        }
        *c = *v;
        list_add_tail(&child->vmas, &c->link);
        child->nvmas++;
        err = uvm_share_range(child->uvm, parent->uvm, v->start, v->end, v->prot & UVM_WRITE);
    }
    child->resident = parent->resident;
    /* The parent's writable pages just became read-only: no CPU may keep writing them. */
    uvm_flush_all(parent->uvm);
    spin_unlock(&parent->lock);
    if (err) {
        aspace_put(child);
        return err;
    }
    *out = child;
    return 0;
}
