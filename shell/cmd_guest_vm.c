/* cmd_guest_vm.c - `guest stop|status|console|log|mode`: running VMs and their consoles. */
#ifdef AVATAR_HV
#include "cmd_guest_vm.h"

#include "drivers/pl011.h"
#include "kernel/printk.h"
#include "kernel/thread.h"
#include "kernel/time.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "vmm/vm.h"

#define CONSOLE_POLL_NS (5ULL * 1000000ULL) /* how often `guest console` looks for keys */
#define RX_RETRY_NS     (1ULL * 1000000ULL)
#define RX_RETRIES      200

static const char *vm_state_name(int s)
{
    switch (s) {
    case VM_RUNNING: return "running";
    case VM_STOPPING: return "stopping";
    case VM_STOPPED: return "stopped";
    default: return "-";
    }
}

static const char *vcpu_state_name(int s)
{
    switch (s) {
    case VCPU_OFF: return "off";
    case VCPU_ON: return "run";
    case VCPU_WFI: return "wfi";
    default: return "exited";
    }
}

static int guest_status(void)
{
    unsigned shown = 0;

    for (unsigned i = 0; i < VM_MAX; i++) {
        struct vm *vm = vm_slot(i);
        if (!vm)
            continue;
        shown++;
        kprintf("%-12s %-8s %u vCPU%s %5lu MiB", vm->m.name, vm_state_name(vm->state), vm->nr_vcpus,
                vm->nr_vcpus == 1 ? " " : "s", (unsigned long)(vm->m.memory_size >> 20));
        if (vm->state == VM_RUNNING)
            kprintf("  up %lu ms\n", (unsigned long)((time_now_ns() - vm->started_ns) / 1000000));
        else
            kprintf("  %s\n", vm->stop_reason);
        if (vm->state != VM_RUNNING)
            continue;
        for (unsigned c = 0; c < vm->nr_vcpus; c++) {
            const struct vcpu *v = &vm->vcpu[c];
            const uint64_t *x = v->exits;
            kprintf("  vcpu%u %-6s cpu%-2d exits: hvc %lu smc %lu mmio %lu sysreg %lu wfi %lu wfe "
                    "%lu irq %lu fp %lu other %lu\n",
                    c, vcpu_state_name(v->state), v->pcpu, (unsigned long)x[EXIT_HVC],
                    (unsigned long)x[EXIT_SMC], (unsigned long)x[EXIT_MMIO],
                    (unsigned long)x[EXIT_SYSREG], (unsigned long)x[EXIT_WFI],
                    (unsigned long)x[EXIT_WFE], (unsigned long)x[EXIT_IRQ],
                    (unsigned long)x[EXIT_FP], (unsigned long)x[EXIT_OTHER]);
        }
    }
    if (!shown)
        kprintf("no VMs (guest start <id|name>)\n");
    return 0;
}

static void print_log_line(void *arg, const char *line)
{
    kprintf("[%s] %s\n", (const char *)arg, line);
}

static int guest_log(const char *name)
{
    struct vm *vm = vm_find(name);

    if (!vm) {
        kprintf("guest: no VM '%s' (see guest status)\n", name);
        return -ENOENT;
    }
    if (!vconsole_log(&vm->console, print_log_line, vm->m.name))
        kprintf("guest %s: no output yet\n", vm->m.name);
    return 0;
}

static int guest_stop(const char *name)
{
    uint64_t t0 = time_now_ns();
    int err = vm_stop_by_name(name);

    if (err == -ENOENT)
        kprintf("guest: no VM '%s' (see guest status)\n", name);
    else if (err == -ESRCH)
        kprintf("guest %s: not running\n", name);
    else if (err)
        kprintf("guest %s: still stopping (%s)\n", name, errno_str(err));
    else
        kprintf("guest %s: stop took %lu ms\n", name,
                (unsigned long)((time_now_ns() - t0) / 1000000));
    return err;
}

/* One typed byte to the VM's UART; a full receive FIFO is retried for a while, then dropped. */
static void send_key(struct vm *vm, uint8_t byte)
{
    for (int i = 0; i < RX_RETRIES && vm->state == VM_RUNNING; i++) {
        if (vpl011_rx_push(&vm->uart, &byte, 1))
            return;
        thread_sleep_ns(RX_RETRY_NS);
    }
}

static void attach_banner(struct vm *vm)
{
    kprintf("[console: %s; Ctrl-] back to the shell, Ctrl-T n next VM]\n", vm->m.name);
    vconsole_focus(&vm->console);
}

/* Give the keyboard to a VM until Ctrl-] (or Ctrl-T q), the VM stops, or none is left. */
static int guest_console(const char *name)
{
    struct vm *vm = name ? vm_find(name) : vm_next_running(NULL);
    struct vconsole_input_state in = {0};

    if (!vm || vm->state != VM_RUNNING) {
        if (name)
            kprintf("guest: no running VM '%s' (see guest status)\n", name);
        else
            kprintf("guest: no VM is running\n");
        return -ENOENT;
    }
    attach_banner(vm);
    while (vm && vm->state == VM_RUNNING) {
        int c = pl011_getc_nonblock();
        if (c < 0) {
            thread_sleep_ns(CONSOLE_POLL_NS);
            continue;
        }
        enum vconsole_key k = vconsole_input(&in, (uint8_t)c);
        if (k == VCONSOLE_KEY_DETACH)
            break;
        if (k == VCONSOLE_KEY_FORWARD) {
            send_key(vm, (uint8_t)c);
        } else if (k == VCONSOLE_KEY_NEXT) {
            struct vm *next = vm_next_running(vm);
            if (next && next != vm) {
                vm = next;
                attach_banner(vm);
            }
        }
    }
    vconsole_focus(NULL);
    if (vm && vm->state != VM_RUNNING)
        kprintf("[console: %s is no longer running]\n", vm->m.name);
    else
        kprintf("[console: back to the hypervisor shell]\n");
    return 0;
}

static int guest_mode(const char *mode)
{
    if (!strcmp(mode, "all"))
        vconsole_set_mode(VCONSOLE_MODE_ALL);
    else if (!strcmp(mode, "focus"))
        vconsole_set_mode(VCONSOLE_MODE_FOCUS);
    else
        return -ENOSYS;
    return 0;
}

int guest_vm_command(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "status"))
        return guest_status();
    if (argc == 3 && !strcmp(argv[1], "stop"))
        return guest_stop(argv[2]);
    if (argc == 3 && !strcmp(argv[1], "log"))
        return guest_log(argv[2]);
    if ((argc == 2 || argc == 3) && !strcmp(argv[1], "console"))
        return guest_console(argc == 3 ? argv[2] : NULL);
    if (argc == 3 && !strcmp(argv[1], "mode"))
        return guest_mode(argv[2]);
    return -ENOSYS;
}
#endif
