/* fat32_file.c - open files: nodes, read, write, truncate, stat. */
#include "fat32_priv.h"

struct fat32_node *fat32_node_find(struct fat32_vol *vol, uint32_t sector, uint32_t offset)
{
    for (struct fat32_node *n = vol->nodes; n; n = n->next)
        if (n->entry_sector == sector && n->entry_offset == offset)
            return n;
    return NULL;
}

/* Take back what was learnt about the file's chain when it was last open. */
static void node_recall_extent(struct fat32_vol *vol, struct fat32_node *n)
{
    for (unsigned i = 0; n->first_cluster && i < FAT32_EXTENTS; i++) {
        const struct fat32_extent *e = &vol->extents[i];

        if (e->first == n->first_cluster) {
            n->run_index = e->run_index;
            n->run_cluster = e->run_cluster;
            n->run_len = e->run_len;
            return;
        }
    }
}

/* Remember a closing file's extent (replacing an older one of the same chain, or the oldest). */
static void node_save_extent(struct fat32_vol *vol, const struct fat32_node *n)
{
    unsigned slot = vol->extent_next;

    if (!n->first_cluster || !n->run_len || n->unlinked)
        return;
    for (unsigned i = 0; i < FAT32_EXTENTS; i++) {
        if (vol->extents[i].first == n->first_cluster)
            slot = i;
    }
    if (slot == vol->extent_next)
        vol->extent_next = (vol->extent_next + 1) % FAT32_EXTENTS;
    vol->extents[slot] =
        (struct fat32_extent){n->first_cluster, n->run_index, n->run_cluster, n->run_len};
}

static int node_get(struct fat32_vol *vol, const struct fat_found *f, struct fat32_node **out)
{
    struct fat32_node *n = fat32_node_find(vol, f->sector, f->offset);
    uint32_t cl = fat_entry_cluster(f->ent);

    if (n) {
        n->refs++;
        *out = n;
        return 0;
    }
    if (cl != 0 && !fat_cluster_valid(vol, cl))
        return fat32_corrupt(vol, "file starts outside the volume");
    n = kzalloc(sizeof(*n));
    if (!n)
        return -ENOMEM;
    n->refs = 1;
    n->entry_sector = f->sector;
    n->entry_offset = f->offset;
    n->first_cluster = cl;
    n->size = load_le32(f->ent + DE_SIZE);
    node_recall_extent(vol, n);
    n->next = vol->nodes;
    vol->nodes = n;
    *out = n;
    return 0;
}

static int node_load(struct fat32_vol *vol, struct fat32_node *node, uint8_t **ent)
{
    int r = fat32_entry_load(vol, node->entry_sector, node->entry_offset, ent);

    if (r < 0)
        return r;
    if ((*ent)[0] == DIRENT_FREE || (*ent)[0] == DIRENT_END ||
        ((*ent)[DE_ATTR] & ATTR_LONG_MASK) == ATTR_LONG_NAME)
        return fat32_corrupt(vol, "the entry of an open file was overwritten");
    return 0;
}

/** Writes size, first cluster and a new modification stamp into the file's short entry. */
static int node_store(struct fat32_vol *vol, struct fat32_node *node)
{
    uint8_t *e;

    if (node->unlinked)
        return 0; /* no entry left to keep up to date */
    int r = node_load(vol, node, &e);
    if (r < 0)
        return r;
    fat_set_entry_cluster(e, node->first_cluster);
    store_le32(e + DE_SIZE, node->size);
    e[DE_ATTR] |= FAT32_ATTR_ARCHIVE;
    fat32_stamp_now(vol, e, false);
    return fat32_buf_store(vol);
}

int fat32_fsetattr(struct fat32_vol *vol, struct fat32_node *node, int read_only,
                   const struct fat32_time *mtime)
{
    uint8_t *e;

    if (node->unlinked)
        return 0; /* nothing keeps the attributes of a file without a name */
    int r = vol->read_only ? -EROFS : node_load(vol, node, &e);
    if (r < 0)
        return r;
    if (read_only >= 0)
        e[DE_ATTR] = (uint8_t)((e[DE_ATTR] & ~FAT32_ATTR_READ_ONLY) |
                               (read_only ? FAT32_ATTR_READ_ONLY : 0));
    if (mtime)
        fat32_stamp_mtime(e, mtime);
    return fat32_buf_store(vol);
}

/* The chain changed (trimmed, freed): what was learnt about it no longer holds. */
static void node_forget_chain(struct fat32_node *node)
{
    node->seek_cluster = 0;
    node->run_len = 0;
}

/* Whether cluster number idx of the file lies in the known extent. */
static bool node_in_run(const struct fat32_node *node, uint32_t idx)
{
    return node->run_len && idx >= node->run_index && idx - node->run_index < node->run_len;
}

/* Learn from one step of the chain: cluster number i of the file is cl, number i + 1 is next. */
static void node_note_step(struct fat32_node *node, uint32_t i, uint32_t cl, uint32_t next)
{
    if (next != cl + 1)
        return;
    if (node->run_len && i == node->run_index + node->run_len - 1 &&
        cl == node->run_cluster + node->run_len - 1) {
        node->run_len++;
    } else {
        node->run_index = i;
        node->run_cluster = cl;
        node->run_len = 2;
    }
}

/**
 * Finds cluster number idx of the file, allocating missing ones when grow is set. Returns 0,
 * 1 when the chain ends first, or an errno. The last cluster reached is remembered, so
 * sequential I/O does not walk the chain from its start each time.
 */
static int node_cluster(struct fat32_vol *vol, struct fat32_node *node, uint32_t idx, bool grow,
                        uint32_t *out)
{
    uint32_t i = 0, cl = node->first_cluster, next;
    int r;

    if (node_in_run(node, idx)) {
        *out = node->run_cluster + (idx - node->run_index);
        return 0;
    }
    if (cl == 0) {
        if (!grow)
            return 1;
        r = fat32_alloc(vol, 0, false, &cl);
        if (r < 0)
            return r;
        node->first_cluster = cl;
    } else if (node->seek_cluster && node->seek_index <= idx) {
        i = node->seek_index;
        cl = node->seek_cluster;
    }
    /* Past the extent's end: walk on from there, which also lets the extent grow. */
    if (cl && node->run_len && idx >= node->run_index + node->run_len &&
        i < node->run_index + node->run_len - 1) {
        i = node->run_index + node->run_len - 1;
        cl = node->run_cluster + node->run_len - 1;
    }
    for (; i < idx; i++) {
        if (i >= vol->nclusters)
            return fat32_corrupt(vol, "cluster chain loops");
        r = fat32_next(vol, cl, &next);
        if (r < 0)
            return r;
        if (next == 0) {
            if (!grow)
                return 1;
            r = fat32_alloc(vol, cl, false, &next);
            if (r < 0)
                return r;
        }
        node_note_step(node, i, cl, next);
        cl = next;
    }
    node->seek_index = idx;
    node->seek_cluster = cl;
    *out = cl;
    return 0;
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

/*
 * Bytes (up to want) in the clusters after number idx of the file, cluster cl, that follow cl
 * on the disk without a gap: they join cl's transfer, so an unfragmented file moves to and from
 * the disk in large requests instead of one per cluster. Allocates them for a write. The end of
 * the chain or an error just ends the run; the caller meets it again on the next cluster.
 */
static uint32_t node_contiguous(struct fat32_vol *vol, struct fat32_node *node, uint32_t idx,
                                uint32_t cl, uint32_t want, bool grow)
{
    uint32_t cs = vol->cluster_size, got = 0, next;

    /* Inside the known extent, whole stretches of clusters join at once. */
    while (got < want && node_in_run(node, idx + 1) &&
           node->run_cluster + (idx + 1 - node->run_index) == cl + 1) {
        uint32_t left = node->run_index + node->run_len - (idx + 1);
        uint64_t need = ((uint64_t)want - got + cs - 1) / cs;
        uint32_t k = need < left ? (uint32_t)need : left;

        got += (uint32_t)((uint64_t)k * cs < want - got ? (uint64_t)k * cs : want - got);
        idx += k;
        cl += k;
    }
    while (got < want && node_cluster(vol, node, idx + 1, grow, &next) == 0 && next == cl + 1) {
        got += min_u32(cs, want - got);
        idx++;
        cl = next;
    }
    return got;
}

/* Moves m bytes between one sector and the caller through the sector buffer. */
static int node_io_partial(struct fat32_vol *vol, uint32_t sector, uint32_t soff, uint32_t m,
                           const struct io_dest *rd, uint32_t rd_off, const uint8_t *wbuf,
                           bool write)
{
    int r = write && !wbuf && m == vol->bytes_per_sector ? fat32_buf_zero(vol, sector)
                                                         : fat32_buf_load(vol, sector);

    if (r < 0)
        return r;
    if (!write)
        return io_dest_put(rd, rd_off, vol->sector_buf + soff, m);
    if (wbuf)
        memcpy(vol->sector_buf + soff, wbuf, m);
    else
        memset(vol->sector_buf + soff, 0, m);
    return fat32_buf_store(vol);
}

/**
 * Reads or writes len bytes at off (a write with wbuf NULL writes zeros). Whole sectors go
 * straight between the device and the caller's buffer. Returns the bytes moved, or an errno if
 * none were.
 */
static long node_io(struct fat32_vol *vol, struct fat32_node *node, uint32_t off,
                    const struct io_dest *rd, const uint8_t *wbuf, uint32_t len, bool write)
{
    uint32_t bps = vol->bytes_per_sector, cs = vol->cluster_size, done = 0;
    int r = 0;

    while (done < len && r == 0) {
        uint32_t pos = off + done, in = pos % cs, cl = 0;
        uint32_t chunk = min_u32(len - done, cs - in);

        r = node_cluster(vol, node, pos / cs, write, &cl);
        if (r == 1)
            r = fat32_corrupt(vol, "cluster chain shorter than the file size");
        if (r < 0)
            break;
        chunk += node_contiguous(vol, node, pos / cs, cl, len - done - chunk, write);
        uint32_t sector = fat_cluster_sector(vol, cl) + in / bps, soff = in % bps;
        while (r == 0 && chunk > 0) {
            uint32_t m = min_u32(bps - soff, chunk);

            if (soff == 0 && chunk >= bps && (wbuf || !write)) {
                uint32_t ns = chunk / bps;

                m = ns * bps;
                r = write ? fat32_dev_write(vol, sector, ns, wbuf + done)
                          : fat32_dev_read_to(vol, sector, ns, rd, done);
                sector += ns;
            } else {
                r = node_io_partial(vol, sector++, soff, m, rd, done, wbuf ? wbuf + done : NULL,
                                    write);
                soff = 0;
            }
            if (r == 0) {
                done += m;
                chunk -= m;
            }
        }
    }
    return done ? (long)done : r;
}

/* Frees clusters past the end of the file, e.g. after a write that failed half way. */
static int node_fit_chain(struct fat32_vol *vol, struct fat32_node *node)
{
    uint32_t keep = (uint32_t)(((uint64_t)node->size + vol->cluster_size - 1) / vol->cluster_size);
    uint32_t first = node->first_cluster;
    int r;

    node_forget_chain(node);
    if (first == 0)
        return 0;
    if (keep > 0)
        return fat32_trim_chain(vol, first, keep);
    node->first_cluster = 0;
    r = node_store(vol, node);
    if (r < 0)
        return r;
    return fat32_free_chain(vol, first);
}

/* Writes len bytes (zeros if buf is NULL) at off, growing the file; size follows what landed. */
static long node_write(struct fat32_vol *vol, struct fat32_node *node, uint32_t off,
                       const uint8_t *buf, uint32_t len)
{
    long n = node_io(vol, node, off, NULL, buf, len, true);
    int r;

    if (n > 0 && off + (uint32_t)n > node->size)
        node->size = off + (uint32_t)n;
    r = node_store(vol, node);
    if (n >= 0 && (uint32_t)n == len)
        return r < 0 ? r : n;
    node_fit_chain(vol, node);
    return n;
}

long fat32_read_to(struct fat32_vol *vol, struct fat32_node *node, uint64_t off,
                   const struct io_dest *dst, size_t len)
{
    if (off >= node->size || len == 0)
        return 0;
    if (len > node->size - off)
        len = node->size - (uint32_t)off;
    return node_io(vol, node, (uint32_t)off, dst, NULL, (uint32_t)len, false);
}

long fat32_read(struct fat32_vol *vol, struct fat32_node *node, uint64_t off, void *buf, size_t len)
{
    struct io_dest dst = {.buf = buf};

    return fat32_read_to(vol, node, off, &dst, len);
}

long fat32_write(struct fat32_vol *vol, struct fat32_node *node, uint64_t off, const void *buf,
                 size_t len)
{
    long n;

    if (vol->read_only)
        return -EROFS;
    if (len == 0)
        return 0;
    if (off >= FAT32_FILE_MAX)
        return -EFBIG;
    if (len > FAT32_FILE_MAX - off)
        len = FAT32_FILE_MAX - (uint32_t)off;
    if (off > node->size) {
        uint32_t gap = (uint32_t)off - node->size;

        n = node_write(vol, node, node->size, NULL, gap);
        if (n < 0 || (uint32_t)n < gap)
            return n < 0 ? n : -ENOSPC;
    }
    return node_write(vol, node, (uint32_t)off, buf, (uint32_t)len);
}

int fat32_truncate(struct fat32_vol *vol, struct fat32_node *node, uint64_t size)
{
    uint32_t first = node->first_cluster, keep;
    int r;

    if (vol->read_only)
        return -EROFS;
    if (size > FAT32_FILE_MAX)
        return -EFBIG;
    if (size > node->size) {
        uint32_t gap = (uint32_t)size - node->size;
        long n = node_write(vol, node, node->size, NULL, gap);

        return n < 0 ? (int)n : (uint32_t)n < gap ? -ENOSPC : 0;
    }
    /* The entry is shortened before the chain, so a crash leaves lost clusters, not a file
     * reaching into free ones. */
    keep = (uint32_t)((size + vol->cluster_size - 1) / vol->cluster_size);
    node->size = (uint32_t)size;
    node_forget_chain(node);
    if (keep == 0)
        node->first_cluster = 0;
    r = node_store(vol, node);
    if (r < 0 || first == 0)
        return r;
    return keep == 0 ? fat32_free_chain(vol, first) : fat32_trim_chain(vol, first, keep);
}

int fat32_fstat(struct fat32_vol *vol, struct fat32_node *node, struct fat32_stat *out)
{
    uint8_t *e;

    if (node->unlinked) {
        /* What the node knows; the stamps are now (its entry is gone). */
        memset(out, 0, sizeof(*out));
        out->size = node->size;
        out->first_cluster = node->first_cluster;
        out->attr = FAT32_ATTR_ARCHIVE;
        out->mtime = (struct fat32_time){1980, 1, 1, 0, 0, 0};
        if (vol->now)
            vol->now(vol->now_ctx, &out->mtime);
        out->ctime = out->atime = out->mtime;
        return 0;
    }
    int r = node_load(vol, node, &e);
    if (r < 0)
        return r;
    fat32_entry_stat(e, out);
    return 0;
}

int fat32_stat(struct fat32_vol *vol, const char *path, struct fat32_stat *out)
{
    struct fat_lookup *lk;
    int r = fat32_lookup_alloc(vol, path, &lk);

    if (r < 0)
        return r;
    if (lk->is_root) {
        memset(lk->f.ent, 0, DIRENT_SIZE);
        lk->f.ent[DE_ATTR] = FAT32_ATTR_DIRECTORY;
        fat_set_entry_cluster(lk->f.ent, vol->root_cluster);
    } else if (!lk->found) {
        r = -ENOENT;
    }
    if (r == 0)
        fat32_entry_stat(lk->f.ent, out);
    kfree(lk);
    return r;
}

int fat32_open(struct fat32_vol *vol, const char *path, struct fat32_node **out)
{
    struct fat_lookup *lk;
    int r = fat32_lookup_alloc(vol, path, &lk);

    if (r < 0)
        return r;
    if (lk->is_root || (lk->found && fat_entry_is_dir(lk->f.ent)))
        r = -EISDIR;
    else if (!lk->found)
        r = -ENOENT;
    else
        r = node_get(vol, &lk->f, out);
    kfree(lk);
    return r;
}

int fat32_create(struct fat32_vol *vol, const char *path, struct fat32_node **out)
{
    uint8_t tmpl[DIRENT_SIZE] = {0};
    struct fat32_node *node;
    struct fat_lookup *lk;
    int r;

    r = fat32_lookup_new(vol, path, FAT32_ATTR_ARCHIVE, tmpl, &lk);
    if (r < 0)
        return r;
    r = fat32_dir_add(vol, lk->parent, lk->name, lk->name_len, tmpl, &lk->f);
    if (r == 0) {
        r = node_get(vol, &lk->f, &node);
        if (r == 0 && out)
            *out = node;
        else if (r == 0)
            fat32_close(vol, node);
    }
    kfree(lk);
    return r;
}

int fat32_close(struct fat32_vol *vol, struct fat32_node *node)
{
    for (struct fat32_node **p = &vol->nodes; *p; p = &(*p)->next) {
        if (*p != node)
            continue;
        if (--node->refs)
            return 0;
        *p = node->next;
        uint32_t cl = node->unlinked ? node->first_cluster : 0;
        node_save_extent(vol, node);
        kfree(node);
        if (cl && !fat_cluster_valid(vol, cl))
            return fat32_corrupt(vol, "unlinked file pointed outside the volume");
        return cl ? fat32_free_chain(vol, cl) : 0;
    }
    return -EBADF;
}
