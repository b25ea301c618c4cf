/* storage.c - boot-time storage: the wall clock for time stamps and the FAT32 root on vda. */
#include "block/blockdev.h"
#include "drivers/pl031.h"
#include "fs/vfs.h"
#include "fs/vfs_fat32.h"
#include "kernel/platform.h"
#include "kernel/printk.h"
#include "kernel/storage.h"
#include "lib/errno.h"

static void storage_clock(struct vfs_time *out)
{
    struct rtc_time t;

    rtc_to_date(rtc_seconds(), &t);
    *out = (struct vfs_time){t.year, t.month, t.day, t.hour, t.minute, t.second};
}

void storage_init(void)
{
    const char *why = "";
    struct vfs_statfs sf;

    if (platform.rtc.size) {
        pl031_init(platform.rtc.base);
        vfs_set_clock(storage_clock);
    }
    struct blockdev *root = blockdev_open(STORAGE_ROOT_DISK);
    if (!root) {
        kprintf("fs: no disk attached (make run attaches host.img)\n");
        return;
    }
    int err = vfs_fat32_mount("/", root, STORAGE_ROOT_DISK, &why);
    if (err) {
        kprintf("fs: vda is not a usable FAT32 volume: %s%s%s\n", errno_str(err), *why ? ": " : "",
                why ? why : "");
        return;
    }
    if (vfs_statfs("/", &sf, NULL) == 0)
        kprintf("fs: / is FAT32 on vda, %lu MiB, %lu MiB free\n",
                (unsigned long)(sf.total_blocks * sf.block_size >> 20),
                (unsigned long)(sf.free_blocks * sf.block_size >> 20));
}
