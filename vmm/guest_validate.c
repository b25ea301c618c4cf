/* guest_validate.c - a guest checked as a whole: files, kernel format, RAM fit, passthrough. */
#include "vmm/guest_validate.h"

#include "fs/vfs.h"
#include "kernel/kmalloc.h"
#include "lib/errno.h"
#include "lib/fdt.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "vmm/layout.h"
#include "vmm/vm_dtb.h"

#define PROBE_BYTES 512 /* read from each file to show it is readable */
#define SECTOR      512

/** One validation run: where problems go and how many there were. */
struct check {
    guest_problem_fn problem;
    void *ctx;
    int count;
    char line[GUEST_PROBLEM_MAX];
};

static void report(struct check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void report(struct check *c, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fmt_vsnprintf(c->line, sizeof(c->line), fmt, ap);
    va_end(ap);
    c->problem(c->ctx, c->line);
    c->count++;
}

static int file_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    long n = vfs_pread(ctx, buf, len, off);

    if (n < 0)
        return (int)n;
    return (size_t)n == len ? 0 : -EIO;
}

/*
 * Open a file the guest needs and read its first bytes. 0 with *f open (caller closes) and
 * *size, or a problem reported and a negative errno.
 */
static int open_input(struct check *c, const char *what, const char *path, struct file **f,
                      uint64_t *size)
{
    struct vfs_stat st;
    uint8_t probe[PROBE_BYTES];
    int err = vfs_stat(path, &st);

    if (!err && st.is_dir)
        err = -EISDIR;
    if (!err)
        err = vfs_open(path, O_RDONLY, f);
    if (err) {
        report(c, "%s %s: %s", what, path, errno_str(err));
        return err;
    }
    size_t n = st.size < sizeof(probe) ? (size_t)st.size : sizeof(probe);
    err = file_read(*f, 0, probe, n);
    if (err || st.size == 0) {
        report(c, "%s %s: %s", what, path, err ? errno_str(err) : "empty file");
        vfs_close(*f);
        return err ? err : -EINVAL;
    }
    *size = st.size;
    return 0;
}

/* An input that only needs to be there and readable; its size, or 0 after a problem. */
static uint64_t check_input(struct check *c, const char *what, const char *path)
{
    struct file *f;
    uint64_t size = 0;

    if (open_input(c, what, path, &f, &size))
        return 0;
    vfs_close(f);
    return size;
}

/*
 * The dtb as `guest start` will use it: patched to the VM (vm_dtb_patch) into a scratch buffer,
 * so that a tree start would refuse (root cells it cannot write, no CPU node for a vCPU, ...) is
 * refused here too. Needs the plan for the initrd's place.
 */
static void check_dtb_patch(struct check *c, const struct guest_manifest *m,
                            const struct load_plan *plan)
{
    struct vm_dtb_config cfg = {
        .ram_base = GUEST_RAM_BASE,
        .ram_size = m->memory_size,
        .ncpus = m->smp_cores,
        .bootargs = m->bootargs,
        .psci_method = "hvc",
    };
    char err[LOADER_ERR_MAX];
    void *in = NULL, *out = NULL;
    size_t in_size, out_size;

    if (plan->initrd_size) {
        cfg.initrd_start = plan->initrd_ipa;
        cfg.initrd_end = plan->initrd_ipa + plan->initrd_size;
    }
    err[0] = '\0';
    int e = vfs_read_file(m->dtb_path, &in, &in_size, LOADER_DTB_MAX);
    if (!e && !(out = kmalloc(LOADER_DTB_MAX)))
        e = -ENOMEM;
    if (e)
        report(c, "dtb %s: %s", m->dtb_path, errno_str(e));
    else if (vm_dtb_patch(in, in_size, &cfg, out, LOADER_DTB_MAX, &out_size, err, sizeof(err)))
        report(c, "dtb %s: %s", m->dtb_path, err[0] ? err : "refused by the patch for the VM");
    kfree(out);
    kfree(in);
}

/* The dtb: at most 2 MiB and a well-formed flattened device tree. Its size, or 0. */
static uint64_t check_dtb(struct check *c, const char *path)
{
    char err[LOADER_ERR_MAX];
    struct fdt fdt;
    struct file *f;
    uint64_t size, ok = 0;
    void *blob = NULL;
    int e;

    if (open_input(c, "dtb", path, &f, &size))
        return 0;
    if (size > LOADER_DTB_MAX)
        report(c, "dtb %s: %lu KiB, over the 2 MiB the arm64 boot protocol allows", path,
               (unsigned long)(size >> 10));
    else if (!(blob = kmalloc(size)))
        report(c, "dtb %s: %s", path, errno_str(-ENOMEM));
    else if ((e = file_read(f, 0, blob, size)) != 0)
        report(c, "dtb %s: %s", path, errno_str(e));
    else if (fdt_open(&fdt, blob, size, err, sizeof(err)))
        report(c, "dtb %s: not a valid device tree (%s)", path, err);
    else
        ok = size;
    kfree(blob);
    vfs_close(f);
    return ok;
}

static void check_disk(struct check *c, const struct guest_device *d)
{
    uint64_t size = check_input(c, "disk image", d->image);

    if (size % SECTOR)
        report(c, "disk image %s: %lu bytes, not a whole number of 512-byte sectors", d->image,
               (unsigned long)size);
}

static bool overlaps(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size)
{
    return a_size && b_size && a < b + b_size && b < a + a_size;
}

/* Passthrough gives the guest the real thing: never what the host itself uses. */
static void check_passthrough(struct check *c, const struct guest_device *d,
                              const struct guest_host *host)
{
    for (unsigned i = 0; i < host->nres; i++) {
        const struct guest_host_resource *r = &host->res[i];
        if (overlaps(d->base, d->size, r->base, r->size))
            report(c, "passthrough %s@0x%lx overlaps the host's %s at 0x%lx-0x%lx", d->label,
                   (unsigned long)d->base, r->what, (unsigned long)r->base,
                   (unsigned long)(r->base + r->size - 1));
        if (d->irq && d->irq == r->irq)
            report(c, "passthrough %s@0x%lx: irq %u is the host's %s", d->label,
                   (unsigned long)d->base, d->irq, r->what);
    }
}

/* The kernel's format and headers, and whether it fits with the dtb and initrd. */
static void check_kernel(struct check *c, const struct guest_manifest *m, uint64_t dtb_size,
                         uint64_t initrd_size, struct load_plan *plan)
{
    struct loader_request req = {GUEST_RAM_BASE, m->memory_size, m->load_addr,
                                 m->entry,       dtb_size,       initrd_size};
    char err[LOADER_ERR_MAX];
    struct file *f;
    uint64_t size;

    if (open_input(c, "kernel", m->kernel_path, &f, &size))
        return;
    struct loader_file lf = {size, file_read, f};
    int e = loader_plan(&req, &lf, plan, err, sizeof(err));
    if (e == -ENOSPC)
        report(c, "does not fit in %lu MiB of RAM: %s", (unsigned long)(m->memory_size >> 20), err);
    else if (e)
        report(c, "kernel %s: %s", m->kernel_path, err);
    vfs_close(f);
}

int guest_validate(const struct guest_manifest *m, const struct guest_host *host,
                   struct load_plan *plan, guest_problem_fn problem, void *ctx)
{
    struct check *c = kzalloc(sizeof(*c));
    char msg[MANIFEST_ERR_MAX];
    /* Every guest gets a device tree: its dtb file, else one generated at start. Either way
     * the last 2 MiB of its RAM are the dtb's, so they are kept free here. */
    uint64_t dtb_size = LOADER_DTB_MAX, dtb_file = 0, initrd_size = 0;
    int count;

    if (!c) {
        problem(ctx, "out of memory");
        return 1;
    }
    c->problem = problem;
    c->ctx = ctx;
    memset(plan, 0, sizeof(*plan));
    if (manifest_check(m, msg, sizeof(msg), NULL)) {
        report(c, "manifest: %s", msg);
    } else {
        if (m->dtb_path[0] && (dtb_file = check_dtb(c, m->dtb_path)) != 0)
            dtb_size = dtb_file;
        if (m->initrd_path[0])
            initrd_size = check_input(c, "initrd", m->initrd_path);
        check_kernel(c, m, dtb_size, initrd_size, plan);
        if (dtb_file && !c->count)
            check_dtb_patch(c, m, plan);
        for (unsigned i = 0; i < m->ndevices; i++) {
            if (m->devices[i].kind == GUEST_DEV_VIRTIO_BLK)
                check_disk(c, &m->devices[i]);
            else if (m->devices[i].kind == GUEST_DEV_PASSTHROUGH)
                check_passthrough(c, &m->devices[i], host);
        }
    }
    count = c->count;
    kfree(c);
    return count;
}
