/* poll.h - poll/ppoll: pollers sleep on one queue that every pollable object wakes on a change. */
#ifndef KERNEL_POLL_H
#define KERNEL_POLL_H

#define POLLIN   0x001
#define POLLPRI  0x002
#define POLLOUT  0x004
#define POLLERR  0x008
#define POLLHUP  0x010
#define POLLNVAL 0x020

/* Something a poller may wait for changed (data, space, a closed end): pollers look again. */
void poll_notify(void);

#endif
