/* pmuprobe.h - bootargs pmuprobe=write|read: PMU and debug state one VM leaves for the next. */
#ifndef TESTOS_PMUPROBE_H
#define TESTOS_PMUPROBE_H

#include "arch.h"

/* The mode the bootargs ask for (pmuprobe=write or pmuprobe=read), or false. */
bool pmuprobe_wanted(void);
void pmuprobe_run(void);

#endif
