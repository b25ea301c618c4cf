/* test_fat32.c - FAT32 against dosfstools and mtools: their images read back exactly, and what
 * Avatar writes passes fsck.fat -n and reads back with mtype and mdir. */
#define _DEFAULT_SOURCE
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fat32.h"
#include "hw/byteorder.h"
#include "test.h"

/* ---- helpers: scratch files, shell commands, images in memory ---- */

static char tmpdir[512];

/* Runs a command and returns its whole stdout (NUL-terminated, caller frees). */
static char *sh_out(size_t *len, const char *fmt, ...)
{
    char cmd[8192];
    size_t cap = 4096, n = 0, got;
    char *buf = malloc(cap);
    va_list ap;
    FILE *p;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    p = popen(cmd, "r");
    while (p && (got = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += got;
        if (cap - n - 1 == 0)
            buf = realloc(buf, cap *= 2);
    }
    if (p)
        pclose(p);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

static void tmp_init(void)
{
    const char *b = getenv("AVATAR_BUILD");
    char rel[400];

    if (tmpdir[0])
        return;
    /* Absolute, because some commands run from inside the scratch directory. */
    snprintf(rel, sizeof(rel), "%s/unit/tmp/fat32", b ? b : "build");
    test_sh("mkdir -p '%s'", rel);
    if (!realpath(rel, tmpdir))
        snprintf(tmpdir, sizeof(tmpdir), "%s", rel);
    setenv("MTOOLS_SKIP_CHECK", "1", 1);
}

static void fixed_now(void *ctx, struct fat32_time *t)
{
    (void)ctx;
    *t = (struct fat32_time){2024, 5, 17, 12, 34, 56};
}

struct img {
    char path[700];
    uint8_t *mem;
    size_t size;
    struct blockdev bd;
    struct blockdev_ram ram;
    struct fat32_vol *vol;
};

/* 40 MiB with 512-byte clusters: enough clusters (> 65525) that mtools treats it as FAT32. */
static void img_mkfs(struct img *im, const char *name, const char *extra)
{
    tmp_init();
    snprintf(im->path, sizeof(im->path), "%s/%s.img", tmpdir, name);
    test_sh("rm -f '%s'; mkfs.fat -F 32 -s 1 -S 512 %s -C '%s' 40960 >/dev/null", im->path, extra,
            im->path);
}

static void img_load(struct img *im)
{
    FILE *f = fopen(im->path, "rb");

    fseek(f, 0, SEEK_END);
    im->size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    im->mem = malloc(im->size);
    CHECK_EQ(fread(im->mem, 1, im->size, f), im->size);
    fclose(f);
}

static void img_save(struct img *im)
{
    FILE *f = fopen(im->path, "wb");

    CHECK_EQ(fwrite(im->mem, 1, im->size, f), im->size);
    fclose(f);
}

static int img_mount_opts(struct img *im, bool read_only)
{
    struct fat32_mount_opts opts = {fixed_now, NULL, read_only};
    const char *why = NULL;
    int r;

    img_load(im);
    blockdev_ram_init(&im->bd, &im->ram, im->mem, im->size, false);
    r = fat32_mount(&im->bd, &opts, &im->vol, &why);
    if (r < 0)
        fprintf(stderr, "  mount %s: %d %s\n", im->path, r, why);
    return r;
}

static int img_mount(struct img *im)
{
    return img_mount_opts(im, false);
}

/* Unmounts, writes the image back to its file and frees it. */
static void img_unmount(struct img *im)
{
    CHECK_EQ(fat32_unmount(im->vol), 0);
    img_save(im);
    free(im->mem);
    im->mem = NULL;
}

static int img_fsck(struct img *im)
{
    int r = test_sh("fsck.fat -n '%s' >'%s.fsck' 2>&1", im->path, im->path);

    if (r != 0)
        test_sh("sed 's/^/    fsck: /' '%s.fsck' >&2", im->path);
    return r;
}

/* Deterministic contents: the same (seed, n) always gives the same bytes. */
static void fill(uint8_t *buf, size_t n, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 1;

    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        buf[i] = (uint8_t)x;
    }
}

static void host_write(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");

    CHECK(f != NULL);
    if (f) {
        CHECK_EQ(fwrite(data, 1, n, f), n);
        fclose(f);
    }
}

static int put_file(struct fat32_vol *v, const char *path, const void *data, size_t n)
{
    struct fat32_node *node;
    int r = fat32_create(v, path, &node);

    if (r == -EEXIST) {
        r = fat32_open(v, path, &node);
        if (r == 0)
            r = fat32_truncate(v, node, 0);
    }
    if (r < 0)
        return r;
    if (n)
        r = fat32_write(v, node, 0, data, n) == (long)n ? 0 : -EIO;
    fat32_close(v, node);
    return r;
}

/* Reads a whole file through Avatar (caller frees); NULL on error. */
static uint8_t *get_file(struct fat32_vol *v, const char *path, size_t *n)
{
    struct fat32_node *node;
    struct fat32_stat st = {0};
    uint8_t *buf;
    long got;

    if (fat32_open(v, path, &node) < 0)
        return NULL;
    fat32_fstat(v, node, &st);
    buf = malloc(st.size + 1);
    got = fat32_read(v, node, 0, buf, st.size);
    fat32_close(v, node);
    if (got != (long)st.size) {
        free(buf);
        return NULL;
    }
    *n = st.size;
    return buf;
}

static bool file_is(struct fat32_vol *v, const char *path, const uint8_t *want, size_t n)
{
    size_t got_n = 0;
    uint8_t *got = get_file(v, path, &got_n);
    bool ok = got && got_n == n && memcmp(got, want, n) == 0;

    if (!ok)
        fprintf(stderr, "  %s: content differs (got %zu bytes, want %zu)\n", path, got_n, n);
    free(got);
    return ok;
}

/* Whether mtype prints exactly these bytes for the file. */
static bool mtype_is(struct img *im, const char *path, const uint8_t *want, size_t n)
{
    size_t got_n;
    char *got = sh_out(&got_n, "mtype -i '%s' '::%s' 2>/dev/null", im->path, path);
    bool ok = got_n == n && memcmp(got, want, n) == 0;

    if (!ok)
        fprintf(stderr, "  mtype %s: got %zu bytes, want %zu\n", path, got_n, n);
    free(got);
    return ok;
}

static int count_lines(const char *s)
{
    int n = 0;

    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static bool has_line(const char *text, const char *line)
{
    size_t n = strlen(line);

    for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
        if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
            return true;
    return false;
}

/* Raw image access, to look at what the library wrote (or to damage it). */

static uint32_t raw_fat(const struct img *im, uint32_t cl)
{
    uint32_t rsvd = im->mem[14] | im->mem[15] << 8;

    return load_le32(im->mem + rsvd * 512 + cl * 4) & 0x0FFFFFFF;
}

static uint8_t *raw_cluster(const struct img *im, uint32_t cl)
{
    uint32_t rsvd = im->mem[14] | im->mem[15] << 8, fatsz = load_le32(im->mem + 36);

    return im->mem + (size_t)(rsvd + im->mem[16] * fatsz + (cl - 2) * im->mem[13]) * 512;
}

/* ---- reading what mtools wrote ---- */

struct tree_file {
    const char *path;
    size_t size;
};

static const struct tree_file tree[] = {
    {"/A long file name with spaces.txt", 3000},
    {"/name.with.many.dots.tar.gz", 700},
    {"/UPPER.TXT", 10},
    {"/lower.txt", 513},
    {"/MixedCase.Dat", 512},
    {"/empty.bin", 0},
    {"/x", 1},
    {"/big.bin", 300000},
    {"/d01/d02/d03/d04/d05/d06/d07/d08/d09/d10/d11/d12/deep file.txt", 5000},
    {"/d01/d02/another empty", 0},
    {"/Deep Directory With A Long Name/sub dir/file.c", 1025},
    {"/Deep Directory With A Long Name/sub dir/second empty", 0},
};

#define NTREE (sizeof(tree) / sizeof(tree[0]))

static void test_read_mcopy_tree(void)
{
    static const char *root_names[] = {"A long file name with spaces.txt",
                                       "name.with.many.dots.tar.gz",
                                       "UPPER.TXT",
                                       "lower.txt",
                                       "MixedCase.Dat",
                                       "empty.bin",
                                       "x",
                                       "big.bin",
                                       "d01",
                                       "Deep Directory With A Long Name"};
    struct img im;
    char host[1200];
    struct fat32_dir dir;
    struct fat32_dirent *de = malloc(sizeof(*de));
    struct fat32_stat st = {0};
    int seen = 0, r;

    img_mkfs(&im, "read_tree", "");
    test_sh("rm -rf '%s/tree' && mkdir -p '%s/tree'", tmpdir, tmpdir);
    for (size_t i = 0; i < NTREE; i++) {
        uint8_t *data = malloc(tree[i].size + 1);

        fill(data, tree[i].size, (uint32_t)i);
        snprintf(host, sizeof(host), "%s/tree%s", tmpdir, tree[i].path);
        test_sh("mkdir -p \"$(dirname '%s')\"", host);
        host_write(host, data, tree[i].size);
        free(data);
    }
    CHECK_EQ(test_sh("cd '%s/tree' && mcopy -s -i '%s' * ::/", tmpdir, im.path), 0);
    CHECK_EQ(img_mount(&im), 0);
    for (size_t i = 0; i < NTREE; i++) {
        uint8_t *data = malloc(tree[i].size + 1);

        fill(data, tree[i].size, (uint32_t)i);
        CHECK(file_is(im.vol, tree[i].path, data, tree[i].size));
        free(data);
    }
    /* readdir gives each name exactly as mtools stored it (long name or 8.3 with case bits). */
    CHECK_EQ(fat32_opendir(im.vol, "/", &dir), 0);
    while ((r = fat32_readdir(im.vol, &dir, de)) == 1) {
        bool known = false;

        for (size_t k = 0; k < sizeof(root_names) / sizeof(root_names[0]); k++)
            known |= strcmp(de->name, root_names[k]) == 0;
        if (!known)
            fprintf(stderr, "  unexpected name '%s'\n", de->name);
        CHECK(known);
        seen++;
    }
    CHECK_EQ(r, 0);
    CHECK_EQ(seen, 10);
    /* Lookups fold case, as FAT does. */
    CHECK_EQ(fat32_stat(im.vol, "/a LONG file NAME with SPACES.TXT", &st), 0);
    CHECK_EQ(st.size, 3000);
    CHECK_EQ(fat32_stat(im.vol, "/D01/d02/../d02/./D03", &st), 0);
    CHECK(st.is_dir);
    CHECK_EQ(fat32_stat(im.vol, "/d01/nope", &st), -ENOENT);
    CHECK_EQ(fat32_stat(im.vol, "/x/y", &st), -ENOTDIR);
    CHECK_EQ(fat32_opendir(im.vol, "/x", &dir), -ENOTDIR);
    free(de);
    img_unmount(&im);
    CHECK_EQ(img_fsck(&im), 0);
}

static void test_read_fragmented(void)
{
    uint8_t small[1536], *big = malloc(200000);
    struct img im;
    char host[800];
    struct fat32_stat st = {0};
    uint32_t breaks = 0;

    img_mkfs(&im, "read_frag", "");
    fill(small, sizeof(small), 7);
    snprintf(host, sizeof(host), "%s/small", tmpdir);
    host_write(host, small, sizeof(small));
    fill(big, 200000, 8);
    snprintf(host, sizeof(host), "%s/big", tmpdir);
    host_write(host, big, 200000);
    /* Interleave 3-cluster files, delete every other one, and point the FSInfo allocation
     * hint back at cluster 2 so that mcopy lays the big file into the holes. */
    CHECK_EQ(test_sh("cd '%s' && for i in $(seq 0 39); do mcopy -i '%s' small ::/keep$i && "
                     "mcopy -i '%s' small ::/gone$i || exit 1; done && "
                     "for i in $(seq 0 39); do mdel -i '%s' ::/gone$i || exit 1; done && "
                     "printf '\\002\\000\\000\\000' | dd of='%s' bs=1 seek=1004 conv=notrunc "
                     "2>/dev/null && mcopy -i '%s' big '::/Big Fragmented File.bin'",
                     tmpdir, im.path, im.path, im.path, im.path, im.path),
             0);
    CHECK_EQ(img_mount(&im), 0);
    CHECK(file_is(im.vol, "/big fragmented file.bin", big, 200000));
    CHECK(file_is(im.vol, "/KEEP17", small, sizeof(small)));
    CHECK_EQ(fat32_stat(im.vol, "/Big Fragmented File.bin", &st), 0);
    for (uint32_t cl = st.first_cluster, next; (next = raw_fat(&im, cl)) < 0x0FFFFFF8; cl = next)
        breaks += next != cl + 1;
    CHECK(breaks >= 30);
    /* Reading at odd offsets across the fragments. */
    {
        struct fat32_node *n;
        uint8_t buf[5000];

        CHECK_EQ(fat32_open(im.vol, "/Big Fragmented File.bin", &n), 0);
        for (uint32_t off = 0; off < 200000; off += 4999) {
            long got = fat32_read(im.vol, n, off, buf, sizeof(buf));
            long want = 200000 - off < sizeof(buf) ? 200000 - off : (long)sizeof(buf);

            CHECK_EQ(got, want);
            CHECK(memcmp(buf, big + off, (size_t)want) == 0);
        }
        CHECK_EQ(fat32_read(im.vol, n, 200000, buf, 10), 0);
        CHECK_EQ(fat32_close(im.vol, n), 0);
    }
    free(big);
    img_unmount(&im);
}

static void test_read_1000_entries(void)
{
    struct fat32_dirent *de = malloc(sizeof(*de));
    static bool seen[1000];
    struct img im;
    struct fat32_dir dir;
    char path[300], want[64];
    int count = 0, r;

    img_mkfs(&im, "read_1000", "");
    CHECK_EQ(test_sh("rm -rf '%s/many' && mkdir '%s/many' && cd '%s/many' && "
                     "for i in $(seq -w 0 999); do echo \"entry $i\" > \"$i entry with a long "
                     "name.txt\"; done && mmd -i '%s' ::/many && mcopy -i '%s' * ::/many/",
                     tmpdir, tmpdir, tmpdir, im.path, im.path),
             0);
    CHECK_EQ(img_mount(&im), 0);
    memset(seen, 0, sizeof(seen));
    CHECK_EQ(fat32_opendir(im.vol, "/many", &dir), 0);
    while ((r = fat32_readdir(im.vol, &dir, de)) == 1) {
        int i;

        if (sscanf(de->name, "%d entry with a long name.txt", &i) == 1 && i >= 0 && i < 1000 &&
            !seen[i]) {
            seen[i] = true;
            count++;
            CHECK(strchr(de->short_name, '~') != NULL);
        }
    }
    CHECK_EQ(r, 0);
    CHECK_EQ(count, 1000);
    for (int i = 0; i < 1000; i += 37) {
        snprintf(path, sizeof(path), "/many/%03d ENTRY WITH A LONG NAME.TXT", i);
        snprintf(want, sizeof(want), "entry %03d\n", i);
        CHECK(file_is(im.vol, path, (const uint8_t *)want, strlen(want)));
    }
    free(de);
    img_unmount(&im);
}

static void test_label_statfs(void)
{
    struct fat32_statfs sf;
    struct img im;
    char label[32], *out;
    unsigned used = 0, total = 0;

    img_mkfs(&im, "label", "-n 'AVATAR LBL'");
    CHECK_EQ(test_sh("echo hi | mcopy -i '%s' - ::/hi.txt", im.path), 0);
    CHECK_EQ(img_mount(&im), 0);
    CHECK_EQ(fat32_label(im.vol, label, sizeof(label)), 10);
    CHECK(strcmp(label, "AVATAR LBL") == 0);
    CHECK_EQ(fat32_label(im.vol, label, 5), -ERANGE);
    CHECK_EQ(fat32_statfs(im.vol, &sf), 0);
    img_unmount(&im);
    out = sh_out(NULL, "fsck.fat -n '%s'", im.path);
    CHECK(sscanf(strstr(out, "files, ") ? strstr(out, "files, ") : "", "files, %u/%u", &used,
                 &total) == 2);
    CHECK_EQ(sf.total_clusters, total);
    CHECK_EQ(sf.free_clusters, total - used);
    CHECK_EQ(sf.bytes_per_cluster, 512);
    free(out);
}

/* ---- writing, checked by fsck.fat and mtools ---- */

static const char *write_names[] = {
    "README.TXT", /* 8.3 as is: short entry only */
    "notes.txt",  /* all lower: short entry with NT case bits */
    "foo.TXT",    /* lower base, upper extension */
    "Makefile",   /* mixed case: long name, alias without a tail */
    "A name with spaces.txt",
    "archive.tar.gz",
    ".profile",
    "name with  two  spaces and.many.dots.in.it",
    "same prefix long name 1.txt",
    "same prefix long name 2.txt",
    "same prefix long name 3.txt",
    "same prefix long name 4.txt",
    "same prefix long name 5.txt",
    "same prefix long name 6.txt",
    "same prefix long name 7.txt",
    "same prefix long name 8.txt",
    "same prefix long name 9.txt",
    "same prefix long name 10.txt",
    "same prefix long name 11.txt",
    "plus+comma,semi;eq=.txt",
    "x",
};

#define NWRITE (sizeof(write_names) / sizeof(write_names[0]))

static void test_write_names(void)
{
    char path[400], longname[256], *list, *dir;
    struct img im;
    uint8_t data[2000];

    img_mkfs(&im, "write_names", "");
    CHECK_EQ(img_mount(&im), 0);
    for (size_t i = 0; i < NWRITE; i++) {
        snprintf(path, sizeof(path), "/%s", write_names[i]);
        fill(data, 100 + i * 50, (uint32_t)(100 + i));
        CHECK_EQ(put_file(im.vol, path, data, 100 + i * 50), 0);
    }
    memset(longname, 'L', 240);
    memcpy(longname + 240, " tail.text", 11);
    snprintf(path, sizeof(path), "/%s", longname);
    CHECK_EQ(put_file(im.vol, path, "long", 4), 0);
    CHECK_EQ(fat32_create(im.vol, "/NOTES.TXT", NULL), -EEXIST);
    CHECK_EQ(fat32_create(im.vol, "/bad:name", NULL), -EINVAL);
    CHECK_EQ(fat32_create(im.vol, "/trailing.", NULL), -EINVAL);
    CHECK_EQ(fat32_create(im.vol, "/nodir/file", NULL), -ENOENT);
    img_unmount(&im);
    CHECK_EQ(img_fsck(&im), 0);

    list = sh_out(NULL, "mdir -b -i '%s' ::/", im.path);
    CHECK_EQ(count_lines(list), (int)NWRITE + 1);
    for (size_t i = 0; i < NWRITE; i++) {
        snprintf(path, sizeof(path), "::/%s", write_names[i]);
        if (!has_line(list, path))
            fprintf(stderr, "  mdir lacks '%s'\n", path);
        CHECK(has_line(list, path));
        snprintf(path, sizeof(path), "/%s", write_names[i]);
        fill(data, 100 + i * 50, (uint32_t)(100 + i));
        CHECK(mtype_is(&im, path, data, 100 + i * 50));
    }
    snprintf(path, sizeof(path), "/%s", longname);
    CHECK(mtype_is(&im, path, (const uint8_t *)"long", 4));
    /* The 8.3 side as mtools shows it: case bits honoured, aliases numbered. */
    dir = sh_out(NULL, "mdir -i '%s' ::/", im.path);
    CHECK(strstr(dir, "\nREADME   TXT ") != NULL);
    CHECK(strstr(dir, "\nnotes    txt ") != NULL);
    CHECK(strstr(dir, "\nfoo      TXT ") != NULL);
    CHECK(strstr(dir, "\nMAKEFILE ") != NULL);
    CHECK(strstr(dir, "\nSAMEPR~9 TXT ") != NULL);
    CHECK(strstr(dir, "\nSAMEP~10 TXT ") != NULL);
    CHECK(strstr(dir, "\nARCHIVE~1 GZ") == NULL && strstr(dir, "\nARCHIV~1 GZ ") != NULL);
    CHECK(strstr(dir, "2024-05-17  12:34") != NULL);
    free(list);
    free(dir);
}

static void test_write_append_truncate(void)
{
    static uint8_t model[20000], chunk[7000];
    struct fat32_node *n;
    struct fat32_stat st = {0};
    struct img im;
    size_t size = 0;

    img_mkfs(&im, "write_append", "");
    CHECK_EQ(img_mount(&im), 0);
    CHECK_EQ(fat32_create(im.vol, "/grow.bin", &n), 0);
    /* Appends that straddle sector and cluster edges. */
    for (uint32_t step = 0; step < 12; step++) {
        size_t len = 1 + step * 511 % 1300;

        fill(chunk, len, step);
        CHECK_EQ(fat32_write(im.vol, n, size, chunk, len), (long)len);
        memcpy(model + size, chunk, len);
        size += len;
    }
    /* Overwrite in the middle, across several sectors. */
    fill(chunk, 1500, 99);
    CHECK_EQ(fat32_write(im.vol, n, 700, chunk, 1500), 1500);
    memcpy(model + 700, chunk, 1500);
    /* Shrink, then grow by truncate (zeros), then write past the end (a zero gap). */
    CHECK_EQ(fat32_truncate(im.vol, n, 3001), 0);
    size = 3001;
    CHECK_EQ(fat32_truncate(im.vol, n, 5000), 0);
    memset(model + 3001, 0, 5000 - 3001);
    size = 5000;
    fill(chunk, 100, 5);
    CHECK_EQ(fat32_write(im.vol, n, 9000, chunk, 100), 100);
    memset(model + 5000, 0, 4000);
    memcpy(model + 9000, chunk, 100);
    size = 9100;
    CHECK_EQ(fat32_fstat(im.vol, n, &st), 0);
    CHECK_EQ(st.size, size);
    CHECK_EQ(st.mtime.year, 2024);
    CHECK_EQ(st.mtime.second, 56);
    CHECK_EQ(st.ctime.second, 56);
    CHECK_EQ(fat32_close(im.vol, n), 0);
    CHECK(file_is(im.vol, "/grow.bin", model, size));
    /* Truncate to zero and rewrite; an emptied file keeps no clusters. */
    CHECK_EQ(put_file(im.vol, "/emptied", "abc", 3), 0);
    CHECK_EQ(fat32_open(im.vol, "/emptied", &n), 0);
    CHECK_EQ(fat32_truncate(im.vol, n, 0), 0);
    CHECK_EQ(fat32_fstat(im.vol, n, &st), 0);
    CHECK_EQ(st.first_cluster, 0);
    CHECK_EQ(fat32_close(im.vol, n), 0);
    CHECK_EQ(fat32_close(im.vol, n), -EBADF);
    CHECK_EQ(fat32_unlink(im.vol, "/grow.bin"), 0);
    CHECK_EQ(put_file(im.vol, "/grow.bin", model, size), 0);
    img_unmount(&im);
    CHECK_EQ(img_fsck(&im), 0);
    CHECK(mtype_is(&im, "/grow.bin", model, size));
    CHECK(mtype_is(&im, "/emptied", model, 0));
}

static void test_write_dirs_rename(void)
{
    struct fat32_node *n;
    struct fat32_stat st = {0}, parent = {0};
    struct img im;
    char *list;

    img_mkfs(&im, "write_dirs", "");
    CHECK_EQ(img_mount(&im), 0);
    CHECK_EQ(fat32_mkdir(im.vol, "/a"), 0);
    CHECK_EQ(fat32_mkdir(im.vol, "/a/Second Level"), 0);
    CHECK_EQ(fat32_mkdir(im.vol, "/a/second level/c"), 0);
    CHECK_EQ(fat32_mkdir(im.vol, "/a"), -EEXIST);
    CHECK_EQ(fat32_mkdir(im.vol, "/"), -EEXIST);
    CHECK_EQ(fat32_mkdir(im.vol, "/x"), 0);
    CHECK_EQ(put_file(im.vol, "/a/Second Level/c/f.txt", "file f", 6), 0);
    CHECK_EQ(put_file(im.vol, "/a/old name.txt", "to be replaced", 14), 0);
    CHECK_EQ(put_file(im.vol, "/x/keep.txt", "keep", 4), 0);
    /* A file across directories, replacing an existing one. */
    CHECK_EQ(fat32_rename(im.vol, "/a/second level/c/f.txt", "/a/old name.txt"), 0);
    CHECK_EQ(fat32_stat(im.vol, "/a/Second Level/c/f.txt", &st), -ENOENT);
    CHECK(file_is(im.vol, "/a/old name.txt", (const uint8_t *)"file f", 6));
    /* An open file follows its entry. */
    CHECK_EQ(fat32_open(im.vol, "/a/old name.txt", &n), 0);
    CHECK_EQ(fat32_rename(im.vol, "/a/old name.txt", "/New Name Of F.txt"), 0);
    CHECK_EQ(fat32_write(im.vol, n, 6, " grew", 5), 5);
    CHECK_EQ(fat32_close(im.vol, n), 0);
    CHECK(file_is(im.vol, "/new name of f.txt", (const uint8_t *)"file f grew", 11));
    /* A directory across directories: its ".." follows. */
    CHECK_EQ(fat32_rename(im.vol, "/a/Second Level", "/x/moved"), 0);
    CHECK_EQ(fat32_stat(im.vol, "/x/moved/c", &st), 0);
    CHECK_EQ(fat32_stat(im.vol, "/x", &parent), 0);
    CHECK_EQ(fat32_stat(im.vol, "/x/moved", &st), 0);
    CHECK_EQ(load_le32(raw_cluster(&im, st.first_cluster) + 32 + 26) & 0xFFFF,
             parent.first_cluster);
    /* Forbidden moves and removals. */
    CHECK_EQ(fat32_rename(im.vol, "/x", "/x/moved/c/x"), -EINVAL);
    CHECK_EQ(fat32_rename(im.vol, "/x/keep.txt", "/a"), -EISDIR);
    CHECK_EQ(fat32_rename(im.vol, "/a", "/x/keep.txt"), -ENOTDIR);
    CHECK_EQ(fat32_rename(im.vol, "/nothing", "/y"), -ENOENT);
    CHECK_EQ(fat32_rename(im.vol, "/", "/y"), -EBUSY);
    CHECK_EQ(fat32_rmdir(im.vol, "/x"), -ENOTEMPTY);
    CHECK_EQ(fat32_rmdir(im.vol, "/x/keep.txt"), -ENOTDIR);
    CHECK_EQ(fat32_unlink(im.vol, "/x"), -EISDIR);
    CHECK_EQ(fat32_rmdir(im.vol, "/"), -EBUSY);
    /* Replace an empty directory by a directory; a case-only rename. */
    CHECK_EQ(fat32_mkdir(im.vol, "/empty"), 0);
    CHECK_EQ(fat32_rename(im.vol, "/a", "/empty"), 0);
    CHECK_EQ(fat32_rename(im.vol, "/x/keep.txt", "/x/KEEP.TXT"), 0);
    CHECK_EQ(fat32_rename(im.vol, "/x/KEEP.TXT", "/x/Keep.Txt"), 0);
    CHECK_EQ(fat32_rename(im.vol, "/x/Keep.Txt", "/x/Keep.Txt"), 0);
    CHECK_EQ(fat32_rmdir(im.vol, "/x/moved/c"), 0);
    CHECK_EQ(fat32_mkdir(im.vol, "/to remove"), 0);
    CHECK_EQ(fat32_rmdir(im.vol, "/to remove"), 0);
    img_unmount(&im);
    CHECK_EQ(img_fsck(&im), 0);
    list = sh_out(NULL, "mdir -/ -b -i '%s' ::/", im.path);
    CHECK(has_line(list, "::/x/"));
    CHECK(has_line(list, "::/x/moved/"));
    CHECK(has_line(list, "::/x/Keep.Txt"));
    CHECK(has_line(list, "::/empty/"));
    CHECK(has_line(list, "::/New Name Of F.txt"));
    CHECK_EQ(count_lines(list), 5);
    CHECK(mtype_is(&im, "/x/Keep.Txt", (const uint8_t *)"keep", 4));
    free(list);
}

/* 1000 names sharing one alias basis: tails up to ~1000, directory growth, slot reuse. */
static void test_write_dir_growth(void)
{
    char path[200], *list, *dir;
    struct fat32_statfs before, after;
    struct img im;

    img_mkfs(&im, "write_grow", "");
    CHECK_EQ(img_mount(&im), 0);
    CHECK_EQ(fat32_mkdir(im.vol, "/grow"), 0);
    CHECK_EQ(fat32_statfs(im.vol, &before), 0);
    for (int i = 0; i < 1000; i++) {
        snprintf(path, sizeof(path), "/grow/a file with a long name %d.txt", i);
        CHECK_EQ(put_file(im.vol, path, path, strlen(path)), 0);
    }
    for (int i = 0; i < 1000; i += 2) {
        snprintf(path, sizeof(path), "/grow/A FILE WITH A LONG NAME %d.TXT", i);
        CHECK_EQ(fat32_unlink(im.vol, path), 0);
    }
    for (int i = 0; i < 300; i++) {
        snprintf(path, sizeof(path), "/grow/second round %d", i);
        CHECK_EQ(put_file(im.vol, path, "", 0), 0);
    }
    CHECK_EQ(fat32_statfs(im.vol, &after), 0);
    /* 500 one-cluster files remain; the directory grew by whole clusters. */
    CHECK(before.free_clusters - after.free_clusters > 500);
    img_unmount(&im);
    CHECK_EQ(img_fsck(&im), 0);
    list = sh_out(NULL, "mdir -b -i '%s' ::/grow", im.path);
    CHECK_EQ(count_lines(list), 800);
    CHECK(has_line(list, "::/grow/a file with a long name 999.txt"));
    CHECK(has_line(list, "::/grow/second round 299"));
    CHECK(!has_line(list, "::/grow/a file with a long name 998.txt"));
    CHECK(mtype_is(&im, "/grow/a file with a long name 201.txt",
                   (const uint8_t *)"/grow/a file with a long name 201.txt", 37));
    dir = sh_out(NULL, "mdir -i '%s' ::/grow", im.path);
    CHECK(strstr(dir, "\nAFI~1000 TXT ") != NULL);
    free(list);
    free(dir);
}

static void test_write_enospc(void)
{
    static uint8_t chunk[1 << 20];
    struct fat32_statfs sf, empty;
    struct fat32_node *n;
    struct img im;
    long total = 0, got;

    img_mkfs(&im, "write_full", "");
    CHECK_EQ(img_mount(&im), 0);
    CHECK_EQ(fat32_statfs(im.vol, &empty), 0);
    CHECK_EQ(fat32_create(im.vol, "/filler", &n), 0);
    fill(chunk, sizeof(chunk), 3);
    while ((got = fat32_write(im.vol, n, (uint64_t)total, chunk, sizeof(chunk))) ==
           (long)sizeof(chunk))
        total += got;
    CHECK(got >= 0 && got < (long)sizeof(chunk));
    total += got > 0 ? got : 0;
    CHECK_EQ(fat32_write(im.vol, n, (uint64_t)total, chunk, 1), -ENOSPC);
    CHECK_EQ(fat32_statfs(im.vol, &sf), 0);
    CHECK_EQ(sf.free_clusters, 0);
    CHECK_EQ(total, (long)empty.free_clusters * 512);
    CHECK_EQ(fat32_mkdir(im.vol, "/no room"), -ENOSPC);
    CHECK_EQ(fat32_close(im.vol, n), 0);
    CHECK_EQ(fat32_sync(im.vol), 0);
    img_save(&im);
    CHECK_EQ(img_fsck(&im), 0);
    CHECK_EQ(fat32_unlink(im.vol, "/filler"), 0);
    CHECK_EQ(fat32_statfs(im.vol, &sf), 0);
    CHECK_EQ(sf.free_clusters, empty.free_clusters);
    img_unmount(&im);
    CHECK_EQ(img_fsck(&im), 0);
}

static void test_read_only(void)
{
    struct fat32_node *n;
    struct img im;
    uint8_t *copy;

    img_mkfs(&im, "read_only", "");
    CHECK_EQ(test_sh("echo hello | mcopy -i '%s' - ::/hello.txt", im.path), 0);
    CHECK_EQ(img_mount_opts(&im, true), 0);
    copy = malloc(im.size);
    memcpy(copy, im.mem, im.size);
    CHECK(file_is(im.vol, "/hello.txt", (const uint8_t *)"hello\n", 6));
    CHECK_EQ(fat32_create(im.vol, "/new", NULL), -EROFS);
    CHECK_EQ(fat32_mkdir(im.vol, "/new"), -EROFS);
    CHECK_EQ(fat32_unlink(im.vol, "/hello.txt"), -EROFS);
    CHECK_EQ(fat32_rename(im.vol, "/hello.txt", "/b"), -EROFS);
    CHECK_EQ(fat32_open(im.vol, "/hello.txt", &n), 0);
    CHECK_EQ(fat32_write(im.vol, n, 0, "x", 1), -EROFS);
    CHECK_EQ(fat32_truncate(im.vol, n, 0), -EROFS);
    CHECK_EQ(fat32_unmount(im.vol), -EBUSY);
    CHECK_EQ(fat32_close(im.vol, n), 0);
    CHECK_EQ(fat32_unmount(im.vol), 0);
    CHECK(memcmp(copy, im.mem, im.size) == 0);
    free(copy);
    free(im.mem);
}

/* POSIX unlink of an open file: the name goes at once, the data stays readable and writable
 * through the open node, a new file may take the name (and the slot), the clusters come back at
 * the last close, and fsck.fat finds nothing wrong. */
static void test_unlink_open(void)
{
    static uint8_t data[9000], back[9000];
    struct fat32_statfs before, after;
    struct fat32_node *n, *n2;
    struct fat32_stat st = {0};
    struct img im;

    img_mkfs(&im, "unlink_open", "");
    CHECK_EQ(img_mount(&im), 0);
    CHECK_EQ(fat32_statfs(im.vol, &before), 0);
    fill(data, sizeof(data), 7);
    CHECK_EQ(put_file(im.vol, "/gone.bin", data, sizeof(data)), 0);
    CHECK_EQ(fat32_open(im.vol, "/gone.bin", &n), 0);
    CHECK_EQ(fat32_open(im.vol, "/gone.bin", &n2), 0); /* the same node, twice */
    CHECK_EQ(fat32_unlink(im.vol, "/gone.bin"), 0);
    CHECK_EQ(fat32_stat(im.vol, "/gone.bin", &st), -ENOENT);
    CHECK_EQ(put_file(im.vol, "/gone.bin", "new", 3), 0);
    CHECK(file_is(im.vol, "/gone.bin", (const uint8_t *)"new", 3));
    CHECK_EQ(fat32_read(im.vol, n, 0, back, sizeof(back)), (long)sizeof(back));
    CHECK(!memcmp(back, data, sizeof(data)));
    CHECK_EQ(fat32_write(im.vol, n, sizeof(data), "tail", 4), 4);
    CHECK_EQ(fat32_fstat(im.vol, n, &st), 0);
    CHECK_EQ(st.size, sizeof(data) + 4);
    CHECK(file_is(im.vol, "/gone.bin", (const uint8_t *)"new", 3)); /* untouched by the writes */
    CHECK_EQ(fat32_close(im.vol, n), 0);
    CHECK_EQ(fat32_read(im.vol, n2, sizeof(data), back, 4), 4); /* still open once */
    CHECK(!memcmp(back, "tail", 4));
    CHECK_EQ(fat32_close(im.vol, n2), 0);
    CHECK_EQ(fat32_unlink(im.vol, "/gone.bin"), 0);
    CHECK_EQ(fat32_statfs(im.vol, &after), 0);
    CHECK_EQ(after.free_clusters, before.free_clusters);
    img_unmount(&im);
    CHECK_EQ(img_fsck(&im), 0);
}

/* chmod's read-only bit and utimensat's mtime, by path and on an open file; both survive a remount.
 */
static void test_setattr(void)
{
    const struct fat32_time t1 = {2001, 2, 3, 4, 5, 6}, t2 = {2030, 12, 31, 23, 59, 58};
    struct fat32_node *n;
    struct fat32_stat st = {0};
    struct img im;

    img_mkfs(&im, "setattr", "");
    CHECK_EQ(img_mount(&im), 0);
    CHECK_EQ(put_file(im.vol, "/f.txt", "data", 4), 0);
    CHECK_EQ(fat32_setattr(im.vol, "/f.txt", 1, &t1), 0);
    CHECK_EQ(fat32_setattr(im.vol, "/", 1, NULL), -EPERM);
    CHECK_EQ(fat32_setattr(im.vol, "/nope", 1, NULL), -ENOENT);
    CHECK_EQ(fat32_stat(im.vol, "/f.txt", &st), 0);
    CHECK(st.attr & FAT32_ATTR_READ_ONLY);
    CHECK(!memcmp(&st.mtime, &t1, sizeof(t1)));
    CHECK_EQ(fat32_open(im.vol, "/f.txt", &n), 0);
    CHECK_EQ(fat32_fsetattr(im.vol, n, 0, &t2), 0);
    CHECK_EQ(fat32_close(im.vol, n), 0);
    img_unmount(&im);
    CHECK_EQ(img_mount(&im), 0);
    CHECK_EQ(fat32_stat(im.vol, "/f.txt", &st), 0);
    CHECK(!(st.attr & FAT32_ATTR_READ_ONLY));
    CHECK(!memcmp(&st.mtime, &t2, sizeof(t2)));
    CHECK(file_is(im.vol, "/f.txt", (const uint8_t *)"data", 4));
    CHECK_EQ(fat32_setattr(im.vol, "/f.txt", 1, NULL), 0);
    img_unmount(&im);
    CHECK_EQ(img_fsck(&im), 0);
    /* mtools sees the bit: mattrib prints "R" (after "A", archive) before the name. */
    CHECK_EQ(test_sh("MTOOLS_SKIP_CHECK=1 mattrib -i '%s' ::/f.txt | grep -q '^ *A* *R *::/f.txt$'",
                     im.path),
             0);
}

/* Other sector and cluster sizes; mtools wants 65525+ clusters, so fsck.fat and Avatar check. */
static void test_geometries(void)
{
    static const char *formats[] = {"-S 512 -s 8",  "-S 512 -s 128", "-S 1024 -s 4",
                                    "-S 2048 -s 2", "-S 4096 -s 1",  "-S 4096 -s 16"};
    static uint8_t data[70000];
    char path[100];

    for (size_t g = 0; g < sizeof(formats) / sizeof(formats[0]); g++) {
        struct fat32_statfs sf;
        struct img im;

        tmp_init();
        snprintf(im.path, sizeof(im.path), "%s/geometry%zu.img", tmpdir, g);
        CHECK_EQ(test_sh("rm -f '%s'; mkfs.fat -F 32 %s -C '%s' 16384 >/dev/null 2>&1", im.path,
                         formats[g], im.path),
                 0);
        CHECK_EQ(img_mount(&im), 0);
        if (!im.vol)
            continue;
        CHECK_EQ(fat32_statfs(im.vol, &sf), 0);
        CHECK_EQ(sf.bytes_per_sector * (uint32_t)atoi(strstr(formats[g], "-s ") + 3),
                 sf.bytes_per_cluster);
        CHECK_EQ(fat32_mkdir(im.vol, "/a directory"), 0);
        for (int i = 0; i < 40; i++) {
            snprintf(path, sizeof(path), "/a directory/file number %d.dat", i);
            fill(data, (size_t)i * 1700, (uint32_t)i);
            CHECK_EQ(put_file(im.vol, path, data, (size_t)i * 1700), 0);
        }
        for (int i = 0; i < 40; i += 3) {
            snprintf(path, sizeof(path), "/a directory/file number %d.dat", i);
            CHECK_EQ(fat32_unlink(im.vol, path), 0);
        }
        CHECK_EQ(fat32_rename(im.vol, "/a directory/file number 1.dat", "/moved.dat"), 0);
        img_unmount(&im);
        CHECK_EQ(img_fsck(&im), 0);
        CHECK_EQ(img_mount(&im), 0);
        for (int i = 2; i < 40; i += 3) {
            snprintf(path, sizeof(path), "/a directory/file number %d.dat", i);
            fill(data, (size_t)i * 1700, (uint32_t)i);
            CHECK(file_is(im.vol, path, data, (size_t)i * 1700));
        }
        fill(data, 1700, 1);
        CHECK(file_is(im.vol, "/moved.dat", data, 1700));
        img_unmount(&im);
    }
}

/* The image the project boots with, as scripts/create_host_img.sh makes it. */
static void test_host_img_script(void)
{
    struct fat32_statfs sf;
    char label[16];
    struct img im;

    tmp_init();
    snprintf(im.path, sizeof(im.path), "%s/host.img", tmpdir);
    CHECK_EQ(test_sh("scripts/create_host_img.sh -f -s 64 -o '%s' >/dev/null", im.path), 0);
    CHECK_EQ(test_sh("scripts/create_host_img.sh -s 64 -o '%s' 2>/dev/null", im.path), 1);
    CHECK_EQ(img_mount(&im), 0);
    CHECK_EQ(fat32_label(im.vol, label, sizeof(label)), 6);
    CHECK(strcmp(label, "AVATAR") == 0);
    CHECK_EQ(fat32_statfs(im.vol, &sf), 0);
    CHECK(sf.total_clusters > 65525);
    CHECK_EQ(fat32_mkdir(im.vol, "/guests"), 0);
    CHECK_EQ(put_file(im.vol, "/guests/written by avatar.txt", "hello from Avatar\n", 18), 0);
    img_unmount(&im);
    CHECK_EQ(img_fsck(&im), 0);
    CHECK(
        mtype_is(&im, "/guests/written by avatar.txt", (const uint8_t *)"hello from Avatar\n", 18));
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"fs/fat32_read_mcopy_tree", test_read_mcopy_tree},
        {"fs/fat32_read_fragmented", test_read_fragmented},
        {"fs/fat32_read_1000_entries", test_read_1000_entries},
        {"fs/fat32_label_statfs", test_label_statfs},
        {"fs/fat32_read_only", test_read_only},
        {"fs/fat32_setattr", test_setattr},
        {"fs/fat32_unlink_open", test_unlink_open},
        {"fs/fat32_write_names_fsck_mtools", test_write_names},
        {"fs/fat32_write_append_truncate", test_write_append_truncate},
        {"fs/fat32_write_dirs_rename", test_write_dirs_rename},
        {"fs/fat32_write_dir_growth", test_write_dir_growth},
        {"fs/fat32_write_enospc", test_write_enospc},
        {"fs/fat32_geometries", test_geometries},
        {"fs/fat32_host_img_script", test_host_img_script},
    };

    return test_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
