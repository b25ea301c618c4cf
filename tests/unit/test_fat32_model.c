/* test_fat32_model.c - random FAT32 operations checked against an in-memory model, then against
 * fsck.fat -n and a full mcopy of the tree (fixed seeds, so every run is the same). */
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fs/fat32.h"
#include "test.h"

#define MAX_ENTS  48
#define MAX_PATH  200
#define MAX_BYTES (64 * 1024)

/** The model: every file and directory by path, spelt as last created or renamed. */
struct ment {
    bool used, is_dir;
    char path[MAX_PATH + 1];
    uint8_t *data;
    size_t size;
};

static struct ment ents[MAX_ENTS];
static uint32_t rng;
static char dir[512], imgpath[700];
static uint8_t *mem;
static size_t mem_size;
static struct blockdev bd;
static struct blockdev_ram ram;
static struct fat32_vol *vol;

static const char *pool[] = {
    "a.txt",
    "B.TXT",
    "MixedCase.Txt",
    "long name with spaces.txt",
    "many.dots.in.name.dat",
    "x",
    "UPPER",
    "lower",
    "With Space",
    "file1",
    "FILE1",
    "d",
    "Dir Two",
    "report 2024.final.pdf",
    "verylongfilenamethatkeepsgoing_0123456789.bin",
};

static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static uint32_t pick(uint32_t n)
{
    return next_rand() % n;
}

static void clock_now(void *ctx, struct fat32_time *t)
{
    (void)ctx;
    *t = (struct fat32_time){2025, 1, 2, 3, 4, 6};
}

static int do_mount(void)
{
    struct fat32_mount_opts opts = {clock_now, NULL, false};
    const char *why;

    blockdev_ram_init(&bd, &ram, mem, mem_size, false);
    return fat32_mount(&bd, &opts, &vol, &why);
}

/* ---- model queries ---- */

static struct ment *find(const char *path)
{
    for (int i = 0; i < MAX_ENTS; i++)
        if (ents[i].used && strcasecmp(ents[i].path, path) == 0)
            return &ents[i];
    return NULL;
}

/* Whether path lies strictly inside directory d ("" is the root). */
static bool inside(const char *path, const char *d)
{
    size_t n = strlen(d);

    return strncasecmp(path, d, n) == 0 && path[n] == '/';
}

static bool has_children(const char *d)
{
    for (int i = 0; i < MAX_ENTS; i++)
        if (ents[i].used && inside(ents[i].path, d))
            return true;
    return false;
}

static struct ment *random_ent(bool want_dir)
{
    int start = (int)pick(MAX_ENTS);

    for (int k = 0; k < MAX_ENTS; k++) {
        struct ment *m = &ents[(start + k) % MAX_ENTS];

        if (m->used && m->is_dir == want_dir)
            return m;
    }
    return NULL;
}

static const char *random_dir(void)
{
    struct ment *m = pick(3) ? random_ent(true) : NULL;

    return m ? m->path : "";
}

static struct ment *free_slot(void)
{
    for (int i = 0; i < MAX_ENTS; i++)
        if (!ents[i].used)
            return &ents[i];
    return NULL;
}

static bool random_path(char *out)
{
    const char *parent = random_dir();

    return snprintf(out, MAX_PATH + 1, "%s/%s", parent,
                    pool[pick(sizeof(pool) / sizeof(pool[0]))]) <= MAX_PATH;
}

/* ---- operations: each applies to both and checks the library gave the model's answer ---- */

static void op_create(bool as_dir)
{
    char path[MAX_PATH + 1];
    struct ment *m;
    int want, got;

    if (!random_path(path) || !(m = free_slot()))
        return;
    want = find(path) ? -EEXIST : 0;
    got = as_dir ? fat32_mkdir(vol, path) : fat32_create(vol, path, NULL);
    if (got != want)
        fprintf(stderr, "  %s %s: %d, model %d\n", as_dir ? "mkdir" : "create", path, got, want);
    CHECK_EQ(got, want);
    if (want == 0) {
        memset(m, 0, sizeof(*m));
        m->used = true;
        m->is_dir = as_dir;
        strcpy(m->path, path);
    }
}

static void op_write(void)
{
    struct ment *m = random_ent(false);
    struct fat32_node *n;
    uint8_t buf[5000];
    size_t off, len;

    if (!m)
        return;
    off = pick((uint32_t)m->size + 3000);
    len = pick(sizeof(buf));
    if (off + len > MAX_BYTES)
        return;
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)next_rand();
    CHECK_EQ(fat32_open(vol, m->path, &n), 0);
    CHECK_EQ(fat32_write(vol, n, off, buf, len), (long)len);
    CHECK_EQ(fat32_close(vol, n), 0);
    if (off + len > m->size) {
        m->data = realloc(m->data, off + len);
        if (off > m->size)
            memset(m->data + m->size, 0, off - m->size);
        m->size = off + len;
    }
    memcpy(m->data + off, buf, len);
}

static void op_truncate(void)
{
    struct ment *m = random_ent(false);
    struct fat32_node *n;
    size_t size;

    if (!m)
        return;
    size = pick((uint32_t)m->size * 2 + 1000);
    if (size > MAX_BYTES)
        return;
    CHECK_EQ(fat32_open(vol, m->path, &n), 0);
    CHECK_EQ(fat32_truncate(vol, n, size), 0);
    CHECK_EQ(fat32_close(vol, n), 0);
    m->data = realloc(m->data, size + 1);
    if (size > m->size)
        memset(m->data + m->size, 0, size - m->size);
    m->size = size;
}

static void check_file(const struct ment *m)
{
    struct fat32_node *n;
    struct fat32_stat st;
    uint8_t *buf = malloc(m->size + 1);
    size_t off = m->size ? pick((uint32_t)m->size) : 0;

    CHECK_EQ(fat32_open(vol, m->path, &n), 0);
    CHECK_EQ(fat32_fstat(vol, n, &st), 0);
    CHECK_EQ(st.size, m->size);
    CHECK_EQ(fat32_read(vol, n, 0, buf, m->size + 1), (long)m->size);
    CHECK(m->size == 0 || memcmp(buf, m->data, m->size) == 0);
    CHECK_EQ(fat32_read(vol, n, off, buf, 777), (long)(m->size - off < 777 ? m->size - off : 777));
    CHECK(m->size == 0 ||
          memcmp(buf, m->data + off, m->size - off < 777 ? m->size - off : 777) == 0);
    CHECK_EQ(fat32_close(vol, n), 0);
    free(buf);
}

static void op_unlink(void)
{
    struct ment *m = random_ent(pick(4) == 0);

    if (!m)
        return;
    if (m->is_dir) {
        CHECK_EQ(fat32_unlink(vol, m->path), -EISDIR);
        CHECK_EQ(fat32_rmdir(vol, m->path), has_children(m->path) ? -ENOTEMPTY : 0);
        if (has_children(m->path))
            return;
    } else {
        CHECK_EQ(fat32_rmdir(vol, m->path), -ENOTDIR);
        CHECK_EQ(fat32_unlink(vol, m->path), 0);
    }
    free(m->data);
    memset(m, 0, sizeof(*m));
}

/* Moves src and, for a directory, everything below it, to the new spelling dst. */
static void model_move(struct ment *src, const char *dst)
{
    char old[MAX_PATH + 1];

    strcpy(old, src->path);
    for (int i = 0; i < MAX_ENTS; i++) {
        char moved[2 * MAX_PATH + 2];

        if (!ents[i].used || !inside(ents[i].path, old))
            continue;
        snprintf(moved, sizeof(moved), "%s%s", dst, ents[i].path + strlen(old));
        strcpy(ents[i].path, moved);
    }
    strcpy(src->path, dst);
}

static void op_rename(void)
{
    struct ment *src = random_ent(pick(3) == 0), *dst;
    char to[MAX_PATH + 1];
    int want = 0, got;

    if (!src || !random_path(to))
        return;
    dst = find(to);
    /* The longest path after the move must still fit the model. */
    for (int i = 0; i < MAX_ENTS; i++)
        if (ents[i].used && inside(ents[i].path, src->path) &&
            strlen(to) + strlen(ents[i].path) - strlen(src->path) > MAX_PATH)
            return;
    if (src->is_dir && (strcasecmp(to, src->path) != 0 && inside(to, src->path)))
        want = -EINVAL;
    else if (dst && dst != src && src->is_dir && !dst->is_dir)
        want = -ENOTDIR;
    else if (dst && dst != src && !src->is_dir && dst->is_dir)
        want = -EISDIR;
    else if (dst && dst != src && dst->is_dir && has_children(dst->path))
        want = -ENOTEMPTY;
    got = fat32_rename(vol, src->path, to);
    if (got != want)
        fprintf(stderr, "  rename %s -> %s: %d, model %d\n", src->path, to, got, want);
    CHECK_EQ(got, want);
    if (want != 0)
        return;
    if (dst && dst != src) {
        free(dst->data);
        memset(dst, 0, sizeof(*dst));
    }
    model_move(src, to);
}

static void check_dir(const char *path)
{
    struct fat32_dirent *de = malloc(sizeof(*de));
    struct fat32_dir d;
    int listed = 0, children = 0, r;

    CHECK_EQ(fat32_opendir(vol, path[0] ? path : "/", &d), 0);
    while ((r = fat32_readdir(vol, &d, de)) == 1) {
        char full[MAX_PATH + FAT32_NAME_MAX + 2];
        struct ment *m;

        snprintf(full, sizeof(full), "%s/%s", path, de->name);
        m = find(full);
        if (!m || strcmp(m->path, full) != 0 || m->is_dir != de->st.is_dir) {
            fprintf(stderr, "  readdir %s: unexpected '%s'\n", path, de->name);
            CHECK(false);
        }
        listed++;
    }
    CHECK_EQ(r, 0);
    for (int i = 0; i < MAX_ENTS; i++)
        children += ents[i].used && inside(ents[i].path, path) &&
                    !strchr(ents[i].path + strlen(path) + 1, '/');
    CHECK_EQ(listed, children);
    free(de);
}

static void check_all(void)
{
    check_dir("");
    for (int i = 0; i < MAX_ENTS; i++) {
        if (!ents[i].used)
            continue;
        if (ents[i].is_dir)
            check_dir(ents[i].path);
        else
            check_file(&ents[i]);
    }
}

/* Every model file must come out of mcopy with the same bytes, and nothing else may. */
static void check_with_mtools(void)
{
    char host[1400];
    int files = 0, dirs = 0;

    test_sh("rm -rf '%s/out' && mkdir '%s/out' && mcopy -s -i '%s' '::/*' '%s/out/' 2>/dev/null",
            dir, dir, imgpath, dir);
    for (int i = 0; i < MAX_ENTS; i++) {
        FILE *f;
        uint8_t *buf;

        if (!ents[i].used)
            continue;
        if (ents[i].is_dir) {
            dirs++;
            continue;
        }
        files++;
        snprintf(host, sizeof(host), "%s/out%s", dir, ents[i].path);
        f = fopen(host, "rb");
        CHECK(f != NULL);
        if (!f) {
            fprintf(stderr, "  mcopy did not produce %s\n", ents[i].path);
            continue;
        }
        buf = malloc(ents[i].size + 1);
        CHECK_EQ(fread(buf, 1, ents[i].size + 1, f), ents[i].size);
        CHECK(ents[i].size == 0 || memcmp(buf, ents[i].data, ents[i].size) == 0);
        free(buf);
        fclose(f);
    }
    CHECK_EQ(test_sh("test $(find '%s/out' -type f | wc -l) -eq %d", dir, files), 0);
    CHECK_EQ(test_sh("test $(find '%s/out' -mindepth 1 -type d | wc -l) -eq %d", dir, dirs), 0);
}

static void run_seed(uint32_t seed, int ops)
{
    const char *b = getenv("AVATAR_BUILD");
    FILE *f;

    snprintf(dir, sizeof(dir), "%s/unit/tmp/fat32_model", b ? b : "build");
    snprintf(imgpath, sizeof(imgpath), "%s/seed%u.img", dir, seed);
    setenv("MTOOLS_SKIP_CHECK", "1", 1);
    CHECK_EQ(test_sh("mkdir -p '%s' && rm -f '%s' && mkfs.fat -F 32 -s 1 -S 512 -C '%s' 40960 "
                     ">/dev/null",
                     dir, imgpath, imgpath),
             0);
    f = fopen(imgpath, "rb");
    if (!f)
        return;
    fseek(f, 0, SEEK_END);
    mem_size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    mem = malloc(mem_size);
    CHECK_EQ(fread(mem, 1, mem_size, f), mem_size);
    fclose(f);
    memset(ents, 0, sizeof(ents));
    rng = seed;
    CHECK_EQ(do_mount(), 0);
    for (int i = 0; i < ops; i++) {
        switch (pick(16)) {
        case 0:
        case 1:
        case 2: op_create(false); break;
        case 3: op_create(true); break;
        case 4:
        case 5:
        case 6:
        case 7: op_write(); break;
        case 8: op_truncate(); break;
        case 9:
        case 10: op_unlink(); break;
        case 11:
        case 12: op_rename(); break;
        case 13: check_dir(random_dir()); break;
        case 14: {
            struct ment *m = random_ent(false);

            if (m)
                check_file(m);
            break;
        }
        default:
            /* Everything must survive an unmount and a fresh mount. */
            CHECK_EQ(fat32_unmount(vol), 0);
            CHECK_EQ(do_mount(), 0);
            break;
        }
    }
    check_all();
    CHECK_EQ(fat32_unmount(vol), 0);
    f = fopen(imgpath, "wb");
    CHECK_EQ(fwrite(mem, 1, mem_size, f), mem_size);
    fclose(f);
    CHECK_EQ(test_sh("fsck.fat -n '%s' >'%s.fsck' 2>&1 || { sed 's/^/    fsck: /' '%s.fsck' >&2; "
                     "exit 1; }",
                     imgpath, imgpath, imgpath),
             0);
    check_with_mtools();
    for (int i = 0; i < MAX_ENTS; i++)
        free(ents[i].data);
    free(mem);
}

static void test_seed1(void)
{
    run_seed(1, 400);
}

static void test_seed2(void)
{
    run_seed(2, 400);
}

static void test_seed3(void)
{
    run_seed(0xC0FFEE, 400);
}

static void test_seed4(void)
{
    run_seed(424242, 400);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"fs/fat32_model_seed1", test_seed1},
        {"fs/fat32_model_seed2", test_seed2},
        {"fs/fat32_model_seed3", test_seed3},
        {"fs/fat32_model_seed4", test_seed4},
    };

    return test_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
