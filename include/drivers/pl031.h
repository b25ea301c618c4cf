/* pl031.h - Arm PL031 real-time clock: wall-clock seconds for file time stamps. */
#ifndef DRIVERS_PL031_H
#define DRIVERS_PL031_H

#include <stdint.h>

struct rtc_time {
    uint16_t year;
    uint8_t month, day, hour, minute, second;
};

void pl031_init(uint64_t base_pa);
/* Seconds since 1970-01-01 UTC; 0 when there is no RTC. */
uint64_t rtc_seconds(void);
/* Convert seconds since the epoch to a calendar date and time (UTC). */
void rtc_to_date(uint64_t secs, struct rtc_time *out);

#endif
