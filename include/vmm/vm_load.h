/* vm_load.h - putting a guest's kernel, initrd and device tree into its RAM. */
#ifndef VMM_VM_LOAD_H
#define VMM_VM_LOAD_H

#include <stddef.h>

struct vm;

/* Load per vm->plan from the mounted files (a DTB is generated when the manifest names none):
 * 0, or -errno with one line in msg. */
int vm_load_images(struct vm *vm, char *msg, size_t len);

#endif
