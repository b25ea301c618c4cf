/* timer.h - the generic timer's control register bits, the same in CNTP_CTL_EL0, CNTV_CTL_EL0 and
 * CNTHP_CTL_EL2 (Arm ARM D13.8.x), for the tick timer, the vCPU switch and TestOS. */
#ifndef HW_TIMER_H
#define HW_TIMER_H

#define CNT_CTL_ENABLE  (1u << 0)
#define CNT_CTL_IMASK   (1u << 1) /* the interrupt is masked */
#define CNT_CTL_ISTATUS (1u << 2) /* the condition is met (read-only) */

#endif
