/* vinject.h - exceptions injected into a guest: the synchronous external abort of an access
 * outside its RAM and devices, taken to its EL1 as hardware would (Arm ARM D1.10). */
#ifndef VMM_VINJECT_H
#define VMM_VINJECT_H

#include <stdbool.h>
#include <stdint.h>

/* The guest's vector table offsets (Arm ARM D1.10.2, "Exception vectors"); + 0 is Synchronous. */
#define VINJECT_VEC_CUR_SP0   0x000UL
#define VINJECT_VEC_CUR_SPX   0x200UL
#define VINJECT_VEC_LOWER_A64 0x400UL
#define VINJECT_VEC_LOWER_A32 0x600UL
#define VINJECT_VBAR_MASK     (~0x7ffUL) /* VBAR_EL1[10:0] are RES0 */

/** A guest access that found nothing at its address, as the trap to EL2 reported it. */
struct vinject_abort {
    bool instruction; /* an instruction fetch, else a data access */
    bool write;       /* a data access that writes */
    bool il32;        /* the access was made by a 32-bit instruction (ESR_EL2.IL) */
    uint64_t va;      /* the virtual address accessed (FAR_EL2) */
    uint64_t pc;      /* the instruction (ELR_EL2) */
    uint64_t pstate;  /* the guest's PSTATE then (SPSR_EL2) */
    uint64_t vbar;    /* the guest's VBAR_EL1 */
};

/** What the guest's exception entry sets: its EL1 registers, then where it goes on. */
struct vinject_entry {
    uint64_t esr, far, elr, spsr; /* ESR_EL1, FAR_EL1, ELR_EL1, SPSR_EL1 */
    uint64_t pc, pstate;          /* the vector entry, and EL1h with D, A, I, F masked */
};

/*
 * The synchronous external abort for a, taken to EL1 (Arm ARM D1.10.1 "Exception entry"):
 * 0, or -EINVAL if the guest's PSTATE names a state an EL1 exception cannot come from.
 */
int vinject_sync_abort(const struct vinject_abort *a, struct vinject_entry *out);

#endif
