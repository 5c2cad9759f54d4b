/* The C API's contract: argument checks, error codes, options, versions. */
#include "test_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_version_matches_header(void **state) {
    (void)state;
    char expect[32];
    snprintf(expect, sizeof expect, "%d.%d.%d", ROCHE_VERSION_MAJOR, ROCHE_VERSION_MINOR,
             ROCHE_VERSION_PATCH);
    assert_string_equal(roche_version(), expect);
    assert_int_equal(roche_version_number(), ROCHE_VERSION_NUMBER);
}

static void test_strerror_covers_every_code(void **state) {
    (void)state;
    int codes[] = {ROCHE_OK,     ROCHE_DONE,   ROCHE_EINVAL,  ROCHE_ENOTFOUND,
                   ROCHE_ECORRUPT, ROCHE_EIO,  ROCHE_ENOMEM,  ROCHE_ETOOBIG,
                   ROCHE_ELOCKED, ROCHE_EREADONLY, ROCHE_EINTERNAL};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        assert_string_not_equal(roche_strerror(codes[i]), roche_strerror(-1));
    assert_non_null(roche_strerror(12345));
}

static void test_null_arguments_are_refused(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *db = (roche_db *)0x1;
    assert_roche_code(roche_open(NULL, NULL, &db), ROCHE_EINVAL);
    assert_null(db);
    assert_roche_code(roche_open(dir, NULL, NULL), ROCHE_EINVAL);
    assert_roche_code(roche_open("", NULL, &db), ROCHE_EINVAL);
    assert_string_not_equal(roche_last_error(), "");

    db = open_store(dir, 0, 0);
    uint64_t off;
    void *data;
    size_t len;
    roche_values *values;
    roche_scan *scan;
    assert_roche_code(roche_append(NULL, NULL, NULL, "x", 1, &off), ROCHE_EINVAL);
    assert_roche_code(roche_append(db, NULL, NULL, NULL, 1, &off), ROCHE_EINVAL);
    assert_roche_ok(roche_append(db, NULL, NULL, NULL, 0, &off)); /* empty value */
    assert_roche_code(roche_append_many(db, NULL, NULL, "ab", NULL, 2, NULL), ROCHE_EINVAL);
    assert_roche_code(roche_get(NULL, NULL, 0, &data, &len), ROCHE_EINVAL);
    assert_roche_code(roche_get(db, NULL, 0, NULL, &len), ROCHE_EINVAL);
    assert_roche_code(roche_get(db, NULL, 0, &data, NULL), ROCHE_EINVAL);
    assert_roche_code(roche_multiget(db, NULL, NULL, 3, &values), ROCHE_EINVAL);
    assert_roche_code(roche_multiget(db, NULL, &off, 1, NULL), ROCHE_EINVAL);
    assert_roche_code(roche_scan_open(NULL, NULL, 0, &scan), ROCHE_EINVAL);
    assert_roche_code(roche_scan_next(NULL, NULL, NULL, NULL, NULL), ROCHE_EINVAL);
    assert_roche_code(roche_stat(db, NULL, NULL), ROCHE_EINVAL);
    assert_roche_code(roche_sync(NULL), ROCHE_EINVAL);
    assert_roche_code(roche_close_namespace(NULL, "x"), ROCHE_EINVAL);
    assert_roche_code(roche_delete_namespace(NULL, "x"), ROCHE_EINVAL);
    assert_roche_code(roche_namespaces(db, NULL, &len), ROCHE_EINVAL);
    assert_roche_code(roche_options_set_buckets(NULL, 4), ROCHE_EINVAL);
    assert_roche_code(roche_values_item(NULL, 0, NULL, NULL), ROCHE_EINVAL);
    assert_int_equal(roche_values_count(NULL), 0);

    /* Releasing NULL is a no-op everywhere. */
    roche_free(NULL);
    roche_values_free(NULL);
    roche_scan_free(NULL);
    roche_options_free(NULL);
    assert_roche_ok(roche_close(NULL));
    assert_roche_ok(roche_close(db));
    test_dir_free(dir);
}

static void test_bad_namespace_names_create_nothing(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *db = open_store(dir, 0, 0);
    char long_name[300];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    const char *bad[] = {".", "..", "a/b", "/etc", "../escape", ".hidden", long_name};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t off;
        void *data;
        size_t len;
        assert_roche_code(roche_append(db, bad[i], NULL, "x", 1, &off), ROCHE_EINVAL);
        assert_roche_code(roche_get(db, bad[i], 0, &data, &len), ROCHE_EINVAL);
        assert_roche_code(roche_delete_namespace(db, bad[i]), ROCHE_EINVAL);
    }
    char *names;
    size_t count;
    assert_roche_ok(roche_namespaces(db, &names, &count));
    assert_int_equal(count, 0);
    roche_free(names);
    /* 255 bytes is the longest name allowed. */
    long_name[255] = '\0';
    uint64_t off;
    assert_roche_ok(roche_append(db, long_name, NULL, "x", 1, &off));
    assert_value(db, long_name, off, "x", 1);
    assert_roche_ok(roche_close(db));
    test_dir_free(dir);
}

static void test_options_are_checked(void **state) {
    (void)state;
    roche_options *opts = roche_options_new();
    assert_roche_code(roche_options_set_buckets(opts, 0), ROCHE_EINVAL);
    assert_roche_code(roche_options_set_buckets(opts, ROCHE_MAX_BUCKETS + 1), ROCHE_EINVAL);
    assert_roche_ok(roche_options_set_buckets(opts, ROCHE_MAX_BUCKETS));
    assert_roche_code(roche_options_set_sync(opts, 7), ROCHE_EINVAL);
    assert_roche_ok(roche_options_set_sync(opts, ROCHE_SYNC_ALWAYS));
    roche_options_free(opts);
}

static void test_bad_offsets_get_their_codes(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *db = open_store(dir, 2, 0);
    uint64_t a, b;
    assert_roche_ok(roche_append(db, "ns", "k", "hello", 5, &a));
    assert_roche_ok(roche_append(db, "ns", "k", "world!", 6, &b));
    void *data = (void *)0x1;
    size_t len = 99;
    /* Inside a record: the header there fails its CRC. */
    assert_roche_code(roche_get(db, "ns", a + 3, &data, &len), ROCHE_ECORRUPT);
    assert_null(data);
    assert_int_equal(len, 0);
    assert_roche_code(roche_get(db, "ns", b + 1, &data, &len), ROCHE_ECORRUPT);
    /* At or past the end. */
    assert_roche_code(roche_get(db, "ns", b + 16 + 6, &data, &len), ROCHE_ENOTFOUND);
    assert_roche_code(roche_get(db, "ns", b + 1000000, &data, &len), ROCHE_ENOTFOUND);
    /* A bucket that has no file, and one beyond any bucket count. */
    assert_roche_code(roche_get(db, "ns", (uint64_t)5 << 50, &data, &len), ROCHE_ENOTFOUND);
    assert_roche_code(roche_get(db, "ns", UINT64_MAX, &data, &len), ROCHE_ENOTFOUND);
    /* A namespace that does not exist, which a get does not create. */
    assert_roche_code(roche_get(db, "nothing", 0, &data, &len), ROCHE_ENOTFOUND);
    struct stat st;
    char path[512];
    snprintf(path, sizeof path, "%s/nothing", dir);
    assert_int_not_equal(stat(path, &st), 0);
    assert_roche_ok(roche_close(db));
    test_dir_free(dir);
}

static void test_too_big_is_refused_before_reading(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *db = open_store(dir, 0, 0);
    uint64_t off = 7;
    /* The length is checked before a byte is read, so a short buffer is safe. */
    assert_roche_code(roche_append(db, NULL, NULL, "x", (size_t)ROCHE_MAX_VALUE + 1, &off),
                      ROCHE_ETOOBIG);
    size_t lens[2] = {1, (size_t)ROCHE_MAX_VALUE + 1};
    uint64_t offs[2];
    assert_roche_code(roche_append_many(db, NULL, NULL, "x", lens, 2, offs), ROCHE_ETOOBIG);
    roche_stat_info info = {.version = ROCHE_STAT_VERSION};
    assert_roche_code(roche_stat(db, NULL, &info), ROCHE_ENOTFOUND); /* nothing written */
    assert_roche_ok(roche_close(db));
    test_dir_free(dir);
}

static void test_read_only_refuses_writes(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *db = open_store(dir, 0, 0);
    uint64_t off;
    assert_roche_ok(roche_append(db, NULL, NULL, "abc", 3, &off));
    assert_roche_ok(roche_close(db));

    roche_db *ro = open_store(dir, 0, 1);
    assert_roche_code(roche_append(ro, NULL, NULL, "x", 1, &off), ROCHE_EREADONLY);
    assert_roche_code(roche_delete_namespace(ro, "default"), ROCHE_EREADONLY);
    assert_roche_code(roche_sync(ro), ROCHE_EREADONLY);
    assert_value(ro, NULL, 0, "abc", 3);
    assert_roche_ok(roche_close(ro));

    roche_options *opts = roche_options_new();
    roche_options_set_read_only(opts, 1);
    char missing[600];
    snprintf(missing, sizeof missing, "%s/missing", dir);
    roche_db *none;
    assert_roche_code(roche_open(missing, opts, &none), ROCHE_ENOTFOUND);
    roche_options_free(opts);
    test_dir_free(dir);
}

static void test_root_that_is_a_file(void **state) {
    (void)state;
    char *dir = test_dir_new();
    char path[600];
    snprintf(path, sizeof path, "%s/file", dir);
    write_file(path, "x", 1);
    roche_db *db;
    assert_roche_code(roche_open(path, NULL, &db), ROCHE_EIO);
    assert_non_null(strstr(roche_last_error(), "file"));
    test_dir_free(dir);
}

static void test_last_error_names_the_argument(void **state) {
    (void)state;
    roche_db *db;
    assert_roche_code(roche_open(NULL, NULL, &db), ROCHE_EINVAL);
    assert_non_null(strstr(roche_last_error(), "root"));
}

/* roche_get_into(): the value into the caller's buffer, or its length. */
static void test_get_into_copies_or_sizes(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *db = open_store(dir, 1, 0);
    uint64_t off, empty;
    assert_roche_ok(roche_append(db, "ns", NULL, "hello world", 11, &off));
    assert_roche_ok(roche_append(db, "ns", NULL, NULL, 0, &empty));
    char buf[32];
    size_t len = 99;

    /* Exact: a buffer of the value's length, and a larger one. */
    memset(buf, '#', sizeof buf);
    assert_roche_ok(roche_get_into(db, "ns", off, buf, 11, &len));
    assert_int_equal(len, 11);
    assert_memory_equal(buf, "hello world", 11);
    memset(buf, '#', sizeof buf);
    assert_roche_ok(roche_get_into(db, "ns", off, buf, sizeof buf, &len));
    assert_int_equal(len, 11);
    assert_memory_equal(buf, "hello world", 11);
    assert_int_equal(buf[11], '#'); /* nothing past the value */

    /* Empty value: OK, length 0, into a buffer or none. */
    len = 99;
    memset(buf, '#', sizeof buf);
    assert_roche_ok(roche_get_into(db, "ns", empty, buf, sizeof buf, &len));
    assert_int_equal(len, 0);
    assert_int_equal(buf[0], '#');
    len = 99;
    assert_roche_ok(roche_get_into(db, "ns", empty, NULL, 0, &len));
    assert_int_equal(len, 0);

    /* Too small: ETOOBIG, the length, the buffer untouched; then a retry
     * with a buffer of *len bytes reads it. */
    memset(buf, '#', sizeof buf);
    len = 0;
    assert_roche_code(roche_get_into(db, "ns", off, buf, 10, &len), ROCHE_ETOOBIG);
    assert_int_equal(len, 11);
    for (size_t i = 0; i < sizeof buf; i++) assert_int_equal(buf[i], '#');
    assert_string_not_equal(roche_last_error(), "");
    /* cap 0 with a NULL buffer: a size query. */
    len = 0;
    assert_roche_code(roche_get_into(db, "ns", off, NULL, 0, &len), ROCHE_ETOOBIG);
    assert_int_equal(len, 11);
    char *exact = malloc(len);
    assert_non_null(exact);
    assert_roche_ok(roche_get_into(db, "ns", off, exact, len, &len));
    assert_memory_equal(exact, "hello world", 11);
    free(exact);

    /* Bad offsets: the codes of roche_get(), *len 0, nothing copied. */
    memset(buf, '#', sizeof buf);
    len = 99;
    assert_roche_code(roche_get_into(db, "ns", off + 3, buf, sizeof buf, &len), ROCHE_ECORRUPT);
    assert_int_equal(len, 0);
    assert_roche_code(roche_get_into(db, "ns", empty + 16, buf, sizeof buf, &len), ROCHE_ENOTFOUND);
    assert_roche_code(roche_get_into(db, "ns", off + 1000000, buf, sizeof buf, &len), ROCHE_ENOTFOUND);
    assert_roche_code(roche_get_into(db, "ns", (uint64_t)5 << 50, buf, sizeof buf, &len), ROCHE_ENOTFOUND);
    assert_roche_code(roche_get_into(db, "ns", UINT64_MAX, buf, sizeof buf, &len), ROCHE_ENOTFOUND);
    assert_roche_code(roche_get_into(db, "nothing", 0, buf, sizeof buf, &len), ROCHE_ENOTFOUND);
    assert_roche_code(roche_get_into(db, "../up", 0, buf, sizeof buf, &len), ROCHE_EINVAL);
    assert_int_equal(len, 0);
    for (size_t i = 0; i < sizeof buf; i++) assert_int_equal(buf[i], '#');

    /* NULL arguments. */
    assert_roche_code(roche_get_into(NULL, "ns", off, buf, sizeof buf, &len), ROCHE_EINVAL);
    assert_roche_code(roche_get_into(db, "ns", off, buf, sizeof buf, NULL), ROCHE_EINVAL);
    len = 99;
    assert_roche_code(roche_get_into(db, "ns", off, NULL, 1, &len), ROCHE_EINVAL);
    assert_int_equal(len, 0);
    assert_non_null(strstr(roche_last_error(), "buf"));

    /* A read-only handle (pread, no mapping) answers the same. */
    roche_db *ro = open_store(dir, 1, 1);
    memset(buf, '#', sizeof buf);
    assert_roche_ok(roche_get_into(ro, "ns", off, buf, sizeof buf, &len));
    assert_int_equal(len, 11);
    assert_memory_equal(buf, "hello world", 11);
    assert_roche_code(roche_get_into(ro, "ns", off, NULL, 0, &len), ROCHE_ETOOBIG);
    assert_int_equal(len, 11);
    assert_roche_ok(roche_get_into(ro, "ns", empty, NULL, 0, &len));
    assert_int_equal(len, 0);
    assert_roche_code(roche_get_into(ro, "ns", off + 3, buf, sizeof buf, &len), ROCHE_ECORRUPT);
    assert_roche_ok(roche_close(ro));
    assert_roche_ok(roche_close(db));
    test_dir_free(dir);
}

/* A value longer than the stack buffer a read-only handle reads through,
 * and the same read from a read-only handle in another process. */
static void test_get_into_large_value_and_other_process(void **state) {
    (void)state;
    enum { BIG = 100000 };
    char *dir = test_dir_new();
    roche_db *db = open_store(dir, 1, 0);
    char *value = malloc(BIG), *buf = malloc(BIG);
    assert_non_null(value);
    assert_non_null(buf);
    for (size_t i = 0; i < BIG; i++) value[i] = (char)(i * 31 + 7);
    uint64_t off;
    assert_roche_ok(roche_append(db, NULL, NULL, value, BIG, &off));
    size_t len;
    assert_roche_ok(roche_get_into(db, NULL, off, buf, BIG, &len));
    assert_int_equal(len, BIG);
    assert_memory_equal(buf, value, BIG);

    pid_t pid = fork();
    if (pid == 0) {
        roche_db *r;
        roche_options *opts = roche_options_new();
        roche_options_set_read_only(opts, 1);
        if (roche_open(dir, opts, &r) != ROCHE_OK) _exit(2);
        roche_options_free(opts);
        size_t n = 0;
        if (roche_get_into(r, NULL, off, NULL, 0, &n) != ROCHE_ETOOBIG || n != BIG) _exit(3);
        memset(buf, 0, BIG);
        if (roche_get_into(r, NULL, off, buf, BIG - 1, &n) != ROCHE_ETOOBIG || n != BIG) _exit(4);
        if (buf[0] != 0) _exit(5);
        if (roche_get_into(r, NULL, off, buf, BIG, &n) != ROCHE_OK || n != BIG) _exit(6);
        if (memcmp(buf, value, BIG) != 0) _exit(7);
        roche_close(r);
        _exit(0);
    }
    test_assert_child_ok(pid, 30);
    /* The parent's handle is the parent's: a forked child gets EINVAL. */
    pid = fork();
    if (pid == 0) _exit(roche_get_into(db, NULL, off, buf, BIG, &len) == ROCHE_EINVAL ? 0 : 2);
    test_assert_child_ok(pid, 30);
    assert_roche_ok(roche_close(db));
    free(value);
    free(buf);
    test_dir_free(dir);
}

/* A damaged value is ROCHE_ECORRUPT and never reaches the buffer, from a
 * writer (checked in the mapping) and from a reader (pread). */
static void test_get_into_damaged_value_copies_nothing(void **state) {
    (void)state;
    enum { LEN = 6000 }; /* past the reader's stack buffer */
    char *dir = test_dir_new();
    roche_db *db = open_store(dir, 1, 0);
    char value[LEN];
    for (size_t i = 0; i < LEN; i++) value[i] = (char)('a' + i % 26);
    uint64_t small, big, after;
    assert_roche_ok(roche_append(db, NULL, NULL, "damage-me", 9, &small));
    assert_roche_ok(roche_append(db, NULL, NULL, value, LEN, &big));
    assert_roche_ok(roche_append(db, NULL, NULL, "intact", 6, &after));
    assert_roche_ok(roche_close(db));

    char *path = bucket_path(dir, NULL, 0);
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, "X", 1, (off_t)small + 16 + 4), 1);
    assert_int_equal(pwrite(fd, "X", 1, (off_t)big + 16 + LEN - 1), 1);
    assert_int_equal(close(fd), 0);
    free(path);

    static char buf[LEN + 10];
    size_t len;
    db = open_store(dir, 1, 0);
    roche_db *ro = open_store(dir, 1, 1);
    roche_db *handles[] = {db, ro};
    for (int h = 0; h < 2; h++) {
        uint64_t damaged[] = {small, big};
        for (int d = 0; d < 2; d++) {
            memset(buf, '#', sizeof buf);
            len = 99;
            assert_roche_code(roche_get_into(handles[h], NULL, damaged[d], buf, sizeof buf, &len),
                              ROCHE_ECORRUPT);
            assert_int_equal(len, 0);
            for (size_t i = 0; i < sizeof buf; i++)
                if (buf[i] != '#') fail_msg("handle %d, record %d: byte %zu written", h, d, i);
        }
        assert_roche_ok(roche_get_into(handles[h], NULL, after, buf, sizeof buf, &len));
        assert_int_equal(len, 6);
        assert_memory_equal(buf, "intact", 6);
    }
    assert_roche_ok(roche_close(ro));
    assert_roche_ok(roche_close(db));
    test_dir_free(dir);
}

/* Retention: a dropped offset is ROCHE_EDROPPED, as for roche_get(). */
static void test_get_into_dropped_offset(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *db = open_store(dir, 1, 0);
    char value[3000];
    memset(value, 'r', sizeof value);
    uint64_t off[20];
    for (int i = 0; i < 20; i++) assert_roche_ok(roche_append(db, "ret", NULL, value, sizeof value, &off[i]));
    uint64_t freed;
    int rc = roche_retain(db, "ret", 0, 5 * (16 + sizeof value), &freed);
    if (rc == ROCHE_ENOTSUP) skip(); /* no hole punching on this file system */
    assert_roche_ok(rc);
    assert_true(freed > 0);
    char buf[sizeof value];
    size_t len = 99;
    assert_roche_code(roche_get_into(db, "ret", off[0], buf, sizeof buf, &len), ROCHE_EDROPPED);
    assert_int_equal(len, 0);
    assert_roche_code(roche_get_into(db, "ret", off[0], NULL, 0, &len), ROCHE_EDROPPED);
    assert_roche_ok(roche_get_into(db, "ret", off[19], buf, sizeof buf, &len));
    assert_int_equal(len, sizeof value);
    assert_roche_ok(roche_close(db));
    roche_db *ro = open_store(dir, 1, 1);
    assert_roche_code(roche_get_into(ro, "ret", off[0], buf, sizeof buf, &len), ROCHE_EDROPPED);
    assert_roche_ok(roche_get_into(ro, "ret", off[19], buf, sizeof buf, &len));
    assert_roche_ok(roche_close(ro));
    test_dir_free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_matches_header),
        cmocka_unit_test(test_strerror_covers_every_code),
        cmocka_unit_test(test_null_arguments_are_refused),
        cmocka_unit_test(test_bad_namespace_names_create_nothing),
        cmocka_unit_test(test_options_are_checked),
        cmocka_unit_test(test_bad_offsets_get_their_codes),
        cmocka_unit_test(test_too_big_is_refused_before_reading),
        cmocka_unit_test(test_read_only_refuses_writes),
        cmocka_unit_test(test_root_that_is_a_file),
        cmocka_unit_test(test_last_error_names_the_argument),
        cmocka_unit_test(test_get_into_copies_or_sizes),
        cmocka_unit_test(test_get_into_large_value_and_other_process),
        cmocka_unit_test(test_get_into_damaged_value_copies_nothing),
        cmocka_unit_test(test_get_into_dropped_offset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
