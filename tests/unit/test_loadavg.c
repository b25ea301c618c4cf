/* test_loadavg.c - host tests of the load average steps: rise, decay, ordering of the three. */
#include "kernel/loadavg.h"
#include "test.h"

static void test_constant_load_converges(void)
{
    unsigned long avg[3] = {0, 0, 0};

    /* Three hours of two runnable threads: all three averages at 2.00. */
    for (int i = 0; i < 2160; i++)
        loadavg_step(avg, 2);
    for (int i = 0; i < 3; i++)
        CHECK_EQ(avg[i], 2 * LOADAVG_FIXED_1);
}

static void test_one_minute_rises_first(void)
{
    unsigned long avg[3] = {0, 0, 0};

    for (int i = 0; i < 12; i++) /* one minute of load 1 */
        loadavg_step(avg, 1);
    /* 1 - e^-1 = 0.63 for the 1-minute average; the others lag behind. */
    CHECK(avg[0] > LOADAVG_FIXED_1 * 60 / 100 && avg[0] < LOADAVG_FIXED_1 * 66 / 100);
    CHECK(avg[1] < avg[0] && avg[2] < avg[1]);
}

static void test_decays_to_zero(void)
{
    unsigned long avg[3] = {3 * LOADAVG_FIXED_1, 3 * LOADAVG_FIXED_1, 3 * LOADAVG_FIXED_1};

    for (int i = 0; i < 12; i++)
        loadavg_step(avg, 0);
    CHECK(avg[0] < LOADAVG_FIXED_1 * 3 * 40 / 100); /* e^-1 of 3 is 1.10 */
    CHECK(avg[2] > avg[1] && avg[1] > avg[0]);
    for (int i = 0; i < 2000; i++)
        loadavg_step(avg, 0);
    CHECK_EQ(avg[0] + avg[1] + avg[2], 0);
}

static const struct test_case cases[] = {
    {"kernel/loadavg/constant_load_converges", test_constant_load_converges},
    {"kernel/loadavg/one_minute_rises_first", test_one_minute_rises_first},
    {"kernel/loadavg/decays_to_zero", test_decays_to_zero},
};

int main(int argc, char **argv)
{
    return test_main(cases, (int)(sizeof(cases) / sizeof(cases[0])), argc, argv);
}
