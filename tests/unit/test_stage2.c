/* test_stage2.c - stage-2 tables on the host: built over a page_alloc arena, walked by hand. */
#include <stdint.h>
#include <string.h>

#include "arch/memlayout.h"
#include "kernel/page_alloc.h"
#include "lib/errno.h"
#include "test.h"
#include "vmm/stage2.h"

#define ARENA_SIZE (16UL << 20)
#define SZ_4K      0x1000UL
#define SZ_2M      0x200000UL
#define RAM        0x40000000UL /* a guest IPA */
#define HOST       0x80000000UL /* a made-up host PA: mapped, never touched */

static uint8_t *arena;

static void arena_new(void)
{
    page_alloc_reset();
    free(arena);
    arena = aligned_alloc(PAGE_SIZE << PAGE_ALLOC_MAX_ORDER, ARENA_SIZE);
    memset(arena, 0x5a, ARENA_SIZE); /* tables must not rely on the memory being zero */
    page_alloc_add_range((uint64_t)(uintptr_t)arena, (uint64_t)(uintptr_t)arena + ARENA_SIZE);
}

static uint64_t free_pages(void)
{
    struct page_stats s;

    page_alloc_stats(&s);
    return s.free_pages;
}

/** What the reference walker found: the leaf descriptor and its level, or desc 0. */
struct ref {
    uint64_t desc;
    unsigned level;
    uint64_t pa;
};

/*
 * An independent walk that knows only the architecture: start level from VTCR_EL2.SL0, the IPA
 * size from T0SZ, the root from VTTBR_EL2.BADDR, descriptors as the Arm ARM defines them.
 */
static struct ref ref_walk(const struct stage2 *s2, uint64_t ipa)
{
    uint64_t vtcr = stage2_vtcr(s2), vttbr = stage2_vttbr(s2);
    unsigned t0sz = vtcr & 0x3f, sl0 = (vtcr >> 6) & 3;
    unsigned level = 2 - sl0, bits = 64 - t0sz;
    const uint64_t *table = (const uint64_t *)(uintptr_t)(vttbr & 0x0000fffffffffffeUL);
    struct ref r = {0, 0, 0};

    CHECK(bits >= 40 && bits <= 48);
    if (ipa >> bits)
        return r;
    for (;; level++) {
        unsigned shift = 39 - 9 * level;
        uint64_t index = ipa >> shift;
        if (level != 2 - sl0)
            index &= 511;
        uint64_t d = table[index];
        if (!(d & 1))
            return r;
        if (level == 3 ? !(d & 2) : false)
            return r;
        if (level == 3 || !(d & 2)) {
            r.desc = d;
            r.level = level;
            r.pa =
                (d & 0x0000fffffffff000UL & ~((1UL << shift) - 1)) | (ipa & ((1UL << shift) - 1));
            return r;
        }
        table = (const uint64_t *)(uintptr_t)(d & 0x0000fffffffff000UL);
    }
}

/* ipa maps to pa at level, per both walkers. */
static void expect_mapped(struct stage2 *s2, uint64_t ipa, uint64_t pa, unsigned level)
{
    struct stage2_mapping m;
    struct ref r = ref_walk(s2, ipa);

    CHECK_EQ(stage2_translate(s2, ipa, &m), 0);
    CHECK_EQ(m.pa, pa);
    CHECK_EQ(m.level, level);
    CHECK_EQ(r.pa, pa);
    CHECK_EQ(r.level, level);
}

static void expect_unmapped(struct stage2 *s2, uint64_t ipa)
{
    struct stage2_mapping m;

    CHECK_EQ(stage2_translate(s2, ipa, &m), -ENOENT);
    CHECK_EQ(ref_walk(s2, ipa).desc, 0);
}

static void test_init_and_vtcr(void)
{
    struct stage2 s2;

    arena_new();
    CHECK_EQ(stage2_parange_bits(0), -ENOTSUP);
    CHECK_EQ(stage2_parange_bits(1), -ENOTSUP);
    CHECK_EQ(stage2_parange_bits(2), 40);
    CHECK_EQ(stage2_parange_bits(4), 44);
    CHECK_EQ(stage2_parange_bits(5), 48);
    CHECK_EQ(stage2_parange_bits(6), 48);
    CHECK_EQ(stage2_init(&s2, 39), -EINVAL);
    CHECK_EQ(stage2_init(&s2, 49), -EINVAL);

    /* 40 bits: level 1 start, two concatenated tables (8 KiB, 8 KiB aligned). */
    CHECK_EQ(stage2_init(&s2, 40), 0);
    uint64_t vtcr = stage2_vtcr(&s2);
    CHECK_EQ(vtcr & 0x3f, 24);          /* T0SZ */
    CHECK_EQ((vtcr >> 6) & 3, 1);       /* SL0: level 1 */
    CHECK_EQ((vtcr >> 14) & 3, 0);      /* TG0: 4K */
    CHECK_EQ((vtcr >> 16) & 7, 2);      /* PS: 40 bits */
    CHECK_EQ((vtcr >> 8) & 0x3f, 0x35); /* IRGN0 = ORGN0 = WB, SH0 inner */
    CHECK((vtcr >> 31) & 1);            /* RES1 */
    CHECK_EQ(s2.root_order, 1);
    CHECK_EQ(s2.root_pa % (2 * SZ_4K), 0);
    CHECK(s2.vmid >= 1);
    CHECK_EQ(stage2_vttbr(&s2) >> 48, s2.vmid);
    CHECK_EQ(stage2_vttbr(&s2) & 0x0000ffffffffffffUL, s2.root_pa);
    stage2_destroy(&s2);

    /* 44 and 48 bits: level 0 start, one table. */
    CHECK_EQ(stage2_init(&s2, 44), 0);
    vtcr = stage2_vtcr(&s2);
    CHECK_EQ(vtcr & 0x3f, 20);
    CHECK_EQ((vtcr >> 6) & 3, 2);
    CHECK_EQ((vtcr >> 16) & 7, 4);
    CHECK_EQ(s2.root_order, 0);
    stage2_destroy(&s2);
    CHECK_EQ(stage2_init(&s2, 48), 0);
    CHECK_EQ((stage2_vtcr(&s2) >> 16) & 7, 5);
    stage2_destroy(&s2);
    /* 43 bits: the most concatenation allowed, 16 tables. */
    CHECK_EQ(stage2_init(&s2, 43), 0);
    CHECK_EQ(s2.root_order, 4);
    CHECK_EQ((stage2_vtcr(&s2) >> 6) & 3, 1);
    stage2_destroy(&s2);
}

static void test_blocks_and_pages(void)
{
    struct stage2 s2;

    arena_new();
    uint64_t before = free_pages();
    CHECK_EQ(stage2_init(&s2, 40), 0);

    /* Both sides 2 MiB aligned: two blocks, one level-2 table under the root. */
    CHECK_EQ(stage2_map(&s2, RAM, HOST, 2 * SZ_2M, S2_READ | S2_WRITE | S2_EXEC), 0);
    expect_mapped(&s2, RAM, HOST, 2);
    expect_mapped(&s2, RAM + 0x123458, HOST + 0x123458, 2);
    expect_mapped(&s2, RAM + SZ_2M + 0x1000, HOST + SZ_2M + 0x1000, 2);
    expect_unmapped(&s2, RAM + 2 * SZ_2M);
    expect_unmapped(&s2, RAM - SZ_4K);
    CHECK_EQ(s2.nr_tables, 1);

    /* The PA is 4 KiB off a block boundary: pages only. */
    uint64_t ipa = RAM + 0x10000000;
    CHECK_EQ(stage2_map(&s2, ipa, HOST + SZ_4K, SZ_2M, S2_READ), 0);
    expect_mapped(&s2, ipa, HOST + SZ_4K, 3);
    expect_mapped(&s2, ipa + SZ_2M - SZ_4K + 8, HOST + SZ_2M + 8, 3);
    expect_unmapped(&s2, ipa + SZ_2M);

    /* Starting mid-block: pages up to the boundary, a block, then pages again. */
    ipa = RAM + 0x20001000;
    CHECK_EQ(stage2_map(&s2, ipa, 0x90001000, 2 * SZ_2M, S2_READ | S2_WRITE), 0);
    expect_mapped(&s2, ipa, 0x90001000, 3);
    expect_mapped(&s2, RAM + 0x201ff000, 0x901ff000, 3);
    expect_mapped(&s2, RAM + 0x20200000, 0x90200000, 2);
    expect_mapped(&s2, RAM + 0x203fffff, 0x903fffff, 2);
    expect_mapped(&s2, RAM + 0x20400000, 0x90400000, 3);
    expect_unmapped(&s2, RAM + 0x20401000);
    expect_unmapped(&s2, RAM + 0x20000000);

    stage2_destroy(&s2);
    CHECK_EQ(free_pages(), before);
}

static void test_permissions(void)
{
    struct stage2 s2;
    struct stage2_mapping m;
    const struct {
        unsigned prot;
        uint64_t s2ap, xn, memattr, sh;
    } cases[] = {
        {S2_READ, 1, 1, 0xf, 3},
        {S2_READ | S2_WRITE, 3, 1, 0xf, 3},
        {S2_READ | S2_EXEC, 1, 0, 0xf, 3},
        {S2_READ | S2_WRITE | S2_EXEC, 3, 0, 0xf, 3},
        {S2_READ | S2_WRITE | S2_DEVICE, 3, 1, 0x1, 0},
        {S2_READ | S2_EXEC | S2_DEVICE, 1, 1, 0x1, 0}, /* device memory is never executable */
    };

    arena_new();
    CHECK_EQ(stage2_init(&s2, 40), 0);
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t ipa = RAM + i * SZ_2M;
        CHECK_EQ(stage2_map(&s2, ipa, HOST + i * SZ_2M, SZ_2M, cases[i].prot), 0);
        CHECK_EQ(
            stage2_map(&s2, 0x09000000 + i * SZ_4K, 0x09000000 + i * SZ_4K, SZ_4K, cases[i].prot),
            0);
        for (int k = 0; k < 2; k++) {
            uint64_t at = k ? 0x09000000 + i * SZ_4K : ipa;
            struct ref r = ref_walk(&s2, at);
            CHECK_EQ((r.desc >> 6) & 3, cases[i].s2ap);
            CHECK_EQ((r.desc >> 54) & 1, cases[i].xn);
            CHECK_EQ((r.desc >> 2) & 0xf, cases[i].memattr);
            CHECK_EQ((r.desc >> 8) & 3, cases[i].sh);
            CHECK_EQ((r.desc >> 10) & 1, 1); /* AF: no access-flag faults */
            CHECK_EQ(stage2_translate(&s2, at, &m), 0);
            unsigned want = cases[i].prot;
            if (want & S2_DEVICE)
                want &= ~S2_EXEC;
            CHECK_EQ(m.prot, want);
        }
    }
    CHECK_EQ(stage2_map(&s2, RAM + 0x4000000, HOST, SZ_4K, 0), -EINVAL);
    CHECK_EQ(stage2_map(&s2, RAM + 0x4000000, HOST, SZ_4K, S2_WRITE), -EINVAL);
    CHECK_EQ(stage2_map(&s2, RAM + 0x4000000, HOST, SZ_4K, S2_READ | 0x100), -EINVAL);
    stage2_destroy(&s2);
}

static void test_overlap_refused(void)
{
    struct stage2 s2;

    arena_new();
    CHECK_EQ(stage2_init(&s2, 40), 0);
    CHECK_EQ(stage2_map(&s2, RAM + SZ_2M, HOST, SZ_2M, S2_READ), 0);
    CHECK_EQ(stage2_map(&s2, RAM + 0x10000, 0xa0000000, SZ_4K, S2_READ), 0);
    uint64_t tables = s2.nr_tables;

    /* Each overlaps something at its far end only: nothing of it may be mapped afterwards. */
    CHECK_EQ(stage2_map(&s2, RAM + 0x100000, 0xb0000000, 0x101000, S2_READ), -EEXIST);
    CHECK_EQ(stage2_map(&s2, RAM, 0xb0000000, 0x11000, S2_READ), -EEXIST);
    CHECK_EQ(stage2_map(&s2, RAM + 2 * SZ_2M - SZ_4K, 0xb0000000, SZ_4K, S2_READ), -EEXIST);
    CHECK_EQ(s2.nr_tables, tables);
    expect_unmapped(&s2, RAM + 0x100000);
    expect_unmapped(&s2, RAM);
    expect_mapped(&s2, RAM + SZ_2M, HOST, 2);
    expect_mapped(&s2, RAM + 0x10000, 0xa0000000, 3);
    stage2_destroy(&s2);
}

static void test_unmap_and_split(void)
{
    struct stage2 s2;

    arena_new();
    uint64_t before = free_pages();
    CHECK_EQ(stage2_init(&s2, 40), 0);
    CHECK_EQ(stage2_map(&s2, RAM, HOST, 3 * SZ_2M, S2_READ | S2_WRITE), 0);
    uint64_t flushes = s2.tlb_flushes;

    /* One page out of the middle block: the block becomes 511 pages. */
    CHECK_EQ(stage2_unmap(&s2, RAM + SZ_2M + 0x5000, SZ_4K), 0);
    CHECK(s2.tlb_flushes > flushes);
    expect_unmapped(&s2, RAM + SZ_2M + 0x5000);
    expect_mapped(&s2, RAM + SZ_2M + 0x4000, HOST + SZ_2M + 0x4000, 3);
    expect_mapped(&s2, RAM + SZ_2M + 0x6abc, HOST + SZ_2M + 0x6abc, 3);
    expect_mapped(&s2, RAM + 2 * SZ_2M - 1, HOST + 2 * SZ_2M - 1, 3);
    expect_mapped(&s2, RAM, HOST, 2);
    expect_mapped(&s2, RAM + 2 * SZ_2M, HOST + 2 * SZ_2M, 2);
    /* The split pages keep the block's permissions. */
    struct ref r = ref_walk(&s2, RAM + SZ_2M);
    CHECK_EQ((r.desc >> 6) & 3, 3);
    CHECK_EQ((r.desc >> 54) & 1, 1);
    CHECK_EQ(s2.nr_tables, 2);

    /* The hole can be mapped again (to something else). */
    CHECK_EQ(stage2_map(&s2, RAM + SZ_2M + 0x5000, 0xc0000000, SZ_4K, S2_READ), 0);
    expect_mapped(&s2, RAM + SZ_2M + 0x5000, 0xc0000000, 3);

    /* A span across block boundaries, then everything: all tables go back. */
    CHECK_EQ(stage2_unmap(&s2, RAM + SZ_2M - SZ_4K, 2 * SZ_4K), 0);
    expect_unmapped(&s2, RAM + SZ_2M - SZ_4K);
    expect_unmapped(&s2, RAM + SZ_2M);
    expect_mapped(&s2, RAM + SZ_2M - 2 * SZ_4K, HOST + SZ_2M - 2 * SZ_4K, 3);
    CHECK_EQ(stage2_unmap(&s2, 0, 1UL << 40), 0);
    for (uint64_t a = RAM; a < RAM + 3 * SZ_2M; a += SZ_4K)
        expect_unmapped(&s2, a);
    CHECK_EQ(s2.nr_tables, 0);
    /* Unmapping nothing is fine. */
    CHECK_EQ(stage2_unmap(&s2, RAM, SZ_2M), 0);
    stage2_destroy(&s2);
    CHECK_EQ(free_pages(), before);
}

static void test_ipa_limits(void)
{
    struct stage2 s2;
    struct stage2_mapping m;

    arena_new();
    CHECK_EQ(stage2_init(&s2, 40), 0);
    uint64_t top = 1UL << 40;
    CHECK_EQ(stage2_map(&s2, top - SZ_4K, HOST, SZ_4K, S2_READ), 0);
    expect_mapped(&s2, top - 1, HOST + SZ_4K - 1, 3);
    CHECK_EQ(stage2_map(&s2, top, HOST, SZ_4K, S2_READ), -ERANGE);
    CHECK_EQ(stage2_map(&s2, top - SZ_4K, HOST, 2 * SZ_4K, S2_READ), -ERANGE);
    CHECK_EQ(stage2_map(&s2, RAM, top, SZ_4K, S2_READ), -ERANGE); /* PA beyond PARange */
    CHECK_EQ(stage2_map(&s2, UINT64_MAX & ~(SZ_4K - 1), HOST, SZ_4K, S2_READ), -ERANGE);
    CHECK_EQ(stage2_map(&s2, RAM + 1, HOST, SZ_4K, S2_READ), -EINVAL);
    CHECK_EQ(stage2_map(&s2, RAM, HOST + 8, SZ_4K, S2_READ), -EINVAL);
    CHECK_EQ(stage2_map(&s2, RAM, HOST, SZ_4K + 1, S2_READ), -EINVAL);
    CHECK_EQ(stage2_map(&s2, RAM, HOST, 0, S2_READ), -EINVAL);
    CHECK_EQ(stage2_unmap(&s2, top, SZ_4K), -ERANGE);
    CHECK_EQ(stage2_unmap(&s2, RAM, 0), -EINVAL);
    CHECK_EQ(stage2_translate(&s2, top, &m), -ERANGE);
    stage2_destroy(&s2);

    /* 44 bits reach past 1 TiB; the second level-0 entry is used. */
    CHECK_EQ(stage2_init(&s2, 44), 0);
    CHECK_EQ(stage2_map(&s2, top + SZ_2M, top, SZ_2M, S2_READ), 0);
    expect_mapped(&s2, top + SZ_2M + 0x42, top + 0x42, 2);
    CHECK_EQ(stage2_map(&s2, (1UL << 44) - SZ_2M, HOST, SZ_2M, S2_READ), 0);
    expect_mapped(&s2, (1UL << 44) - 1, HOST + SZ_2M - 1, 2);
    stage2_destroy(&s2);
}

static void test_vmid_exhaustion(void)
{
    static struct stage2 vms[STAGE2_NR_VMIDS];
    int n = 0;

    arena_new();
    while (n < STAGE2_NR_VMIDS && stage2_init(&vms[n], 40) == 0)
        n++;
    CHECK_EQ(n, STAGE2_NR_VMIDS - 1); /* VMID 0 is never handed out */
    CHECK_EQ(stage2_init(&vms[n], 40), -ENOSPC);
    for (int i = 0; i < n; i++) {
        CHECK(vms[i].vmid != 0);
        for (int j = 0; j < i; j++)
            CHECK(vms[i].vmid != vms[j].vmid);
    }
    unsigned freed = vms[17].vmid;
    stage2_destroy(&vms[17]);
    CHECK_EQ(stage2_init(&vms[17], 40), 0);
    CHECK_EQ(vms[17].vmid, freed);
    for (int i = 0; i < n; i++)
        stage2_destroy(&vms[i]);
    CHECK_EQ(stage2_vmid_free(freed), -EINVAL); /* already free */
    CHECK_EQ(stage2_vmid_free(0), -EINVAL);
    CHECK_EQ(stage2_vmid_free(STAGE2_NR_VMIDS), -EINVAL);
}

static void test_out_of_memory_rolls_back(void)
{
    struct stage2 s2;
    uint64_t hog[8192];
    int nhog = 0;

    arena_new();
    CHECK_EQ(stage2_init(&s2, 40), 0);
    /* Leave two free pages: the range below needs a level-2 and two level-3 tables. */
    while (free_pages() > 2 && nhog < 8192)
        hog[nhog++] = page_alloc(0);
    CHECK_EQ(stage2_map(&s2, RAM + SZ_2M - SZ_4K, HOST + SZ_4K, 2 * SZ_4K, S2_READ), -ENOMEM);
    CHECK_EQ(s2.nr_tables, 0);
    CHECK_EQ(free_pages(), 2);
    expect_unmapped(&s2, RAM + SZ_2M - SZ_4K);
    /* A block split that cannot get its table leaves the block whole. */
    CHECK_EQ(stage2_map(&s2, RAM, HOST, SZ_2M, S2_READ), 0);
    while (free_pages() > 0 && nhog < 8192)
        hog[nhog++] = page_alloc(0);
    CHECK_EQ(stage2_unmap(&s2, RAM, SZ_4K), -ENOMEM);
    expect_mapped(&s2, RAM, HOST, 2);
    for (int i = 0; i < nhog; i++)
        page_free(hog[i], 0);
    stage2_destroy(&s2);
}

/* Random maps and unmaps over a 64 MiB window against a page-by-page model. */
static void test_random_against_model(void)
{
    enum { PAGES = 64 << 8 };     /* 64 MiB of 4 KiB pages */
    static uint64_t model[PAGES]; /* PA + 1, or 0 when unmapped */
    struct stage2 s2;
    uint64_t rng = 12345, blocks_seen = 0;

    arena_new();
    memset(model, 0, sizeof(model));
    CHECK_EQ(stage2_init(&s2, 40), 0);
    for (int step = 0; step < 400; step++) {
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        uint64_t r = rng >> 16;
        unsigned first = (unsigned)(r % PAGES);
        unsigned count = 1 + (unsigned)((r >> 20) % ((r >> 40) & 1 ? 1536 : 24));
        if ((r >> 44) % 4 == 0)
            first &= ~511u; /* a quarter start on a block boundary */
        if (first + count > PAGES)
            count = PAGES - first;
        uint64_t ipa = RAM + (uint64_t)first * SZ_4K, size = (uint64_t)count * SZ_4K;
        if ((r >> 47) & 1) {
            bool empty = true;
            for (unsigned i = 0; i < count; i++)
                empty &= model[first + i] == 0;
            /* Half the time the PA shares the IPA's offset in a block, so blocks can form. */
            uint64_t pa = HOST + ((r >> 8) & 0x0fe00000) + (ipa & (SZ_2M - 1)) +
                          (((r >> 46) & 1) ? 0 : 0x3000);
            int err = stage2_map(&s2, ipa, pa, size, S2_READ | S2_WRITE);
            CHECK_EQ(err, empty ? 0 : -EEXIST);
            if (!err) {
                for (unsigned i = 0; i < count; i++)
                    model[first + i] = pa + (uint64_t)i * SZ_4K + 1;
            }
        } else {
            CHECK_EQ(stage2_unmap(&s2, ipa, size), 0);
            memset(&model[first], 0, count * sizeof(model[0]));
        }
        /* Check a sample of pages every step, and all of them now and then. */
        for (unsigned i = step % 61; i < PAGES; i += (step % 50 == 0) ? 1 : 61) {
            struct stage2_mapping m;
            int err = stage2_translate(&s2, RAM + (uint64_t)i * SZ_4K + 0x10, &m);
            if (model[i]) {
                CHECK_EQ(err, 0);
                CHECK_EQ(m.pa, model[i] - 1 + 0x10);
                blocks_seen += m.level == 2;
                CHECK_EQ(ref_walk(&s2, RAM + (uint64_t)i * SZ_4K).pa, model[i] - 1);
            } else {
                CHECK_EQ(err, -ENOENT);
            }
        }
        if (test_failed_checks)
            break;
    }
    CHECK(blocks_seen > 100); /* the mix really formed (and split) blocks */
    CHECK(s2.tlb_flushes > 10);
    CHECK_EQ(stage2_unmap(&s2, RAM, (uint64_t)PAGES * SZ_4K), 0);
    CHECK_EQ(s2.nr_tables, 0);
    stage2_destroy(&s2);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"stage2/init_and_vtcr", test_init_and_vtcr},
        {"stage2/blocks_and_pages", test_blocks_and_pages},
        {"stage2/permissions", test_permissions},
        {"stage2/overlap_refused", test_overlap_refused},
        {"stage2/unmap_and_split", test_unmap_and_split},
        {"stage2/ipa_limits", test_ipa_limits},
        {"stage2/vmid_exhaustion", test_vmid_exhaustion},
        {"stage2/out_of_memory_rolls_back", test_out_of_memory_rolls_back},
        {"stage2/random_against_model", test_random_against_model},
    };
    int rc = test_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);

    page_alloc_reset();
    free(arena);
    return rc;
}
