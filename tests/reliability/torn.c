/* Torn and corrupt files. A clean bucket file is written once; each case
 * damages a copy of its bytes, puts it in place and checks what open,
 * recovery, get, multiget, scan and stat make of it:
 *   - the last record cut at every byte: recovery cuts the torn tail, the
 *     other records stay, appends continue where the tail began;
 *   - every bit of a header in the middle flipped: get of that record is
 *     ROCHE_ECORRUPT, every other record reads back, a scan resynchronizes
 *     at the next header (roche.h's documented rule) and recovery keeps
 *     everything after the damage;
 *   - a header with a valid CRC claiming a huge length: ROCHE_ECORRUPT;
 *   - garbage tails: cut at open, and counted as recovered bytes;
 *   - a flipped value bit: the format checks headers only, so the value
 *     reads back changed, and no other record is touched. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "rel_util.h"

#define HEADER 16
#define MAX_RECORDS 32

static const uint32_t kLengths[] = {5, 0, 1, 15, 16, 17, 100, 4096, 70000, 3, 255, 1000, 8, 777};
#define RECORDS (sizeof kLengths / sizeof kLengths[0])

struct fixture {
    char *root, *path;
    uint8_t *clean; /* the bucket file after a clean close */
    size_t size;
    uint64_t pos[MAX_RECORDS]; /* header positions (bucket 0: offset == pos) */
    uint8_t *values[MAX_RECORDS];
};

static struct fixture fx;

static void build_fixture(void) {
    fx.root = rel_tempdir("torn");
    roche_db *db;
    CHECK_OK(rel_open(fx.root, 1, 0, &db));
    for (size_t i = 0; i < RECORDS; i++) {
        fx.values[i] = malloc(kLengths[i] + 1);
        CHECK(fx.values[i]);
        rel_fill(fx.values[i], kLengths[i], 1000 + i);
        for (size_t b = 0; b < kLengths[i]; b++) fx.values[i][b] |= 1; /* no zero bytes */
        CHECK_OK(roche_append(db, NULL, NULL, fx.values[i], kLengths[i], &fx.pos[i]));
    }
    CHECK_OK(roche_close(db));
    fx.path = rel_bucket_path(fx.root, NULL, 0);
    FILE *f = fopen(fx.path, "rb");
    CHECK(f);
    fseek(f, 0, SEEK_END);
    fx.size = (size_t)ftell(f);
    rewind(f);
    fx.clean = malloc(fx.size);
    CHECK(fx.clean && fread(fx.clean, 1, fx.size, f) == fx.size);
    fclose(f);
    CHECK(fx.size == fx.pos[RECORDS - 1] + HEADER + kLengths[RECORDS - 1]);
}

/* Replaces the bucket file with bytes, as a new inode (so no recovery
 * checkpoint from an earlier close applies). */
static void install(const uint8_t *bytes, size_t len) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.new", fx.path);
    FILE *f = fopen(tmp, "wb");
    CHECK(f && fwrite(bytes, 1, len, f) == len && fclose(f) == 0);
    CHECK(rename(tmp, fx.path) == 0);
}

static long size_on_disk(void) {
    struct stat st;
    CHECK(stat(fx.path, &st) == 0);
    return (long)st.st_size;
}

static int intact(roche_db *db, size_t i) {
    return rel_value_is(db, NULL, fx.pos[i], fx.values[i], kLengths[i]);
}

/* Scans everything; returns how many records came back, checking each is
 * one of the fixture's, intact, in offset order. */
static size_t scan_count(roche_db *db, size_t skip) {
    roche_scan *scan;
    CHECK_OK(roche_scan_open(db, NULL, 0, &scan));
    uint64_t offset;
    const void *data;
    size_t len, n = 0, i = 0;
    int rc;
    while ((rc = roche_scan_next(scan, &offset, &data, &len, NULL)) == ROCHE_OK) {
        while (i < RECORDS && (fx.pos[i] < offset || i == skip)) i++;
        CHECK(i < RECORDS && fx.pos[i] == offset && len == kLengths[i]);
        CHECK(len == 0 || memcmp(data, fx.values[i], len) == 0);
        i++;
        n++;
    }
    CHECK_RC(rc, ROCHE_DONE);
    roche_scan_free(scan);
    return n;
}

/* End of the last non-zero byte in [from, to): recovery counts a torn
 * tail's written bytes, not trailing zeros it cannot tell from free space. */
static size_t nonzero_end(const uint8_t *p, size_t from, size_t to) {
    while (to > from && !p[to - 1]) to--;
    return to;
}

static void cut_last_record_at_every_byte(void) {
    size_t last = RECORDS - 1, start = (size_t)fx.pos[last];
    for (size_t cut = start; cut < fx.size; cut++) {
        install(fx.clean, cut);
        roche_db *db;
        /* A reader sees the torn record as damage or absent, never data. */
        CHECK_OK(rel_open(fx.root, 0, 1, &db));
        void *data = NULL;
        size_t len;
        int rc = roche_get(db, NULL, fx.pos[last], &data, &len);
        CHECK(rc == ROCHE_ECORRUPT || rc == ROCHE_ENOTFOUND);
        CHECK(scan_count(db, last) == RECORDS - 1);
        CHECK_OK(roche_close(db));
        /* The writer's recovery cuts the tail and appends where it began. */
        CHECK_OK(rel_open(fx.root, 1, 0, &db));
        roche_stat_info info = {.version = ROCHE_STAT_VERSION};
        CHECK_OK(roche_stat(db, NULL, &info));
        CHECK(info.records == RECORDS - 1 && info.damaged_ranges == 0);
        CHECK(info.recovered_bytes == nonzero_end(fx.clean, start, cut) - start);
        for (size_t i = 0; i < last; i++) CHECK(intact(db, i));
        CHECK_RC(roche_get(db, NULL, fx.pos[last], &data, &len), ROCHE_ENOTFOUND);
        uint64_t offset;
        CHECK_OK(roche_append(db, NULL, NULL, fx.values[last], kLengths[last], &offset));
        CHECK(offset == fx.pos[last]);
        CHECK_OK(roche_close(db));
        CHECK(size_on_disk() == (long)fx.size);
    }
    printf("torn: last record cut at %zu positions\n", fx.size - start);
}

/* Checks a file whose record k has a damaged header, in both modes. */
static void check_damaged_header(size_t k) {
    for (int read_only = 1; read_only >= 0; read_only--) {
        roche_db *db;
        CHECK_OK(rel_open(fx.root, 1, read_only, &db));
        void *data = NULL;
        size_t len;
        CHECK_RC(roche_get(db, NULL, fx.pos[k], &data, &len), ROCHE_ECORRUPT);
        for (size_t i = 0; i < RECORDS; i++) CHECK(i == k || intact(db, i));
        roche_values *vals;
        CHECK_OK(roche_multiget(db, NULL, fx.pos, RECORDS, &vals));
        for (size_t i = 0; i < RECORDS; i++)
            CHECK(roche_values_item(vals, i, NULL, NULL) == (i == k ? ROCHE_ECORRUPT : ROCHE_OK));
        roche_values_free(vals);
        CHECK(scan_count(db, k) == RECORDS - 1);
        roche_stat_info info = {.version = ROCHE_STAT_VERSION};
        CHECK_OK(roche_stat(db, NULL, &info));
        CHECK(info.records == RECORDS - 1);
        CHECK(info.damaged_ranges == 1 && info.damaged_bytes == HEADER + kLengths[k]);
        CHECK_OK(roche_close(db));
        CHECK(size_on_disk() == (long)fx.size); /* damage in the middle is kept */
    }
}

static void flip_header_bits(void) {
    uint8_t *copy = malloc(fx.size);
    CHECK(copy);
    size_t cases = 0;
    for (size_t k = 1; k + 1 < RECORDS; k++) {
        for (size_t bit = 0; bit < HEADER * 8; bit += k % 2 ? 1 : 7) {
            memcpy(copy, fx.clean, fx.size);
            copy[fx.pos[k] + bit / 8] ^= (uint8_t)(1u << (bit % 8));
            install(copy, fx.size);
            check_damaged_header(k);
            cases++;
        }
    }
    free(copy);
    printf("torn: %zu header bit flips detected\n", cases);
}

/* A header with a valid CRC whose length runs far past the end. */
static void huge_length_header(void) {
    uint8_t *copy = malloc(fx.size);
    CHECK(copy);
    memcpy(copy, fx.clean, fx.size);
    size_t k = RECORDS / 2;
    uint8_t *h = copy + fx.pos[k];
    uint32_t huge = 0xFFFFFFF0u;
    memcpy(h, &huge, 4); /* little-endian hosts only, as the whole suite */
    uint32_t crc = (uint32_t)crc32(0L, h, 12);
    memcpy(h + 12, &crc, 4);
    install(copy, fx.size);
    check_damaged_header(k);
    free(copy);
}

static void garbage_tails(void) {
    uint8_t *copy = malloc(fx.size + 4096);
    CHECK(copy);
    uint64_t rng = 7;
    for (size_t junk = 1; junk <= 4096; junk = junk * 3 + 1) {
        memcpy(copy, fx.clean, fx.size);
        for (size_t i = 0; i < junk; i++) copy[fx.size + i] = (uint8_t)(rel_next(&rng) | 1);
        install(copy, fx.size + junk);
        roche_db *db;
        CHECK_OK(rel_open(fx.root, 1, 0, &db));
        roche_stat_info info = {.version = ROCHE_STAT_VERSION};
        CHECK_OK(roche_stat(db, NULL, &info));
        CHECK(info.records == RECORDS && info.recovered_bytes == junk);
        for (size_t i = 0; i < RECORDS; i++) CHECK(intact(db, i));
        CHECK_OK(roche_close(db));
        CHECK(size_on_disk() == (long)fx.size);
    }
    free(copy);
}

static void flip_value_bit(void) {
    uint8_t *copy = malloc(fx.size);
    CHECK(copy);
    memcpy(copy, fx.clean, fx.size);
    size_t k = 7; /* the 4096-byte value */
    copy[fx.pos[k] + HEADER + 100] ^= 0x10;
    install(copy, fx.size);
    roche_db *db;
    CHECK_OK(rel_open(fx.root, 1, 0, &db));
    for (size_t i = 0; i < RECORDS; i++) CHECK(intact(db, i) == (i != k));
    CHECK(rel_value_is(db, NULL, fx.pos[k], copy + fx.pos[k] + HEADER, kLengths[k]));
    roche_stat_info info = {.version = ROCHE_STAT_VERSION};
    CHECK_OK(roche_stat(db, NULL, &info));
    CHECK(info.records == RECORDS && info.damaged_ranges == 0);
    CHECK_OK(roche_close(db));
    free(copy);
}

int main(void) {
    build_fixture();
    cut_last_record_at_every_byte();
    flip_header_bits();
    huge_length_header();
    garbage_tails();
    flip_value_bit();
    rel_rmdir(fx.root);
    printf("torn: all checks passed\n");
    return 0;
}
