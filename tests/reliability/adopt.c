/* Adoption test: a store in the seed format (bucket files, no companions)
 * gets its companions built by its first writable open. A child makes that
 * open; the parent kills it with SIGKILL at moments spread over the time the
 * build takes, then reopens the store and checks that every record is still
 * there, byte for byte, and that no tail was cut aside.
 *
 * The bug this guards against: a companion built in place trusted nothing
 * past what it had indexed when the kill came, so the next open cut every
 * record it had not reached (into append.<n>.raw.cut-<position>), and the
 * store lost them. roche import's own crash test met it under load.
 *
 * ROCHE_ADOPT_ROUNDS (default 12) sets the number of kills. */
#define _GNU_SOURCE
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rel_util.h"

#define NS "adopt"
#define BUCKETS 8
#define RECORDS 400000
#define VALUE_LEN 100

static long now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000L + t.tv_nsec / 1000;
}

/* Calls fn(dir, name) for each entry of the namespace's directory but "."
 * and ".."; returns the sum of what fn returned. */
static int each_file(const char *root, int (*fn)(const char *dir, const char *name)) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", root, NS);
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    struct dirent *e;
    int sum = 0;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) sum += fn(dir, e->d_name);
    closedir(d);
    return sum;
}

/* Removes everything but bucket files: what is left is a store as the seed
 * format's own writer leaves it, with no companions. */
static int remove_unless_bucket_file(const char *dir, const char *name) {
    size_t n = strlen(name);
    if (n > 4 && strcmp(name + n - 4, ".raw") == 0) return 0;
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    CHECK(unlink(path) == 0);
    return 1;
}

static int is_cut_tail(const char *dir, const char *name) {
    (void)dir;
    return strstr(name, ".cut-") != NULL;
}

static void strip_companions(const char *root) { each_file(root, remove_unless_bucket_file); }
static int has_cut_tail(const char *root) { return each_file(root, is_cut_tail) > 0; }

/* The child: the first writable open builds the companions of every bucket
 * as the namespace opens (one get opens it). */
static void open_writable(const char *root) {
    roche_db *db;
    if (rel_open(root, BUCKETS, 0, &db) != ROCHE_OK) _exit(2);
    void *data;
    size_t len;
    int rc = roche_get(db, NS, 0, &data, &len);
    if (rc == ROCHE_OK) roche_free(data);
    _exit(rc == ROCHE_OK ? 0 : 3);
}

/* Runs the child, killing it after delay_us (or letting it finish when
 * delay_us is negative). Returns how long it ran. */
static long run_child(const char *root, long delay_us) {
    long start = now_us();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) open_writable(root);
    if (delay_us >= 0) {
        usleep((useconds_t)delay_us);
        kill(pid, SIGKILL);
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0));
    return now_us() - start;
}

static void verify_all(const char *root, const uint64_t *offsets, const uint64_t *seeds) {
    roche_db *db;
    CHECK_OK(rel_open(root, BUCKETS, 0, &db));
    uint8_t want[VALUE_LEN];
    for (size_t i = 0; i < RECORDS; i++) {
        rel_fill(want, VALUE_LEN, seeds[i]);
        if (!rel_value_is(db, NS, offsets[i], want, VALUE_LEN)) {
            fprintf(stderr, "record %zu at offset %llu is gone or differs after a kill during adoption\n", i,
                    (unsigned long long)offsets[i]);
            exit(1);
        }
    }
    roche_stat_info info = {.version = ROCHE_STAT_VERSION};
    CHECK_OK(roche_stat(db, NS, &info));
    CHECK(info.records == RECORDS);
    CHECK_OK(roche_close(db));
    CHECK(!has_cut_tail(root));
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    long rounds = env_long("ROCHE_ADOPT_ROUNDS", 12);
    char *root = rel_tempdir("adopt");
    uint64_t *offsets = malloc(RECORDS * sizeof *offsets), *seeds = malloc(RECORDS * sizeof *seeds);
    CHECK(offsets && seeds);
    roche_db *db;
    CHECK_OK(rel_open(root, BUCKETS, 0, &db));
    uint8_t value[VALUE_LEN];
    uint64_t state = 42;
    for (size_t i = 0; i < RECORDS; i++) {
        char id[16];
        snprintf(id, sizeof id, "%zu", i % 64);
        seeds[i] = rel_next(&state);
        rel_fill(value, VALUE_LEN, seeds[i]);
        CHECK_OK(roche_append(db, NS, id, value, VALUE_LEN, &offsets[i]));
    }
    CHECK_OK(roche_close(db));

    /* How long an uninterrupted adoption takes here. */
    strip_companions(root);
    long full_us = run_child(root, -1);
    printf("adoption of %d records in %d buckets: %.1f ms\n", RECORDS, BUCKETS, full_us / 1000.0);

    for (long r = 0; r < rounds; r++) {
        strip_companions(root);
        /* Spread over the build, the process start included. */
        long delay = full_us * (r + 1) / (rounds + 1);
        run_child(root, delay);
        verify_all(root, offsets, seeds);
        printf("round %ld: killed after %.1f ms; all %d records there\n", r + 1, delay / 1000.0, RECORDS);
    }
    free(offsets);
    free(seeds);
    rel_rmdir(root);
    printf("ok\n");
    return 0;
}
