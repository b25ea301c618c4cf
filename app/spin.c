/* spin.c - busy threads that never end by themselves (for kill, procs and load tests).
 * Usage: spin [threads] */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static void *busy(void *arg)
{
    volatile unsigned long n = 0;

    (void)arg;
    for (;;)
        n++;
    return NULL;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1;
    pthread_t t;

    for (int i = 1; i < n; i++) {
        if (pthread_create(&t, NULL, busy, NULL)) {
            printf("spin: only %d threads\n", i);
            break;
        }
    }
    printf("spin: %d threads spinning\n", n);
    return (int)(long)busy(NULL);
}
