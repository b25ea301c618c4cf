/* check.c - TestOS's self-check bookkeeping: one line per passed check, one FAIL line, power off.
 */
#include "check.h"
#include "console.h"
#include "psci.h"

static unsigned int passed; /* only the boot CPU counts: secondaries report to it */

/** Count a passed check and print it with its details. */
void check_pass(const char *name, const char *fmt, ...)
{
    va_list ap;

    passed++;
    console_lock();
    console_printf_unlocked("testos: ok %s (", name);
    va_start(ap, fmt);
    console_vprintf_unlocked(fmt, ap);
    va_end(ap);
    console_printf_unlocked(")\n");
    console_unlock();
}

/** Print `TESTOS FAIL <name>: <details>` and power off; callable from any CPU or handler. */
void check_fail(const char *name, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    check_vfail(name, fmt, ap);
}

void check_vfail(const char *name, const char *fmt, va_list ap)
{
    irq_disable();
    console_lock();
    console_printf_unlocked("TESTOS FAIL %s: ", name);
    console_vprintf_unlocked(fmt, ap);
    console_printf_unlocked("\n");
    console_unlock();
    check_power_off();
}

unsigned int check_count(void)
{
    return passed;
}

/** PSCI SYSTEM_OFF when the conduit is known; otherwise (a bad DTB) stop this CPU. */
void check_power_off(void)
{
    if (psci_ready())
        psci_system_off();
    console_printf("testos: halted (no PSCI conduit known)\n");
    for (;;)
        wfi();
}
