/* cmd_net.c - the `net` shell command (hypervisor only): the switches, their ports and the NICs. */
#ifdef AVATAR_HV
#include "kernel/printk.h"
#include "kernel/shell.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "vmm/vm_net.h"
#include "vmm/vnet_uplink.h"
#include "vmm/vswitch.h"

static void net_line(void *arg, const char *text)
{
    (void)arg;
    kprintf("%s\n", text);
}

static int cmd_net(int argc, char **argv)
{
    if (argc != 2 || strcmp(argv[1], "status")) {
        kprintf("usage: net status\n");
        return -EINVAL;
    }
    vswitch_report(net_line, NULL);
    vm_nets_report(net_line, NULL);
    vnet_uplink_report(net_line, NULL);
    return 0;
}
SHELL_COMMAND(net, "net", "status",
              "networking: switches, ports and their counters, learnt addresses, NIC drops",
              cmd_net);
#endif
