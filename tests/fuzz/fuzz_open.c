/* Fuzz target: open and recovery on arbitrary file bytes. The input is the
 * whole of a bucket file. A read-only handle scans it and gets every
 * record the scan yields; a writable handle then recovers it, and must
 * keep every record the reader saw (recovery only cuts a tail), take a new
 * append after them, and trim the file to exactly its records at close. */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_util.h"

#define NS "fz"
#define MAX_SEEN 4096

static char root[256], path[512];

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

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size) {
    static struct seen read_only, recovered;
    if (!*root) setup();
    unlink(path); /* a new inode: no checkpoint from the last run */
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f && fwrite(input, 1, size, f) == size && fclose(f) == 0);

    roche_db *db = fuzz_open_store(root, 1);
    scan_all(db, &read_only);
    roche_stat_info info = {.version = ROCHE_STAT_VERSION};
    FUZZ_CHECK(roche_stat(db, NS, &info) == ROCHE_OK);
    FUZZ_CHECK(roche_close(db) == ROCHE_OK);

    db = fuzz_open_store(root, 0);
    scan_all(db, &recovered);
    FUZZ_CHECK(contains(&recovered, &read_only));
    FUZZ_CHECK(roche_stat(db, NS, &info) == ROCHE_OK);
    FUZZ_CHECK(info.records == recovered.count || recovered.count == MAX_SEEN);
    uint64_t offset;
    FUZZ_CHECK(roche_append(db, NS, NULL, "after", 5, &offset) == ROCHE_OK);
    void *got;
    size_t len;
    FUZZ_CHECK(roche_get(db, NS, offset, &got, &len) == ROCHE_OK && len == 5);
    FUZZ_CHECK(memcmp(got, "after", 5) == 0);
    roche_free(got);
    FUZZ_CHECK(roche_close(db) == ROCHE_OK);
    struct stat st;
    FUZZ_CHECK(stat(path, &st) == 0 && (uint64_t)st.st_size == offset + 16 + 5);
    return 0;
}
