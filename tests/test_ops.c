/* Operations: append_many, multiget, scan, namespaces, buckets, sync. */
#include "test_util.h"

#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static void test_append_many_returns_offsets_in_order(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *db = open_store(dir, 4, 0);
    const char data[] = "onetwothree\0four";
    size_t lens[] = {3, 3, 5, 0, 5};
    uint64_t offs[5];
    assert_roche_ok(roche_append_many(db, "batch", "same-id", data, lens, 5, offs));
    const char *p = data;
    for (int i = 0; i < 5; i++) {
        if (i) assert_int_equal(offs[i], offs[i - 1] + 16 + lens[i - 1]);
        assert_value(db, "batch", offs[i], p, lens[i]);
        p += lens[i];
    }
    assert_roche_ok(roche_append_many(db, "batch", NULL, NULL, NULL, 0, NULL));
    assert_roche_ok(roche_close(db));
    test_dir_free(dir);
}

static void test_multiget_keeps_order_and_per_item_status(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *db = open_store(dir, 2, 0);
    uint64_t a, b;
    assert_roche_ok(roche_append(db, NULL, "x", "first", 5, &a));
    assert_roche_ok(roche_append(db, NULL, "x", "", 0, &b));
    uint64_t req[] = {b, a + 1, a, (uint64_t)9 << 50, a, b + 10000};
    int expect[] = {ROCHE_OK, ROCHE_ECORRUPT, ROCHE_OK, ROCHE_ENOTFOUND, ROCHE_OK, ROCHE_ENOTFOUND};
    roche_values *values;
    assert_roche_ok(roche_multiget(db, NULL, req, 6, &values));
    assert_int_equal(roche_values_count(values), 6);
    for (size_t i = 0; i < 6; i++) {
        const void *data;
        size_t len;
        assert_int_equal(roche_values_item(values, i, &data, &len), expect[i]);
        if (expect[i] != ROCHE_OK) {
            assert_null(data);
        } else if (req[i] == a) {
            assert_int_equal(len, 5);
            assert_memory_equal(data, "first", 5);
        } else {
            assert_int_equal(len, 0);
        }
    }
    assert_roche_code(roche_values_item(values, 6, NULL, NULL), ROCHE_EINVAL);
    /* The bulk views tell the same story in three reads. */
    size_t total;
    const char *buf = roche_values_buffer(values, &total);
    const uint64_t *lens = roche_values_lengths(values);
    const int32_t *statuses = roche_values_statuses(values);
    assert_int_equal(total, 10);
    assert_memory_equal(buf, "firstfirst", 10);
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(statuses[i], expect[i]);
        assert_int_equal(lens[i], req[i] == a ? 5 : 0);
    }
    roche_values_free(values);
    /* A namespace that does not exist: every item is not found. */
    assert_roche_ok(roche_multiget(db, "none", req, 2, &values));
    assert_int_equal(roche_values_item(values, 0, NULL, NULL), ROCHE_ENOTFOUND);
    roche_values_free(values);
    assert_roche_ok(roche_multiget(db, NULL, NULL, 0, &values));
    assert_int_equal(roche_values_count(values), 0);
    roche_values_free(values);
    assert_roche_ok(roche_close(db));
    test_dir_free(dir);
}

static int scan_all(roche_db *db, const char *ns, uint64_t from, uint64_t *offs, int max) {
    roche_scan *scan;
    assert_roche_ok(roche_scan_open(db, ns, from, &scan));
    int n = 0, rc;
    uint64_t off, time_ns;
    const void *data;
    size_t len;
    while ((rc = roche_scan_next(scan, &off, &data, &len, &time_ns)) == ROCHE_OK) {
        assert_true(n < max);
        assert_true(time_ns > 0);
        offs[n++] = off;
    }
    assert_int_equal(rc, ROCHE_DONE);
    roche_scan_free(scan);
    return n;
}

static void test_scan_in_offset_order_and_resume(void **state) {
    (void)state;
    char *dir = test_dir_new();
    for (int read_only = 0; read_only < 2; read_only++) {
        roche_db *db = open_store(dir, 4, read_only);
        uint64_t written[40];
        char key[16];
        if (!read_only)
            for (int i = 0; i < 40; i++) {
                snprintf(key, sizeof key, "id-%d", i % 7);
                assert_roche_ok(roche_append(db, "s", key, key, strlen(key), &written[i]));
            }
        uint64_t seen[40];
        int n = scan_all(db, "s", 0, seen, 40);
        assert_int_equal(n, 40);
        for (int i = 1; i < n; i++) assert_true(seen[i] > seen[i - 1]);
        /* Resume after the 10th record, and from inside a record. */
        uint64_t rest[40];
        assert_int_equal(scan_all(db, "s", seen[9] + 1, rest, 40), 30);
        assert_int_equal(rest[0], seen[10]);
        assert_int_equal(scan_all(db, "s", seen[10], rest, 40), 30);
        assert_int_equal(rest[0], seen[10]);
        assert_int_equal(scan_all(db, "missing", 0, rest, 40), 0);
        assert_roche_ok(roche_close(db));
    }
    test_dir_free(dir);
}

static void test_scan_values_and_times(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *db = open_store(dir, 1, 0);
    uint64_t off;
    assert_roche_ok(roche_append(db, NULL, NULL, "v\0w", 3, &off));
    roche_scan *scan;
    assert_roche_ok(roche_scan_open(db, NULL, 0, &scan));
    const void *data;
    size_t len;
    uint64_t got;
    assert_roche_ok(roche_scan_next(scan, &got, &data, &len, NULL));
    assert_int_equal(got, off);
    assert_int_equal(len, 3);
    assert_memory_equal(data, "v\0w", 3);
    assert_int_equal(roche_scan_next(scan, NULL, NULL, NULL, NULL), ROCHE_DONE);
    assert_int_equal(roche_scan_next(scan, NULL, NULL, NULL, NULL), ROCHE_DONE);
    /* A namespace closed under a scan ends it with an error, never a crash. */
    roche_scan *second;
    assert_roche_ok(roche_scan_open(db, NULL, 0, &second));
    assert_roche_ok(roche_close_namespace(db, NULL));
    assert_roche_code(roche_scan_next(second, NULL, NULL, NULL, NULL), ROCHE_ENOTFOUND);
    roche_scan_free(second);
    roche_scan_free(scan);
    assert_roche_ok(roche_close(db));
    test_dir_free(dir);
}

static void test_ids_stay_in_one_bucket(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *db = open_store(dir, 16, 0);
    const char *id = "user-42";
    uint32_t bucket = (uint32_t)(crc32(0L, (const unsigned char *)id, 7) % 16);
    uint64_t prev = 0;
    for (int i = 0; i < 10; i++) {
        uint64_t off;
        assert_roche_ok(roche_append(db, NULL, id, "e", 1, &off));
        assert_int_equal(off >> 50, bucket);
        if (i) assert_true(off > prev);
        prev = off;
    }
    assert_roche_ok(roche_close(db));
    test_dir_free(dir);
}

static void test_bucket_count_grows_never_shrinks(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *db = open_store(dir, 4, 0);
    uint64_t off;
    assert_roche_ok(roche_append(db, NULL, "k", "v", 1, &off));
    assert_roche_ok(roche_close(db));
    db = open_store(dir, 2, 0); /* shrinking is ignored */
    roche_stat_info info = {.version = ROCHE_STAT_VERSION};
    assert_roche_ok(roche_stat(db, NULL, &info));
    assert_int_equal(info.buckets, 4);
    uint64_t again;
    assert_roche_ok(roche_append(db, NULL, "k", "w", 1, &again));
    assert_int_equal(again >> 50, off >> 50);
    assert_roche_ok(roche_close(db));
    db = open_store(dir, 9, 0); /* growing is fine; old offsets still read */
    assert_roche_ok(roche_stat(db, NULL, &info));
    assert_int_equal(info.buckets, 9);
    assert_value(db, NULL, off, "v", 1);
    assert_roche_ok(roche_close(db));
    test_dir_free(dir);
}

static void test_namespaces_close_and_delete(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *db = open_store(dir, 2, 0);
    uint64_t off;
    assert_roche_ok(roche_append(db, "b", NULL, "1", 1, &off));
    assert_roche_ok(roche_append(db, "a", NULL, "2", 1, &off));
    char *names;
    size_t count;
    assert_roche_ok(roche_namespaces(db, &names, &count));
    assert_int_equal(count, 2);
    assert_string_equal(names, "a");
    assert_string_equal(names + 2, "b");
    roche_free(names);

    assert_roche_ok(roche_close_namespace(db, "a"));
    assert_roche_code(roche_close_namespace(db, "a"), ROCHE_ENOTFOUND);
    char *path = bucket_path(dir, "a", off >> 50);
    assert_int_equal(file_size(path), 17); /* trimmed at close */
    assert_value(db, "a", off, "2", 1); /* reopened on use */

    assert_roche_ok(roche_delete_namespace(db, "a"));
    void *data;
    size_t len;
    assert_roche_code(roche_get(db, "a", off, &data, &len), ROCHE_ENOTFOUND);
    assert_int_equal(file_size(path), -1);
    assert_roche_code(roche_delete_namespace(db, "a"), ROCHE_ENOTFOUND);
    assert_roche_ok(roche_namespaces(db, &names, &count));
    assert_int_equal(count, 1);
    roche_free(names);
    free(path);
    assert_roche_ok(roche_close(db));
    test_dir_free(dir);
}

static void test_sync_policies(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_options *opts = roche_options_new();
    assert_roche_ok(roche_options_set_sync(opts, ROCHE_SYNC_ALWAYS));
    roche_db *db;
    assert_roche_ok(roche_open(dir, opts, &db));
    roche_options_free(opts);
    uint64_t off;
    assert_roche_ok(roche_append(db, NULL, NULL, "durable", 7, &off));
    assert_roche_ok(roche_sync_namespace(db, NULL));
    assert_roche_ok(roche_sync_namespace(db, "never-written"));
    assert_roche_ok(roche_sync(db));
    assert_value(db, NULL, off, "durable", 7);
    assert_roche_ok(roche_close(db));
    test_dir_free(dir);
}

static void test_large_values_grow_the_file(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *db = open_store(dir, 1, 0);
    size_t big = 3u << 20; /* larger than the first reservation */
    char *value = malloc(big);
    for (size_t i = 0; i < big; i++) value[i] = (char)(i * 31);
    uint64_t offs[40];
    for (int i = 0; i < 40; i++) {
        value[0] = (char)i;
        assert_roche_ok(roche_append(db, NULL, NULL, value, i % 2 ? big : 10, &offs[i]));
    }
    for (int i = 0; i < 40; i++) {
        value[0] = (char)i;
        assert_value(db, NULL, offs[i], value, i % 2 ? big : 10);
    }
    assert_roche_ok(roche_close(db));
    db = open_store(dir, 1, 1);
    value[0] = 39;
    assert_value(db, NULL, offs[39], value, big);
    assert_roche_ok(roche_close(db));
    free(value);
    test_dir_free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_many_returns_offsets_in_order),
        cmocka_unit_test(test_multiget_keeps_order_and_per_item_status),
        cmocka_unit_test(test_scan_in_offset_order_and_resume),
        cmocka_unit_test(test_scan_values_and_times),
        cmocka_unit_test(test_ids_stay_in_one_bucket),
        cmocka_unit_test(test_bucket_count_grows_never_shrinks),
        cmocka_unit_test(test_namespaces_close_and_delete),
        cmocka_unit_test(test_sync_policies),
        cmocka_unit_test(test_large_values_grow_the_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
