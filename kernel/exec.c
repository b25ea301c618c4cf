/* exec.c - program images: find the file, load its segments, build the initial stack; execve. */
#include "kernel/exec.h"
#include "arch/uentry.h"
#include "fs/vfs.h"
#include "kernel/elf.h"
#include "kernel/fd.h"
#include "kernel/kmalloc.h"
#include "kernel/proc.h"
#include "kernel/signal.h"
#include "kernel/time.h"
#include "kernel/tty.h"
#include "lib/errno.h"
#include "lib/string.h"

/* Auxiliary vector keys (Linux include/uapi/linux/auxvec.h) and AArch64 HWCAP bits. */
#define AT_NULL     0
#define AT_PHDR     3
#define AT_PHENT    4
#define AT_PHNUM    5
#define AT_PAGESZ   6
#define AT_ENTRY    9
#define AT_UID      11
#define AT_EUID     12
#define AT_GID      13
#define AT_EGID     14
#define AT_HWCAP    16
#define AT_CLKTCK   17
#define AT_SECURE   23
#define AT_RANDOM   25
#define AT_EXECFN   31
#define HWCAP_FP    (1UL << 0)
#define HWCAP_ASIMD (1UL << 1)
#define AUXV_PAIRS  16

static const char *const default_env[] = {"PATH=/bin", "HOME=/", "TERM=vt100"};

/** argv and envp strings, packed one after the other in buf. */
struct exec_args {
    char *buf;
    size_t used;
    int argc, envc;
};

/** A program file's bytes: kmalloc'd from the disk, or embedded in the kernel. */
struct exec_file {
    const unsigned char *data;
    size_t size;
    void *owned; /* freed afterwards, or NULL */
};

static int args_add(struct exec_args *a, const char *s, size_t len)
{
    if (a->argc + a->envc >= 2 * EXEC_MAX_ARGS || len + 1 > EXEC_ARG_BYTES - a->used)
        return -E2BIG;
    memcpy(a->buf + a->used, s, len);
    a->buf[a->used + len] = '\0';
    a->used += len + 1;
    return 0;
}

/* Copy a user NULL-terminated string array (argv or envp; NULL pointer: empty). */
static int args_from_user(struct exec_args *a, struct uvm_space *s, uint64_t uvec, int *count)
{
    for (int i = 0; uvec; i++) {
        uint64_t ustr;
        if (i >= EXEC_MAX_ARGS)
            return -E2BIG;
        if (uvm_copy_in(s, &ustr, uvec + (uint64_t)i * 8, 8))
            return -EFAULT;
        if (!ustr)
            break;
        long len = uvm_strncpy_in(s, a->buf + a->used, ustr, EXEC_ARG_BYTES - a->used);
        if (len == -ENAMETOOLONG)
            return -E2BIG;
        if (len < 0)
            return (int)len;
        a->used += (size_t)len + 1;
        (*count)++;
    }
    return 0;
}

static const struct program *program_embedded(const char *name)
{
    for (const struct program *p = programs_embedded; p->name; p++) {
        if (!strcmp(p->name, name))
            return p;
    }
    return NULL;
}

/* The bytes of the program at absolute path abs: the disk first, then the embedded table. */
static int program_read(const char *abs, struct exec_file *f)
{
    void *buf;
    size_t size;
    int err = vfs_read_file(abs, &buf, &size, EXEC_MAX_FILE);

    if (!err) {
        *f = (struct exec_file){buf, size, buf};
        return 0;
    }
    if (err == -ENOENT && !strncmp(abs, "/bin/", 5)) {
        const struct program *p = program_embedded(abs + 5);
        if (p) {
            *f = (struct exec_file){p->data, p->size, NULL};
            return 0;
        }
    }
    return err == -EFBIG ? -ENOEXEC : err;
}

static uint64_t page_down(uint64_t a)
{
    return a & ~(PAGE_SIZE - 1);
}

static uint64_t page_up(uint64_t a)
{
    return (a + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
}

static int exec_load_segments(struct aspace *as, const struct elf_image *img,
                              const struct exec_file *f)
{
    for (unsigned int i = 0; i < img->nseg; i++) {
        const struct elf_segment *s = &img->seg[i];
        uint64_t start = page_down(s->vaddr);
        int err =
            aspace_map_fixed(as, start, page_up(s->vaddr + s->memsz) - start, s->prot, VMA_IMAGE);
        if (!err && s->filesz)
            err = aspace_write(as, s->vaddr, f->data + s->offset, s->filesz);
        if (err)
            return err;
    }
    return 0;
}

static void put_word(unsigned char *buf, size_t off, uint64_t v)
{
    memcpy(buf + off, &v, 8);
}

/*
 * The initial stack (AArch64 Linux ABI): sp -> argc, argv[], NULL, envp[], NULL, auxv pairs,
 * AT_NULL; the strings and AT_RANDOM's bytes above. Returns sp, or 0 when out of memory.
 */
static uint64_t exec_build_stack(struct aspace *as, const struct elf_image *img,
                                 const struct exec_args *args, const char *execfn)
{
    size_t fnlen = strlen(execfn) + 1;
    uint64_t strings = ASPACE_STACK_TOP - ((args->used + fnlen + 16 + 15) & ~15UL);
    size_t words = 1 + (size_t)args->argc + 1 + (size_t)args->envc + 1 + 2 * AUXV_PAIRS;
    uint64_t sp = (strings - words * 8) & ~15UL;
    size_t size = ASPACE_STACK_TOP - sp;
    unsigned char *buf = kzalloc(size);

    if (!buf)
        return 0;
    /* Strings: execfn, then argv and envp as packed; then 16 bytes for AT_RANDOM. */
    uint64_t fn_va = strings, str_va = strings + fnlen, rand_va = str_va + args->used;
    memcpy(buf + (fn_va - sp), execfn, fnlen);
    memcpy(buf + (str_va - sp), args->buf, args->used);
    uint64_t seed = timer_counter() ^ (uintptr_t)as;
    for (int i = 0; i < 2; i++) {
        seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
        put_word(buf, rand_va - sp + 8 * (size_t)i, seed);
    }
    size_t w = 0;
    uint64_t s = str_va;
    put_word(buf, 8 * w++, (uint64_t)args->argc);
    for (int list = 0; list < 2; list++) {
        /* argv[], NULL, then envp[], NULL: the strings lie in the same order. */
        for (int i = 0; i < (list ? args->envc : args->argc); i++) {
            put_word(buf, 8 * w++, s);
            s += strlen(args->buf + (s - str_va)) + 1;
        }
        put_word(buf, 8 * w++, 0);
    }
    const uint64_t auxv[][2] = {
        {AT_PHDR, img->phdr_vaddr},
        {AT_PHENT, img->phentsize},
        {AT_PHNUM, img->phnum},
        {AT_PAGESZ, PAGE_SIZE},
        {AT_ENTRY, img->entry},
        {AT_UID, 0},
        {AT_EUID, 0},
        {AT_GID, 0},
        {AT_EGID, 0},
        {AT_HWCAP, HWCAP_FP | HWCAP_ASIMD},
        {AT_CLKTCK, HZ},
        {AT_SECURE, 0},
        {AT_RANDOM, rand_va},
        {AT_EXECFN, fn_va},
        {AT_NULL, 0},
    };
    for (size_t i = 0; i < sizeof(auxv) / sizeof(auxv[0]); i++) {
        put_word(buf, 8 * w++, auxv[i][0]);
        put_word(buf, 8 * w++, auxv[i][1]);
    }
    int err = aspace_write(as, sp, buf, size);
    kfree(buf);
    return err ? 0 : sp;
}

/*
 * The page handlers return through when the program gave no restorer (glibc on arm64 relies on
 * the kernel's): mov x8, #139 (rt_sigreturn); svc #0.
 */
static int exec_map_sigpage(struct aspace *as)
{
    static const uint32_t trampoline[] = {0xd2801168, 0xd4000001};
    int err = aspace_map_fixed(as, ASPACE_SIGPAGE, PAGE_SIZE, UVM_READ | UVM_EXEC, VMA_IMAGE);

    return err ? err : aspace_write(as, ASPACE_SIGPAGE, trampoline, sizeof(trampoline));
}

/* A new address space holding the program f, ready to start at *entry with *sp. */
static int exec_build(const struct exec_file *f, const struct exec_args *args, const char *execfn,
                      struct aspace **out, uint64_t *entry, uint64_t *sp, const char **why)
{
    struct elf_image img;
    int err = elf_parse(f->data, f->size, ASPACE_MIN_ADDR, ASPACE_MMAP_TOP, &img, why);

    if (err)
        return err;
    struct aspace *as = aspace_create();
    if (!as)
        return -ENOMEM;
    err = exec_load_segments(as, &img, f);
    if (!err)
        err = exec_map_sigpage(as);
    if (!err)
        err = aspace_map_fixed(as, ASPACE_STACK_TOP - ASPACE_STACK_SIZE, ASPACE_STACK_SIZE,
                               UVM_READ | UVM_WRITE, VMA_STACK);
    if (!err) {
        aspace_set_brk_base(as, img.end);
        *sp = exec_build_stack(as, &img, args, execfn);
        if (!*sp)
            err = -ENOMEM;
    }
    if (err) {
        aspace_put(as);
        return err;
    }
    *entry = img.entry;
    *out = as;
    return 0;
}

static const char *path_basename(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash ? slash + 1 : path;
}

static void exec_start_frame(struct trap_frame *tf, uint64_t entry, uint64_t sp)
{
    memset(tf, 0, sizeof(*tf));
    tf->elr = entry;
    tf->sp = sp;
    tf->spsr = UENTRY_SPSR_EL0T;
}

static void exec_set_exe(struct proc *p, const char *abs);
static void exec_set_cmdline(struct proc *p, const struct exec_args *args);

/** Scratch space of an exec: paths and the argument strings. */
struct exec_buf {
    char path[VFS_PATH_MAX];
    char abs[VFS_PATH_MAX];
    char cwd[VFS_PATH_MAX];
    char args[EXEC_ARG_BYTES];
};

int exec_spawn(const char *path, int argc, char *const argv[], bool foreground, const char **why)
{
    struct exec_buf *eb = kmalloc(sizeof(*eb));
    struct exec_args args = {eb ? eb->args : NULL, 0, 0, 0};
    struct exec_file f = {NULL, 0, NULL};
    struct aspace *as = NULL;
    uint64_t entry, sp;
    int err = eb ? 0 : -ENOMEM;

    *why = "";
    if (!err && strchr(path, '/')) {
        err = vfs_normalize("/", path, eb->abs);
    } else if (!err && strlen(path) + 6 > VFS_PATH_MAX) {
        err = -ENAMETOOLONG;
    } else if (!err) {
        strcpy(eb->abs, "/bin/");
        strcpy(eb->abs + 5, path);
    }
    for (int i = 0; !err && i < argc; i++)
        err = args_add(&args, argv[i], strlen(argv[i]));
    args.argc = argc;
    for (size_t i = 0; !err && i < sizeof(default_env) / sizeof(default_env[0]); i++, args.envc++)
        err = args_add(&args, default_env[i], strlen(default_env[i]));
    if (!err)
        err = program_read(eb->abs, &f);
    if (!err)
        err = exec_build(&f, &args, eb->abs, &as, &entry, &sp, why);
    kfree(f.owned);
    struct proc *p = NULL;
    if (!err) {
        p = proc_alloc(NULL, path_basename(eb->abs));
        err = p ? 0 : -ENOMEM;
    }
    if (!err) {
        struct trap_frame start;
        p->as = as;
        as = NULL;
        exec_set_exe(p, eb->abs);
        exec_set_cmdline(p, &args);
        fd_init_console(p);
        proc_new_session(p);
        /* The console is its terminal before its first instruction (a shell asks at once). */
        if (foreground)
            tty_foreground_begin(p);
        exec_start_frame(&start, entry, sp);
        err = uthread_create(p, p->pid, &start, 0, NULL, THREAD_PRIO_DEFAULT, CPUMASK_ALL, 0, 0,
                             NULL);
        if (err) {
            if (foreground)
                tty_foreground_end();
            proc_abort(p);
        }
    }
    if (as)
        aspace_put(as);
    int pid = err ? err : p->pid;
    kfree(eb);
    return pid;
}

/* Remember the program's path for /proc/self/exe. Caller holds p->lock or p has not started. */
static void exec_set_exe(struct proc *p, const char *abs)
{
    memset(p->exe, 0, sizeof(p->exe));
    if (strlen(abs) < sizeof(p->exe))
        strcpy(p->exe, abs);
}

/* Keep argv (as far as it fits) for /proc/<pid>/cmdline. Caller holds p->lock or p has not started.
 */
static void exec_set_cmdline(struct proc *p, const struct exec_args *args)
{
    size_t len = 0;

    for (int i = 0; i < args->argc; i++)
        len += strlen(args->buf + len) + 1;
    if (len > PROC_CMDLINE_MAX)
        len = PROC_CMDLINE_MAX;
    memcpy(p->cmdline, args->buf, len);
    p->cmdline_len = (unsigned int)len;
}

/* execve in a process with other threads: they leave first (Linux de_thread). */
static int exec_single_thread(struct uthread *self)
{
    struct proc *p = self->proc;

    for (;;) {
        unsigned long flags = spin_lock_irqsave(&p->lock);
        for (struct list_node *n = p->threads.next; n != &p->threads; n = n->next) {
            struct uthread *ut = list_entry(n, struct uthread, link);
            if (ut == self)
                continue;
            __atomic_store_n(&ut->exit_requested, true, __ATOMIC_SEQ_CST);
            struct wait_queue *wq = __atomic_load_n(&ut->waiting_on, __ATOMIC_SEQ_CST);
            if (wq)
                wait_wake_all(wq);
        }
        unsigned int n = p->nthreads;
        spin_unlock_irqrestore(&p->lock, flags);
        if (n == 1)
            return 0;
        int err = uthread_wait_until(self, &p->thread_wq,
                                     __atomic_load_n(&p->nthreads, __ATOMIC_ACQUIRE) < n,
                                     SCHED_NO_DEADLINE);
        if (err)
            return err;
    }
}

/* The point of no return: the process becomes the new program. */
static void exec_commit(struct uthread *self, struct aspace *as, const char *abs,
                        const struct exec_args *args, uint64_t entry, uint64_t sp)
{
    struct proc *p = self->proc;
    unsigned long flags = spin_lock_irqsave(&p->lock);
    struct aspace *old = p->as;

    p->as = as;
    memset(p->name, 0, sizeof(p->name));
    strncpy(p->name, path_basename(abs), PROC_NAME_MAX - 1);
    exec_set_exe(p, abs);
    exec_set_cmdline(p, args);
    spin_unlock_irqrestore(&p->lock, flags);
    aspace_put(old);
    fd_close_on_exec(p);
    signal_exec(p);
    exec_start_frame(self->tf, entry, sp);
    self->tls = 0;
    memset(&self->fp, 0, sizeof(self->fp));
    self->fp_cpu = -1;
    self->clear_child_tid = 0;
    self->altstack = (struct sig_altstack){0, 0}; /* the old image's memory is gone */
    proc_vfork_release(p);
}

int64_t exec_syscall(uint64_t upath, uint64_t uargv, uint64_t uenvp)
{
    struct uthread *self = uthread_current();
    struct proc *p = self->proc;
    struct uvm_space *s = p->as->uvm;
    struct exec_buf *eb = kmalloc(sizeof(*eb));
    struct exec_args args = {eb ? eb->args : NULL, 0, 0, 0};
    struct exec_file f = {NULL, 0, NULL};
    struct aspace *as = NULL;
    const char *why;
    uint64_t entry, sp;

    if (!eb)
        return -ENOMEM;
    long len = uvm_strncpy_in(s, eb->path, upath, VFS_PATH_MAX);
    int err = len < 0 ? (int)len : len == 0 ? -ENOENT : 0;
    if (!err) {
        unsigned long flags = spin_lock_irqsave(&p->lock);
        memcpy(eb->cwd, p->cwd, VFS_PATH_MAX);
        spin_unlock_irqrestore(&p->lock, flags);
        err = vfs_normalize(eb->cwd, eb->path, eb->abs);
    }
    /* There is no /proc; busybox runs its own applets through this name. */
    if (!err && !strcmp(eb->abs, "/proc/self/exe")) {
        unsigned long flags = spin_lock_irqsave(&p->lock);
        strcpy(eb->abs, p->exe);
        spin_unlock_irqrestore(&p->lock, flags);
        err = eb->abs[0] ? 0 : -ENOENT;
    }
    if (!err)
        err = args_from_user(&args, s, uargv, &args.argc);
    if (!err)
        err = args_from_user(&args, s, uenvp, &args.envc);
    if (!err)
        err = program_read(eb->abs, &f);
    if (!err)
        err = exec_build(&f, &args, eb->abs, &as, &entry, &sp, &why);
    kfree(f.owned);
    if (!err)
        err = exec_single_thread(self);
    if (!err) {
        exec_commit(self, as, eb->abs, &args, entry, sp);
        as = NULL;
    }
    if (as)
        aspace_put(as);
    kfree(eb);
    return err;
}
