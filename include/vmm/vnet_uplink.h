/* vnet_uplink.h - the machine's own NIC as the port "uplink" of the default switch. */
#ifndef VMM_VNET_UPLINK_H
#define VMM_VNET_UPLINK_H

#include <stdbool.h>

#include "drivers/virtio_net.h"

/*
 * At boot, after vmm_init: if the machine has a NIC, attach it to VSWITCH_DEFAULT. No NIC is not
 * an error (no uplink, nothing printed); a NIC that cannot be used is reported. Returns 0 or
 * -errno.
 */
int vnet_uplink_init(void);
/* The uplink NIC's counters: false if there is no uplink. */
bool vnet_uplink_info(struct virtio_net_info *out);

#endif
