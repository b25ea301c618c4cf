/* vswitch.h - a learning Ethernet switch in the hypervisor between network ports (VMs, uplink). */
#ifndef VMM_VSWITCH_H
#define VMM_VSWITCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Frames are Ethernet II without the FCS: a 14-byte header and up to 1500 bytes of payload. */
#define VSWITCH_FRAME_MIN 14u
#define VSWITCH_FRAME_MAX 1514u
/* The switch a port joins when its manifest names none; the uplink joins it too. */
#define VSWITCH_DEFAULT  "sw0"
#define VSWITCH_NAME_MAX 16u /* bytes of a switch or port name, NUL included */

/*
 * What a port does with a frame the switch forwards to it. Every callback may be called from any
 * CPU, with interrupts masked and the switch's lock held, so it must not block, must not call back
 * into the switch, and must take only locks that are never held while calling vswitch_send().
 * deliver: copy the frame (len bytes, VSWITCH_FRAME_MIN..VSWITCH_FRAME_MAX, in hypervisor memory
 * valid only during the call) into the port's receive side: true if taken, false if dropped (for
 * instance, a full RX ring). The switch counts both.
 * flush: optional; the end of a batch of deliver calls (raise the port's interrupt once).
 */
struct vswitch_port_ops {
    bool (*deliver)(void *ctx, const void *frame, size_t len);
    void (*flush)(void *ctx);
};

struct vswitch_port;

/*
 * Attach a port named name to the switch sw (created on first use): the port, or NULL when memory
 * or ports run out. ops and ctx must stay valid until vswitch_detach().
 */
struct vswitch_port *vswitch_attach(const char *sw, const char *name,
                                    const struct vswitch_port_ops *ops, void *ctx);
/* Detach p: when this returns no callback of p runs and none will. */
void vswitch_detach(struct vswitch_port *p);

/*
 * Forward one frame sent by port from: learn its source address, then deliver it to the port that
 * owns the destination, or flood it to every other port (broadcast, multicast, unknown unicast).
 * A length outside VSWITCH_FRAME_MIN..VSWITCH_FRAME_MAX is dropped and counted. The caller must not
 * hold a lock a deliver or flush callback takes (its own device's lock included).
 */
void vswitch_send(struct vswitch_port *from, const void *frame, size_t len);
/* The end of a batch of vswitch_send() calls from from: flush every port delivered to since. */
void vswitch_flush(struct vswitch_port *from);

/*
 * A port's counters, seen from the switch: rx is what the port sent into the switch, tx what the
 * switch delivered to it. Drops: drop_length, frames the port sent with a length outside
 * VSWITCH_FRAME_MIN..VSWITCH_FRAME_MAX; drop_refused, frames its deliver callback refused (a full
 * RX ring).
 */
struct vswitch_port_stats {
    uint64_t rx_frames, rx_bytes;
    uint64_t tx_frames, tx_bytes;
    uint64_t drop_length, drop_refused;
};

/* A consistent copy of p's counters. */
void vswitch_port_stats(struct vswitch_port *p, struct vswitch_port_stats *out);
/*
 * The `net status` text: every switch, its ports with their counters, and the addresses it has
 * learnt, one line at a time to line (called with no switch lock held).
 */
void vswitch_report(void (*line)(void *arg, const char *text), void *arg);

#endif
