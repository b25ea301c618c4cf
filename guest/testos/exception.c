/* exception.c - TestOS exception dispatch: the SVC/BRK test traps, interrupts, fatal reports. */
#include "exception.h"
#include "check.h"
#include "gic.h"
#include "smp.h"

#define ESR_EC(esr) (((esr) >> 26) & 0x3f)
#define EC_SVC64    0x15
#define EC_BRK64    0x3c
#define KIND_SYNC   4 /* current EL with SP_ELx, synchronous */
#define KIND_IRQ    5 /* current EL with SP_ELx, IRQ */
#define KIND_LOWER  8 /* lower EL in AArch64, synchronous */
#define SPSR_EL1H   0x3c5

extern const char testos_el0_return[];
static struct exception_caught *catching;

extern const char testos_vectors[];

static irq_handler_fn irq_handlers[IRQ_MAX];

static const char *const kind_names[16] = {
    "sync (SP_EL0)", "IRQ (SP_EL0)", "FIQ (SP_EL0)", "SError (SP_EL0)",
    "sync",          "IRQ",          "FIQ",          "SError",
    "lower-EL sync", "lower-EL IRQ", "lower-EL FIQ", "lower-EL SError",
    "AArch32 sync",  "AArch32 IRQ",  "AArch32 FIQ",  "AArch32 SError",
};

/** Install the vector table on the calling CPU. */
void exception_init(void)
{
    write_sysreg(vbar_el1, (uintptr_t)testos_vectors);
    isb();
}

/** Route intid to fn on every CPU; intids past IRQ_MAX are a bug in the caller. */
void exception_set_irq_handler(unsigned int intid, irq_handler_fn fn)
{
    if (intid >= IRQ_MAX)
        check_fail("irq", "interrupt %u is beyond TestOS's table (%u)", intid, IRQ_MAX);
    irq_handlers[intid] = fn;
}

uint64_t exception_svc_count(void)
{
    return smp_this_cpu()->svc_count;
}

uint64_t exception_brk_count(void)
{
    return smp_this_cpu()->brk_count;
}

static void exception_fatal(struct frame *frame, uint64_t kind)
{
    check_fail("exception", "unexpected %s on cpu%u: ESR 0x%lx ELR 0x%lx FAR 0x%lx",
               kind_names[kind & 15], smp_this_cpu()->index, read_sysreg(esr_el1), frame->elr,
               read_sysreg(far_el1));
}

/* The vectors check's traps: SVC returns its argument inverted, BRK is stepped over. */
static void exception_sync(struct frame *frame)
{
    uint64_t esr = read_sysreg(esr_el1);
    uint32_t imm = esr & 0xffff;

    if (ESR_EC(esr) == EC_SVC64 && imm == EXCEPTION_SVC_ECHO) {
        frame->x[0] = ~frame->x[0]; /* ELR already points past the SVC */
        smp_this_cpu()->svc_count++;
        return;
    }
    if (ESR_EC(esr) == EC_BRK64 && imm == EXCEPTION_BRK_SKIP) {
        frame->elr += 4; /* ELR points at the BRK itself */
        frame->x[0] = ~frame->x[0];
        smp_this_cpu()->brk_count++;
        return;
    }
    if (catching) {
        catching->count++;
        catching->esr = esr;
        catching->elr = frame->elr;
        catching->lower = false;
        frame->elr += 4;
        return;
    }
    exception_fatal(frame, KIND_SYNC);
}

/* From EL0: the end of exception_el0_call's code, or (catching) a trapped instruction. */
static void exception_lower_sync(struct frame *frame)
{
    uint64_t esr = read_sysreg(esr_el1);

    if (ESR_EC(esr) == EC_SVC64 && (esr & 0xffff) == EXCEPTION_SVC_EL0_DONE) {
        frame->elr = (uintptr_t)testos_el0_return; /* back to EL1, on exception_el0_call's stack */
        frame->spsr = SPSR_EL1H;
        return;
    }
    if (catching) {
        catching->count++;
        catching->esr = esr;
        catching->elr = frame->elr;
        catching->lower = true;
        frame->elr += 4;
        return;
    }
    exception_fatal(frame, KIND_LOWER);
}

void exception_catch(struct exception_caught *c)
{
    if (c)
        *c = (struct exception_caught){0};
    catching = c;
}

static void exception_irq(struct frame *frame)
{
    uint32_t iar = gic_ack();
    unsigned int intid = gic_intid(iar);

    if (intid >= 1020)
        return; /* spurious: nothing to acknowledge */
    if (intid >= IRQ_MAX || !irq_handlers[intid])
        check_fail("irq", "unexpected interrupt %u on cpu%u", intid, smp_this_cpu()->index);
    irq_handlers[intid](frame, intid);
    gic_eoi(iar);
}

/** Called by vectors.S for every exception with the saved frame and the vector's index. */
void exception_dispatch(struct frame *frame, uint64_t kind)
{
    if (kind == KIND_SYNC)
        exception_sync(frame);
    else if (kind == KIND_IRQ)
        exception_irq(frame);
    else if (kind == KIND_LOWER)
        exception_lower_sync(frame);
    else
        exception_fatal(frame, kind);
}
