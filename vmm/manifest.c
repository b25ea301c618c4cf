/* manifest.c - the checks every guest manifest passes, built-in or read from a guest.cfg. */
#include "vmm/manifest.h"

#include "lib/errno.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "vmm/layout.h"

/* Device ranges must sit below the smallest IPA space a VM can have. */
#define GUEST_IPA_LIMIT (1UL << GUEST_IPA_MIN_BITS)

struct range {
    uint64_t base, end; /* [base, end) */
    const char *what;
};

static int check_fail(char *err, size_t errlen, struct manifest_where *where, const char *key,
                      int device, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int check_fail(char *err, size_t errlen, struct manifest_where *where, const char *key,
                      int device, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fmt_vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    if (where) {
        where->key = key;
        where->device = device;
    }
    return -EINVAL;
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

bool manifest_same_name(const char *a, const char *b)
{
    while (*a && lower(*a) == lower(*b)) {
        a++;
        b++;
    }
    return lower(*a) == lower(*b);
}

static bool is_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool manifest_name_valid(const char *name)
{
    size_t n = strnlen(name, GUEST_NAME_MAX);

    if (n == 0 || n >= GUEST_NAME_MAX || !is_letter(name[0]))
        return false;
    for (size_t i = 1; i < n; i++) {
        char c = name[i];
        if (!is_letter(c) && !(c >= '0' && c <= '9') && c != '-' && c != '_')
            return false;
    }
    return true;
}

const char *manifest_fault_policy_name(enum guest_fault_policy policy)
{
    return policy == GUEST_FAULT_STOP ? "stop" : "inject";
}

const char *manifest_device_kind_name(enum guest_device_kind kind)
{
    switch (kind) {
    case GUEST_DEV_VIRTIO_BLK: return "virtio-blk";
    case GUEST_DEV_PASSTHROUGH: return "passthrough";
    case GUEST_DEV_VIRTIO_NET: return "virtio-net";
    default: return "unknown";
    }
}

/* A path field: NUL-terminated in its array, and either empty (if allowed) or absolute. */
static bool path_ok(const char *path, bool may_be_empty)
{
    size_t n = strnlen(path, GUEST_PATH_MAX);

    if (n == GUEST_PATH_MAX)
        return false;
    return n == 0 ? may_be_empty : path[0] == '/';
}

static bool overlaps(uint64_t a, uint64_t a_end, uint64_t b, uint64_t b_end)
{
    return a < b_end && b < a_end;
}

static int check_paths(const struct guest_manifest *m, char *err, size_t errlen,
                       struct manifest_where *where)
{
    if (!path_ok(m->kernel_path, false))
        return check_fail(err, errlen, where, "kernel", -1,
                          m->kernel_path[0] ? "kernel path must be absolute and under %d bytes"
                                            : "no kernel given",
                          GUEST_PATH_MAX);
    if (!path_ok(m->dtb_path, true))
        return check_fail(err, errlen, where, "dtb", -1,
                          "dtb path must be absolute and under %d bytes", GUEST_PATH_MAX);
    if (!path_ok(m->initrd_path, true))
        return check_fail(err, errlen, where, "initrd", -1,
                          "initrd path must be absolute and under %d bytes", GUEST_PATH_MAX);
    if (strnlen(m->bootargs, GUEST_BOOTARGS_MAX) == GUEST_BOOTARGS_MAX)
        return check_fail(err, errlen, where, "bootargs", -1, "bootargs must be under %d bytes",
                          GUEST_BOOTARGS_MAX);
    return 0;
}

static int check_cpu_and_memory(const struct guest_manifest *m, char *err, size_t errlen,
                                struct manifest_where *where)
{
    uint64_t ram_end = GUEST_RAM_BASE + m->memory_size;

    if (m->on_fault != GUEST_FAULT_INJECT && m->on_fault != GUEST_FAULT_STOP)
        return check_fail(err, errlen, where, "on_fault", -1, "on_fault must be inject or stop");
    if (m->smp_cores < 1 || m->smp_cores > GUEST_SMP_MAX)
        return check_fail(err, errlen, where, "smp", -1, "smp must be 1..%d, got %u", GUEST_SMP_MAX,
                          m->smp_cores);
    if (m->memory_size < GUEST_MEMORY_MIN || m->memory_size > GUEST_MEMORY_MAX)
        return check_fail(err, errlen, where, "memory", -1,
                          "memory must be %luM..%luG, got 0x%lx bytes", GUEST_MEMORY_MIN >> 20,
                          GUEST_MEMORY_MAX >> 30, (unsigned long)m->memory_size);
    if (m->memory_size % GUEST_MEMORY_ALIGN)
        return check_fail(err, errlen, where, "memory", -1,
                          "memory must be a multiple of 2M, got 0x%lx bytes",
                          (unsigned long)m->memory_size);
    if (m->load_addr && (m->load_addr < GUEST_RAM_BASE || m->load_addr >= ram_end))
        return check_fail(
            err, errlen, where, "load_addr", -1, "load_addr 0x%lx is outside guest RAM 0x%lx-0x%lx",
            (unsigned long)m->load_addr, GUEST_RAM_BASE, (unsigned long)(ram_end - 1));
    if (m->load_addr % 4096)
        return check_fail(err, errlen, where, "load_addr", -1,
                          "load_addr 0x%lx must be 4 KiB aligned", (unsigned long)m->load_addr);
    if (m->entry && (m->entry < GUEST_RAM_BASE || m->entry >= ram_end))
        return check_fail(err, errlen, where, "entry", -1,
                          "entry 0x%lx is outside guest RAM 0x%lx-0x%lx", (unsigned long)m->entry,
                          GUEST_RAM_BASE, (unsigned long)(ram_end - 1));
    if (m->entry % 4)
        return check_fail(err, errlen, where, "entry", -1,
                          "entry 0x%lx must be 4-byte aligned (an A64 instruction)",
                          (unsigned long)m->entry);
    return 0;
}

/* A passthrough range against the guest's own IPA map and the passthrough lines before it. */
static int check_passthrough(const struct guest_manifest *m, int i, unsigned nvirtio, char *err,
                             size_t errlen, struct manifest_where *where)
{
    const struct guest_device *d = &m->devices[i];
    uint64_t end = d->base + d->size;
    const struct range fixed[] = {
        {GUEST_RAM_BASE, GUEST_RAM_BASE + m->memory_size, "guest RAM"},
        {GUEST_GIC_BASE, GUEST_GIC_BASE + GUEST_GIC_SIZE, "the guest's GIC"},
        {GUEST_UART_BASE, GUEST_UART_BASE + GUEST_UART_SIZE, "the guest's PL011"},
        {GUEST_VIRTIO_BASE, GUEST_VIRTIO_BASE + nvirtio * GUEST_VIRTIO_SLOT_SIZE,
         "the guest's emulated virtio devices"},
    };

    if (!manifest_name_valid(d->label))
        return check_fail(err, errlen, where, "passthrough", i,
                          "passthrough label must be a name like virtio-mmio");
    if (d->size == 0 || end < d->base || end > GUEST_IPA_LIMIT)
        return check_fail(err, errlen, where, "passthrough", i,
                          "passthrough %s@0x%lx size 0x%lx must be non-empty and below 0x%lx",
                          d->label, (unsigned long)d->base, (unsigned long)d->size,
                          GUEST_IPA_LIMIT);
    if (d->irq && (d->irq < GUEST_SPI_MIN || d->irq > GUEST_SPI_MAX))
        return check_fail(err, errlen, where, "passthrough", i,
                          "passthrough irq must be an SPI INTID %d..%d, got %u", GUEST_SPI_MIN,
                          GUEST_SPI_MAX, d->irq);
    for (unsigned r = 0; r < sizeof(fixed) / sizeof(fixed[0]); r++) {
        if (overlaps(d->base, end, fixed[r].base, fixed[r].end))
            return check_fail(err, errlen, where, "passthrough", i,
                              "passthrough %s@0x%lx overlaps %s at 0x%lx-0x%lx", d->label,
                              (unsigned long)d->base, fixed[r].what, (unsigned long)fixed[r].base,
                              (unsigned long)(fixed[r].end - 1));
    }
    for (int j = 0; j < i; j++) {
        const struct guest_device *o = &m->devices[j];
        if (o->kind != GUEST_DEV_PASSTHROUGH)
            continue;
        if (overlaps(d->base, end, o->base, o->base + o->size))
            return check_fail(err, errlen, where, "passthrough", i,
                              "passthrough %s@0x%lx overlaps passthrough %s@0x%lx", d->label,
                              (unsigned long)d->base, o->label, (unsigned long)o->base);
        if (d->irq && d->irq == o->irq)
            return check_fail(err, errlen, where, "passthrough", i,
                              "passthrough irq %u is already given to %s@0x%lx", d->irq, o->label,
                              (unsigned long)o->base);
    }
    return 0;
}

static int check_devices(const struct guest_manifest *m, char *err, size_t errlen,
                         struct manifest_where *where)
{
    unsigned nvirtio = 0;

    if (m->ndevices > GUEST_MAX_DEVICES)
        return check_fail(err, errlen, where, "device", -1,
                          "more than %d device and passthrough lines", GUEST_MAX_DEVICES);
    for (unsigned i = 0; i < m->ndevices; i++)
        nvirtio += m->devices[i].kind == GUEST_DEV_VIRTIO_BLK ||
                   m->devices[i].kind == GUEST_DEV_VIRTIO_NET;
    for (unsigned i = 0; i < m->ndevices; i++) {
        const struct guest_device *d = &m->devices[i];
        int err_;

        switch (d->kind) {
        case GUEST_DEV_VIRTIO_BLK:
            if (!path_ok(d->image, false))
                return check_fail(err, errlen, where, "device", (int)i,
                                  "virtio-blk needs image=<path> (absolute, under %d bytes)",
                                  GUEST_PATH_MAX);
            break;
        case GUEST_DEV_VIRTIO_NET:
            if (!manifest_name_valid(d->net_switch) ||
                strnlen(d->net_switch, sizeof(d->net_switch)) >= VSWITCH_NAME_MAX)
                return check_fail(err, errlen, where, "device", (int)i,
                                  "virtio-net switch must be a name of at most %d characters",
                                  VSWITCH_NAME_MAX - 1);
            if (d->has_mac && (d->mac[0] & 1))
                return check_fail(err, errlen, where, "device", (int)i,
                                  "virtio-net mac must be a unicast address");
            break;
        case GUEST_DEV_PASSTHROUGH:
            err_ = check_passthrough(m, (int)i, nvirtio, err, errlen, where);
            if (err_)
                return err_;
            break;
        default:
            return check_fail(err, errlen, where, "device", (int)i, "device %u has no valid kind",
                              i);
        }
    }
    return 0;
}

int manifest_check(const struct guest_manifest *m, char *err, size_t errlen,
                   struct manifest_where *where)
{
    int e;

    if (!manifest_name_valid(m->name))
        return check_fail(err, errlen, where, "name", -1,
                          "name must be a letter followed by letters, digits, '-' or '_' "
                          "(at most %d)",
                          GUEST_NAME_MAX - 1);
    e = check_paths(m, err, errlen, where);
    if (!e)
        e = check_cpu_and_memory(m, err, errlen, where);
    if (!e)
        e = check_devices(m, err, errlen, where);
    return e;
}
