/* bench.h - TestOS's benchmark mode (bootargs `bench`): instruction counts under icount. */
#ifndef TESTOS_BENCH_H
#define TESTOS_BENCH_H

void bench_run(void);

#endif
