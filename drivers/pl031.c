/* pl031.c - Arm PL031 real-time clock (PrimeCell RTC TRM DDI 0224): reads the seconds counter. */
#include "drivers/pl031.h"
#include "arch/memlayout.h"
#include "arch/mmio.h"
#include "kernel/time.h"

/*
 * The RTC is read once; after that the time is its seconds plus the system counter's progress, so
 * wall-clock seconds tick exactly with the counter the CPUs (and guests) time themselves by.
 */
static uint64_t rtc_base_seconds;
static uint64_t rtc_base_count;

void pl031_init(uint64_t base_pa)
{
    if (!base_pa)
        return;
    rtc_base_seconds = mmio_read32((uintptr_t)phys_to_virt(base_pa) + PL031_DR);
    rtc_base_count = timer_counter();
}

uint64_t rtc_seconds(void)
{
    if (!rtc_base_seconds)
        return 0;
    return rtc_base_seconds + (timer_counter() - rtc_base_count) / timer_frequency();
}

uint64_t rtc_counter_at(uint64_t seconds)
{
    if (seconds <= rtc_seconds())
        return timer_counter();
    return rtc_base_count + (seconds - rtc_base_seconds) * timer_frequency();
}

void rtc_to_date(uint64_t secs, struct rtc_time *out)
{
    uint64_t days = secs / 86400, rem = secs % 86400;

    out->hour = (uint8_t)(rem / 3600);
    out->minute = (uint8_t)(rem % 3600 / 60);
    out->second = (uint8_t)(rem % 60);
    /* Civil date from a day count (proleptic Gregorian; eras of 400 years = 146097 days). */
    uint64_t z = days + 719468;
    uint64_t era = z / 146097;
    uint64_t doe = z - era * 146097;
    uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    uint64_t mp = (5 * doy + 2) / 153;
    uint64_t month = mp < 10 ? mp + 3 : mp - 9;
    out->day = (uint8_t)(doy - (153 * mp + 2) / 5 + 1);
    out->month = (uint8_t)month;
    out->year = (uint16_t)(yoe + era * 400 + (month <= 2));
}
