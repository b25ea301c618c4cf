/* vm_passthrough.h - real devices given to a VM: registers mapped 1:1, the SPI routed to it. */
#ifndef VMM_VM_PASSTHROUGH_H
#define VMM_VM_PASSTHROUGH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;
struct vm_dtb_config;

/* Map every passthrough device of the manifest and claim its SPI: 0, or -errno with msg set
 * (nothing stays claimed then). */
int vm_passthrough_attach(struct vm *vm, char *msg, size_t len);
/* Give the SPIs back (disabled) at teardown; the mappings go with the stage-2 tables. */
void vm_passthrough_detach(struct vm *vm);
/* The guest deactivated INTID intid: if it is one of its passthrough SPIs, unmask it. */
bool vm_passthrough_deactivated(struct vm *vm, uint32_t intid);
/* Add the passthrough devices to a guest device tree, described as the host's tree has them. */
void vm_passthrough_dtb(const struct vm *vm, struct vm_dtb_config *cfg);

#endif
