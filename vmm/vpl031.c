/* vpl031.c - a guest's PL031 RTC: the host's wall clock plus its own offset, and the match alarm.
 */
#include "vmm/vpl031.h"

#include "lib/errno.h"

static uint32_t dr_now(const struct vpl031 *r)
{
    return (uint32_t)r->ops->now(r->ctx) + r->offset;
}

/* The line follows MIS (TRM 2.2.3: RTCINTR is the masked status). Lock held. */
static void update_line(struct vpl031 *r)
{
    bool level = (r->ris & r->imsc) != 0;

    if (level != r->irq_line) {
        r->irq_line = level;
        r->ops->set_irq(r->ctx, level);
    }
}

/* Lock held: raise RIS if DR went past MR since last_dr (the counter wraps, so does this). */
static void check_match(struct vpl031 *r)
{
    uint32_t dr = dr_now(r);

    if (dr != r->last_dr && (uint32_t)(r->mr - r->last_dr - 1) < (uint32_t)(dr - r->last_dr))
        r->ris |= PL031_INT_BIT;
    r->last_dr = dr;
}

/* Lock held: a new MR or DR; as on QEMU, a match with the current count fires at once. */
static void rearm(struct vpl031 *r)
{
    r->last_dr = dr_now(r);
    if (r->mr == r->last_dr)
        r->ris |= PL031_INT_BIT;
}

void vpl031_init(struct vpl031 *r, const struct vpl031_ops *ops, void *ctx)
{
    r->ops = ops;
    r->ctx = ctx;
    spin_init(&r->lock);
    r->offset = 0;
    r->mr = r->lr = r->imsc = r->ris = 0;
    r->irq_line = false;
    r->last_dr = dr_now(r);
}

bool vpl031_alarm(struct vpl031 *r, uint64_t *host_seconds)
{
    unsigned long flags = spin_lock_irqsave(&r->lock);
    uint64_t now = r->ops->now(r->ctx);
    uint32_t ahead = r->mr - ((uint32_t)now + r->offset); /* seconds until DR == MR, mod 2^32 */
    bool armed = r->imsc && !r->ris;

    if (armed)
        *host_seconds = now + (ahead ? ahead : 1ull << 32);
    spin_unlock_irqrestore(&r->lock, flags);
    return armed;
}

void vpl031_update(struct vpl031 *r)
{
    unsigned long flags = spin_lock_irqsave(&r->lock);

    check_match(r);
    update_line(r);
    spin_unlock_irqrestore(&r->lock, flags);
}

static uint32_t id_byte(uint64_t offset)
{
    unsigned i = (unsigned)(offset - PL031_ID_BASE) / 4;
    uint32_t id = i < 4 ? PL031_PERIPH_ID : PL031_PCELL_ID;

    return (id >> (8 * (i % 4))) & 0xff;
}

static uint32_t reg_read(struct vpl031 *r, uint64_t reg)
{
    switch (reg) {
    case PL031_DR: return dr_now(r);
    case PL031_MR: return r->mr;
    case PL031_LR: return r->lr;
    case PL031_CR: return 1; /* always counting: QEMU's PL031 has no stop either */
    case PL031_IMSC: return r->imsc;
    case PL031_RIS: return r->ris;
    case PL031_MIS: return r->ris & r->imsc;
    default: return reg >= PL031_ID_BASE && reg < PL031_SIZE ? id_byte(reg) : 0;
    }
}

int vpl031_read(struct vpl031 *r, uint64_t offset, unsigned size, uint64_t *val)
{
    if ((size != 1 && size != 2 && size != 4) || offset % size || offset >= PL031_SIZE)
        return -EINVAL;
    unsigned long flags = spin_lock_irqsave(&r->lock);
    check_match(r);
    update_line(r);
    uint32_t word = reg_read(r, offset & ~3UL);
    spin_unlock_irqrestore(&r->lock, flags);
    word >>= 8 * (offset & 3);
    *val = size == 4 ? word : word & ((1u << (8 * size)) - 1);
    return 0;
}

int vpl031_write(struct vpl031 *r, uint64_t offset, unsigned size, uint64_t val)
{
    uint32_t v = (uint32_t)val;

    if ((size != 1 && size != 2 && size != 4) || offset % size || offset >= PL031_SIZE)
        return -EINVAL;
    if (size < 4)
        v &= (1u << (8 * size)) - 1;
    unsigned long flags = spin_lock_irqsave(&r->lock);
    check_match(r);
    switch (offset) {
    case PL031_MR:
        r->mr = v;
        rearm(r);
        break;
    case PL031_LR:
        /* Only this guest's clock moves: the offset to the host's seconds changes. */
        r->lr = v;
        r->offset = v - (uint32_t)r->ops->now(r->ctx);
        rearm(r);
        break;
    case PL031_IMSC: r->imsc = v & PL031_INT_BIT; break;
    case PL031_ICR: r->ris &= ~(v & PL031_INT_BIT); break;
    default: break; /* DR, CR, the status and ID registers: read only or fixed */
    }
    update_line(r);
    if (offset == PL031_MR || offset == PL031_LR || offset == PL031_IMSC || offset == PL031_ICR)
        r->ops->alarm_changed(r->ctx);
    spin_unlock_irqrestore(&r->lock, flags);
    return 0;
}
