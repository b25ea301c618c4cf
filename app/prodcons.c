/* prodcons.c - producers and consumers on different CPUs through a bounded buffer, once guarded
 * by counting semaphores and once by a mutex with condition variables: every item is consumed
 * exactly once. Usage: prodcons [items per producer] */
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avtest.h"

#define PRODUCERS 3
#define CONSUMERS 3
#define SLOTS     8
#define MAX_ITEMS 20000

static int items; /* per producer */
static int ring[SLOTS];
static int head, tail, count;
static unsigned char seen[PRODUCERS * MAX_ITEMS];
static atomic_int duplicates, out_of_range;
static atomic_ulong cpus_seen;

/* Semaphore version: empty slots, full slots, and a binary semaphore for the indices. */
static sem_t sem_empty, sem_full, sem_lock;
/* Condition-variable version. */
static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER, not_empty = PTHREAD_COND_INITIALIZER;
static bool use_condvar;

static void record(int item)
{
    if (item < 0 || item >= PRODUCERS * items)
        atomic_fetch_add(&out_of_range, 1);
    else if (seen[item]++)
        atomic_fetch_add(&duplicates, 1);
}

static void put(int item)
{
    if (use_condvar) {
        pthread_mutex_lock(&mutex);
        while (count == SLOTS)
            pthread_cond_wait(&not_full, &mutex);
        ring[head] = item, head = (head + 1) % SLOTS, count++;
        pthread_cond_signal(&not_empty);
        pthread_mutex_unlock(&mutex);
    } else {
        sem_wait(&sem_empty);
        sem_wait(&sem_lock);
        ring[head] = item, head = (head + 1) % SLOTS;
        sem_post(&sem_lock);
        sem_post(&sem_full);
    }
}

static int take(void)
{
    int item;

    if (use_condvar) {
        pthread_mutex_lock(&mutex);
        while (count == 0)
            pthread_cond_wait(&not_empty, &mutex);
        item = ring[tail], tail = (tail + 1) % SLOTS, count--;
        record(item);
        pthread_cond_signal(&not_full);
        pthread_mutex_unlock(&mutex);
    } else {
        sem_wait(&sem_full);
        sem_wait(&sem_lock);
        item = ring[tail], tail = (tail + 1) % SLOTS;
        record(item);
        sem_post(&sem_lock);
        sem_post(&sem_empty);
    }
    return item;
}

static void *producer(void *arg)
{
    int id = (int)(long)arg;

    pin_to_cpu(id % ncpus());
    for (int i = 0; i < items; i++) {
        put(id * items + i);
        atomic_fetch_or(&cpus_seen, 1UL << current_cpu());
    }
    return NULL;
}

static void *consumer(void *arg)
{
    int id = (int)(long)arg, n = (PRODUCERS * items) / CONSUMERS;

    pin_to_cpu((id + 1) % ncpus());
    for (int i = 0; i < n; i++) {
        take();
        atomic_fetch_or(&cpus_seen, 1UL << current_cpu());
    }
    return NULL;
}

static void run(bool condvar, const char *name)
{
    pthread_t p[PRODUCERS], c[CONSUMERS];

    use_condvar = condvar;
    memset(seen, 0, sizeof(seen));
    head = tail = count = 0;
    atomic_store(&duplicates, 0);
    atomic_store(&out_of_range, 0);
    atomic_store(&cpus_seen, 0);
    sem_init(&sem_empty, 0, SLOTS);
    sem_init(&sem_full, 0, 0);
    sem_init(&sem_lock, 0, 1);
    for (long i = 0; i < CONSUMERS; i++)
        pthread_create(&c[i], NULL, consumer, (void *)i);
    for (long i = 0; i < PRODUCERS; i++)
        pthread_create(&p[i], NULL, producer, (void *)i);
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(p[i], NULL);
    for (int i = 0; i < CONSUMERS; i++)
        pthread_join(c[i], NULL);
    int missing = 0;
    for (int i = 0; i < PRODUCERS * items; i++)
        missing += !seen[i];
    int cpus = __builtin_popcountl(atomic_load(&cpus_seen));
    test_check(!missing && !atomic_load(&duplicates) && !atomic_load(&out_of_range), name,
               "%d lost, %d twice, %d bogus", missing, atomic_load(&duplicates),
               atomic_load(&out_of_range));
    printf("prodcons: %s: %d items through %d slots on %d CPUs\n",
           condvar ? "condvar" : "semaphore", PRODUCERS * items, SLOTS, cpus);
}

int main(int argc, char **argv)
{
    items = argc > 1 ? atoi(argv[1]) : 3000;
    if (items < CONSUMERS || items > MAX_ITEMS || items % CONSUMERS) {
        printf("usage: prodcons [items per producer: a multiple of %d up to %d]\n", CONSUMERS,
               MAX_ITEMS);
        return 2;
    }
    run(false, "prodcons-semaphore");
    run(true, "prodcons-condvar");
    return test_done("prodcons");
}
