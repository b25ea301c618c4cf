/* suspend.h - bootargs cpususpend: PSCI CPU_SUSPEND standby and power-down on the boot CPU. */
#ifndef TESTOS_SUSPEND_H
#define TESTOS_SUSPEND_H

void suspend_run(void);

#endif
