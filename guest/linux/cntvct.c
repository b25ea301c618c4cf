/* cntvct.c - prints the virtual counter (CNTVCT_EL0) and its frequency: in a VM the counter starts
 * at zero when the VM does (Avatar sets CNTVOFF_EL2), on bare QEMU at machine reset, so the value
 * at a marker line is the virtual time a boot took. Static, no libc (Linux arm64 syscalls). */
#include <stdint.h>

#define SYS_WRITE 64
#define SYS_EXIT  93

static long sys3(long n, long a, long b, long c)
{
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;

    __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
    return x0;
}

static char *put_dec(char *p, uint64_t v)
{
    char tmp[24];
    int n = 0;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

void _start(void)
{
    uint64_t cnt, frq;
    char buf[64], *p = buf;

    __asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(cnt));
    __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(frq));
    p = put_dec(p, cnt);
    *p++ = ' ';
    p = put_dec(p, frq);
    *p++ = '\n';
    sys3(SYS_WRITE, 1, (long)buf, p - buf);
    sys3(SYS_EXIT, 0, 0, 0);
    for (;;)
        ;
}
