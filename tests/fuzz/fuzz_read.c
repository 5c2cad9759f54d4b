/* Fuzz target: get, multiget and scan on arbitrary offsets. A store with
 * known records in two buckets is built once; the input is a list of
 * little-endian u64 offsets. Every get returns the record there exactly;
 * an offset inside a record (where none starts) is ROCHE_ECORRUPT, one at
 * or past the end of its bucket, or in a bucket with no file, is
 * ROCHE_ENOTFOUND; a multiget gives each item the same answer; a scan from
 * any offset starts at the first record at or after it. Checked on a
 * writable and on a read-only handle (which reads through the companion
 * index the writer keeps). */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_util.h"

#define NS "fz"
#define RECORDS 24
#define MAX_OFFSETS 64

static const uint32_t kLengths[RECORDS] = {0, 1, 15, 16, 17, 100, 3, 4096, 8, 0, 255, 70000,
                                           5, 9, 31, 32, 33, 1000, 2, 7, 0, 64, 65, 12345};
static uint8_t *values[RECORDS];
static uint64_t offsets[RECORDS]; /* sorted after setup */
static uint32_t lengths[RECORDS];
static roche_db *handles[2];      /* writable, read-only */

static int by_offset(const void *a, const void *b) {
    uint64_t x = offsets[*(const int *)a], y = offsets[*(const int *)b];
    return x < y ? -1 : x > y;
}

static void setup(void) {
    char root[256];
    snprintf(root, sizeof root, "/tmp/roche-fuzz-read-%d", (int)getpid());
    roche_options *opts = roche_options_new();
    FUZZ_CHECK(opts && roche_options_set_buckets(opts, 2) == ROCHE_OK);
    FUZZ_CHECK(roche_open(root, opts, &handles[0]) == ROCHE_OK);
    roche_options_free(opts);
    uint64_t state = 12345;
    uint64_t offs[RECORDS];
    for (int i = 0; i < RECORDS; i++) {
        values[i] = malloc(kLengths[i] + 1);
        FUZZ_CHECK(values[i]);
        for (uint32_t b = 0; b < kLengths[i]; b++) {
            state = state * 6364136223846793005u + 1442695040888963407u;
            values[i][b] = (uint8_t)(state >> 56);
        }
        const char *id = i % 3 ? "a" : "b"; /* two ids: two buckets */
        FUZZ_CHECK(roche_append(handles[0], NS, id, values[i], kLengths[i], &offs[i]) == ROCHE_OK);
    }
    /* Sort the records by offset, keeping values with them. */
    int order[RECORDS];
    for (int i = 0; i < RECORDS; i++) order[i] = i, offsets[i] = offs[i];
    qsort(order, RECORDS, sizeof order[0], by_offset);
    uint8_t *sorted_values[RECORDS];
    for (int i = 0; i < RECORDS; i++) {
        sorted_values[i] = values[order[i]];
        lengths[i] = kLengths[order[i]];
        offsets[i] = offs[order[i]];
    }
    memcpy(values, sorted_values, sizeof values);
    handles[1] = fuzz_open_store(root, 1);
}

/* Where the records of bucket b end (0 when it has none). */
static uint64_t bucket_end(uint64_t b) {
    uint64_t end = 0;
    for (int i = 0; i < RECORDS; i++)
        if (offsets[i] >> 50 == b) end = offsets[i] + 16 + lengths[i];
    return end;
}

/* Index of the record at offset, or -1. */
static int record_at(uint64_t offset) {
    for (int i = 0; i < RECORDS; i++)
        if (offsets[i] == offset) return i;
    return -1;
}

static int check_get(roche_db *db, uint64_t offset) {
    void *data;
    size_t len;
    int rc = roche_get(db, NS, offset, &data, &len);
    int i = record_at(offset);
    if (i >= 0) {
        FUZZ_CHECK(rc == ROCHE_OK && len == lengths[i]);
        FUZZ_CHECK(len == 0 || memcmp(data, values[i], len) == 0);
    } else {
        uint64_t b = offset >> 50, end = bucket_end(b);
        int inside = b < 2 && offset < end && offset >= (b << 50);
        FUZZ_CHECK(rc == (inside ? ROCHE_ECORRUPT : ROCHE_ENOTFOUND));
    }
    if (rc == ROCHE_OK) roche_free(data);
    return rc;
}

static void check_scan_from(roche_db *db, uint64_t from) {
    int first = 0;
    while (first < RECORDS && offsets[first] < from) first++;
    roche_scan *scan;
    FUZZ_CHECK(roche_scan_open(db, NS, from, &scan) == ROCHE_OK);
    uint64_t offset;
    const void *data;
    size_t len;
    for (int i = first; i < RECORDS; i++) {
        FUZZ_CHECK(roche_scan_next(scan, &offset, &data, &len, NULL) == ROCHE_OK);
        FUZZ_CHECK(offset == offsets[i] && len == lengths[i]);
        FUZZ_CHECK(len == 0 || memcmp(data, values[i], len) == 0);
    }
    FUZZ_CHECK(roche_scan_next(scan, &offset, &data, &len, NULL) == ROCHE_DONE);
    roche_scan_free(scan);
}

/* Inputs are mostly near real offsets: a byte 0xB0..0xBF makes the next
 * offset one of the records' plus a small delta. */
static size_t decode(const uint8_t *in, size_t size, uint64_t *out) {
    size_t n = 0;
    while (size > 0 && n < MAX_OFFSETS) {
        if ((in[0] & 0xF0) == 0xB0 && size >= 3) {
            out[n++] = offsets[in[1] % RECORDS] + (uint64_t)(int8_t)in[2];
            in += 3, size -= 3;
        } else if (size >= 8) {
            memcpy(&out[n++], in, 8);
            in += 8, size -= 8;
        } else {
            break;
        }
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size) {
    if (!handles[0]) setup();
    uint64_t offs[MAX_OFFSETS];
    int expect[MAX_OFFSETS];
    size_t n = decode(input, size, offs);
    for (int h = 0; h < 2; h++) {
        roche_db *db = handles[h];
        for (size_t i = 0; i < n; i++) expect[i] = check_get(db, offs[i]);
        roche_values *vals;
        FUZZ_CHECK(roche_multiget(db, NS, offs, n, &vals) == ROCHE_OK);
        FUZZ_CHECK(roche_values_count(vals) == n);
        for (size_t i = 0; i < n; i++) {
            const void *data;
            size_t len;
            FUZZ_CHECK(roche_values_item(vals, i, &data, &len) == expect[i]);
        }
        roche_values_free(vals);
        for (size_t i = 0; i < n && i < 4; i++) check_scan_from(db, offs[i]);
    }
    return 0;
}
