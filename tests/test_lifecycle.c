/* Lifecycles of handles, namespaces, scans, locks and processes: what stays
 * valid after a close or a delete, what a fork() child may do, where the
 * writer lock lives, and which calls do not wait for which. */
#define _GNU_SOURCE
#include "test_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

static void put_byte(int fd, char c) { assert_int_equal(write(fd, &c, 1), 1); }

static char get_byte(int fd) {
    char c = 0;
    ssize_t n;
    do n = read(fd, &c, 1);
    while (n < 0 && errno == EINTR);
    assert_int_equal(n, 1);
    return c;
}

/* In a child: one byte from the parent, or exit with code. */
static char child_get_byte(int fd, int code) {
    char c;
    ssize_t n;
    do n = read(fd, &c, 1);
    while (n < 0 && errno == EINTR);
    if (n != 1) _exit(code);
    return c;
}

static void child_put_byte(int fd, char c, int code) {
    if (write(fd, &c, 1) != 1) _exit(code);
}

static roche_db *open_in_child(const char *root, int read_only, int code) {
    roche_options *opts = roche_options_new();
    if (!opts || roche_options_set_read_only(opts, read_only) != ROCHE_OK) _exit(code);
    roche_db *db = NULL;
    if (roche_open(root, opts, &db) != ROCHE_OK) _exit(code);
    roche_options_free(opts);
    return db;
}

/* ------------------------------------------------------------------------
 * 1. A scan's value pointer outlives a close or delete of its namespace
 * ------------------------------------------------------------------------ */

#define BIG_VALUE (64 * 1024)
#define BIG_COUNT 4

static unsigned char pattern_byte(int record, size_t i) {
    return (unsigned char)((i * 131u + (size_t)record * 17u + (i >> 8)) & 0xff);
}

static void fill_pattern(unsigned char *buf, int record) {
    for (size_t i = 0; i < BIG_VALUE; i++) buf[i] = pattern_byte(record, i);
}

struct check_bytes {
    const unsigned char *data;
    int record;
    size_t bad; /* bytes that differ from the pattern */
};

/* Touches every byte: on an unmapped page this raises SIGSEGV or SIGBUS. */
static void *check_bytes_thread(void *arg) {
    struct check_bytes *c = arg;
    c->bad = 0;
    for (size_t i = 0; i < BIG_VALUE; i++)
        if (c->data[i] != pattern_byte(c->record, i)) c->bad++;
    return NULL;
}

static void check_scan_pointer(const void *data, int record) {
    struct check_bytes here = {data, record, 0};
    check_bytes_thread(&here); /* same thread */
    assert_int_equal(here.bad, 0);
    struct check_bytes there = {data, record, 0};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, check_bytes_thread, &there), 0); /* another */
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(there.bad, 0);
}

struct closer {
    roche_db *db;
    int rc;
};

static void *close_namespace_thread(void *arg) {
    struct closer *c = arg;
    c->rc = roche_close_namespace(c->db, "scanned");
    return NULL;
}

enum release_how { BY_CLOSE, BY_DELETE, BY_CLOSE_ON_OTHER_THREAD };

static void scan_outlives(enum release_how how) {
    char *dir = test_dir_new();
    roche_db *db = open_store(dir, 1, 0);
    unsigned char *value = malloc(BIG_VALUE);
    assert_non_null(value);
    uint64_t offs[BIG_COUNT];
    for (int r = 0; r < BIG_COUNT; r++) {
        fill_pattern(value, r);
        assert_roche_ok(roche_append(db, "scanned", NULL, value, BIG_VALUE, &offs[r]));
    }
    roche_scan *scan = NULL;
    assert_roche_ok(roche_scan_open(db, "scanned", 0, &scan));
    /* Step to the second record, so records remain after it. */
    uint64_t off = 0;
    const void *data = NULL;
    size_t len = 0;
    assert_roche_ok(roche_scan_next(scan, &off, &data, &len, NULL));
    assert_int_equal(off, offs[0]);
    assert_roche_ok(roche_scan_next(scan, &off, &data, &len, NULL));
    assert_int_equal(off, offs[1]);
    assert_int_equal(len, BIG_VALUE);
    assert_non_null(data);

    if (how == BY_CLOSE) {
        assert_roche_ok(roche_close_namespace(db, "scanned"));
    } else if (how == BY_DELETE) {
        assert_roche_ok(roche_delete_namespace(db, "scanned"));
    } else {
        struct closer c = {db, -1};
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, close_namespace_thread, &c), 0);
        assert_int_equal(pthread_join(t, NULL), 0);
        assert_roche_ok(c.rc);
    }
    check_scan_pointer(data, 1); /* would SIGSEGV if the mapping went with the close */

    /* The next call on the iterator says the namespace is gone. */
    assert_roche_code(roche_scan_next(scan, &off, &data, &len, NULL), ROCHE_ENOTFOUND);
    roche_scan_free(scan);

    /* The namespace opens again (or is made again) on its next use. */
    fill_pattern(value, 7);
    uint64_t again;
    assert_roche_ok(roche_append(db, "scanned", NULL, value, BIG_VALUE, &again));
    assert_value(db, "scanned", again, value, BIG_VALUE);
    if (how != BY_DELETE) {
        fill_pattern(value, 0);
        assert_value(db, "scanned", offs[0], value, BIG_VALUE);
    } else {
        assert_int_equal(again, 0); /* a fresh bucket file */
    }
    assert_roche_ok(roche_close(db));
    db = open_store(dir, 1, 1);
    fill_pattern(value, 7);
    assert_value(db, "scanned", again, value, BIG_VALUE);
    assert_roche_ok(roche_close(db));
    free(value);
    test_dir_free(dir);
}

static void test_scan_pointer_outlives_namespace_close(void **state) {
    (void)state;
    scan_outlives(BY_CLOSE);
    scan_outlives(BY_DELETE);
    scan_outlives(BY_CLOSE_ON_OTHER_THREAD);
}

/* ------------------------------------------------------------------------
 * 2. A read-only handle notices a namespace the writer deleted
 * ------------------------------------------------------------------------ */

/* The reader's view of "n": get of offset 0 and a full scan. */
static int reader_sees(roche_db *ro, const char *expect) {
    void *data = NULL;
    size_t len = 0;
    int rc = roche_get(ro, "n", 0, &data, &len);
    if (rc != ROCHE_OK) return 1;
    int ok = len == strlen(expect) && memcmp(data, expect, len) == 0;
    roche_free(data);
    if (!ok) return 2;
    roche_scan *scan = NULL;
    if (roche_scan_open(ro, "n", 0, &scan) != ROCHE_OK) return 3;
    int n = 0;
    const void *v;
    uint64_t off;
    while ((rc = roche_scan_next(scan, &off, &v, &len, NULL)) == ROCHE_OK) {
        n++;
        if (off != 0 || len != strlen(expect) || memcmp(v, expect, len) != 0) {
            roche_scan_free(scan);
            return 4;
        }
    }
    roche_scan_free(scan);
    if (rc != ROCHE_DONE) return 5;
    return n == 1 ? 0 : 6;
}

static int reader_sees_nothing(roche_db *ro) {
    void *data = NULL;
    size_t len = 0;
    if (roche_get(ro, "n", 0, &data, &len) != ROCHE_ENOTFOUND) return 1;
    roche_scan *scan = NULL;
    if (roche_scan_open(ro, "n", 0, &scan) != ROCHE_OK) return 2;
    int rc = roche_scan_next(scan, NULL, NULL, NULL, NULL);
    roche_scan_free(scan);
    return rc == ROCHE_DONE ? 0 : 3;
}

static void test_reader_notices_deleted_namespace(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *w = open_store(dir, 1, 0);
    uint64_t off;
    assert_roche_ok(roche_append(w, "n", NULL, "old-value", 9, &off));
    assert_int_equal(off, 0);

    /* A reader in a child process, in step with the parent over pipes. */
    int to_child[2], to_parent[2];
    assert_int_equal(pipe(to_child), 0);
    assert_int_equal(pipe(to_parent), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(20);
        close(to_child[1]);
        close(to_parent[0]);
        roche_db *ro = open_in_child(dir, 1, 10);
        if (reader_sees(ro, "old-value")) _exit(11);
        child_put_byte(to_parent[1], 'a', 12);
        child_get_byte(to_child[0], 13); /* deleted, "NEW" appended */
        int rc = reader_sees(ro, "NEW");
        if (rc) _exit(20 + rc);
        child_put_byte(to_parent[1], 'b', 14);
        child_get_byte(to_child[0], 15); /* deleted again */
        rc = reader_sees_nothing(ro);
        if (rc) _exit(30 + rc);
        roche_close(ro);
        _exit(0);
    }
    close(to_child[0]);
    close(to_parent[1]);

    /* A reader in this process. */
    roche_db *ro = open_store(dir, 1, 1);
    assert_value(ro, "n", 0, "old-value", 9);
    assert_int_equal(reader_sees(ro, "old-value"), 0);
    assert_int_equal(get_byte(to_parent[0]), 'a');

    assert_roche_ok(roche_delete_namespace(w, "n"));
    assert_roche_ok(roche_append(w, "n", NULL, "NEW", 3, &off));
    assert_int_equal(off, 0); /* the same offset as the deleted record */
    assert_value(ro, "n", 0, "NEW", 3);
    assert_int_equal(reader_sees(ro, "NEW"), 0);
    put_byte(to_child[1], 'g');
    assert_int_equal(get_byte(to_parent[0]), 'b');

    /* Deleted and not made again: nothing there. */
    assert_roche_ok(roche_delete_namespace(w, "n"));
    void *data = NULL;
    size_t len = 0;
    assert_roche_code(roche_get(ro, "n", 0, &data, &len), ROCHE_ENOTFOUND);
    assert_int_equal(reader_sees_nothing(ro), 0);
    put_byte(to_child[1], 'g');
    test_assert_child_ok(pid, 25);
    close(to_child[1]);
    close(to_parent[0]);

    assert_roche_ok(roche_close(ro));
    assert_roche_ok(roche_close(w));
    test_dir_free(dir);
}

/* ------------------------------------------------------------------------
 * 3. roche_close() in a fork() child never hangs, whatever the parent's
 *    threads were doing at the fork
 * ------------------------------------------------------------------------ */

struct busy {
    roche_db *db;
    atomic_int stop;
    atomic_long rounds;
    int failures;
};

static void *busy_thread(void *arg) {
    struct busy *b = arg;
    char value[200];
    memset(value, 'v', sizeof value);
    uint64_t offs[64];
    int n = 0;
    while (!atomic_load(&b->stop)) {
        uint64_t off;
        if (roche_append(b->db, "busy", NULL, value, 1 + (size_t)(n % 199), &off) != ROCHE_OK)
            b->failures++;
        offs[n % 64] = off;
        n++;
        void *data;
        size_t len;
        if (roche_get(b->db, "busy", offs[(n * 7) % (n < 64 ? n : 64)], &data, &len) != ROCHE_OK)
            b->failures++;
        else
            roche_free(data);
        if (n % 8 == 0) {
            roche_scan *scan;
            if (roche_scan_open(b->db, "busy", 0, &scan) != ROCHE_OK) {
                b->failures++;
            } else {
                int k = 0;
                while (k++ < 50 && roche_scan_next(scan, NULL, NULL, NULL, NULL) == ROCHE_OK) {
                }
                roche_scan_free(scan);
            }
        }
        atomic_fetch_add(&b->rounds, 1);
    }
    return NULL;
}

static void test_close_in_fork_child_never_hangs(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *db = open_store(dir, 2, 0);
    uint64_t off;
    assert_roche_ok(roche_append(db, "busy", NULL, "seed", 4, &off));
    struct busy b = {.db = db};
    atomic_init(&b.stop, 0);
    atomic_init(&b.rounds, 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, busy_thread, &b), 0);
    while (atomic_load(&b.rounds) < 100) test_sleep_ms(1);

    for (int i = 0; i < 20; i++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            alarm(5);
            void *data = NULL;
            size_t len = 0;
            if (roche_get(db, "busy", off, &data, &len) != ROCHE_EINVAL) _exit(2);
            if (roche_append(db, "busy", NULL, "x", 1, NULL) != ROCHE_EINVAL) _exit(3);
            roche_scan *scan = NULL;
            if (roche_scan_open(db, "busy", 0, &scan) != ROCHE_EINVAL) _exit(4);
            roche_close(db);
            _exit(0);
        }
        test_assert_child_ok(pid, 10);
        test_sleep_ms(i % 4); /* vary where the parent's thread is at the next fork */
    }

    atomic_store(&b.stop, 1);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(b.failures, 0);
    /* The parent goes on, and still holds the lock. */
    roche_db *second = NULL;
    assert_roche_code(roche_open(dir, NULL, &second), ROCHE_ELOCKED);
    assert_roche_ok(roche_append(db, "busy", NULL, "after", 5, &off));
    assert_value(db, "busy", off, "after", 5);
    assert_roche_ok(roche_close(db));
    test_dir_free(dir);
}

/* How much of the store a process holds: mappings of files under root (from
 * /proc/self/maps), descriptors open on them, and its address space. */
struct holdings {
    int mappings, descriptors;
    long vm_kb;
};

static struct holdings holdings_under(const char *root) {
    struct holdings h = {0, 0, 0};
    char line[PATH_MAX + 256];
    FILE *maps = fopen("/proc/self/maps", "r");
    if (maps) {
        while (fgets(line, sizeof line, maps))
            if (strstr(line, root)) h.mappings++;
        fclose(maps);
    }
    FILE *status = fopen("/proc/self/status", "r");
    if (status) {
        while (fgets(line, sizeof line, status))
            if (strncmp(line, "VmSize:", 7) == 0) h.vm_kb = atol(line + 7);
        fclose(status);
    }
    DIR *fds = opendir("/proc/self/fd");
    struct dirent *e;
    while (fds && (e = readdir(fds)) != NULL) {
        char link[PATH_MAX + 32], target[PATH_MAX];
        snprintf(link, sizeof link, "/proc/self/fd/%s", e->d_name);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n <= 0) continue;
        target[n] = 0;
        if (strncmp(target, root, strlen(root)) == 0) h.descriptors++;
    }
    if (fds) closedir(fds);
    return h;
}

/* A child's roche_close() gives back its copies of the handle's mappings and
 * descriptors (writable and read-only handles, scan pins, a follower's
 * doorbell), and the parent's store is untouched by it. */
static void test_fork_child_close_gives_back_mappings(void **state) {
    (void)state;
    char *dir = test_dir_new();
    char root[PATH_MAX];
    assert_non_null(realpath(dir, root));
    roche_db *db = open_store(dir, 4, 0);
    uint64_t off[3];
    const char *names[3] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++) assert_roche_ok(roche_append(db, names[i], "id", names[i], 1, &off[i]));
    roche_db *ro = open_store(dir, 4, 1);
    assert_value(ro, "b", off[1], "b", 1);
    roche_scan *scan = NULL;
    const void *data;
    size_t len;
    assert_roche_ok(roche_scan_open(ro, "c", 0, &scan));
    assert_roche_ok(roche_scan_next(scan, NULL, &data, &len, NULL));
    roche_follow *follow = NULL;
    assert_roche_ok(roche_follow_open(db, "a", NULL, 0, 0, &follow));
    assert_int_equal(roche_follow_next(follow, 0, NULL, NULL, NULL, NULL), ROCHE_OK);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(10);
        struct holdings before = holdings_under(root);
        if (before.mappings == 0 || before.descriptors == 0) _exit(2); /* nothing to give back? */
        if (roche_close(db) != ROCHE_OK || roche_close(ro) != ROCHE_OK) _exit(3);
        struct holdings after = holdings_under(root);
        if (after.mappings != 0) _exit(4);
        if (after.descriptors != 0) _exit(5);
        if (after.vm_kb >= before.vm_kb) _exit(6); /* the reservations went too */
        _exit(0);
    }
    test_assert_child_ok(pid, 20);

    /* The parent's handles, pins and files are as they were. */
    assert_memory_equal(data, "c", 1);
    assert_value(db, "a", off[0], "a", 1);
    assert_value(ro, "b", off[1], "b", 1);
    uint64_t more;
    assert_roche_ok(roche_append(db, "a", "id", "after", 5, &more));
    assert_value(db, "a", more, "after", 5);
    roche_follow_free(follow);
    roche_scan_free(scan);
    assert_roche_ok(roche_close(ro));
    assert_roche_ok(roche_close(db));
    test_dir_free(dir);
}

/* ------------------------------------------------------------------------
 * 4. A forked child that never touches the store does not keep its lock
 * ------------------------------------------------------------------------ */

static void test_idle_fork_child_does_not_keep_lock(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *db = open_store(dir, 1, 0);
    uint64_t off;
    assert_roche_ok(roche_append(db, NULL, NULL, "one", 3, &off));
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(30); /* a safety net: the parent kills it long before */
        close(ready[0]);
        child_put_byte(ready[1], 'r', 1); /* it runs; it never calls libroche */
        for (;;) pause();
    }
    close(ready[1]);
    assert_int_equal(get_byte(ready[0]), 'r');
    close(ready[0]);

    assert_roche_ok(roche_close(db));
    assert_int_equal(kill(pid, 0), 0); /* the child is alive */
    roche_db *again = NULL;
    int rc = roche_open(dir, NULL, &again);
    int alive = kill(pid, 0) == 0;
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    if (rc != ROCHE_OK)
        fail_msg("roche_open after the parent closed returned %d (%s) while an idle child lives: %s",
                 rc, roche_strerror(rc), roche_last_error());
    assert_true(alive);
    assert_value(again, NULL, off, "one", 3);
    assert_roche_ok(roche_close(again));
    test_dir_free(dir);
}

/* ------------------------------------------------------------------------
 * 5. The writer lock cannot be defeated by deleting files
 * ------------------------------------------------------------------------ */

static void remove_dot_files(const char *root) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/.roche.lock", root);
    if (unlink(path) != 0 && errno != ENOENT) fail_msg("unlink %s: %s", path, strerror(errno));
    DIR *d = opendir(root);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.' || !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(path, sizeof path, "%s/%s", root, e->d_name);
        if (unlink(path) != 0 && errno != ENOENT) fail_msg("unlink %s: %s", path, strerror(errno));
    }
    closedir(d);
}

static int try_flock_root(const char *root) {
    int fd = open(root, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return -2;
    int rc = flock(fd, LOCK_EX | LOCK_NB) == 0 ? 0 : errno;
    close(fd);
    return rc;
}

static void test_lock_survives_deleted_files(void **state) {
    (void)state;
    char *dir = test_dir_new();
    int to_child[2], to_parent[2];
    assert_int_equal(pipe(to_child), 0);
    assert_int_equal(pipe(to_parent), 0);
    /* The other process is forked before the writer opens: it inherits
     * nothing of the writer's handle or of the library's state. */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(20);
        close(to_child[1]);
        close(to_parent[0]);
        child_get_byte(to_child[0], 10); /* writer open, dot files gone */
        roche_db *w2 = NULL;
        int rc = roche_open(dir, NULL, &w2);
        if (rc != ROCHE_ELOCKED) {
            if (rc == ROCHE_OK) roche_close(w2);
            _exit(11);
        }
        if (w2 != NULL) _exit(12);
        rc = try_flock_root(dir);
        if (rc != EWOULDBLOCK) _exit(rc == 0 ? 13 : 14);
        child_put_byte(to_parent[1], 'a', 15);
        child_get_byte(to_child[0], 16); /* writer closed */
        if (try_flock_root(dir) != 0) _exit(17);
        _exit(0);
    }
    close(to_child[0]);
    close(to_parent[1]);

    roche_db *w1 = open_store(dir, 1, 0);
    uint64_t first, third;
    assert_roche_ok(roche_append(w1, NULL, NULL, "first", 5, &first));
    remove_dot_files(dir);

    /* A second writer in this process. */
    roche_db *w2 = NULL;
    assert_roche_code(roche_open(dir, NULL, &w2), ROCHE_ELOCKED);
    assert_null(w2);
    /* And in another process (roche_open, then a bare flock of the root). */
    put_byte(to_child[1], 'g');
    char c = 0;
    ssize_t n = read(to_parent[0], &c, 1);
    if (n != 1) {
        test_assert_child_ok(pid, 25); /* reports the child's code */
        fail_msg("the child stopped early");
    }
    assert_int_equal(c, 'a');

    assert_roche_ok(roche_append(w1, NULL, NULL, "third", 5, &third));
    assert_roche_ok(roche_close(w1));
    put_byte(to_child[1], 'c');
    test_assert_child_ok(pid, 25);
    close(to_child[1]);
    close(to_parent[0]);

    roche_db *db = open_store(dir, 1, 0);
    assert_value(db, NULL, first, "first", 5);
    assert_value(db, NULL, third, "third", 5);
    assert_roche_ok(roche_close(db));
    test_dir_free(dir);
}

/* ------------------------------------------------------------------------
 * 6. Opening (recovering) one namespace does not block calls on another
 * ------------------------------------------------------------------------ */

/* rochefort's format with no companion: a writable open indexes every
 * record. 2.6 million records of 100-byte values (~300 MB) take hundreds of
 * milliseconds to index here, far more than the 20 ms the main thread waits
 * before its 1000 gets; if a machine ever opens it before those gets start,
 * the test says so rather than passing vacuously: then grow SEED_RECORDS. */
#define SEED_VALUE 100
#define SEED_RECORD (16 + SEED_VALUE)
#define SEED_RECORDS (300u * 1000u * 1000u / SEED_RECORD)
#define SEED_CHUNK 8192 /* records per write */

static void seed_value(unsigned char *v, uint64_t i) {
    memset(v, 'a' + (int)(i % 26), SEED_VALUE);
    memcpy(v, &i, sizeof i);
}

static void write_seed_namespace(const char *root, const char *ns) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", root, ns);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/%s/append.0.raw", root, ns);
    unsigned char header[16];
    uint32_t len = SEED_VALUE;
    uint64_t time = 1700000000ull * 1000000000ull;
    memcpy(header, &len, 4); /* little-endian hosts only, as the format */
    memcpy(header + 4, &time, 8);
    uint32_t crc = (uint32_t)crc32(0L, header, 12);
    memcpy(header + 12, &crc, 4);
    unsigned char *chunk = malloc((size_t)SEED_CHUNK * SEED_RECORD);
    assert_non_null(chunk);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (uint64_t i = 0; i < SEED_RECORDS;) {
        size_t n = 0;
        for (; n < SEED_CHUNK && i < SEED_RECORDS; n++, i++) {
            unsigned char *r = chunk + n * SEED_RECORD;
            memcpy(r, header, 16);
            seed_value(r + 16, i);
        }
        assert_int_equal(fwrite(chunk, SEED_RECORD, n, f), n);
    }
    assert_int_equal(fclose(f), 0);
    free(chunk);
}

struct slow_open {
    roche_db *db;
    atomic_int started;
    int rc;
    void *data;
    size_t len;
    uint64_t done_ns;
};

static void *slow_open_thread(void *arg) {
    struct slow_open *s = arg;
    atomic_store(&s->started, 1);
    s->rc = roche_get(s->db, "b", 0, &s->data, &s->len);
    s->done_ns = mono_ns();
    return NULL;
}

static void test_open_of_one_namespace_does_not_block_another(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *db = open_store(dir, 1, 0);
    uint64_t a_off;
    assert_roche_ok(roche_append(db, "a", NULL, "in-a", 4, &a_off));
    assert_roche_ok(roche_close(db));
    write_seed_namespace(dir, "b");

    db = open_store(dir, 1, 0);
    assert_value(db, "a", a_off, "in-a", 4); /* "a" is open */
    struct slow_open s = {.db = db};
    atomic_init(&s.started, 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, slow_open_thread, &s), 0);
    while (!atomic_load(&s.started)) test_sleep_ms(0);
    test_sleep_ms(20);
    uint64_t a_start = mono_ns();
    int a_failures = 0;
    for (int i = 0; i < 1000; i++) {
        void *data = NULL;
        size_t len = 0;
        if (roche_get(db, "a", a_off, &data, &len) != ROCHE_OK || len != 4 || memcmp(data, "in-a", 4))
            a_failures++;
        roche_free(data);
    }
    uint64_t a_done = mono_ns();
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(a_failures, 0);
    assert_roche_ok(s.rc);
    unsigned char first[SEED_VALUE];
    seed_value(first, 0);
    assert_int_equal(s.len, SEED_VALUE);
    assert_memory_equal(s.data, first, SEED_VALUE);
    roche_free(s.data);
    if (s.done_ns <= a_start)
        fail_msg("b opened in under 20 ms (%.1f ms before a's gets began): the ordering means "
                 "nothing; grow SEED_RECORDS",
                 (double)(a_start - s.done_ns) / 1e6);
    if (a_done >= s.done_ns)
        fail_msg("1000 gets on \"a\" finished %.1f ms after b's open did: they waited for it",
                 (double)(a_done - s.done_ns) / 1e6);
    /* b is whole: its last record reads back too. */
    unsigned char last[SEED_VALUE];
    seed_value(last, SEED_RECORDS - 1);
    assert_value(db, "b", (uint64_t)(SEED_RECORDS - 1) * SEED_RECORD, last, SEED_VALUE);
    assert_roche_ok(roche_close(db));
    test_dir_free(dir);
}

/* ------------------------------------------------------------------------
 * 8. Stray files shaped almost like bucket files are left alone
 * ------------------------------------------------------------------------ */

static const char *const strays[] = {"append.01.raw", "append.1.raw.bak", "append.x.raw",
                                     "append..raw"};
#define STRAYS (sizeof strays / sizeof strays[0])

static void stray_path(char *path, size_t size, const char *root, size_t i) {
    snprintf(path, size, "%s/ns/%s", root, strays[i]);
}

static void check_strays(const char *root) {
    char path[PATH_MAX], expect[64];
    for (size_t i = 0; i < STRAYS; i++) {
        stray_path(path, sizeof path, root, i);
        size_t len = 0;
        char *got = read_file(path, &len);
        int n = snprintf(expect, sizeof expect, "stray file %zu, not a bucket", i);
        assert_int_equal(len, (size_t)n);
        assert_memory_equal(got, expect, len);
        free(got);
    }
    /* No companion was made for any of them. */
    const char *companions[] = {"append.01.idx", "append.1.idx", "append.x.idx", "append..idx"};
    for (size_t i = 0; i < sizeof companions / sizeof companions[0]; i++) {
        snprintf(path, sizeof path, "%s/ns/%s", root, companions[i]);
        assert_int_equal(file_size(path), -1);
    }
}

static void test_stray_files_do_not_stop_a_namespace(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *db = open_store(dir, 1, 0);
    uint64_t offs[3];
    assert_roche_ok(roche_append(db, "ns", NULL, "zero", 4, &offs[0]));
    assert_roche_ok(roche_append(db, "ns", NULL, "one", 3, &offs[1]));
    assert_roche_ok(roche_close(db));

    char path[PATH_MAX], text[64];
    for (size_t i = 0; i < STRAYS; i++) {
        stray_path(path, sizeof path, dir, i);
        int n = snprintf(text, sizeof text, "stray file %zu, not a bucket", i);
        write_file(path, text, (size_t)n);
    }

    /* Writable: opens, reads, appends, lists, counts one bucket. */
    db = open_store(dir, 1, 0);
    assert_value(db, "ns", offs[0], "zero", 4);
    assert_value(db, "ns", offs[1], "one", 3);
    assert_roche_ok(roche_append(db, "ns", NULL, "two", 3, &offs[2]));
    assert_value(db, "ns", offs[2], "two", 3);
    char *names = NULL;
    size_t count = 0;
    assert_roche_ok(roche_namespaces(db, &names, &count));
    assert_int_equal(count, 1);
    assert_string_equal(names, "ns");
    roche_free(names);
    roche_stat_info info = {.version = ROCHE_STAT_VERSION};
    assert_roche_ok(roche_stat(db, "ns", &info));
    assert_int_equal(info.buckets, 1);
    assert_int_equal(info.records, 3);
    assert_int_equal(info.damaged_ranges, 0);
    roche_scan *scan = NULL;
    assert_roche_ok(roche_scan_open(db, "ns", 0, &scan));
    int n = 0;
    uint64_t off;
    while (roche_scan_next(scan, &off, NULL, NULL, NULL) == ROCHE_OK) {
        assert_true(n < 3);
        assert_int_equal(off, offs[n]);
        n++;
    }
    roche_scan_free(scan);
    assert_int_equal(n, 3);
    assert_roche_ok(roche_close(db));
    check_strays(dir);

    /* Read-only as well. */
    db = open_store(dir, 1, 1);
    assert_value(db, "ns", offs[2], "two", 3);
    info = (roche_stat_info){.version = ROCHE_STAT_VERSION};
    assert_roche_ok(roche_stat(db, "ns", &info));
    assert_int_equal(info.buckets, 1);
    assert_int_equal(info.records, 3);
    assert_roche_ok(roche_close(db));
    check_strays(dir);
    /* The real bucket file holds exactly the three records. */
    char *bucket = bucket_path(dir, "ns", 0);
    assert_int_equal(file_size(bucket), 3 * 16 + 4 + 3 + 3);
    free(bucket);
    test_dir_free(dir);
}

/* ------------------------------------------------------------------------
 * 9. The root is held as given at open, not re-resolved after chdir()
 * ------------------------------------------------------------------------ */

static char original_cwd[PATH_MAX];

static int restore_cwd(void **state) {
    (void)state;
    return chdir(original_cwd);
}

static void test_root_survives_chdir(void **state) {
    (void)state;
    char *a = test_dir_new();
    char *b = test_dir_new();
    assert_int_equal(chdir(a), 0);
    roche_db *db = open_store("store", 1, 0);
    assert_int_equal(chdir(b), 0);
    uint64_t off;
    assert_roche_ok(roche_append(db, "moved", NULL, "where?", 6, &off));
    assert_value(db, "moved", off, "where?", 6);
    struct stat st;
    assert_int_not_equal(stat("store", &st), 0); /* nothing made in b */
    assert_int_equal(errno, ENOENT);
    assert_roche_ok(roche_close(db));
    assert_int_not_equal(stat("store", &st), 0);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/store", b);
    assert_int_not_equal(stat(path, &st), 0);

    snprintf(path, sizeof path, "%s/store", a);
    db = open_store(path, 1, 1);
    assert_value(db, "moved", off, "where?", 6);
    assert_roche_ok(roche_close(db));
    assert_int_equal(chdir(original_cwd), 0);
    test_dir_free(a);
    test_dir_free(b);
}

/* ------------------------------------------------------------------------
 * 10. Huge multiget counts fail before reading; a reader past a trimmed
 *     end gets ROCHE_ENOTFOUND
 * ------------------------------------------------------------------------ */

static void check_huge_multiget(roche_db *db, const uint64_t *offs) {
    roche_values *values = (roche_values *)&values; /* must be reset */
    int rc = roche_multiget(db, "m", offs, SIZE_MAX / 2, &values);
    if (rc != ROCHE_ENOMEM && rc != ROCHE_EINVAL)
        fail_msg("roche_multiget of SIZE_MAX/2 offsets returned %d (%s), expected ROCHE_ENOMEM "
                 "or ROCHE_EINVAL: %s",
                 rc, roche_strerror(rc), roche_last_error());
    assert_null(values);
    rc = roche_multiget(db, "m", offs, SIZE_MAX, &values);
    if (rc != ROCHE_ENOMEM && rc != ROCHE_EINVAL)
        fail_msg("roche_multiget of SIZE_MAX offsets returned %d (%s): %s", rc, roche_strerror(rc),
                 roche_last_error());
    assert_null(values);
}

static void test_huge_multiget_and_reads_past_trimmed_end(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *w = open_store(dir, 1, 0);
    uint64_t offs[4];
    char value[32];
    for (int i = 0; i < 4; i++) {
        int n = snprintf(value, sizeof value, "value-%d", i);
        assert_roche_ok(roche_append(w, "m", NULL, value, (size_t)n, &offs[i]));
    }
    check_huge_multiget(w, offs);

    /* The reader maps the file while the writer has space reserved past
     * the last record; then the writer closes and trims it. */
    roche_db *ro = open_store(dir, 1, 1);
    assert_value(ro, "m", offs[3], "value-3", 7);
    check_huge_multiget(ro, offs);
    char *bucket = bucket_path(dir, "m", 0);
    long reserved = file_size(bucket);
    assert_roche_ok(roche_close(w));
    long end = file_size(bucket);
    assert_int_equal(end, (long)offs[3] + 16 + 7);
    free(bucket);

    uint64_t past[] = {(uint64_t)end,
                       (uint64_t)end + 1,
                       (uint64_t)end + 16,
                       (uint64_t)end + 4096,
                       (uint64_t)(reserved > end ? reserved - 1 : end + 100),
                       (uint64_t)end + (1u << 20),
                       (uint64_t)end + (64u << 20),
                       (1ull << ROCHE_OFFSET_BITS) - 1};
    for (size_t i = 0; i < sizeof past / sizeof past[0]; i++) {
        void *data = NULL;
        size_t len = 0;
        int rc = roche_get(ro, "m", past[i], &data, &len);
        if (rc != ROCHE_ENOTFOUND)
            fail_msg("read-only get at %llu (end %ld, file was %ld before the trim) returned %d "
                     "(%s), expected ROCHE_ENOTFOUND: %s",
                     (unsigned long long)past[i], end, reserved, rc, roche_strerror(rc),
                     roche_last_error());
    }
    /* Its records still read, one by one and together. */
    for (int i = 0; i < 4; i++) {
        int n = snprintf(value, sizeof value, "value-%d", i);
        assert_value(ro, "m", offs[i], value, (size_t)n);
    }
    roche_values *values = NULL;
    uint64_t mixed[] = {offs[0], (uint64_t)end + 4096, offs[3]};
    assert_roche_ok(roche_multiget(ro, "m", mixed, 3, &values));
    assert_int_equal(roche_values_count(values), 3);
    assert_roche_ok(roche_values_item(values, 0, NULL, NULL));
    assert_roche_code(roche_values_item(values, 1, NULL, NULL), ROCHE_ENOTFOUND);
    assert_roche_ok(roche_values_item(values, 2, NULL, NULL));
    roche_values_free(values);
    assert_roche_ok(roche_close(ro));
    test_dir_free(dir);
}

/* 11. roche_get_view: the value in place, pinned until released, through
 * appends that outgrow the file's reservation, a close or delete of its
 * namespace, and a close of the whole handle. A read-only handle gives a
 * copy with the same lifetime. Bad input is an error with no view. */
static void test_get_view_pins_the_value(void **state) {
    (void)state;
    enum { BIG = 64 * 1024 };
    char *dir = test_dir_new();
    uint8_t *big = malloc(BIG);
    assert_non_null(big);
    for (size_t i = 0; i < BIG; i++) big[i] = (uint8_t)(i * 31 + 7);
    for (int ending = 0; ending < 4; ending++) { /* appends, close_namespace, delete, roche_close */
        roche_db *db = open_store(dir, 1, 0);
        uint64_t off;
        assert_roche_ok(roche_append(db, "pin", NULL, big, BIG, &off));
        roche_view *view;
        const void *data;
        size_t len;
        assert_roche_ok(roche_get_view(db, "pin", off, &view, &data, &len));
        assert_int_equal(len, BIG);
        if (ending == 0) /* 300 MiB more: the reservation is outgrown, the file mapped again */
            for (int k = 0; k < 4800; k++) assert_roche_ok(roche_append(db, "pin", NULL, big, BIG, NULL));
        if (ending == 1) assert_roche_ok(roche_close_namespace(db, "pin"));
        if (ending == 2) assert_roche_ok(roche_delete_namespace(db, "pin"));
        if (ending == 3) {
            assert_roche_ok(roche_close(db));
            db = NULL;
        }
        assert_memory_equal(data, big, BIG);
        roche_view_release(view);
        if (db) {
            if (ending != 2) assert_roche_ok(roche_delete_namespace(db, "pin"));
            assert_roche_ok(roche_close(db));
        } else {
            db = open_store(dir, 1, 0);
            assert_roche_ok(roche_delete_namespace(db, "pin"));
            assert_roche_ok(roche_close(db));
        }
    }
    /* read-only: a copy, same calls */
    roche_db *db = open_store(dir, 1, 0);
    uint64_t off;
    assert_roche_ok(roche_append(db, NULL, NULL, "view me", 7, &off));
    assert_roche_ok(roche_close(db));
    db = open_store(dir, 1, 1);
    roche_view *view = (roche_view *)1;
    const void *data = (const void *)1;
    size_t len = 1;
    assert_roche_ok(roche_get_view(db, NULL, off, &view, &data, &len));
    assert_int_equal(len, 7);
    assert_memory_equal(data, "view me", 7);
    roche_view_release(view);
    assert_roche_code(roche_get_view(db, NULL, off + 1, &view, &data, &len), ROCHE_ECORRUPT);
    assert_null(view);
    assert_null(data);
    assert_int_equal(len, 0);
    assert_roche_ok(roche_close(db));
    db = open_store(dir, 1, 0);
    assert_roche_code(roche_get_view(db, NULL, off + 1000, &view, &data, &len), ROCHE_ENOTFOUND);
    assert_null(view);
    assert_roche_code(roche_get_view(db, NULL, off, NULL, &data, &len), ROCHE_EINVAL);
    assert_roche_code(roche_get_view(db, NULL, off, &view, NULL, &len), ROCHE_EINVAL);
    assert_roche_code(roche_get_view(NULL, NULL, off, &view, &data, &len), ROCHE_EINVAL);
    roche_view_release(NULL);
    assert_roche_ok(roche_close(db));
    free(big);
    test_dir_free(dir);
}

/* 12. A namespace removed by other means than roche_delete_namespace (rm
 * -rf) and made again: a read-only handle notices within about 100 ms
 * (it checks its files' link count at most that often) and reads the new
 * records, never the old ones as current. */
static void test_reader_notices_namespace_removed_by_hand(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *w = open_store(dir, 1, 0);
    uint64_t off, again;
    assert_roche_ok(roche_append(w, "n", NULL, "old-value", 9, &off));
    assert_roche_ok(roche_close(w));
    roche_db *r = open_store(dir, 1, 1);
    assert_value(r, "n", off, "old-value", 9);
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s/n'", dir);
    assert_int_equal(system(cmd), 0);
    w = open_store(dir, 1, 0);
    assert_roche_ok(roche_append(w, "n", NULL, "NEW", 3, &again));
    assert_int_equal(again, off);
    usleep(250 * 1000);
    assert_value(r, "n", off, "NEW", 3);
    assert_roche_ok(roche_close(w));
    assert_roche_ok(roche_close(r));
    test_dir_free(dir);
}

int main(void) {
    if (!getcwd(original_cwd, sizeof original_cwd)) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scan_pointer_outlives_namespace_close),
        cmocka_unit_test(test_reader_notices_deleted_namespace),
        cmocka_unit_test(test_close_in_fork_child_never_hangs),
        cmocka_unit_test(test_idle_fork_child_does_not_keep_lock),
        cmocka_unit_test(test_fork_child_close_gives_back_mappings),
        cmocka_unit_test(test_lock_survives_deleted_files),
        cmocka_unit_test(test_open_of_one_namespace_does_not_block_another),
        cmocka_unit_test(test_stray_files_do_not_stop_a_namespace),
        cmocka_unit_test_teardown(test_root_survives_chdir, restore_cwd),
        cmocka_unit_test(test_huge_multiget_and_reads_past_trimmed_end),
        cmocka_unit_test(test_get_view_pins_the_value),
        cmocka_unit_test(test_reader_notices_namespace_removed_by_hand),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
