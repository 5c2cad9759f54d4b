/* Fuzz target: the companion index file (append.<n>.idx). The bucket file
 * is a fixed, valid one (records of many sizes written through the API at
 * start-up); the input is the whole companion beside it. Whatever the
 * companion says, a read-only handle and then a writable one (recovery)
 * may only ever return records that were appended, at their offsets, with
 * their bytes, and the writable handle must take a new append after
 * recovery. Crashes and sanitizer reports are failures too. */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_util.h"

#define NS "fz"
#define RECORDS 40
#define DROPPED 5 /* by retention, before the companion is taken */

static char root[256], raw_path[512], idx_path[512];
static uint8_t *raw_bytes;
static size_t raw_size;
static uint64_t offsets[RECORDS];
static size_t lengths[RECORDS];
static uint8_t values[RECORDS][300];

static void write_whole(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f && (n == 0 || fwrite(p, 1, n, f) == n) && fclose(f) == 0);
}

static void setup(void) {
    snprintf(root, sizeof root, "/tmp/roche-fuzz-companion-%d", (int)getpid());
    mkdir(root, 0755);
    snprintf(raw_path, sizeof raw_path, "%s/" NS "/append.0.raw", root);
    snprintf(idx_path, sizeof idx_path, "%s/" NS "/append.0.idx", root);
    roche_db *db = fuzz_open_store(root, 0);
    for (int i = 0; i < RECORDS; i++) {
        lengths[i] = (size_t)(i * 37 % 300);
        for (size_t b = 0; b < lengths[i]; b++) values[i][b] = (uint8_t)(i * 131 + b);
        FUZZ_CHECK(roche_append(db, NS, NULL, values[i], lengths[i], &offsets[i]) == ROCHE_OK);
    }
    /* Retention drops the first records, so the companion records a first
     * record kept (and recovery and reads go through those paths). */
    uint64_t kept = 0, freed;
    for (int i = DROPPED; i < RECORDS; i++) kept += 16 + lengths[i];
    FUZZ_CHECK(roche_retain(db, NS, 0, kept, &freed) == ROCHE_OK && freed > 0);
    FUZZ_CHECK(roche_close(db) == ROCHE_OK);
    FILE *f = fopen(raw_path, "rb");
    FUZZ_CHECK(f);
    fseek(f, 0, SEEK_END);
    raw_size = (size_t)ftell(f);
    rewind(f);
    raw_bytes = malloc(raw_size);
    FUZZ_CHECK(raw_bytes && fread(raw_bytes, 1, raw_size, f) == raw_size);
    fclose(f);
    /* ROCHE_FUZZ_SEED_OUT=FILE writes a valid companion for the corpus. */
    const char *seed_out = getenv("ROCHE_FUZZ_SEED_OUT");
    if (seed_out) {
        f = fopen(idx_path, "rb");
        FUZZ_CHECK(f);
        static uint8_t buf[1 << 16];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        write_whole(seed_out, buf, n);
    }
}

/* The record appended at offset, or -1. */
static int appended_at(uint64_t offset) {
    for (int i = 0; i < RECORDS; i++)
        if (offsets[i] == offset) return i;
    return -1;
}

static void check_record(uint64_t offset, const void *data, size_t len) {
    int i = appended_at(offset);
    FUZZ_CHECK(i >= 0);
    FUZZ_CHECK(len == lengths[i] && memcmp(data, values[i], len) == 0);
}

static void check_store(roche_db *db) {
    roche_scan *scan;
    FUZZ_CHECK(roche_scan_open(db, NS, 0, &scan) == ROCHE_OK);
    uint64_t offset;
    const void *data;
    size_t len;
    int rc, steps = 0;
    while ((rc = roche_scan_next(scan, &offset, &data, &len, NULL)) == ROCHE_OK || rc == ROCHE_ECORRUPT) {
        if (rc == ROCHE_OK) check_record(offset, data, len);
        FUZZ_CHECK(++steps < 1000000); /* a scan always ends */
    }
    FUZZ_CHECK(rc == ROCHE_DONE || rc == ROCHE_EIO);
    roche_scan_free(scan);
    for (int i = 0; i < RECORDS; i++) {
        void *got;
        size_t got_len;
        if (roche_get(db, NS, offsets[i], &got, &got_len) == ROCHE_OK) {
            check_record(offsets[i], got, got_len);
            roche_free(got);
        }
        /* an offset inside a value is never a record */
        if (lengths[i] > 2 && roche_get(db, NS, offsets[i] + 17, &got, &got_len) == ROCHE_OK) {
            FUZZ_CHECK(0);
        }
    }
    roche_stat_info info = {.version = ROCHE_STAT_VERSION};
    int src = roche_stat(db, NS, &info);
    /* a companion flagged deleted: the reader sees no namespace */
    FUZZ_CHECK(src == ROCHE_OK || src == ROCHE_EIO || src == ROCHE_ENOTFOUND);
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size) {
    if (!raw_bytes) setup();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -f %s/" NS "/append.0.raw.cut-*", root);
    FUZZ_CHECK(system(cmd) == 0);
    write_whole(raw_path, raw_bytes, raw_size);
    write_whole(idx_path, input, size);

    roche_db *db = fuzz_open_store(root, 1);
    check_store(db);
    FUZZ_CHECK(roche_close(db) == ROCHE_OK);

    db = fuzz_open_store(root, 0);
    check_store(db);
    uint64_t offset;
    FUZZ_CHECK(roche_append(db, NS, NULL, "after", 5, &offset) == ROCHE_OK);
    void *got;
    size_t len;
    FUZZ_CHECK(roche_get(db, NS, offset, &got, &len) == ROCHE_OK && len == 5 && memcmp(got, "after", 5) == 0);
    roche_free(got);
    FUZZ_CHECK(roche_close(db) == ROCHE_OK);
    return 0;
}
