/* memhog.c - memory exhaustion gives ENOMEM, not a crash: take memory until refused, use all of
 * it, give it back; then a fork bomb is refused too. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include "avtest.h"

#define CHUNK      (4UL << 20)
#define MAX_CHUNKS 1024

static void *chunks[MAX_CHUNKS];

int main(void)
{
    int n = 0, err = 0;

    /* Anonymous mappings until the kernel refuses. */
    while (n < MAX_CHUNKS) {
        void *p = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            err = errno;
            break;
        }
        chunks[n++] = p;
    }
    test_check(err == ENOMEM && n > 4, "memhog-mmap-until-enomem", "%d chunks of 4 MiB, then %s", n,
               strerror(err));
    /* What was granted is real: every page can be touched (demand-zero on each). */
    int bad = 0;
    for (int i = 0; i < n; i++) {
        for (unsigned long off = 0; off < CHUNK; off += 4096) {
            bad += ((volatile char *)chunks[i])[off] != 0;
            ((volatile char *)chunks[i])[off] = (char)i;
        }
    }
    test_check(bad == 0, "memhog-touch-everything-granted", "%d pages were not zero", bad);
    printf("memhog: %d MiB granted and touched\n", n * (int)(CHUNK >> 20));
    CHECK(malloc(CHUNK) == NULL && errno == ENOMEM, "memhog-malloc-enomem");
    CHECK_RET(raw_syscall(SYS_mmap, 0, 1L << 38, 3, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), -ENOMEM,
              "memhog-huge-mmap-enomem");
    long brk0 = raw_syscall(SYS_brk, 0, 0, 0, 0, 0, 0);
    CHECK(raw_syscall(SYS_brk, brk0 + (64L << 20), 0, 0, 0, 0, 0) == brk0, "memhog-brk-refused");
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    test_check(child == -1 && errno == ENOMEM, "memhog-fork-enomem", "fork returned %d (%s)", child,
               strerror(errno));
    if (child > 0)
        waitpid(child, NULL, 0);

    for (int i = 0; i < n; i++)
        munmap(chunks[i], CHUNK);
    void *p = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "memhog-memory-back-after-munmap");

    /* Processes that each hold a share: forking stops with ENOMEM, nobody crashes. */
    static pid_t kids[MAX_CHUNKS];
    int forks = 0;
    err = 0;
    while (forks < MAX_CHUNKS) {
        pid_t pid = fork();
        if (pid == 0) {
            for (;;)
                sleep(1000);
        }
        if (pid < 0) {
            err = errno;
            break;
        }
        kids[forks++] = pid;
    }
    test_check(err == ENOMEM || err == EAGAIN, "memhog-fork-bomb-refused", "%d children, then %s",
               forks, strerror(err));
    int reaped = 0;
    for (int i = 0; i < forks; i++) {
        int status;
        kill(kids[i], SIGKILL);
        reaped += waitpid(kids[i], &status, 0) == kids[i] && WIFSIGNALED(status) &&
                  WTERMSIG(status) == SIGKILL;
    }
    test_check(reaped == forks, "memhog-children-killed", "%d of %d reaped after SIGKILL", reaped,
               forks);
    printf("memhog: %d children before the refusal\n", forks);
    return test_done("memhog");
}
