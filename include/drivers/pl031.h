/* pl031.h - Arm PL031 real-time clock: wall-clock seconds for file time stamps. */
#ifndef DRIVERS_PL031_H
#define DRIVERS_PL031_H

#include <stdint.h>

/* Registers (TRM 3.2). */
#define PL031_DR        0x000 /* data: the current seconds count (read only) */
#define PL031_MR        0x004 /* match: the interrupt fires when DR reaches it */
#define PL031_LR        0x008 /* load: writing it sets DR */
#define PL031_CR        0x00c /* control: bit 0 "started", always 1 here */
#define PL031_IMSC      0x010 /* interrupt mask set/clear: bit 0 lets the interrupt out */
#define PL031_RIS       0x014 /* raw interrupt status */
#define PL031_MIS       0x018 /* masked interrupt status */
#define PL031_ICR       0x01c /* interrupt clear: a 1 in bit 0 clears it */
#define PL031_ID_BASE   0xfe0 /* PeriphID0..3, then PCellID0..3, one byte per word */
#define PL031_SIZE      0x1000
#define PL031_PERIPH_ID 0x00141031u /* part 0x031, designer 0x41 (Arm), revision 1 */
#define PL031_PCELL_ID  0xb105f00du
#define PL031_INT_BIT   1u

struct rtc_time {
    uint16_t year;
    uint8_t month, day, hour, minute, second;
};

void pl031_init(uint64_t base_pa);
/* Seconds since 1970-01-01 UTC; 0 when there is no RTC. */
uint64_t rtc_seconds(void);
/* The system counter value at which rtc_seconds() reaches seconds (now or earlier: now's). */
uint64_t rtc_counter_at(uint64_t seconds);
/* Convert seconds since the epoch to a calendar date and time (UTC). */
void rtc_to_date(uint64_t secs, struct rtc_time *out);

#endif
