/* fuzz_manifest.c - fuzz target for the guest.cfg parser: any bytes give a checked manifest or
 * one error line naming the file; nothing may crash, hang or leak.
 *
 * libFuzzer (from the repo root):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -DAVATAR_HOST -Iinclude \
 *       tests/fuzz/fuzz_manifest.c vmm/manifest.c vmm/manifest_parse.c fs/vfs.c lib/printf.c \
 *       tests/unit/host_shim.c -o build/fuzz/fuzz_manifest
 *   mkdir -p build/fuzz/manifest && build/fuzz/fuzz_manifest build/fuzz/manifest
 *
 * Standalone regression run, no libFuzzer needed (what `make test` runs, as
 * build/unit/test_fuzz_manifest): the same target on fixed-seed mutations of the seed manifests
 * below, then "PASS vmm/manifest_fuzz_regression".
 *   build/unit/test_fuzz_manifest [iterations [seed]]     (default 20000 iterations, seed 1)
 * A first argument that is not a number filters by case name, as for the unit tests.
 */
#define _POSIX_C_SOURCE 200809L /* strnlen */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/layout.h"
#include "vmm/manifest.h"

#define CFG_PATH "/guests/fuzz/guest.cfg"

static void fuzz_die(const char *why, const char *detail)
{
    fprintf(stderr, "fuzz_manifest: %s: %s\n", why, detail);
    abort();
}

/* A manifest the parser accepted must pass the checks every consumer relies on. */
static void fuzz_check_manifest(const struct guest_manifest *m)
{
    char err[MANIFEST_ERR_MAX];

    if (manifest_check(m, err, sizeof(err), NULL))
        fuzz_die("accepted manifest fails manifest_check", err);
    if (!manifest_name_valid(m->name))
        fuzz_die("accepted an invalid name", m->name);
    if (m->kernel_path[0] != '/' || strnlen(m->kernel_path, GUEST_PATH_MAX) == GUEST_PATH_MAX)
        fuzz_die("kernel path not absolute or not terminated", m->name);
    if (m->load_addr &&
        (m->load_addr < GUEST_RAM_BASE || m->load_addr >= GUEST_RAM_BASE + m->memory_size))
        fuzz_die("load_addr outside RAM", m->name);
    for (unsigned i = 0; i < m->ndevices; i++) {
        const struct guest_device *d = &m->devices[i];
        if (d->kind == GUEST_DEV_VIRTIO_BLK && d->image[0] != '/')
            fuzz_die("virtio-blk image not absolute", d->image);
        if (d->kind == GUEST_DEV_PASSTHROUGH && d->base + d->size < d->base)
            fuzz_die("passthrough range wraps", d->label);
        if (d->kind == GUEST_DEV_VIRTIO_NET &&
            (!manifest_name_valid(d->net_switch) || (d->has_mac && (d->mac[0] & 1))))
            fuzz_die("virtio-net with a bad switch name or a multicast MAC", d->net_switch);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned long fuzz_accepted, fuzz_refused;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct guest_manifest m;
    char err[MANIFEST_ERR_MAX];

    memset(err, 0x55, sizeof(err));
    if (manifest_parse((const char *)data, size, CFG_PATH, &m, err, sizeof(err)) == 0) {
        fuzz_check_manifest(&m);
        fuzz_accepted++;
        return 0;
    }
    fuzz_refused++;
    /* A refusal is one terminated line that names the file. */
    if (!memchr(err, '\0', sizeof(err)))
        fuzz_die("error message not terminated", "");
    if (strncmp(err, CFG_PATH ":", strlen(CFG_PATH) + 1) || strchr(err, '\n'))
        fuzz_die("error message does not name the file on one line", err);
    return 0;
}

#ifdef FUZZ_STANDALONE

static const char *const seeds[] = {
    "name = seed\nkernel = k.bin\nload_addr = 0x40080000\nentry = 0x40080000\nsmp = 2\n"
    "memory = 64M\nbootargs = console=ttyAMA0 rdinit=/init\n",
    "# comment\r\nkernel = \"/guests/linux/Image\"\r\ninitrd = rd.gz\r\ndtb = ../x/b.dtb\r\n"
    "memory = 0x8000000\r\n",
    "kernel = k\ndevice = virtio-blk,image=disk.img,readonly\n"
    "passthrough = virtio-mmio@0x0a003a00,size=0x200,irq=78\n",
    "kernel=k\nsmp=8\nmemory=16G\npassthrough = rtc@0x09010000,size=4K\n",
    "kernel = k\ndevice = virtio-net,mac=02:00:00:00:0a:01,switch=lan\ndevice = virtio-net\n",
};

static uint64_t rng_state;

static uint64_t rng_next(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return rng_state >> 33;
}

/* Bytes that make interesting manifests when dropped in anywhere. */
static const char splice[] = "=\n\r\"#,@0x9 \t\0\x7fMGK-_./";

static size_t mutate(uint8_t *buf, size_t len, size_t cap)
{
    int edits = 1 + (int)(rng_next() % 8);

    for (int i = 0; i < edits; i++) {
        size_t at = len ? rng_next() % len : 0;
        switch (rng_next() % 6) {
        case 0: /* replace a byte */
            if (len)
                buf[at] = (uint8_t)rng_next();
            break;
        case 1: /* a structural character */
            if (len)
                buf[at] = (uint8_t)splice[rng_next() % (sizeof(splice) - 1)];
            break;
        case 2: /* delete a run */
            if (len) {
                size_t n = 1 + rng_next() % 16;
                if (n > len - at)
                    n = len - at;
                memmove(buf + at, buf + at + n, len - at - n);
                len -= n;
            }
            break;
        case 3: /* duplicate a run (repeated keys, long lines) */
            if (len && len < cap / 2) {
                size_t n = 1 + rng_next() % 64;
                if (n > len - at)
                    n = len - at;
                memmove(buf + at + n, buf + at, len - at);
                len += n;
            }
            break;
        case 4: /* a long run of digits (huge numbers) */
            if (len + 40 < cap) {
                memmove(buf + at + 40, buf + at, len - at);
                memset(buf + at, '9', 40);
                len += 40;
            }
            break;
        default: /* cut the end (missing newline, half a line) */ len = at; break;
        }
    }
    return len;
}

int main(int argc, char **argv)
{
    static const char name[] = "vmm/manifest_fuzz_regression";
    static uint8_t buf[8192];
    char *end = NULL;
    long iterations = argc > 1 ? strtol(argv[1], &end, 0) : 20000;

    /* Anything but a number is a case filter, as for the unit tests (run_all.py -k). */
    if (argc > 1 && (*end || end == argv[1])) {
        if (!strstr(name, argv[1]))
            return 0;
        iterations = 20000;
    }
    rng_state = argc > 2 ? strtoull(argv[2], NULL, 0) : 1;
    for (unsigned s = 0; s < sizeof(seeds) / sizeof(seeds[0]); s++)
        LLVMFuzzerTestOneInput((const uint8_t *)seeds[s], strlen(seeds[s]));
    for (long i = 0; i < iterations; i++) {
        const char *seed = seeds[rng_next() % (sizeof(seeds) / sizeof(seeds[0]))];
        size_t len = strlen(seed);
        memcpy(buf, seed, len);
        len = mutate(buf, len, sizeof(buf));
        LLVMFuzzerTestOneInput(buf, len);
    }
    /* Mutations that never parse, or never fail, would test nothing. */
    if (iterations >= 1000 && (fuzz_accepted < 100 || fuzz_refused < 100)) {
        printf("FAIL %s: %lu accepted, %lu refused\n", name, fuzz_accepted, fuzz_refused);
        return 1;
    }
    printf("%lu inputs accepted, %lu refused\n", fuzz_accepted, fuzz_refused);
    printf("PASS %s\n", name);
    return 0;
}

#endif
