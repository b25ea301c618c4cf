/* test_vfs.c - VFS path handling and file operations over a FAT32 image made by mkfs.fat. */
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "block/blockdev.h"
#include "fs/vfs.h"
#include "fs/vfs_fat32.h"
#include "lib/errno.h"
#include "test.h"

static uint8_t *disk;
static size_t disk_size;
static struct blockdev bd;
static struct blockdev_ram ram;

static void norm_is(const char *cwd, const char *in, const char *want)
{
    char out[VFS_PATH_MAX];
    int err = vfs_normalize(cwd, in, out);

    CHECK_EQ(err, 0);
    if (!err && strcmp(out, want)) {
        fprintf(stderr, "  normalize(%s, %s) = %s, want %s\n", cwd, in, out, want);
        CHECK(0);
    }
}

static void test_normalize(void)
{
    char out[VFS_PATH_MAX];
    static char longpath[VFS_PATH_MAX + 10];

    norm_is("/", "/", "/");
    norm_is("/", "//a///b/", "/a/b");
    norm_is("/", "/a/./b/../c", "/a/c");
    norm_is("/", "/../..", "/");
    norm_is("/x/y", "z", "/x/y/z");
    norm_is("/x/y", "../../..", "/");
    norm_is("/x", "./.hidden/..name", "/x/.hidden/..name");
    CHECK_EQ(vfs_normalize("/", "", out), -ENOENT);
    memset(longpath, 'a', sizeof(longpath) - 1);
    longpath[0] = '/';
    CHECK_EQ(vfs_normalize("/", longpath, out), -ENAMETOOLONG);
}

/* A fresh 20 MiB FAT32 image in memory, mounted at / (and a second one at /mnt). */
static void setup(void)
{
    const char *dir = getenv("AVATAR_BUILD") ? getenv("AVATAR_BUILD") : "build";

    if (strlen(dir) > 200)
        dir = "build";
    char path[256], cmd[1024];
    const char *why = NULL;

    vfs_reset();
    snprintf(path, sizeof(path), "%s/unit/tmp", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/unit/tmp/vfs.img", dir);
    snprintf(cmd, sizeof(cmd), "rm -f %s && mkfs.fat -F 32 -C %s 40960 >/dev/null", path, path);
    CHECK_EQ(system(cmd), 0);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    if (!f)
        exit(1);
    fseek(f, 0, SEEK_END);
    disk_size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    free(disk);
    disk = malloc(disk_size);
    CHECK_EQ(fread(disk, 1, disk_size, f), disk_size);
    fclose(f);
    blockdev_ram_init(&bd, &ram, disk, disk_size, false);
    CHECK_EQ(vfs_fat32_mount("/", &bd, "ram0", &why), 0);
}

static void test_files(void)
{
    struct file *f;
    struct vfs_stat st;
    char buf[64];

    setup();
    CHECK_EQ(vfs_open("/nope.txt", O_RDONLY, &f), -ENOENT);
    CHECK_EQ(vfs_open("/hello.txt", O_WRONLY | O_CREAT, &f), 0);
    CHECK_EQ(vfs_write(f, "hello world", 11), 11);
    CHECK_EQ(vfs_read(f, buf, 5), -EBADF);
    CHECK_EQ(vfs_lseek(f, 6, SEEK_SET), 6);
    CHECK_EQ(vfs_write(f, "there", 5), 5);
    CHECK_EQ(vfs_close(f), 0);

    CHECK_EQ(vfs_stat("/HELLO.TXT", &st), 0);
    CHECK_EQ(st.size, 11);
    CHECK(!st.is_dir);
    CHECK_EQ(vfs_open("/hello.txt", O_RDONLY, &f), 0);
    CHECK_EQ(vfs_write(f, "x", 1), -EBADF);
    CHECK_EQ(vfs_read(f, buf, sizeof(buf)), 11);
    CHECK(!memcmp(buf, "hello there", 11));
    CHECK_EQ(vfs_read(f, buf, sizeof(buf)), 0);
    CHECK_EQ(vfs_lseek(f, -3, SEEK_END), 8);
    CHECK_EQ(vfs_read(f, buf, 3), 3);
    CHECK(!memcmp(buf, "ere", 3));
    CHECK_EQ(vfs_lseek(f, -100, SEEK_CUR), -EINVAL);
    CHECK_EQ(vfs_lseek(f, 0, 7), -EINVAL);
    struct file *g = vfs_dup(f);
    CHECK_EQ(vfs_close(f), 0);
    CHECK_EQ(vfs_lseek(g, 0, SEEK_SET), 0); /* the dup still works after one close */
    CHECK_EQ(vfs_close(g), 0);

    CHECK_EQ(vfs_open("/hello.txt", O_WRONLY | O_APPEND, &f), 0);
    CHECK_EQ(vfs_write(f, "!", 1), 1);
    CHECK_EQ(vfs_close(f), 0);
    CHECK_EQ(vfs_stat("/hello.txt", &st), 0);
    CHECK_EQ(st.size, 12);
    CHECK_EQ(vfs_open("/hello.txt", O_CREAT | O_EXCL | O_WRONLY, &f), -EEXIST);
    CHECK_EQ(vfs_open("/hello.txt", O_WRONLY | O_TRUNC, &f), 0);
    CHECK_EQ(vfs_close(f), 0);
    CHECK_EQ(vfs_stat("/hello.txt", &st), 0);
    CHECK_EQ(st.size, 0);
    CHECK_EQ(vfs_open("/hello.txt", O_RDONLY | O_DIRECTORY, &f), -ENOTDIR);
}

/* pread/pwrite work at their offset and leave the file position alone (vm_disk.c relies on it:
 * a disk's worker and a teardown flush share one open file without a lock of their own). */
static void test_positional(void)
{
    struct file *f;
    struct vfs_stat st;
    char buf[16];

    setup();
    CHECK_EQ(vfs_open("/disk.img", O_RDWR | O_CREAT, &f), 0);
    CHECK_EQ(vfs_write(f, "0123456789", 10), 10);
    CHECK_EQ(vfs_lseek(f, 2, SEEK_SET), 2);
    CHECK_EQ(vfs_pwrite(f, "abc", 3, 5), 3);
    CHECK_EQ(vfs_pwrite(f, "XY", 2, 12), 2); /* past the end: the gap reads as zeros */
    CHECK_EQ(vfs_pread(f, buf, 4, 4), 4);
    CHECK(!memcmp(buf, "4abc", 4));
    CHECK_EQ(vfs_read(f, buf, 3), 3); /* the position is still 2 */
    CHECK(!memcmp(buf, "234", 3));
    CHECK_EQ(vfs_pread(f, buf, sizeof(buf), 9), 5);
    CHECK(!memcmp(buf, "9\0\0XY", 5));
    CHECK_EQ(vfs_pread(f, buf, sizeof(buf), 100), 0);
    CHECK_EQ(vfs_close(f), 0);
    CHECK_EQ(vfs_stat("/disk.img", &st), 0);
    CHECK_EQ(st.size, 14);

    CHECK_EQ(vfs_open("/disk.img", O_RDONLY, &f), 0);
    CHECK_EQ(vfs_pwrite(f, "x", 1, 0), -EBADF);
    CHECK_EQ(vfs_close(f), 0);
    CHECK_EQ(vfs_open("/disk.img", O_WRONLY, &f), 0);
    CHECK_EQ(vfs_pread(f, buf, 1, 0), -EBADF);
    CHECK_EQ(vfs_close(f), 0);
}

static void test_dirs(void)
{
    struct file *f;
    struct vfs_dirent e;
    struct vfs_stat st;
    int seen = 0;

    setup();
    CHECK_EQ(vfs_mkdir("/a"), 0);
    CHECK_EQ(vfs_mkdir("/a/b"), 0);
    CHECK_EQ(vfs_mkdir("/a"), -EEXIST);
    CHECK_EQ(vfs_open("/a/b/../b/long file name.text", O_CREAT | O_WRONLY, &f), 0);
    CHECK_EQ(vfs_close(f), 0);
    CHECK_EQ(vfs_open("/a", O_WRONLY, &f), -EISDIR);
    CHECK_EQ(vfs_open("/a/b", O_RDONLY, &f), 0);
    CHECK(vfs_is_dir(f));
    CHECK_EQ(vfs_read(f, &e, 1), -EISDIR);
    while (vfs_readdir(f, &e) == 1) {
        seen++;
        CHECK(!strcmp(e.name, "long file name.text"));
    }
    CHECK_EQ(seen, 1);
    CHECK_EQ(vfs_close(f), 0);
    CHECK_EQ(vfs_rmdir("/a/b"), -ENOTEMPTY);
    CHECK_EQ(vfs_rename("/a/b/long file name.text", "/moved.txt"), 0);
    CHECK_EQ(vfs_stat("/moved.txt", &st), 0);
    CHECK_EQ(vfs_rmdir("/a/b"), 0);
    CHECK_EQ(vfs_rmdir("/"), -EBUSY);
    CHECK_EQ(vfs_unlink("/moved.txt"), 0);
    CHECK_EQ(vfs_stat("/moved.txt", &st), -ENOENT);
}

static void test_read_file_and_limits(void)
{
    struct file *f;
    struct file *open[VFS_MAX_FILES];
    void *data;
    size_t size;
    int n = 0;

    setup();
    CHECK_EQ(vfs_open("/data.bin", O_CREAT | O_RDWR, &f), 0);
    CHECK_EQ(vfs_write(f, "0123456789", 10), 10);
    CHECK_EQ(vfs_close(f), 0);
    CHECK_EQ(vfs_read_file("/data.bin", &data, &size, 100), 0);
    CHECK_EQ(size, 10);
    CHECK(!memcmp(data, "0123456789", 10));
    free(data);
    CHECK_EQ(vfs_read_file("/data.bin", &data, &size, 5), -EFBIG);
    CHECK_EQ(vfs_read_file("/", &data, &size, 5), -EISDIR);
    /* The open file table runs out with a clear error, and recovers. */
    while (n < VFS_MAX_FILES && vfs_open("/data.bin", O_RDONLY, &open[n]) == 0)
        n++;
    CHECK_EQ(n, VFS_MAX_FILES);
    CHECK_EQ(vfs_open("/data.bin", O_RDONLY, &f), -ENFILE);
    while (n > 0)
        CHECK_EQ(vfs_close(open[--n]), 0);
    CHECK_EQ(vfs_open("/data.bin", O_RDONLY, &f), 0);
    CHECK_EQ(vfs_close(f), 0);
}

static void test_mounts(void)
{
    static uint8_t small[1 << 20];
    static struct blockdev bd2;
    static struct blockdev_ram ram2;
    const char *why = NULL;
    struct vfs_statfs sf;
    const char *src;

    setup();
    blockdev_ram_init(&bd2, &ram2, small, sizeof(small), false);
    CHECK(vfs_fat32_mount("/mnt", &bd2, "zero", &why) < 0); /* all zeroes: not FAT32 */
    CHECK(why != NULL && *why);
    CHECK_EQ(vfs_statfs("/", &sf, &src), 0);
    CHECK(!strcmp(sf.type, "fat32"));
    CHECK(!strcmp(src, "ram0"));
    CHECK(sf.free_blocks > 0 && sf.free_blocks <= sf.total_blocks);
    CHECK_EQ(vfs_sync_all(), 0);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"fs/vfs/normalize", test_normalize},
        {"fs/vfs/files", test_files},
        {"fs/vfs/positional", test_positional},
        {"fs/vfs/dirs", test_dirs},
        {"fs/vfs/read-file-and-limits", test_read_file_and_limits},
        {"fs/vfs/mounts", test_mounts},
    };

    return test_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
