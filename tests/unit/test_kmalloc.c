/* test_kmalloc.c - host tests of kmalloc/kfree over the real page allocator and an arena. */
#define _POSIX_C_SOURCE 200809L /* sysconf */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "arch/memlayout.h"
#include "kernel/kmalloc.h"
#include "kernel/page_alloc.h"
#include "test.h"

#define ARENA_ALIGN (PAGE_SIZE << PAGE_ALLOC_MAX_ORDER)

static uint8_t *arena;
static size_t arena_size;
static uint64_t arena_pages; /* managed pages the range gave */

static uint64_t pa_of(const void *p)
{
    return (uint64_t)(uintptr_t)p;
}

/* A fresh page allocator whose one range is the first `used` bytes of a new arena. */
static void arena_new(size_t bytes, size_t used)
{
    page_alloc_reset();
    arena_size = bytes;
    arena = aligned_alloc(ARENA_ALIGN, bytes);
    memset(arena, 0, bytes);
    arena_pages = (uint64_t)page_alloc_add_range(pa_of(arena), pa_of(arena) + used);
}

static struct kmalloc_stats kstats(void)
{
    struct kmalloc_stats s;

    kmalloc_stats(&s);
    return s;
}

static uint64_t free_pages(void)
{
    struct page_stats s;

    page_alloc_stats(&s);
    return s.free_pages;
}

/* Every object back, every slab back: the heap leaves nothing behind in the arena. */
static void arena_done(void)
{
    kmalloc_shrink();

    struct kmalloc_stats s = kstats();

    for (int c = 0; c < KMALLOC_NR_CLASSES; c++) {
        CHECK_EQ(s.classes[c].slabs, 0);
        CHECK_EQ(s.classes[c].in_use, 0);
    }
    CHECK_EQ(s.large_in_use, 0);
    CHECK_EQ(free_pages(), arena_pages);
    page_alloc_reset();
    free(arena);
    arena = NULL;
}

static uint64_t rng_next(uint64_t *state)
{
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    return *state >> 33;
}

static size_t class_size_for(size_t size)
{
    size_t c = KMALLOC_MIN_SIZE;

    while (c < size)
        c <<= 1;
    return c;
}

static int in_arena(const void *p, size_t size)
{
    return pa_of(p) >= pa_of(arena) && pa_of(p) + size <= pa_of(arena) + arena_size;
}

struct obj {
    uint8_t *p;
    size_t size;
};

static int cmp_obj(const void *a, const void *b)
{
    const struct obj *x = a, *y = b;

    return x->p < y->p ? -1 : x->p > y->p;
}

static void test_every_class(void)
{
    static const size_t sizes[] = {1,   8,   16,  17,  24,  32,  33,   63,   64,   65,  100,
                                   128, 200, 256, 300, 512, 700, 1024, 1500, 2047, 2048};
    enum { N = sizeof(sizes) / sizeof(sizes[0]), PER = 300 };
    static struct obj objs[N * PER];
    int n = 0;

    arena_new(16 << 20, 16 << 20);

    struct kmalloc_stats before = kstats();

    for (int i = 0; i < N; i++) {
        for (int k = 0; k < PER; k++) {
            uint8_t *p = kmalloc(sizes[i]);

            CHECK(p != NULL);
            if (!p)
                continue;
            /* Aligned to the class size, inside managed memory. */
            CHECK_EQ(pa_of(p) % class_size_for(sizes[i]), 0);
            CHECK(in_arena(p, sizes[i]));
            memset(p, (uint8_t)(n * 7 + 1), sizes[i]);
            objs[n++] = (struct obj){p, sizes[i]};
        }
    }

    struct kmalloc_stats mid = kstats();
    uint64_t per_class[KMALLOC_NR_CLASSES] = {0};

    for (int i = 0; i < N; i++)
        per_class[__builtin_ctzll(class_size_for(sizes[i]) / KMALLOC_MIN_SIZE)] += PER;
    for (int c = 0; c < KMALLOC_NR_CLASSES; c++) {
        CHECK_EQ(mid.classes[c].size, KMALLOC_MIN_SIZE << c);
        CHECK_EQ(mid.classes[c].in_use, per_class[c]);
        CHECK_EQ((mid.classes[c].in_use + mid.classes[c].free) * mid.classes[c].size,
                 mid.classes[c].slabs * PAGE_SIZE);
    }
    CHECK_EQ(mid.alloc_calls - before.alloc_calls, N * PER);

    /* No two objects overlap, and every object still holds what was written into it. */
    qsort(objs, (size_t)n, sizeof(objs[0]), cmp_obj);
    for (int i = 0; i + 1 < n; i++)
        CHECK(objs[i].p + objs[i].size <= objs[i + 1].p);
    for (int i = 0; i < n; i++) {
        uint8_t v = objs[i].p[0];

        for (size_t b = 1; b < objs[i].size; b++)
            if (objs[i].p[b] != v) {
                CHECK(objs[i].p[b] == v);
                break;
            }
        kfree(objs[i].p);
    }

    struct kmalloc_stats after = kstats();

    for (int c = 0; c < KMALLOC_NR_CLASSES; c++) {
        CHECK_EQ(after.classes[c].in_use, 0);
        CHECK(after.classes[c].slabs <= 1); /* one empty slab kept per class at most */
    }
    CHECK_EQ(after.bad_frees, before.bad_frees);
    CHECK_EQ(after.free_calls - before.free_calls, N * PER);
    arena_done();
}

static void test_large_sizes(void)
{
    static const size_t sizes[] = {2049, 4096, 4097, 8192, 100000, 1 << 20, 4 << 20};
    static const unsigned orders[] = {0, 0, 1, 1, 5, 8, 10};

    arena_new(16 << 20, 16 << 20);

    struct kmalloc_stats before = kstats();
    uint64_t pages = free_pages();

    for (int i = 0; i < 7; i++) {
        uint8_t *p = kmalloc(sizes[i]);

        CHECK(p != NULL);
        if (!p)
            continue;
        CHECK_EQ(pa_of(p) & (PAGE_SIZE - 1), 0);
        CHECK(in_arena(p, sizes[i]));
        CHECK_EQ(free_pages(), pages - (1UL << orders[i]));
        CHECK_EQ(kstats().large_in_use, 1);
        CHECK_EQ(kstats().large_pages, 1UL << orders[i]);
        memset(p, 0x77, sizes[i]);
        kfree(p);
        CHECK_EQ(free_pages(), pages);
        CHECK_EQ(kstats().large_pages, 0);
    }
    /* Beyond the largest block, and absurd sizes, fail cleanly. */
    CHECK(kmalloc((4 << 20) + 1) == NULL);
    CHECK(kmalloc(SIZE_MAX) == NULL);
    CHECK_EQ(kstats().failed_calls - before.failed_calls, 2);
    CHECK_EQ(kstats().bad_frees, before.bad_frees);
    arena_done();
}

static void test_zeroing(void)
{
    static const size_t sizes[] = {1, 16, 40, 100, 256, 1000, 2048, 3000, 5000, 70000};

    arena_new(4 << 20, 4 << 20);

    uint64_t bad_before = kstats().bad_frees;

    for (int i = 0; i < 10; i++) {
        /* Dirty memory first, so a zero can only come from kzalloc. */
        uint8_t *p = kmalloc(sizes[i]);

        memset(p, 0xab, sizes[i]);
        kfree(p);

        uint8_t *q = kzalloc(sizes[i]);
        size_t nonzero = 0;

        CHECK(q != NULL);
        for (size_t b = 0; q && b < sizes[i]; b++)
            nonzero += q[b] != 0;
        CHECK_EQ(nonzero, 0);
        kfree(q);
    }
    /* Size 0 gives a real, distinct, freeable object (so NULL keeps meaning "out of memory"). */
    void *a = kmalloc(0), *b = kmalloc(0);

    CHECK(a != NULL && b != NULL && a != b);
    kfree(a);
    kfree(b);
    kfree(NULL); /* ignored, not counted */
    CHECK_EQ(kstats().bad_frees, bad_before);
    arena_done();
}

static void test_exact_stats(void)
{
    void *p[65];

    arena_new(4 << 20, 4 << 20);

    uint64_t pages = free_pages();

    for (int i = 0; i < 5; i++)
        p[i] = kmalloc(64);

    struct kmalloc_stats s = kstats();

    CHECK_EQ(s.classes[2].size, 64);
    CHECK_EQ(s.classes[2].slabs, 1);
    CHECK_EQ(s.classes[2].in_use, 5);
    CHECK_EQ(s.classes[2].free, 64 - 5);
    CHECK_EQ(free_pages(), pages - 1);
    for (int i = 5; i < 65; i++)
        p[i] = kmalloc(64);
    s = kstats();
    CHECK_EQ(s.classes[2].slabs, 2);
    CHECK_EQ(s.classes[2].in_use, 65);
    CHECK_EQ(s.classes[2].free, 128 - 65);
    for (int i = 0; i < 65; i++)
        kfree(p[i]);
    /* The first slab to empty is kept for reuse, the second goes back to the page allocator. */
    s = kstats();
    CHECK_EQ(s.classes[2].slabs, 1);
    CHECK_EQ(s.classes[2].in_use, 0);
    CHECK_EQ(s.classes[2].free, 64);
    CHECK_EQ(free_pages(), pages - 1);
    CHECK_EQ(kmalloc_shrink(), 1);
    CHECK_EQ(kstats().classes[2].slabs, 0);
    CHECK_EQ(free_pages(), pages);
    arena_done();
}

static void test_bad_kfree(void)
{
    int local;

    arena_new(4 << 20, 4 << 20);

    struct kmalloc_stats before = kstats();
    uint8_t *p = kmalloc(64);
    uint8_t *q = kmalloc(10000); /* order 2 */
    uint64_t page = page_alloc(0);
    uint64_t free_before = free_pages();
    int bad = 0;

    kfree(&local), bad++;             /* not kernel heap memory at all */
    kfree(arena), bad++;              /* the page allocator's metadata */
    kfree(phys_to_virt(page)), bad++; /* a page from page_alloc, not kmalloc */
    kfree(p + 1), bad++;              /* inside an object */
    kfree(p + 64), bad++;             /* a free neighbour in the same slab */
    kfree(q + 8), bad++;              /* inside a large allocation */
    kfree(q + PAGE_SIZE), bad++;      /* a later page of a large allocation */
    kfree(p);
    kfree(p), bad++; /* double free, small */
    kfree(q);
    kfree(q), bad++; /* double free, large */

    struct kmalloc_stats s = kstats();

    CHECK_EQ(s.bad_frees - before.bad_frees, bad);
    CHECK_EQ(s.last_bad_free, pa_of(q));
    CHECK_EQ(s.classes[2].in_use, 0);
    CHECK_EQ(s.large_in_use, 0);
    /* The refused frees changed nothing: the page is still ours, the heap still sound. */
    CHECK_EQ(free_pages(), free_before + 4);
    CHECK_EQ(page_free(page, 0), 0);

    /* Live data that happens to look like a freed object's marker is not a false alarm. */
    uint64_t *m = kmalloc(32);

    for (int i = 0; i < 4; i++)
        m[i] = 0x6b667265656f626aULL;
    kfree(m);
    CHECK_EQ(kstats().bad_frees - before.bad_frees, bad);

    /* And the heap still hands out a full slab of distinct objects. */
    uint8_t *objs[64];

    for (int i = 0; i < 64; i++) {
        objs[i] = kmalloc(64);
        CHECK(objs[i] != NULL);
        for (int j = 0; j < i; j++)
            CHECK(objs[i] != objs[j]);
    }
    for (int i = 0; i < 64; i++)
        kfree(objs[i]);
    CHECK_EQ(kstats().bad_frees - before.bad_frees, bad);
    arena_done();
}

static void test_exhaustion(void)
{
    enum { MAXOBJ = 254 * 256 + 1 };
    static void *objs[MAXOBJ];
    int n = 0;

    /* 1 MiB range: 256 pages, 2 of metadata, 254 for the heap. */
    arena_new(4 << 20, 1 << 20);
    CHECK_EQ(arena_pages, 254);

    struct kmalloc_stats before = kstats();

    while (n < MAXOBJ && (objs[n] = kmalloc(2048)) != NULL)
        n++;
    CHECK_EQ(n, 254 * 2);
    CHECK_EQ(free_pages(), 0);
    CHECK(kmalloc(5000) == NULL);
    CHECK(kzalloc(16) == NULL);
    CHECK_EQ(kstats().failed_calls - before.failed_calls, 3);
    for (int i = 0; i < n; i++)
        kfree(objs[i]);
    CHECK_EQ(kstats().classes[7].slabs, 1);

    /* 16-byte objects fill every page, including the slab the 2048 class kept: it is reclaimed. */
    n = 0;
    while (n < MAXOBJ && (objs[n] = kmalloc(16)) != NULL)
        n++;
    CHECK_EQ(n, 254 * 256);
    CHECK_EQ(kstats().classes[7].slabs, 0);
    for (int i = 0; i < n; i++)
        kfree(objs[i]);
    CHECK_EQ(kstats().bad_frees, before.bad_frees);
    arena_done();
}

/* Random sizes and lifetimes, checked against a byte map of the arena: no byte handed out twice. */
static void test_random_against_model(void)
{
    enum { LIVE = 2000, OPS = 40000 };
    static struct obj live[LIVE];
    int nlive = 0, errors = 0;
    uint64_t rng = 99;
    uint8_t *owned;

    arena_new(16 << 20, 16 << 20);
    owned = calloc(arena_size, 1);

    uint64_t bad_before = kstats().bad_frees;

    for (int op = 0; op < OPS; op++) {
        if (nlive == 0 || (nlive < LIVE && rng_next(&rng) % 100 < 55)) {
            size_t size =
                rng_next(&rng) % 10 ? 1 + rng_next(&rng) % 2048 : 2049 + rng_next(&rng) % 30000;
            uint8_t *p = kmalloc(size);

            if (!p) {
                errors++;
                continue;
            }
            size_t off = (size_t)(p - arena);
            uint8_t tag = (uint8_t)(1 + op % 251);

            errors += !in_arena(p, size);
            for (size_t b = 0; b < size && off + b < arena_size; b++) {
                errors += owned[off + b];
                owned[off + b] = 1;
            }
            memset(p, tag, size);
            live[nlive++] = (struct obj){p, size};
        } else {
            int i = (int)(rng_next(&rng) % (uint64_t)nlive);
            struct obj o = live[i];
            size_t off = (size_t)(o.p - arena);

            for (size_t b = 0; b < o.size; b++) {
                errors += o.p[b] != o.p[0];
                owned[off + b] = 0;
            }
            kfree(o.p);
            live[i] = live[--nlive];
        }
    }
    CHECK_EQ(errors, 0);

    /* The per-class counts agree with the model. */
    uint64_t per_class[KMALLOC_NR_CLASSES] = {0}, large = 0;

    for (int i = 0; i < nlive; i++) {
        if (live[i].size <= KMALLOC_MAX_SMALL)
            per_class[__builtin_ctzll(class_size_for(live[i].size) / KMALLOC_MIN_SIZE)]++;
        else
            large++;
    }

    struct kmalloc_stats s = kstats();

    for (int c = 0; c < KMALLOC_NR_CLASSES; c++)
        CHECK_EQ(s.classes[c].in_use, per_class[c]);
    CHECK_EQ(s.large_in_use, large);
    CHECK_EQ(s.bad_frees, bad_before);
    while (nlive > 0)
        kfree(live[--nlive].p);
    free(owned);
    arena_done();
}

enum { MAX_THREADS = 4, THREAD_OPS = 200000, THREAD_LIVE = 64, THREAD_MAX_SIZE = 9000 };
static int thread_errors;
static int thread_waiting; /* start gate: threads begin together so they really contend */

/* Mostly tiny objects so the time goes into kmalloc itself, all threads in the same classes. */
static size_t thread_size(uint64_t *rng)
{
    uint64_t r = rng_next(rng) % 64;

    return r < 48   ? 1 + rng_next(rng) % 32
           : r < 62 ? 1 + rng_next(rng) % 2048
                    : 1 + rng_next(rng) % THREAD_MAX_SIZE;
}

static void *hammer(void *arg)
{
    uintptr_t id = (uintptr_t)arg;
    uint64_t rng = 500 + id;
    struct obj live[THREAD_LIVE];
    int nlive = 0, errors = 0;
    uint8_t pattern[THREAD_MAX_SIZE];

    memset(pattern, (int)(0x10 + id), sizeof(pattern));
    __atomic_fetch_sub(&thread_waiting, 1, __ATOMIC_ACQ_REL);
    while (__atomic_load_n(&thread_waiting, __ATOMIC_ACQUIRE) > 0)
        ;
    for (int op = 0; op < THREAD_OPS; op++) {
        if (nlive < THREAD_LIVE && (nlive == 0 || rng_next(&rng) % 2)) {
            size_t size = thread_size(&rng);
            uint8_t *p = kmalloc(size);

            if (!p)
                continue;
            memcpy(p, pattern, size);
            live[nlive++] = (struct obj){p, size};
        } else {
            int i = (int)(rng_next(&rng) % (uint64_t)nlive);

            /* An object handed to two threads at once would show the other's pattern here. */
            errors += memcmp(live[i].p, pattern, live[i].size) != 0;
            kfree(live[i].p);
            live[i] = live[--nlive];
        }
    }
    while (nlive > 0) {
        nlive--;
        errors += memcmp(live[nlive].p, pattern, live[nlive].size) != 0;
        kfree(live[nlive].p);
    }
    __atomic_fetch_add(&thread_errors, errors, __ATOMIC_RELAXED);
    return NULL;
}

static void test_threads(void)
{
    pthread_t t[MAX_THREADS];
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    /* One thread per CPU, 2 to 4: see test_page_alloc.c on ticket locks and oversubscription. */
    int threads = cpus < 2 ? 2 : cpus > MAX_THREADS ? MAX_THREADS : (int)cpus;

    arena_new(4 << 20, 2 << 20);
    thread_errors = 0;
    thread_waiting = threads;

    struct kmalloc_stats before = kstats();

    for (int i = 0; i < threads; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, hammer, (void *)(uintptr_t)i), 0);
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    CHECK_EQ(thread_errors, 0);

    struct kmalloc_stats s = kstats();

    CHECK_EQ(s.bad_frees, before.bad_frees);
    CHECK_EQ(s.alloc_calls - before.alloc_calls - (s.failed_calls - before.failed_calls),
             s.free_calls - before.free_calls);
    for (int c = 0; c < KMALLOC_NR_CLASSES; c++)
        CHECK_EQ(s.classes[c].in_use, 0);
    arena_done();
}

static const struct test_case cases[] = {
    {"kernel/kmalloc/every_class", test_every_class},
    {"kernel/kmalloc/large_sizes", test_large_sizes},
    {"kernel/kmalloc/zeroing", test_zeroing},
    {"kernel/kmalloc/exact_stats", test_exact_stats},
    {"kernel/kmalloc/bad_kfree", test_bad_kfree},
    {"kernel/kmalloc/exhaustion", test_exhaustion},
    {"kernel/kmalloc/random_against_model", test_random_against_model},
    {"kernel/kmalloc/threads", test_threads},
};

int main(int argc, char **argv)
{
    return test_main(cases, (int)(sizeof(cases) / sizeof(cases[0])), argc, argv);
}
