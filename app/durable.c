/* durable.c - writes a file and makes it durable with fsync, fdatasync, syncfs or sync, then a
 * second file it does not sync, and says so; a test then pulls the plug and reads the disk image:
 * the first file must be there, whole. Usage: durable <fsync|fdatasync|syncfs|sync> <path> */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "avtest.h"

#define LINES   1500           /* about 30 KiB: several blocks and clusters */
#define WAIT_NS 10000000000ULL /* left running this long for the plug to be pulled */

/* The file's content: LINES numbered lines naming how it was synced (tests rebuild it). */
static int write_lines(const char *path, const char *how)
{
    char line[64];
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);

    if (fd < 0)
        return -1;
    for (int i = 0; i < LINES; i++) {
        int n = snprintf(line, sizeof(line), "%s line %05d\n", how, i);
        if (write(fd, line, (size_t)n) != n) {
            close(fd);
            return -1;
        }
    }
    return fd;
}

int main(int argc, char **argv)
{
    static const char *const hows[] = {"fsync", "fdatasync", "syncfs", "sync"};
    static const long calls[] = {SYS_fsync, SYS_fdatasync, SYS_syncfs, SYS_sync};
    char unsynced[256];
    int how = -1;

    for (int i = 0; argc == 3 && i < 4; i++) {
        if (!strcmp(argv[1], hows[i]))
            how = i;
    }
    if (how < 0 || snprintf(unsynced, sizeof(unsynced), "%s.unsynced", argv[2]) >= 250) {
        printf("usage: durable <fsync|fdatasync|syncfs|sync> <path>\n");
        return 2;
    }
    int fd = write_lines(argv[2], hows[how]);
    if (fd < 0) {
        printf("durable: cannot write %s: %s\n", argv[2], strerror(errno));
        return 1;
    }
    long r = raw_syscall(calls[how], fd, 0, 0, 0, 0, 0);
    if (r) {
        printf("durable: %s failed: %s\n", hows[how], strerror((int)-r));
        return 1;
    }
    printf("durable: %s synced by %s\n", argv[2], hows[how]);
    /* The control: written after the sync and never synced, it must be lost with the power. */
    int fd2 = write_lines(unsynced, hows[how]);
    if (fd2 < 0) {
        printf("durable: cannot write %s: %s\n", unsynced, strerror(errno));
        return 1;
    }
    printf("durable: %s written, not synced: pull the plug now\n", unsynced);
    fflush(stdout);
    /* Busy, not asleep: under -icount an idle machine's clock leaps ahead, and nothing driven by
     * time may write the control back before the plug is pulled. */
    for (uint64_t start = now_ns(); now_ns() - start < WAIT_NS;)
        ;
    close(fd2);
    close(fd);
    return 0;
}
