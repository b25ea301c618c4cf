/* test_vpl031.c - the emulated PL031 RTC: the clock and its offset, the match interrupt, IDs. */
#include <stdint.h>

#include "lib/errno.h"
#include "test.h"
#include "vmm/vpl031.h"

static uint64_t host_now = 1765000000; /* the host's wall clock, moved by the tests */
static int irq_calls;
static bool irq_level;
static int alarm_calls;

static uint64_t fake_now(void *ctx)
{
    (void)ctx;
    return host_now;
}

static void fake_irq(void *ctx, bool level)
{
    (void)ctx;
    irq_calls++;
    irq_level = level;
}

static void fake_alarm_changed(void *ctx)
{
    (void)ctx;
    alarm_calls++;
}

static const struct vpl031_ops ops = {fake_now, fake_irq, fake_alarm_changed};
static struct vpl031 rtc;

static uint32_t rd(uint64_t off)
{
    uint64_t v = 0xdeadbeef;
    CHECK_EQ(vpl031_read(&rtc, off, 4, &v), 0);
    return (uint32_t)v;
}

static void wr(uint64_t off, uint32_t v)
{
    CHECK_EQ(vpl031_write(&rtc, off, 4, v), 0);
}

static void reset(void)
{
    host_now = 1765000000;
    irq_calls = 0;
    irq_level = false;
    alarm_calls = 0;
    vpl031_init(&rtc, &ops, NULL);
}

/* DR follows the host's clock; LR moves only this RTC's DR; DR itself is read only. */
static void test_clock_and_load(void)
{
    reset();
    CHECK_EQ(rd(PL031_DR), 1765000000u);
    host_now += 5;
    CHECK_EQ(rd(PL031_DR), 1765000005u);
    wr(PL031_LR, 1000);
    CHECK_EQ(rd(PL031_DR), 1000u);
    CHECK_EQ(rd(PL031_LR), 1000u);
    host_now += 3;
    CHECK_EQ(rd(PL031_DR), 1003u);
    wr(PL031_DR, 7); /* ignored */
    CHECK_EQ(rd(PL031_DR), 1003u);
    CHECK_EQ(rd(PL031_CR), 1u);

    struct vpl031 other;
    vpl031_init(&other, &ops, NULL);
    uint64_t v;
    CHECK_EQ(vpl031_read(&other, PL031_DR, 4, &v), 0);
    CHECK_EQ(v, host_now); /* another VM's RTC is not moved */
}

/* The match raises RIS when DR reaches MR; MIS and the line follow IMSC; ICR clears it. */
static void test_match_interrupt(void)
{
    reset();
    wr(PL031_MR, (uint32_t)host_now + 2);
    host_now += 1;
    CHECK_EQ(rd(PL031_RIS), 0u);
    host_now += 2; /* past the match without an access at the exact second */
    CHECK_EQ(rd(PL031_RIS), 1u);
    CHECK_EQ(rd(PL031_MIS), 0u);
    CHECK_EQ(irq_calls, 0); /* masked: the line stays low */
    wr(PL031_IMSC, 1);
    CHECK_EQ(rd(PL031_MIS), 1u);
    CHECK(irq_level);
    CHECK_EQ(irq_calls, 1);
    wr(PL031_ICR, 0x80000000u); /* bit 0 clear: nothing cleared */
    CHECK_EQ(rd(PL031_RIS), 1u);
    wr(PL031_ICR, 1);
    CHECK_EQ(rd(PL031_RIS), 0u);
    CHECK_EQ(rd(PL031_MIS), 0u);
    CHECK(!irq_level);
    CHECK_EQ(irq_calls, 2);
    host_now += 100; /* the match does not come again until DR wraps round to it */
    CHECK_EQ(rd(PL031_RIS), 0u);
}

/* A match equal to the current count fires at once (as on QEMU); one already past does not. */
static void test_match_now_and_past(void)
{
    reset();
    wr(PL031_MR, (uint32_t)host_now);
    CHECK_EQ(rd(PL031_RIS), 1u);
    wr(PL031_ICR, 1);
    uint32_t mr = (uint32_t)host_now - 10;
    wr(PL031_MR, mr);
    host_now += 5;
    CHECK_EQ(rd(PL031_RIS), 0u);
    /* Loading DR just below MR makes the match come when the guest's clock reaches it. */
    wr(PL031_LR, mr - 2);
    host_now += 1;
    CHECK_EQ(rd(PL031_RIS), 0u);
    host_now += 1;
    CHECK_EQ(rd(PL031_RIS), 1u);
}

/* The match works across the 32-bit wrap of DR. */
static void test_match_wraps(void)
{
    reset();
    wr(PL031_LR, 0xfffffffeu);
    wr(PL031_MR, 1);
    host_now += 2;
    CHECK_EQ(rd(PL031_DR), 0u);
    CHECK_EQ(rd(PL031_RIS), 0u);
    host_now += 1;
    CHECK_EQ(rd(PL031_RIS), 1u);
}

/* The second a timer must wake at: only while the interrupt is unmasked and not yet raised; every
   write that moves it says so. */
static void test_alarm(void)
{
    uint64_t at = 0;

    reset();
    CHECK(!vpl031_alarm(&rtc, &at)); /* masked */
    wr(PL031_MR, (uint32_t)host_now + 30);
    CHECK_EQ(alarm_calls, 1);
    CHECK(!vpl031_alarm(&rtc, &at));
    wr(PL031_IMSC, 1);
    CHECK_EQ(alarm_calls, 2);
    CHECK(vpl031_alarm(&rtc, &at));
    CHECK_EQ(at, host_now + 30);
    /* The guest's clock set 10 s later: the match comes 10 s earlier in host time. */
    wr(PL031_LR, (uint32_t)host_now + 10);
    CHECK_EQ(alarm_calls, 3);
    CHECK(vpl031_alarm(&rtc, &at));
    CHECK_EQ(at, host_now + 20);
    host_now = at;
    vpl031_update(&rtc); /* the timer's call: the line rises without a guest access */
    CHECK(irq_level);
    CHECK(!vpl031_alarm(&rtc, &at)); /* raised: nothing more until cleared */
    wr(PL031_ICR, 1);
    CHECK_EQ(alarm_calls, 4);
    CHECK(vpl031_alarm(&rtc, &at));
    CHECK_EQ(at, host_now + (1ull << 32)); /* DR == MR now: the next match is a wrap away */
    rd(PL031_DR);
    wr(0x020, 1);
    CHECK_EQ(alarm_calls, 4); /* reads and other writes do not move it */
}

/* PrimeCell IDs (TRM 3.3) one byte per word; unknown offsets read 0. */
static void test_ids_and_holes(void)
{
    static const uint32_t want[8] = {0x31, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1};

    reset();
    for (unsigned i = 0; i < 8; i++)
        CHECK_EQ(rd(PL031_ID_BASE + 4 * i), want[i]);
    CHECK_EQ(rd(0x020), 0u);
    CHECK_EQ(rd(0xfdc), 0u);
    wr(0x020, 5);
    CHECK_EQ(rd(0x020), 0u);
    wr(PL031_RIS, 1);
    wr(PL031_MIS, 1);
    CHECK_EQ(rd(PL031_RIS), 0u);
    wr(PL031_IMSC, 0xff);
    CHECK_EQ(rd(PL031_IMSC), 1u);
}

/* Byte and halfword accesses as QEMU's PL031 takes them; anything else is refused. */
static void test_access_sizes(void)
{
    uint64_t v;

    reset();
    CHECK_EQ(vpl031_read(&rtc, PL031_ID_BASE + 0x1c, 1, &v), 0);
    CHECK_EQ(v, 0xb1);
    wr(PL031_LR, 0x12345678);
    CHECK_EQ(vpl031_read(&rtc, PL031_DR + 2, 2, &v), 0);
    CHECK_EQ(v, 0x1234);
    CHECK_EQ(vpl031_read(&rtc, PL031_DR + 1, 1, &v), 0);
    CHECK_EQ(v, 0x56);
    CHECK_EQ(vpl031_read(&rtc, PL031_DR, 8, &v), -EINVAL);
    CHECK_EQ(vpl031_read(&rtc, PL031_DR + 2, 4, &v), -EINVAL);
    CHECK_EQ(vpl031_read(&rtc, PL031_SIZE, 4, &v), -EINVAL);
    CHECK_EQ(vpl031_write(&rtc, PL031_LR, 8, 1), -EINVAL);
    CHECK_EQ(vpl031_write(&rtc, PL031_LR + 1, 4, 1), -EINVAL);
    CHECK_EQ(vpl031_write(&rtc, PL031_LR + 1, 2, 1), -EINVAL);
    CHECK_EQ(vpl031_write(&rtc, PL031_SIZE, 4, 1), -EINVAL);
    CHECK_EQ(rd(PL031_LR), 0x12345678u);
    /* A narrow write at a register's offset is that register's, zero-extended. */
    CHECK_EQ(vpl031_write(&rtc, PL031_LR, 2, 0xabcdef01), 0);
    CHECK_EQ(rd(PL031_LR), 0xef01u);
    CHECK_EQ(vpl031_write(&rtc, PL031_IMSC, 1, 0xff), 0);
    CHECK_EQ(rd(PL031_IMSC), 1u);
    /* Into the middle of a register: ignored. */
    CHECK_EQ(vpl031_write(&rtc, PL031_LR + 2, 2, 0x7777), 0);
    CHECK_EQ(vpl031_write(&rtc, PL031_IMSC + 1, 1, 0), 0);
    CHECK_EQ(rd(PL031_LR), 0xef01u);
    CHECK_EQ(rd(PL031_IMSC), 1u);
    /* The read-only ones keep their value for writes of every width (kvm-unit-tests check_ro). */
    for (unsigned size = 1; size <= 4; size *= 2) {
        CHECK_EQ(vpl031_write(&rtc, PL031_ID_BASE + 8, size, 0xdeadbeef), 0);
        CHECK_EQ(vpl031_write(&rtc, PL031_RIS, size, 0xdeadbeef), 0);
    }
    CHECK_EQ(rd(PL031_ID_BASE + 8), 0x14u);
    CHECK_EQ(rd(PL031_RIS), 0u);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"vpl031/clock_and_load", test_clock_and_load},
        {"vpl031/match_interrupt", test_match_interrupt},
        {"vpl031/match_now_and_past", test_match_now_and_past},
        {"vpl031/match_wraps", test_match_wraps},
        {"vpl031/alarm", test_alarm},
        {"vpl031/ids_and_holes", test_ids_and_holes},
        {"vpl031/access_sizes", test_access_sizes},
    };

    return test_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
