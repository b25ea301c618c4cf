/* vpl011.c - an emulated PL011 UART: registers, the receive FIFO and the interrupt line. */
#include "vmm/vpl011.h"

#include "hw/pl011.h"
#include "lib/errno.h"

/* Writable bits; the rest are reserved and read as zero (TRM 3.3.4-3.3.15). */
#define ILPR_MASK  0xffu
#define IBRD_MASK  0xffffu
#define FBRD_MASK  0x3fu
#define LCR_H_MASK 0xffu
#define CR_MASK    0xff87u /* bits 6:3 are reserved in r1p5 */
#define IFLS_MASK  0x3fu
#define DMACR_MASK 0x7u

/*
 * PeriphID0-3 then PCellID0-3, the values QEMU's pl011 reports (part 0x011, designer ARM, revision
 * field 1). Linux sizes its FIFOs by that revision (16 bytes below 3): harmless here, it drains the
 * receive FIFO until RXFE and transmission never fills.
 */
static const uint8_t id_regs[8] = {0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1};

/*
 * Raw interrupt status. There is no timing model, so the receive-timeout condition (data waiting,
 * nothing new for 32 bit periods) holds as soon as the FIFO is not empty: Linux's amba-pl011 takes
 * a burst shorter than the trigger level through RTIS. Transmission is instant, so the transmit
 * FIFO is always at or below its trigger level and TXRIS stays set (TRM 2.8.2); Linux unmasks TXIM
 * only while it has data queued and writes DR until TXFF, which never sets, so it drains at once.
 */
static uint32_t vpl011_ris(const struct vpl011 *u)
{
    uint32_t ris = PL011_INT_TX | u->ris_oe;

    if (u->rx_count)
        ris |= PL011_INT_RX | PL011_INT_RT;
    return ris;
}

static unsigned long vpl011_lock(struct vpl011 *u)
{
    return spin_lock_irqsave(&u->lock);
}

/* UARTINTR: the masked interrupt status is not zero (TRM 2.9). */
static bool vpl011_level(const void *dev)
{
    const struct vpl011 *u = dev;

    return (vpl011_ris(u) & u->imsc) != 0;
}

/* Release the lock and bring the line to the level it has now. */
static void vpl011_unlock_sync(struct vpl011 *u, unsigned long flags)
{
    virq_line_unlock(&u->irq, flags, vpl011_level, u);
}

static void vpl011_reset_locked(struct vpl011 *u)
{
    u->rx_head = 0;
    __atomic_store_n(&u->rx_count, 0, __ATOMIC_RELAXED);
    u->rsr = 0;
    u->ris_oe = 0;
    u->ilpr = 0;
    u->ibrd = 0;
    u->fbrd = 0;
    u->lcr_h = 0;
    u->cr = PL011_CR_TXE | PL011_CR_RXE; /* TRM 3.3.8 */
    u->ifls = 0x12;                      /* both trigger levels at half full, TRM 3.3.9 */
    u->imsc = 0;
    u->dmacr = 0;
}

void vpl011_init(struct vpl011 *u, const struct vpl011_ops *ops, void *ctx)
{
    u->ops = ops;
    u->ctx = ctx;
    spin_init(&u->lock);
    virq_line_init(&u->irq, &u->lock, ops->set_irq, ctx);
    vpl011_reset_locked(u);
}

void vpl011_reset(struct vpl011 *u)
{
    unsigned long flags = vpl011_lock(u);

    vpl011_reset_locked(u);
    vpl011_unlock_sync(u, flags);
}

static bool vpl011_access_ok(uint64_t offset, unsigned size)
{
    return (size == 1 || size == 2 || size == 4) && offset < PL011_SIZE &&
           (offset & (size - 1)) == 0;
}

static uint32_t vpl011_size_mask(unsigned size)
{
    return size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

static bool vpl011_rx_put(struct vpl011 *u, uint8_t byte)
{
    if (u->rx_count == VPL011_RX_FIFO_DEPTH)
        return false;
    u->rx_fifo[(u->rx_head + u->rx_count) % VPL011_RX_FIFO_DEPTH] = byte;
    __atomic_store_n(&u->rx_count, u->rx_count + 1, __ATOMIC_RELAXED); /* FR reads it unlocked */
    return true;
}

static uint8_t vpl011_rx_pop(struct vpl011 *u)
{
    uint8_t byte;

    if (!u->rx_count)
        return 0;
    byte = u->rx_fifo[u->rx_head];
    u->rx_head = (u->rx_head + 1) % VPL011_RX_FIFO_DEPTH;
    __atomic_store_n(&u->rx_count, u->rx_count - 1, __ATOMIC_RELAXED);
    return byte;
}

/* FR for a FIFO holding count bytes: TX is instant, so always empty. */
static uint32_t vpl011_fr(unsigned count)
{
    return PL011_FR_TXFE | (count ? 0 : PL011_FR_RXFE) |
           (count == VPL011_RX_FIFO_DEPTH ? PL011_FR_RXFF : 0);
}

/* The 32-bit register at reg; a DR read pops the FIFO only if it reads the data byte (lane 0). */
static uint32_t vpl011_reg_read(struct vpl011 *u, uint64_t reg, bool data_lane)
{
    switch (reg) {
    case PL011_DR: return data_lane ? vpl011_rx_pop(u) : 0; /* error bits 11:8 are never set */
    case PL011_RSR: return u->rsr;
    case PL011_FR: return vpl011_fr(u->rx_count);
    case PL011_ILPR: return u->ilpr;
    case PL011_IBRD: return u->ibrd;
    case PL011_FBRD: return u->fbrd;
    case PL011_LCR_H: return u->lcr_h;
    case PL011_CR: return u->cr;
    case PL011_IFLS: return u->ifls;
    case PL011_IMSC: return u->imsc;
    case PL011_RIS: return vpl011_ris(u);
    case PL011_MIS: return vpl011_ris(u) & u->imsc;
    case PL011_DMACR: return u->dmacr;
    default: return reg >= PL011_ID_FIRST ? id_regs[(reg - PL011_ID_FIRST) / 4] : 0;
    }
}

int vpl011_read(struct vpl011 *u, uint64_t offset, unsigned size, uint64_t *val)
{
    unsigned shift = (offset & 3) * 8;
    unsigned long flags;

    if (!vpl011_access_ok(offset, size))
        return -EINVAL;
    /* FR, which drivers poll while they wait, reads one field: no lock. */
    if ((offset & ~3UL) == PL011_FR) {
        *val = (vpl011_fr(__atomic_load_n(&u->rx_count, __ATOMIC_RELAXED)) >> shift) &
               vpl011_size_mask(size);
        return 0;
    }
    flags = vpl011_lock(u);
    *val = (vpl011_reg_read(u, offset & ~3UL, shift == 0) >> shift) & vpl011_size_mask(size);
    /* Only a DR read changes the state (it pops the FIFO): the others leave the line as it is. */
    if ((offset & ~3UL) == PL011_DR)
        vpl011_unlock_sync(u, flags);
    else
        spin_unlock_irqrestore(&u->lock, flags);
    return 0;
}

/* Replace the writable bits that the access covers (mask: its byte lanes). */
static void vpl011_merge(uint32_t *reg, uint32_t bits, uint32_t mask, uint32_t writable)
{
    mask &= writable;
    *reg = (*reg & ~mask) | (bits & mask);
}

static void vpl011_reg_write(struct vpl011 *u, uint64_t reg, uint32_t bits, uint32_t mask)
{
    switch (reg) {
    case PL011_RSR: u->rsr = 0; break; /* any write to UARTECR clears the errors (TRM 3.3.2) */
    case PL011_ILPR: vpl011_merge(&u->ilpr, bits, mask, ILPR_MASK); break;
    case PL011_IBRD: vpl011_merge(&u->ibrd, bits, mask, IBRD_MASK); break;
    case PL011_FBRD: vpl011_merge(&u->fbrd, bits, mask, FBRD_MASK); break;
    case PL011_LCR_H: vpl011_merge(&u->lcr_h, bits, mask, LCR_H_MASK); break;
    case PL011_CR: vpl011_merge(&u->cr, bits, mask, CR_MASK); break;
    case PL011_IFLS: vpl011_merge(&u->ifls, bits, mask, IFLS_MASK); break;
    case PL011_IMSC: vpl011_merge(&u->imsc, bits, mask, PL011_INT_ALL); break;
    case PL011_ICR:
        /* Only the overrun is latched; RX, RT and TX follow the FIFO state and so re-assert. */
        u->ris_oe &= ~(bits & mask & PL011_INT_OE);
        break;
    case PL011_DMACR: vpl011_merge(&u->dmacr, bits, mask, DMACR_MASK); break;
    default: break; /* FR, RIS, MIS and the ID registers are read-only; the rest RAZ/WI */
    }
}

/* Loopback (CR.LBE): the byte is received, not sent; no room is an overrun (TRM 3.3.2). */
static void vpl011_loopback(struct vpl011 *u, uint8_t byte)
{
    if (!vpl011_rx_put(u, byte)) {
        u->rsr |= PL011_RSR_OE;
        u->ris_oe = PL011_INT_OE;
    }
}

int vpl011_write(struct vpl011 *u, uint64_t offset, unsigned size, uint64_t val)
{
    unsigned shift = (offset & 3) * 8;
    uint32_t mask, bits;
    unsigned long flags;

    if (!vpl011_access_ok(offset, size))
        return -EINVAL;
    mask = vpl011_size_mask(size) << shift;
    bits = ((uint32_t)val << shift) & mask;
    flags = vpl011_lock(u);
    if ((offset & ~3UL) == PL011_DR) {
        /*
         * Sent whether or not CR.UARTEN and TXE are set, as QEMU does: firmware and early consoles
         * often write before (or without) enabling the UART. The upper lanes are read-only flags.
         */
        if ((mask & 0xff) && !(u->cr & PL011_CR_LBE)) {
            spin_unlock_irqrestore(&u->lock, flags);
            u->ops->tx(u->ctx, (uint8_t)bits);
            return 0;
        }
        if (mask & 0xff)
            vpl011_loopback(u, (uint8_t)bits);
    } else {
        vpl011_reg_write(u, offset & ~3UL, bits, mask);
    }
    vpl011_unlock_sync(u, flags);
    return 0;
}

/*
 * Accepted whatever CR.RXE says: bytes typed before the guest's driver enables the receiver wait in
 * the FIFO instead of being lost, and the caller sees a full FIFO as back-pressure.
 */
size_t vpl011_rx_push(struct vpl011 *u, const uint8_t *buf, size_t n)
{
    unsigned long flags = vpl011_lock(u);
    size_t taken = 0;

    while (taken < n && vpl011_rx_put(u, buf[taken]))
        taken++;
    vpl011_unlock_sync(u, flags);
    return taken;
}

size_t vpl011_rx_space(struct vpl011 *u)
{
    unsigned long flags = vpl011_lock(u);
    size_t space = VPL011_RX_FIFO_DEPTH - u->rx_count;

    spin_unlock_irqrestore(&u->lock, flags);
    return space;
}
