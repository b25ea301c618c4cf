/* vvirtio_net_priv.h - what the virtio-net model's files share (vmm/vvirtio_net*.c only). */
#ifndef VMM_VVIRTIO_NET_PRIV_H
#define VMM_VVIRTIO_NET_PRIV_H

#include <stdint.h>

#include "lib/virtio.h"
#include "vmm/vvirtio_net.h"

/* Feature bits (virtio 1.2, 5.1.3 and 6). */
#define VVIRTIO_NET_F_MAC       (1ull << VIRTIO_NET_F_MAC)
#define VVIRTIO_NET_F_MRG_RXBUF (1ull << VIRTIO_NET_F_MRG_RXBUF)
#define VVIRTIO_NET_F_STATUS    (1ull << VIRTIO_NET_F_STATUS)
#define VVIRTIO_NET_F_VERSION_1 (1ull << 32)

#define VVIRTIO_NET_INT_USED 0x1u /* InterruptStatus: used buffer notification (4.2.2) */

/* vvirtio_net.c: the lock and the register state the ring code needs. */
unsigned long vvirtio_net_lock(struct vvirtio_net *d);
/* Release the lock and bring the line to InterruptStatus != 0 (set_irq, unlocked). */
void vvirtio_net_unlock_sync(struct vvirtio_net *d, unsigned long flags);
/* Locked: the driver is live, queue qi enabled, no reset pending (3.1.1). */
bool vvirtio_net_queue_live(const struct vvirtio_net *d, unsigned qi);
/* Locked: the rings are unusable: set DEVICE_NEEDS_RESET (2.1.2), say so once the driver is live.
 */
void vvirtio_net_needs_reset(struct vvirtio_net *d);

/* vvirtio_net_ring.c: the split virtqueues in guest RAM (2.7). */
/* Serve the transmit queue; entered locked (flags from vvirtio_net_lock), returns unlocked. */
void vvirtio_net_tx(struct vvirtio_net *d, unsigned long flags);

#endif
