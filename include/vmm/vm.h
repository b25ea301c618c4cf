/* vm.h - virtual machines and their vCPUs: lifecycle, the run loop's state, the VM table. */
#ifndef VMM_VM_H
#define VMM_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/cpu.h"
#include "arch/fpsimd.h"
#include "arch/trap.h"
#include "kernel/spinlock.h"
#include "kernel/wait.h"
#include "vmm/loader.h"
#include "vmm/mmio_bus.h"
#include "vmm/manifest.h"
#include "vmm/stage2.h"
#include "vmm/vdebug.h"
#include "vmm/vconsole.h"
#include "vmm/vgic.h"
#include "vmm/vpl011.h"
#include "vmm/vpmu.h"
#include "vmm/vm_rtc.h"

#define VM_MAX       8 /* VMs that exist at once (running or stopped, for status and logs) */
#define VM_MAX_VCPUS GUEST_SMP_MAX
#define VM_MAX_LRS   16  /* list registers the world switch saves (hardware has 4 on QEMU) */
#define VCPU_PRIO    20  /* vCPU threads: ordinary priority, below the shell (40) */
#define VM_STOP_MAX  200 /* bytes of the stop report kept for `guest status` */
#define VM_RAM_CHUNK (2UL << 20) /* guest RAM is allocated and mapped in 2 MiB blocks */

enum vm_state {
    VM_EMPTY,    /* slot unused */
    VM_RUNNING,  /* its vCPU threads exist */
    VM_STOPPING, /* stop requested or reported; threads are leaving */
    VM_STOPPED,  /* threads gone, memory freed; report and log kept */
};

enum vcpu_state {
    VCPU_OFF,    /* PSCI off: its thread waits for CPU_ON */
    VCPU_ON,     /* runs guest code (or is about to) */
    VCPU_WFI,    /* blocked in WFI until an interrupt */
    VCPU_EXITED, /* its thread has left the run loop */
};

/* Why a vCPU trapped, for the exit counts `guest status` shows. */
enum vcpu_exit_kind {
    EXIT_HVC,
    EXIT_SMC,
    EXIT_MMIO,
    EXIT_SYSREG,
    EXIT_WFI,
    EXIT_WFE,
    EXIT_IRQ,
    EXIT_FP,
    EXIT_OTHER,
    EXIT_KINDS,
};

/** Callee-saved host registers across a guest run (vcpu_entry.S): x19-x30 and SP. */
struct vcpu_host_ctx {
    uint64_t x[12];
    uint64_t sp;
};

/** EL1 state the world switch saves and restores (Arm ARM D13 "AArch64 System Registers"). */
struct vcpu_sysregs {
    uint64_t sctlr, cpacr, ttbr0, ttbr1, tcr, mair, amair, vbar, contextidr;
    uint64_t esr, afsr0, afsr1, far, par, tpidr, tpidr_el0, tpidrro, sp_el1, elr, spsr;
    uint64_t cntkctl, csselr, mdscr;
    uint64_t cntv_ctl, cntv_cval;
};

/** The vGIC list-register state of a vCPU while it is not loaded on a CPU. */
struct vcpu_vgic_hw {
    unsigned nr_used; /* LRs in use, as in vcpu->vgic_lrs (the rest are zero in hardware) */
    uint64_t lr_raw[VM_MAX_LRS]; /* the LRs as they were when the vCPU left its CPU */
    uint64_t vmcr, apr, hcr;
    /* Forwarded PPIs (a bit per INTID) whose physical interrupt is active for this vCPU: on its
     * CPU while loaded, made so again by vgic_hw_load. */
    uint32_t hw_active;
};

/** The EL1 physical timer, emulated (CNTHCTL_EL2.EL1PCEN = 0 traps the guest's accesses). */
struct vcpu_ptimer {
    uint64_t ctl;  /* ENABLE, IMASK as the guest wrote them */
    uint64_t cval; /* physical count */
    bool level;    /* the line as last given to the vGIC */
};

struct vm;
struct vm_disk;
struct vm_net;

/**
 * A virtual CPU: a kernel thread running vcpu_run(). Fields marked "own" are touched only by its
 * thread; "lock" by vm->lock; regs while it is outside the guest and no trap is being handled.
 */
struct vcpu {
    struct vm *vm;
    unsigned id;
    struct thread *thread;
    volatile int state;        /* enum vcpu_state; lock to change */
    struct trap_frame regs;    /* own: guest x0-x30, SP_EL0 (sp), PC (elr), PSTATE (spsr) */
    struct trap_frame *tf;     /* own: the live frame while a trap is handled, else NULL */
    struct vcpu_host_ctx host; /* own: vcpu_entry.S */
    struct vcpu_sysregs sys;   /* own, while not loaded */
    struct fpsimd_state fp;    /* own, while the CPU's FP registers are not this vCPU's */
    struct vcpu_vgic_hw vgic;  /* own, while not loaded */
    struct vgic_lr vgic_lrs[VM_MAX_LRS]; /* own: what the LRs were last written with */
    struct vcpu_ptimer ptimer;           /* own */
    struct vdebug_state dbg;             /* own, while not loaded (registers of active ones) */
    struct vpmu_state pmu;               /* own, while not loaded (registers of active ones) */
    bool loaded;                         /* own: EL1 state is in this CPU's registers */
    bool in_run;                         /* own: between the first load and the last put of a run */
    volatile int pcpu;                   /* physical CPU it was last loaded on, -1 before */
    uint64_t mpidr;                      /* VMPIDR_EL2 */
    struct wait_queue wq;                /* WFI and PSCI-off sleep here */
    volatile bool kick;   /* something needs its attention: recheck before sleeping */
    uint64_t wfi_advance; /* own: ticks a WFI sleeper wakes ahead of its timer (vcpu_trap.c) */
    uint64_t poll_ticks;  /* own: how long a WFI polls for a kick before it sleeps */
    bool off_requested;   /* own: PSCI CPU_OFF called, leave the guest */
    /*
     * atomic: VCPU_WORK_* bits, set with the fact they stand for (vm->state, off_requested,
     * ptimer.ctl), so that the way back into the guest tests one word and the vGIC's flag
     * instead of four fields in three structures; vcpu_prepare_resume reads the facts.
     */
    uint32_t work;
    const uint8_t *needs_flush; /* &vm->vgic.cpu[id].needs_flush, fixed at init */
    uint64_t exits[EXIT_KINDS]; /* own */
};

/* Why the way back into the guest must take vcpu_prepare_resume (struct vcpu, work). */
enum {
    VCPU_WORK_STOP = 1u << 0,   /* the VM is stopping */
    VCPU_WORK_OFF = 1u << 1,    /* off_requested */
    VCPU_WORK_PTIMER = 1u << 2, /* the emulated physical timer is on (ptimer.ctl != 0) */
};

static inline void vcpu_work_set(struct vcpu *v, uint32_t bit, bool on)
{
    if (on)
        __atomic_fetch_or(&v->work, bit, __ATOMIC_RELEASE);
    else
        __atomic_fetch_and(&v->work, ~bit, __ATOMIC_RELEASE);
}

/**
 * A VM. lock protects state, the vCPU states and stop_reason; the rest is fixed while it runs.
 */
struct vm {
    spinlock_t lock;
    int state; /* enum vm_state */
    unsigned slot;
    struct guest_manifest m;
    struct load_plan plan; /* where its kernel, initrd and dtb go (checked by guest_validate) */
    struct stage2 s2;
    uint64_t ram_base, ram_size;
    uint64_t *ram_chunks; /* PA of each VM_RAM_CHUNK of guest RAM */
    unsigned nr_chunks;
    uint64_t cntvoff;
    unsigned nr_vcpus;
    struct vcpu vcpu[VM_MAX_VCPUS];
    int last_vcpu_on[8];   /* per physical CPU (MAX_CPUS): vCPU of this VM that ran there last */
    unsigned live_threads; /* lock: vCPU threads not yet finished */
    bool reset_requested;  /* lock: SYSTEM_RESET: start again once stopped */
    bool host_stop;        /* atomic: `guest stop` asked, so no reset brings it back */
    bool
        sysreg_undef_reported; /* atomic: the console named a register the guest got an UNDEF for */
    char stop_reason[VM_STOP_MAX];            /* lock */
    struct vm_disk *disks[GUEST_MAX_DEVICES]; /* virtio-blk slots 0.. (vm_disk.c) */
    unsigned nr_disks;
    struct vm_net *nets[GUEST_MAX_DEVICES]; /* virtio-net slots nr_disks.. (vm_net.c) */
    unsigned nr_nets;
    struct vgic vgic;
    struct vpl011 uart;
    struct mmio_bus bus; /* its emulated devices by IPA, filled by vm_boot */
    struct vm_rtc rtc;
    struct vconsole console;
    struct wait_queue stopped_wq; /* `guest stop` waits here for VM_STOPPED */
    uint64_t started_ns;
    unsigned generation; /* starts of this slot, so a reset VM keeps its place */
    bool fault_reported; /* atomic: an external abort was injected and reported (vfault.c) */
};

/* Start the guest of a validated manifest in a new VM (plan from guest_validate): 0, or -errno
 * with one line printed saying why. */
int vm_start(const struct guest_manifest *m, const struct load_plan *plan);
/* Stop a running VM by name and wait for its threads: 0, -ENOENT, -ESRCH. */
int vm_stop_by_name(const char *name);
/* The VM named name (running or stopped), or NULL. */
struct vm *vm_find(const char *name);
/* VM in table slot i (running or stopped), or NULL. */
struct vm *vm_slot(unsigned i);
/* The next running VM after vm in table order (wrapping), or NULL when none runs. */
struct vm *vm_next_running(struct vm *vm);

/*
 * Stop the VM from inside (a vCPU's fatal trap, SYSTEM_OFF, SYSTEM_RESET): record why, ask every
 * vCPU to leave. The first reason sticks. reset: start the same guest again once stopped.
 */
void vm_request_stop(struct vm *vm, bool reset, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool vm_stopping(const struct vm *vm);

/* Guest RAM: the host PA of an IPA of guest RAM and the bytes left in its chunk, 0 if outside. */
uint64_t vm_ram_pa(const struct vm *vm, uint64_t ipa, uint64_t *contiguous);
/* Copy to/from guest RAM at an IPA: 0 or -EFAULT if any byte is outside RAM. */
int vm_write_ram(struct vm *vm, uint64_t ipa, const void *src, uint64_t len);
int vm_read_ram(struct vm *vm, uint64_t ipa, void *dst, uint64_t len);

/* vcpu.c: the vCPU thread body and what other parts use to reach a vCPU. */
int vcpu_thread_main(void *arg);
/* Make the vCPU notice new work: wake it from WFI, or interrupt its physical CPU. */
void vcpu_kick(struct vcpu *vcpu);
/* The vCPU loaded on this CPU (the running thread's, inside a guest run), else NULL. */
static inline struct vcpu *vcpu_current(void)
{
    return this_cpu()->guest;
}
/* vcpu_trap.c: a synchronous exception or an IRQ taken from the guest. */
void vcpu_trap_sync(struct trap_frame *tf);
void vcpu_trap_irq(struct trap_frame *tf);
void vcpu_trap_serror(struct trap_frame *tf);

#endif
