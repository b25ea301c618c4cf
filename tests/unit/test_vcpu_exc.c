/* test_vcpu_exc.c - the vector offset and PSTATE of an exception injected into a guest's EL1. */
#include "test.h"
#include "vmm/vcpu_exc.h"

#define VBAR 0x40081000UL

static const struct vcpu_exc_features none = {false, false};

/* One vector per source state (Arm ARM D1.10.2, Table D1-7). */
static void test_vector_offsets(void)
{
    CHECK_EQ(vcpu_exc_vector_offset(0x3c4), 0x000); /* EL1t */
    CHECK_EQ(vcpu_exc_vector_offset(0x3c5), 0x200); /* EL1h */
    CHECK_EQ(vcpu_exc_vector_offset(0x000), 0x400); /* EL0t */
    CHECK_EQ(vcpu_exc_vector_offset(0x010), 0x600); /* AArch32 User */
    CHECK_EQ(vcpu_exc_vector_offset(0x013), 0x600); /* AArch32 Supervisor */
    CHECK_EQ(vcpu_exc_enter(VBAR, 0x3c5, 0, none).pc, VBAR + 0x200);
    CHECK_EQ(vcpu_exc_enter(VBAR, 0x000, 0, none).pc, VBAR + 0x400);
}

/* EL1h with DAIF masked; the flags survive, everything else from the old PSTATE does not. */
static void test_pstate(void)
{
    uint64_t from_el0 = 0xa0000000UL | (1UL << 21) /* SS */ | (1UL << 20) /* IL */;

    CHECK_EQ(vcpu_exc_enter(VBAR, from_el0, 0, none).pstate, 0xa00003c5UL);
    CHECK_EQ(vcpu_exc_enter(VBAR, 0x3c4, 0, none).pstate, 0x3c5);
    CHECK_EQ(vcpu_exc_enter(VBAR, 0x005, 0, none).pstate, 0x3c5);
}

/* PAN is set unless SCTLR_EL1.SPAN asks to keep it; SSBS follows SCTLR_EL1.DSSBS. */
static void test_pan_ssbs(void)
{
    struct vcpu_exc_features f = {true, true};
    uint64_t span = 1UL << 23, dssbs = 1UL << 44, pan = 1UL << 22, ssbs = 1UL << 12;

    CHECK_EQ(vcpu_exc_enter(VBAR, 0, 0, f).pstate, 0x3c5 | pan);
    CHECK_EQ(vcpu_exc_enter(VBAR, 0, span, f).pstate, 0x3c5);
    CHECK_EQ(vcpu_exc_enter(VBAR, pan, span, f).pstate, 0x3c5 | pan);
    CHECK_EQ(vcpu_exc_enter(VBAR, ssbs, span, f).pstate, 0x3c5);
    CHECK_EQ(vcpu_exc_enter(VBAR, 0, span | dssbs, f).pstate, 0x3c5 | ssbs);
    CHECK_EQ(vcpu_exc_enter(VBAR, 0, dssbs, none).pstate, 0x3c5);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"vcpu_exc/vector_offsets", test_vector_offsets},
        {"vcpu_exc/pstate", test_pstate},
        {"vcpu_exc/pan_ssbs", test_pan_ssbs},
    };

    return test_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
