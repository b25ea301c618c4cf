/* vnet_uplink.c - the machine's own NIC as a plain bridge port ("uplink") of the default switch:
 * frames the switch forwards to it are sent on the wire, frames from the wire enter the switch. */
#include "vmm/vnet_uplink.h"

#include "drivers/virtio_net.h"
#include "kernel/printk.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "vmm/vswitch.h"

#define UPLINK_PORT_NAME "uplink"

/* Written once at boot, before the NIC's interrupt is enabled; read-only afterwards. */
static struct virtio_net *uplink_nic;

/* The switch's deliver callback: the NIC's transmit never blocks; a full ring drops (counted). */
static bool uplink_deliver(void *ctx, const void *frame, size_t len)
{
    return virtio_net_transmit(ctx, frame, len);
}

static void uplink_flush(void *ctx)
{
    virtio_net_transmit_flush(ctx);
}

static const struct vswitch_port_ops uplink_port_ops = {
    .deliver = uplink_deliver,
    .flush = uplink_flush,
};

/* From the NIC's interrupt: the driver holds only its receive lock, which no port callback takes.
 */
static void uplink_receive(void *ctx, const void *frame, size_t len)
{
    vswitch_send(ctx, frame, len);
}

static void uplink_batch_end(void *ctx)
{
    vswitch_flush(ctx);
}

static const struct virtio_net_rx_ops uplink_rx_ops = {
    .receive = uplink_receive,
    .batch_end = uplink_batch_end,
};

int vnet_uplink_init(void)
{
    struct virtio_net *nic = virtio_net_probe();

    if (!nic)
        return 0;
    struct vswitch_port *port =
        vswitch_attach(VSWITCH_DEFAULT, UPLINK_PORT_NAME, &uplink_port_ops, nic);
    if (!port) {
        kprintf("uplink: cannot join switch %s (no memory or ports); no uplink\n", VSWITCH_DEFAULT);
        return -ENOMEM;
    }
    int err = virtio_net_start(nic, &uplink_rx_ops, port);
    if (err) {
        kprintf("uplink: cannot take the NIC's interrupt (%d); no uplink\n", err);
        vswitch_detach(port);
        return err;
    }
    uplink_nic = nic;
    kprintf("uplink: virtio-net is port %s of switch %s\n", UPLINK_PORT_NAME, VSWITCH_DEFAULT);
    return 0;
}

void vnet_uplink_report(void (*line)(void *arg, const char *text), void *arg)
{
    struct virtio_net_info i;
    char text[320];

    if (!uplink_nic) {
        line(arg, "uplink: none (no virtio-net NIC on this machine)");
        return;
    }
    virtio_net_get_info(uplink_nic, &i);
    snprintf(text, sizeof(text),
             "uplink: virtio-net 0x%08lx irq %d (virtio-mmio v%u)%s: rx %lu frames %lu bytes, "
             "tx %lu frames %lu bytes; drops: rx bad length %lu, tx ring full %lu, tx bad length "
             "%lu; notifications rx %lu tx %lu, interrupts %lu",
             (unsigned long)i.dev.pa, i.dev.irq, i.dev.version, i.broken ? " DISABLED" : "",
             (unsigned long)i.rx_frames, (unsigned long)i.rx_bytes, (unsigned long)i.tx_frames,
             (unsigned long)i.tx_bytes, (unsigned long)i.rx_dropped,
             (unsigned long)i.tx_dropped_full, (unsigned long)i.tx_dropped_len,
             (unsigned long)i.rx_notifies, (unsigned long)i.tx_notifies,
             (unsigned long)i.interrupts);
    line(arg, text);
}
