/* syscall.h - system calls with the Linux arm64 numbers: x8 = number, x0-x5 = arguments. */
#ifndef KERNEL_SYSCALL_H
#define KERNEL_SYSCALL_H

#include <stdint.h>

#include "arch/trap.h"

/* Run the call in tf (from SVC at EL0); the result (or -errno) goes to x0. */
void syscall_dispatch(struct trap_frame *tf);

/* Clocks (clock_gettime ids): CLOCK_REALTIME 0, CLOCK_MONOTONIC 1 and their variants. */
uint64_t sys_clock_ns(int clock);

/* Handlers, by file. a[0..5] are x0..x5; each validates what it takes from them. */
typedef int64_t (*syscall_fn)(const uint64_t *a);

/* sys_fs.c */
int64_t sys_getcwd(const uint64_t *a);
int64_t sys_dup(const uint64_t *a);
int64_t sys_dup3(const uint64_t *a);
int64_t sys_fcntl(const uint64_t *a);
int64_t sys_ioctl(const uint64_t *a);
int64_t sys_pipe2(const uint64_t *a);
int64_t sys_mkdirat(const uint64_t *a);
int64_t sys_unlinkat(const uint64_t *a);
int64_t sys_renameat(const uint64_t *a);
int64_t sys_ftruncate(const uint64_t *a);
int64_t sys_faccessat(const uint64_t *a);
int64_t sys_chdir(const uint64_t *a);
int64_t sys_openat(const uint64_t *a);
int64_t sys_close(const uint64_t *a);
int64_t sys_getdents64(const uint64_t *a);
int64_t sys_lseek(const uint64_t *a);
int64_t sys_read(const uint64_t *a);
int64_t sys_write(const uint64_t *a);
int64_t sys_readv(const uint64_t *a);
int64_t sys_writev(const uint64_t *a);
int64_t sys_pread64(const uint64_t *a);
int64_t sys_sendfile(const uint64_t *a);
int64_t sys_newfstatat(const uint64_t *a);
int64_t sys_fstat(const uint64_t *a);
int64_t sys_sync(const uint64_t *a);
int64_t sys_fsync(const uint64_t *a);
int64_t sys_fdatasync(const uint64_t *a);
int64_t sys_syncfs(const uint64_t *a);

/* sys_path.c: links */
int64_t sys_symlinkat(const uint64_t *a);
int64_t sys_linkat(const uint64_t *a);
int64_t sys_readlinkat(const uint64_t *a);
int64_t sys_fchmodat(const uint64_t *a);
int64_t sys_utimensat(const uint64_t *a);

/* sys_info.c */
int64_t sys_prlimit64(const uint64_t *a);
int64_t sys_getrlimit(const uint64_t *a);
int64_t sys_setrlimit(const uint64_t *a);
int64_t sys_getgroups(const uint64_t *a);
int64_t sys_set_robust_list(const uint64_t *a);
int64_t sys_sysinfo(const uint64_t *a);
int64_t sys_prctl(const uint64_t *a);

/* sys_proc.c */
int64_t sys_exit(const uint64_t *a);
int64_t sys_exit_group(const uint64_t *a);
int64_t sys_set_tid_address(const uint64_t *a);
int64_t sys_setpgid(const uint64_t *a);
int64_t sys_getpgid(const uint64_t *a);
int64_t sys_getsid(const uint64_t *a);
int64_t sys_setsid(const uint64_t *a);
int64_t sys_uname(const uint64_t *a);
int64_t sys_getpid(const uint64_t *a);
int64_t sys_getppid(const uint64_t *a);
int64_t sys_getuid(const uint64_t *a);
int64_t sys_gettid(const uint64_t *a);
int64_t sys_clone(const uint64_t *a);
int64_t sys_execve(const uint64_t *a);
int64_t sys_wait4(const uint64_t *a);

/* sys_signal.c, signal.c */
int64_t sys_kill(const uint64_t *a);
int64_t sys_tkill(const uint64_t *a);
int64_t sys_tgkill(const uint64_t *a);
int64_t sys_rt_sigaction(const uint64_t *a);
int64_t sys_rt_sigprocmask(const uint64_t *a);
int64_t sys_rt_sigpending(const uint64_t *a);
int64_t sys_rt_sigsuspend(const uint64_t *a);
int64_t sys_rt_sigreturn(const uint64_t *a);
int64_t sys_sigaltstack(const uint64_t *a);

/* sys_poll.c */
int64_t sys_ppoll(const uint64_t *a);

/* sys_sched.c */
int64_t sys_futex(const uint64_t *a);
int64_t sys_nanosleep(const uint64_t *a);
int64_t sys_clock_gettime(const uint64_t *a);
int64_t sys_clock_getres(const uint64_t *a);
int64_t sys_clock_nanosleep(const uint64_t *a);
int64_t sys_gettimeofday(const uint64_t *a);
int64_t sys_sched_setaffinity(const uint64_t *a);
int64_t sys_sched_getaffinity(const uint64_t *a);
int64_t sys_sched_yield(const uint64_t *a);
int64_t sys_setpriority(const uint64_t *a);
int64_t sys_getpriority(const uint64_t *a);
int64_t sys_getcpu(const uint64_t *a);
int64_t sys_getrandom(const uint64_t *a);

/* sys_mem.c */
int64_t sys_brk(const uint64_t *a);
int64_t sys_munmap(const uint64_t *a);
int64_t sys_mmap(const uint64_t *a);
int64_t sys_mprotect(const uint64_t *a);
int64_t sys_madvise(const uint64_t *a);

#endif
