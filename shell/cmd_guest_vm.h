/* cmd_guest_vm.h - the `guest` subcommands that act on running VMs (cmd_guest_vm.c). */
#ifndef SHELL_CMD_GUEST_VM_H
#define SHELL_CMD_GUEST_VM_H

/* stop, status, console, log, mode: the command's result, or -ENOSYS if argv is none of them. */
int guest_vm_command(int argc, char **argv);

#endif
