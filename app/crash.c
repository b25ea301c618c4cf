/* crash.c - a program that fails on purpose: the kernel must report it and carry on. */
#include <stdio.h>
#include <string.h>

/* Recursion deeper than the stack, with a frame the compiler cannot drop. */
static int recurse(volatile char *prev, long depth)
{
    volatile char frame[256];

    frame[0] = prev ? prev[0] + 1 : 0;
    return depth ? recurse(frame, depth - 1) + frame[1] : 0;
}

int main(int argc, char **argv)
{
    const char *how = argc > 1 ? argv[1] : "null";

    printf("crash: %s\n", how);
    if (!strcmp(how, "null"))
        *(volatile int *)0 = 1;
    else if (!strcmp(how, "kernel"))
        *(volatile int *)0xffffff8000000000UL = 1; /* the kernel's linear map */
    else if (!strcmp(how, "exec"))
        ((void (*)(void))(void *)&how)(); /* jump to the stack: not executable */
    else if (!strcmp(how, "text"))
        *(volatile int *)(void *)main = 0; /* write to read-only code */
    else if (!strcmp(how, "illegal"))
        __asm__ volatile(".word 0x00000000"); /* permanently undefined */
    else if (!strcmp(how, "sysreg"))
        __asm__ volatile("msr sctlr_el1, xzr"); /* EL1 register from EL0 */
    else if (!strcmp(how, "stack"))
        return recurse(NULL, 1L << 40);
    printf("crash: survived %s?\n", how);
    return 1;
}
