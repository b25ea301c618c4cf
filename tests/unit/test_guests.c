/* test_guests.c - the guest registry and `guest validate` checks over a FAT32 volume in memory. */
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "block/blockdev.h"
#include "fs/vfs.h"
#include "fs/vfs_fat32.h"
#include "lib/errno.h"
#include "lib/fdt_write.h"
#include "test.h"
#include "vmm/guest_validate.h"
#include "vmm/guests.h"

static uint8_t *disk;
static struct blockdev bd;
static struct blockdev_ram ram;

/* A fresh 40 MiB FAT32 volume made by mkfs.fat, mounted at /. */
static void volume_new(void)
{
    const char *dir = getenv("AVATAR_BUILD") ? getenv("AVATAR_BUILD") : "build";
    char path[512], cmd[1200];
    const char *why = NULL;

    if (strlen(dir) > 200)
        dir = "build";
    vfs_reset();
    snprintf(path, sizeof(path), "%s/unit/tmp", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/unit/tmp/guests.img", dir);
    snprintf(cmd, sizeof(cmd), "rm -f %s && mkfs.fat -F 32 -C %s 40960 >/dev/null", path, path);
    CHECK_EQ(system(cmd), 0);
    FILE *f = fopen(path, "rb");
    if (!f) {
        CHECK(0);
        exit(1);
    }
    free(disk);
    disk = malloc(40960 * 1024);
    CHECK_EQ(fread(disk, 1, 40960 * 1024, f), 40960 * 1024);
    fclose(f);
    blockdev_ram_init(&bd, &ram, disk, 40960 * 1024, false);
    CHECK_EQ(vfs_fat32_mount("/", &bd, "ram0", &why), 0);
}

static void put(const char *path, const void *data, size_t len)
{
    struct file *f;

    CHECK_EQ(vfs_open(path, O_WRONLY | O_CREAT | O_TRUNC, &f), 0);
    CHECK_EQ(vfs_write(f, data, len), (long)len);
    CHECK_EQ(vfs_close(f), 0);
}

static void put_text(const char *path, const char *text)
{
    put(path, text, strlen(text));
}

static void put_filled(const char *path, size_t len, uint8_t byte)
{
    uint8_t *buf = malloc(len);

    memset(buf, byte, len);
    put(path, buf, len);
    free(buf);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

/* An ELF64 executable with one RX segment at 0x40080000; machine as given. */
static void put_elf(const char *path, uint16_t machine)
{
    uint8_t b[0x2000] = {0};

    memcpy(b,
           "\x7f"
           "ELF\2\1\1",
           7);
    b[16] = 2;
    b[18] = (uint8_t)machine;
    b[19] = (uint8_t)(machine >> 8);
    put32(b + 20, 1);
    put64(b + 24, 0x40080000);
    put64(b + 32, 64);
    b[52] = 64;
    b[54] = 56;
    b[56] = 1;
    put32(b + 64, 1);      /* PT_LOAD */
    put32(b + 68, 5);      /* R+X */
    put64(b + 72, 0x1000); /* offset */
    put64(b + 80, 0x40080000);
    put64(b + 88, 0x40080000);
    put64(b + 96, 0x1000);
    put64(b + 104, 0x2000);
    put(path, b, sizeof(b));
}

/* A small board tree: the root's cells as given, one CPU (reg 0). Returns its size. */
static size_t put_dtb(const char *path, uint32_t addr_cells)
{
    static uint8_t b[1024];
    struct fdt_writer w;
    size_t size = 0;

    fdt_write_init(&w, b, sizeof(b));
    fdt_write_begin_node(&w, "");
    fdt_write_prop_u32(&w, "#address-cells", addr_cells);
    fdt_write_prop_u32(&w, "#size-cells", 2);
    fdt_write_begin_node(&w, "cpus");
    fdt_write_prop_u32(&w, "#address-cells", 1);
    fdt_write_prop_u32(&w, "#size-cells", 0);
    fdt_write_begin_node(&w, "cpu@0");
    fdt_write_prop_str(&w, "device_type", "cpu");
    fdt_write_prop_u32(&w, "reg", 0);
    fdt_write_end_node(&w);
    fdt_write_end_node(&w);
    fdt_write_end_node(&w);
    CHECK_EQ(fdt_write_finish(&w, &size), 0);
    put(path, b, size);
    return size;
}

/* An arm64 Image header (text_offset 0x80000, image_size 1 MiB) followed by a little body. */
static void put_image(const char *path)
{
    uint8_t b[0x4000] = {0};

    put64(b + 8, 0x80000);
    put64(b + 16, 1 << 20);
    put64(b + 24, 0xa);
    put32(b + 56, 0x644d5241);
    put(path, b, sizeof(b));
}

static size_t board_dtb_size;

static void make_guests(void)
{
    volume_new();
    CHECK_EQ(vfs_mkdir("/guests"), 0);
    const char *dirs[] = {"raw", "elf", "img", "missing", "broken",
                          "bad", "dup", "big", "pt",      "noconf"};
    for (unsigned i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        char p[64];
        snprintf(p, sizeof(p), "/guests/%s", dirs[i]);
        CHECK_EQ(vfs_mkdir(p), 0);
    }
    put_text("/guests/raw/guest.cfg", "name = RawOS\nkernel = k.bin\nload_addr = 0x40080000\n"
                                      "smp = 2\nmemory = 16M\n");
    put_filled("/guests/raw/k.bin", 8192, 0x17);
    put_text("/guests/elf/guest.cfg", "kernel = k.elf\ndtb = board.dtb\nmemory = 32M\r\n");
    put_elf("/guests/elf/k.elf", 183);
    board_dtb_size = put_dtb("/guests/elf/board.dtb", 2);
    put_text("/guests/img/guest.cfg", "kernel = Image\ninitrd = rd.gz\nbootargs = console=ttyAMA0\n"
                                      "device = virtio-blk,image=disk.img\n");
    put_image("/guests/img/Image");
    put_filled("/guests/img/rd.gz", 100000, 0x1f);
    put_filled("/guests/img/disk.img", 65536, 0);
    put_text("/guests/missing/guest.cfg", "kernel = nothere.bin\ninitrd = none.gz\n"
                                          "dtb = k.bin\n");
    put_filled("/guests/missing/k.bin", 100, 1); /* a dtb that is not one */
    put_text("/guests/broken/guest.cfg", "kernel = bad.elf\n");
    put_elf("/guests/broken/bad.elf", 62);
    put_text("/guests/bad/guest.cfg", "kernel = k\nname = bad\nsmp = 12\n");
    put_text("/guests/dup/guest.cfg", "name = TestOS\nkernel = k\n");
    put_text("/guests/big/guest.cfg", "kernel = k.bin\nmemory = 4M\n");
    put_filled("/guests/big/k.bin", 5 << 20, 0x33);
    put_text("/guests/pt/guest.cfg", "kernel = /guests/raw/k.bin\n"
                                     "passthrough = disk@0x0a003e00,size=0x200,irq=79\n"
                                     "device = virtio-blk,image=odd.img\n");
    put_filled("/guests/pt/odd.img", 1000, 0);
    put_filled("/guests/noconf/data.bin", 10, 0);
}

static const char *find_refusal(const char *prefix)
{
    static char msg[MANIFEST_ERR_MAX];

    for (unsigned i = 0; guests_refused(i, msg, sizeof(msg)) == 0; i++) {
        if (!strncmp(msg, prefix, strlen(prefix)))
            return msg;
    }
    return NULL;
}

static void test_scan(void)
{
    struct guest_entry e;

    make_guests();
    CHECK_EQ(guests_scan(), 10); /* 3 built-in, 7 files */
    CHECK_EQ(guests_count(), 10);
    CHECK_EQ(guests_refused_count(), 2);
    const char *bad = find_refusal("/guests/bad/");
    CHECK(bad && !strcmp(bad, "/guests/bad/guest.cfg:3: smp must be 1..8, got 12"));
    const char *dup = find_refusal("/guests/dup/");
    CHECK(dup && !strcmp(dup, "/guests/dup/guest.cfg: guest name 'TestOS' is already taken by "
                              "built-in guest 'testos'"));

    /* Built-ins first with their ids; then files, ids in order, each once. */
    for (unsigned i = 0; i < guests_count(); i++) {
        CHECK_EQ(guests_get(i, &e), 0);
        CHECK_EQ(e.m.id, (int)i);
        CHECK(!strcmp(e.source, i < 3 ? GUESTS_BUILTIN : e.source));
        if (i >= 3)
            CHECK(!strncmp(e.source, "/guests/", 8));
    }
    CHECK_EQ(guests_get(10, &e), -ENOENT);

    CHECK_EQ(guests_find("rawos", &e), 0);
    CHECK(!strcmp(e.m.name, "RawOS"));
    CHECK(!strcmp(e.source, "/guests/raw/guest.cfg"));
    CHECK(!strcmp(e.m.kernel_path, "/guests/raw/k.bin"));
    CHECK_EQ(e.m.smp_cores, 2);
    int raw_id = e.m.id;
    CHECK_EQ(guests_find("LINUX", &e), 0);
    CHECK_EQ(e.m.id, 2);
    CHECK_EQ(guests_find("1", &e), 0);
    CHECK(!strcmp(e.m.name, "nimbos"));
    CHECK_EQ(guests_find("bad", &e), -ENOENT);
    CHECK_EQ(guests_find("99", &e), -ENOENT);
    CHECK_EQ(guests_find("", &e), -ENOENT);

    /* Rescan: same ids. Remove one, add one: the others keep theirs, the new one is new. */
    CHECK_EQ(guests_scan(), 10);
    CHECK_EQ(guests_find("rawos", &e), 0);
    CHECK_EQ(e.m.id, raw_id);
    CHECK_EQ(guests_find("elf", &e), 0);
    int elf_id = e.m.id;
    CHECK_EQ(vfs_unlink("/guests/raw/guest.cfg"), 0);
    CHECK_EQ(vfs_mkdir("/guests/new"), 0);
    put_text("/guests/new/guest.cfg", "kernel = k\n");
    CHECK_EQ(guests_scan(), 10);
    CHECK_EQ(guests_find("rawos", &e), -ENOENT);
    CHECK_EQ(guests_find("elf", &e), 0);
    CHECK_EQ(e.m.id, elf_id);
    CHECK_EQ(guests_find("new", &e), 0);
    CHECK_EQ(e.m.id, 10);
    /* The refused one fixed: it is listed, the refusal gone. */
    put_text("/guests/bad/guest.cfg", "kernel = k\nname = bad\nsmp = 8\n");
    CHECK_EQ(guests_scan(), 11);
    CHECK_EQ(guests_refused_count(), 1);
    CHECK_EQ(guests_find("bad", &e), 0);

    /* No volume: only the built-ins. */
    vfs_reset();
    CHECK_EQ(guests_scan(), 3);
    CHECK_EQ(guests_refused_count(), 0);
}

/* More guests than the old fixed table held (32): all registered, in id order, each found. */
static void test_many(void)
{
    enum { N = 70 };
    struct guest_entry e;
    char path[64], text[64];

    volume_new();
    CHECK_EQ(vfs_mkdir("/guests"), 0);
    for (int i = 0; i < N; i++) {
        snprintf(path, sizeof(path), "/guests/g%02d", i);
        CHECK_EQ(vfs_mkdir(path), 0);
        snprintf(path, sizeof(path), "/guests/g%02d/guest.cfg", i);
        snprintf(text, sizeof(text), "kernel = k\nname = many%02d\n", i);
        put_text(path, text);
    }
    CHECK_EQ(guests_scan(), 3 + N);
    CHECK_EQ(guests_refused_count(), 0);
    for (int i = 0, prev = -1; i < 3 + N; i++) {
        CHECK_EQ(guests_get((unsigned)i, &e), 0);
        CHECK(e.m.id > prev); /* ids go on from earlier scans: only their order is known */
        prev = e.m.id;
    }
    CHECK_EQ(guests_find("many69", &e), 0);
    CHECK(!strcmp(e.source, "/guests/g69/guest.cfg"));
    CHECK_EQ(guests_scan(), 3 + N); /* a rescan replaces the table */
    vfs_reset();
    CHECK_EQ(guests_scan(), 3);
}

/* Problems gathered from guest_validate. */
static char problems[8][GUEST_PROBLEM_MAX];
static int nproblems;

static void collect(void *ctx, const char *problem)
{
    (void)ctx;
    if (nproblems < 8)
        snprintf(problems[nproblems], GUEST_PROBLEM_MAX, "%s", problem);
    nproblems++;
}

static int validate(const char *name, struct load_plan *plan)
{
    static const struct guest_host_resource res[] = {
        {0x40000000, 512 << 20, 0, "RAM"},
        {0x0a003e00, 0x200, 79, "disk vda"},
        {0x09000000, 0x1000, 33, "console PL011"},
    };
    static const struct guest_host host = {res, 3};
    struct guest_entry e;

    nproblems = 0;
    memset(problems, 0, sizeof(problems));
    CHECK_EQ(guests_find(name, &e), 0);
    int n = guest_validate(&e.m, &host, plan, collect, NULL);
    CHECK_EQ(n, nproblems);
    return n;
}

static void expect_problem(const char *text)
{
    for (int i = 0; i < nproblems && i < 8; i++) {
        if (!strcmp(problems[i], text))
            return;
    }
    fprintf(stderr, "  no problem '%s'; got:\n", text);
    for (int i = 0; i < nproblems && i < 8; i++)
        fprintf(stderr, "    '%s'\n", problems[i]);
    test_failed_checks++;
}

static void test_validate(void)
{
    struct load_plan plan;

    make_guests();
    guests_scan();

    CHECK_EQ(validate("rawos", &plan), 0);
    CHECK_EQ(plan.format, LOADER_RAW);
    CHECK_EQ(plan.entry, 0x40080000);
    CHECK_EQ(plan.kernel_end, 0x40080000 + 8192);
    /* No dtb file: the last 2 MiB are kept for a generated one. */
    CHECK_EQ(plan.dtb_ipa, 0x40000000 + (14 << 20));
    CHECK_EQ(plan.dtb_size, 2 << 20);

    CHECK_EQ(validate("elf", &plan), 0);
    CHECK_EQ(plan.format, LOADER_ELF);
    CHECK_EQ(plan.dtb_size, board_dtb_size);
    CHECK_EQ(plan.dtb_ipa, 0x40000000 + (30 << 20));

    CHECK_EQ(validate("img", &plan), 0);
    CHECK_EQ(plan.format, LOADER_IMAGE);
    CHECK_EQ(plan.entry, 0x40080000);
    CHECK_EQ(plan.initrd_size, 100000);
    CHECK(plan.initrd_ipa >= plan.kernel_end);

    CHECK_EQ(validate("missing", &plan), 3);
    expect_problem("kernel /guests/missing/nothere.bin: no such file or directory");
    expect_problem("initrd /guests/missing/none.gz: no such file or directory");
    expect_problem("dtb /guests/missing/k.bin: not a valid device tree (fdt: bad magic "
                   "0x01010101)");

    /* A well-formed tree whose root cells `guest start` cannot write the memory node in. */
    CHECK_EQ(vfs_mkdir("/guests/cells5"), 0);
    put_text("/guests/cells5/guest.cfg", "kernel = k.bin\ndtb = board.dtb\nmemory = 16M\n");
    put_filled("/guests/cells5/k.bin", 4096, 0x11);
    put_dtb("/guests/cells5/board.dtb", 5);
    guests_scan();
    CHECK_EQ(validate("cells5", &plan), 1);
    expect_problem("dtb /guests/cells5/board.dtb: dtb: root #address-cells 5 #size-cells 2 "
                   "unsupported (need 1 or 2)");

    CHECK_EQ(validate("broken", &plan), 1);
    expect_problem("kernel /guests/broken/bad.elf: ELF machine 62 is not AArch64 (183)");

    CHECK_EQ(validate("big", &plan), 1);
    expect_problem("does not fit in 4 MiB of RAM: kernel needs 0x40000000-0x404fffff but guest "
                   "RAM is 0x40000000-0x403fffff");
    /* A kernel that fits in RAM but runs into the device tree's 2 MiB. */
    put_filled("/guests/big/k.bin", 3 << 20, 0x33);
    CHECK_EQ(validate("big", &plan), 1);
    expect_problem("does not fit in 4 MiB of RAM: no room for the dtb: the kernel ends at "
                   "0x40300000 and RAM at 0x40400000");

    CHECK_EQ(validate("pt", &plan), 3);
    expect_problem("passthrough disk@0xa003e00 overlaps the host's disk vda at "
                   "0xa003e00-0xa003fff");
    expect_problem("passthrough disk@0xa003e00: irq 79 is the host's disk vda");
    expect_problem("disk image /guests/pt/odd.img: 1000 bytes, not a whole number of 512-byte "
                   "sectors");

    /* The built-in guests' files are not on this volume. */
    CHECK_EQ(validate("testos", &plan), 1);
    expect_problem("kernel /guests/testos/testos.bin: no such file or directory");

    /* A directory where the kernel should be, and an empty kernel. */
    struct guest_entry e;
    CHECK_EQ(guests_find("rawos", &e), 0);
    strcpy(e.m.kernel_path, "/guests/noconf");
    nproblems = 0;
    CHECK_EQ(guest_validate(&e.m, &(struct guest_host){NULL, 0}, &plan, collect, NULL), 1);
    expect_problem("kernel /guests/noconf: is a directory");
    put_filled("/guests/noconf/empty", 0, 0);
    strcpy(e.m.kernel_path, "/guests/noconf/empty");
    nproblems = 0;
    CHECK_EQ(guest_validate(&e.m, &(struct guest_host){NULL, 0}, &plan, collect, NULL), 1);
    expect_problem("kernel /guests/noconf/empty: empty file");
    /* A manifest that was never checked (a bad built-in) is refused, not followed. */
    e.m.smp_cores = 0;
    nproblems = 0;
    CHECK_EQ(guest_validate(&e.m, &(struct guest_host){NULL, 0}, &plan, collect, NULL), 1);
    expect_problem("manifest: smp must be 1..8, got 0");
    vfs_reset();
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"guests/scan", test_scan},
        {"guests/validate", test_validate},
        {"guests/many", test_many},
    };
    int rc = test_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);

    free(disk);
    return rc;
}
