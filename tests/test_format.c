/* The file format, byte for byte, and recovery from torn and damaged files. */
#include "test_util.h"

#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

static void put_le(uint8_t *p, uint64_t v, int n) {
    for (int i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* A record as rochefort documents it, built here by hand. */
static size_t hand_record(uint8_t *out, const char *value, uint32_t len, uint64_t time_ns) {
    put_le(out, len, 4);
    put_le(out + 4, time_ns, 8);
    put_le(out + 12, crc32(0L, out, 12), 4);
    memcpy(out + 16, value, len);
    return 16 + len;
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void test_record_bytes_match_the_format(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *db = open_store(dir, 1, 0);
    uint64_t before = now_ns(), off;
    assert_roche_ok(roche_append(db, NULL, NULL, "hello", 5, &off));
    uint64_t after = now_ns();
    assert_int_equal(off, 0);
    assert_roche_ok(roche_close(db));

    char *path = bucket_path(dir, NULL, 0);
    size_t len;
    uint8_t *bytes = read_file(path, &len);
    assert_int_equal(len, 16 + 5); /* clean close: exactly the records */
    uint64_t time_ns = 0;
    for (int i = 0; i < 8; i++) time_ns |= (uint64_t)bytes[4 + i] << (8 * i);
    assert_true(time_ns >= before && time_ns <= after);
    uint8_t expect[64];
    hand_record(expect, "hello", 5, time_ns);
    assert_memory_equal(bytes, expect, 21);
    free(bytes);
    free(path);
    test_dir_free(dir);
}

/* Every header the library writes carries zlib's CRC-32 of its first 12
 * bytes, over many lengths and times (the library computes it its own way). */
static void test_header_crc_is_zlibs(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *db = open_store(dir, 1, 0);
    static uint8_t value[70000];
    uint64_t off;
    size_t lens[300];
    srand(7);
    for (int i = 0; i < 300; i++) {
        lens[i] = (size_t)rand() % sizeof value;
        assert_roche_ok(roche_append(db, NULL, NULL, value, lens[i], &off));
    }
    assert_roche_ok(roche_close(db));
    char *path = bucket_path(dir, NULL, 0);
    size_t len, pos = 0;
    uint8_t *bytes = read_file(path, &len);
    for (int i = 0; i < 300; i++) {
        uint32_t stored = 0;
        for (int b = 0; b < 4; b++) stored |= (uint32_t)bytes[pos + 12 + b] << (8 * b);
        assert_int_equal(stored, crc32(0L, bytes + pos, 12));
        pos += 16 + lens[i];
    }
    assert_int_equal(pos, len);
    free(bytes);
    free(path);
    test_dir_free(dir);
}

static void test_hand_written_file_opens_and_reads(void **state) {
    (void)state;
    char *dir = test_dir_new();
    char ns_dir[600];
    snprintf(ns_dir, sizeof ns_dir, "%s/events", dir);
    assert_int_equal(mkdir(ns_dir, 0755), 0);
    uint8_t file[256];
    size_t n = hand_record(file, "first", 5, 1);
    size_t second = n;
    n += hand_record(file + n, "", 0, 2);
    size_t third = n;
    n += hand_record(file + n, "x\0y", 3, 3);
    char *path = bucket_path(dir, "events", 3);
    write_file(path, file, n);

    roche_db *db = open_store(dir, 1, 0);
    uint64_t b3 = (uint64_t)3 << 50;
    assert_value(db, "events", b3, "first", 5);
    assert_value(db, "events", b3 + second, "", 0);
    assert_value(db, "events", b3 + third, "x\0y", 3);
    /* Appending continues after the hand-written records, in a clean file. */
    uint64_t off;
    assert_roche_ok(roche_append(db, "events", "any", "more", 4, &off));
    roche_stat_info info = {.version = ROCHE_STAT_VERSION};
    assert_roche_ok(roche_stat(db, "events", &info));
    assert_int_equal(info.records, 4);
    assert_int_equal(info.buckets, 4); /* bucket 3 exists, so the count is 4 */
    assert_int_equal(info.oldest_ns, 1);
    assert_int_equal(info.recovered_bytes, 0);
    assert_roche_ok(roche_close(db));
    assert_int_equal(file_size(path), (long)n + (off >> 50 == 3 ? 20 : 0));
    free(path);
    test_dir_free(dir);
}

/* Writes three records, then cuts the file at every byte of the last one:
 * reopening keeps the first two, reports what was cut, and appends resume
 * exactly where they end. */
static void test_truncated_last_record_at_every_byte(void **state) {
    (void)state;
    char *dir = test_dir_new();
    const char *values[] = {"alpha", "bravo-bravo", "charlie-charlie-charlie"};
    uint64_t offs[3];
    roche_db *db = open_store(dir, 1, 0);
    for (int i = 0; i < 3; i++)
        assert_roche_ok(roche_append(db, NULL, NULL, values[i], strlen(values[i]), &offs[i]));
    assert_roche_ok(roche_close(db));
    char *path = bucket_path(dir, NULL, 0);
    size_t full;
    uint8_t *bytes = read_file(path, &full);
    for (size_t cut = offs[2]; cut < full; cut++) {
        write_file(path, bytes, cut);
        db = open_store(dir, 1, 0);
        assert_value(db, NULL, offs[0], values[0], 5);
        assert_value(db, NULL, offs[1], values[1], 11);
        void *data;
        size_t len;
        assert_roche_code(roche_get(db, NULL, offs[2], &data, &len), ROCHE_ENOTFOUND);
        roche_stat_info info = {.version = ROCHE_STAT_VERSION};
        assert_roche_ok(roche_stat(db, NULL, &info));
        assert_int_equal(info.records, 2);
        assert_int_equal(info.damaged_ranges, 0);
        assert_true(info.recovered_bytes <= cut - offs[2]);
        uint64_t off;
        assert_roche_ok(roche_append(db, NULL, NULL, "again", 5, &off));
        assert_int_equal(off, offs[2]);
        assert_roche_ok(roche_close(db));
        assert_int_equal(file_size(path), (long)offs[2] + 16 + 5);
    }
    free(bytes);
    free(path);
    test_dir_free(dir);
}

/* A writer killed with its reserved space still in the file leaves zeros,
 * or a half-written record, past the last record: both are cut. */
static void test_blank_and_garbage_tails_are_cut(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *db = open_store(dir, 1, 0);
    uint64_t off;
    assert_roche_ok(roche_append(db, NULL, NULL, "kept", 4, &off));
    assert_roche_ok(roche_close(db));
    char *path = bucket_path(dir, NULL, 0);
    uint8_t file[4096] = {0};
    size_t len;
    uint8_t *bytes = read_file(path, &len);
    memcpy(file, bytes, len);
    write_file(path, file, sizeof file); /* zero tail */
    db = open_store(dir, 1, 0);
    roche_stat_info info = {.version = ROCHE_STAT_VERSION};
    assert_roche_ok(roche_stat(db, NULL, &info));
    assert_int_equal(info.records, 1);
    assert_int_equal(info.recovered_bytes, 0); /* zeros were never data */
    assert_roche_ok(roche_close(db));
    assert_int_equal(file_size(path), 20);

    memset(file + len, 0xA5, 100); /* garbage after the record */
    write_file(path, file, sizeof file);
    db = open_store(dir, 1, 0);
    assert_roche_ok(roche_stat(db, NULL, &info));
    assert_int_equal(info.records, 1);
    assert_int_equal(info.recovered_bytes, 100);
    assert_value(db, NULL, 0, "kept", 4);
    assert_roche_ok(roche_close(db));
    assert_int_equal(file_size(path), 20);
    free(bytes);
    free(path);
    test_dir_free(dir);
}

/* A clean close leaves a checkpoint "<end> <last record>" so the next open
 * walks nothing; it must stay exact after an open that used it. */
static void test_checkpoint_survives_reopening(void **state) {
    (void)state;
    char *dir = test_dir_new();
    char *path = bucket_path(dir, NULL, 0);
    uint64_t last = 0;
    for (int round = 0; round < 3; round++) {
        roche_db *db = open_store(dir, 1, 0);
        if (round == 0)
            for (int i = 0; i < 3; i++) assert_roche_ok(roche_append(db, NULL, NULL, "abc", 3, &last));
        else
            assert_value(db, NULL, last, "abc", 3); /* opens and recovers the namespace */
        assert_roche_ok(roche_close(db));
        char value[64] = {0};
        ssize_t n = getxattr(path, "user.roche.checkpoint", value, sizeof value - 1);
        if (n < 0) skip(); /* a file system without user xattrs: recovery walks */
        unsigned long long end = 0, at = 0;
        assert_int_equal(sscanf(value, "%llu %llu", &end, &at), 2);
        assert_int_equal(end, (unsigned long long)file_size(path));
        assert_int_equal(at, last);
    }
    free(path);
    test_dir_free(dir);
}

/* Damage in the middle keeps what follows: get of the damaged record is
 * ROCHE_ECORRUPT, the scan resynchronizes at the next valid header, and
 * recovery never truncates the valid records after the damage. */
static void test_middle_damage_is_skipped_not_truncated(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *db = open_store(dir, 1, 0);
    uint64_t offs[5];
    char value[64];
    for (int i = 0; i < 5; i++) {
        snprintf(value, sizeof value, "value-%d-%s", i, "padding-padding");
        assert_roche_ok(roche_append(db, NULL, NULL, value, strlen(value), &offs[i]));
    }
    assert_roche_ok(roche_close(db));
    char *path = bucket_path(dir, NULL, 0);
    size_t len;
    uint8_t *bytes = read_file(path, &len);
    bytes[offs[2] + 5] ^= 0x10; /* flip a bit in record 2's time field */
    bytes[offs[3] + 20] ^= 0xFF; /* and one in record 3's value */
    write_file(path, bytes, len);

    for (int reopen = 0; reopen < 2; reopen++) {
        db = open_store(dir, 1, reopen);
        void *data;
        size_t got;
        assert_roche_code(roche_get(db, NULL, offs[2], &data, &got), ROCHE_ECORRUPT);
        assert_value(db, NULL, offs[4], "value-4-padding-padding", 23);
        roche_scan *scan;
        assert_roche_ok(roche_scan_open(db, NULL, 0, &scan));
        uint64_t seen[5], off;
        int n = 0, rc;
        while ((rc = roche_scan_next(scan, &off, NULL, NULL, NULL)) == ROCHE_OK) seen[n++] = off;
        assert_int_equal(rc, ROCHE_DONE);
        roche_scan_free(scan);
        assert_int_equal(n, 4); /* record 2 skipped; 3's value damage is not detectable */
        assert_int_equal(seen[2], offs[3]);
        roche_stat_info info = {.version = ROCHE_STAT_VERSION};
        assert_roche_ok(roche_stat(db, NULL, &info));
        assert_int_equal(info.damaged_ranges, 1);
        assert_int_equal(info.damaged_bytes, offs[3] - offs[2]);
        assert_roche_ok(roche_close(db));
        assert_int_equal(file_size(path), (long)len);
    }
    free(bytes);
    free(path);
    test_dir_free(dir);
}

/* A header whose length runs past the file is never trusted. */
static void test_huge_length_is_never_allocated(void **state) {
    (void)state;
    char *dir = test_dir_new();
    char ns_dir[600];
    snprintf(ns_dir, sizeof ns_dir, "%s/default", dir);
    assert_int_equal(mkdir(ns_dir, 0755), 0);
    uint8_t rec[64];
    hand_record(rec, "abc", 3, 5);
    put_le(rec, 0xFFFFFFF0u, 4); /* claims 4 GiB */
    put_le(rec + 12, crc32(0L, rec, 12), 4);
    char *path = bucket_path(dir, NULL, 0);
    write_file(path, rec, 19);
    roche_db *db = open_store(dir, 1, 1);
    void *data;
    size_t len;
    assert_roche_code(roche_get(db, NULL, 0, &data, &len), ROCHE_ECORRUPT);
    assert_non_null(strstr(roche_last_error(), "past the end"));
    assert_roche_ok(roche_close(db));
    free(path);
    test_dir_free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_bytes_match_the_format),
        cmocka_unit_test(test_header_crc_is_zlibs),
        cmocka_unit_test(test_hand_written_file_opens_and_reads),
        cmocka_unit_test(test_truncated_last_record_at_every_byte),
        cmocka_unit_test(test_blank_and_garbage_tails_are_cut),
        cmocka_unit_test(test_checkpoint_survives_reopening),
        cmocka_unit_test(test_middle_damage_is_skipped_not_truncated),
        cmocka_unit_test(test_huge_length_is_never_allocated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
