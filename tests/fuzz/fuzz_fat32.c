/* fuzz_fat32.c - fuzz target over FAT32: mount an image from memory, walk the whole tree, read
 * every file, then make a few changes and walk again. Nothing may crash, hang or leak.
 *
 * libFuzzer (from the repo root):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -DAVATAR_HOST -Iinclude \
 *       tests/fuzz/fuzz_fat32.c fs/fat32*.c tests/unit/host_shim.c -o build/fuzz/fuzz_fat32
 *   mkdir -p build/fuzz/corpus && build/fuzz/fuzz_fat32 -max_len=131072 build/fuzz/corpus
 * Seed the corpus with the built-in image (standalone build, below: --write-seed FILE), or with
 * any small image from mkfs.fat -F 32.
 *
 * Standalone regression run, no libFuzzer needed (what `make test` runs):
 *   cc -std=c11 -g -O1 -fsanitize=address,undefined -DAVATAR_HOST -DFUZZ_STANDALONE -Iinclude \
 *       tests/fuzz/fuzz_fat32.c fs/fat32*.c tests/unit/host_shim.c -o build/fuzz/fuzz_fat32_run
 *   build/fuzz/fuzz_fat32_run [iterations [seed]]     (default 2000 iterations, seed 1)
 * It builds a small FAT32 image in memory and runs the target on pseudo-random mutations of it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fat32.h"

#define WALK_MAX_DEPTH   16
#define WALK_MAX_ENTRIES 2000
#define READ_MAX_BYTES   (1u << 20)

struct walk_budget {
    int entries;
    uint32_t bytes;
};

static void fuzz_read_file(struct fat32_vol *vol, const char *path, struct walk_budget *b)
{
    static uint8_t buf[8192];
    struct fat32_node *n;
    uint64_t off = 0;
    long got;

    if (fat32_open(vol, path, &n) < 0)
        return;
    while (b->bytes < READ_MAX_BYTES && (got = fat32_read(vol, n, off, buf, sizeof(buf))) > 0) {
        off += (uint64_t)got;
        b->bytes += (uint32_t)got;
    }
    fat32_close(vol, n);
}

static void fuzz_walk(struct fat32_vol *vol, const char *path, int depth, struct walk_budget *b)
{
    struct fat32_dirent *de;
    struct fat32_stat st;
    struct fat32_dir dir;
    size_t plen = strlen(path);

    if (depth > WALK_MAX_DEPTH || fat32_opendir(vol, path, &dir) < 0)
        return;
    de = malloc(sizeof(*de));
    while (b->entries < WALK_MAX_ENTRIES && fat32_readdir(vol, &dir, de) == 1) {
        char *child = malloc(plen + strlen(de->name) + 2);

        b->entries++;
        memcpy(child, path, plen);
        child[plen] = '/';
        strcpy(child + plen + 1, de->name);
        fat32_stat(vol, child, &st);
        if (de->st.is_dir)
            fuzz_walk(vol, child, depth + 1, b);
        else
            fuzz_read_file(vol, child, b);
        free(child);
    }
    free(de);
}

static void fuzz_modify(struct fat32_vol *vol)
{
    static const char text[] = "written by the fuzz target, long enough to span sectors. ";
    struct fat32_statfs sf;
    struct fat32_node *n;
    char label[32];

    fat32_statfs(vol, &sf);
    fat32_label(vol, label, sizeof(label));
    fat32_mkdir(vol, "/fuzz dir");
    if (fat32_create(vol, "/fuzz dir/a new long file name.txt", &n) == 0) {
        for (int i = 0; i < 20; i++)
            fat32_write(vol, n, (uint64_t)i * (sizeof(text) - 1), text, sizeof(text) - 1);
        fat32_truncate(vol, n, 100);
        fat32_close(vol, n);
    }
    fat32_rename(vol, "/fuzz dir/a new long file name.txt", "/moved.txt");
    fat32_unlink(vol, "/moved.txt");
    fat32_rmdir(vol, "/fuzz dir");
    fat32_sync(vol);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct walk_budget budget = {0, 0};
    struct blockdev_ram ram;
    struct fat32_vol *vol;
    struct blockdev bd;
    uint8_t *copy;

    if (size < 512)
        return 0;
    /* A private copy: the target writes to the image. */
    copy = malloc(size);
    memcpy(copy, data, size);
    blockdev_ram_init(&bd, &ram, copy, size, false);
    if (fat32_mount(&bd, NULL, &vol, NULL) == 0) {
        fuzz_walk(vol, "", 0, &budget);
        fuzz_modify(vol);
        budget.entries = 0;
        fuzz_walk(vol, "", 0, &budget);
        fat32_unmount(vol);
    }
    free(copy);
    return 0;
}

#ifdef FUZZ_STANDALONE
#include <stdio.h>

#define SEED_SECTORS 256

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* An empty FAT32 volume: 512-byte sectors and clusters, 8 reserved sectors, two 2-sector FATs. */
static void seed_format(uint8_t *img)
{
    uint8_t *b = img, *fsinfo = img + 512;

    memset(img, 0, SEED_SECTORS * 512);
    memcpy(b,
           "\xEB\x58\x90"
           "AVATAR  ",
           11);
    put16(b + 11, 512);
    b[13] = 1;
    put16(b + 14, 8);
    b[16] = 2;
    b[21] = 0xF8;
    put32(b + 32, SEED_SECTORS);
    put32(b + 36, 2);
    put32(b + 44, 2);
    put16(b + 48, 1);
    put16(b + 50, 6);
    b[66] = 0x29;
    memcpy(b + 71, "NO NAME    FAT32   ", 19);
    b[510] = 0x55;
    b[511] = 0xAA;
    memcpy(img + 6 * 512, b, 512);
    put32(fsinfo, 0x41615252);
    put32(fsinfo + 484, 0x61417272);
    put32(fsinfo + 488, SEED_SECTORS - 12 - 1);
    put32(fsinfo + 492, 3);
    put32(fsinfo + 508, 0xAA550000);
    for (int f = 0; f < 2; f++) {
        uint8_t *fat = img + (8 + 2 * f) * 512;

        put32(fat, 0x0FFFFFF8);
        put32(fat + 4, 0x0FFFFFFF);
        put32(fat + 8, 0x0FFFFFFF);
    }
}

static void seed_file(struct fat32_vol *vol, const char *path, size_t len)
{
    struct fat32_node *n;

    if (fat32_create(vol, path, &n) < 0)
        return;
    for (size_t i = 0; i < len; i++) {
        char c = (char)('a' + i % 26);

        fat32_write(vol, n, i, &c, 1);
    }
    fat32_close(vol, n);
}

/* Long names, nested directories, an empty file and a fragmented one. */
static int seed_build(uint8_t *img)
{
    struct blockdev_ram ram;
    struct fat32_vol *vol;
    struct blockdev bd;

    seed_format(img);
    blockdev_ram_init(&bd, &ram, img, SEED_SECTORS * 512, false);
    if (fat32_mount(&bd, NULL, &vol, NULL) < 0)
        return -1;
    fat32_mkdir(vol, "/dir");
    fat32_mkdir(vol, "/dir/Sub Directory");
    fat32_mkdir(vol, "/dir/Sub Directory/deeper");
    seed_file(vol, "/README.TXT", 700);
    seed_file(vol, "/lower.txt", 20);
    seed_file(vol, "/dir/Sub Directory/deeper/A File With A Long Name.text", 1500);
    seed_file(vol, "/dir/empty", 0);
    for (int i = 0; i < 6; i++) {
        char name[32];

        snprintf(name, sizeof(name), "/dir/piece %d", i);
        seed_file(vol, name, 600);
    }
    for (int i = 0; i < 6; i += 2) {
        char name[32];

        snprintf(name, sizeof(name), "/dir/piece %d", i);
        fat32_unlink(vol, name);
    }
    seed_file(vol, "/fragmented.bin", 3000);
    return fat32_unmount(vol);
}

static uint32_t rng;

static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

/* Mostly bit flips and byte stores in the metadata; sometimes FAT entries or a short image. */
static size_t mutate(uint8_t *img, size_t size)
{
    int n = 1 + (int)(next_rand() % 8);

    for (int i = 0; i < n; i++) {
        uint32_t r = next_rand(), at = next_rand() % (16 * 512);

        switch (r % 5) {
        case 0: img[at] ^= (uint8_t)(1u << (r >> 8) % 8); break;
        case 1: img[at] = (uint8_t)(r >> 8); break;
        case 2: img[next_rand() % size] ^= (uint8_t)(r >> 8); break;
        case 3: put32(img + 8 * 512 + (next_rand() % 256) * 4, next_rand() % 300); break;
        default: img[12 * 512 + next_rand() % 1024] = (uint8_t)(r >> 8); break;
        }
    }
    if (next_rand() % 16 == 0)
        size = 512 * (1 + next_rand() % (SEED_SECTORS - 1));
    return size;
}

int main(int argc, char **argv)
{
    static uint8_t seed[SEED_SECTORS * 512], work[SEED_SECTORS * 512];
    long iterations = 2000;

    if (seed_build(seed) < 0) {
        fprintf(stderr, "fuzz_fat32: cannot build the seed image\n");
        return 1;
    }
    if (argc == 3 && strcmp(argv[1], "--write-seed") == 0) {
        FILE *f = fopen(argv[2], "wb");

        if (!f || fwrite(seed, 1, sizeof(seed), f) != sizeof(seed))
            return 1;
        return fclose(f) == 0 ? 0 : 1;
    }
    if (argc > 1)
        iterations = strtol(argv[1], NULL, 0);
    rng = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 0) : 1;
    if (rng == 0)
        rng = 1;
    LLVMFuzzerTestOneInput(seed, sizeof(seed));
    for (long i = 0; i < iterations; i++) {
        size_t size;

        memcpy(work, seed, sizeof(seed));
        size = mutate(work, sizeof(work));
        LLVMFuzzerTestOneInput(work, size);
    }
    /* The unit-test result format, so the `make test` driver can count it. */
    printf("PASS fs/fat32_fuzz_regression (%ld mutated images)\n", iterations);
    return 0;
}
#endif
