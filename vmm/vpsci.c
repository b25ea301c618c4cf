/* vpsci.c - PSCI 1.1 and the SMCCC version calls for guests, over HVC and SMC alike. */
#include "kernel/wait.h"
#include "vmm/vcpu_arch.h"
#include "vmm/vcpu_run.h"
#include "vmm/vm.h"

/* Function IDs and return codes (Arm DEN 0022, PSCI 1.1, 5.1 and 5.2.2; DEN 0028 SMCCC). */
#define SMCCC_VERSION        0x80000000u
#define SMCCC_ARCH_FEATURES  0x80000001u
#define PSCI_VERSION         0x84000000u
#define PSCI_CPU_SUSPEND32   0x84000001u
#define PSCI_CPU_OFF         0x84000002u
#define PSCI_CPU_ON32        0x84000003u
#define PSCI_AFFINITY_INFO32 0x84000004u
#define PSCI_MIGRATE_INFO    0x84000006u
#define PSCI_SYSTEM_OFF      0x84000008u
#define PSCI_SYSTEM_RESET    0x84000009u
#define PSCI_FEATURES        0x8400000au
#define PSCI_CPU_SUSPEND64   0xc4000001u
#define PSCI_CPU_ON64        0xc4000003u
#define PSCI_AFFINITY_INFO64 0xc4000004u

#define PSCI_SUCCESS         0
#define PSCI_NOT_SUPPORTED   (-1)
#define PSCI_INVALID_PARAMS  (-2)
#define PSCI_ALREADY_ON      (-4)
#define PSCI_INVALID_ADDRESS (-9)

#define PSCI_VERSION_1_1     0x10001u
#define SMCCC_VERSION_1_1    0x10001u
#define MIGRATE_NOT_REQUIRED 2 /* no Trusted OS to migrate */
#define AFF_ON               0
#define AFF_OFF              1
#define AFF_ON_PENDING       2

/* CPU_SUSPEND power_state, original format (PSCI 1.1, 5.4.2.1): StateID [15:0], StateType [16]
 * (1: power down), PowerLevel [25:24]; the rest reserved. */
#define POWER_STATE_POWERDOWN (1u << 16)
#define POWER_STATE_RESERVED  0xfcfe0000u
#define MPIDR_AFF_MASK        0xff00ffffffUL /* Aff3, Aff2, Aff1, Aff0 */

/* The vCPU with this MPIDR (Aff0 = index, higher levels 0), or NULL: also when bits other than
 * the affinity fields are set, which PSCI calls refuse (INVALID_PARAMETERS). */
static struct vcpu *vcpu_by_mpidr(struct vm *vm, uint64_t mpidr)
{
    if ((mpidr & ~MPIDR_AFF_MASK) || mpidr >= vm->nr_vcpus)
        return NULL;
    return &vm->vcpu[mpidr];
}

static bool entry_valid(struct vm *vm, uint64_t entry)
{
    uint64_t contiguous;

    return !(entry & 3) && vm_ram_pa(vm, entry, &contiguous);
}

/*
 * A standby state returns as a WFI does, once there is an interrupt to take. A power-down state
 * also waits for one, then the vCPU starts again at entry with context in x0 as after a warm
 * boot (PSCI 1.1, 5.4.2 and 6.4.3); that is also what a wake-up before it got there looks like.
 */
static int64_t cpu_suspend(struct vcpu *v, struct trap_frame *tf, uint64_t power_state,
                           uint64_t entry, uint64_t context)
{
    if (power_state & POWER_STATE_RESERVED)
        return PSCI_INVALID_PARAMS;
    if (!(power_state & POWER_STATE_POWERDOWN)) {
        vcpu_wait_interrupt(v);
        return PSCI_SUCCESS;
    }
    if (!entry_valid(v->vm, entry))
        return PSCI_INVALID_ADDRESS;
    vcpu_wait_interrupt(v);
    vcpu_arch_warm_boot(tf, entry, context);
    return (int64_t)context;
}

static int64_t cpu_on(struct vcpu *v, uint64_t mpidr, uint64_t entry, uint64_t context)
{
    struct vm *vm = v->vm;
    struct vcpu *t = vcpu_by_mpidr(vm, mpidr);
    int64_t ret = PSCI_SUCCESS;

    if (!t)
        return PSCI_INVALID_PARAMS;
    if (!entry_valid(vm, entry))
        return PSCI_INVALID_ADDRESS;
    unsigned long flags = spin_lock_irqsave(&vm->lock);
    if (t->state != VCPU_OFF) {
        ret = PSCI_ALREADY_ON;
    } else {
        vcpu_arch_reset(t, entry, context); /* its thread is asleep: nothing else touches it */
        t->state = VCPU_ON;
    }
    spin_unlock_irqrestore(&vm->lock, flags);
    if (ret == PSCI_SUCCESS)
        wait_wake_all(&t->wq);
    return ret;
}

static int64_t affinity_info(struct vm *vm, uint64_t mpidr, uint64_t level)
{
    struct vcpu *t = vcpu_by_mpidr(vm, mpidr);

    if (!t || level != 0)
        return PSCI_INVALID_PARAMS;
    return t->state == VCPU_OFF ? AFF_OFF : AFF_ON;
}

static int64_t features(uint32_t fn)
{
    switch (fn) {
    case SMCCC_VERSION:
    case PSCI_VERSION:
    case PSCI_CPU_OFF:
    case PSCI_CPU_ON32:
    case PSCI_CPU_ON64:
    case PSCI_AFFINITY_INFO32:
    case PSCI_AFFINITY_INFO64:
    case PSCI_MIGRATE_INFO:
    case PSCI_SYSTEM_OFF:
    case PSCI_SYSTEM_RESET:
    case PSCI_FEATURES: return PSCI_SUCCESS;
    case PSCI_CPU_SUSPEND32:
    case PSCI_CPU_SUSPEND64: return 0; /* original power_state format, no OS-initiated mode */
    default: return PSCI_NOT_SUPPORTED;
    }
}

void vpsci_call(struct vcpu *v, struct trap_frame *tf)
{
    uint32_t fn = (uint32_t)tf->x[0];
    bool smc64 = fn & 0x40000000u;
    uint64_t a1 = tf->x[1], a2 = tf->x[2], a3 = tf->x[3];
    int64_t ret;

    if (!smc64) { /* SMC32 convention: arguments are 32 bits */
        a1 = (uint32_t)a1;
        a2 = (uint32_t)a2;
        a3 = (uint32_t)a3;
    }
    switch (fn) {
    case SMCCC_VERSION: ret = SMCCC_VERSION_1_1; break;
    case SMCCC_ARCH_FEATURES: ret = PSCI_NOT_SUPPORTED; break;
    case PSCI_VERSION: ret = PSCI_VERSION_1_1; break;
    case PSCI_CPU_SUSPEND32:
    case PSCI_CPU_SUSPEND64: ret = cpu_suspend(v, tf, a1, a2, a3); break;
    case PSCI_CPU_OFF:
        v->off_requested = true; /* the run loop turns it off after saving its state */
        vcpu_work_set(v, VCPU_WORK_OFF, true);
        ret = PSCI_SUCCESS;
        break;
    case PSCI_CPU_ON32:
    case PSCI_CPU_ON64: ret = cpu_on(v, a1, a2, a3); break;
    case PSCI_AFFINITY_INFO32:
    case PSCI_AFFINITY_INFO64: ret = affinity_info(v->vm, a1, a2); break;
    case PSCI_MIGRATE_INFO: ret = MIGRATE_NOT_REQUIRED; break;
    case PSCI_SYSTEM_OFF:
        vm_request_stop(v->vm, false, "powered off (PSCI SYSTEM_OFF from vCPU %u)", v->id);
        ret = PSCI_SUCCESS;
        break;
    case PSCI_SYSTEM_RESET:
        vm_request_stop(v->vm, true, "reset (PSCI SYSTEM_RESET from vCPU %u)", v->id);
        ret = PSCI_SUCCESS;
        break;
    case PSCI_FEATURES: ret = features((uint32_t)a1); break;
    default: ret = PSCI_NOT_SUPPORTED; break; /* SMCCC: unknown function identifier */
    }
    tf->x[0] = (uint64_t)ret;
}
