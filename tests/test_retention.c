/* Retention: dropping the oldest records by age and by size, in place:
 * offsets of the records kept stay valid, the disk space really goes (the
 * file's allocated blocks drop), dropped offsets are ROCHE_EDROPPED, scans
 * start at the first record kept, a reopen (and a read-only handle in
 * another process) agrees, and a SIGKILL in the middle of a pass loses no
 * record it was not dropping. */
#define _GNU_SOURCE
#include "test_util.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define NS "ret"
#define VALUE 3000

static long blocks_of(const char *path) {
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (long)st.st_blocks * 512;
}

static void fill(char *v, int i) {
    for (int b = 0; b < VALUE; b++) v[b] = (char)(i * 7 + b);
}

/* Checks record i at off: intact, or dropped (expect_dropped). */
static void check_record(roche_db *db, uint64_t off, int i, int expect_dropped) {
    void *got;
    size_t len;
    int rc = roche_get(db, NS, off, &got, &len);
    if (expect_dropped) {
        if (rc != ROCHE_EDROPPED) fail_msg("record %d: %d (%s), expected ROCHE_EDROPPED", i, rc, roche_last_error());
        return;
    }
    if (rc != ROCHE_OK) fail_msg("record %d: %d (%s)", i, rc, roche_last_error());
    char v[VALUE];
    fill(v, i);
    assert_int_equal(len, VALUE);
    assert_memory_equal(got, v, VALUE);
    roche_free(got);
}

static void test_retain_by_age(void **state) {
    (void)state;
    char *root = test_dir_new();
    roche_db *db = open_store(root, 1, 0);
    uint64_t off[200];
    char v[VALUE];
    for (int i = 0; i < 100; i++) {
        fill(v, i);
        assert_roche_ok(roche_append(db, NS, NULL, v, VALUE, &off[i]));
    }
    test_sleep_ms(5);
    uint64_t cutoff = wall_ns();
    test_sleep_ms(5);
    for (int i = 100; i < 200; i++) {
        fill(v, i);
        assert_roche_ok(roche_append(db, NS, NULL, v, VALUE, &off[i]));
    }
    assert_roche_ok(roche_sync(db));
    char *raw = bucket_path(root, NS, 0);
    long before = blocks_of(raw);
    uint64_t freed;
    assert_roche_ok(roche_retain(db, NS, cutoff, 0, &freed));
    assert_int_equal(freed, 100 * (16 + VALUE));
    long after = blocks_of(raw);
    /* The space really went: all but the block holding the first kept. */
    if (before - after < (long)(100 * (16 + VALUE)) - 8192)
        fail_msg("blocks before %ld after %ld: freed only %ld bytes", before, after, before - after);
    for (int i = 0; i < 200; i++) check_record(db, off[i], i, i < 100);
    /* Scans start at the first record kept. */
    roche_scan *scan;
    assert_roche_ok(roche_scan_open(db, NS, 0, &scan));
    uint64_t o;
    assert_roche_ok(roche_scan_next(scan, &o, NULL, NULL, NULL));
    assert_int_equal(o, off[100]);
    roche_scan_free(scan);
    uint64_t first, end;
    assert_roche_ok(roche_bucket_range(db, NS, 0, &first, &end));
    assert_int_equal(first, off[100]);
    assert_int_equal(end, off[199] + 16 + VALUE);
    roche_stat_info info = {.version = ROCHE_STAT_VERSION};
    assert_roche_ok(roche_stat(db, NS, &info));
    assert_int_equal(info.records, 100);
    assert_int_equal(info.dropped_records, 100);
    assert_int_equal(info.dropped_bytes, 100 * (16 + VALUE));
    assert_int_equal(info.damaged_ranges, 0);
    /* A second pass with the same cutoff drops nothing more. */
    assert_roche_ok(roche_retain(db, NS, cutoff, 0, &freed));
    assert_int_equal(freed, 0);
    /* After a reopen: the same records, and appends go on. */
    assert_roche_ok(roche_close(db));
    db = open_store(root, 1, 0);
    for (int i = 0; i < 200; i++) check_record(db, off[i], i, i < 100);
    uint64_t more;
    assert_roche_ok(roche_append(db, NS, NULL, "more", 4, &more));
    assert_value(db, NS, more, "more", 4);
    assert_roche_ok(roche_close(db));
    /* A read-only handle in another process agrees. */
    pid_t pid = fork();
    if (pid == 0) {
        roche_db *r = open_store(root, 1, 1);
        void *got;
        size_t len;
        if (roche_get(r, NS, off[5], &got, &len) != ROCHE_EDROPPED) _exit(2);
        if (roche_get(r, NS, off[150], &got, &len) != ROCHE_OK || len != VALUE) _exit(3);
        roche_free(got);
        roche_close(r);
        _exit(0);
    }
    test_assert_child_ok(pid, 30);
    free(raw);
    test_dir_free(root);
}

static void test_retain_by_size_drops_oldest_across_buckets(void **state) {
    (void)state;
    char *root = test_dir_new();
    roche_db *db = open_store(root, 4, 0);
    uint64_t off[400];
    char v[VALUE];
    const char *ids[] = {"a", "b", "c", "d", "e"};
    for (int i = 0; i < 400; i++) {
        fill(v, i);
        assert_roche_ok(roche_append(db, NS, ids[i % 5], v, VALUE, &off[i]));
        if (i % 50 == 0) test_sleep_ms(1);  /* times differ */
    }
    uint64_t limit = 120 * (16 + VALUE);
    uint64_t freed;
    assert_roche_ok(roche_retain(db, NS, 0, limit, &freed));
    roche_stat_info info = {.version = ROCHE_STAT_VERSION};
    assert_roche_ok(roche_stat(db, NS, &info));
    assert_true(info.bytes <= limit);
    assert_true(info.bytes > limit - 20 * (16 + VALUE));  /* not far more than needed */
    assert_int_equal(freed, info.dropped_bytes);
    /* Everything dropped is older than everything kept: a dropped prefix
     * of the append order. */
    int first_kept = -1;
    for (int i = 0; i < 400; i++) {
        void *got;
        size_t len;
        int rc = roche_get(db, NS, off[i], &got, &len);
        if (rc == ROCHE_OK) {
            roche_free(got);
            if (first_kept < 0) first_kept = i;
        } else {
            assert_int_equal(rc, ROCHE_EDROPPED);
            /* Records appended within the same millisecond may fall on
             * either side; beyond that, nothing kept precedes a drop. */
            if (first_kept >= 0 && i - first_kept > 50) fail_msg("record %d dropped after %d kept", i, first_kept);
        }
    }
    assert_true(first_kept > 0);
    assert_roche_ok(roche_close(db));
    test_dir_free(root);
}


/* One append_many gives its records one time: the size limit still keeps
 * as many of the newest as fit, not none. */
static void test_retain_by_size_splits_one_batch(void **state) {
    (void)state;
    char *root = test_dir_new();
    roche_db *db = open_store(root, 1, 0);
    static char values[10 * 100];
    size_t lens[10];
    uint64_t off[10];
    for (int i = 0; i < 10; i++) lens[i] = 100;
    memset(values, 'b', sizeof values);
    assert_roche_ok(roche_append_many(db, NS, NULL, values, lens, 10, off));
    uint64_t freed;
    assert_roche_ok(roche_retain(db, NS, 0, 8 * 116 + 50, &freed));
    assert_int_equal(freed, 2 * 116);
    void *got;
    size_t len;
    assert_roche_code(roche_get(db, NS, off[1], &got, &len), ROCHE_EDROPPED);
    assert_roche_ok(roche_get(db, NS, off[2], &got, &len));
    roche_free(got);
    assert_roche_ok(roche_close(db));
    test_dir_free(root);
}

static void test_retention_option_applies_as_it_goes(void **state) {
    (void)state;
    char *root = test_dir_new();
    roche_options *o = roche_options_new();
    roche_options_set_buckets(o, 1);
    assert_roche_ok(roche_options_set_retention(o, 200, 0));  /* keep 200 ms */
    roche_db *db;
    assert_roche_ok(roche_open(root, o, &db));
    roche_options_free(o);
    uint64_t old, young;
    assert_roche_ok(roche_append(db, NS, NULL, "old", 3, &old));
    test_sleep_ms(300);
    assert_roche_ok(roche_append(db, NS, NULL, "young", 5, &young));
    /* The writer's pass runs about once a second. */
    void *got;
    size_t len;
    int rc = ROCHE_OK;
    for (int i = 0; i < 40 && rc == ROCHE_OK; i++) {
        test_sleep_ms(100);
        rc = roche_get(db, NS, old, &got, &len);
        if (rc == ROCHE_OK) roche_free(got);
    }
    assert_int_equal(rc, ROCHE_EDROPPED);
    assert_roche_ok(roche_close(db));
    test_dir_free(root);
}

/* A pass killed at a random instant: the store opens, every record is
 * either intact or dropped, the dropped ones are a prefix, and a new pass
 * completes the drop. */
static void test_kill_during_retention(void **state) {
    (void)state;
    char *root = test_dir_new();
    roche_db *db = open_store(root, 2, 0);
    enum { N = 3000 };
    static uint64_t off[N];
    char v[VALUE];
    for (int i = 0; i < N; i++) {
        fill(v, i);
        assert_roche_ok(roche_append(db, NS, i % 2 ? "x" : "y", v, VALUE, &off[i]));
    }
    assert_roche_ok(roche_close(db));
    int rounds = getenv("ROCHE_RETENTION_KILLS") ? atoi(getenv("ROCHE_RETENTION_KILLS")) : 30;
    for (int round = 0; round < rounds; round++) {
        int keep = N - (round + 1) * (N / (rounds + 1));
        pid_t pid = fork();
        if (pid == 0) {
            roche_db *w = open_store(root, 2, 0);
            uint64_t freed;
            roche_retain(w, NS, 0, (uint64_t)keep * (16 + VALUE), &freed);
            roche_close(w);
            _exit(0);
        }
        test_sleep_ms(round % 7);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        db = open_store(root, 2, 0);
        int dropped_seen = 0;
        for (int b = 0; b < 2; b++) {
            int kept_seen = 0;
            for (int i = b ? 0 : 1; i < N; i += 2) {  /* bucket by bucket, in append order */
                void *got;
                size_t len;
                int rc = roche_get(db, NS, off[i], &got, &len);
                if (rc == ROCHE_OK) {
                    fill(v, i);
                    if (len != VALUE || memcmp(got, v, VALUE) != 0) fail_msg("round %d: record %d damaged", round, i);
                    roche_free(got);
                    kept_seen = 1;
                } else if (rc == ROCHE_EDROPPED) {
                    if (kept_seen) fail_msg("round %d: record %d dropped after a kept one", round, i);
                    dropped_seen++;
                } else {
                    fail_msg("round %d: record %d: %d (%s)", round, i, rc, roche_last_error());
                }
            }
        }
        roche_stat_info info = {.version = ROCHE_STAT_VERSION};
        assert_roche_ok(roche_stat(db, NS, &info));
        assert_int_equal(info.damaged_ranges, 0);
        assert_int_equal(info.dropped_records, (uint64_t)dropped_seen);
        assert_roche_ok(roche_close(db));
    }
    /* A pass left alone completes what the killed ones started. */
    db = open_store(root, 2, 0);
    uint64_t freed;
    assert_roche_ok(roche_retain(db, NS, 0, 100 * (16 + VALUE), &freed));
    roche_stat_info info = {.version = ROCHE_STAT_VERSION};
    assert_roche_ok(roche_stat(db, NS, &info));
    assert_true(info.records <= 100 && info.records >= 98);
    assert_int_equal(info.records + info.dropped_records, N);
    for (int i = N - 90; i < N; i++) check_record(db, off[i], i, 0);
    assert_roche_ok(roche_close(db));
    test_dir_free(root);
}

static void test_retain_errors(void **state) {
    (void)state;
    char *root = test_dir_new();
    roche_db *db = open_store(root, 1, 0);
    uint64_t freed = 7;
    assert_roche_code(roche_retain(NULL, NS, 1, 0, &freed), ROCHE_EINVAL);
    assert_int_equal(freed, 0);
    assert_roche_code(roche_retain(db, "a/b", 1, 0, &freed), ROCHE_EINVAL);
    assert_roche_code(roche_retain(db, "absent", 1, 0, &freed), ROCHE_ENOTFOUND);
    assert_roche_code(roche_options_set_retention(NULL, 1, 1), ROCHE_EINVAL);
    uint64_t first, end;
    assert_roche_code(roche_bucket_range(db, NS, ROCHE_MAX_BUCKETS, &first, &end), ROCHE_EINVAL);
    assert_roche_code(roche_bucket_range(db, NS, 0, NULL, &end), ROCHE_EINVAL);
    assert_roche_ok(roche_append(db, NS, NULL, "x", 1, NULL));
    assert_roche_ok(roche_retain(db, NS, 0, 0, &freed));  /* no limit: nothing */
    assert_int_equal(freed, 0);
    assert_roche_ok(roche_retain(db, NS, 1, 0, NULL));     /* freed may be NULL */
    roche_db *r = open_store(root, 1, 1);
    assert_roche_code(roche_retain(r, NS, 1, 0, &freed), ROCHE_EREADONLY);
    assert_roche_ok(roche_close(r));
    /* Dropping every record: the bucket is empty, appends go on. */
    assert_roche_ok(roche_retain(db, NS, UINT64_MAX, 0, &freed));
    assert_int_equal(freed, 17);
    roche_stat_info info = {.version = ROCHE_STAT_VERSION};
    assert_roche_ok(roche_stat(db, NS, &info));
    assert_int_equal(info.records, 0);
    uint64_t o;
    assert_roche_ok(roche_append(db, NS, NULL, "y", 1, &o));
    assert_int_equal(o, 17);
    assert_value(db, NS, o, "y", 1);
    /* Version 1 callers still get their fields. */
    roche_stat_info v1 = {.version = 1};
    v1.dropped_records = 12345;
    assert_roche_ok(roche_stat(db, NS, &v1));
    assert_int_equal(v1.dropped_records, 12345);  /* untouched: not theirs */
    assert_roche_ok(roche_close(db));
    test_dir_free(root);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retain_by_age),
        cmocka_unit_test(test_retain_by_size_drops_oldest_across_buckets),
        cmocka_unit_test(test_retain_by_size_splits_one_batch),
        cmocka_unit_test(test_retention_option_applies_as_it_goes),
        cmocka_unit_test(test_kill_during_retention),
        cmocka_unit_test(test_retain_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
