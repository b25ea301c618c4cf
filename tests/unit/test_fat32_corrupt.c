/* test_fat32_corrupt.c - damaged FAT32 images: every defect gives a clear error, never a crash,
 * a hang or an access outside the image. */
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fat32.h"
#include "test.h"

static uint8_t *base; /* the pristine image, built once with mkfs.fat and mcopy */
static size_t base_size;
static uint8_t *img; /* the copy each case damages */
static struct blockdev bd;
static struct blockdev_ram ram;

/* /data.bin: 4 clusters; /A long file name.txt; /dir/sub/f.txt; /dir/g.txt. */
static bool base_build(void)
{
    const char *b = getenv("AVATAR_BUILD");
    char dir[400], path[500];
    FILE *f;

    if (base)
        return true;
    snprintf(dir, sizeof(dir), "%s/unit/tmp/fat32_corrupt", b ? b : "build");
    snprintf(path, sizeof(path), "%s/base.img", dir);
    setenv("MTOOLS_SKIP_CHECK", "1", 1);
    if (test_sh(
            "mkdir -p '%s' && cd '%s' && rm -f base.img && "
            "mkfs.fat -F 32 -s 1 -S 512 -C base.img 40960 >/dev/null && "
            "head -c 2000 /dev/zero | tr '\\0' 'd' > data.bin && "
            "mcopy -i base.img data.bin ::/data.bin && "
            "echo long | mcopy -i base.img - '::/A long file name.txt' && "
            "mmd -i base.img ::/dir ::/dir/sub && echo f | mcopy -i base.img - ::/dir/sub/f.txt && "
            "echo g | mcopy -i base.img - ::/dir/g.txt",
            dir, dir) != 0)
        return false;
    f = fopen(path, "rb");
    if (!f)
        return false;
    fseek(f, 0, SEEK_END);
    base_size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    base = malloc(base_size);
    img = malloc(base_size);
    if (fread(base, 1, base_size, f) != base_size)
        base_size = 0;
    fclose(f);
    return base_size > 0;
}

static uint32_t get32(size_t off)
{
    return (uint32_t)img[off] | (uint32_t)img[off + 1] << 8 | (uint32_t)img[off + 2] << 16 |
           (uint32_t)img[off + 3] << 24;
}

static void put32(size_t off, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        img[off + i] = (uint8_t)(v >> (8 * i));
}

static void put16(size_t off, uint16_t v)
{
    img[off] = (uint8_t)v;
    img[off + 1] = (uint8_t)(v >> 8);
}

static size_t fat_off(uint32_t cl)
{
    return (size_t)(img[14] | img[15] << 8) * 512 + cl * 4;
}

static size_t cluster_off(uint32_t cl)
{
    uint32_t rsvd = img[14] | img[15] << 8;

    return (size_t)(rsvd + img[16] * get32(36) + (cl - 2)) * 512;
}

/* Offset of the short entry named name11 in directory cluster cl (first cluster only). */
static size_t entry_off(uint32_t cl, const char *name11)
{
    for (size_t off = cluster_off(cl); off < cluster_off(cl) + 512; off += 32)
        if (memcmp(img + off, name11, 11) == 0)
            return off;
    fprintf(stderr, "  no entry %s\n", name11);
    exit(1);
}

static uint32_t entry_cluster(size_t off)
{
    return (uint32_t)(img[off + 26] | img[off + 27] << 8 | img[off + 20] << 16 |
                      img[off + 21] << 24);
}

static void reset(void)
{
    memcpy(img, base, base_size);
}

static int mount(struct fat32_vol **vol, const char **why, size_t size)
{
    blockdev_ram_init(&bd, &ram, img, size, false);
    *why = NULL;
    return fat32_mount(&bd, NULL, vol, why);
}

static struct fat32_vol *mount_ok(void)
{
    struct fat32_vol *vol = NULL;
    const char *why;
    int r = mount(&vol, &why, base_size);

    CHECK_EQ(r, 0);
    return r == 0 ? vol : NULL;
}

/* Visits the whole tree, reading every file; returns how many errors it met. */
static int walk(struct fat32_vol *vol, const char *path, int depth)
{
    struct fat32_dirent *de = malloc(sizeof(*de));
    struct fat32_dir dir;
    static uint8_t buf[65536];
    int errors = 0, r;

    if (depth > 20 || fat32_opendir(vol, path, &dir) < 0) {
        free(de);
        return 1;
    }
    while ((r = fat32_readdir(vol, &dir, de)) == 1) {
        char *child = malloc(strlen(path) + strlen(de->name) + 2);
        struct fat32_node *n;

        sprintf(child, "%s/%s", strcmp(path, "/") ? path : "", de->name);
        if (de->st.is_dir) {
            errors += walk(vol, child, depth + 1);
        } else if (fat32_open(vol, child, &n) == 0) {
            long got;

            for (uint64_t off = 0; (got = fat32_read(vol, n, off, buf, sizeof(buf))) > 0;)
                off += (uint64_t)got;
            errors += got < 0;
            fat32_close(vol, n);
        } else {
            errors++;
        }
        free(child);
    }
    free(de);
    return errors + (r < 0);
}

struct bpb_patch {
    size_t off;
    int width;
    uint32_t value;
    int want;
};

static void test_bad_bpb(void)
{
    static const struct bpb_patch patches[] = {
        {11, 2, 300, -EUCLEAN},  {11, 2, 8192, -EUCLEAN},
        {11, 2, 0, -EUCLEAN},    {13, 1, 3, -EUCLEAN},
        {13, 1, 0, -EUCLEAN},    {13, 1, 255, -EUCLEAN},
        {14, 2, 0, -EUCLEAN},    {16, 1, 0, -EUCLEAN},
        {16, 1, 9, -EUCLEAN},    {17, 2, 512, -EINVAL},
        {22, 2, 5, -EINVAL},     {36, 4, 0, -EUCLEAN},
        {36, 4, 1, -EUCLEAN},    {36, 4, 0x7FFFFFFF, -EUCLEAN},
        {32, 4, 0, -EUCLEAN},    {32, 4, 0xFFFFFFFF, -EUCLEAN},
        {42, 2, 1, -EUCLEAN},    {44, 4, 0, -EUCLEAN},
        {44, 4, 1, -EUCLEAN},    {44, 4, 0x0FFFFFFF, -EUCLEAN},
        {40, 2, 0x85, -EUCLEAN}, {510, 1, 0, -EINVAL},
        {48, 2, 0xFFFF, 0},      {40, 2, 0x81, 0},
    };
    struct fat32_vol *vol;
    const char *why;

    if (!base_build())
        CHECK(!"cannot build the base image");
    for (size_t i = 0; base && i < sizeof(patches) / sizeof(patches[0]); i++) {
        const struct bpb_patch *p = &patches[i];
        int r;

        reset();
        if (p->width == 1)
            img[p->off] = (uint8_t)p->value;
        else if (p->width == 2)
            put16(p->off, (uint16_t)p->value);
        else
            put32(p->off, p->value);
        r = mount(&vol, &why, base_size);
        if (r != p->want)
            fprintf(stderr, "  patch %zu (offset %zu = %u): got %d (%s)\n", i, p->off, p->value, r,
                    why);
        CHECK_EQ(r, p->want);
        CHECK(r == 0 || (why && why[0]));
        if (r == 0) {
            CHECK_EQ(walk(vol, "/", 0), 0);
            CHECK_EQ(fat32_unmount(vol), 0);
        }
    }
}

static void test_truncated_image(void)
{
    struct fat32_vol *vol;
    const char *why;

    if (!base_build())
        return;
    reset();
    CHECK_EQ(mount(&vol, &why, base_size / 2), -EUCLEAN);
    CHECK(strstr(why, "truncated") != NULL);
    CHECK_EQ(mount(&vol, &why, 512), -EUCLEAN);
    CHECK_EQ(mount(&vol, &why, 511), -EINVAL);
    CHECK_EQ(mount(&vol, &why, base_size - 512), -EUCLEAN);
    CHECK_EQ(mount(&vol, &why, base_size), 0);
    CHECK_EQ(fat32_unmount(vol), 0);
}

static void test_bad_fsinfo(void)
{
    struct fat32_statfs good, sf;
    struct fat32_vol *vol;

    if (!base_build())
        return;
    reset();
    vol = mount_ok();
    CHECK_EQ(fat32_statfs(vol, &good), 0);
    CHECK_EQ(fat32_unmount(vol), 0);
    put32(512 + 488, 0x7FFFFFFF); /* more free clusters than exist */
    put32(512 + 492, 0x0FFFFFFF); /* a next-free hint out of range */
    vol = mount_ok();
    CHECK_EQ(fat32_statfs(vol, &sf), 0);
    CHECK_EQ(sf.free_clusters, good.free_clusters);
    CHECK_EQ(fat32_mkdir(vol, "/new"), 0);
    CHECK_EQ(fat32_unmount(vol), 0);
    CHECK_EQ(get32(512 + 488), good.free_clusters - 1);
    reset();
    put32(512, 0); /* no FSInfo signature: counted, then rewritten in full on sync */
    vol = mount_ok();
    CHECK_EQ(fat32_statfs(vol, &sf), 0);
    CHECK_EQ(sf.free_clusters, good.free_clusters);
    CHECK_EQ(fat32_mkdir(vol, "/d"), 0);
    CHECK_EQ(fat32_unmount(vol), 0);
    CHECK_EQ(get32(512), 0x41615252);
    CHECK_EQ(get32(512 + 488), good.free_clusters - 1);
}

static void test_cluster_loops(void)
{
    struct fat32_vol *vol;
    struct fat32_node *n;
    struct fat32_dir dir;
    struct fat32_stat st;
    static uint8_t buf[1 << 20];
    const char *why;
    uint32_t root, first, dircl;
    size_t data, de;
    long got;

    if (!base_build())
        return;
    /* The root directory's chain loops: refused at mount. */
    reset();
    root = get32(44);
    put32(fat_off(root), root);
    CHECK_EQ(mount(&vol, &why, base_size), -EUCLEAN);
    CHECK(strstr(why, "loop") != NULL);

    /* A file whose last cluster points back at its first, and whose size says 4 GiB: reading
     * ends with an error once the walk is longer than the volume. */
    reset();
    data = entry_off(root, "DATA    BIN");
    first = entry_cluster(data);
    put32(fat_off(first + 3), first);
    put32(data + 28, 0xFFFFFFFF);
    vol = mount_ok();
    CHECK_EQ(fat32_open(vol, "/data.bin", &n), 0);
    uint64_t off = 0;
    while ((got = fat32_read(vol, n, off, buf, sizeof(buf))) > 0)
        off += (uint64_t)got;
    CHECK_EQ(got, -EUCLEAN);
    CHECK(strstr(fat32_error(vol), "loop") != NULL);
    CHECK(off < 64u << 20);
    CHECK_EQ(fat32_close(vol, n), 0);
    /* Freeing it stops where the loop comes back to a freed cluster. */
    CHECK_EQ(fat32_unlink(vol, "/data.bin"), -EUCLEAN);
    CHECK_EQ(fat32_stat(vol, "/data.bin", &st), -ENOENT);
    CHECK_EQ(fat32_unmount(vol), 0);

    /* A directory whose chain loops onto itself. */
    reset();
    de = entry_off(root, "DIR        ");
    dircl = entry_cluster(de);
    put32(fat_off(dircl), dircl);
    vol = mount_ok();
    CHECK_EQ(fat32_opendir(vol, "/dir", &dir), -EUCLEAN);
    CHECK(fat32_stat(vol, "/dir/nothing", &st) < 0);
    CHECK(walk(vol, "/", 0) > 0);
    CHECK_EQ(fat32_unmount(vol), 0);
}

static void test_clusters_out_of_range(void)
{
    static const uint32_t bad_links[] = {0x0FFFFFF0, 0, 0x0FFFFFF7, 1};
    struct fat32_vol *vol;
    struct fat32_node *n;
    struct fat32_stat st;
    uint8_t buf[4096];
    uint32_t root, first;
    size_t data;

    if (!base_build())
        return;
    for (size_t i = 0; i < sizeof(bad_links) / sizeof(bad_links[0]); i++) {
        reset();
        root = get32(44);
        data = entry_off(root, "DATA    BIN");
        first = entry_cluster(data);
        put32(fat_off(first + 1), bad_links[i]);
        vol = mount_ok();
        CHECK_EQ(fat32_open(vol, "/data.bin", &n), 0);
        CHECK_EQ(fat32_read(vol, n, 0, buf, 512), 512);
        CHECK_EQ(fat32_read(vol, n, 0, buf, sizeof(buf)), 1024);
        CHECK_EQ(fat32_read(vol, n, 1024, buf, sizeof(buf)), -EUCLEAN);
        CHECK(fat32_error(vol)[0] != '\0');
        CHECK(fat32_write(vol, n, 1500, buf, 100) < 0);
        CHECK_EQ(fat32_truncate(vol, n, 100), -EUCLEAN);
        CHECK_EQ(fat32_close(vol, n), 0);
        CHECK_EQ(fat32_unmount(vol), 0);
    }
    /* A size larger than the chain. */
    reset();
    put32(data + 28, 100000);
    vol = mount_ok();
    CHECK_EQ(fat32_open(vol, "/data.bin", &n), 0);
    CHECK_EQ(fat32_read(vol, n, 0, buf, sizeof(buf)), 2048);
    CHECK_EQ(fat32_read(vol, n, 2048, buf, sizeof(buf)), -EUCLEAN);
    CHECK(strstr(fat32_error(vol), "shorter") != NULL);
    CHECK_EQ(fat32_close(vol, n), 0);
    CHECK_EQ(fat32_unmount(vol), 0);
    /* Entries that start outside the volume. */
    reset();
    put16(data + 20, 0x0FFF);
    put16(entry_off(root, "DIR        ") + 20, 0x0FFF);
    vol = mount_ok();
    CHECK_EQ(fat32_open(vol, "/data.bin", &n), -EUCLEAN);
    CHECK_EQ(fat32_stat(vol, "/data.bin", &st), 0);
    CHECK_EQ(fat32_stat(vol, "/dir", &st), -EUCLEAN);
    CHECK_EQ(fat32_stat(vol, "/dir/g.txt", &st), -EUCLEAN);
    CHECK_EQ(fat32_unlink(vol, "/data.bin"), -EUCLEAN);
    CHECK(walk(vol, "/", 0) > 0);
    CHECK_EQ(fat32_unmount(vol), 0);
}

/* The names readdir gives for the root directory. */
static int root_names(struct fat32_vol *vol, char names[][FAT32_NAME_MAX + 1], int max)
{
    struct fat32_dirent *de = malloc(sizeof(*de));
    struct fat32_dir dir;
    int n = 0, r;

    CHECK_EQ(fat32_opendir(vol, "/", &dir), 0);
    while ((r = fat32_readdir(vol, &dir, de)) == 1 && n < max)
        strcpy(names[n++], de->name);
    CHECK_EQ(r, 0);
    free(de);
    return n;
}

static bool listed(char names[][FAT32_NAME_MAX + 1], int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

static void test_lfn_orphans(void)
{
    static char names[8][FAT32_NAME_MAX + 1];
    struct fat32_vol *vol;
    struct fat32_stat st;
    uint32_t root;
    size_t alias;
    int n;

    if (!base_build())
        return;
    reset();
    root = get32(44);
    alias = entry_off(root, "ALONGF~1TXT");
    /* The set before the alias: two long-name entries (ordinals 0x42, 0x01). */
    CHECK_EQ(img[alias - 64], 0x42);
    CHECK_EQ(img[alias - 32], 0x01);

    /* Short entry deleted: the long-name entries are orphans and are skipped. */
    img[alias] = 0xE5;
    vol = mount_ok();
    n = root_names(vol, names, 8);
    CHECK_EQ(n, 2);
    CHECK(listed(names, n, "data.bin") && listed(names, n, "dir"));
    CHECK_EQ(fat32_stat(vol, "/A long file name.txt", &st), -ENOENT);
    CHECK_EQ(fat32_create(vol, "/A long file name.txt", NULL), 0);
    CHECK_EQ(fat32_unmount(vol), 0);

    /* Checksum mismatch: the alias is shown instead. */
    reset();
    img[alias - 64 + 13] ^= 1;
    img[alias - 32 + 13] ^= 1;
    vol = mount_ok();
    n = root_names(vol, names, 8);
    CHECK(listed(names, n, "ALONGF~1.TXT"));
    CHECK_EQ(fat32_stat(vol, "/A long file name.txt", &st), -ENOENT);
    CHECK_EQ(fat32_stat(vol, "/alongf~1.txt", &st), 0);
    CHECK_EQ(fat32_unmount(vol), 0);

    /* Ordinals that do not count down, or claim more entries than there are. */
    static const uint8_t bad_ords[][2] = {
        {0x45, 0x01}, {0x42, 0x02}, {0x40, 0x01}, {0x02, 0x01}, {0x55, 0x01}};
    for (size_t i = 0; i < sizeof(bad_ords) / sizeof(bad_ords[0]); i++) {
        reset();
        img[alias - 64] = bad_ords[i][0];
        img[alias - 32] = bad_ords[i][1];
        vol = mount_ok();
        n = root_names(vol, names, 8);
        CHECK(listed(names, n, "ALONGF~1.TXT"));
        CHECK_EQ(fat32_unmount(vol), 0);
    }

    /* The set runs into the end of the directory (which hides "dir" after it too). */
    reset();
    img[alias] = 0x00;
    vol = mount_ok();
    n = root_names(vol, names, 8);
    CHECK_EQ(n, 1);
    CHECK(listed(names, n, "data.bin"));
    CHECK_EQ(fat32_unmount(vol), 0);
}

static void test_directory_loops(void)
{
    struct fat32_vol *vol;
    struct fat32_dir dir;
    struct fat32_stat st;
    uint32_t root, dircl, subcl;
    size_t dirent, subent;

    if (!base_build())
        return;
    reset();
    root = get32(44);
    dirent = entry_off(root, "DIR        ");
    dircl = entry_cluster(dirent);
    subent = entry_off(dircl, "SUB        ");
    subcl = entry_cluster(subent);
    CHECK(subcl != 0);
    /* /dir/sub points back at /dir, and /dir at the root. */
    put16(subent + 26, (uint16_t)dircl);
    put16(subent + 20, (uint16_t)(dircl >> 16));
    vol = mount_ok();
    CHECK_EQ(fat32_stat(vol, "/dir/g.txt", &st), 0);
    CHECK_EQ(fat32_stat(vol, "/dir/sub", &st), -EUCLEAN);
    CHECK(strstr(fat32_error(vol), "loop") != NULL);
    CHECK_EQ(fat32_stat(vol, "/dir/sub/sub/sub/g.txt", &st), -EUCLEAN);
    CHECK_EQ(fat32_opendir(vol, "/dir/sub", &dir), -EUCLEAN);
    CHECK_EQ(fat32_rename(vol, "/dir/g.txt", "/dir/sub/g.txt"), -EUCLEAN);
    CHECK(walk(vol, "/", 0) > 0);
    CHECK_EQ(fat32_unmount(vol), 0);
    reset();
    put16(dirent + 26, (uint16_t)root);
    put16(dirent + 20, (uint16_t)(root >> 16));
    vol = mount_ok();
    CHECK_EQ(fat32_opendir(vol, "/dir", &dir), -EUCLEAN);
    CHECK(walk(vol, "/", 0) > 0);
    CHECK_EQ(fat32_unmount(vol), 0);
}

/* Random damage to the metadata (boot sector, FATs, first directory clusters); fixed seed. */
static void test_random_damage(void)
{
    size_t meta;
    uint32_t x = 12345;

    if (!base_build())
        return;
    reset();
    meta = cluster_off(get32(44)) + 64 * 512;
    for (int iter = 0; iter < 300; iter++) {
        struct fat32_vol *vol;
        const char *why;
        int flips;

        memcpy(img, base, meta);
        x = x * 1103515245 + 12345;
        flips = 1 + (int)(x >> 16) % 16;
        for (int k = 0; k < flips; k++) {
            x = x * 1103515245 + 12345;
            size_t at = (x >> 8) % meta;
            /* Aim half the flips at the boot sector, FSInfo and root directory. */
            if (k % 2)
                at = at % 1024 < 512 ? at % 1024 : cluster_off(get32(44)) + at % 1024;
            x = x * 1103515245 + 12345;
            img[at % meta] ^= (uint8_t)(1u << (x >> 20) % 8);
        }
        if (mount(&vol, &why, base_size) < 0)
            continue;
        walk(vol, "/", 0);
        fat32_create(vol, "/new file name.txt", NULL);
        fat32_mkdir(vol, "/newdir");
        fat32_rename(vol, "/data.bin", "/newdir/moved.bin");
        fat32_unlink(vol, "/A long file name.txt");
        fat32_rmdir(vol, "/dir/sub");
        walk(vol, "/", 0);
        fat32_unmount(vol);
    }
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"fs/fat32_corrupt_bpb", test_bad_bpb},
        {"fs/fat32_corrupt_truncated_image", test_truncated_image},
        {"fs/fat32_corrupt_fsinfo", test_bad_fsinfo},
        {"fs/fat32_corrupt_cluster_loops", test_cluster_loops},
        {"fs/fat32_corrupt_clusters_out_of_range", test_clusters_out_of_range},
        {"fs/fat32_corrupt_lfn_orphans", test_lfn_orphans},
        {"fs/fat32_corrupt_directory_loops", test_directory_loops},
        {"fs/fat32_corrupt_random_damage", test_random_damage},
    };
    int r = test_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);

    free(base);
    free(img);
    return r;
}
