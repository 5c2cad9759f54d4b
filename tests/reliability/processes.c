/* Many processes: one writer and several reader processes on one store.
 * A second writer is refused with ROCHE_ELOCKED. Every reader scan sees,
 * for each stream of appends, an unbroken prefix (record n only after
 * records 0..n-1), each record whole; and, once the writer is done,
 * all of it. The writer appends ROCHE_PROC_RECORDS records (default 20000).
 * Usage: rel_processes [growth|buckets|many] (default: all three). */
#define _GNU_SOURCE
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rel_util.h"

#define NS "procs"
#define READERS 3
#define STREAMS 2 /* each stream appends through its own id */

static const char *kIds[STREAMS] = {"left", "right"};

/* Record n of the whole run: stream n % STREAMS, sequence n / STREAMS. */
static uint64_t seed_of(int stream, uint64_t seq) { return (uint64_t)stream << 40 | seq; }
static uint32_t length_of(uint64_t n) { return 8 + (uint32_t)((n * 2654435761u) % 3000); }

/* Takes the lock, says so on ready_fd, waits for EOF on go_fd (the readers
 * are up), then appends, yielding now and then so readers scan mid-run. */
static void run_writer(const char *root, long records, int ready_fd, int go_fd) {
    roche_db *db;
    CHECK_OK(rel_open(root, 4, 0, &db));
    CHECK(write(ready_fd, "r", 1) == 1);
    char c;
    CHECK(read(go_fd, &c, 1) == 0);
    uint8_t *value = malloc(8 + 3000);
    CHECK(value);
    for (long n = 0; n < records; n++) {
        int stream = (int)(n % STREAMS);
        uint32_t len = length_of((uint64_t)n);
        rel_fill(value, len, seed_of(stream, (uint64_t)n / STREAMS));
        CHECK_OK(roche_append(db, NS, kIds[stream], value, len, NULL));
        if (n % 64 == 0) sched_yield();
    }
    free(value);
    CHECK_OK(roche_close(db));
    _exit(0);
}

/* One scan; returns how many records it saw, checking each stream is an
 * unbroken prefix of whole records. */
static long checked_scan(roche_db *db) {
    uint64_t next_seq[STREAMS] = {0};
    roche_scan *scan;
    CHECK_OK(roche_scan_open(db, NS, 0, &scan));
    const void *data;
    size_t len;
    long seen = 0;
    int rc;
    uint64_t offset;
    while ((rc = roche_scan_next(scan, &offset, &data, &len, NULL)) == ROCHE_OK) {
        CHECK(len >= 8 && rel_self_consistent(data, len));
        if (seen % 97 == 0) CHECK(rel_value_is(db, NS, offset, data, len)); /* get agrees */
        uint64_t seed;
        memcpy(&seed, data, 8);
        int stream = (int)(seed >> 40);
        uint64_t seq = seed & ((1ull << 40) - 1);
        CHECK(stream < STREAMS && seq == next_seq[stream]);
        CHECK(len == length_of(seq * STREAMS + (uint64_t)stream));
        next_seq[stream]++;
        seen++;
    }
    CHECK_RC(rc, ROCHE_DONE);
    roche_scan_free(scan);
    return seen;
}

/* Counts the records of a scan (no stream check). */
static long checked_scan_count(roche_db *db) {
    roche_scan *scan;
    CHECK_OK(roche_scan_open(db, NS, 0, &scan));
    long n = 0;
    int rc;
    while ((rc = roche_scan_next(scan, NULL, NULL, NULL, NULL)) == ROCHE_OK) n++;
    CHECK_RC(rc, ROCHE_DONE);
    roche_scan_free(scan);
    return n;
}

static int writer_done(int done_fd) {
    struct pollfd p = {.fd = done_fd, .events = POLLIN};
    return poll(&p, 1, 0) > 0;
}

/* Scans over and over while the writer runs, then once more after. */
static void run_reader(const char *root, long records, int done_fd) {
    roche_db *db;
    CHECK_OK(rel_open(root, 0, 1, &db));
    long scans = 0, last = 0;
    for (;;) {
        int done = writer_done(done_fd);
        long seen = checked_scan(db);
        CHECK(seen >= last); /* a view never goes back */
        last = seen;
        scans++;
        if (done) break;
    }
    if (last != records)
        fprintf(stderr, "reader saw %ld of %ld records after %ld scans\n", last, records, scans);
    CHECK(last == records);
    CHECK_OK(roche_close(db));
    printf("processes: reader %d: %ld scans, all %ld records at the end\n", (int)getpid(), scans,
           last);
    fflush(stdout);
    _exit(0);
}

/* A reader handle sees a record that grew the file past the size it last
 * saw: get returns it, and a scan goes on to it (in one process, for a
 * deterministic order of events). */
static void reader_sees_growth(void) {
    char *root = rel_tempdir("growth");
    roche_db *writer, *reader;
    CHECK_OK(rel_open(root, 1, 0, &writer));
    uint8_t *value = malloc(2u << 20);
    CHECK(value);
    uint64_t small, big;
    rel_fill(value, 100, 1);
    CHECK_OK(roche_append(writer, NS, NULL, value, 100, &small));
    CHECK_OK(rel_open(root, 0, 1, &reader));
    CHECK(rel_value_is(reader, NS, small, value, 100)); /* the reader sees 1 MiB */
    rel_fill(value, 2u << 20, 2);
    CHECK_OK(roche_append(writer, NS, NULL, value, 2u << 20, &big));
    CHECK(rel_value_is(reader, NS, big, value, 2u << 20));
    CHECK(checked_scan_count(reader) == 2);
    CHECK_OK(roche_close(reader));
    CHECK_OK(roche_close(writer));
    free(value);
    rel_rmdir(root);
}

/* A reader that opened a namespace before its writer created the bucket
 * files sees the records appended to them later. */
static void reader_sees_new_buckets(void) {
    char *root = rel_tempdir("buckets");
    roche_db *writer, *reader;
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/%s", root, NS);
    CHECK_OK(rel_open(root, 4, 0, &writer));
    /* As the writer's first append does: the directory, then bucket files
     * one by one; the reader comes in between. */
    CHECK(mkdir(dir, 0755) == 0);
    char bucket0[4300];
    snprintf(bucket0, sizeof bucket0, "%s/append.0.raw", dir);
    FILE *f = fopen(bucket0, "w");
    CHECK(f && fclose(f) == 0);
    CHECK_OK(rel_open(root, 0, 1, &reader));
    CHECK(checked_scan_count(reader) == 0);
    uint64_t offset;
    for (int i = 0; i < 8; i++) CHECK_OK(roche_append(writer, NS, kIds[i % 2], "12345678", 8, &offset));
    CHECK(rel_value_is(reader, NS, offset, "12345678", 8));
    CHECK(checked_scan_count(reader) == 8);
    CHECK_OK(roche_close(reader));
    CHECK_OK(roche_close(writer));
    rel_rmdir(root);
}

static void many_processes(void) {
    long records = env_long("ROCHE_PROC_RECORDS", 20000);
    char *root = rel_tempdir("procs");
    roche_db *db;
    CHECK_OK(rel_open(root, 4, 0, &db)); /* the store exists before readers open */
    CHECK_OK(roche_close(db));

    int ready[2], go[2], done[2];
    CHECK(pipe(ready) == 0 && pipe(go) == 0 && pipe(done) == 0);
    pid_t writer = fork();
    CHECK(writer >= 0);
    if (writer == 0) {
        close(ready[0]);
        close(go[1]);
        run_writer(root, records, ready[1], go[0]);
    }
    close(ready[1]);
    close(go[0]);
    char c;
    CHECK(read(ready[0], &c, 1) == 1);

    /* A second writer, in another process, is refused at once. */
    CHECK_RC(rel_open(root, 4, 0, &db), ROCHE_ELOCKED);
    CHECK(db == NULL);

    pid_t readers[READERS];
    for (int r = 0; r < READERS; r++) {
        CHECK((readers[r] = fork()) >= 0);
        if (readers[r] == 0) {
            close(done[1]);
            close(go[1]);
            run_reader(root, records, done[0]);
        }
    }
    close(done[0]);
    close(go[1]); /* the writer starts appending */
    int status, failed = 0;
    CHECK(waitpid(writer, &status, 0) == writer);
    failed += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(done[1]); /* readers see EOF: the writer is done */
    for (int r = 0; r < READERS; r++) {
        CHECK(waitpid(readers[r], &status, 0) == readers[r]);
        if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
            fprintf(stderr, "processes: reader %d failed (status %#x)\n", r, status);
            failed++;
        }
    }
    /* The writer is gone and so is its lock. */
    CHECK_OK(rel_open(root, 4, 0, &db));
    CHECK_OK(roche_close(db));
    rel_rmdir(root);
    CHECK(!failed);
    printf("processes: 1 writer, %d readers, %ld records: ok\n", READERS, records);
}

int main(int argc, char **argv) {
    const char *only = argc > 1 ? argv[1] : "";
    if (!*only || !strcmp(only, "growth")) reader_sees_growth();
    if (!*only || !strcmp(only, "buckets")) reader_sees_new_buckets();
    if (!*only || !strcmp(only, "many")) many_processes();
    return 0;
}
