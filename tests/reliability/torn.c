/* Torn and corrupt files. A clean bucket file is written once, with its
 * companion index append.0.idx; each case damages a copy of its bytes, puts
 * it in place (a new inode: the companion applies all the same) and checks
 * what open, recovery, get, multiget, scan and stat make of it:
 *   - every bit of a header in the middle flipped, a header with a valid
 *     CRC claiming a huge length, value bits flipped, zeroed pages: get of
 *     each damaged record is ROCHE_ECORRUPT, every other record reads back,
 *     multiget marks just those items, a scan reports each damaged record
 *     (ROCHE_ECORRUPT at its offset) and goes on with the next, stat counts
 *     them and their bytes, and recovery keeps the file whole;
 *   - garbage tails, and a well-formed record the companion does not list:
 *     never seen by a reader, cut at open and counted as recovered bytes;
 *   - the last record cut at every byte: a reader sees it as absent or
 *     corrupt, recovery cuts the torn tail, the other records stay, appends
 *     continue where the tail began;
 *   - a damaged last record: kept by recovery, with every good record;
 * and, with the companion removed (a file in rochefort's own format), that
 * a reader checks headers and stops at the first bad one, and that recovery
 * keeps the records before it and saves everything after aside in
 * append.0.raw.cut-<position> before cutting it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "rel_util.h"

#define HEADER 16
#define MAX_RECORDS 32
#define PAGE 4096

static const uint32_t kLengths[] = {5, 0, 1, 15, 16, 17, 100, 4096, 70000, 3, 255, 1000, 8, 777};
#define RECORDS (sizeof kLengths / sizeof kLengths[0])
#define LAST (RECORDS - 1)

/* What a case expects of each record. */
enum state { INTACT, DAMAGED, ABSENT, TORN /* damaged or absent */ };

struct fixture {
    char *root, *path, *idx;
    uint8_t *clean; /* the bucket file after a clean close */
    size_t size;
    uint8_t *companion; /* its companion after that close */
    size_t companion_size;
    uint64_t pos[MAX_RECORDS]; /* header positions (bucket 0: offset == pos) */
    uint8_t *values[MAX_RECORDS];
};

static struct fixture fx;

static uint8_t *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    CHECK(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    rewind(f);
    uint8_t *bytes = malloc(*len + 1);
    CHECK(bytes && fread(bytes, 1, *len, f) == *len);
    fclose(f);
    return bytes;
}

static void spill(const char *path, const uint8_t *bytes, size_t len) {
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(bytes, 1, len, f) == len && fclose(f) == 0);
}

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
    fx.idx = strdup(fx.path);
    CHECK(fx.idx);
    strcpy(fx.idx + strlen(fx.idx) - 4, ".idx");
    fx.clean = slurp(fx.path, &fx.size);
    fx.companion = slurp(fx.idx, &fx.companion_size);
    CHECK(fx.size == fx.pos[LAST] + HEADER + kLengths[LAST]);
}

/* Removes the tails recovery saved aside. */
static void remove_saved_tails(void) {
    char pattern[4200];
    snprintf(pattern, sizeof pattern, "%s.cut-*", fx.path);
    glob_t g;
    if (glob(pattern, 0, NULL, &g) == 0)
        for (size_t i = 0; i < g.gl_pathc; i++) CHECK(unlink(g.gl_pathv[i]) == 0);
    globfree(&g);
}

/* Replaces the bucket file with bytes, as a new inode, beside the companion
 * of the clean close (companion 1) or none (0: rochefort's own format). */
static void install(const uint8_t *bytes, size_t len, int companion) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.new", fx.path);
    spill(tmp, bytes, len);
    CHECK(rename(tmp, fx.path) == 0);
    if (companion)
        spill(fx.idx, fx.companion, fx.companion_size);
    else
        CHECK(unlink(fx.idx) == 0 || errno == ENOENT);
    remove_saved_tails();
}

static long size_on_disk(void) {
    struct stat st;
    CHECK(stat(fx.path, &st) == 0);
    return (long)st.st_size;
}

static int intact(roche_db *db, size_t i) {
    return rel_value_is(db, NULL, fx.pos[i], fx.values[i], kLengths[i]);
}

/* The tail saved aside at pos holds exactly expect[0..len); len 0: none. */
static void check_saved_tail(uint64_t pos, const uint8_t *expect, size_t len) {
    char path[4200];
    snprintf(path, sizeof path, "%s.cut-%llu", fx.path, (unsigned long long)pos);
    struct stat st;
    if (len == 0) {
        CHECK(stat(path, &st) != 0);
        return;
    }
    size_t got;
    uint8_t *bytes = slurp(path, &got);
    CHECK(got == len && memcmp(bytes, expect, len) == 0);
    free(bytes);
}

/* Scans everything and checks each step against expect: intact records
 * come back whole, damaged ones as ROCHE_ECORRUPT at their offset (no
 * data), absent ones not at all, torn ones either way; then ROCHE_DONE. */
static void check_scan(roche_db *db, const enum state *expect) {
    roche_scan *scan;
    CHECK_OK(roche_scan_open(db, NULL, 0, &scan));
    size_t i = 0;
    for (;;) {
        uint64_t offset = 1;
        const void *data = &offset;
        size_t len = 1;
        int rc = roche_scan_next(scan, &offset, &data, &len, NULL);
        if (rc == ROCHE_DONE) break;
        CHECK(rc == ROCHE_OK || rc == ROCHE_ECORRUPT);
        while (i < RECORDS && (expect[i] == ABSENT || (expect[i] == TORN && fx.pos[i] != offset))) i++;
        CHECK(i < RECORDS && fx.pos[i] == offset);
        if (expect[i] == INTACT) {
            CHECK_OK(rc);
            CHECK(len == kLengths[i] && (len == 0 || memcmp(data, fx.values[i], len) == 0));
        } else {
            CHECK_RC(rc, ROCHE_ECORRUPT);
            CHECK(data == NULL && len == 0);
        }
        i++;
    }
    for (; i < RECORDS; i++) CHECK(expect[i] == ABSENT || expect[i] == TORN);
    roche_scan_free(scan);
}

/* Bytes after the last record that a read-only handle without a companion
 * counts as one damaged range (it cannot tell where records would be). */
static uint64_t tail_damage;

/* Checks every read of a store whose records are in the states expect. */
static void check_reads(roche_db *db, const enum state *expect) {
    uint64_t damaged = 0, damaged_bytes = 0, records = 0, bytes = 0;
    for (size_t i = 0; i < RECORDS; i++) {
        void *data = NULL;
        size_t len;
        int rc = expect[i] == INTACT ? ROCHE_OK : roche_get(db, NULL, fx.pos[i], &data, &len);
        switch (expect[i]) {
        case INTACT:
            CHECK(intact(db, i));
            records++;
            bytes += HEADER + kLengths[i];
            break;
        case DAMAGED:
            CHECK_RC(rc, ROCHE_ECORRUPT);
            damaged++;
            damaged_bytes += HEADER + kLengths[i];
            break;
        case ABSENT:
            CHECK_RC(rc, ROCHE_ENOTFOUND);
            break;
        case TORN:
            if (rc != ROCHE_ECORRUPT) CHECK_RC(rc, ROCHE_ENOTFOUND);
            break;
        }
    }
    roche_values *vals;
    CHECK_OK(roche_multiget(db, NULL, fx.pos, RECORDS, &vals));
    for (size_t i = 0; i < RECORDS; i++) {
        const void *data;
        size_t len;
        int rc = roche_values_item(vals, i, &data, &len);
        if (expect[i] == INTACT)
            CHECK(rc == ROCHE_OK && len == kLengths[i] && (len == 0 || memcmp(data, fx.values[i], len) == 0));
        else if (expect[i] == DAMAGED)
            CHECK_RC(rc, ROCHE_ECORRUPT);
        else if (expect[i] == ABSENT)
            CHECK_RC(rc, ROCHE_ENOTFOUND);
        else
            CHECK(rc == ROCHE_ECORRUPT || rc == ROCHE_ENOTFOUND);
    }
    roche_values_free(vals);
    check_scan(db, expect);
    roche_stat_info info = {.version = ROCHE_STAT_VERSION};
    CHECK_OK(roche_stat(db, NULL, &info));
    CHECK(info.records == records && info.bytes == bytes);
    if (tail_damage) { /* headers only: what follows the last good header is damage */
        damaged++;
        damaged_bytes += tail_damage;
    }
    CHECK(info.damaged_ranges == damaged && info.damaged_bytes == damaged_bytes);
}

/* A file whose records are damaged as expect says (the last one intact),
 * read-only and then through a writable open: the damage is reported, not
 * cut, and the file keeps every byte. */
static void check_damage_kept(const enum state *expect) {
    for (int read_only = 1; read_only >= 0; read_only--) {
        roche_db *db;
        CHECK_OK(rel_open(fx.root, 1, read_only, &db));
        check_reads(db, expect);
        roche_stat_info info = {.version = ROCHE_STAT_VERSION};
        CHECK_OK(roche_stat(db, NULL, &info));
        CHECK(info.recovered_bytes == 0);
        CHECK_OK(roche_close(db));
        CHECK(size_on_disk() == (long)fx.size); /* damage in the middle is kept */
    }
}

/* Without a companion, record k's header fails its CRC: a reader sees the
 * records before it, and gets of the later ones (whose headers are good)
 * still work; a writable open keeps the records before k and saves the
 * rest aside, and appends continue at k. */
static void check_header_damage_without_companion(size_t k, const uint8_t *bytes) {
    roche_db *db;
    CHECK_OK(rel_open(fx.root, 1, 1, &db));
    void *data = NULL;
    size_t len;
    CHECK_RC(roche_get(db, NULL, fx.pos[k], &data, &len), ROCHE_ECORRUPT);
    for (size_t i = 0; i < RECORDS; i++) CHECK(i == k || intact(db, i));
    enum state expect[MAX_RECORDS];
    for (size_t i = 0; i < RECORDS; i++) expect[i] = i < k ? INTACT : ABSENT;
    check_scan(db, expect); /* stops at k: no resynchronization */
    CHECK_OK(roche_close(db));
    CHECK(size_on_disk() == (long)fx.size);

    CHECK_OK(rel_open(fx.root, 1, 0, &db));
    check_reads(db, expect);
    roche_stat_info info = {.version = ROCHE_STAT_VERSION};
    CHECK_OK(roche_stat(db, NULL, &info));
    CHECK(info.recovered_bytes == fx.size - fx.pos[k]);
    uint64_t offset;
    CHECK_OK(roche_append(db, NULL, NULL, "next", 4, &offset));
    CHECK(offset == fx.pos[k]);
    CHECK_OK(roche_close(db));
    CHECK(size_on_disk() == (long)fx.pos[k] + HEADER + 4);
    check_saved_tail(fx.pos[k], bytes + fx.pos[k], fx.size - fx.pos[k]);
}

static void one_damaged(size_t k, enum state *expect) {
    for (size_t i = 0; i < RECORDS; i++) expect[i] = i == k ? DAMAGED : INTACT;
}

static void flip_header_bits(void) {
    uint8_t *copy = malloc(fx.size);
    CHECK(copy);
    size_t cases = 0, foreign = 0;
    enum state expect[MAX_RECORDS];
    for (size_t k = 1; k < LAST; k++) {
        one_damaged(k, expect);
        for (size_t bit = 0; bit < HEADER * 8; bit += k % 2 ? 1 : 7) {
            memcpy(copy, fx.clean, fx.size);
            copy[fx.pos[k] + bit / 8] ^= (uint8_t)(1u << (bit % 8));
            install(copy, fx.size, 1);
            check_damage_kept(expect);
            cases++;
            if (bit % 8 == k % 8) { /* a byte's worth of bits per header */
                install(copy, fx.size, 0);
                check_header_damage_without_companion(k, copy);
                foreign++;
            }
        }
    }
    free(copy);
    printf("torn: %zu header bit flips detected (%zu also without the companion)\n", cases, foreign);
}

/* Value damage is damage: every bit of the short values, and the first,
 * middle and last bits of the long ones, in every record but the last. */
static void flip_value_bits(void) {
    uint8_t *copy = malloc(fx.size);
    CHECK(copy);
    size_t cases = 0;
    enum state expect[MAX_RECORDS];
    for (size_t k = 0; k < LAST; k++) {
        size_t bits = (size_t)kLengths[k] * 8;
        if (!bits) continue;
        one_damaged(k, expect);
        size_t picks[] = {0, 7, bits / 2 + 3, bits - 8, bits - 1};
        size_t npicks = bits <= 17 * 8 ? bits : sizeof picks / sizeof picks[0];
        for (size_t p = 0; p < npicks; p++) {
            size_t bit = bits <= 17 * 8 ? p : picks[p];
            memcpy(copy, fx.clean, fx.size);
            copy[fx.pos[k] + HEADER + bit / 8] ^= (uint8_t)(1u << (bit % 8));
            install(copy, fx.size, 1);
            check_damage_kept(expect);
            cases++;
        }
    }
    free(copy);
    printf("torn: %zu value bit flips detected\n", cases);
}

/* A page of zeros (a block the disk lost) over any records but the last:
 * each record it changes is damaged, whatever part of it was hit. */
static void zeroed_pages(void) {
    uint8_t *copy = malloc(fx.size);
    CHECK(copy);
    enum state expect[MAX_RECORDS];
    size_t cases = 0;
    for (size_t page = 0; (page + 1) * PAGE <= fx.pos[LAST]; page++) {
        size_t from = page * PAGE;
        memcpy(copy, fx.clean, fx.size);
        memset(copy + from, 0, PAGE);
        for (size_t i = 0; i < RECORDS; i++) {
            size_t start = fx.pos[i], end = start + HEADER + kLengths[i];
            expect[i] = memcmp(copy + start, fx.clean + start, end - start) ? DAMAGED : INTACT;
        }
        install(copy, fx.size, 1);
        check_damage_kept(expect);
        cases++;
    }
    free(copy);
    printf("torn: %zu zeroed pages detected\n", cases);
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
    enum state expect[MAX_RECORDS];
    one_damaged(k, expect);
    install(copy, fx.size, 1);
    check_damage_kept(expect);
    install(copy, fx.size, 0);
    check_header_damage_without_companion(k, copy);
    free(copy);
}

/* Bytes after the last record: garbage, or a record in the format that the
 * companion does not list. A reader never sees them; recovery cuts them,
 * saving them aside when there is no companion to say they are no record. */
static void garbage_tails(void) {
    uint8_t *copy = malloc(fx.size + 4096);
    CHECK(copy);
    uint64_t rng = 7;
    enum state expect[MAX_RECORDS];
    for (size_t i = 0; i < RECORDS; i++) expect[i] = INTACT;
    size_t cases = 0;
    for (int companion = 1; companion >= 0; companion--) {
        for (size_t junk = 1; junk <= 4096; junk = junk * 3 + 1) {
            memcpy(copy, fx.clean, fx.size);
            for (size_t i = 0; i < junk; i++) copy[fx.size + i] = (uint8_t)(rel_next(&rng) | 1);
            int forged = companion && junk >= HEADER + 8 && junk % 2 == 0;
            if (forged) { /* a well-formed record, not in the companion */
                uint8_t *h = copy + fx.size;
                uint32_t len = (uint32_t)(junk - HEADER), crc;
                uint64_t time_ns = 1;
                memcpy(h, &len, 4);
                memcpy(h + 4, &time_ns, 8);
                crc = (uint32_t)crc32(0L, h, 12);
                memcpy(h + 12, &crc, 4);
            }
            install(copy, fx.size + junk, companion);
            roche_db *db;
            CHECK_OK(rel_open(fx.root, 1, 1, &db));
            tail_damage = companion ? 0 : junk;
            check_reads(db, expect);
            tail_damage = 0;
            void *data = NULL;
            size_t len;
            int rc = roche_get(db, NULL, fx.size, &data, &len);
            if (companion || forged)
                CHECK_RC(rc, ROCHE_ENOTFOUND);
            else
                CHECK_RC(rc, ROCHE_ECORRUPT); /* headers only: a bad one */
            CHECK_OK(roche_close(db));
            CHECK_OK(rel_open(fx.root, 1, 0, &db));
            roche_stat_info info = {.version = ROCHE_STAT_VERSION};
            CHECK_OK(roche_stat(db, NULL, &info));
            CHECK(info.records == RECORDS && info.recovered_bytes == junk);
            check_reads(db, expect);
            CHECK_RC(roche_get(db, NULL, fx.size, &data, &len), ROCHE_ENOTFOUND);
            CHECK_OK(roche_close(db));
            CHECK(size_on_disk() == (long)fx.size);
            if (!companion) check_saved_tail(fx.size, copy + fx.size, junk);
            cases++;
        }
    }
    free(copy);
    printf("torn: %zu garbage tails cut\n", cases);
}

/* End of the last non-zero byte in [from, to): recovery counts a torn
 * tail's written bytes, not trailing zeros it cannot tell from free space. */
static size_t nonzero_end(const uint8_t *p, size_t from, size_t to) {
    while (to > from && !p[to - 1]) to--;
    return to;
}

static void cut_last_record_at_every_byte(void) {
    size_t start = (size_t)fx.pos[LAST];
    enum state torn[MAX_RECORDS], cut[MAX_RECORDS];
    for (size_t i = 0; i < RECORDS; i++) {
        torn[i] = i == LAST ? TORN : INTACT;
        cut[i] = i == LAST ? ABSENT : INTACT;
    }
    for (int companion = 1; companion >= 0; companion--) {
        for (size_t at = start; at < fx.size; at++) {
            install(fx.clean, at, companion);
            roche_db *db;
            /* A reader sees the torn record as damage or absent, never data. */
            CHECK_OK(rel_open(fx.root, 0, 1, &db));
            roche_stat_info info = {.version = ROCHE_STAT_VERSION};
            CHECK_OK(roche_stat(db, NULL, &info));
            CHECK(info.records == RECORDS - 1);
            for (size_t i = 0; i < LAST; i++) CHECK(intact(db, i));
            void *data = NULL;
            size_t len;
            int rc = roche_get(db, NULL, fx.pos[LAST], &data, &len);
            if (rc != ROCHE_ECORRUPT) CHECK_RC(rc, ROCHE_ENOTFOUND);
            check_scan(db, torn);
            CHECK_OK(roche_close(db));
            /* The writer's recovery cuts the tail and appends where it began. */
            CHECK_OK(rel_open(fx.root, 1, 0, &db));
            check_reads(db, cut);
            CHECK_OK(roche_stat(db, NULL, &info));
            size_t written = nonzero_end(fx.clean, start, at);
            CHECK(info.recovered_bytes == written - start);
            uint64_t offset;
            CHECK_OK(roche_append(db, NULL, NULL, fx.values[LAST], kLengths[LAST], &offset));
            CHECK(offset == fx.pos[LAST]);
            CHECK_OK(roche_close(db));
            CHECK(size_on_disk() == (long)fx.size);
            if (!companion) check_saved_tail(start, fx.clean + start, written - start);
        }
    }
    printf("torn: last record cut at %zu positions, with and without the companion\n",
           fx.size - start);
}

/* The last record damaged (its value, or its header with a valid CRC and a
 * huge length), alone or with a record in the middle: recovery keeps it as
 * damage, and keeps every good record before it. */
static void damaged_last_record(void) {
    uint8_t *copy = malloc(fx.size);
    CHECK(copy);
    enum state expect[MAX_RECORDS];
    for (int kind = 0; kind < 2; kind++) {
        for (int also_middle = 0; also_middle < 2; also_middle++) {
            memcpy(copy, fx.clean, fx.size);
            uint8_t *h = copy + fx.pos[LAST];
            if (kind == 0) {
                h[HEADER + kLengths[LAST] / 2] ^= 0x04;
            } else {
                uint32_t huge = 0xFFFFFFF0u;
                memcpy(h, &huge, 4);
                uint32_t crc = (uint32_t)crc32(0L, h, 12);
                memcpy(h + 12, &crc, 4);
            }
            if (also_middle) copy[fx.pos[7] + HEADER + 1000] ^= 0x01;
            for (size_t i = 0; i < RECORDS; i++)
                expect[i] = i == LAST || (also_middle && i == 7) ? DAMAGED : INTACT;
            install(copy, fx.size, 1);
            for (int round = 0; round < 3; round++) { /* read-only, writable, read-only again */
                roche_db *db;
                CHECK_OK(rel_open(fx.root, 1, round != 1, &db));
                for (size_t i = 0; i < RECORDS; i++) CHECK(expect[i] == DAMAGED || intact(db, i));
                void *data = NULL;
                size_t len;
                CHECK_RC(roche_get(db, NULL, fx.pos[LAST], &data, &len), ROCHE_ECORRUPT);
                if (kind == 0) {
                    check_reads(db, expect);
                } else { /* the huge length is no length to count damaged bytes by */
                    roche_stat_info info = {.version = ROCHE_STAT_VERSION};
                    CHECK_OK(roche_stat(db, NULL, &info));
                    CHECK(info.records == RECORDS - 1 - (size_t)also_middle);
                    CHECK(info.damaged_ranges == 1 + (size_t)also_middle);
                }
                CHECK_OK(roche_close(db));
                CHECK(size_on_disk() == (long)fx.size);
            }
        }
    }
    free(copy);
}

int main(void) {
    build_fixture();
    flip_header_bits();
    flip_value_bits();
    zeroed_pages();
    huge_length_header();
    garbage_tails();
    cut_last_record_at_every_byte();
    damaged_last_record();
    rel_rmdir(fx.root);
    printf("torn: all checks passed\n");
    return 0;
}
