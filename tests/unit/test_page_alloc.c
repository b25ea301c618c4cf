/* test_page_alloc.c - host tests of the buddy page allocator over arenas standing in for RAM. */
#define _POSIX_C_SOURCE 200809L /* sysconf */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "arch/memlayout.h"
#include "kernel/page_alloc.h"
#include "lib/errno.h"
#include "test.h"

#define MAX_ORDER PAGE_ALLOC_MAX_ORDER
#define MAX_BLOCK (PAGE_SIZE << MAX_ORDER)

static uint8_t *arena;
static size_t arena_size;

static uint64_t pa_of(const void *p)
{
    return (uint64_t)(uintptr_t)p;
}

/* A fresh allocator with no ranges, over an arena aligned to the largest block. */
static void arena_new(size_t bytes, int fill)
{
    page_alloc_reset();
    arena_size = bytes;
    arena = aligned_alloc(MAX_BLOCK, bytes);
    memset(arena, fill, bytes);
}

static void arena_done(void)
{
    page_alloc_reset();
    free(arena);
    arena = NULL;
}

static struct page_stats stats(void)
{
    struct page_stats s;

    page_alloc_stats(&s);
    return s;
}

static void check_same_free_blocks(const struct page_stats *a, const struct page_stats *b)
{
    CHECK_EQ(a->free_pages, b->free_pages);
    for (int o = 0; o <= MAX_ORDER; o++)
        CHECK_EQ(a->free_blocks[o], b->free_blocks[o]);
}

/* Fixed-seed generator so every run makes the same sequence. */
static uint64_t rng_next(uint64_t *state)
{
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    return *state >> 33;
}

/* Mostly small orders: order k with probability about 2^-(k+1). */
static unsigned random_order(uint64_t *rng)
{
    uint64_t r = rng_next(rng) | (1ULL << MAX_ORDER);

    return (unsigned)__builtin_ctzll(r);
}

static void test_layout_of_one_range(void)
{
    arena_new(16 << 20, 0);
    /* 4096 pages: 32 of them hold the 32-byte struct pages, 4064 are managed. */
    CHECK_EQ(page_alloc_add_range(pa_of(arena), pa_of(arena) + arena_size), 4064);

    struct page_stats s = stats();

    CHECK_EQ(s.total_pages, 4064);
    CHECK_EQ(s.free_pages, 4064);
    CHECK_EQ(s.meta_pages, 32);
    CHECK_EQ(s.nr_ranges, 1);
    CHECK_EQ(s.max_order, MAX_ORDER);
    /* Pages 32..4095 split into naturally aligned blocks: 32, 64, 128, 256, 512, 3 x 1024. */
    for (int o = 0; o <= MAX_ORDER; o++)
        CHECK_EQ(s.free_blocks[o], o == 10 ? 3 : (o >= 5 && o <= 9) ? 1 : 0);
    arena_done();
}

static void test_all_orders_aligned(void)
{
    uint64_t held[MAX_ORDER + 1];

    arena_new(16 << 20, 0);
    page_alloc_add_range(pa_of(arena), pa_of(arena) + arena_size);

    struct page_stats before = stats();
    uint64_t expect_free = before.free_pages;

    for (unsigned o = 0; o <= MAX_ORDER; o++) {
        uint64_t pa = page_alloc(o);

        held[o] = pa;
        CHECK(pa != 0);
        CHECK_EQ(pa & ((PAGE_SIZE << o) - 1), 0);
        CHECK(pa >= pa_of(arena) + 32 * PAGE_SIZE);
        CHECK(pa + (PAGE_SIZE << o) <= pa_of(arena) + arena_size);
        CHECK_EQ(page_ref_count(pa), 1);
        /* Fill the block: ASan catches a block reaching past the arena, the check below overlap. */
        memset(phys_to_virt(pa), (int)o + 1, PAGE_SIZE << o);
        expect_free -= 1UL << o;
        CHECK_EQ(stats().free_pages, expect_free);
    }
    for (unsigned o = 0; o <= MAX_ORDER; o++) {
        const uint8_t *b = phys_to_virt(held[o]);

        CHECK(b[0] == o + 1 && b[(PAGE_SIZE << o) - 1] == o + 1);
    }
    CHECK_EQ(page_alloc(MAX_ORDER + 1), 0);
    CHECK_EQ(stats().failed_calls, 1);
    for (unsigned o = 0; o <= MAX_ORDER; o++)
        CHECK_EQ(page_free(held[o], o), 0);

    struct page_stats after = stats();

    check_same_free_blocks(&before, &after);
    CHECK_EQ(after.alloc_calls, MAX_ORDER + 2);
    CHECK_EQ(after.free_calls, MAX_ORDER + 1);
    CHECK_EQ(after.bad_frees, 0);
    arena_done();
}

static void test_exhaustion_then_coalesce(void)
{
    enum { PAGES = 4064 };
    static uint64_t held[PAGES];
    static uint8_t seen[4096];
    uint64_t rng = 7;

    arena_new(16 << 20, 0);
    page_alloc_add_range(pa_of(arena), pa_of(arena) + arena_size);
    memset(seen, 0, sizeof(seen));

    struct page_stats before = stats();
    int n = 0;
    uint64_t pa;

    while ((pa = page_alloc(0)) != 0 && n < PAGES + 1) {
        size_t idx = (pa - pa_of(arena)) / PAGE_SIZE;

        CHECK(idx >= 32 && idx < 4096);
        if (idx < 4096) {
            CHECK(!seen[idx]);
            seen[idx] = 1;
        }
        if (n < PAGES)
            held[n] = pa;
        n++;
    }
    CHECK_EQ(n, PAGES);
    CHECK_EQ(stats().free_pages, 0);
    CHECK_EQ(page_alloc(0), 0);
    CHECK_EQ(page_alloc(3), 0);
    CHECK_EQ(stats().failed_calls, 3);

    /* Free in a shuffled order: merging must not depend on the order of frees. */
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(rng_next(&rng) % (uint64_t)(i + 1));
        uint64_t t = held[i];

        held[i] = held[j];
        held[j] = t;
    }
    for (int i = 0; i < n; i++)
        CHECK_EQ(page_free(held[i], 0), 0);

    struct page_stats after = stats();

    check_same_free_blocks(&before, &after);
    /* Fully merged: the three 4 MiB blocks come back, and a fourth does not exist. */
    uint64_t big[3];

    for (int i = 0; i < 3; i++) {
        big[i] = page_alloc(MAX_ORDER);
        CHECK(big[i] != 0 && (big[i] & (MAX_BLOCK - 1)) == 0);
    }
    CHECK_EQ(page_alloc(MAX_ORDER), 0);
    for (int i = 0; i < 3; i++)
        CHECK_EQ(page_free(big[i], MAX_ORDER), 0);
    arena_done();
}

struct test_range {
    size_t start, end;  /* offsets into the arena, deliberately unaligned */
    int pages;          /* what page_alloc_add_range must answer */
    size_t managed_off; /* where allocatable pages begin (after the metadata) */
};

static void test_unaligned_multiple_ranges(void)
{
    const size_t mib = 1 << 20;
    /* Pages: 255 (2 of metadata), too small, 1536 (12), 1023 (8). */
    const struct test_range ranges[] = {
        {100, mib + 123, 253, 3 * PAGE_SIZE},
        {2 * mib + 5, 2 * mib + 3 * PAGE_SIZE - 1, 0, 0},
        {3 * mib, 9 * mib + PAGE_SIZE - 1, 1524, 3 * mib + 12 * PAGE_SIZE},
        {12 * mib + 1, 16 * mib, 1015, 12 * mib + 9 * PAGE_SIZE},
    };
    static uint8_t seen[4096];
    int total = 0;

    arena_new(16 << 20, 0x5a);
    memset(seen, 0, sizeof(seen));
    for (int i = 0; i < 4; i++) {
        int got =
            page_alloc_add_range(pa_of(arena) + ranges[i].start, pa_of(arena) + ranges[i].end);

        CHECK_EQ(got, ranges[i].pages);
        total += ranges[i].pages;
    }
    /* Refused: empty, inverted, overlapping an existing range; ignored: not one whole page. */
    CHECK_EQ(page_alloc_add_range(pa_of(arena) + 10 * mib, pa_of(arena) + 10 * mib), -EINVAL);
    CHECK_EQ(page_alloc_add_range(pa_of(arena) + 11 * mib, pa_of(arena) + 10 * mib), -EINVAL);
    CHECK_EQ(page_alloc_add_range(pa_of(arena) + mib - 3 * PAGE_SIZE, pa_of(arena) + 2 * mib),
             -EINVAL);
    CHECK_EQ(page_alloc_add_range(pa_of(arena), pa_of(arena) + 200), 0);

    struct page_stats s = stats();

    CHECK_EQ(s.nr_ranges, 3);
    CHECK_EQ(s.total_pages, total);
    CHECK_EQ(s.meta_pages, 2 + 12 + 8);

    /* Take everything, in mixed orders, and mark every page handed out. */
    uint64_t rng = 11;
    int got_pages = 0;

    for (;;) {
        unsigned o = random_order(&rng);
        uint64_t pa = page_alloc(o);

        if (!pa) {
            if (o == 0)
                break;
            continue;
        }
        CHECK_EQ(pa & ((PAGE_SIZE << o) - 1), 0);
        for (size_t p = 0; p < (1UL << o); p++) {
            size_t idx = (pa - pa_of(arena)) / PAGE_SIZE + p;
            size_t off = idx * PAGE_SIZE;
            int inside = 0;

            for (int i = 0; i < 4; i++)
                if (ranges[i].pages && off >= ranges[i].managed_off && off < ranges[i].end)
                    inside = 1;
            CHECK(inside);
            CHECK(idx < 4096 && !seen[idx]);
            if (idx < 4096)
                seen[idx] = 1;
        }
        memset(phys_to_virt(pa), 0xc3, PAGE_SIZE << o);
        got_pages += 1 << o;
    }
    CHECK_EQ(got_pages, total);
    CHECK_EQ(stats().free_pages, 0);

    /* Bytes outside the ranges given were never touched, not even by metadata. */
    size_t untouched_bad = 0;

    for (size_t off = 0; off < arena_size; off++) {
        int in_range = 0;

        for (int i = 0; i < 4; i++)
            if (ranges[i].pages && off >= ranges[i].start && off < ranges[i].end)
                in_range = 1;
        if (!in_range && arena[off] != 0x5a)
            untouched_bad++;
    }
    CHECK_EQ(untouched_bad, 0);
    arena_done();
}

static void test_range_limit(void)
{
    arena_new(4 << 20, 0);
    /* Two-page ranges (one of metadata, one managed) with one-page gaps. */
    for (int i = 0; i < PAGE_ALLOC_MAX_RANGES; i++) {
        uint64_t start = pa_of(arena) + (uint64_t)i * 3 * PAGE_SIZE;

        CHECK_EQ(page_alloc_add_range(start, start + 2 * PAGE_SIZE), 1);
    }
    uint64_t start = pa_of(arena) + 2 * (1 << 20);

    CHECK_EQ(page_alloc_add_range(start, start + (1 << 20)), -ENOSPC);
    CHECK_EQ(stats().total_pages, PAGE_ALLOC_MAX_RANGES);

    /* Single pages in separate ranges never merge with each other. */
    uint64_t held[PAGE_ALLOC_MAX_RANGES];

    CHECK_EQ(page_alloc(1), 0);
    for (int i = 0; i < PAGE_ALLOC_MAX_RANGES; i++)
        held[i] = page_alloc(0);
    for (int i = 0; i < PAGE_ALLOC_MAX_RANGES; i++)
        CHECK_EQ(page_free(held[i], 0), 0);
    CHECK_EQ(stats().free_blocks[0], PAGE_ALLOC_MAX_RANGES);
    CHECK_EQ(stats().free_blocks[1], 0);
    arena_done();
}

static void test_bad_frees_refused(void)
{
    int local;

    arena_new(16 << 20, 0);
    page_alloc_add_range(pa_of(arena), pa_of(arena) + arena_size);

    struct page_stats initial = stats();
    uint64_t a = page_alloc(2);
    uint64_t b = page_alloc(0);

    CHECK_EQ(page_free(b, 0), 0);

    struct page_stats before = stats();

    CHECK_EQ(page_free(a + PAGE_SIZE, 2), -EINVAL);                    /* unaligned for its order */
    CHECK_EQ(page_free(a + PAGE_SIZE, 0), -EINVAL);                    /* a page inside a block */
    CHECK_EQ(page_free(a, 1), -EINVAL);                                /* wrong order, smaller */
    CHECK_EQ(page_free(a, 3), -EINVAL);                                /* wrong order, larger */
    CHECK_EQ(page_free(a, MAX_ORDER + 1), -EINVAL);                    /* no such order */
    CHECK_EQ(page_free(a + 8, 0), -EINVAL);                            /* not page aligned */
    CHECK_EQ(page_free(0, 0), -EINVAL);                                /* no memory there */
    CHECK_EQ(page_free(pa_of(&local) & ~(PAGE_SIZE - 1), 0), -EINVAL); /* unmanaged */
    CHECK_EQ(page_free(pa_of(arena), 0), -EINVAL);                     /* the metadata itself */
    CHECK_EQ(page_free(b, 0), -EINVAL);                                /* double free */
    CHECK_EQ(page_ref_inc(a), 2);
    CHECK_EQ(page_free(a, 2), -EBUSY); /* still shared */

    struct page_stats after = stats();

    check_same_free_blocks(&before, &after);
    CHECK_EQ(after.bad_frees, 11);
    CHECK_EQ(after.last_bad_free, a);
    CHECK_EQ(page_ref_dec(a), 1);
    CHECK_EQ(page_free(a, 2), 0);
    CHECK_EQ(page_free(a, 2), -EINVAL); /* double free after merging */
    CHECK_EQ(stats().bad_frees, 12);

    struct page_stats end = stats();

    check_same_free_blocks(&initial, &end);
    arena_done();
}

static void test_refcount(void)
{
    arena_new(4 << 20, 0);
    page_alloc_add_range(pa_of(arena), pa_of(arena) + arena_size);

    uint64_t a = page_alloc(0);
    uint64_t big = page_alloc(2);

    CHECK_EQ(page_ref_count(a), 1);
    CHECK_EQ(page_ref_inc(a), 2);
    CHECK_EQ(page_ref_inc(a), 3);
    CHECK_EQ(page_ref_dec(a), 2);
    CHECK_EQ(page_ref_dec(a), 1);
    CHECK_EQ(page_ref_dec(a), 0);
    CHECK_EQ(page_ref_dec(a), -EINVAL); /* never below zero */
    CHECK_EQ(page_free(a, 0), 0);       /* the last reference gone: free it */
    CHECK_EQ(page_ref_inc(a), -EINVAL); /* free page */
    CHECK_EQ(page_ref_count(a), -EINVAL);
    CHECK_EQ(page_ref_inc(big + PAGE_SIZE), -EINVAL); /* inside a block */
    CHECK_EQ(page_ref_inc(big + 16), -EINVAL);
    CHECK_EQ(page_ref_inc(pa_of(arena)), -EINVAL); /* metadata, unmanaged */
    CHECK_EQ(page_ref_inc(big), 2);
    CHECK_EQ(page_ref_dec(big), 1);
    CHECK_EQ(page_free(big, 2), 0);
    a = page_alloc(0);
    CHECK_EQ(page_ref_count(a), 1); /* a fresh allocation starts at one again */
    CHECK_EQ(page_free(a, 0), 0);
    arena_done();
}

static void test_zeroed(void)
{
    arena_new(8 << 20, 0);
    page_alloc_add_range(pa_of(arena), pa_of(arena) + arena_size);

    /* Dirty all managed memory, give it back, then every zeroed block must read as zero. */
    uint64_t pa;
    static uint64_t held[2048];
    int n = 0;

    while (n < 2048 && (pa = page_alloc(0)) != 0) {
        memset(phys_to_virt(pa), 0xee, PAGE_SIZE);
        held[n++] = pa;
    }
    while (n > 0)
        page_free(held[--n], 0);
    for (unsigned o = 0; o <= MAX_ORDER; o++) {
        pa = page_alloc_zeroed(o);
        CHECK(pa != 0);

        const uint8_t *b = phys_to_virt(pa);
        size_t nonzero = 0;

        for (size_t i = 0; i < (PAGE_SIZE << o); i++)
            nonzero += b[i] != 0;
        CHECK_EQ(nonzero, 0);
        page_free(pa, o);
    }
    arena_done();
}

struct live_block {
    uint64_t pa;
    unsigned order;
    uint8_t tag;
};

/* Random allocs and frees checked against a model: a byte per page saying who holds it. */
static void test_random_against_model(void)
{
    enum { ARENA = 32 << 20, PAGES = ARENA / 4096, LIVE = 1500, OPS = 60000 };
    static uint8_t owner[PAGES];
    static struct live_block live[LIVE];
    int nlive = 0;
    uint64_t rng = 2024, live_pages = 0;
    int errors = 0;

    arena_new(ARENA, 0);
    memset(owner, 0, sizeof(owner));
    page_alloc_add_range(pa_of(arena), pa_of(arena) + arena_size);

    struct page_stats initial = stats();

    for (int op = 0; op < OPS; op++) {
        int do_alloc = nlive == 0 || (nlive < LIVE && rng_next(&rng) % 100 < 55);

        if (do_alloc) {
            unsigned o = random_order(&rng);
            uint64_t pa = page_alloc(o);
            struct page_stats s = stats();

            if (!pa) {
                /* Only allowed when no free block of this order or larger exists. */
                for (unsigned k = o; k <= MAX_ORDER; k++)
                    errors += s.free_blocks[k] != 0;
                continue;
            }
            size_t first = (pa - pa_of(arena)) / PAGE_SIZE;
            uint8_t tag = (uint8_t)(1 + op % 255);

            errors += (pa & ((PAGE_SIZE << o) - 1)) != 0;
            errors += first + (1UL << o) > PAGES;
            for (size_t p = first; p < first + (1UL << o) && p < PAGES; p++) {
                errors += owner[p] != 0;
                owner[p] = tag;
                *(uint64_t *)(arena + p * PAGE_SIZE) = pa + p;
            }
            live[nlive++] = (struct live_block){pa, o, tag};
            live_pages += 1UL << o;
        } else {
            int i = (int)(rng_next(&rng) % (uint64_t)nlive);
            struct live_block b = live[i];
            size_t first = (b.pa - pa_of(arena)) / PAGE_SIZE;

            for (size_t p = first; p < first + (1UL << b.order); p++) {
                errors += owner[p] != b.tag;
                errors += *(uint64_t *)(arena + p * PAGE_SIZE) != b.pa + p;
                owner[p] = 0;
            }
            errors += page_free(b.pa, b.order) != 0;
            /* A repeated free of the same block must be refused and change nothing. */
            if (op % 97 == 0)
                errors += page_free(b.pa, b.order) != -EINVAL;
            live[i] = live[--nlive];
            live_pages -= 1UL << b.order;
        }
        if (op % 1000 == 0)
            errors += stats().free_pages != initial.total_pages - live_pages;
    }
    CHECK_EQ(errors, 0);
    CHECK(stats().bad_frees > 0);
    while (nlive > 0) {
        nlive--;
        CHECK_EQ(page_free(live[nlive].pa, live[nlive].order), 0);
    }

    struct page_stats end = stats();

    check_same_free_blocks(&initial, &end);
    arena_done();
}

/* Several threads allocating and freeing at once; a shared page map catches double hand-outs. */
enum { MAX_THREADS = 4, THREAD_OPS = 200000, THREAD_LIVE = 48 };
static uint8_t *thread_owner; /* one byte per arena page, updated atomically */
static int thread_errors;
static int thread_waiting; /* start gate: threads begin together so they really contend */

static void thread_gate(void)
{
    __atomic_fetch_sub(&thread_waiting, 1, __ATOMIC_ACQ_REL);
    while (__atomic_load_n(&thread_waiting, __ATOMIC_ACQUIRE) > 0)
        ;
}

static void *hammer(void *arg)
{
    uintptr_t id = (uintptr_t)arg;
    uint64_t rng = 1000 + id;
    struct live_block live[THREAD_LIVE];
    int nlive = 0, errors = 0;

    thread_gate();
    for (int op = 0; op < THREAD_OPS; op++) {
        if (nlive < THREAD_LIVE && (nlive == 0 || rng_next(&rng) % 2)) {
            unsigned o = (unsigned)(rng_next(&rng) % 4);
            uint64_t pa = page_alloc(o);

            if (!pa)
                continue;
            size_t first = (pa - pa_of(arena)) / PAGE_SIZE;

            for (size_t p = first; p < first + (1UL << o); p++) {
                uint8_t expect = 0;

                if (!__atomic_compare_exchange_n(&thread_owner[p], &expect, (uint8_t)(id + 1), 0,
                                                 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
                    errors++;
                *(uint64_t *)(arena + p * PAGE_SIZE) = (id << 56) | p;
            }
            live[nlive++] = (struct live_block){pa, o, (uint8_t)(id + 1)};
        } else {
            int i = (int)(rng_next(&rng) % (uint64_t)nlive);
            struct live_block b = live[i];
            size_t first = (b.pa - pa_of(arena)) / PAGE_SIZE;

            for (size_t p = first; p < first + (1UL << b.order); p++) {
                errors += *(uint64_t *)(arena + p * PAGE_SIZE) != ((id << 56) | p);
                __atomic_store_n(&thread_owner[p], 0, __ATOMIC_RELAXED);
            }
            errors += page_free(b.pa, b.order) != 0;
            live[i] = live[--nlive];
        }
    }
    while (nlive > 0) {
        struct live_block b = live[--nlive];
        size_t first = (b.pa - pa_of(arena)) / PAGE_SIZE;

        for (size_t p = first; p < first + (1UL << b.order); p++)
            __atomic_store_n(&thread_owner[p], 0, __ATOMIC_RELAXED);
        errors += page_free(b.pa, b.order) != 0;
    }
    __atomic_fetch_add(&thread_errors, errors, __ATOMIC_RELAXED);
    return NULL;
}

/*
 * One thread per CPU, 2 to 4: ticket spinlocks on an oversubscribed host convoy badly (a waiter
 * whose turn it is may be descheduled while the others spin), which only makes the test slow.
 */
static int thread_count(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);

    return cpus < 2 ? 2 : cpus > MAX_THREADS ? MAX_THREADS : (int)cpus;
}

static void test_threads(void)
{
    pthread_t t[MAX_THREADS];
    int threads = thread_count();

    /* 512 KiB (127 pages): the threads run it dry and fight over the last pages. */
    arena_new(4 << 20, 0);
    page_alloc_add_range(pa_of(arena), pa_of(arena) + (512 << 10));
    thread_owner = calloc(arena_size / PAGE_SIZE, 1);
    thread_errors = 0;
    thread_waiting = threads;

    struct page_stats initial = stats();

    for (int i = 0; i < threads; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, hammer, (void *)(uintptr_t)i), 0);
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    CHECK_EQ(thread_errors, 0);

    struct page_stats end = stats();

    check_same_free_blocks(&initial, &end);
    CHECK_EQ(end.bad_frees, 0);
    CHECK(end.failed_calls > 0);
    CHECK_EQ(end.alloc_calls - end.failed_calls, end.free_calls);
    free(thread_owner);
    arena_done();
}

static const struct test_case cases[] = {
    {"kernel/page_alloc/layout_of_one_range", test_layout_of_one_range},
    {"kernel/page_alloc/all_orders_aligned", test_all_orders_aligned},
    {"kernel/page_alloc/exhaustion_then_coalesce", test_exhaustion_then_coalesce},
    {"kernel/page_alloc/unaligned_multiple_ranges", test_unaligned_multiple_ranges},
    {"kernel/page_alloc/range_limit", test_range_limit},
    {"kernel/page_alloc/bad_frees_refused", test_bad_frees_refused},
    {"kernel/page_alloc/refcount", test_refcount},
    {"kernel/page_alloc/zeroed", test_zeroed},
    {"kernel/page_alloc/random_against_model", test_random_against_model},
    {"kernel/page_alloc/threads", test_threads},
};

int main(int argc, char **argv)
{
    return test_main(cases, (int)(sizeof(cases) / sizeof(cases[0])), argc, argv);
}
