/* test_manifest.c - the guest.cfg parser and manifest checks: good files, every bad field. */
#include <stdint.h>
#include <string.h>

#include "lib/errno.h"
#include "test.h"
#include "vmm/guests.h"
#include "vmm/layout.h"
#include "vmm/manifest.h"

#define CFG "/guests/myos/guest.cfg"

static struct guest_manifest m;
static char err[MANIFEST_ERR_MAX];

static int parse_at(const char *path, const char *text, size_t len)
{
    err[0] = '\0';
    return manifest_parse(text, len, path, &m, err, sizeof(err));
}

static int parse(const char *text)
{
    return parse_at(CFG, text, strlen(text));
}

/* The text parses; say why if not. */
static void expect_ok(const char *text)
{
    int rc = parse(text);

    if (rc)
        fprintf(stderr, "  unexpected error: %s\n", err);
    CHECK_EQ(rc, 0);
}

/* The text is refused with exactly this message. */
static void expect_err(const char *text, const char *want)
{
    int rc = parse(text);

    CHECK_EQ(rc, -EINVAL);
    if (strcmp(err, want)) {
        fprintf(stderr, "  got  '%s'\n  want '%s'\n", err, want);
        test_failed_checks++;
    }
}

/* The text is refused with a message that starts with prefix. */
static void expect_err_prefix(const char *text, const char *prefix)
{
    int rc = parse(text);

    CHECK_EQ(rc, -EINVAL);
    if (strncmp(err, prefix, strlen(prefix))) {
        fprintf(stderr, "  got  '%s'\n  want '%s...'\n", err, prefix);
        test_failed_checks++;
    }
}

static void test_full_manifest(void)
{
    expect_ok("# My OS, every key\n"
              "\n"
              "name = MyOS\n"
              "  kernel\t=  kernel.bin  \n"
              "dtb = ../shared/board.dtb\n"
              "initrd = \"/guests/myos/./rd/../initrd.gz\"\n"
              "load_addr = 0x40080000\n"
              "entry = 0x40080800\n"
              "smp = 4\n"
              "memory = 256M\n"
              "bootargs = console=ttyAMA0 root=/dev/vda init=/bin/sh # not a comment\n"
              "device = virtio-blk, image=disk.img, readonly\n"
              "device = virtio-blk,image=/data/scratch.img\n"
              "passthrough = virtio-mmio@0x0a003a00,size=0x200,irq=78\n"
              "passthrough = rtc@0x09010000\n");
    CHECK(!strcmp(m.name, "MyOS"));
    CHECK(!strcmp(m.kernel_path, "/guests/myos/kernel.bin"));
    CHECK(!strcmp(m.dtb_path, "/guests/shared/board.dtb"));
    CHECK(!strcmp(m.initrd_path, "/guests/myos/initrd.gz"));
    CHECK_EQ(m.load_addr, 0x40080000);
    CHECK_EQ(m.entry, 0x40080800);
    CHECK_EQ(m.smp_cores, 4);
    CHECK_EQ(m.memory_size, 256UL << 20);
    CHECK(!strcmp(m.bootargs, "console=ttyAMA0 root=/dev/vda init=/bin/sh # not a comment"));
    CHECK_EQ(m.ndevices, 4);
    CHECK_EQ(m.devices[0].kind, GUEST_DEV_VIRTIO_BLK);
    CHECK(!strcmp(m.devices[0].image, "/guests/myos/disk.img"));
    CHECK(m.devices[0].read_only);
    CHECK(!strcmp(m.devices[1].image, "/data/scratch.img"));
    CHECK(!m.devices[1].read_only);
    CHECK_EQ(m.devices[2].kind, GUEST_DEV_PASSTHROUGH);
    CHECK(!strcmp(m.devices[2].label, "virtio-mmio"));
    CHECK_EQ(m.devices[2].base, 0x0a003a00);
    CHECK_EQ(m.devices[2].size, 0x200);
    CHECK_EQ(m.devices[2].irq, 78);
    CHECK_EQ(m.devices[3].size, GUEST_PASSTHROUGH_DEFAULT_SIZE);
    CHECK_EQ(m.devices[3].irq, 0);
    CHECK(!strcmp(manifest_device_kind_name(m.devices[3].kind), "passthrough"));
}

static void test_defaults_and_sizes(void)
{
    expect_ok("kernel = /k.bin");
    CHECK(!strcmp(m.name, "myos")); /* the directory's name */
    CHECK_EQ(m.smp_cores, 1);
    CHECK_EQ(m.memory_size, 64UL << 20);
    CHECK_EQ(m.load_addr, 0);
    CHECK_EQ(m.entry, 0);
    CHECK_EQ(m.ndevices, 0);
    CHECK_EQ(m.dtb_path[0], '\0');
    CHECK_EQ(m.id, -1);

    const struct {
        const char *text;
        uint64_t bytes;
    } sizes[] = {
        {"memory = 4M", 4UL << 20},       {"memory = 1G", 1UL << 30},
        {"memory = 16G", 16UL << 30},     {"memory = 0x8000000", 0x8000000},
        {"memory = 128MiB", 128UL << 20}, {"memory = 2048m", 2UL << 30},
        {"memory = 65536K", 64UL << 20},  {"memory = 134217728", 128UL << 20},
    };
    for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        char text[128];
        snprintf(text, sizeof(text), "kernel = k\n%s\n", sizes[i].text);
        expect_ok(text);
        CHECK_EQ(m.memory_size, sizes[i].bytes);
    }
    /* Quoted values keep their blanks; an empty bootargs is allowed. */
    expect_ok("kernel = k\nbootargs = \"  a b  \"\n");
    CHECK(!strcmp(m.bootargs, "  a b  "));
    expect_ok("kernel = k\nbootargs =\n");
    CHECK_EQ(m.bootargs[0], '\0');
}

static void test_on_fault(void)
{
    expect_ok("kernel = k\n");
    CHECK_EQ(m.on_fault, GUEST_FAULT_INJECT);
    expect_ok("kernel = k\non_fault = stop\n");
    CHECK_EQ(m.on_fault, GUEST_FAULT_STOP);
    CHECK(!strcmp(manifest_fault_policy_name(m.on_fault), "stop"));
    expect_ok("kernel = k\non_fault = inject\n");
    CHECK_EQ(m.on_fault, GUEST_FAULT_INJECT);
    CHECK(!strcmp(manifest_fault_policy_name(m.on_fault), "inject"));
    expect_err("kernel = k\non_fault = ignore\n",
               CFG ":2: on_fault must be inject or stop, got 'ignore'");
    expect_err("kernel = k\non_fault = stop\non_fault = stop\n",
               CFG ":3: duplicate key 'on_fault' (first set on line 2)");
    /* A manifest built in code is checked too. */
    expect_ok("kernel = k\n");
    m.on_fault = (enum guest_fault_policy)7;
    CHECK_EQ(manifest_check(&m, err, sizeof(err), NULL), -EINVAL);
    CHECK(!strcmp(err, "on_fault must be inject or stop"));
}

static void test_line_endings(void)
{
    /* CRLF, no final newline, comments and blank lines with CRs: all the same manifest. */
    expect_ok("# comment\r\nname = a\r\n\r\nkernel = k.bin\r\nsmp = 2");
    CHECK(!strcmp(m.name, "a"));
    CHECK(!strcmp(m.kernel_path, "/guests/myos/k.bin"));
    CHECK_EQ(m.smp_cores, 2);
    expect_ok("kernel = k.bin\r\n");
    CHECK(!strcmp(m.kernel_path, "/guests/myos/k.bin"));
    /* Line numbers count CRLF lines. */
    expect_err("kernel = k\r\n\r\nsmp = 12\r\n", CFG ":3: smp must be 1..8, got 12");
    /* A CR inside a line is a control character. */
    expect_err("kernel = k\rsmp = 2\n",
               CFG ":1: control character 0x0d (only text and tabs are allowed)");
    expect_err("", CFG ": no kernel given (kernel = <path>)");
    expect_err("# only a comment\n\n", CFG ": no kernel given (kernel = <path>)");
}

static void test_bad_numbers(void)
{
    expect_err("kernel = k\nname = x\nsmp = 12\n", CFG ":3: smp must be 1..8, got 12");
    expect_err("kernel = k\nsmp = 0\n", CFG ":2: smp must be 1..8, got 0");
    expect_err("kernel = k\nsmp = two\n", CFG ":2: smp must be 1..8, got two");
    expect_err("kernel = k\nsmp = -1\n", CFG ":2: smp must be 1..8, got -1");
    expect_err("kernel = k\nsmp = 99999999999999999999999\n",
               CFG ":2: smp must be 1..8, got 99999999999999999999999");
    expect_err("kernel = k\nsmp =\n", CFG ":2: smp must be 1..8, got ");

    expect_err("memory = 2M\nkernel = k\n", CFG ":1: memory must be 4M..16G, got 2M");
    expect_err("memory = 17G\nkernel = k\n", CFG ":1: memory must be 4M..16G, got 17G");
    expect_err("memory = 5M\nkernel = k\n", CFG ":1: memory must be a multiple of 2M, got 5M");
    expect_err("memory = 64X\nkernel = k\n",
               CFG ":1: memory must be a size like 64M or 1G, got '64X'");
    expect_err("memory = M\nkernel = k\n", CFG ":1: memory must be a size like 64M or 1G, got 'M'");
    expect_err("memory = 99999999999999999999G\nkernel = k\n",
               CFG ":1: memory must be 4M..16G, got 99999999999999999999G");
    expect_err("memory = 17179869184G\nkernel = k\n",
               CFG ":1: memory must be 4M..16G, got 17179869184G");
    expect_err("memory = 0x10000000000000000\nkernel = k\n",
               CFG ":1: memory must be 4M..16G, got 0x10000000000000000");

    expect_err("kernel = k\nload_addr = 40080000\n",
               CFG ":2: load_addr must be a hex address like 0x40080000, got '40080000'");
    expect_err("kernel = k\nload_addr = 0x\n",
               CFG ":2: load_addr must be a hex address like 0x40080000, got '0x'");
    expect_err("kernel = k\nload_addr = 0x4008g000\n",
               CFG ":2: load_addr must be a hex address like 0x40080000, got '0x4008g000'");
    expect_err("kernel = k\nload_addr = 0x1ffffffffffffffff\n",
               CFG ":2: load_addr '0x1ffffffffffffffff' does not fit in 64 bits");
    expect_err("kernel = k\nload_addr = 0x0\n", CFG ":2: load_addr 0x0 is outside guest RAM");
    /* Range problems found once the whole file is read still name the key's line. */
    expect_err("kernel = k\nload_addr = 0x10000000\nmemory = 64M\n",
               CFG ":2: load_addr 0x10000000 is outside guest RAM 0x40000000-0x43ffffff");
    expect_err("load_addr = 0x44000000\nkernel = k\n",
               CFG ":1: load_addr 0x44000000 is outside guest RAM 0x40000000-0x43ffffff");
    expect_err("kernel = k\nload_addr = 0x40080800\n",
               CFG ":2: load_addr 0x40080800 must be 4 KiB aligned");
    expect_err("kernel = k\n\nentry = 0x40080002\n",
               CFG ":3: entry 0x40080002 must be 4-byte aligned (an A64 instruction)");
    expect_err("kernel = k\nentry = 0x50000000\n",
               CFG ":2: entry 0x50000000 is outside guest RAM 0x40000000-0x43ffffff");
}

static void test_bad_strings(void)
{
    expect_err("kernel = k\nname = 9lives\n",
               CFG ":2: name must be a letter followed by letters, digits, '-' or '_' (at most "
                   "31), got '9lives'");
    expect_err_prefix("kernel = k\nname = \"a b\"\n", CFG ":2: name must be a letter");
    expect_err_prefix("kernel = k\nname = abcdefghijklmnopqrstuvwxyz789012\n",
                      CFG ":2: name must be a letter");
    expect_ok("kernel = k\nname = abcdefghijklmnopqrstuvwxyz78901\n");
    expect_err("kernel =\n", CFG ":1: kernel must not be empty");
    expect_err("kernel = \"\"\n", CFG ":1: kernel must not be empty");
    expect_err("kernel = ../..\n", CFG ":1: kernel '../..' names the root directory");
    expect_err("kernel = \"k.bin\n", CFG ":1: kernel: unterminated quote");
    expect_err("kernel = \"\n", CFG ":1: kernel: unterminated quote");

    char text[2048];
    memset(text, 0, sizeof(text));
    strcpy(text, "kernel = k\nbootargs = ");
    memset(text + strlen(text), 'a', 600);
    expect_err(text, CFG ":2: bootargs longer than 511 bytes");
    strcpy(text, "kernel = ");
    memset(text + strlen(text), 'p', 300);
    expect_err_prefix(text, CFG ":1: kernel path is too long (at most 255 bytes once resolved)");
    /* A relative path that only becomes too long once the directory is prepended. */
    memset(text, 0, sizeof(text));
    strcpy(text, "kernel = ");
    memset(text + strlen(text), 'p', 245); /* 13 + 245 bytes once in /guests/myos/ */
    expect_err_prefix(text, CFG ":1: kernel path is too long");
    memset(text, 0, sizeof(text));
    strcpy(text, "kernel = k\n# ");
    memset(text + strlen(text), 'c', MANIFEST_LINE_MAX);
    expect_err(text, CFG ":2: line longer than 1024 bytes");
}

static void test_bad_lines(void)
{
    expect_err("kernel = k\nfoo = 1\n",
               CFG ":2: unknown key 'foo' (keys: name, kernel, dtb, initrd, load_addr, entry, "
                   "smp, memory, bootargs, device, passthrough, on_fault)");
    expect_err_prefix("Kernel = k\n", CFG ":1: unknown key 'Kernel'");
    expect_err("kernel = k\njust some words\n",
               CFG ":2: expected 'key = value', got 'just some words'");
    expect_err("kernel = k\n= 5\n", CFG ":2: expected 'key = value', got '= 5'");
    expect_err("kernel = k\nsmp: 2\n", CFG ":2: expected 'key = value', got 'smp: 2'");
    expect_err("kernel = k\nsmp = 2\nname = a\nsmp = 3\n",
               CFG ":4: duplicate key 'smp' (first set on line 2)");
    expect_err("kernel = a\nkernel = b\n", CFG ":2: duplicate key 'kernel' (first set on line 1)");

    static const char nul[] = "kernel = k\nsmp = 2\0\n";
    CHECK_EQ(parse_at(CFG, nul, sizeof(nul) - 1), -EINVAL);
    CHECK(!strcmp(err, CFG ":2: control character 0x00 (only text and tabs are allowed)"));
    expect_err("kernel = k\x01\n",
               CFG ":1: control character 0x01 (only text and tabs are allowed)");
    expect_err("kernel = k\x7f\n",
               CFG ":1: control character 0x7f (only text and tabs are allowed)");
    /* Bytes above 0x7f (UTF-8) are text. */
    expect_ok("kernel = k\nbootargs = caf\xc3\xa9\n");

    /* Larger than a manifest may be. */
    static char big[MANIFEST_FILE_MAX + 2];
    memset(big, '\n', sizeof(big));
    memcpy(big, "kernel = k", 10);
    CHECK_EQ(parse_at(CFG, big, sizeof(big)), -EINVAL);
    CHECK(!strcmp(err, CFG ": larger than 65536 bytes"));
}

static void test_virtio_net(void)
{
    expect_ok("kernel = k\ndevice = virtio-net\n");
    CHECK_EQ(m.ndevices, 1);
    CHECK_EQ(m.devices[0].kind, GUEST_DEV_VIRTIO_NET);
    CHECK(!m.devices[0].has_mac);
    CHECK(!strcmp(m.devices[0].net_switch, "sw0"));
    expect_ok("kernel = k\ndevice = virtio-net, mac=02:aB:00:10:ff:01 ,switch=lan-2\n"
              "device = virtio-blk,image=d\n");
    CHECK(m.devices[0].has_mac);
    CHECK(!memcmp(m.devices[0].mac, (uint8_t[]){2, 0xab, 0, 0x10, 0xff, 1}, 6));
    CHECK(!strcmp(m.devices[0].net_switch, "lan-2"));
    expect_err("kernel = k\ndevice = virtio-net,mac=03:00:00:00:00:01\n",
               CFG ":2: virtio-net mac 03:00:00:00:00:01 is a multicast address");
    expect_err("kernel = k\ndevice = virtio-net,mac=02:00:00:00:00\n",
               CFG ":2: virtio-net mac must be like 02:00:00:00:00:01, got '02:00:00:00:00'");
    expect_err("kernel = k\ndevice = virtio-net,mac=02-00-00-00-00-01\n",
               CFG ":2: virtio-net mac must be like 02:00:00:00:00:01, got '02-00-00-00-00-01'");
    expect_err("kernel = k\ndevice = virtio-net,mac=02:00:00:00:0g:01\n",
               CFG ":2: virtio-net mac must be like 02:00:00:00:00:01, got '02:00:00:00:0g:01'");
    expect_err("kernel = k\ndevice = virtio-net,switch=a,switch=b\n",
               CFG ":2: virtio-net option 'switch=b' unknown or repeated (options: "
                   "mac=<xx:xx:xx:xx:xx:xx>, switch=<name>)");
    expect_err("kernel = k\ndevice = virtio-net,switch=abcdefghijklmnop\n",
               CFG ":2: virtio-net switch name longer than 15 bytes");
    expect_err_prefix("kernel = k\ndevice = virtio-net,switch=9lan\n",
                      CFG ":2: virtio-net switch must be a letter");
    expect_err("kernel = k\ndevice = virtio-net,promisc\n",
               CFG ":2: virtio-net option 'promisc' unknown or repeated (options: "
                   "mac=<xx:xx:xx:xx:xx:xx>, switch=<name>)");
}

static void test_devices(void)
{
    expect_err("kernel = k\ndevice = virtio-scsi,image=a\n",
               CFG ":2: unknown device 'virtio-scsi' (known: virtio-blk, virtio-net)");
    expect_err("kernel = k\ndevice = virtio-blk\n", CFG ":2: virtio-blk needs image=<path>");
    expect_err("kernel = k\ndevice = virtio-blk,readonly\n",
               CFG ":2: virtio-blk needs image=<path>");
    expect_err("kernel = k\ndevice = virtio-blk,image=a,image=b\n",
               CFG ":2: virtio-blk option 'image=b' unknown or repeated (options: image=<path>, "
                   "readonly)");
    expect_err("kernel = k\ndevice = virtio-blk,image=a,cache=none\n",
               CFG ":2: virtio-blk option 'cache=none' unknown or repeated (options: "
                   "image=<path>, readonly)");
    expect_err("kernel = k\ndevice = virtio-blk,image=\n", CFG ":2: image must not be empty");

    expect_err("kernel = k\npassthrough = 0x0a003a00\n",
               CFG ":2: passthrough must start with <label>@0x<address>, got '0x0a003a00'");
    expect_err("kernel = k\npassthrough = virtio-mmio@a003a00\n",
               CFG ":2: passthrough address must be a hex address like 0x40080000, got "
                   "'a003a00'");
    expect_err_prefix("kernel = k\npassthrough = @0x0a003a00\n",
                      CFG ":2: passthrough label must be a letter");
    expect_err("kernel = k\npassthrough = uart@0x0a003a00,irq=5\n",
               CFG ":2: passthrough irq must be an SPI INTID 32..1019, got 5");
    expect_err("kernel = k\npassthrough = uart@0x0a003a00,irq=2000\n",
               CFG ":2: passthrough irq must be an SPI INTID 32..1019, got 2000");
    expect_err("kernel = k\npassthrough = uart@0x0a003a00,size=big\n",
               CFG ":2: passthrough size must be like 0x1000 or 4K, got 'big'");
    expect_err("kernel = k\npassthrough = uart@0x0a003a00,speed=9600\n",
               CFG ":2: passthrough option 'speed' unknown or repeated (options: size, irq)");
    expect_err("kernel = k\npassthrough = uart@0x0a003a00,irq=40,irq=41\n",
               CFG ":2: passthrough option 'irq' unknown or repeated (options: size, irq)");
    expect_err("kernel = k\npassthrough = uart@0x0a003a00,fast\n",
               CFG ":2: passthrough option 'fast' is not key=value");
    /* Against the guest's own map, reported on the passthrough's line. */
    expect_err("kernel = k\nmemory = 128M\npassthrough = ram@0x47fff000\n",
               CFG ":3: passthrough ram@0x47fff000 overlaps guest RAM at 0x40000000-0x47ffffff");
    expect_err("passthrough = gic@0x08010000\nkernel = k\n",
               CFG ":1: passthrough gic@0x8010000 overlaps the guest's GIC at "
                   "0x8000000-0x8ffffff");
    expect_err("kernel = k\npassthrough = uart@0x09000000\n",
               CFG ":2: passthrough uart@0x9000000 overlaps the guest's PL011 at "
                   "0x9000000-0x9000fff");
    expect_err("kernel = k\ndevice = virtio-blk,image=a\npassthrough = v@0x0a000000,size=0x200\n",
               CFG ":3: passthrough v@0xa000000 overlaps the guest's emulated virtio devices at "
                   "0xa000000-0xa0001ff");
    expect_ok("kernel = k\ndevice = virtio-blk,image=a\npassthrough = v@0x0a000200,size=0x200\n");
    expect_err("kernel = k\npassthrough = a@0x0a003000\npassthrough = b@0x0a003a00,size=0x200\n",
               CFG ":3: passthrough b@0xa003a00 overlaps passthrough a@0xa003000");
    expect_err("kernel = k\npassthrough = a@0x0a003800,size=0x200,irq=77\n"
               "passthrough = b@0x0a003a00,size=0x200,irq=77\n",
               CFG ":3: passthrough irq 77 is already given to a@0xa003800");
    expect_err("kernel = k\npassthrough = a@0xffffffffffff0000,size=0x100000\n",
               CFG ":2: passthrough a@0xffffffffffff0000 size 0x100000 must be non-empty and "
                   "below 0x10000000000");
    expect_err("kernel = k\npassthrough = a@0x0a003000,size=0\n",
               CFG ":2: passthrough a@0xa003000 size 0x0 must be non-empty and below "
                   "0x10000000000");

    char text[1024] = "kernel = k\n";
    for (int i = 0; i < GUEST_MAX_DEVICES; i++)
        strcat(text, "device = virtio-blk,image=d\n");
    expect_ok(text);
    CHECK_EQ(m.ndevices, GUEST_MAX_DEVICES);
    strcat(text, "passthrough = x@0x0a003000\n");
    expect_err(text, CFG ":10: more than 8 device and passthrough lines");
}

static void test_name_from_directory(void)
{
    const char *text = "kernel = k\n";

    CHECK_EQ(parse_at("/guests/my os/guest.cfg", text, strlen(text)), -EINVAL);
    CHECK(!strcmp(err, "/guests/my os/guest.cfg: no name given, and the directory name 'my os' "
                       "is not a valid guest name"));
    text = "name = ok\nkernel = k";
    CHECK_EQ(parse_at("/guests/my os/guest.cfg", text, strlen(text)), 0);
    CHECK(!strcmp(m.kernel_path, "/guests/my os/k"));
    CHECK_EQ(parse_at("guest.cfg", "kernel = k", 10), -EINVAL);
    CHECK(!strcmp(err, "guest.cfg: manifest path must be absolute and shorter than 1024 bytes"));
    text = "name = top\nkernel = k\n";
    CHECK_EQ(parse_at("/guest.cfg", text, strlen(text)), 0);
    CHECK(!strcmp(m.kernel_path, "/k"));
}

static void test_names_compare(void)
{
    CHECK(manifest_same_name("Linux", "linux"));
    CHECK(manifest_same_name("TESTOS", "testos"));
    CHECK(!manifest_same_name("linux", "linux2"));
    CHECK(!manifest_same_name("linu", "linux"));
    CHECK(manifest_name_valid("a"));
    CHECK(manifest_name_valid("A-b_9"));
    CHECK(!manifest_name_valid(""));
    CHECK(!manifest_name_valid("-a"));
    CHECK(!manifest_name_valid("a.b"));
}

static void test_check_directly(void)
{
    struct guest_manifest g = {
        .name = "g", .kernel_path = "/k", .smp_cores = 1, .memory_size = 64UL << 20};
    struct manifest_where where;

    CHECK_EQ(manifest_check(&g, err, sizeof(err), &where), 0);
    g.smp_cores = 9;
    CHECK_EQ(manifest_check(&g, err, sizeof(err), &where), -EINVAL);
    CHECK(!strcmp(err, "smp must be 1..8, got 9"));
    CHECK(!strcmp(where.key, "smp"));
    CHECK_EQ(where.device, -1);
    g.smp_cores = 1;
    g.kernel_path[0] = '\0';
    CHECK_EQ(manifest_check(&g, err, sizeof(err), &where), -EINVAL);
    CHECK(!strcmp(err, "no kernel given"));
    strcpy(g.kernel_path, "relative");
    CHECK_EQ(manifest_check(&g, err, sizeof(err), NULL), -EINVAL);
    CHECK(!strcmp(err, "kernel path must be absolute and under 256 bytes"));
    strcpy(g.kernel_path, "/k");
    g.memory_size = 3UL << 20;
    CHECK_EQ(manifest_check(&g, err, sizeof(err), &where), -EINVAL);
    CHECK(!strcmp(err, "memory must be 4M..16G, got 0x300000 bytes"));
    g.memory_size = 64UL << 20;
    g.ndevices = 1;
    g.devices[0].kind = GUEST_DEV_NONE;
    CHECK_EQ(manifest_check(&g, err, sizeof(err), &where), -EINVAL);
    CHECK(!strcmp(err, "device 0 has no valid kind"));
    CHECK_EQ(where.device, 0);
    memset(g.name, 'x', sizeof(g.name)); /* not terminated */
    CHECK_EQ(manifest_check(&g, err, sizeof(err), &where), -EINVAL);
    CHECK(!strcmp(where.key, "name"));
}

static void test_builtin_table(void)
{
    CHECK(guest_manifests_count >= 3);
    for (unsigned i = 0; i < guest_manifests_count; i++) {
        const struct guest_manifest *g = &guest_manifests[i];
        int rc = manifest_check(g, err, sizeof(err), NULL);
        if (rc)
            fprintf(stderr, "  built-in %s: %s\n", g->name, err);
        CHECK_EQ(rc, 0);
        CHECK_EQ(g->id, (int)i);
        for (unsigned j = 0; j < i; j++)
            CHECK(!manifest_same_name(g->name, guest_manifests[j].name));
    }
    /* NimbOS's contract (DESIGN.md): loaded and entered at 0x4008_0000, one vCPU, <= 128 MiB. */
    const struct guest_manifest *nimbos = &guest_manifests[1];
    CHECK(!strcmp(nimbos->name, "nimbos"));
    CHECK(!strcmp(nimbos->kernel_path, "/guests/nimbos/nimbos.bin"));
    CHECK_EQ(nimbos->load_addr, 0x40080000);
    CHECK_EQ(nimbos->entry, 0x40080000);
    CHECK_EQ(nimbos->smp_cores, 1);
    CHECK(nimbos->memory_size >= (16UL << 20) && nimbos->memory_size <= (128UL << 20));
    CHECK_EQ(nimbos->dtb_path[0], '\0');
}

/* The example in docs/guests.md is a valid manifest (the tests run from the repository root). */
static void test_docs_example(void)
{
    static char doc[32768];
    FILE *f = fopen("docs/guests.md", "r");
    size_t n = f ? fread(doc, 1, sizeof(doc) - 1, f) : 0;

    if (f)
        fclose(f);
    CHECK(n > 0);
    doc[n] = '\0';
    char *start = strstr(doc, "```\n# /guests/myos/guest.cfg\n");
    char *end = start ? strstr(start + 4, "```") : NULL;
    CHECK(start && end);
    if (!start || !end)
        return;
    start += 4;
    CHECK_EQ(parse_at("/guests/myos/guest.cfg", start, (size_t)(end - start)), 0);
    CHECK(!strcmp(m.name, "myos"));
    CHECK(!strcmp(m.kernel_path, "/guests/myos/myos.bin"));
    CHECK_EQ(m.ndevices, 2);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"manifest/full_manifest", test_full_manifest},
        {"manifest/defaults_and_sizes", test_defaults_and_sizes},
        {"manifest/on_fault", test_on_fault},
        {"manifest/line_endings", test_line_endings},
        {"manifest/bad_numbers", test_bad_numbers},
        {"manifest/bad_strings", test_bad_strings},
        {"manifest/bad_lines", test_bad_lines},
        {"manifest/devices", test_devices},
        {"manifest/virtio_net", test_virtio_net},
        {"manifest/name_from_directory", test_name_from_directory},
        {"manifest/names_compare", test_names_compare},
        {"manifest/check_directly", test_check_directly},
        {"manifest/builtin_table", test_builtin_table},
        {"manifest/docs_example", test_docs_example},
    };

    return test_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
