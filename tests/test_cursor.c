/* Consumer cursors (roche.h, "Cursors"): round trips, names, listing,
 * deletion, read-only handles, and the promise that a crash or a
 * concurrent commit leaves the old position or the new one, never a torn
 * one. */
#define _GNU_SOURCE
#include "test_util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The file layout of cursor.h: two slots 17 * 4096 bytes apart. */
#define SLOT_STRIDE 69632u
#define SLOT_HEADER 24u

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

/* A store whose namespace ns exists (a record appended to it). */
static roche_db *store_with_namespace(const char *dir, const char *ns) {
    roche_db *db = open_store(dir, 2, 0);
    assert_roche_ok(roche_append(db, ns, NULL, "x", 1, NULL));
    return db;
}

static roche_db *open_with_sync(const char *dir, int policy) {
    roche_options *opts = roche_options_new();
    assert_non_null(opts);
    assert_roche_ok(roche_options_set_sync(opts, policy));
    roche_db *db = NULL;
    assert_roche_ok(roche_open(dir, opts, &db));
    roche_options_free(opts);
    return db;
}

/* The cursor holds exactly want[0..n). */
static void assert_cursor(roche_db *db, const char *ns, const char *name, const uint64_t *want, size_t n) {
    uint64_t *got = NULL;
    size_t count = 99;
    assert_roche_ok(roche_cursor_get(db, ns, name, &got, &count));
    assert_non_null(got);
    assert_int_equal(count, n);
    for (size_t i = 0; i < n; i++) assert_int_equal(got[i], want[i]);
    roche_free(got);
}

/* The cursor's list is exactly the n names, in this order. */
static void assert_list(roche_db *db, const char *ns, const char *const *want, size_t n) {
    char *names = NULL;
    size_t count = 99;
    assert_roche_ok(roche_cursor_list(db, ns, &names, &count));
    assert_non_null(names);
    assert_int_equal(count, n);
    const char *p = names;
    for (size_t i = 0; i < n; i++, p += strlen(p) + 1) assert_string_equal(p, want[i]);
    assert_int_equal(*p, '\0');
    roche_free(names);
}

static char *cursor_file(const char *dir, const char *ns, const char *name) {
    char *path = malloc(strlen(dir) + strlen(ns) + strlen(name) + 16);
    assert_non_null(path);
    sprintf(path, "%s/%s/cursor.%s", dir, ns, name);
    return path;
}

static uint64_t slot_generation(const char *path, int slot) {
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    uint64_t gen = 0;
    if (pread(fd, &gen, 8, (off_t)slot * SLOT_STRIDE + 8) != 8) gen = 0;
    close(fd);
    return gen;
}

/* Overwrites a few bytes inside a slot's offsets, as a torn write or a
 * page lost in a crash would leave them. */
static void garble_slot(const char *path, int slot) {
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    const char junk[6] = "\xde\xad\xbe\xef\x01\x02";
    assert_int_equal(pwrite(fd, junk, sizeof junk, (off_t)slot * SLOT_STRIDE + SLOT_HEADER + 3), sizeof junk);
    close(fd);
}

static int newest_slot(const char *path) {
    return slot_generation(path, 1) > slot_generation(path, 0) ? 1 : 0;
}

/* ------------------------------------------------------------------------
 * Round trips, names, listing, deletion
 * ------------------------------------------------------------------------ */

static void test_round_trip(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *db = store_with_namespace(dir, "events");
    const uint64_t pos[3] = {17, (1ull << 50) + 5, UINT64_MAX};
    assert_roche_ok(roche_cursor_commit(db, "events", "consumer-1", pos, 3));
    assert_cursor(db, "events", "consumer-1", pos, 3);
    /* No offsets is a position too; the array handed out is never NULL. */
    assert_roche_ok(roche_cursor_commit(db, "events", "empty", NULL, 0));
    assert_cursor(db, "events", "empty", NULL, 0);
    /* NULL and "" name the default namespace, as everywhere. */
    assert_roche_ok(roche_append(db, NULL, NULL, "y", 1, NULL));
    assert_roche_ok(roche_cursor_commit(db, NULL, "c", pos, 1));
    assert_cursor(db, "", "c", pos, 1);
    assert_cursor(db, "default", "c", pos, 1);
    assert_roche_ok(roche_close(db));
    test_dir_free(dir);
}

static void test_file_layout(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *db = store_with_namespace(dir, "n");
    char *path = cursor_file(dir, "n", "c");
    const uint64_t pos[2] = {1, 2};
    assert_roche_ok(roche_cursor_commit(db, "n", "c", pos, 2));
    /* First commit: slot 0 only, header + 2 offsets + check. */
    assert_int_equal(file_size(path), SLOT_HEADER + 2 * 8 + 8);
    size_t len;
    char *bytes = read_file(path, &len);
    assert_memory_equal(bytes, "RCCUR001", 8);
    free(bytes);
    assert_int_equal(slot_generation(path, 0), 1);
    /* Second: slot 1, generation 2; third: slot 0 again. */
    assert_roche_ok(roche_cursor_commit(db, "n", "c", pos, 1));
    assert_int_equal(file_size(path), SLOT_STRIDE + SLOT_HEADER + 8 + 8);
    assert_int_equal(slot_generation(path, 1), 2);
    assert_roche_ok(roche_cursor_commit(db, "n", "c", pos, 2));
    assert_int_equal(slot_generation(path, 0), 3);
    assert_int_equal(slot_generation(path, 1), 2);
    /* The largest position fits its slot. */
    uint64_t *big = malloc(ROCHE_MAX_BUCKETS * sizeof *big);
    assert_non_null(big);
    for (uint32_t i = 0; i < ROCHE_MAX_BUCKETS; i++) big[i] = (uint64_t)i * 977;
    assert_roche_ok(roche_cursor_commit(db, "n", "c", big, ROCHE_MAX_BUCKETS));
    assert_roche_ok(roche_cursor_commit(db, "n", "d", big, ROCHE_MAX_BUCKETS));
    assert_roche_ok(roche_cursor_commit(db, "n", "d", big, ROCHE_MAX_BUCKETS));
    assert_cursor(db, "n", "c", big, ROCHE_MAX_BUCKETS);
    assert_cursor(db, "n", "d", big, ROCHE_MAX_BUCKETS);
    free(big);
    free(path);
    assert_roche_ok(roche_close(db));
    test_dir_free(dir);
}

static void test_overwrite(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *db = store_with_namespace(dir, "n");
    const uint64_t a[4] = {1, 2, 3, 4}, b[2] = {40, 50};
    assert_roche_ok(roche_cursor_commit(db, "n", "c", a, 4));
    assert_roche_ok(roche_cursor_commit(db, "n", "c", b, 2));
    assert_cursor(db, "n", "c", b, 2);
    for (uint64_t i = 0; i < 25; i++) {
        uint64_t pos[3] = {i, i + 1, i + 2};
        assert_roche_ok(roche_cursor_commit(db, "n", "c", pos, 1 + i % 3));
        assert_cursor(db, "n", "c", pos, 1 + i % 3);
    }
    assert_roche_ok(roche_close(db));
    test_dir_free(dir);
}

static void test_list_sorted(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *db = store_with_namespace(dir, "n");
    assert_list(db, "n", NULL, 0);
    const uint64_t pos[1] = {9};
    const char *names[] = {"zeta", "alpha", "mid-1", "Mid", "mid"};
    for (size_t i = 0; i < 5; i++) assert_roche_ok(roche_cursor_commit(db, "n", names[i], pos, 1));
    /* Files that are no cursor's are not listed. */
    char path[4200];
    snprintf(path, sizeof path, "%s/n/cursor.", dir);
    write_file(path, "", 0);
    snprintf(path, sizeof path, "%s/n/cursor..hidden", dir);
    write_file(path, "", 0);
    snprintf(path, sizeof path, "%s/n/cursorx", dir);
    write_file(path, "", 0);
    const char *sorted[] = {"Mid", "alpha", "mid", "mid-1", "zeta"};
    assert_list(db, "n", sorted, 5);
    /* Another namespace has its own. */
    assert_roche_ok(roche_append(db, "other", NULL, "x", 1, NULL));
    assert_list(db, "other", NULL, 0);
    assert_roche_ok(roche_close(db));
    test_dir_free(dir);
}

static void test_delete(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *db = store_with_namespace(dir, "n");
    const uint64_t pos[2] = {5, 6};
    assert_roche_ok(roche_cursor_commit(db, "n", "a", pos, 2));
    assert_roche_ok(roche_cursor_commit(db, "n", "b", pos, 2));
    assert_roche_ok(roche_cursor_delete(db, "n", "a"));
    uint64_t *got = (uint64_t *)1;
    size_t count = 7;
    assert_roche_code(roche_cursor_get(db, "n", "a", &got, &count), ROCHE_ENOTFOUND);
    assert_null(got);
    assert_int_equal(count, 0);
    assert_roche_code(roche_cursor_delete(db, "n", "a"), ROCHE_ENOTFOUND);
    const char *left[] = {"b"};
    assert_list(db, "n", left, 1);
    /* A deleted cursor can be made again. */
    assert_roche_ok(roche_cursor_commit(db, "n", "a", pos + 1, 1));
    assert_cursor(db, "n", "a", pos + 1, 1);
    assert_roche_ok(roche_close(db));
    test_dir_free(dir);
}

static void test_not_found(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *db = store_with_namespace(dir, "n");
    const uint64_t pos[1] = {1};
    uint64_t *got;
    size_t count;
    char *names;
    assert_roche_code(roche_cursor_get(db, "n", "never", &got, &count), ROCHE_ENOTFOUND);
    assert_roche_code(roche_cursor_delete(db, "n", "never"), ROCHE_ENOTFOUND);
    /* No such namespace: nothing is made, not even the directory. */
    assert_roche_code(roche_cursor_commit(db, "nope", "c", pos, 1), ROCHE_ENOTFOUND);
    assert_roche_code(roche_cursor_get(db, "nope", "c", &got, &count), ROCHE_ENOTFOUND);
    assert_roche_code(roche_cursor_list(db, "nope", &names, &count), ROCHE_ENOTFOUND);
    assert_null(names);
    assert_roche_code(roche_cursor_delete(db, "nope", "c"), ROCHE_ENOTFOUND);
    char path[4200];
    snprintf(path, sizeof path, "%s/nope", dir);
    assert_int_equal(file_size(path), -1);
    /* An empty file (a first commit that died before writing) holds no
     * position yet. */
    char *file = cursor_file(dir, "n", "unborn");
    write_file(file, "", 0);
    assert_roche_code(roche_cursor_get(db, "n", "unborn", &got, &count), ROCHE_ENOTFOUND);
    assert_roche_ok(roche_cursor_commit(db, "n", "unborn", pos, 1));
    assert_cursor(db, "n", "unborn", pos, 1);
    free(file);
    assert_roche_ok(roche_close(db));
    test_dir_free(dir);
}

static void test_invalid_arguments(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *db = store_with_namespace(dir, "n");
    const uint64_t pos[1] = {1};
    uint64_t *got = (uint64_t *)1;
    size_t count = 7;
    char *names = (char *)1;
    assert_roche_code(roche_cursor_commit(NULL, "n", "c", pos, 1), ROCHE_EINVAL);
    assert_roche_code(roche_cursor_commit(db, "n", NULL, pos, 1), ROCHE_EINVAL);
    assert_non_null(strstr(roche_last_error(), "name"));
    assert_roche_code(roche_cursor_commit(db, "n", "c", NULL, 1), ROCHE_EINVAL);
    assert_non_null(strstr(roche_last_error(), "offsets"));
    assert_roche_code(roche_cursor_get(NULL, "n", "c", &got, &count), ROCHE_EINVAL);
    assert_null(got);
    assert_int_equal(count, 0);
    assert_roche_code(roche_cursor_get(db, "n", NULL, &got, &count), ROCHE_EINVAL);
    assert_roche_code(roche_cursor_get(db, "n", "c", NULL, &count), ROCHE_EINVAL);
    assert_roche_code(roche_cursor_get(db, "n", "c", &got, NULL), ROCHE_EINVAL);
    assert_roche_code(roche_cursor_list(NULL, "n", &names, &count), ROCHE_EINVAL);
    assert_null(names);
    assert_roche_code(roche_cursor_list(db, "n", NULL, &count), ROCHE_EINVAL);
    assert_roche_code(roche_cursor_list(db, "n", &names, NULL), ROCHE_EINVAL);
    assert_roche_code(roche_cursor_delete(NULL, "n", "c"), ROCHE_EINVAL);
    assert_roche_code(roche_cursor_delete(db, "n", NULL), ROCHE_EINVAL);

    char long_name[202];
    memset(long_name, 'k', 201);
    long_name[201] = '\0';
    const char *bad[] = {"", ".x", ".", "..", "a/b", "/", long_name};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_roche_code(roche_cursor_commit(db, "n", bad[i], pos, 1), ROCHE_EINVAL);
        assert_roche_code(roche_cursor_get(db, "n", bad[i], &got, &count), ROCHE_EINVAL);
        assert_roche_code(roche_cursor_delete(db, "n", bad[i]), ROCHE_EINVAL);
    }
    assert_non_null(strstr(roche_last_error(), "200"));
    assert_roche_code(roche_cursor_commit(db, ".n", "c", pos, 1), ROCHE_EINVAL);
    assert_roche_code(roche_cursor_list(db, "a/b", &names, &count), ROCHE_EINVAL);
    /* 200 bytes is the longest name. */
    long_name[200] = '\0';
    assert_roche_ok(roche_cursor_commit(db, "n", long_name, pos, 1));
    assert_cursor(db, "n", long_name, pos, 1);

    uint64_t *many = calloc(ROCHE_MAX_BUCKETS + 1, sizeof *many);
    assert_non_null(many);
    assert_roche_code(roche_cursor_commit(db, "n", "c", many, ROCHE_MAX_BUCKETS + 1), ROCHE_EINVAL);
    assert_roche_code(roche_cursor_get(db, "n", "c", &got, &count), ROCHE_ENOTFOUND);
    assert_roche_ok(roche_cursor_commit(db, "n", "c", many, ROCHE_MAX_BUCKETS));
    free(many);
    /* Nothing bad left a file behind. */
    const char *listed[] = {"c", long_name};
    assert_list(db, "n", listed, 2);
    assert_roche_ok(roche_close(db));
    test_dir_free(dir);
}

/* ------------------------------------------------------------------------
 * Handles: read-only, reopen, sync policies, fork, namespace deletion
 * ------------------------------------------------------------------------ */

static void test_read_only_handle_commits_beside_writer(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *w = store_with_namespace(dir, "n");
    roche_db *r = open_store(dir, 0, 1);
    const uint64_t pos[2] = {3, 4}, later[2] = {30, 40};
    assert_roche_ok(roche_cursor_commit(r, "n", "reader", pos, 2));
    assert_cursor(w, "n", "reader", pos, 2);
    assert_roche_ok(roche_cursor_commit(w, "n", "reader", later, 2));
    assert_cursor(r, "n", "reader", later, 2);
    const char *names[] = {"reader"};
    assert_list(r, "n", names, 1);
    assert_roche_ok(roche_cursor_delete(r, "n", "reader"));
    assert_list(w, "n", NULL, 0);
    /* A read-only handle still cannot write records. */
    assert_roche_code(roche_append(r, "n", NULL, "x", 1, NULL), ROCHE_EREADONLY);
    assert_roche_ok(roche_close(r));
    assert_roche_ok(roche_close(w));
    test_dir_free(dir);
}

static void test_commit_survives_reopen(void **state) {
    (void)state;
    char *dir = test_dir_new();
    const int policies[] = {ROCHE_SYNC_NEVER, ROCHE_SYNC_ALWAYS, ROCHE_SYNC_PERIODIC};
    for (int p = 0; p < 3; p++) {
        char ns[16];
        snprintf(ns, sizeof ns, "ns%d", p);
        roche_db *db = open_with_sync(dir, policies[p]);
        assert_roche_ok(roche_append(db, ns, NULL, "x", 1, NULL));
        const uint64_t pos[3] = {7, 8, (uint64_t)p};
        assert_roche_ok(roche_cursor_commit(db, ns, "c", pos, 3));
        assert_roche_ok(roche_cursor_commit(db, ns, "gone", pos, 1));
        assert_roche_ok(roche_cursor_delete(db, ns, "gone"));
        assert_roche_ok(roche_sync_namespace(db, ns));
        assert_roche_ok(roche_cursor_commit(db, ns, "c", pos, 3));
        assert_roche_ok(roche_sync(db));
        assert_roche_ok(roche_close(db));
        roche_db *again = open_store(dir, 0, 1);
        assert_cursor(again, ns, "c", pos, 3);
        assert_roche_code(roche_cursor_get(again, ns, "gone", &(uint64_t *){NULL}, &(size_t){0}),
                          ROCHE_ENOTFOUND);
        assert_roche_ok(roche_close(again));
    }
    test_dir_free(dir);
}

static void test_delete_namespace_removes_cursors(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *db = store_with_namespace(dir, "n");
    const uint64_t pos[1] = {11};
    assert_roche_ok(roche_cursor_commit(db, "n", "c", pos, 1));
    assert_roche_ok(roche_delete_namespace(db, "n"));
    uint64_t *got;
    size_t count;
    assert_roche_code(roche_cursor_get(db, "n", "c", &got, &count), ROCHE_ENOTFOUND);
    /* A sync after the namespace went has nothing of it left to sync. */
    assert_roche_ok(roche_sync(db));
    assert_roche_ok(roche_append(db, "n", NULL, "x", 1, NULL));
    assert_list(db, "n", NULL, 0);
    assert_roche_code(roche_cursor_get(db, "n", "c", &got, &count), ROCHE_ENOTFOUND);
    assert_roche_ok(roche_close(db));
    test_dir_free(dir);
}

static void test_fork_child_may_not_use_parent_handle(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *db = store_with_namespace(dir, "n");
    const uint64_t pos[1] = {1};
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) _exit(roche_cursor_commit(db, "n", "c", pos, 1) == ROCHE_EINVAL ? 0 : 1);
    test_assert_child_ok(pid, 30);
    assert_roche_code(roche_cursor_get(db, "n", "c", &(uint64_t *){NULL}, &(size_t){0}), ROCHE_ENOTFOUND);
    assert_roche_ok(roche_close(db));
    test_dir_free(dir);
}

/* ------------------------------------------------------------------------
 * Atomicity
 * ------------------------------------------------------------------------ */

/* (a) The newest slot torn or lost: the previous position; both: damage. */
static void test_damaged_newest_slot_leaves_previous(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *db = store_with_namespace(dir, "n");
    char *path = cursor_file(dir, "n", "c");
    for (int commits = 2; commits <= 5; commits++) {
        (void)roche_cursor_delete(db, "n", "c");  /* a fresh cursor each time */
        uint64_t pos[2];
        for (int i = 1; i <= commits; i++) {
            pos[0] = pos[1] = (uint64_t)i * 100;
            assert_roche_ok(roche_cursor_commit(db, "n", "c", pos, 2));
        }
        const uint64_t previous[2] = {(uint64_t)(commits - 1) * 100, (uint64_t)(commits - 1) * 100};
        int newest = newest_slot(path);
        garble_slot(path, newest);
        assert_cursor(db, "n", "c", previous, 2);
        /* The next commit writes over the damaged slot, not the good one. */
        const uint64_t next[1] = {999};
        assert_roche_ok(roche_cursor_commit(db, "n", "c", next, 1));
        assert_cursor(db, "n", "c", next, 1);
        garble_slot(path, newest_slot(path));
        assert_cursor(db, "n", "c", previous, 2);
        /* Both slots damaged. */
        garble_slot(path, 1 - newest_slot(path));
        uint64_t *got = (uint64_t *)1;
        size_t count = 5;
        assert_roche_code(roche_cursor_get(db, "n", "c", &got, &count), ROCHE_ECORRUPT);
        assert_null(got);
        /* A commit mends it. */
        assert_roche_ok(roche_cursor_commit(db, "n", "c", next, 1));
        assert_cursor(db, "n", "c", next, 1);
    }
    /* A lost second block (slot 1 never reached the disk): slot 0 holds. */
    assert_roche_ok(roche_cursor_delete(db, "n", "c"));
    const uint64_t one[1] = {1}, two[1] = {2};
    assert_roche_ok(roche_cursor_commit(db, "n", "c", one, 1));
    assert_roche_ok(roche_cursor_commit(db, "n", "c", two, 1));
    assert_int_equal(truncate(path, SLOT_STRIDE), 0);
    assert_cursor(db, "n", "c", one, 1);
    free(path);
    assert_roche_ok(roche_close(db));
    test_dir_free(dir);
}

/* Child of the kill test: commits [i, i] for i = first, first + 1, ... and
 * writes each i to fd once its commit returned. */
static void commit_forever(const char *dir, int read_only, uint64_t first, int fd) {
    roche_options *opts = roche_options_new();
    roche_db *db = NULL;
    if (!opts || roche_options_set_read_only(opts, read_only) != ROCHE_OK ||
        roche_open(dir, opts, &db) != ROCHE_OK)
        _exit(3);
    roche_options_free(opts);
    for (uint64_t i = first;; i++) {
        uint64_t pos[2] = {i, i};
        if (roche_cursor_commit(db, "n", "c", pos, 2) != ROCHE_OK) _exit(4);
        if (write(fd, &i, sizeof i) != sizeof i) _exit(5);
    }
}

/* The last value the child acknowledged, or fallback when none. */
static uint64_t last_acknowledged(int fd, uint64_t fallback) {
    uint64_t v, last = fallback;
    ssize_t n;
    while ((n = read(fd, &v, sizeof v)) == sizeof v) last = v;
    assert_true(n == 0);
    return last;
}

/* (b) kill -9 at a random moment of a commit loop: the position read is
 * the last one acknowledged or the one being committed, never torn. */
static void test_kill_during_commits(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *db = store_with_namespace(dir, "n");
    const uint64_t start[2] = {0, 0};
    assert_roche_ok(roche_cursor_commit(db, "n", "c", start, 2));
    assert_roche_ok(roche_close(db));
    srand((unsigned)mono_ns());
    uint64_t current = 0;
    for (int round = 0; round < 50; round++) {
        int read_only = round % 2;  /* synced commits, and unsynced ones */
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        /* Room for every acknowledgement, so the child never blocks on it. */
        fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            commit_forever(dir, read_only, current + 1, fds[1]);
        }
        close(fds[1]);
        usleep(500 + (useconds_t)(rand() % 8000));
        kill(pid, SIGKILL);
        int status = test_wait_child(pid, 30);
        if (!WIFSIGNALED(status)) fail_msg("round %d: child exited with code %d", round, WEXITSTATUS(status));
        uint64_t acked = last_acknowledged(fds[0], current);
        close(fds[0]);

        roche_db *r = open_store(dir, 0, 1);
        uint64_t *got = NULL;
        size_t count = 0;
        assert_roche_ok(roche_cursor_get(r, "n", "c", &got, &count));
        assert_int_equal(count, 2);
        if (got[0] != got[1]) fail_msg("round %d: torn position [%llu, %llu]", round,
                                       (unsigned long long)got[0], (unsigned long long)got[1]);
        if (got[0] < acked || got[0] > acked + 1)
            fail_msg("round %d: position %llu, acknowledged %llu", round, (unsigned long long)got[0],
                     (unsigned long long)acked);
        current = got[0];
        roche_free(got);
        assert_roche_ok(roche_close(r));
    }
    assert_true(current > 0);  /* the children did commit */
    test_dir_free(dir);
}

/* Child of the concurrency test: commits to "shared" and to its own
 * cursor for ms, every position of `width` equal offsets, rising. */
static void commit_for(const char *dir, int read_only, const char *own, size_t width, uint64_t base, int ms) {
    roche_options *opts = roche_options_new();
    roche_db *db = NULL;
    if (!opts || roche_options_set_read_only(opts, read_only) != ROCHE_OK ||
        roche_open(dir, opts, &db) != ROCHE_OK)
        _exit(3);
    roche_options_free(opts);
    uint64_t deadline = mono_ns() + (uint64_t)ms * 1000000u, pos[8];
    for (uint64_t i = 1; mono_ns() < deadline; i++) {
        for (size_t k = 0; k < width; k++) pos[k] = base + i;
        if (roche_cursor_commit(db, "n", "shared", pos, width) != ROCHE_OK) _exit(4);
        if (roche_cursor_commit(db, "n", own, pos, width) != ROCHE_OK) _exit(5);
    }
    _exit(roche_close(db) == ROCHE_OK ? 0 : 6);
}

/* A read of a cursor the children commit: not there yet, or a whole
 * position of one of them. Returns its value, 0 when not there. */
static uint64_t check_read(roche_db *db, const char *name) {
    uint64_t *got = NULL;
    size_t count = 0;
    int rc = roche_cursor_get(db, "n", name, &got, &count);
    if (rc == ROCHE_ENOTFOUND) return 0;
    if (rc != ROCHE_OK) fail_msg("get %s: %s: %s", name, roche_strerror(rc), roche_last_error());
    if (count != 2 && count != 5) fail_msg("get %s: %zu offsets", name, count);
    for (size_t k = 1; k < count; k++)
        if (got[k] != got[0]) fail_msg("get %s: torn position (offset %zu)", name, k);
    uint64_t v = got[0];
    roche_free(got);
    return v;
}

/* (c) Two processes commit the same cursor and one each, one through a
 * writable handle and one through a read-only one; a third reads all
 * three in a loop and never sees a torn or invalid position. */
static void test_concurrent_committers_and_reader(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *db = store_with_namespace(dir, "n");
    assert_roche_ok(roche_close(db));
    const uint64_t b_base = 1ull << 40;
    pid_t a = fork();
    assert_true(a >= 0);
    if (a == 0) commit_for(dir, 0, "own-a", 2, 0, 700);
    pid_t b = fork();
    assert_true(b >= 0);
    if (b == 0) commit_for(dir, 1, "own-b", 5, b_base, 700);
    roche_db *r = open_store(dir, 0, 1);
    uint64_t last_a = 0, last_b = 0, reads = 0, seen_a = 0, seen_b = 0;
    int status_a = -1, status_b = -1;
    uint64_t deadline = mono_ns() + 30000000000u;
    while ((status_a == -1 || status_b == -1) && mono_ns() < deadline) {
        uint64_t s = check_read(r, "shared");
        seen_a += s && s < b_base;
        seen_b += s >= b_base;
        uint64_t va = check_read(r, "own-a"), vb = check_read(r, "own-b");
        /* A committer's own cursor only moves forward. */
        assert_true(va >= last_a);
        assert_true(vb >= last_b);
        last_a = va;
        last_b = vb;
        reads++;
        if (status_a == -1 && waitpid(a, &status_a, WNOHANG) != a) status_a = -1;
        if (status_b == -1 && waitpid(b, &status_b, WNOHANG) != b) status_b = -1;
    }
    if (status_a == -1) test_assert_child_ok(a, 1);
    if (status_b == -1) test_assert_child_ok(b, 1);
    assert_true(WIFEXITED(status_a) && WEXITSTATUS(status_a) == 0);
    assert_true(WIFEXITED(status_b) && WEXITSTATUS(status_b) == 0);
    /* And once they are done, the last positions. */
    last_a = check_read(r, "own-a");
    last_b = check_read(r, "own-b");
    assert_true(last_a > 0);
    assert_true(last_b > b_base);
    assert_true(seen_a + seen_b > 0);
    assert_true(reads > 10);
    assert_roche_ok(roche_close(r));
    test_dir_free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_file_layout),
        cmocka_unit_test(test_overwrite),
        cmocka_unit_test(test_list_sorted),
        cmocka_unit_test(test_delete),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_invalid_arguments),
        cmocka_unit_test(test_read_only_handle_commits_beside_writer),
        cmocka_unit_test(test_commit_survives_reopen),
        cmocka_unit_test(test_delete_namespace_removes_cursors),
        cmocka_unit_test(test_fork_child_may_not_use_parent_handle),
        cmocka_unit_test(test_damaged_newest_slot_leaves_previous),
        cmocka_unit_test(test_kill_during_commits),
        cmocka_unit_test(test_concurrent_committers_and_reader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
