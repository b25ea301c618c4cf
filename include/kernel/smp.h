/* smp.h - bringing up and talking to the other CPUs. */
#ifndef KERNEL_SMP_H
#define KERNEL_SMP_H

void smp_init_boot_cpu(void);
void smp_init_irqs(void);
void smp_boot_secondaries(void);
void secondary_main(unsigned int cpu) __attribute__((noreturn));
/* Send SGI_PING to cpu and wait (bounded) until it has taken it: 0 or -1 on timeout. */
int smp_ping(unsigned int cpu);
/* Halt every other online CPU (panic path). */
void smp_stop_others(void);

#endif
