/* virtq_barrier.h - memory ordering between a virtio driver and its device (private to drivers/).
 */
#ifndef DRIVERS_VIRTQ_BARRIER_H
#define DRIVERS_VIRTQ_BARRIER_H

#ifdef AVATAR_HOST
/* Host unit tests: the "device" is another thread or the test itself; C11 fences suffice. */
static inline void virtio_wmb(void)
{
    __atomic_thread_fence(__ATOMIC_RELEASE);
}

static inline void virtio_rmb(void)
{
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
}

static inline void virtio_mb(void)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static inline void virtio_dsb(void)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

#else
/*
 * Ordering with the device (virtio 1.1 §2.7.13, §2.7.7): the device is an observer in the
 * outer-shareable domain, so the barriers name that domain; a DSB before the notify register
 * write makes every ring update complete before the device can act on it.
 */
static inline void virtio_wmb(void)
{
    __asm__ volatile("dmb oshst" ::: "memory");
}

static inline void virtio_rmb(void)
{
    __asm__ volatile("dmb oshld" ::: "memory");
}

/* Stores before, loads after: publishing an index, then reading the other side's flags. */
static inline void virtio_mb(void)
{
    __asm__ volatile("dmb osh" ::: "memory");
}

static inline void virtio_dsb(void)
{
    __asm__ volatile("dsb st" ::: "memory");
}
#endif

#endif
