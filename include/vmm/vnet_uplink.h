/* vnet_uplink.h - the machine's own NIC as the port "uplink" of the default switch. */
#ifndef VMM_VNET_UPLINK_H
#define VMM_VNET_UPLINK_H

/*
 * At boot, after vmm_init: if the machine has a NIC, attach it to VSWITCH_DEFAULT. No NIC is not
 * an error (no uplink, nothing printed); a NIC that cannot be used is reported. Returns 0 or
 * -errno.
 */
int vnet_uplink_init(void);
/* One line for `net status`: the uplink NIC, its counters and drops (or that there is none). */
void vnet_uplink_report(void (*line)(void *arg, const char *text), void *arg);

#endif
