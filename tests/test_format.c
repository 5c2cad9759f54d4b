/* The file format, byte for byte, and recovery from torn and damaged files.
 * Each bucket file append.<n>.raw has a companion append.<n>.idx holding,
 * per record, its position and a checksum of the whole record: every read
 * checks both header and value against it. A file without a companion
 * (rochefort's own format, written here by hand or with the companion
 * removed) has its headers checked only, and a writable open builds its
 * companion, cutting (and saving aside) everything from the first bad
 * header on. */
#include "test_util.h"

#include <sys/stat.h>
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

/* Path of bucket b's companion index (default namespace unless ns). */
static char *idx_path(const char *root, const char *ns, uint32_t b) {
    char *path = bucket_path(root, ns, b);
    strcpy(path + strlen(path) - 4, ".idx");
    return path;
}

/* Removes bucket b's companion: the store becomes one in rochefort's own
 * format, as another tool would have written it. */
static void drop_companion(const char *root, const char *ns, uint32_t b) {
    char *path = idx_path(root, ns, b);
    assert_int_equal(unlink(path), 0);
    free(path);
}

/* Where recovery saves the tail it cuts at pos: append.<n>.raw.cut-<pos>. */
static char *cut_path(const char *root, const char *ns, uint32_t b, uint64_t pos) {
    char *raw = bucket_path(root, ns, b);
    char *path = malloc(strlen(raw) + 32);
    assert_non_null(path);
    sprintf(path, "%s.cut-%llu", raw, (unsigned long long)pos);
    free(raw);
    return path;
}

/* Checks the saved-aside tail at pos holds exactly expect[0..len), then
 * removes it; len 0: no such file. */
static void assert_saved_aside(const char *root, uint64_t pos, const void *expect, size_t len) {
    char *path = cut_path(root, NULL, 0, pos);
    if (len == 0) {
        assert_int_equal(file_size(path), -1);
    } else {
        size_t got;
        uint8_t *bytes = read_file(path, &got);
        assert_int_equal(got, len);
        assert_memory_equal(bytes, expect, len);
        free(bytes);
        assert_int_equal(unlink(path), 0);
    }
    free(path);
}

/* End of the last non-zero byte of p in [from, to), or from. */
static size_t nonzero_end(const uint8_t *p, size_t from, size_t to) {
    while (to > from && !p[to - 1]) to--;
    return to;
}

/* A whole scan: offsets and return codes of every step before the end. */
struct scan_log {
    uint64_t off[16];
    int rc[16];
    int n;
};

static void scan_all(roche_db *db, uint64_t from, struct scan_log *log) {
    roche_scan *scan;
    assert_roche_ok(roche_scan_open(db, NULL, from, &scan));
    log->n = 0;
    for (;;) {
        uint64_t off = 12345;
        const void *data = (const void *)1;
        size_t len = 999;
        int rc = roche_scan_next(scan, &off, &data, &len, NULL);
        if (rc == ROCHE_DONE) break;
        assert_true(rc == ROCHE_OK || rc == ROCHE_ECORRUPT);
        if (rc == ROCHE_ECORRUPT) { /* the damaged record: its offset, no data */
            assert_null(data);
            assert_int_equal(len, 0);
        }
        assert_true(log->n < 16);
        log->off[log->n] = off;
        log->rc[log->n++] = rc;
    }
    roche_scan_free(scan);
}

static void test_record_bytes_match_the_format(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *db = open_store(dir, 1, 0);
    uint64_t before = wall_ns(), off;
    assert_roche_ok(roche_append(db, NULL, NULL, "hello", 5, &off));
    uint64_t after = wall_ns();
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
    char *idx = idx_path(dir, "events", 3);
    write_file(path, file, n);
    uint64_t b3 = (uint64_t)3 << 50;

    /* Read-only, without a companion: headers only, and nothing created. */
    roche_db *db = open_store(dir, 1, 1);
    assert_value(db, "events", b3, "first", 5);
    assert_value(db, "events", b3 + third, "x\0y", 3);
    void *data;
    size_t len;
    assert_roche_code(roche_get(db, "events", b3 + n, &data, &len), ROCHE_ENOTFOUND);
    assert_roche_code(roche_get(db, "events", b3 + 3, &data, &len), ROCHE_ECORRUPT);
    assert_roche_ok(roche_close(db));
    assert_int_equal(file_size(idx), -1);

    db = open_store(dir, 1, 0);
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
    assert_int_equal(info.damaged_ranges, 0);
    assert_roche_ok(roche_close(db));
    assert_int_equal(file_size(path), (long)n + (off >> 50 == 3 ? 20 : 0));
    assert_true(file_size(idx) > 0); /* the writable open built the companion */

    /* The companion built from the headers checks the values from now on. */
    uint8_t *bytes = read_file(path, &len);
    size_t size = len;
    bytes[16 + 2] ^= 0x01; /* "first" -> "fisst" */
    write_file(path, bytes, size);
    for (int read_only = 1; read_only >= 0; read_only--) {
        db = open_store(dir, 1, read_only);
        assert_roche_code(roche_get(db, "events", b3, &data, &len), ROCHE_ECORRUPT);
        assert_value(db, "events", b3 + third, "x\0y", 3);
        assert_roche_ok(roche_close(db));
        assert_int_equal(file_size(path), (long)size);
    }
    free(bytes);
    free(idx);
    free(path);
    test_dir_free(dir);
}

/* Writes three records, then cuts the file at every byte of the last one:
 * reopening keeps the first two, reports what was cut, and appends resume
 * exactly where they end. With the companion (a writer killed in this boot,
 * or a file cut behind its back) the torn record was never whole; without
 * it (a file in rochefort's format) the written bytes of the tail are first
 * saved aside in append.0.raw.cut-<position>. */
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
    char *idx = idx_path(dir, NULL, 0);
    size_t full, idx_len;
    uint8_t *bytes = read_file(path, &full);
    uint8_t *companion = read_file(idx, &idx_len);
    for (int keep_companion = 1; keep_companion >= 0; keep_companion--) {
        for (size_t cut = offs[2]; cut < full; cut++) {
            write_file(path, bytes, cut);
            if (keep_companion)
                write_file(idx, companion, idx_len);
            else
                unlink(idx);
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
            assert_int_equal(info.damaged_bytes, 0);
            size_t written = nonzero_end(bytes, offs[2], cut);
            assert_int_equal(info.recovered_bytes, written - offs[2]);
            if (!keep_companion) assert_saved_aside(dir, offs[2], bytes + offs[2], written - offs[2]);
            char *saved = cut_path(dir, NULL, 0, offs[2]);
            unlink(saved); /* whatever recovery kept, for the next round */
            free(saved);
            uint64_t off;
            assert_roche_ok(roche_append(db, NULL, NULL, "again", 5, &off));
            assert_int_equal(off, offs[2]);
            assert_roche_ok(roche_close(db));
            assert_int_equal(file_size(path), (long)offs[2] + 16 + 5);
            db = open_store(dir, 1, 1);
            assert_value(db, NULL, offs[2], "again", 5);
            assert_roche_ok(roche_close(db));
        }
    }
    free(companion);
    free(bytes);
    free(idx);
    free(path);
    test_dir_free(dir);
}

/* A writer killed with its reserved space still in the file leaves zeros,
 * or a half-written record, past the last record: both are cut. So is a
 * well-formed record that the companion does not list. Without a companion
 * a garbage tail is saved aside before it is cut; zeros never are. */
static void test_blank_and_garbage_tails_are_cut(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *db = open_store(dir, 1, 0);
    uint64_t off;
    assert_roche_ok(roche_append(db, NULL, NULL, "kept", 4, &off));
    assert_roche_ok(roche_close(db));
    char *path = bucket_path(dir, NULL, 0);
    char *idx = idx_path(dir, NULL, 0);
    size_t len, idx_len;
    uint8_t *bytes = read_file(path, &len);
    uint8_t *companion = read_file(idx, &idx_len);
    for (int keep_companion = 1; keep_companion >= 0; keep_companion--) {
        uint8_t file[4096] = {0};
        memcpy(file, bytes, len);
        if (keep_companion)
            write_file(idx, companion, idx_len);
        else
            unlink(idx);
        write_file(path, file, sizeof file); /* zero tail */
        db = open_store(dir, 1, 0);
        roche_stat_info info = {.version = ROCHE_STAT_VERSION};
        assert_roche_ok(roche_stat(db, NULL, &info));
        assert_int_equal(info.records, 1);
        assert_int_equal(info.recovered_bytes, 0); /* zeros were never data */
        assert_roche_ok(roche_close(db));
        assert_int_equal(file_size(path), 20);
        assert_saved_aside(dir, 20, NULL, 0);

        memset(file + len, 0xA5, 100); /* garbage after the record */
        if (keep_companion)
            write_file(idx, companion, idx_len);
        else
            unlink(idx);
        write_file(path, file, sizeof file);
        db = open_store(dir, 1, 1); /* a reader sees only the record */
        struct scan_log log;
        scan_all(db, 0, &log);
        assert_int_equal(log.n, 1);
        assert_int_equal(log.rc[0], ROCHE_OK);
        void *data;
        size_t got;
        assert_roche_code(roche_get(db, NULL, 20, &data, &got), keep_companion ? ROCHE_ENOTFOUND : ROCHE_ECORRUPT);
        assert_roche_ok(roche_close(db));
        db = open_store(dir, 1, 0);
        assert_roche_ok(roche_stat(db, NULL, &info));
        assert_int_equal(info.records, 1);
        assert_int_equal(info.recovered_bytes, 100);
        assert_value(db, NULL, 0, "kept", 4);
        assert_roche_ok(roche_close(db));
        assert_int_equal(file_size(path), 20);
        if (!keep_companion) assert_saved_aside(dir, 20, file + 20, 100);
    }

    /* A well-formed record after the last one the companion lists (another
     * tool appended it, or an append that never returned) is no record. */
    uint8_t file[256];
    memcpy(file, bytes, len);
    size_t n = len + hand_record(file + len, "forged", 6, 42);
    write_file(path, file, n);
    db = open_store(dir, 1, 1);
    struct scan_log log;
    scan_all(db, 0, &log);
    assert_int_equal(log.n, 1);
    void *data;
    size_t got;
    assert_roche_code(roche_get(db, NULL, 20, &data, &got), ROCHE_ENOTFOUND);
    assert_roche_ok(roche_close(db));
    db = open_store(dir, 1, 0);
    roche_stat_info info = {.version = ROCHE_STAT_VERSION};
    assert_roche_ok(roche_stat(db, NULL, &info));
    assert_int_equal(info.records, 1);
    assert_int_equal(info.recovered_bytes, n - len);
    assert_roche_code(roche_get(db, NULL, 20, &data, &got), ROCHE_ENOTFOUND);
    assert_roche_ok(roche_close(db));
    assert_int_equal(file_size(path), 20);
    char *saved = cut_path(dir, NULL, 0, 20);
    unlink(saved);
    free(saved);
    free(companion);
    free(bytes);
    free(idx);
    free(path);
    test_dir_free(dir);
}

/* A close leaves the companion beside the bucket file, and every later
 * open, writable or read-only, reads through it: a value changed on disk
 * behind its back is caught. */
static void test_companion_survives_reopening(void **state) {
    (void)state;
    char *dir = test_dir_new();
    char *path = bucket_path(dir, NULL, 0);
    char *idx = idx_path(dir, NULL, 0);
    uint64_t offs[3];
    for (int round = 0; round < 3; round++) {
        roche_db *db = open_store(dir, 1, round == 2);
        if (round == 0)
            for (int i = 0; i < 3; i++) assert_roche_ok(roche_append(db, NULL, NULL, "abc", 3, &offs[i]));
        for (int i = 0; i < 3; i++) assert_value(db, NULL, offs[i], "abc", 3);
        assert_roche_ok(roche_close(db));
        assert_true(file_size(idx) > 0);
        assert_int_equal(file_size(path), 3 * (16 + 3));
    }
    size_t len;
    uint8_t *bytes = read_file(path, &len);
    bytes[offs[1] + 16 + 1] ^= 0x80; /* "abc" -> "a\xe2c" */
    write_file(path, bytes, len);
    for (int read_only = 1; read_only >= 0; read_only--) {
        roche_db *db = open_store(dir, 1, read_only);
        void *data;
        size_t got;
        assert_roche_code(roche_get(db, NULL, offs[1], &data, &got), ROCHE_ECORRUPT);
        assert_value(db, NULL, offs[0], "abc", 3);
        assert_value(db, NULL, offs[2], "abc", 3);
        assert_roche_ok(roche_close(db));
        assert_int_equal(file_size(path), (long)len);
    }
    free(bytes);
    free(idx);
    free(path);
    test_dir_free(dir);
}

/* Damage in the middle keeps what follows: get of a damaged record is
 * ROCHE_ECORRUPT, whether its header or its value was changed; a scan
 * reports each damaged record (ROCHE_ECORRUPT at its offset) and goes on
 * with the next; stat counts them; recovery never truncates the valid
 * records after the damage. The bytes are changed in place and, the second
 * time, through a rename: the companion applies either way. */
static void test_middle_damage_is_reported_not_truncated(void **state) {
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
    const uint64_t damaged = offs[4] - offs[2];

    for (int renamed = 0; renamed < 2; renamed++) {
        if (renamed) {
            char tmp[700];
            snprintf(tmp, sizeof tmp, "%s.new", path);
            write_file(tmp, bytes, len);
            assert_int_equal(rename(tmp, path), 0);
        } else {
            write_file(path, bytes, len);
        }
        for (int reopen = 0; reopen < 4; reopen++) {
            db = open_store(dir, 1, reopen % 2);
            void *data;
            size_t got;
            assert_roche_code(roche_get(db, NULL, offs[2], &data, &got), ROCHE_ECORRUPT);
            assert_roche_code(roche_get(db, NULL, offs[3], &data, &got), ROCHE_ECORRUPT);
            assert_value(db, NULL, offs[1], "value-1-padding-padding", 23);
            assert_value(db, NULL, offs[4], "value-4-padding-padding", 23);
            roche_values *vals;
            assert_roche_ok(roche_multiget(db, NULL, offs, 5, &vals));
            for (size_t i = 0; i < 5; i++)
                assert_int_equal(roche_values_item(vals, i, NULL, NULL),
                                 i == 2 || i == 3 ? ROCHE_ECORRUPT : ROCHE_OK);
            roche_values_free(vals);
            struct scan_log log;
            scan_all(db, 0, &log);
            assert_int_equal(log.n, 5); /* every record, the damaged ones as such */
            for (int i = 0; i < 5; i++) {
                assert_int_equal(log.off[i], offs[i]);
                assert_int_equal(log.rc[i], i == 2 || i == 3 ? ROCHE_ECORRUPT : ROCHE_OK);
            }
            scan_all(db, offs[2] + 1, &log); /* resuming after a damaged record */
            assert_int_equal(log.n, 2);
            assert_int_equal(log.off[0], offs[3]);
            assert_int_equal(log.rc[0], ROCHE_ECORRUPT);
            assert_int_equal(log.off[1], offs[4]);
            assert_int_equal(log.rc[1], ROCHE_OK);
            roche_stat_info info = {.version = ROCHE_STAT_VERSION};
            assert_roche_ok(roche_stat(db, NULL, &info));
            assert_int_equal(info.records, 3);
            assert_int_equal(info.bytes, len - damaged);
            assert_int_equal(info.damaged_ranges, 2);
            assert_int_equal(info.damaged_bytes, damaged);
            assert_int_equal(info.recovered_bytes, 0);
            assert_roche_ok(roche_close(db));
            assert_int_equal(file_size(path), (long)len);
        }
    }

    /* Without the companion (rochefort's format) only headers are checked:
     * a reader stops at the first bad one, and a writable open keeps the
     * records before it, saving the rest aside. */
    drop_companion(dir, NULL, 0);
    db = open_store(dir, 1, 1);
    void *data;
    size_t got;
    assert_roche_code(roche_get(db, NULL, offs[2], &data, &got), ROCHE_ECORRUPT);
    assert_value(db, NULL, offs[4], "value-4-padding-padding", 23);
    struct scan_log log;
    scan_all(db, 0, &log);
    assert_int_equal(log.n, 2); /* no resynchronization */
    assert_int_equal(log.off[1], offs[1]);
    assert_int_equal(log.rc[1], ROCHE_OK);
    assert_roche_ok(roche_close(db));
    assert_int_equal(file_size(path), (long)len);
    db = open_store(dir, 1, 0);
    roche_stat_info info = {.version = ROCHE_STAT_VERSION};
    assert_roche_ok(roche_stat(db, NULL, &info));
    assert_int_equal(info.records, 2);
    assert_int_equal(info.damaged_ranges, 0);
    assert_int_equal(info.recovered_bytes, len - offs[2]);
    assert_roche_code(roche_get(db, NULL, offs[4], &data, &got), ROCHE_ENOTFOUND);
    assert_roche_ok(roche_close(db));
    assert_int_equal(file_size(path), (long)offs[2]);
    assert_saved_aside(dir, offs[2], bytes + offs[2], len - offs[2]);
    free(bytes);
    free(path);
    test_dir_free(dir);
}

/* The last record of a bucket is no less a record than the others: a
 * change to it on disk reads as ROCHE_ECORRUPT, and a writable open keeps
 * it (it is below the companion's published count), and keeps every good
 * record before it, even when another record in the middle is damaged too. */
static void test_damaged_last_record_is_kept(void **state) {
    (void)state;
    for (int also_middle = 0; also_middle < 2; also_middle++) {
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
        bytes[offs[4] + 20] ^= 0x01; /* the last record's value */
        if (also_middle) bytes[offs[2] + 20] ^= 0x01;
        write_file(path, bytes, len);
        for (int read_only = 1; read_only >= 0; read_only--) {
            for (int pass = 0; pass < 2; pass++) { /* the second open is after recovery */
                db = open_store(dir, 1, read_only);
                for (int i = 0; i < 5; i++) {
                    void *data;
                    size_t got;
                    if (i == 4 || (also_middle && i == 2)) {
                        assert_roche_code(roche_get(db, NULL, offs[i], &data, &got), ROCHE_ECORRUPT);
                    } else {
                        snprintf(value, sizeof value, "value-%d-%s", i, "padding-padding");
                        assert_value(db, NULL, offs[i], value, 23);
                    }
                }
                roche_stat_info info = {.version = ROCHE_STAT_VERSION};
                assert_roche_ok(roche_stat(db, NULL, &info));
                assert_int_equal(info.records, also_middle ? 3 : 4);
                assert_int_equal(info.damaged_ranges, also_middle ? 2 : 1);
                assert_int_equal(info.damaged_bytes, (also_middle ? 2 : 1) * (16 + 23));
                assert_int_equal(info.recovered_bytes, 0);
                assert_roche_ok(roche_close(db));
                assert_int_equal(file_size(path), (long)len);
            }
        }
        free(bytes);
        free(path);
        test_dir_free(dir);
    }
}

/* A header whose length runs past the file is never trusted, even with a
 * valid CRC: not in a file in rochefort's format, not in the middle or at
 * the end of a file with a companion. */
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
    struct scan_log log;
    scan_all(db, 0, &log);
    assert_int_equal(log.n, 0);
    assert_roche_ok(roche_close(db));
    db = open_store(dir, 1, 0); /* builds the companion: nothing is a record */
    roche_stat_info info = {.version = ROCHE_STAT_VERSION};
    assert_roche_ok(roche_stat(db, NULL, &info));
    assert_int_equal(info.records, 0);
    assert_int_equal(info.recovered_bytes, 19);
    assert_roche_code(roche_get(db, NULL, 0, &data, &len), ROCHE_ENOTFOUND);
    assert_roche_ok(roche_close(db));
    assert_int_equal(file_size(path), 0);
    assert_saved_aside(dir, 0, rec, 19);

    /* With a companion: three records, then the middle one's and the last
     * one's lengths rewritten huge, their CRCs made valid again. */
    uint64_t offs[3];
    db = open_store(dir, 1, 0);
    for (int i = 0; i < 3; i++) assert_roche_ok(roche_append(db, NULL, NULL, "abcdef", 6, &offs[i]));
    assert_roche_ok(roche_close(db));
    size_t size;
    uint8_t *bytes = read_file(path, &size);
    for (int k = 1; k < 3; k++) {
        uint8_t *h = bytes + offs[k];
        put_le(h, 0xFFFFFFF0u, 4);
        put_le(h + 12, crc32(0L, h, 12), 4);
    }
    write_file(path, bytes, size);
    db = open_store(dir, 1, 1);
    for (int k = 1; k < 3; k++) assert_roche_code(roche_get(db, NULL, offs[k], &data, &len), ROCHE_ECORRUPT);
    assert_value(db, NULL, offs[0], "abcdef", 6);
    scan_all(db, 0, &log);
    assert_int_equal(log.n, 3);
    assert_int_equal(log.rc[0], ROCHE_OK);
    assert_int_equal(log.rc[1], ROCHE_ECORRUPT);
    assert_int_equal(log.off[1], offs[1]);
    assert_int_equal(log.rc[2], ROCHE_ECORRUPT);
    assert_int_equal(log.off[2], offs[2]);
    assert_roche_ok(roche_stat(db, NULL, &info));
    assert_int_equal(info.records, 1);
    assert_int_equal(info.damaged_ranges, 2);
    assert_roche_ok(roche_close(db));
    free(bytes);
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
        cmocka_unit_test(test_companion_survives_reopening),
        cmocka_unit_test(test_middle_damage_is_reported_not_truncated),
        cmocka_unit_test(test_damaged_last_record_is_kept),
        cmocka_unit_test(test_huge_length_is_never_allocated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
