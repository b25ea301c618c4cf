/* vm_net.h - a VM's emulated virtio-net NICs, each a port of one of the hypervisor's switches. */
#ifndef VMM_VM_NET_H
#define VMM_VM_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;

/*
 * Create the NIC of every virtio-net device of the manifest, in the virtio-mmio slots after the
 * disks (vm->nr_disks on), on the VM's MMIO bus, and attach each to its switch: 0, or -errno
 * with msg set.
 */
int vm_nets_open(struct vm *vm, char *msg, size_t len);
/* Teardown, before guest RAM goes: detach from the switches (no frame reaches the VM after). */
void vm_nets_close(struct vm *vm);
/* The MAC of a NIC without one in its manifest: locally administered, unicast, from the name. */
void vm_net_derive_mac(const char *vm_name, unsigned nic, uint8_t mac[6]);
/* One line per NIC of a running VM (its device's counters), to line. */
void vm_nets_report(void (*line)(void *arg, const char *text), void *arg);

#endif
