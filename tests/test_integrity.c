/* Integrity regressions: values are checked against their checksums, torn
 * appends never surface (nor do records that a torn value happens to hold),
 * scans end, resume exactly, and recovery never resynchronizes byte by byte.
 * Written against the engine's new contract (companion append.<n>.idx). */
#include "test_util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define HDR 16

static void put_le(uint8_t *p, uint64_t v, int n) {
    for (int i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* A record as rochefort documents it, built here by hand. */
static size_t hand_record(uint8_t *out, const void *value, uint32_t len, uint64_t time_ns) {
    put_le(out, len, 4);
    put_le(out + 4, time_ns, 8);
    put_le(out + 12, crc32(0L, out, 12), 4);
    if (len) memcpy(out + HDR, value, len);
    return HDR + len;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void fill_random(uint8_t *p, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x = rng();
        memcpy(p + i, &x, 8);
    }
    for (; i < n; i++) p[i] = (uint8_t)rng();
}

/* Directories of the running test, removed by its teardown even when it
 * fails (a failed kill round would otherwise leave a 256 MiB file behind). */
static char *live_dirs[4];
static uint8_t *big_value;

static char *dir_new(void) {
    char *dir = test_dir_new();
    for (size_t i = 0; i < sizeof live_dirs / sizeof *live_dirs; i++)
        if (!live_dirs[i]) return live_dirs[i] = dir;
    fail_msg("too many live test directories");
    return NULL;
}

static void dir_free(char *dir) {
    for (size_t i = 0; i < sizeof live_dirs / sizeof *live_dirs; i++)
        if (live_dirs[i] == dir) live_dirs[i] = NULL;
    test_dir_free(dir);
}

static int cleanup(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof live_dirs / sizeof *live_dirs; i++)
        if (live_dirs[i]) {
            char *dir = live_dirs[i];
            live_dirs[i] = NULL;
            test_dir_free(dir);
        }
    free(big_value);
    big_value = NULL;
    return 0;
}

static void stat_of(roche_db *db, roche_stat_info *info) {
    memset(info, 0, sizeof *info);
    info->version = ROCHE_STAT_VERSION;
    assert_roche_ok(roche_stat(db, NULL, info));
}

/* ------------------------------------------------------------------------
 * 1. kill -9 in the middle of a 256 MiB append whose value holds, 1 MiB in,
 *    a valid header (length 5, time 12345) and "EVIL!".
 * ------------------------------------------------------------------------ */

#define BIG_LEN ((size_t)256 << 20)
#define EVIL_AT ((size_t)1 << 20)
#define EVIL_TIME 12345u

static int write_full(int fd, const void *p, size_t n) {
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static size_t read_full(int fd, void *p, size_t n) {
    char *c = p;
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, c + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    return got;
}

/* The child: "before", report its offset, say "go", append the big value,
 * say "done" with its offset, close. Never returns to cmocka. */
static void big_append_child(const char *dir, const uint8_t *big, int fd) {
    roche_options *opts = roche_options_new();
    if (!opts || roche_options_set_buckets(opts, 1) != ROCHE_OK) _exit(2);
    roche_db *db = NULL;
    if (roche_open(dir, opts, &db) != ROCHE_OK) _exit(3);
    roche_options_free(opts);
    uint64_t off;
    if (roche_append(db, NULL, NULL, "before", 6, &off) != ROCHE_OK) _exit(4);
    if (write_full(fd, &off, 8) || write_full(fd, "g", 1)) _exit(5);
    if (roche_append(db, NULL, NULL, big, BIG_LEN, &off) != ROCHE_OK) _exit(6);
    if (write_full(fd, "d", 1) || write_full(fd, &off, 8)) _exit(7);
    if (roche_close(db) != ROCHE_OK) _exit(8);
    _exit(0);
}

static int big_rounds_kept[2]; /* rounds that kept 1 record, 2 records */

/* One round on a fresh store; delay_us < 0: no kill, a clean close. Returns
 * how many records the reopened store kept (1 or 2); *took receives how
 * long the big append took as the parent saw it (clean rounds). */
static int big_append_round(const uint8_t *big, long delay_us, uint64_t *took_ns) {
    char *dir = dir_new();
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        big_append_child(dir, big, p[1]);
    }
    close(p[1]);
    uint64_t before_off = ~0ull;
    char go = 0;
    if (read_full(p[0], &before_off, 8) != 8 || read_full(p[0], &go, 1) != 1 || go != 'g') {
        kill(pid, SIGKILL);
        int st;
        waitpid(pid, &st, 0);
        fail_msg("child failed before the big append (status %d)", st);
    }
    uint64_t go_at = wall_ns(), took;
    if (delay_us >= 0) {
        if (delay_us) usleep((useconds_t)delay_us);
        kill(pid, SIGKILL);
    }
    char done = 0;
    uint64_t big_off = ~0ull;
    int completed = read_full(p[0], &done, 1) == 1 && done == 'd';
    took = wall_ns() - go_at;
    completed = completed && read_full(p[0], &big_off, 8) == 8;
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    close(p[0]);
    if (delay_us < 0) {
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            fail_msg("clean child exited with status %d", status);
        assert_true(completed);
    }

    roche_db *db = open_store(dir, 1, 0);
    roche_scan *scan;
    assert_roche_ok(roche_scan_open(db, NULL, 0, &scan));
    int n = 0, rc;
    uint64_t off, t;
    const void *data;
    size_t len;
    while ((rc = roche_scan_next(scan, &off, &data, &len, &t)) == ROCHE_OK && n < 10) {
        if (t == EVIL_TIME || (len == 5 && memcmp(data, "EVIL!", 5) == 0))
            fail_msg("delay %ld us: the scan yields the record held in the torn value "
                     "(offset %llu, time %llu, len %zu)",
                     delay_us, (unsigned long long)off, (unsigned long long)t, len);
        if (n == 0) {
            assert_int_equal(off, before_off);
            assert_int_equal(len, 6);
            assert_memory_equal(data, "before", 6);
        } else if (n == 1) {
            if (off != before_off + HDR + 6 || len != BIG_LEN)
                fail_msg("delay %ld us: second record at %llu holds %zu bytes, expected the "
                         "whole %zu-byte value at %llu",
                         delay_us, (unsigned long long)off, len, BIG_LEN,
                         (unsigned long long)(before_off + HDR + 6));
            if (memcmp(data, big, BIG_LEN) != 0)
                fail_msg("delay %ld us: the 256 MiB value does not read back byte for byte",
                         delay_us);
        } else {
            fail_msg("delay %ld us: unexpected record %d at offset %llu (len %zu, time %llu)",
                     delay_us, n, (unsigned long long)off, len, (unsigned long long)t);
        }
        n++;
    }
    if (rc != ROCHE_DONE) fail_msg("delay %ld us: scan ended with %d, not DONE", delay_us, rc);
    roche_scan_free(scan);
    if (n == 0) fail_msg("delay %ld us: the record \"before\" was lost", delay_us);
    if (completed && n != 2)
        fail_msg("delay %ld us: the append returned (offset %llu) but the scan sees %d records",
                 delay_us, (unsigned long long)big_off, n);
    if (completed) assert_int_equal(big_off, before_off + HDR + 6);
    if (delay_us < 0) assert_int_equal(n, 2);
    roche_stat_info info;
    stat_of(db, &info);
    if (info.records != (uint64_t)n)
        fail_msg("delay %ld us: stat says %llu records, the scan saw %d", delay_us,
                 (unsigned long long)info.records, n);
    assert_roche_ok(roche_close(db));
    dir_free(dir);
    big_rounds_kept[n - 1]++;
    if (took_ns) *took_ns = took;
    return n;
}

static void test_kill_mid_append_never_surfaces_inner_record(void **state) {
    (void)state;
    uint8_t *big = big_value = malloc(BIG_LEN);
    assert_non_null(big);
    fill_random(big, BIG_LEN);
    hand_record(big + EVIL_AT, "EVIL!", 5, EVIL_TIME);
    unsigned seed = (unsigned)(wall_ns() ^ (uint64_t)getpid());
    srand(seed);
    /* Clean closes first: exactly the two records, and how long the big
     * append takes here (the faster of two; the first warms the page cache). */
    big_rounds_kept[0] = big_rounds_kept[1] = 0;
    uint64_t t1, t2;
    big_append_round(big, -1, &t1);
    big_append_round(big, -1, &t2);
    long took_us = (long)((t1 < t2 ? t1 : t2) / 1000);
    static const long delays_ms[] = {0, 2, 5, 10, 20, 40};
    for (size_t i = 0; i < sizeof delays_ms / sizeof *delays_ms; i++)
        big_append_round(big, delays_ms[i] * 1000 + (delays_ms[i] ? rand() % 1000 : 0), NULL);
    /* Then bisect the kill delay between "killed before the append
     * returned" and "after": the kills close in on the moment the value is
     * all but written, the widest torn state, whatever this machine's speed. */
    long lo = 0, hi = 2 * took_us + 1000;
    for (int round = 0; round < 8; round++) {
        long delay = lo + (hi - lo) / 2 + rand() % 200 - 100;
        if (delay < 0) delay = 0;
        if (big_append_round(big, delay, NULL) == 1)
            lo = delay;
        else
            hi = delay;
        if (hi < lo) hi = lo + 1000;
    }
    print_message("big append took %ld us; kill rounds keeping 1 record: %d, 2 records: %d "
                  "(boundary near %ld us)\n",
                  took_us, big_rounds_kept[0], big_rounds_kept[1] - 2, hi);
    free(big);
    big_value = NULL;
}

/* ------------------------------------------------------------------------
 * 2. A page of a value zeroed on disk: ECORRUPT, never the data.
 * ------------------------------------------------------------------------ */

#define MID_LEN 12000

static void check_zeroed_page(roche_db *db, const uint64_t offs[3]) {
    void *data = NULL;
    size_t len = 0;
    int rc = roche_get(db, NULL, offs[1], &data, &len);
    if (rc == ROCHE_OK) roche_free(data);
    if (rc != ROCHE_ECORRUPT)
        fail_msg("get of the record with a zeroed page returned %d (%s), expected ECORRUPT", rc,
                 roche_strerror(rc));
    assert_value(db, NULL, offs[0], "first-record", 12);
    assert_value(db, NULL, offs[2], "last-record", 11);

    roche_values *vals = NULL;
    assert_roche_ok(roche_multiget(db, NULL, offs, 3, &vals));
    assert_int_equal(roche_values_count(vals), 3);
    const void *v;
    size_t vl;
    assert_roche_ok(roche_values_item(vals, 0, &v, &vl));
    assert_int_equal(vl, 12);
    assert_memory_equal(v, "first-record", 12);
    assert_roche_code(roche_values_item(vals, 1, &v, &vl), ROCHE_ECORRUPT);
    assert_roche_ok(roche_values_item(vals, 2, &v, &vl));
    assert_int_equal(vl, 11);
    assert_memory_equal(v, "last-record", 11);
    roche_values_free(vals);

    roche_scan *scan;
    assert_roche_ok(roche_scan_open(db, NULL, 0, &scan));
    uint64_t off = ~0ull;
    const void *d;
    size_t l;
    assert_roche_ok(roche_scan_next(scan, &off, &d, &l, NULL));
    assert_int_equal(off, offs[0]);
    assert_int_equal(l, 12);
    assert_memory_equal(d, "first-record", 12);
    off = ~0ull;
    rc = roche_scan_next(scan, &off, &d, &l, NULL);
    if (rc != ROCHE_ECORRUPT)
        fail_msg("scan at the record with a zeroed page returned %d (%s), expected ECORRUPT", rc,
                 roche_strerror(rc));
    assert_int_equal(off, offs[1]);
    assert_roche_ok(roche_scan_next(scan, &off, &d, &l, NULL));
    assert_int_equal(off, offs[2]);
    assert_int_equal(l, 11);
    assert_memory_equal(d, "last-record", 11);
    assert_int_equal(roche_scan_next(scan, &off, &d, &l, NULL), ROCHE_DONE);
    roche_scan_free(scan);

    roche_stat_info info;
    stat_of(db, &info);
    assert_true(info.damaged_ranges >= 1);
    assert_true(info.damaged_bytes >= 1);
}

static void test_zeroed_page_in_value_is_corrupt(void **state) {
    (void)state;
    char *dir = dir_new();
    uint8_t *mid = malloc(MID_LEN);
    assert_non_null(mid);
    fill_random(mid, MID_LEN);
    for (size_t i = 0; i < MID_LEN; i++)
        if (!mid[i]) mid[i] = 0x5A; /* every byte of the page changes */
    roche_db *db = open_store(dir, 1, 0);
    uint64_t offs[3];
    assert_roche_ok(roche_append(db, NULL, NULL, "first-record", 12, &offs[0]));
    assert_roche_ok(roche_append(db, NULL, NULL, mid, MID_LEN, &offs[1]));
    assert_roche_ok(roche_append(db, NULL, NULL, "last-record", 11, &offs[2]));
    assert_roche_ok(roche_close(db));
    assert_true(offs[1] + HDR <= 4096 && offs[1] + HDR + MID_LEN >= 8192);

    char *path = bucket_path(dir, NULL, 0);
    long size = file_size(path);
    assert_int_equal(size, 3 * HDR + 12 + MID_LEN + 11);
    static const uint8_t zeros[4096];
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, zeros, 4096, 4096), 4096);
    assert_int_equal(close(fd), 0);

    db = open_store(dir, 1, 0);
    check_zeroed_page(db, offs);
    roche_db *ro = open_store(dir, 1, 1); /* beside the writer */
    check_zeroed_page(ro, offs);
    assert_roche_ok(roche_close(db));
    assert_int_equal(file_size(path), size); /* kept, never truncated */
    check_zeroed_page(ro, offs);
    assert_roche_ok(roche_close(ro));
    ro = open_store(dir, 1, 1); /* alone, after the writer */
    check_zeroed_page(ro, offs);
    assert_roche_ok(roche_close(ro));

    free(path);
    free(mid);
    dir_free(dir);
}

/* ------------------------------------------------------------------------
 * 3. Seed-format bucket (no .idx): A, 4096 zero bytes, B, C. Recovery keeps
 *    A only and saves the rest aside in append.0.raw.cut-<position>.
 * ------------------------------------------------------------------------ */

static void check_seed_a_only(roche_db *db, const char *who) {
    roche_scan *scan;
    assert_roche_ok(roche_scan_open(db, NULL, 0, &scan));
    uint64_t off;
    const void *d;
    size_t l;
    int n = 0, rc;
    while ((rc = roche_scan_next(scan, &off, &d, &l, NULL)) != ROCHE_DONE && n < 10) {
        if (n == 0 && rc == ROCHE_OK && off == 0 && l == 1 && memcmp(d, "A", 1) == 0) {
            n++;
            continue;
        }
        fail_msg("%s: scan step %d returned %d at offset %llu (len %zu), expected A then DONE",
                 who, n, rc, (unsigned long long)off, rc == ROCHE_OK ? l : 0);
    }
    roche_scan_free(scan);
    if (n != 1) fail_msg("%s: scan yields %d records, expected A only", who, n);
    roche_stat_info info;
    stat_of(db, &info);
    if (info.records != 1)
        fail_msg("%s: stat says %llu records, expected 1", who, (unsigned long long)info.records);
    assert_value(db, NULL, 0, "A", 1);
}

static void test_seed_format_gap_is_cut_not_resynchronized(void **state) {
    (void)state;
    char *dir = dir_new();
    char ns_dir[600];
    snprintf(ns_dir, sizeof ns_dir, "%s/default", dir);
    assert_int_equal(mkdir(ns_dir, 0755), 0);
    uint64_t t = wall_ns();
    uint8_t file[17 + 4096 + 18 + 19];
    memset(file, 0, sizeof file);
    size_t a_len = hand_record(file, "A", 1, t);
    assert_int_equal(a_len, 17);
    size_t pos = a_len + 4096;
    pos += hand_record(file + pos, "BB", 2, t + 1);
    pos += hand_record(file + pos, "CCC", 3, t + 2);
    assert_int_equal(pos, sizeof file);
    char *path = bucket_path(dir, NULL, 0);
    write_file(path, file, sizeof file);
    char cut_path[700];
    snprintf(cut_path, sizeof cut_path, "%s.cut-%zu", path, a_len);

    roche_db *ro1 = open_store(dir, 1, 1); /* before the writer */
    check_seed_a_only(ro1, "read-only, before the writer");

    roche_db *rw = open_store(dir, 1, 0);
    check_seed_a_only(rw, "writable");
    if (file_size(cut_path) < 0) fail_msg("no cut file %s", cut_path);
    size_t cut_len;
    uint8_t *cut = read_file(cut_path, &cut_len);
    assert_int_equal(cut_len, sizeof file - a_len);
    assert_memory_equal(cut, file + a_len, cut_len);
    free(cut);
    check_seed_a_only(ro1, "read-only opened before the writer, beside it");
    roche_db *ro2 = open_store(dir, 1, 1);
    check_seed_a_only(ro2, "read-only opened beside the writer");

    assert_roche_ok(roche_close(rw));
    size_t len;
    uint8_t *bytes = read_file(path, &len);
    assert_int_equal(len, a_len); /* only A is left in the bucket */
    assert_memory_equal(bytes, file, a_len);
    free(bytes);
    check_seed_a_only(ro1, "read-only opened before the writer, after it closed");
    check_seed_a_only(ro2, "read-only opened beside the writer, after it closed");
    roche_db *ro3 = open_store(dir, 1, 1);
    check_seed_a_only(ro3, "read-only opened after the writer closed");
    assert_roche_ok(roche_close(ro3));
    assert_roche_ok(roche_close(ro2));
    assert_roche_ok(roche_close(ro1));
    free(path);
    dir_free(dir);
}

/* ------------------------------------------------------------------------
 * 4. A scan sees the records that existed when it reached the bucket: it
 *    ends even while appends to that bucket go on.
 * ------------------------------------------------------------------------ */

static void scan_while_appending(roche_db *writer, roche_db *reader) {
    char value[32];
    uint64_t off;
    for (int i = 0; i < 5; i++) {
        snprintf(value, sizeof value, "rec-%d", i);
        assert_roche_ok(roche_append(writer, NULL, "same", value, strlen(value), &off));
    }
    roche_scan *scan;
    assert_roche_ok(roche_scan_open(reader, NULL, 0, &scan));
    int n = 0, rc;
    const void *d;
    size_t l;
    while ((rc = roche_scan_next(scan, &off, &d, &l, NULL)) == ROCHE_OK && n < 50) {
        if (n < 5) {
            snprintf(value, sizeof value, "rec-%d", n);
            assert_int_equal(l, strlen(value));
            assert_memory_equal(d, value, l);
        }
        n++;
        snprintf(value, sizeof value, "more-%d", n);
        assert_roche_ok(roche_append(writer, NULL, "same", value, strlen(value), NULL));
    }
    roche_scan_free(scan);
    if (n != 5 || rc != ROCHE_DONE)
        fail_msg("scan returned %d%s records (last code %d), expected exactly 5 then DONE", n,
                 n >= 50 ? " or more" : "", rc);
}

static void test_scan_ends_while_appending(void **state) {
    (void)state;
    char *dir = dir_new();
    roche_db *db = open_store(dir, 1, 0);
    scan_while_appending(db, db);
    assert_roche_ok(roche_close(db));
    dir_free(dir);

    dir = dir_new();
    db = open_store(dir, 1, 0);
    roche_db *ro = open_store(dir, 1, 1); /* scans while the writer appends */
    scan_while_appending(db, ro);
    assert_roche_ok(roche_close(ro));
    assert_roche_ok(roche_close(db));
    dir_free(dir);
}

/* ------------------------------------------------------------------------
 * 5. Resuming a scan from any offset starts at the first record at or
 *    after it, never at a header held inside a value.
 * ------------------------------------------------------------------------ */

#define RESUME_N 1000

typedef struct {
    uint64_t off;
    size_t len;
    size_t inside; /* a position inside the value (0 when empty) */
    uint8_t value[300];
} resume_rec;

static void expect_first(roche_db *db, uint64_t from, const resume_rec *recs, int want,
                         const char *who) {
    roche_scan *scan;
    assert_roche_ok(roche_scan_open(db, NULL, from, &scan));
    uint64_t off = ~0ull;
    const void *d;
    size_t l = 0;
    int rc = roche_scan_next(scan, &off, &d, &l, NULL);
    if (want >= RESUME_N) {
        if (rc != ROCHE_DONE)
            fail_msg("%s: scan from %llu returned %d at offset %llu, expected DONE", who,
                     (unsigned long long)from, rc, (unsigned long long)off);
    } else {
        const resume_rec *r = &recs[want];
        if (rc != ROCHE_OK || off != r->off || l != r->len ||
            (l && memcmp(d, r->value, l) != 0))
            fail_msg("%s: scan from %llu returned %d at offset %llu (len %zu), expected "
                     "record %d at %llu (len %zu)",
                     who, (unsigned long long)from, rc, (unsigned long long)off,
                     rc == ROCHE_OK ? l : 0, want, (unsigned long long)r->off, r->len);
    }
    roche_scan_free(scan);
}

static void check_resume(roche_db *db, const resume_rec *recs, const char *who) {
    for (int i = 0; i < RESUME_N; i++) {
        expect_first(db, recs[i].off, recs, i, who);
        expect_first(db, recs[i].off + 1, recs, i + 1, who);
        if (recs[i].len) expect_first(db, recs[i].off + recs[i].inside, recs, i + 1, who);
    }
}

static void test_scan_resumes_exactly(void **state) {
    (void)state;
    char *dir = dir_new();
    resume_rec *recs = calloc(RESUME_N, sizeof *recs);
    assert_non_null(recs);
    roche_db *db = open_store(dir, 1, 0);
    for (int i = 0; i < RESUME_N; i++) {
        resume_rec *r = &recs[i];
        r->len = (size_t)(rng() % 301);
        fill_random(r->value, r->len);
        if (r->len >= 48 && i % 3 == 0) {
            /* A complete record inside the value, where the resume lands. */
            size_t p = 8 + (size_t)(rng() % (r->len - 48 + 1));
            hand_record(r->value + p, "emb!", 4, 777);
            r->inside = HDR + p;
        } else if (r->len) {
            r->inside = HDR + r->len / 2;
        }
        assert_roche_ok(roche_append(db, NULL, NULL, r->value, r->len, &r->off));
    }
    check_resume(db, recs, "writable");
    roche_db *ro = open_store(dir, 1, 1);
    check_resume(ro, recs, "read-only beside the writer");
    assert_roche_ok(roche_close(ro));
    assert_roche_ok(roche_close(db));
    ro = open_store(dir, 1, 1);
    check_resume(ro, recs, "read-only after close");
    assert_roche_ok(roche_close(ro));
    db = open_store(dir, 1, 0);
    check_resume(db, recs, "writable after reopen");
    assert_roche_ok(roche_close(db));
    free(recs);
    dir_free(dir);
}

/* ------------------------------------------------------------------------
 * 6. A value holding complete valid records is one record: what it holds
 *    is never a record of its own.
 * ------------------------------------------------------------------------ */

#define NEST_LEN 4096

static void check_nested(roche_db *db, uint64_t off, const uint8_t *value, const size_t *ks,
                         size_t nk, const char *who) {
    roche_scan *scan;
    assert_roche_ok(roche_scan_open(db, NULL, 0, &scan));
    uint64_t got;
    const void *d;
    size_t l;
    assert_roche_ok(roche_scan_next(scan, &got, &d, &l, NULL));
    assert_int_equal(got, off);
    assert_int_equal(l, NEST_LEN);
    assert_memory_equal(d, value, NEST_LEN);
    int rc = roche_scan_next(scan, &got, &d, &l, NULL);
    if (rc != ROCHE_DONE)
        fail_msg("%s: scan returned %d at offset %llu after the one record, expected DONE", who,
                 rc, (unsigned long long)got);
    roche_scan_free(scan);

    uint64_t inner[8];
    for (size_t i = 0; i < nk; i++) {
        inner[i] = off + HDR + ks[i];
        void *data = NULL;
        size_t len = 0;
        rc = roche_get(db, NULL, inner[i], &data, &len);
        if (rc == ROCHE_OK) roche_free(data);
        if (rc != ROCHE_ECORRUPT && rc != ROCHE_ENOTFOUND)
            fail_msg("%s: get at the record held at value byte %zu returned %d (%s)%s", who,
                     ks[i], rc, roche_strerror(rc), rc == ROCHE_OK ? ": its data" : "");
        assert_roche_ok(roche_scan_open(db, NULL, inner[i], &scan));
        rc = roche_scan_next(scan, &got, &d, &l, NULL);
        if (rc != ROCHE_DONE)
            fail_msg("%s: scan from value byte %zu returned %d at offset %llu, expected DONE",
                     who, ks[i], rc, (unsigned long long)got);
        roche_scan_free(scan);
    }
    roche_values *vals = NULL;
    assert_roche_ok(roche_multiget(db, NULL, inner, nk, &vals));
    for (size_t i = 0; i < nk; i++) {
        rc = roche_values_item(vals, i, NULL, NULL);
        if (rc != ROCHE_ECORRUPT && rc != ROCHE_ENOTFOUND)
            fail_msg("%s: multiget item at value byte %zu has status %d (%s)", who, ks[i], rc,
                     roche_strerror(rc));
    }
    roche_values_free(vals);
    roche_stat_info info;
    stat_of(db, &info);
    assert_int_equal(info.records, 1);
}

static void test_records_inside_a_value_are_not_records(void **state) {
    (void)state;
    char *dir = dir_new();
    uint8_t value[NEST_LEN];
    fill_random(value, sizeof value);
    static const size_t ks[] = {0, 100, 1000, 2345, NEST_LEN - HDR - 5};
    const size_t nk = sizeof ks / sizeof *ks;
    for (size_t i = 0; i < nk; i++) hand_record(value + ks[i], "inner", 5, 4242 + i);
    roche_db *db = open_store(dir, 1, 0);
    uint64_t off;
    assert_roche_ok(roche_append(db, NULL, NULL, value, sizeof value, &off));
    assert_roche_ok(roche_close(db));
    db = open_store(dir, 1, 0);
    check_nested(db, off, value, ks, nk, "writable");
    roche_db *ro = open_store(dir, 1, 1);
    check_nested(ro, off, value, ks, nk, "read-only");
    assert_roche_ok(roche_close(ro));
    assert_roche_ok(roche_close(db));
    dir_free(dir);
}

/* The newest valid synced checkpoint of a companion file: its record count,
 * or -1 when it has none. Layout from roche.h (COMPANION FILE). */
static long long checkpoint_count(const char *idx_path) {
    size_t len;
    uint8_t *bytes = read_file(idx_path, &len);
    long long best = -1;
    uint64_t best_gen = 0;
    for (int slot = 0; slot < 2 && len >= 1024; slot++) {
        const uint8_t *p = bytes + slot * 512;
        if (memcmp(p, "RCHIX002", 8) != 0) continue;
        uint64_t gen, count;
        memcpy(&gen, p + 8, 8);
        memcpy(&count, p + 16, 8);
        if (gen > best_gen) {
            best_gen = gen;
            best = (long long)count;
        }
    }
    free(bytes);
    return best;
}

static char *companion_path(const char *root, uint32_t b) {
    char *raw = bucket_path(root, NULL, b);
    strcpy(raw + strlen(raw) - 4, ".idx");
    return raw;
}

/* 7. Group commit: under ROCHE_SYNC_PERIODIC a thread of the handle syncs
 * on its own; the checkpoint on disk catches up with the appends without
 * any roche_sync() call. roche_sync() checkpoints at once. */
static void test_periodic_sync_checkpoints(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_options *opts = roche_options_new();
    assert_roche_code(roche_options_set_sync(opts, 3), ROCHE_EINVAL);
    assert_roche_code(roche_options_set_sync_period_ms(opts, 0), ROCHE_EINVAL);
    assert_roche_code(roche_options_set_sync_period_ms(NULL, 5), ROCHE_EINVAL);
    assert_roche_ok(roche_options_set_sync(opts, ROCHE_SYNC_PERIODIC));
    assert_roche_ok(roche_options_set_sync_period_ms(opts, 20));
    assert_roche_ok(roche_options_set_buckets(opts, 1));
    roche_db *db;
    assert_roche_ok(roche_open(dir, opts, &db));
    roche_options_free(opts);
    char *idx = companion_path(dir, 0);
    for (int round = 1; round <= 3; round++) {
        assert_roche_ok(roche_append(db, NULL, NULL, "tick", 4, NULL));
        long long seen = -1;
        for (int wait = 0; wait < 400 && seen < round; wait++) { /* up to 4 s */
            usleep(10000);
            seen = checkpoint_count(idx);
        }
        assert_int_equal(seen, round);
    }
    assert_roche_ok(roche_close(db));

    db = open_store(dir, 1, 0); /* no group commit: only roche_sync checkpoints */
    assert_roche_ok(roche_append(db, NULL, NULL, "more", 4, NULL));
    usleep(100000);
    assert_int_equal(checkpoint_count(idx), 3);
    assert_roche_ok(roche_sync(db));
    assert_int_equal(checkpoint_count(idx), 4);
    assert_roche_ok(roche_close(db));
    free(idx);
    test_dir_free(dir);
}

/* 8. Batched scan: records come out in batches, values valid until the
 * next call; a damaged record is never inside a batch: it ends the batch
 * and the next call reports it alone (ROCHE_ECORRUPT, its offset), then the
 * scan goes on. Writable and read-only handles alike. */
static void test_scan_batches_report_damage_alone(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *db = open_store(dir, 1, 0);
    uint64_t offs[10];
    char value[10][40];
    for (int i = 0; i < 10; i++) {
        snprintf(value[i], sizeof value[i], "batch-record-%d-%0*d", i, i * 2, 0);
        assert_roche_ok(roche_append(db, NULL, NULL, value[i], strlen(value[i]), &offs[i]));
    }
    assert_roche_ok(roche_close(db));
    char *path = bucket_path(dir, NULL, 0);
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    uint8_t byte = 'X';
    assert_int_equal(pwrite(fd, &byte, 1, (off_t)(offs[4] + 16 + 3)), 1); /* value of record 4 */
    close(fd);
    for (int read_only = 0; read_only < 2; read_only++) {
        db = open_store(dir, 1, read_only);
        roche_scan *scan;
        assert_roche_ok(roche_scan_open(db, NULL, 0, &scan));
        uint64_t got_offs[3], times[3];
        const void *data[3];
        size_t lens[3], count;
        /* expected batches: {0,1,2} {3} ECORRUPT(4) {5,6,7} {8,9} DONE */
        static const int firsts[] = {0, 3, 4, 5, 8}, sizes[] = {3, 1, 1, 3, 2};
        for (int b = 0; b < 5; b++) {
            int rc = roche_scan_next_batch(scan, 3, got_offs, data, lens, times, &count);
            assert_int_equal(count, sizes[b]);
            if (firsts[b] == 4) {
                assert_int_equal(rc, ROCHE_ECORRUPT);
                assert_int_equal(got_offs[0], offs[4]);
                assert_null(data[0]);
                continue;
            }
            assert_roche_ok(rc);
            for (size_t k = 0; k < count; k++) {
                int i = firsts[b] + (int)k;
                assert_int_equal(got_offs[k], offs[i]);
                assert_int_equal(lens[k], strlen(value[i]));
                assert_memory_equal(data[k], value[i], lens[k]);
                assert_true(times[k] > 0);
            }
        }
        assert_int_equal(roche_scan_next_batch(scan, 3, NULL, NULL, NULL, NULL, &count), ROCHE_DONE);
        assert_int_equal(count, 0);
        assert_roche_code(roche_scan_next_batch(NULL, 3, NULL, NULL, NULL, NULL, &count), ROCHE_EINVAL);
        assert_roche_code(roche_scan_next_batch(scan, 3, NULL, NULL, NULL, NULL, NULL), ROCHE_EINVAL);
        roche_scan_free(scan);
        assert_roche_ok(roche_close(db));
    }
    free(path);
    test_dir_free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_kill_mid_append_never_surfaces_inner_record, cleanup),
        cmocka_unit_test_teardown(test_zeroed_page_in_value_is_corrupt, cleanup),
        cmocka_unit_test_teardown(test_seed_format_gap_is_cut_not_resynchronized, cleanup),
        cmocka_unit_test_teardown(test_scan_ends_while_appending, cleanup),
        cmocka_unit_test_teardown(test_scan_resumes_exactly, cleanup),
        cmocka_unit_test_teardown(test_records_inside_a_value_are_not_records, cleanup),
        cmocka_unit_test(test_periodic_sync_checkpoints),
        cmocka_unit_test(test_scan_batches_report_damage_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
