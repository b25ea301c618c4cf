/* test_vinject.c - the synchronous external abort Avatar injects: ESR, FAR, ELR, SPSR, vector,
 * PSTATE. */
#include <stdint.h>

#include "arch/sysreg.h"
#include "lib/errno.h"
#include "test.h"
#include "vmm/vinject.h"

#define VBAR 0xffff800010010800UL
#define PC   0xffff800010234568UL
#define VA   0x0000000048000010UL

static struct vinject_abort abort_from(uint64_t pstate, bool instruction)
{
    return (struct vinject_abort){.instruction = instruction,
                                  .write = false,
                                  .il32 = true,
                                  .va = VA,
                                  .pc = PC,
                                  .pstate = pstate,
                                  .vbar = VBAR};
}

/* A data read from EL1h: current-EL data abort, SP_ELx vector, the return state kept. */
static void test_data_abort_el1h(void)
{
    struct vinject_abort a = abort_from(0x600003c5UL, false); /* Z, C set; EL1h, DAIF masked */
    struct vinject_entry e;

    CHECK_EQ(vinject_sync_abort(&a, &e), 0);
    CHECK_EQ(e.esr, 0x96000010UL); /* EC 0x25, IL, FSC 0x10 */
    CHECK_EQ(ESR_EC(e.esr), EC_DABT_CUR);
    CHECK_EQ(e.far, VA);
    CHECK_EQ(e.elr, PC);
    CHECK_EQ(e.spsr, 0x600003c5UL);
    CHECK_EQ(e.pc, VBAR + 0x200);
    CHECK_EQ(e.pstate, 0x600003c5UL); /* NZCV kept, EL1h, D A I F */
}

/* A write sets WnR; from EL1t the vector is the SP_EL0 one. */
static void test_data_write_el1t(void)
{
    struct vinject_abort a = abort_from(PSR_MODE_EL1T, false);
    struct vinject_entry e;

    a.write = true;
    CHECK_EQ(vinject_sync_abort(&a, &e), 0);
    CHECK_EQ(e.esr, 0x96000050UL);
    CHECK_EQ(e.pc, VBAR + 0x000);
    CHECK_EQ(e.pstate, PSR_DAIF_MASK | PSR_MODE_EL1H); /* interrupts masked on entry */
}

/* From EL0 (AArch64): lower-EL classes and the 0x400 vector; unmasked PSTATE becomes masked. */
static void test_from_el0(void)
{
    struct vinject_abort a = abort_from(0x80000000UL | PSR_MODE_EL0T, true);
    struct vinject_entry e;

    CHECK_EQ(vinject_sync_abort(&a, &e), 0);
    CHECK_EQ(e.esr, 0x82000010UL); /* EC 0x20, IL, FSC 0x10 */
    CHECK_EQ(ESR_EC(e.esr), EC_IABT_LOW);
    CHECK_EQ(e.pc, VBAR + 0x400);
    CHECK_EQ(e.spsr, 0x80000000UL);
    CHECK_EQ(e.pstate, 0x80000000UL | PSR_DAIF_MASK | PSR_MODE_EL1H);

    a.instruction = false;
    a.write = true;
    CHECK_EQ(vinject_sync_abort(&a, &e), 0);
    CHECK_EQ(e.esr, 0x92000050UL); /* EC 0x24, IL, WnR, FSC 0x10 */
}

/* An instruction fetch from EL1h: EC 0x21; WnR is never set for a fetch; a 16-bit IL stays 0. */
static void test_instruction_el1h(void)
{
    struct vinject_abort a = abort_from(PSR_MODE_EL1H, true);
    struct vinject_entry e;

    a.write = true;
    a.il32 = false;
    CHECK_EQ(vinject_sync_abort(&a, &e), 0);
    CHECK_EQ(e.esr, 0x84000010UL);
    CHECK_EQ(e.pc, VBAR + 0x200);
}

/* AArch32 EL0 (User mode) goes to the 0x600 vector; VBAR's RES0 low bits are ignored. */
static void test_aarch32_el0(void)
{
    struct vinject_abort a = abort_from(0x20000000UL | PSR_MODE_32_USR, false);
    struct vinject_entry e;

    a.vbar = 0x40001000UL | 0x7ff;
    CHECK_EQ(vinject_sync_abort(&a, &e), 0);
    CHECK_EQ(ESR_EC(e.esr), EC_DABT_LOW);
    CHECK_EQ(e.pc, 0x40001600UL);
    CHECK_EQ(e.spsr, 0x20000000UL | PSR_MODE_32_USR);
}

/* States a guest's EL1 exception cannot come from are refused, nothing written. */
static void test_impossible_states(void)
{
    static const uint64_t bad[] = {0x8 /* EL2t */,
                                   0x9 /* EL2h */,
                                   0xd /* EL3h */,
                                   0x13 /* AArch32 SVC */,
                                   0x1f /* AArch32 System */,
                                   0x2,
                                   0x6};
    struct vinject_entry e = {0};

    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct vinject_abort a = abort_from(bad[i], false);
        CHECK_EQ(vinject_sync_abort(&a, &e), -EINVAL);
    }
    CHECK_EQ(e.esr, 0);
    CHECK_EQ(e.pc, 0);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"vinject/data_abort_el1h", test_data_abort_el1h},
        {"vinject/data_write_el1t", test_data_write_el1t},
        {"vinject/from_el0", test_from_el0},
        {"vinject/instruction_el1h", test_instruction_el1h},
        {"vinject/aarch32_el0", test_aarch32_el0},
        {"vinject/impossible_states", test_impossible_states},
    };

    return test_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
