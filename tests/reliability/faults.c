/* Fault injection: every fault gets a clear error code (never a crash),
 * and every append that returned stays readable, in the same handle and
 * after reopening. Each case runs in its own child process, so a resource
 * limit or a dropped privilege stays there, and a crash is reported by
 * the case's name.
 *
 * Usage: rel_faults [CASE]. Cases marked needs_shim need the fault shim
 * preloaded (LD_PRELOAD of libroche_fault_shim.so; ctest does it); without
 * it, a run of every case skips them. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rel_util.h"

#define NS "faults"
#define MAX_KEPT 256

typedef void (*fault_set_fn)(int mmap_fails, int fallocate_fails, size_t malloc_limit);
static fault_set_fn fault_set;

/* The appends that returned, with their values, to check later. */
struct kept {
    uint64_t offset[MAX_KEPT];
    uint32_t len[MAX_KEPT];
    uint64_t seed[MAX_KEPT];
    size_t count;
};

/* Appends a value of len bytes made from seed; keeps it on success. */
static int append_kept(roche_db *db, struct kept *k, uint32_t len, uint64_t seed) {
    uint8_t *value = malloc(len ? len : 1);
    CHECK(value);
    rel_fill(value, len, seed);
    uint64_t offset;
    int rc = roche_append(db, NS, NULL, value, len, &offset);
    free(value);
    if (rc == ROCHE_OK) {
        CHECK(k->count < MAX_KEPT);
        k->offset[k->count] = offset;
        k->len[k->count] = len;
        k->seed[k->count++] = seed;
    } else {
        CHECK(*roche_last_error() != '\0'); /* a clear error says what failed */
    }
    return rc;
}

static void check_kept(roche_db *db, const struct kept *k) {
    for (size_t i = 0; i < k->count; i++) {
        uint8_t *expect = malloc(k->len[i] ? k->len[i] : 1);
        CHECK(expect);
        rel_fill(expect, k->len[i], k->seed[i]);
        CHECK(rel_value_is(db, NS, k->offset[i], expect, k->len[i]));
        free(expect);
    }
}

static void reopen_and_check(const char *root, const struct kept *k) {
    roche_db *db;
    CHECK_OK(rel_open(root, 1, 0, &db));
    check_kept(db, k);
    CHECK_OK(roche_close(db));
}

/* Write failures: a file size limit makes growing the bucket fail. */
static void file_size_limit(const char *root) {
    signal(SIGXFSZ, SIG_IGN); /* so the library sees EFBIG, not a signal */
    struct rlimit lim = {3u << 20, 3u << 20};
    CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
    roche_db *db;
    CHECK_OK(rel_open(root, 1, 0, &db));
    struct kept k = {0};
    int rc = ROCHE_OK;
    for (uint64_t i = 0; i < 100 && rc == ROCHE_OK; i++) rc = append_kept(db, &k, 100000, i);
    CHECK_RC(rc, ROCHE_EIO);
    CHECK(k.count >= 10);
    CHECK_RC(append_kept(db, &k, 100000, 999), ROCHE_EIO); /* and again */
    check_kept(db, &k);
    int closed = roche_close(db);
    CHECK(closed == ROCHE_OK || closed == ROCHE_EIO);
    reopen_and_check(root, &k);
}

/* Write failures: no space left when the bucket grows (shim). */
static void no_space(const char *root) {
    roche_db *db;
    CHECK_OK(rel_open(root, 1, 0, &db));
    struct kept k = {0};
    for (uint64_t i = 0; i < 5; i++) CHECK_OK(append_kept(db, &k, 1000, i));
    fault_set(0, 1, 0);
    int rc = ROCHE_OK;
    for (uint64_t i = 5; i < 100 && rc == ROCHE_OK; i++) rc = append_kept(db, &k, 100000, i);
    CHECK_RC(rc, ROCHE_EIO);
    check_kept(db, &k);
    fault_set(0, 0, 0);
    CHECK_OK(append_kept(db, &k, 100000, 500)); /* space again: appends go on */
    check_kept(db, &k);
    CHECK_OK(roche_close(db));
    reopen_and_check(root, &k);
}

/* mmap fails while a bucket grows (shim); later appends must neither
 * crash nor lose anything. */
static void mmap_fails_on_growth(const char *root) {
    roche_db *db;
    CHECK_OK(rel_open(root, 1, 0, &db));
    struct kept k = {0};
    CHECK_OK(append_kept(db, &k, 1000, 1));
    fault_set(1, 0, 0);
    int rc = append_kept(db, &k, 3u << 20, 2);
    CHECK(rc == ROCHE_ENOMEM || rc == ROCHE_EIO);
    fault_set(0, 0, 0);
    CHECK_OK(append_kept(db, &k, 3u << 20, 3));
    CHECK_OK(append_kept(db, &k, 1000, 4));
    check_kept(db, &k);
    CHECK_OK(roche_close(db));
    reopen_and_check(root, &k);
}

/* mmap fails while a namespace is opened and recovered (shim). */
static void mmap_fails_at_open(const char *root) {
    struct kept k = {0};
    roche_db *db;
    CHECK_OK(rel_open(root, 1, 0, &db));
    CHECK_OK(append_kept(db, &k, 5000, 1));
    CHECK_OK(roche_close(db));
    CHECK_OK(rel_open(root, 1, 0, &db));
    fault_set(1, 0, 0);
    void *data;
    size_t len;
    int rc = roche_get(db, NS, k.offset[0], &data, &len);
    CHECK(rc == ROCHE_ENOMEM || rc == ROCHE_EIO);
    rc = append_kept(db, &k, 10, 2);
    CHECK(rc == ROCHE_ENOMEM || rc == ROCHE_EIO);
    fault_set(0, 0, 0);
    check_kept(db, &k);
    CHECK_OK(append_kept(db, &k, 10, 3));
    CHECK_OK(roche_close(db));
    reopen_and_check(root, &k);
}

/* Allocation failures on reads of a large value (shim). */
static void malloc_fails(const char *root) {
    struct kept k = {0};
    roche_db *db;
    CHECK_OK(rel_open(root, 1, 0, &db));
    CHECK_OK(append_kept(db, &k, 1u << 20, 1));
    CHECK_OK(append_kept(db, &k, 100, 2));
    CHECK_OK(roche_close(db));
    for (int read_only = 0; read_only <= 1; read_only++) {
        CHECK_OK(rel_open(root, 1, read_only, &db));
        check_kept(db, &k); /* opens the namespace before the fault */
        fault_set(0, 0, 64 << 10);
        void *data;
        size_t len;
        CHECK_RC(roche_get(db, NS, k.offset[0], &data, &len), ROCHE_ENOMEM);
        CHECK_OK(roche_get(db, NS, k.offset[1], &data, &len));
        roche_free(data);
        roche_values *vals;
        CHECK_RC(roche_multiget(db, NS, k.offset, 2, &vals), ROCHE_ENOMEM);
        roche_scan *scan;
        CHECK_OK(roche_scan_open(db, NS, 0, &scan));
        int rc = roche_scan_next(scan, NULL, NULL, NULL, NULL);
        CHECK(rc == ROCHE_OK || rc == ROCHE_ENOMEM);
        roche_scan_free(scan);
        fault_set(0, 0, 0);
        check_kept(db, &k);
        CHECK_OK(roche_close(db));
    }
}

/* Runs fn as an unprivileged user when we are root (root ignores modes). */
static void drop_root(void) {
    if (geteuid() != 0) return;
    CHECK(setgid(65534) == 0 && setuid(65534) == 0);
}

static void permission_denied(const char *unused) {
    (void)unused;
    drop_root();
    char *root = rel_tempdir("perm");
    struct kept k = {0};
    roche_db *db;
    CHECK_OK(rel_open(root, 1, 0, &db));
    CHECK_OK(append_kept(db, &k, 300, 1));
    CHECK_OK(roche_close(db));
    char ns_dir[4200], bucket[4300];
    snprintf(ns_dir, sizeof ns_dir, "%s/%s", root, NS);
    snprintf(bucket, sizeof bucket, "%s/append.0.raw", ns_dir);

    /* Bucket files and namespace read-only: writing fails, reading works. */
    CHECK(chmod(bucket, 0444) == 0 && chmod(ns_dir, 0555) == 0);
    CHECK_OK(rel_open(root, 1, 0, &db));
    CHECK_RC(append_kept(db, &k, 10, 2), ROCHE_EIO);
    CHECK_OK(roche_close(db));
    CHECK_OK(rel_open(root, 1, 1, &db));
    check_kept(db, &k);
    CHECK_OK(roche_close(db));

    /* Root read-only: nothing could be created there, so no writer. */
    CHECK(chmod(root, 0555) == 0);
    CHECK_RC(rel_open(root, 1, 0, &db), ROCHE_EIO);
    CHECK(db == NULL);

    /* Unreadable namespace: a reader gets an error, not a crash. */
    CHECK(chmod(root, 0755) == 0 && chmod(ns_dir, 0) == 0);
    CHECK_OK(rel_open(root, 1, 1, &db));
    void *data;
    size_t len;
    CHECK_RC(roche_get(db, NS, k.offset[0], &data, &len), ROCHE_EIO);
    CHECK_OK(roche_close(db));

    CHECK(chmod(ns_dir, 0755) == 0 && chmod(bucket, 0644) == 0);
    reopen_and_check(root, &k);
    rel_rmdir(root);
}

static void root_is_a_file(const char *root) {
    char file[4200], below[4300], ns_file[4200];
    snprintf(file, sizeof file, "%s/file", root);
    snprintf(below, sizeof below, "%s/sub", file);
    FILE *f = fopen(file, "w");
    CHECK(f && fputs("not a store", f) >= 0 && fclose(f) == 0);
    roche_db *db = (roche_db *)1;
    CHECK_RC(rel_open(file, 1, 0, &db), ROCHE_EIO);
    CHECK(db == NULL);
    CHECK_RC(rel_open(file, 1, 1, &db), ROCHE_EIO);
    CHECK_RC(rel_open(below, 1, 0, &db), ROCHE_EIO);

    /* A namespace that is a regular file. */
    snprintf(ns_file, sizeof ns_file, "%s/%s", root, NS);
    CHECK(rename(file, ns_file) == 0);
    CHECK_OK(rel_open(root, 1, 0, &db));
    struct kept k = {0};
    CHECK_RC(append_kept(db, &k, 10, 1), ROCHE_EIO);
    void *data;
    size_t len;
    CHECK_RC(roche_get(db, NS, 0, &data, &len), ROCHE_EIO);
    CHECK_OK(roche_close(db));
}

/* The namespace directory is removed under an open writer. Appends may
 * fail; an append that returns ROCHE_OK must be readable after reopening. */
static void namespace_removed(const char *root) {
    roche_db *db;
    CHECK_OK(rel_open(root, 1, 0, &db));
    struct kept before = {0}, after = {0};
    for (uint64_t i = 0; i < 3; i++) CHECK_OK(append_kept(db, &before, 2000, i));
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s/%s'", root, NS);
    CHECK(system(cmd) == 0);
    int rc = append_kept(db, &after, 2000, 10);
    CHECK(rc == ROCHE_OK || rc == ROCHE_EIO || rc == ROCHE_ENOTFOUND);
    int closed = roche_close(db);
    CHECK(closed == ROCHE_OK || closed == ROCHE_EIO);
    CHECK_OK(rel_open(root, 1, 0, &db));
    check_kept(db, &after);
    CHECK_OK(roche_close(db));
}

struct fault_case {
    const char *name;
    void (*run)(const char *root);
    int needs_shim;
};

static const struct fault_case kCases[] = {
    {"file_size_limit", file_size_limit, 0},
    {"no_space", no_space, 1},
    {"mmap_fails_on_growth", mmap_fails_on_growth, 1},
    {"mmap_fails_at_open", mmap_fails_at_open, 1},
    {"malloc_fails", malloc_fails, 1},
    {"permission_denied", permission_denied, 0},
    {"root_is_a_file", root_is_a_file, 0},
    {"namespace_removed", namespace_removed, 0},
};

/* Runs one case in a child; 1 when it passed. */
static int run_case(const struct fault_case *c) {
    char *root = rel_tempdir("faults");
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        c->run(root);
        _exit(0);
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid);
    rel_rmdir(root);
    int passed = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (WIFSIGNALED(status))
        printf("faults: %s: CRASHED with signal %d\n", c->name, WTERMSIG(status));
    else
        printf("faults: %s: %s\n", c->name, passed ? "ok" : "FAILED");
    return passed;
}

int main(int argc, char **argv) {
    const char *only = argc > 1 ? argv[1] : NULL;
    fault_set = (fault_set_fn)dlsym(RTLD_DEFAULT, "roche_fault_set");
    int failed = 0, ran = 0;
    for (size_t i = 0; i < sizeof kCases / sizeof kCases[0]; i++) {
        if (only && strcmp(only, kCases[i].name) != 0) continue;
        ran++;
        if (kCases[i].needs_shim && !fault_set) {
            /* Asked for by name, a shim case must not pass by skipping. */
            printf("faults: %s: %s (LD_PRELOAD the fault shim)\n", kCases[i].name,
                   only ? "FAILED: no shim" : "skipped, no shim");
            failed += only != NULL;
            continue;
        }
        failed += !run_case(&kCases[i]);
    }
    if (!ran) fprintf(stderr, "faults: no case named %s\n", only);
    return failed || !ran ? 1 : 0;
}
