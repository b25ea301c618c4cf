/* vm.c - the VM table: start a guest, stop it (from the shell or from inside), reset, teardown. */
#include "vmm/vm.h"

#include <stdarg.h>

#include "arch/cpu.h"
#include "arch/memlayout.h"
#include "arch/sysreg.h"
#include "arch/trap.h"
#include "drivers/gic.h"
#include "kernel/init.h"
#include "kernel/kmalloc.h"
#include "kernel/page_alloc.h"
#include "kernel/platform.h"
#include "kernel/printk.h"
#include "kernel/thread.h"
#include "kernel/time.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "vmm/layout.h"
#include "vmm/vcpu_arch.h"
#include "vmm/vcpu_run.h"
#include "vmm/vgic_hw.h"
#include "vmm/vm_disk.h"
#include "vmm/vm_net.h"
#include "vmm/vm_passthrough.h"
#include "vmm/vnet_uplink.h"
#include "vmm/vvirtio_empty.h"
#include "vmm/vm_load.h"

#define UART_INTID      33 /* SPI 1, as on QEMU virt */
#define GICC_IPA        (GUEST_GIC_BASE + 0x10000)
#define GICC_SIZE       0x2000
#define RAM_CHUNK_ORDER 9 /* 2 MiB of 4 KiB pages */
#define SHELL_STOP      "stopped by the shell (guest stop)"
#define STOP_WAIT_NS    (5ULL * 1000000000ULL)

static spinlock_t vms_lock = SPINLOCK_INIT; /* slot states: EMPTY <-> in use */
static struct vm vms[VM_MAX];
static unsigned ipa_bits;

struct vm *vm_slot(unsigned i)
{
    return i < VM_MAX && vms[i].state != VM_EMPTY ? &vms[i] : NULL;
}

struct vm *vm_find(const char *name)
{
    for (unsigned i = 0; i < VM_MAX; i++) {
        if (vms[i].state != VM_EMPTY && manifest_same_name(vms[i].m.name, name))
            return &vms[i];
    }
    return NULL;
}

struct vm *vm_next_running(struct vm *vm)
{
    unsigned start = vm ? vm->slot + 1 : 0;

    for (unsigned k = 0; k < VM_MAX; k++) {
        struct vm *c = &vms[(start + k) % VM_MAX];
        if (c->state == VM_RUNNING)
            return c;
    }
    return NULL;
}

bool vm_stopping(const struct vm *vm)
{
    return vm->state != VM_RUNNING;
}

uint64_t vm_ram_pa(const struct vm *vm, uint64_t ipa, uint64_t *contiguous)
{
    if (ipa < vm->ram_base || ipa - vm->ram_base >= vm->ram_size)
        return 0;
    uint64_t off = ipa - vm->ram_base;
    *contiguous = VM_RAM_CHUNK - off % VM_RAM_CHUNK;
    return vm->ram_chunks[off / VM_RAM_CHUNK] + off % VM_RAM_CHUNK;
}

static int ram_copy(struct vm *vm, uint64_t ipa, void *buf, uint64_t len, bool to_guest)
{
    uint8_t *p = buf;

    while (len) {
        uint64_t contiguous, pa = vm_ram_pa(vm, ipa, &contiguous);
        if (!pa)
            return -EFAULT;
        uint64_t n = len < contiguous ? len : contiguous;
        if (to_guest)
            memcpy(phys_to_virt(pa), p, n);
        else
            memcpy(p, phys_to_virt(pa), n);
        p += n;
        ipa += n;
        len -= n;
    }
    return 0;
}

int vm_write_ram(struct vm *vm, uint64_t ipa, const void *src, uint64_t len)
{
    return ram_copy(vm, ipa, (void *)src, len, true);
}

int vm_read_ram(struct vm *vm, uint64_t ipa, void *dst, uint64_t len)
{
    return ram_copy(vm, ipa, dst, len, false);
}

static void vm_vgic_kick(void *ctx, unsigned vcpu)
{
    vcpu_kick(&((struct vm *)ctx)->vcpu[vcpu]);
}

static void vm_vgic_deactivated(void *ctx, unsigned vcpu, uint32_t intid)
{
    (void)vcpu;
    vm_passthrough_deactivated(ctx, intid);
}

/* A guest's GIC access (on its own CPU) first brings the virtual timer's line up to date. */
static void vm_vgic_sample(void *ctx, unsigned vcpu)
{
    vtimer_resample(&((struct vm *)ctx)->vcpu[vcpu]);
}

static const struct vgic_ops vm_vgic_ops = {vm_vgic_kick, vm_vgic_deactivated, vm_vgic_sample};

static void uart_tx(void *ctx, uint8_t byte)
{
    vconsole_putc(&((struct vm *)ctx)->console, byte);
}

static void uart_irq(void *ctx, bool level)
{
    vgic_set_level(&((struct vm *)ctx)->vgic, 0, UART_INTID, level);
}

static const struct vpl011_ops vm_uart_ops = {uart_tx, uart_irq};

static void ram_free(struct vm *vm)
{
    for (unsigned i = 0; i < vm->nr_chunks; i++) {
        if (vm->ram_chunks[i])
            page_free(vm->ram_chunks[i], RAM_CHUNK_ORDER);
    }
    kfree(vm->ram_chunks);
    vm->ram_chunks = NULL;
    vm->nr_chunks = 0;
}

/* Guest RAM in 2 MiB chunks from the page allocator, zeroed (nothing of a previous owner leaks)
 * and mapped with 2 MiB stage-2 blocks. */
static int ram_alloc(struct vm *vm)
{
    vm->ram_base = GUEST_RAM_BASE;
    vm->ram_size = vm->m.memory_size;
    vm->nr_chunks = (unsigned)(vm->ram_size / VM_RAM_CHUNK);
    vm->ram_chunks = kzalloc(vm->nr_chunks * sizeof(uint64_t));
    if (!vm->ram_chunks)
        return -ENOMEM;
    for (unsigned i = 0; i < vm->nr_chunks; i++) {
        uint64_t pa = page_alloc_zeroed(RAM_CHUNK_ORDER);
        if (!pa)
            return -ENOMEM;
        vm->ram_chunks[i] = pa;
        int err = stage2_map(&vm->s2, vm->ram_base + i * VM_RAM_CHUNK, pa, VM_RAM_CHUNK,
                             S2_READ | S2_WRITE | S2_EXEC);
        if (err)
            return err;
    }
    return 0;
}

static void vcpus_init(struct vm *vm)
{
    vm->nr_vcpus = vm->m.smp_cores;
    for (unsigned i = 0; i < MAX_CPUS; i++)
        vm->last_vcpu_on[i] = -1;
    for (unsigned i = 0; i < vm->nr_vcpus; i++) {
        struct vcpu *v = &vm->vcpu[i];
        memset(v, 0, sizeof(*v));
        v->vm = vm;
        v->id = i;
        v->pcpu = -1;
        v->needs_flush = &vm->vgic.cpu[i].needs_flush;
        v->mpidr = (1UL << 31) | i; /* RES1 bit 31; Aff0 = index (the DTB's reg) */
        wait_queue_init(&v->wq);
        v->state = i == 0 ? VCPU_ON : VCPU_OFF;
        vtimer_vcpu_init(v);
    }
    vcpu_arch_reset(&vm->vcpu[0], vm->plan.entry, vm->plan.dtb_ipa);
}

static void vm_teardown(struct vm *vm);

static int gic_mmio_read(void *ctx, struct vcpu *v, uint64_t off, unsigned size, uint64_t *val)
{
    return vgic_mmio_read(&((struct vm *)ctx)->vgic, v->id, off, size, val);
}

static int gic_mmio_write(void *ctx, struct vcpu *v, uint64_t off, unsigned size, uint64_t val)
{
    return vgic_mmio_write(&((struct vm *)ctx)->vgic, v->id, off, size, val);
}

static const struct mmio_ops gic_mmio_ops = {gic_mmio_read, gic_mmio_write};

static int uart_mmio_read(void *ctx, struct vcpu *v, uint64_t off, unsigned size, uint64_t *val)
{
    (void)v;
    return vpl011_read(ctx, off, size, val);
}

static int uart_mmio_write(void *ctx, struct vcpu *v, uint64_t off, unsigned size, uint64_t val)
{
    (void)v;
    return vpl011_write(ctx, off, size, val);
}

static const struct mmio_ops uart_mmio_ops = {uart_mmio_read, uart_mmio_write};

/* A virtio-mmio slot with no device: a device ID of 0 (virtio 1.2, 4.2.2), whatever the slot. */
static int empty_mmio_read(void *ctx, struct vcpu *v, uint64_t off, unsigned size, uint64_t *val)
{
    (void)ctx;
    (void)v;
    return vvirtio_empty_access(off % GUEST_VIRTIO_SLOT_SIZE, size, false, val);
}

static int empty_mmio_write(void *ctx, struct vcpu *v, uint64_t off, unsigned size, uint64_t val)
{
    (void)ctx;
    (void)v;
    return vvirtio_empty_access(off % GUEST_VIRTIO_SLOT_SIZE, size, true, &val);
}

static const struct mmio_ops empty_mmio_ops = {empty_mmio_read, empty_mmio_write};

/* The slots no disk or NIC took, a region per run of them. */
static int register_empty_slots(struct vm *vm)
{
    for (unsigned s = 0; s < GUEST_VIRTIO_SLOTS;) {
        uint64_t base = GUEST_VIRTIO_BASE + s * GUEST_VIRTIO_SLOT_SIZE;
        unsigned run = 0;

        while (s + run < GUEST_VIRTIO_SLOTS &&
               !mmio_bus_find(&vm->bus, base + run * GUEST_VIRTIO_SLOT_SIZE))
            run++;
        if (run) {
            int err = mmio_bus_register(&vm->bus, base, run * GUEST_VIRTIO_SLOT_SIZE,
                                        &empty_mmio_ops, NULL);
            if (err)
                return err;
        }
        s += run ? run : 1;
    }
    return 0;
}

/* Build the VM in its slot from vm->m and vm->plan and start its vCPU threads. */
static int vm_boot(struct vm *vm)
{
    char msg[LOADER_ERR_MAX];
    int err;

    vm->stop_reason[0] = '\0';
    vm->reset_requested = false;
    vm->sysreg_undef_reported = false;
    err = stage2_init(&vm->s2, ipa_bits);
    if (err) {
        kprintf("guest %s: no stage-2 tables (%s)\n", vm->m.name, errno_str(err));
        return err;
    }
    err = ram_alloc(vm);
    if (!err && gic_version() == 2)
        err = stage2_map(&vm->s2, GICC_IPA, platform.gicv.base, GICC_SIZE,
                         S2_READ | S2_WRITE | S2_DEVICE);
    if (!err)
        err = vgic_init(&vm->vgic, (unsigned)gic_version(), vm->m.smp_cores, &vm_vgic_ops, vm);
    if (err) {
        kprintf("guest %s: %lu MiB of RAM: %s\n", vm->m.name,
                (unsigned long)(vm->m.memory_size >> 20), errno_str(err));
        goto fail;
    }
    vpl011_init(&vm->uart, &vm_uart_ops, vm);
    vconsole_init(&vm->console, vm->m.name);
    /* The devices put their registers on the bus as they open; a data abort looks there. */
    mmio_bus_init(&vm->bus);
    err = mmio_bus_register(&vm->bus, GUEST_GIC_BASE, GUEST_GIC_SIZE, &gic_mmio_ops, vm);
    if (!err)
        err = mmio_bus_register(&vm->bus, GUEST_UART_BASE, GUEST_UART_SIZE, &uart_mmio_ops,
                                &vm->uart);
    if (err) {
        kprintf("guest %s: its MMIO bus: %s\n", vm->m.name, errno_str(err));
        goto fail;
    }
    msg[0] = '\0';
    err = vm_passthrough_attach(vm, msg, sizeof(msg));
    if (!err)
        err = vm_load_images(vm, msg, sizeof(msg));
    if (!err)
        err = vm_disks_open(vm, msg, sizeof(msg));
    if (!err) {
        err = vm_nets_open(vm, msg, sizeof(msg));
        if (err)
            vm_disks_close(vm);
    }
    if (!err) {
        err = vm_rtc_open(vm, msg, sizeof(msg));
        if (err) {
            vm_nets_close(vm);
            vm_disks_close(vm);
        }
    }
    if (!err && (err = register_empty_slots(vm)) != 0) {
        snprintf(msg, sizeof(msg), "no room on its MMIO bus for the empty virtio slots");
        vm_rtc_close(vm);
        vm_nets_close(vm);
        vm_disks_close(vm);
    }
    if (err) {
        kprintf("guest %s: %s\n", vm->m.name, msg);
        vm_passthrough_detach(vm);
        goto fail;
    }
    vm->cntvoff = timer_counter(); /* its virtual counter starts at zero */
    vcpus_init(vm);
    vm->live_threads = vm->nr_vcpus;
    vm->started_ns = time_now_ns();
    vm->generation++;
    vm->fault_reported = false;
    __atomic_store_n(&vm->state, VM_RUNNING, __ATOMIC_RELEASE);
    for (unsigned i = 0; i < vm->nr_vcpus; i++) {
        char name[THREAD_NAME_MAX];
        snprintf(name, sizeof(name), "%.10s/%u", vm->m.name, i);
        struct thread *t =
            thread_create(name, vcpu_thread_main, &vm->vcpu[i], VCPU_PRIO, CPUMASK_ALL);
        if (!t) {
            /* The threads already started see the stop and finish the teardown. */
            unsigned long flags = spin_lock_irqsave(&vm->lock);
            vm->live_threads -= vm->nr_vcpus - i;
            spin_unlock_irqrestore(&vm->lock, flags);
            vm_request_stop(vm, false, "could not create its vCPU threads");
            if (i == 0)
                vm_teardown(vm); /* no thread to do it: the disk workers would run on */
            return -ENOMEM;
        }
        vm->vcpu[i].thread = t;
        thread_detach(t);
    }
    /* A guest stop that came while a reset was rebuilding the VM saw it not running yet. */
    if (__atomic_load_n(&vm->host_stop, __ATOMIC_SEQ_CST))
        vm_request_stop(vm, false, SHELL_STOP);
    return 0;
fail:
    ram_free(vm);
    stage2_destroy(&vm->s2);
    return err;
}

int vm_start(const struct guest_manifest *m, const struct load_plan *plan)
{
    uint64_t t0 = time_now_ns();
    struct vm *vm = vm_find(m->name);

    /*
     * Still being taken apart (its "powered off" line comes before the end of the teardown):
     * wait for that instead of calling it running, so a start right after the line works.
     */
    if (vm && __atomic_load_n(&vm->state, __ATOMIC_ACQUIRE) == VM_STOPPING)
        wait_event_until(&vm->stopped_wq, vm->state != VM_STOPPING,
                         timer_counter() + timer_ns_to_ticks(STOP_WAIT_NS));
    vm = NULL;

    unsigned long flags = spin_lock_irqsave(&vms_lock);

    for (unsigned i = 0; i < VM_MAX && !vm; i++) {
        if (vms[i].state != VM_EMPTY && manifest_same_name(vms[i].m.name, m->name)) {
            if (vms[i].state != VM_STOPPED) {
                spin_unlock_irqrestore(&vms_lock, flags);
                kprintf("guest %s: already running\n", m->name);
                return -EBUSY;
            }
            vm = &vms[i];
        }
    }
    for (unsigned i = 0; i < VM_MAX && !vm; i++) {
        if (vms[i].state == VM_EMPTY)
            vm = &vms[i];
    }
    for (unsigned i = 0; i < VM_MAX && !vm; i++) {
        if (vms[i].state == VM_STOPPED)
            vm = &vms[i]; /* the table is full: forget a stopped VM */
    }
    if (!vm) {
        spin_unlock_irqrestore(&vms_lock, flags);
        kprintf("guest %s: %d VMs are running already\n", m->name, VM_MAX);
        return -ENOSPC;
    }
    vm->state = VM_STOPPING; /* taken: nobody else starts in this slot */
    spin_unlock_irqrestore(&vms_lock, flags);

    vm->slot = (unsigned)(vm - vms);
    spin_init(&vm->lock);
    wait_queue_init(&vm->stopped_wq);
    vm->m = *m;
    vm->plan = *plan;
    vm->host_stop = false;
    int err = vm_boot(vm);
    if (err) {
        vm->state = VM_EMPTY;
        return err;
    }
    /* The time includes loading its files: what the disk path costs shows here. */
    kprintf("guest %s: started (%u vCPU%s, %lu MiB) in %lu ms\n", m->name, vm->nr_vcpus,
            vm->nr_vcpus == 1 ? "" : "s", (unsigned long)(m->memory_size >> 20),
            (unsigned long)((time_now_ns() - t0) / 1000000));
    return 0;
}

void vm_request_stop(struct vm *vm, bool reset, const char *fmt, ...)
{
    unsigned long flags = spin_lock_irqsave(&vm->lock);
    bool first = vm->state == VM_RUNNING;

    if (first) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(vm->stop_reason, sizeof(vm->stop_reason), fmt, ap);
        va_end(ap);
        vm->reset_requested = reset;
        __atomic_store_n(&vm->state, VM_STOPPING, __ATOMIC_RELEASE);
        /* Under the lock: the teardown that frees the disks waits for it (vm_vcpu_exited). */
        vm_disks_stop(vm);
        vm_rtc_stop(vm);
    }
    spin_unlock_irqrestore(&vm->lock, flags);
    if (!first)
        return;
    for (unsigned i = 0; i < vm->nr_vcpus; i++) {
        vcpu_work_set(&vm->vcpu[i], VCPU_WORK_STOP, true);
        vcpu_kick(&vm->vcpu[i]);
    }
}

void vm_vcpu_set_off(struct vcpu *v)
{
    unsigned long flags = spin_lock_irqsave(&v->vm->lock);

    v->off_requested = false;
    vcpu_work_set(v, VCPU_WORK_OFF, false);
    v->state = VCPU_OFF;
    spin_unlock_irqrestore(&v->vm->lock, flags);
}

/* The last vCPU thread is done: give everything back, then maybe start again (reset). */
static void vm_teardown(struct vm *vm)
{
    vconsole_flush(&vm->console);
    if (vconsole_focused() == &vm->console)
        vconsole_focus(NULL);
    vm_disks_close(vm);
    vm_nets_close(vm);
    vm_rtc_close(vm);
    vm_passthrough_detach(vm);
    ram_free(vm);
    stage2_destroy(&vm->s2);
    /*
     * Decide and say it in one step: a guest stop that comes in between turns a reset into a
     * stop (vm_stop_by_name, under the same lock), and the line must name what happens.
     */
    unsigned long flags = spin_lock_irqsave(&vm->lock);
    bool restart = vm->reset_requested && !__atomic_load_n(&vm->host_stop, __ATOMIC_SEQ_CST);
    kprintf("guest %s: %s\n", vm->m.name, vm->stop_reason);
    spin_unlock_irqrestore(&vm->lock, flags);
    if (restart) {
        __atomic_store_n(&vm->state, VM_STOPPING, __ATOMIC_RELEASE);
        if (vm_boot(vm) == 0) {
            kprintf("guest %s: restarted\n", vm->m.name);
            return;
        }
        /* A guest stop ended the reload (vm_load.c): say so, as a stop of a running VM does. */
        if (__atomic_load_n(&vm->host_stop, __ATOMIC_SEQ_CST)) {
            flags = spin_lock_irqsave(&vm->lock);
            snprintf(vm->stop_reason, sizeof(vm->stop_reason), SHELL_STOP);
            spin_unlock_irqrestore(&vm->lock, flags);
            kprintf("guest %s: %s\n", vm->m.name, vm->stop_reason);
        }
    }
    __atomic_store_n(&vm->state, VM_STOPPED, __ATOMIC_RELEASE);
    wait_wake_all(&vm->stopped_wq);
}

void vm_vcpu_exited(struct vcpu *v)
{
    struct vm *vm = v->vm;
    unsigned long flags = spin_lock_irqsave(&vm->lock);

    v->state = VCPU_EXITED;
    bool last = --vm->live_threads == 0;
    spin_unlock_irqrestore(&vm->lock, flags);
    if (last)
        vm_teardown(vm);
}

int vm_stop_by_name(const char *name)
{
    struct vm *vm = vm_find(name);

    if (!vm)
        return -ENOENT;
    if (vm->state == VM_STOPPED)
        return -ESRCH;
    /* Also ends a reset in progress: the VM must not come back by itself after this. */
    unsigned long flags = spin_lock_irqsave(&vm->lock);
    __atomic_store_n(&vm->host_stop, true, __ATOMIC_SEQ_CST);
    if (vm->reset_requested) {
        vm->reset_requested = false;
        snprintf(vm->stop_reason, sizeof(vm->stop_reason), SHELL_STOP);
    }
    spin_unlock_irqrestore(&vm->lock, flags);
    vm_request_stop(vm, false, SHELL_STOP);
    return wait_event_until(&vm->stopped_wq, vm->state == VM_STOPPED,
                            timer_counter() + timer_ns_to_ticks(STOP_WAIT_NS));
}

static void vcpu_kick_irq(unsigned int intid, void *arg)
{
    (void)intid;
    (void)arg; /* leaving the guest was the point; the exit path does the rest */
}

/* Every CPU (the boot CPU after vmm_init): the per-CPU interrupts the VMM takes. */
static void vmm_cpu_init(void)
{
    irq_enable_local(SGI_VCPU_KICK);
    irq_enable_local((unsigned)platform.gic_maint_irq);
    vtimer_cpu_init();
}

/* Every exception from a guest leaves through vcpu_trap.c. */
static const struct lower_el_ops guest_exits = {
    .sync = vcpu_trap_sync,
    .irq = vcpu_trap_irq,
    .serror = vcpu_trap_serror,
};

/* After the GIC and timers: the interrupts the VMM owns, and the guests' exits. */
static int vmm_init(void)
{
    int bits = stage2_parange_bits((unsigned)(read_sysreg(id_aa64mmfr0_el1) & 0xf));
    int err;

    if (bits < 0)
        return bits;
    ipa_bits = (unsigned)bits;
    exception_set_lower_el_ops(&guest_exits);
    vdebug_init();
    vpmu_init();
    err = vgic_hw_init();
    if (!err)
        err = vtimer_init();
    if (!err)
        err = irq_register(SGI_VCPU_KICK, vcpu_kick_irq, NULL);
    if (!err)
        vconsole_mux_init(console_write);
    return err;
}

/* The EL2 build's start-up (kernel/init.h). */
static int vmm_start(void)
{
    int err = vmm_init();

    if (err)
        return err;
    vnet_uplink_init(); /* no NIC, or one that cannot be used: the VMs still run, unconnected */
    return 0;
}
INIT_HOOK(INIT_SERVICES, vmm_start, "hypervisor (vGIC, timers)");
CPU_INIT_HOOK(vmm_cpu_init);
