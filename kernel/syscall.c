/* syscall.c - the system call table (Linux arm64 numbers, include/uapi/asm-generic/unistd.h). */
#include "kernel/syscall.h"
#include "kernel/signal.h"
#include "lib/errno.h"

#define NR_RT_SIGRETURN 139

static const syscall_fn syscall_table[] = {
    [17] = sys_getcwd,
    [23] = sys_dup,
    [24] = sys_dup3,
    [25] = sys_fcntl,
    [29] = sys_ioctl,
    [34] = sys_mkdirat,
    [35] = sys_unlinkat,
    [36] = sys_symlinkat,
    [37] = sys_linkat,
    [38] = sys_renameat,
    [46] = sys_ftruncate,
    [48] = sys_faccessat,
    [49] = sys_chdir,
    [53] = sys_fchmodat,
    [56] = sys_openat,
    [57] = sys_close,
    [59] = sys_pipe2,
    [61] = sys_getdents64,
    [62] = sys_lseek,
    [63] = sys_read,
    [64] = sys_write,
    [65] = sys_readv,
    [66] = sys_writev,
    [67] = sys_pread64,
    [71] = sys_sendfile,
    [73] = sys_ppoll,
    [78] = sys_readlinkat,
    [79] = sys_newfstatat,
    [80] = sys_fstat,
    [81] = sys_sync,
    [82] = sys_fsync,
    [83] = sys_fdatasync,
    [88] = sys_utimensat,
    [93] = sys_exit,
    [94] = sys_exit_group,
    [96] = sys_set_tid_address,
    [98] = sys_futex,
    [99] = sys_set_robust_list,
    [101] = sys_nanosleep,
    [113] = sys_clock_gettime,
    [114] = sys_clock_getres,
    [115] = sys_clock_nanosleep,
    [122] = sys_sched_setaffinity,
    [123] = sys_sched_getaffinity,
    [124] = sys_sched_yield,
    [129] = sys_kill,
    [130] = sys_tkill,
    [131] = sys_tgkill,
    [132] = sys_sigaltstack,
    [133] = sys_rt_sigsuspend,
    [134] = sys_rt_sigaction,
    [135] = sys_rt_sigprocmask,
    [136] = sys_rt_sigpending,
    [139] = sys_rt_sigreturn,
    [140] = sys_setpriority,
    [141] = sys_getpriority,
    [154] = sys_setpgid,
    [155] = sys_getpgid,
    [156] = sys_getsid,
    [157] = sys_setsid,
    [158] = sys_getgroups,
    [160] = sys_uname,
    [163] = sys_getrlimit,
    [164] = sys_setrlimit,
    [167] = sys_prctl,
    [168] = sys_getcpu,
    [169] = sys_gettimeofday,
    [172] = sys_getpid,
    [173] = sys_getppid,
    [174] = sys_getuid, /* getuid, geteuid, getgid, getegid: everyone is root */
    [175] = sys_getuid,
    [176] = sys_getuid,
    [177] = sys_getuid,
    [178] = sys_gettid,
    [179] = sys_sysinfo,
    [214] = sys_brk,
    [215] = sys_munmap,
    [220] = sys_clone,
    [221] = sys_execve,
    [222] = sys_mmap,
    [226] = sys_mprotect,
    [233] = sys_madvise,
    [260] = sys_wait4,
    [261] = sys_prlimit64,
    [267] = sys_syncfs,
    [278] = sys_getrandom,
};

void syscall_dispatch(struct trap_frame *tf)
{
    struct uthread *ut = uthread_current();
    uint64_t nr = tf->x[8];
    syscall_fn fn = nr < sizeof(syscall_table) / sizeof(syscall_table[0]) ? syscall_table[nr] : 0;

    ut->syscall_x0 = tf->x[0];
    int64_t ret = fn ? fn(tf->x) : -ENOSYS;
    /* Interrupted: signal_deliver restarts it, or makes it -EINTR for a handler. */
    if (ret == -ERESTARTSYS && nr != NR_RT_SIGRETURN) {
        ut->syscall_restart = true;
        ret = -EINTR;
    }
    tf->x[0] = (uint64_t)ret;
}
