/* Fuzz target: open and recovery on arbitrary file bytes. The input is the
 * whole of a bucket file in rochefort's own format: no companion index
 * (append.0.idx) beside it. A read-only handle checks headers only: it
 * scans from the start to the first header that fails, and gets every
 * record the scan yields. A writable handle then builds the companion from
 * the same headers, so it must keep exactly the records the reader saw; it
 * saves the cut tail, if it holds a non-zero byte, byte for byte in
 * append.0.raw.cut-<position> and reports its length; it takes a new
 * append after the records and trims the file to exactly them at close.
 * A read-only handle, now reading through the companion, sees the same. */
#define _GNU_SOURCE
#include <glob.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_util.h"

#define NS "fz"
#define MAX_SEEN 4096

static char root[256], path[512], idx[512];

struct seen {
    uint64_t offset[MAX_SEEN];
    size_t len[MAX_SEEN];
    uint32_t digest[MAX_SEEN];
    size_t count;
};

static uint32_t digest(const uint8_t *p, size_t n) {
    uint32_t h = 2166136261u; /* FNV-1a: enough to tell values apart */
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

static void setup(void) {
    snprintf(root, sizeof root, "/tmp/roche-fuzz-open-%d", (int)getpid());
    mkdir(root, 0755);
    snprintf(path, sizeof path, "%s/" NS, root);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/" NS "/append.0.raw", root);
    snprintf(idx, sizeof idx, "%s/" NS "/append.0.idx", root);
}

/* Removes the tails recovery saved aside in earlier runs. */
static void remove_saved_tails(void) {
    char pattern[600];
    snprintf(pattern, sizeof pattern, "%s.cut-*", path);
    glob_t g;
    if (glob(pattern, 0, NULL, &g) == 0)
        for (size_t i = 0; i < g.gl_pathc; i++) FUZZ_CHECK(unlink(g.gl_pathv[i]) == 0);
    globfree(&g);
}

/* The tail saved aside at pos holds exactly expect[0..len); len 0: none. */
static void check_saved_tail(uint64_t pos, const uint8_t *expect, size_t len) {
    char name[600];
    snprintf(name, sizeof name, "%s.cut-%llu", path, (unsigned long long)pos);
    FILE *f = fopen(name, "rb");
    if (len == 0) {
        FUZZ_CHECK(!f);
        return;
    }
    FUZZ_CHECK(f);
    uint8_t *got = malloc(len + 1);
    FUZZ_CHECK(got);
    FUZZ_CHECK(fread(got, 1, len + 1, f) == len && memcmp(got, expect, len) == 0);
    free(got);
    fclose(f);
}

/* Scans the namespace; every record also reads back through get. */
static void scan_all(roche_db *db, struct seen *s) {
    roche_scan *scan;
    FUZZ_CHECK(roche_scan_open(db, NS, 0, &scan) == ROCHE_OK);
    uint64_t offset, last = 0;
    const void *data;
    size_t len;
    int rc;
    s->count = 0;
    while ((rc = roche_scan_next(scan, &offset, &data, &len, NULL)) == ROCHE_OK) {
        FUZZ_CHECK(s->count == 0 || offset > last);
        last = offset;
        void *got;
        size_t got_len;
        FUZZ_CHECK(roche_get(db, NS, offset, &got, &got_len) == ROCHE_OK);
        FUZZ_CHECK(got_len == len && memcmp(got, data, len) == 0);
        roche_free(got);
        if (s->count < MAX_SEEN) {
            s->offset[s->count] = offset;
            s->len[s->count] = len;
            s->digest[s->count++] = digest(data, len);
        }
    }
    FUZZ_CHECK(rc == ROCHE_DONE);
    roche_scan_free(scan);
}

/* 1 when every record of sub is in all, with the same value. */
static int contains(const struct seen *all, const struct seen *sub) {
    size_t j = 0;
    for (size_t i = 0; i < sub->count; i++) {
        while (j < all->count && all->offset[j] < sub->offset[i]) j++;
        if (j == all->count || all->offset[j] != sub->offset[i] || all->len[j] != sub->len[i] ||
            all->digest[j] != sub->digest[i])
            return 0;
    }
    return 1;
}

/* 1 when a and b hold the same records. */
static int same(const struct seen *a, const struct seen *b) {
    return a->count == b->count && contains(a, b) && contains(b, a);
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size) {
    static struct seen read_only, recovered, reread;
    if (!*root) setup();
    /* A file written by another tool: no companion, nothing saved aside. */
    unlink(path);
    unlink(idx);
    remove_saved_tails();
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f && fwrite(input, 1, size, f) == size && fclose(f) == 0);

    roche_db *db = fuzz_open_store(root, 1);
    scan_all(db, &read_only);
    roche_stat_info info = {.version = ROCHE_STAT_VERSION};
    FUZZ_CHECK(roche_stat(db, NS, &info) == ROCHE_OK);
    FUZZ_CHECK(info.records == read_only.count || read_only.count == MAX_SEEN);
    FUZZ_CHECK(roche_close(db) == ROCHE_OK);
    FUZZ_CHECK(access(idx, F_OK) != 0); /* a reader creates nothing */

    db = fuzz_open_store(root, 0);
    scan_all(db, &recovered);
    FUZZ_CHECK(same(&recovered, &read_only));
    FUZZ_CHECK(roche_stat(db, NS, &info) == ROCHE_OK);
    FUZZ_CHECK(info.records == recovered.count || recovered.count == MAX_SEEN);
    FUZZ_CHECK(info.damaged_ranges == 0 && info.damaged_bytes == 0);
    uint64_t offset;
    FUZZ_CHECK(roche_append(db, NS, NULL, "after", 5, &offset) == ROCHE_OK);
    /* offset is where the records end (bucket 0): the rest was cut. */
    FUZZ_CHECK(offset <= size);
    size_t written = size;
    while (written > offset && !input[written - 1]) written--;
    FUZZ_CHECK(info.recovered_bytes == written - offset);
    check_saved_tail(offset, input + offset, written - offset);
    void *got;
    size_t len;
    FUZZ_CHECK(roche_get(db, NS, offset, &got, &len) == ROCHE_OK && len == 5);
    FUZZ_CHECK(memcmp(got, "after", 5) == 0);
    roche_free(got);
    FUZZ_CHECK(roche_close(db) == ROCHE_OK);
    struct stat st;
    FUZZ_CHECK(stat(path, &st) == 0 && (uint64_t)st.st_size == offset + 16 + 5);

    /* Through the companion the writable open built: the same records,
     * then the new one. */
    db = fuzz_open_store(root, 1);
    scan_all(db, &reread);
    FUZZ_CHECK(reread.count == recovered.count + 1 || recovered.count == MAX_SEEN);
    if (recovered.count < MAX_SEEN) {
        FUZZ_CHECK(reread.offset[recovered.count] == offset && reread.len[recovered.count] == 5);
        reread.count--;
        FUZZ_CHECK(same(&reread, &recovered));
    }
    FUZZ_CHECK(roche_close(db) == ROCHE_OK);
    return 0;
}
