/* Power-loss test: a crash-image simulator in the manner of ALICE and
 * CrashMonkey, black-box. It models the page cache itself:
 *
 *   - a workload appends into a store (ROCHE_SYNC_NEVER), calling
 *     roche_sync() at random points. Right after each sync returns, every
 *     file under the root is read with read() (the page cache, which the
 *     engine's shared mappings write into): the SYNCED state. At the crash
 *     point, more appends later and with the store still open, again: the
 *     CURRENT state.
 *   - a crash image is any state a power loss could leave: a file that
 *     existed at the sync keeps the synced or the current length, and each
 *     512-byte sector that differs is independently the synced or the
 *     current one (past the synced length: current or zeros); a file
 *     created since is absent, or present with the current length or a
 *     512-aligned prefix of it, each sector current or zeros. Some images
 *     take extremes: all new, all old, only the companions (.idx) new, only
 *     the bucket files (.raw) new, each file wholly old or new.
 *   - a power loss is a reboot: the boot id at byte 1032 of every .idx of
 *     at least 1040 bytes is flipped, so no unsynced live state is trusted.
 *
 * Each image is opened read-write (recovery), then closed and reopened
 * read-only, and checked each time: a scan yields only records appended at
 * that (namespace, offset), with exactly their bytes; every record appended
 * before the last completed roche_sync reads back (get and scan) byte for
 * byte; ROCHE_ECORRUPT from a scan is counted past the synced data and
 * fails the test inside it; a new append after recovery reads back.
 *
 * Image files keep the inodes the files had at the crash (hard links to
 * them, content rewritten in place), as after a real reboot: the companion
 * records which bucket file it describes by inode.
 *
 * ROCHE_POWERLOSS_IMAGES (default 300) images in all, 25 per workload;
 * ROCHE_SEED (default: time) replays a run. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "rel_util.h"

#define SECTOR 512u
#define MAX_VALUE (20u * 1024)
#define HEADER 16u
#define IMAGES_PER_WORKLOAD 25
#define BOOT_ID_AT 1032u
#define LOCK_FILE ".roche.lock"

static const char *const ns_pool[] = {"default", "alpha", "beta", "gamma"};
#define NS_POOL (sizeof ns_pool / sizeof *ns_pool)
#define MAX_NS 3

/* ------------------------------------------------------------------------
 * Snapshots: every file and directory under a root, path -> bytes.
 * ------------------------------------------------------------------------ */

struct file {
    char *rel; /* path under the root */
    uint8_t *data;
    size_t len;
    int is_dir;
};

struct snap {
    struct file *f;
    size_t n, cap;
};

static void snap_free(struct snap *s) {
    for (size_t i = 0; i < s->n; i++) {
        free(s->f[i].rel);
        free(s->f[i].data);
    }
    free(s->f);
    memset(s, 0, sizeof *s);
}

static char *join(const char *a, const char *b) {
    char *p = malloc(strlen(a) + strlen(b) + 2);
    CHECK(p);
    sprintf(p, "%s%s%s", a, *a && *b ? "/" : "", b);
    return p;
}

static uint8_t *read_whole(const char *path, size_t *len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    struct stat st;
    CHECK(fstat(fd, &st) == 0);
    size_t cap = (size_t)st.st_size + 1, have = 0;
    uint8_t *buf = malloc(cap);
    CHECK(buf);
    for (;;) {
        if (have == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            CHECK(buf);
        }
        ssize_t got = read(fd, buf + have, cap - have);
        if (got < 0 && errno == EINTR) continue;
        CHECK(got >= 0);
        if (got == 0) break;
        have += (size_t)got;
    }
    close(fd);
    *len = have;
    return buf;
}

static void snap_walk(struct snap *s, const char *root, const char *rel) {
    char *dir_path = join(root, rel);
    DIR *d = opendir(dir_path);
    CHECK(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (!*rel && !strcmp(e->d_name, LOCK_FILE)) continue;
        char *child = join(rel, e->d_name);
        char *path = join(root, child);
        struct stat st;
        CHECK(lstat(path, &st) == 0);
        if (s->n == s->cap) {
            s->cap = s->cap ? 2 * s->cap : 32;
            s->f = realloc(s->f, s->cap * sizeof *s->f);
            CHECK(s->f);
        }
        struct file *f = &s->f[s->n++];
        memset(f, 0, sizeof *f);
        f->rel = child;
        if (S_ISDIR(st.st_mode)) {
            f->is_dir = 1;
            snap_walk(s, root, child);
        } else if (S_ISREG(st.st_mode)) {
            f->data = read_whole(path, &f->len);
        } else {
            CHECK(!"only directories and regular files under a store's root");
        }
        free(path);
    }
    closedir(d);
    free(dir_path);
}

static int by_rel(const void *a, const void *b) {
    return strcmp(((const struct file *)a)->rel, ((const struct file *)b)->rel);
}

static void snap_take(struct snap *s, const char *root) {
    snap_free(s);
    snap_walk(s, root, "");
    if (s->n) qsort(s->f, s->n, sizeof *s->f, by_rel);
}

static const struct file *snap_find(const struct snap *s, const char *rel) {
    struct file key = {.rel = (char *)rel};
    return s->n ? bsearch(&key, s->f, s->n, sizeof *s->f, by_rel) : NULL;
}

/* ------------------------------------------------------------------------
 * The workload and what it appended.
 * ------------------------------------------------------------------------ */

struct rec {
    uint32_t ns;
    uint64_t off;
    uint32_t len;
    uint8_t *data;
    int required; /* appended before the last completed roche_sync */
    int seen[2];  /* yielded by the scan: read-write pass, read-only pass */
};

struct workload {
    long index;
    char *root;    /* the live store (removed once its files are linked) */
    char *master;  /* hard links to the files as they were at the crash */
    int linked;    /* 1: images reuse the crash-time inodes; 0: copies */
    uint32_t buckets, nns;
    const char *ns[MAX_NS];
    struct rec *r;
    size_t n, cap;
    size_t required, syncs;
    uint64_t frontier[MAX_NS][8]; /* per bucket: end of the last synced record */
    struct snap synced, current;
};

/* The record appended after recovery, checked again read-only. */
struct extra {
    int set;
    uint32_t ns;
    uint64_t off;
    uint32_t len;
    uint8_t data[4096];
    int seen[2];
};

struct tally {
    long images, passed, workloads;
    uint64_t checked, past_sync, corrupt;
};

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Bytes that look like a valid record header (u32 length, u64 time, u32
 * zlib CRC-32 of those 12 bytes) inside a value, to tempt any recovery or
 * scan that resynchronizes by looking for headers. */
static void plant_fake_header(uint8_t *v, size_t len, uint64_t *rng) {
    if (len < HEADER) return;
    size_t at = (size_t)(rel_next(rng) % (len - HEADER + 1));
    size_t rest = len - at - HEADER;
    uint32_t flen;
    switch (rel_next(rng) % 3) {
    case 0: flen = rest ? (uint32_t)(rel_next(rng) % (rest + 1)) : 0; break; /* ends inside */
    case 1: flen = (uint32_t)(rel_next(rng) % 64); break;                     /* small */
    default: flen = (uint32_t)(rest + rel_next(rng) % 4096); break;          /* runs past */
    }
    uint64_t t = now_ns() - rel_next(rng) % 1000000000ull;
    memcpy(v + at, &flen, 4);
    memcpy(v + at + 4, &t, 8);
    uint32_t crc = rel_crc(v + at, 12);
    memcpy(v + at + 12, &crc, 4);
}

static uint32_t value_length(uint64_t *rng) {
    uint64_t r = rel_next(rng);
    switch (r % 10) {
    case 0: case 1: case 2: return (uint32_t)((r >> 8) % 65);
    case 3: case 4: case 5: case 6: return (uint32_t)((r >> 8) % 2049);
    default: return (uint32_t)((r >> 8) % (MAX_VALUE + 1));
    }
}

static uint8_t *make_value(uint32_t len, uint64_t *rng) {
    uint8_t *v = malloc(len ? len : 1);
    CHECK(v);
    rel_fill(v, len, rel_next(rng));
    if (rel_next(rng) % 3 == 0) {
        int fakes = 1 + (int)(rel_next(rng) % 4);
        for (int i = 0; i < fakes; i++) plant_fake_header(v, len, rng);
    }
    return v;
}

static void add_rec(struct workload *w, uint32_t ns, uint64_t off, uint32_t len, uint8_t *data) {
    if (w->n == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 256;
        w->r = realloc(w->r, w->cap * sizeof *w->r);
        CHECK(w->r);
    }
    w->r[w->n++] = (struct rec){.ns = ns, .off = off, .len = len, .data = data};
}

static const char *ns_arg(const struct workload *w, uint32_t k, uint64_t *rng) {
    /* "default" is also reachable as NULL. */
    if (!strcmp(w->ns[k], "default") && rel_next(rng) % 2) return NULL;
    return w->ns[k];
}

static void append_one_op(struct workload *w, roche_db *db, uint64_t *rng) {
    uint32_t k = (uint32_t)(rel_next(rng) % w->nns);
    const char *ns = ns_arg(w, k, rng);
    char idbuf[16];
    const char *id = NULL;
    if (rel_next(rng) % 2) {
        snprintf(idbuf, sizeof idbuf, "id%u", (unsigned)(rel_next(rng) % 8));
        id = idbuf;
    }
    if (rel_next(rng) % 10 == 0) {
        size_t count = 2 + (size_t)(rel_next(rng) % 5), total = 0;
        size_t lens[6];
        uint8_t *vals[6];
        uint64_t offs[6];
        for (size_t i = 0; i < count; i++) {
            lens[i] = value_length(rng);
            vals[i] = make_value((uint32_t)lens[i], rng);
            total += lens[i];
        }
        uint8_t *all = malloc(total ? total : 1), *p = all;
        CHECK(all);
        for (size_t i = 0; i < count; i++) {
            memcpy(p, vals[i], lens[i]);
            p += lens[i];
        }
        CHECK_OK(roche_append_many(db, ns, id, all, lens, count, offs));
        free(all);
        for (size_t i = 0; i < count; i++) add_rec(w, k, offs[i], (uint32_t)lens[i], vals[i]);
    } else {
        uint32_t len = value_length(rng);
        uint8_t *v = make_value(len, rng);
        uint64_t off;
        CHECK_OK(roche_append(db, ns, id, v, len, &off));
        add_rec(w, k, off, len, v);
    }
}

static void mark_synced(struct workload *w) {
    w->required = w->n;
    w->syncs++;
    for (size_t i = 0; i < w->n; i++) w->r[i].required = 1;
}

static int by_ns_off(const void *a, const void *b) {
    const struct rec *x = a, *y = b;
    if (x->ns != y->ns) return x->ns < y->ns ? -1 : 1;
    return x->off < y->off ? -1 : x->off > y->off;
}

static struct rec *find_rec(struct workload *w, uint32_t ns, uint64_t off) {
    struct rec key = {.ns = ns, .off = off};
    return w->n ? bsearch(&key, w->r, w->n, sizeof *w->r, by_ns_off) : NULL;
}

/* Links every file of the live store (at the crash) into w->master, so the
 * images can reuse the inodes; w->linked says whether that worked. */
static void link_master(struct workload *w) {
    w->master = rel_tempdir("powerloss-master");
    w->linked = 1;
    for (size_t i = 0; i < w->current.n && w->linked; i++) {
        const struct file *f = &w->current.f[i];
        char *from = join(w->root, f->rel), *to = join(w->master, f->rel);
        if (f->is_dir)
            CHECK(mkdir(to, 0755) == 0);
        else if (link(from, to) != 0)
            w->linked = 0;
        free(from);
        free(to);
    }
}

static void run_workload(struct workload *w, uint64_t *rng) {
    w->root = rel_tempdir("powerloss-live");
    w->buckets = 2 + (uint32_t)(rel_next(rng) % 3);
    w->nns = 1 + (uint32_t)(rel_next(rng) % MAX_NS);
    uint32_t first = (uint32_t)(rel_next(rng) % NS_POOL);
    for (uint32_t k = 0; k < w->nns; k++) w->ns[k] = ns_pool[(first + k) % NS_POOL];

    roche_options *opts = roche_options_new();
    CHECK(opts);
    CHECK_OK(roche_options_set_buckets(opts, w->buckets));
    CHECK_OK(roche_options_set_sync(opts, ROCHE_SYNC_NEVER));
    roche_db *db;
    CHECK_OK(roche_open(w->root, opts, &db));
    roche_options_free(opts);

    /* Nothing is durable before the first sync but the empty root. */
    long ops = 40 + (long)(rel_next(rng) % 160);
    long last_sync = rel_next(rng) % 8 == 0 ? -1 : (long)(rel_next(rng) % (uint64_t)(ops - 1));
    for (long i = 0; i < ops; i++) {
        append_one_op(w, db, rng);
        if (i == last_sync || (i < last_sync && rel_next(rng) % 20 == 0)) {
            CHECK_OK(roche_sync(db));
            mark_synced(w);
            snap_take(&w->synced, w->root);
        }
    }
    /* The crash point: the store is still open. */
    snap_take(&w->current, w->root);
    link_master(w);
    CHECK_OK(roche_close(db));
    rel_rmdir(w->root);
    w->root = NULL;

    qsort(w->r, w->n, sizeof *w->r, by_ns_off);
    memset(w->frontier, 0, sizeof w->frontier);
    for (size_t i = 0; i < w->n; i++) {
        const struct rec *r = &w->r[i];
        uint64_t b = r->off >> ROCHE_OFFSET_BITS, end = (r->off & ((1ull << ROCHE_OFFSET_BITS) - 1)) + HEADER + r->len;
        CHECK(b < 8);
        if (r->required && end > w->frontier[r->ns][b]) w->frontier[r->ns][b] = end;
    }
}

static void free_workload(struct workload *w) {
    for (size_t i = 0; i < w->n; i++) free(w->r[i].data);
    free(w->r);
    snap_free(&w->synced);
    snap_free(&w->current);
    if (w->master) rel_rmdir(w->master);
    memset(w, 0, sizeof *w);
}

/* ------------------------------------------------------------------------
 * Crash images.
 * ------------------------------------------------------------------------ */

enum mode { MIXED, ALL_NEW, ALL_OLD, IDX_NEW, RAW_NEW, WHOLE_FILES };
static const char *const mode_names[] = {
    "mixed sectors", "all new (current state)", "all old (synced state)",
    "only companion (.idx) files new", "only bucket (.raw) files new", "each file wholly old or new"};

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

static int chance(uint64_t *rng, unsigned percent) {
    return percent >= 100 ? 1 : percent == 0 ? 0 : rel_next(rng) % 100 < percent;
}

static void mkdir_p(const char *path) {
    char *p = strdup(path);
    CHECK(p);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = 0;
        CHECK(mkdir(p, 0755) == 0 || errno == EEXIST);
        *s = '/';
    }
    CHECK(mkdir(p, 0755) == 0 || errno == EEXIST);
    free(p);
}

static void mkdir_parent(const char *path) {
    char *p = strdup(path);
    CHECK(p);
    char *slash = strrchr(p, '/');
    if (slash) {
        *slash = 0;
        mkdir_p(p);
    }
    free(p);
}

/* Writes len bytes of buf as the file at path: over the crash-time inode
 * (linked from master) when there is one, skipping zero sectors. */
static void write_image_file(const struct workload *w, const char *dir, const char *rel,
                             const uint8_t *buf, size_t len) {
    char *path = join(dir, rel);
    mkdir_parent(path);
    if (w->linked) {
        char *from = join(w->master, rel);
        CHECK(link(from, path) == 0);
        free(from);
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    CHECK(fd >= 0);
    /* A fresh file's content, and no extended attribute the engine left on
     * the shared inode: only bytes are modelled. */
    char names[4096];
    ssize_t nl = flistxattr(fd, names, sizeof names);
    for (ssize_t i = 0; i < nl; i += (ssize_t)strlen(names + i) + 1)
        if (!strncmp(names + i, "user.", 5)) CHECK(fremovexattr(fd, names + i) == 0);
    CHECK(ftruncate(fd, 0) == 0);
    CHECK(ftruncate(fd, (off_t)len) == 0);
    static const uint8_t zero[SECTOR];
    size_t s = 0;
    while (s < len) {
        size_t n = len - s < SECTOR ? len - s : SECTOR;
        if (!memcmp(buf + s, zero, n)) {
            s += n;
            continue;
        }
        size_t e = s;
        for (;;) {
            size_t m = len - e < SECTOR ? len - e : SECTOR;
            if (e >= len || !memcmp(buf + e, zero, m)) break;
            e += m;
        }
        for (size_t done = s; done < e;) {
            ssize_t put = pwrite(fd, buf + done, e - done, (off_t)done);
            if (put < 0 && errno == EINTR) continue;
            CHECK(put > 0);
            done += (size_t)put;
        }
        s = e;
    }
    CHECK(close(fd) == 0);
    free(path);
}

static uint8_t *image_buf;
static size_t image_cap;

static uint8_t *image_space(size_t len) {
    if (len > image_cap) {
        image_cap = len;
        image_buf = realloc(image_buf, image_cap);
        CHECK(image_buf);
    }
    return image_buf;
}

/* Byte range [at, at+n) of a file, zero past its end. */
static void bytes_of(const struct file *f, size_t at, size_t n, uint8_t *out) {
    size_t have = f && at < f->len ? (f->len - at < n ? f->len - at : n) : 0;
    if (have) memcpy(out, f->data + at, have);
    memset(out + have, 0, n - have);
}

/* Builds one crash image into dir from its seed alone (so a failing image
 * can be built again, untouched by recovery). Returns its mode. */
static enum mode build_image(const struct workload *w, uint64_t seed, const char *dir) {
    uint64_t rng = seed;
    uint64_t r = rel_next(&rng) % 100;
    enum mode mode = r < 50 ? MIXED : r < 60 ? ALL_NEW : r < 70 ? ALL_OLD
                   : r < 80 ? IDX_NEW : r < 90 ? RAW_NEW : WHOLE_FILES;
    static const unsigned mix_percent[] = {10, 50, 90};
    unsigned mix = mix_percent[rel_next(&rng) % 3];
    uint8_t old_s[SECTOR], new_s[SECTOR];

    /* Names persist in the order they were made (the journals of ext4 and
     * XFS commit them in order, and libroche relies on it): a file made
     * since the sync is only in the image if its directory is, and a
     * bucket file only if its companion, made just before it, is. Paths
     * sort parents first and ".idx" before ".raw", so the decision about
     * what must come first is already made when it is needed. */
    static char *present;
    present = realloc(present, w->current.n ? w->current.n : 1);
    CHECK(present);
    memset(present, 0, w->current.n);
    for (size_t i = 0; i < w->current.n; i++) {
        const struct file *c = &w->current.f[i];
        const struct file *o = snap_find(&w->synced, c->rel);
        int prior_ok = 1; /* what must exist before this name does */
        if (!o) {
            char before[4096];
            snprintf(before, sizeof before, "%s", c->rel);
            char *slash = strrchr(before, '/');
            if (slash) {
                *slash = 0;
                const struct file *parent = snap_find(&w->current, before);
                if (parent && !snap_find(&w->synced, before)) prior_ok = present[parent - w->current.f];
            }
            size_t blen = strlen(c->rel);
            if (prior_ok && ends_with(c->rel, ".raw") && blen < sizeof before) {
                snprintf(before, sizeof before, "%.*s.idx", (int)(blen - 4), c->rel);
                const struct file *idx = snap_find(&w->current, before);
                if (idx && !snap_find(&w->synced, before)) prior_ok = present[idx - w->current.f];
            }
        }
        if (c->is_dir) {
            char *path = join(dir, c->rel);
            if (o || (prior_ok && rel_next(&rng) % 2)) {
                mkdir_p(path);
                present[i] = 1;
            }
            free(path);
            continue;
        }
        /* pnew: chance a differing sector is the current one; len_mode:
         * 0 synced length, 1 current length, 2 either. */
        unsigned pnew = 0;
        int len_mode = 0;
        int is_idx = ends_with(c->rel, ".idx"), is_raw = ends_with(c->rel, ".raw");
        switch (mode) {
        case MIXED: pnew = mix, len_mode = 2; break;
        case ALL_NEW: pnew = 100, len_mode = 1; break;
        case ALL_OLD: pnew = 0, len_mode = 0; break;
        case IDX_NEW: pnew = is_idx ? 100 : 0, len_mode = is_idx; break;
        case RAW_NEW: pnew = is_raw ? 100 : 0, len_mode = is_raw; break;
        case WHOLE_FILES: pnew = rel_next(&rng) % 2 ? 100 : 0, len_mode = pnew == 100; break;
        }
        size_t len;
        uint8_t *buf;
        if (!o) {
            /* Created since the sync: absent, or some of it. */
            int here = pnew == 100 ? 1 : pnew == 0 ? 0 : (int)(rel_next(&rng) % 2);
            if (!here || !prior_ok) continue;
            present[i] = 1;
            len = c->len;
            if (len_mode == 2 && rel_next(&rng) % 2)
                len = (size_t)(rel_next(&rng) % (c->len / SECTOR + 1)) * SECTOR;
            buf = image_space(len);
            for (size_t s = 0; s < len; s += SECTOR) {
                size_t n = len - s < SECTOR ? len - s : SECTOR;
                if (chance(&rng, pnew)) memcpy(buf + s, c->data + s, n);
                else memset(buf + s, 0, n);
            }
        } else {
            len = len_mode == 0 ? o->len : len_mode == 1 ? c->len : rel_next(&rng) % 2 ? o->len : c->len;
            buf = image_space(len);
            for (size_t s = 0; s < len; s += SECTOR) {
                size_t n = len - s < SECTOR ? len - s : SECTOR;
                bytes_of(o, s, n, old_s);
                bytes_of(c, s, n, new_s);
                int same = !memcmp(old_s, new_s, n);
                memcpy(buf + s, same || chance(&rng, pnew) ? new_s : old_s, n);
            }
        }
        /* The reboot: the companion's live state was written in another boot. */
        if (is_idx && len >= BOOT_ID_AT + 8)
            for (size_t b = BOOT_ID_AT; b < BOOT_ID_AT + 8; b++) buf[b] = (uint8_t)~buf[b];
        write_image_file(w, dir, c->rel, buf, len);
    }
    /* Files of the sync that are gone now (none expected): old or absent. */
    for (size_t i = 0; i < w->synced.n; i++) {
        const struct file *o = &w->synced.f[i];
        if (o->is_dir || snap_find(&w->current, o->rel)) continue;
        if (mode == ALL_NEW || ((mode == MIXED || mode == WHOLE_FILES) && rel_next(&rng) % 2)) continue;
        struct workload copy = *w;
        copy.linked = 0;
        write_image_file(&copy, dir, o->rel, o->data, o->len);
    }
    return mode;
}

/* ------------------------------------------------------------------------
 * Checking an image.
 * ------------------------------------------------------------------------ */

static struct {
    uint64_t run_seed;
    long images_total;
    struct workload *w;
    long image;
    uint64_t image_seed;
    enum mode mode;
    const char *phase;
    const char *dir;
    struct tally *tally;
} ctx;

static void violation(const char *fmt, ...) {
    fflush(stdout);
    fprintf(stderr, "\npowerloss: FAILED (ROCHE_SEED=%llu, workload %ld, image %ld of that workload, "
                    "%s; %s):\n  ",
            (unsigned long long)ctx.run_seed, ctx.w ? ctx.w->index : -1L, ctx.image,
            mode_names[ctx.mode], ctx.phase);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    if (ctx.w) {
        fprintf(stderr, "  workload: %u buckets, namespaces", ctx.w->buckets);
        for (uint32_t k = 0; k < ctx.w->nns; k++) fprintf(stderr, " %s", ctx.w->ns[k]);
        fprintf(stderr, "; %zu records, %zu before the last completed roche_sync (%zu syncs)\n",
                ctx.w->n, ctx.w->required, ctx.w->syncs);
    }
    if (ctx.dir) {
        fprintf(stderr, "  the image, as recovery left it, is kept at %s\n", ctx.dir);
        if (ctx.w) {
            char *pristine = rel_tempdir("powerloss-pristine");
            struct workload copy = *ctx.w;
            copy.linked = 0; /* a copy: the crash-time inodes are in use above */
            build_image(&copy, ctx.image_seed, pristine);
            fprintf(stderr, "  the image as built, before recovery (plain copies, so new inodes), is at %s\n",
                    pristine);
            fprintf(stderr, "  (hard links to the crash-time inodes: %s; master links kept at %s)\n",
                    ctx.w->linked ? "yes" : "no, copies", ctx.w->master);
        }
    }
    fprintf(stderr, "  replay: ROCHE_SEED=%llu ROCHE_POWERLOSS_IMAGES=%ld rel_powerloss\n",
            (unsigned long long)ctx.run_seed, ctx.images_total);
    if (ctx.tally)
        fprintf(stderr, "powerloss: %ld passed, 1 failed\n", ctx.tally->passed);
    fflush(stderr);
    _exit(1);
}

/* A code with the library's detail; call right after the failing call. */
static const char *rc_text(int rc) {
    static char buf[1024];
    if (rc == ROCHE_OK) return "ROCHE_OK";
    snprintf(buf, sizeof buf, "%d (%s: %s)", rc, roche_strerror(rc), roche_last_error());
    return buf;
}

static uint64_t pos_of(uint64_t off) { return off & ((1ull << ROCHE_OFFSET_BITS) - 1); }

static void describe(char *out, size_t cap, const struct workload *w, uint32_t ns, uint64_t off,
                     const struct rec *r) {
    snprintf(out, cap, "namespace \"%s\", offset %llu (bucket %llu, byte %llu)%s%s", w->ns[ns],
             (unsigned long long)off, (unsigned long long)(off >> ROCHE_OFFSET_BITS),
             (unsigned long long)pos_of(off), r ? ", " : "",
             r ? (r->required ? "appended before the last completed roche_sync"
                              : "appended after the last completed roche_sync")
               : "");
}

static size_t first_difference(const uint8_t *a, const uint8_t *b, size_t n) {
    size_t i = 0;
    while (i < n && a[i] == b[i]) i++;
    return i;
}

static void expect_bytes(const struct workload *w, const struct rec *r, const void *data, size_t len,
                         const char *who) {
    if (len == r->len && (len == 0 || !memcmp(data, r->data, len))) return;
    char where[256];
    describe(where, sizeof where, w, r->ns, r->off, r);
    size_t common = len < r->len ? len : r->len;
    violation("%s: %s returned %zu bytes where %u were appended; first difference at byte %zu "
              "of the value (torn or stale data returned as a record)",
              where, who, len, r->len, first_difference(data, r->data, common));
}

static void scan_namespace(struct workload *w, roche_db *db, const char *name, int ns,
                           struct extra *x, int pass) {
    roche_scan *scan = NULL;
    int rc = roche_scan_open(db, name, 0, &scan);
    if (rc != ROCHE_OK) violation("roche_scan_open of namespace \"%s\" gives %s", name, rc_text(rc));
    uint64_t off = 0, last = 0;
    const void *data;
    size_t len;
    int have_last = 0;
    for (;;) {
        rc = roche_scan_next(scan, &off, &data, &len, NULL);
        if (rc == ROCHE_DONE) break;
        if (rc != ROCHE_OK && rc != ROCHE_ECORRUPT)
            violation("roche_scan_next in namespace \"%s\" gives %s", name, rc_text(rc));
        if (have_last && off <= last)
            violation("the scan of namespace \"%s\" went from offset %llu back to %llu", name,
                      (unsigned long long)last, (unsigned long long)off);
        have_last = 1;
        last = off;
        if (ns < 0) {
            violation("the scan of namespace \"%s\", which the workload never wrote, yields %s at "
                      "offset %llu", name, rc == ROCHE_OK ? "a record" : "ROCHE_ECORRUPT",
                      (unsigned long long)off);
        }
        char where[256];
        if (rc == ROCHE_ECORRUPT) {
            uint64_t b = off >> ROCHE_OFFSET_BITS;
            uint64_t synced_end = b < 8 ? w->frontier[ns][b] : 0;
            if (pos_of(off) < synced_end) {
                describe(where, sizeof where, w, (uint32_t)ns, off, find_rec(w, (uint32_t)ns, off));
                violation("%s: the scan reports ROCHE_ECORRUPT inside the data synced before the "
                          "crash (the synced records of that bucket end at byte %llu)",
                          where, (unsigned long long)synced_end);
            }
            ctx.tally->corrupt++;
            continue;
        }
        if (x->set && x->ns == (uint32_t)ns && x->off == off) {
            if (len != x->len || memcmp(data, x->data, len))
                violation("the record appended after recovery at offset %llu scans back changed",
                          (unsigned long long)off);
            x->seen[pass] = 1;
            continue;
        }
        struct rec *r = find_rec(w, (uint32_t)ns, off);
        if (!r) {
            describe(where, sizeof where, w, (uint32_t)ns, off, NULL);
            violation("%s: the scan yields a record of %zu bytes where no append returned an "
                      "offset (garbage returned as data)", where, len);
        }
        expect_bytes(w, r, data, len, "the scan");
        r->seen[pass] = 1;
        if (!r->required && pass == 0) ctx.tally->past_sync++;
    }
    roche_scan_free(scan);
}

static void scan_all(struct workload *w, roche_db *db, struct extra *x, int pass) {
    char *names = NULL;
    size_t count = 0;
    int rc = roche_namespaces(db, &names, &count);
    if (rc != ROCHE_OK) violation("roche_namespaces gives %s", rc_text(rc));
    const char *p = names;
    for (size_t i = 0; i < count; i++, p += strlen(p) + 1) {
        int ns = -1;
        for (uint32_t k = 0; k < w->nns; k++)
            if (!strcmp(w->ns[k], p)) ns = (int)k;
        scan_namespace(w, db, p, ns, x, pass);
    }
    roche_free(names);
}

static void check_gets(struct workload *w, roche_db *db, struct extra *x, int pass) {
    char where[256];
    for (size_t i = 0; i < w->n; i++) {
        struct rec *r = &w->r[i];
        void *data = NULL;
        size_t len = 0;
        int rc = roche_get(db, w->ns[r->ns], r->off, &data, &len);
        describe(where, sizeof where, w, r->ns, r->off, r);
        if (x->set && x->ns == r->ns && x->off == r->off && !r->seen[0]) {
            /* A record lost in the crash whose place the append after
             * recovery took: that record is what reads back there now. */
            if (pass == 1 && rc == ROCHE_OK && len == x->len && !memcmp(data, x->data, len)) {
                roche_free(data);
                ctx.tally->checked++;
                continue;
            }
        }
        if (rc == ROCHE_OK) {
            expect_bytes(w, r, data, len, "roche_get");
            roche_free(data);
            if (!r->seen[pass])
                violation("%s: roche_get returns it, but the scan did not yield it", where);
        } else if (r->required) {
            violation("%s: lost: roche_get gives %s (%u bytes; scan %s it)", where, rc_text(rc),
                      r->len, r->seen[pass] ? "yielded" : "did not yield");
        } else if (rc != ROCHE_ENOTFOUND && rc != ROCHE_ECORRUPT) {
            violation("%s: roche_get gives %s", where, rc_text(rc));
        } else if (r->seen[pass]) {
            violation("%s: the scan yielded it, but roche_get gives %s", where, rc_text(rc));
        }
        if (pass == 1 && r->seen[0] != r->seen[1])
            violation("%s: the read-write handle's scan %s it, the read-only reopen's %s", where,
                      r->seen[0] ? "yielded" : "did not yield", r->seen[1] ? "does" : "does not");
        ctx.tally->checked++;
    }
    if (x->set) {
        void *data = NULL;
        size_t len = 0;
        int rc = roche_get(db, w->ns[x->ns], x->off, &data, &len);
        if (rc != ROCHE_OK || len != x->len || memcmp(data, x->data, len))
            violation("the record appended after recovery (namespace \"%s\", offset %llu, %u bytes) "
                      "reads back as %s, %zu bytes", w->ns[x->ns], (unsigned long long)x->off,
                      x->len, rc_text(rc), len);
        roche_free(data);
        if (pass == 1 && !x->seen[1])
            violation("the record appended after recovery at offset %llu is not in the scan",
                      (unsigned long long)x->off);
    }
}

/* Recovery must leave a usable store: one more append lands past every
 * record the scan showed in its bucket and reads back. */
static void append_after_recovery(struct workload *w, roche_db *db, struct extra *x, uint64_t *rng) {
    x->ns = (uint32_t)(rel_next(rng) % w->nns);
    x->len = (uint32_t)(rel_next(rng) % sizeof x->data);
    rel_fill(x->data, x->len, rel_next(rng));
    char idbuf[16];
    snprintf(idbuf, sizeof idbuf, "id%u", (unsigned)(rel_next(rng) % 8));
    const char *id = rel_next(rng) % 2 ? idbuf : NULL;
    int rc = roche_append(db, ns_arg(w, x->ns, rng), id, x->data, x->len, &x->off);
    if (rc != ROCHE_OK) violation("an append after recovery gives %s", rc_text(rc));
    x->set = 1;
    for (size_t i = 0; i < w->n; i++) {
        const struct rec *r = &w->r[i];
        if (!r->seen[0] || r->ns != x->ns || r->off >> ROCHE_OFFSET_BITS != x->off >> ROCHE_OFFSET_BITS)
            continue;
        if (r->off + HEADER + r->len > x->off) {
            char where[256];
            describe(where, sizeof where, w, r->ns, r->off, r);
            violation("the append after recovery got offset %llu, inside the record at %s",
                      (unsigned long long)x->off, where);
        }
    }
    void *data = NULL;
    size_t len = 0;
    rc = roche_get(db, w->ns[x->ns], x->off, &data, &len);
    if (rc != ROCHE_OK || len != x->len || memcmp(data, x->data, len))
        violation("the record appended after recovery at offset %llu reads back as %s, %zu bytes",
                  (unsigned long long)x->off, rc_text(rc), len);
    roche_free(data);
}

static void check_image(struct workload *w, const char *dir, uint64_t *rng) {
    for (size_t i = 0; i < w->n; i++) w->r[i].seen[0] = w->r[i].seen[1] = 0;
    struct extra x;
    memset(&x, 0, sizeof x);

    ctx.phase = "read-write open (recovery)";
    roche_db *db = NULL;
    int rc = rel_open(dir, w->buckets, 0, &db);
    if (rc != ROCHE_OK) violation("opening the image read-write gives %s", rc_text(rc));
    ctx.phase = "read-write handle after recovery";
    scan_all(w, db, &x, 0);
    check_gets(w, db, &x, 0);
    append_after_recovery(w, db, &x, rng);
    rc = roche_close(db);
    if (rc != ROCHE_OK) violation("closing the recovered image gives %s", rc_text(rc));

    ctx.phase = "read-only reopen after close";
    rc = rel_open(dir, w->buckets, 1, &db);
    if (rc != ROCHE_OK) violation("reopening the image read-only gives %s", rc_text(rc));
    scan_all(w, db, &x, 1);
    check_gets(w, db, &x, 1);
    CHECK_OK(roche_close(db));
}

int main(void) {
    long images = env_long("ROCHE_POWERLOSS_IMAGES", 300);
    uint64_t rng = (uint64_t)env_long("ROCHE_SEED", (long)time(NULL));
    ctx.run_seed = rng;
    ctx.images_total = images;
    long workloads = (images + IMAGES_PER_WORKLOAD - 1) / IMAGES_PER_WORKLOAD;
    printf("powerloss: %ld images over %ld workloads, ROCHE_SEED=%llu\n", images, workloads,
           (unsigned long long)rng);
    fflush(stdout);
    struct tally t = {0};
    ctx.tally = &t;
    int warned_copies = 0;
    time_t started = time(NULL);
    for (long wi = 0; wi < workloads; wi++) {
        struct workload w;
        memset(&w, 0, sizeof w);
        w.index = wi;
        ctx.w = NULL;
        ctx.dir = NULL;
        run_workload(&w, &rng);
        ctx.w = &w;
        t.workloads++;
        if (!w.linked && !warned_copies) {
            printf("powerloss: note: hard links failed, images are plain copies (new inodes)\n");
            warned_copies = 1;
        }
        long count = images - wi * IMAGES_PER_WORKLOAD;
        if (count > IMAGES_PER_WORKLOAD) count = IMAGES_PER_WORKLOAD;
        for (long i = 0; i < count; i++) {
            char *dir = rel_tempdir("powerloss-image");
            ctx.image = i;
            ctx.dir = dir;
            ctx.image_seed = rel_next(&rng);
            ctx.phase = "building the image";
            ctx.mode = build_image(&w, ctx.image_seed, dir);
            t.images++;
            uint64_t check_rng = rel_next(&rng);
            check_image(&w, dir, &check_rng);
            t.passed++;
            ctx.dir = NULL;
            rel_rmdir(dir);
            if (t.images % 1000 == 0) {
                printf("powerloss: %ld images, %lds\n", t.images, (long)(time(NULL) - started));
                fflush(stdout);
            }
        }
        free_workload(&w);
    }
    free(image_buf);
    printf("powerloss: %ld images built from %ld workloads in %lds; %llu records checked, "
           "%llu present past the sync point, %llu ROCHE_ECORRUPT seen past it\n",
           t.images, t.workloads, (long)(time(NULL) - started), (unsigned long long)t.checked,
           (unsigned long long)t.past_sync, (unsigned long long)t.corrupt);
    printf("powerloss: %ld passed, 0 failed\n", t.passed);
    return 0;
}
