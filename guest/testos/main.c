/* main.c - TestOS: a small EL1 guest that checks its machine, benchmarks it, and powers off. */
#include "bench.h"
#include "blk.h"
#include "check.h"
#include "checks.h"
#include "console.h"
#include "exception.h"
#include "gic.h"
#include "nethostile.h"
#include "platform.h"
#include "pmuprobe.h"
#include "psci.h"
#include "smp.h"
#include "suspend.h"
#include "timer.h"

#define LINE_MAX 80

static bool line_is(const char *line, const char *word)
{
    while (*line && *line == *word) {
        line++;
        word++;
    }
    return *line == *word;
}

/* Bootargs `interactive`: echo what is typed; each line comes back as `TESTOS ECHO <line>`. */
static void interactive(void)
{
    char line[LINE_MAX];
    unsigned int len = 0;
    uint32_t seen = *console_rx_irq_count();

    console_rx_start(platform.uart_irq);
    console_printf("TESTOS INTERACTIVE: type a line; 'poweroff' powers off\n");
    for (;;) {
        int c;
        smp_wait_irq(console_rx_irq_count(), seen + 1);
        seen = *console_rx_irq_count();
        while ((c = console_rx_pop()) >= 0) {
            if (c == '\r' || c == '\n') {
                if (!len)
                    continue;
                line[len] = 0;
                len = 0;
                console_printf("\nTESTOS ECHO %s\n", line);
                if (line_is(line, "poweroff"))
                    psci_system_off();
            } else if ((c == '\b' || c == 0x7f) && len) {
                len--;
                console_printf("\b \b");
            } else if (c >= ' ' && c < 0x7f && len < LINE_MAX - 1) {
                line[len++] = (char)c;
                console_putc((char)c);
            }
        }
    }
}

/** C entry of the boot CPU (head.S), with the DTB address from x0. */
void testos_main(uint64_t dtb)
{
    exception_init();
    platform_init(dtb);
    console_printf("TestOS 0.1 (%s) at EL1 on MPIDR 0x%lx\n",
                   platform.nimbos ? "NimbOS-like: fixed resources, no DTB" : "device tree",
                   platform.mpidr[0]);
    checks_basic();
    gic_init();
    timer_init();
    smp_init_boot_cpu();
    irq_enable();
    checks_interrupts();
    console_printf("TESTOS PASS %u checks\n", check_count());
    if (!platform.nimbos && platform_bootarg("bench"))
        bench_run();
    if (!platform.nimbos && blk_wanted())
        blk_run();
    if (!platform.nimbos && platform_bootarg("cpususpend"))
        suspend_run();
    if (!platform.nimbos && pmuprobe_wanted())
        pmuprobe_run();
    if (!platform.nimbos && nethostile_wanted())
        nethostile_run();
    if (!platform.nimbos && platform_bootarg("interactive"))
        interactive();
    psci_system_off();
}
