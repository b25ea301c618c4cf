/* checks.h - TestOS's self-checks, run in order by the boot CPU, in two groups. */
#ifndef TESTOS_CHECKS_H
#define TESTOS_CHECKS_H

void checks_basic(void);
void checks_interrupts(void);

#endif
