/* test_devfs.c - /dev through the VFS: stat with device numbers, the listing, null and zero. */
#include <stdint.h>
#include <string.h>

#include "fs/vfs.h"
#include "kernel/devfs.h"
#include "lib/errno.h"
#include "test.h"

static void setup(void)
{
    vfs_reset();
    CHECK_EQ(devfs_mount(), 0);
}

static void test_stat(void)
{
    struct vfs_stat st;

    setup();
    CHECK_EQ(vfs_stat("/dev", &st), 0);
    CHECK(st.is_dir && st.rdev == 0);
    CHECK_EQ(vfs_stat("/dev/null", &st), 0);
    CHECK(!st.is_dir && !st.read_only);
    CHECK_EQ(st.rdev, DEVFS_RDEV(1, 3));
    CHECK_EQ(vfs_stat("/dev/tty", &st), 0);
    CHECK_EQ(st.rdev, DEVFS_TTY);
    CHECK_EQ(vfs_stat("/dev/nope", &st), -ENOENT);
    CHECK_EQ(vfs_stat("/dev/null/x", &st), -ENOENT);
    CHECK_EQ(devfs_mount(), -EBUSY);
}

static void test_listing(void)
{
    static const char *const want[] = {"console", "null", "random", "tty", "urandom", "zero"};
    static struct vfs_dirent d;
    struct file *f;
    unsigned int n = 0;

    setup();
    CHECK_EQ(vfs_open("/dev", O_RDONLY | O_DIRECTORY, &f), 0);
    while (vfs_readdir(f, &d) == 1) {
        CHECK(n < sizeof(want) / sizeof(want[0]) && !strcmp(d.name, want[n]));
        CHECK(!d.st.is_dir && d.st.rdev != 0);
        n++;
    }
    CHECK_EQ(n, sizeof(want) / sizeof(want[0]));
    CHECK_EQ(vfs_close(f), 0);
    CHECK_EQ(vfs_open("/dev/zero", O_RDONLY | O_DIRECTORY, &f), -ENOTDIR);
}

static void test_null_zero(void)
{
    char buf[64];
    struct file *f;

    setup();
    CHECK_EQ(vfs_open("/dev/null", O_RDWR | O_CREAT | O_TRUNC, &f), 0);
    CHECK_EQ(vfs_write(f, "abc", 3), 3);
    CHECK_EQ(vfs_read(f, buf, sizeof(buf)), 0);
    CHECK_EQ(vfs_close(f), 0);
    CHECK_EQ(vfs_open("/dev/zero", O_RDWR, &f), 0);
    memset(buf, 0x5a, sizeof(buf));
    CHECK_EQ(vfs_read(f, buf, sizeof(buf)), (long)sizeof(buf));
    for (size_t i = 0; i < sizeof(buf); i++)
        CHECK_EQ(buf[i], 0);
    CHECK_EQ(vfs_write(f, buf, 5), 5);
    CHECK_EQ(vfs_close(f), 0);
    CHECK_EQ(vfs_open("/dev/urandom", O_RDONLY, &f), 0);
    CHECK_EQ(vfs_read(f, buf, 1), -ENXIO); /* random bytes come only through a descriptor */
    CHECK_EQ(vfs_close(f), 0);
}

static void test_fixed_set(void)
{
    struct file *f;

    setup();
    CHECK_EQ(vfs_open("/dev/new", O_WRONLY | O_CREAT, &f), -EACCES);
    CHECK_EQ(vfs_open("/dev/null", O_WRONLY | O_CREAT | O_EXCL, &f), -EEXIST);
    CHECK_EQ(vfs_mkdir("/dev/d"), -EACCES);
    CHECK_EQ(vfs_unlink("/dev/null"), -EACCES);
    CHECK_EQ(vfs_rename("/dev/null", "/dev/nil"), -EACCES);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"kernel/devfs/stat", test_stat},
        {"kernel/devfs/listing", test_listing},
        {"kernel/devfs/null-zero", test_null_zero},
        {"kernel/devfs/fixed-set", test_fixed_set},
    };

    return test_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
