/* c_baseline: the Java benchmark's workloads called straight from C, so the
 * binding's cost reads as the ratio of the two on the same machine. Each
 * repetition uses a fresh store under DIR, removed afterwards as the Java
 * side does (a store left behind keeps its pages, and the next repetition
 * then runs on memory the machine has not handed out before, which is
 * several times slower to fault in on a VM); the best rate of each is
 * printed.
 *   c_baseline DIR [COUNT] [BATCH] [REPS] */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "roche.h"

#define VALUE_BYTES 100

enum { APPEND, APPEND_MANY, GET, GET_VIEW, MULTIGET, SCAN, WORKLOADS };
static const char *const labels[WORKLOADS] = {"append (100 B)", "appendMany (batch x 100 B)", "get",
                                              "getView (in place, closed)",
                                              "multiGet (batch per call)", "scan"};
static double best[WORKLOADS];

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void record(int workload, size_t ops, double started) {
    double rate = ops / (now() - started);
    if (rate > best[workload]) best[workload] = rate;
}

static void check(int rc, const char *what) {
    if (rc != ROCHE_OK) {
        fprintf(stderr, "c_baseline: %s: %s %s\n", what, roche_strerror(rc), roche_last_error());
        exit(1);
    }
}

static void shuffle(uint64_t *offsets, size_t count) {
    srand(1);
    for (size_t i = count - 1; i > 0; i--) {
        size_t j = (size_t)rand() % (i + 1);
        uint64_t x = offsets[i];
        offsets[i] = offsets[j];
        offsets[j] = x;
    }
}

static void run(const char *root, size_t count, size_t batch) {
    char value[VALUE_BYTES];
    memset(value, 'v', sizeof value);
    uint64_t *offsets = malloc(count * sizeof *offsets);
    uint64_t *batch_offsets = malloc(batch * sizeof *batch_offsets);
    size_t *lens = malloc(batch * sizeof *lens);
    char *batch_data = malloc(batch * VALUE_BYTES);
    if (!offsets || !batch_offsets || !lens || !batch_data) check(ROCHE_ENOMEM, "malloc");
    for (size_t i = 0; i < batch; i++) lens[i] = VALUE_BYTES;
    memset(batch_data, 'v', batch * VALUE_BYTES);
    roche_db *db;
    check(roche_open(root, NULL, &db), "open");

    double t = now();
    for (size_t i = 0; i < count; i++)
        check(roche_append(db, "bench", NULL, value, sizeof value, &offsets[i]), "append");
    record(APPEND, count, t);

    t = now();
    for (size_t i = 0; i < count / batch; i++)
        check(roche_append_many(db, "batched", NULL, batch_data, lens, batch, batch_offsets),
              "append_many");
    record(APPEND_MANY, count, t);

    shuffle(offsets, count);
    t = now();
    for (size_t i = 0; i < count; i++) {
        void *data;
        size_t len;
        check(roche_get(db, "bench", offsets[i], &data, &len), "get");
        roche_free(data);
    }
    record(GET, count, t);

    t = now();
    for (size_t i = 0; i < count; i++) {
        roche_view *view;
        const void *data;
        size_t len;
        check(roche_get_view(db, "bench", offsets[i], &view, &data, &len), "get_view");
        roche_view_release(view);
    }
    record(GET_VIEW, count, t);

    t = now();
    for (size_t from = 0; from + batch <= count; from += batch) {
        roche_values *values;
        check(roche_multiget(db, "bench", offsets + from, batch, &values), "multiget");
        roche_values_free(values);
    }
    record(MULTIGET, count, t);

    /* A full scan, as fast as C goes: roche_scan_next_batch, 1024 records
     * a call, each value's bytes copied out once (the bindings copy each
     * into a new array). */
    enum { SCAN_BATCH = 1024 };
    static const void *data[SCAN_BATCH];
    static size_t sizes[SCAN_BATCH];
    static char copy[VALUE_BYTES];
    volatile char sink = 0;
    t = now();
    roche_scan *scan;
    check(roche_scan_open(db, "bench", 0, &scan), "scan");
    size_t seen = 0, got = 0;
    int rc;
    while ((rc = roche_scan_next_batch(scan, SCAN_BATCH, NULL, data, sizes, NULL, &got)) == ROCHE_OK) {
        for (size_t i = 0; i < got; i++) {
            memcpy(copy, data[i], sizes[i] < sizeof copy ? sizes[i] : sizeof copy);
            sink = copy[0];
        }
        seen += got;
    }
    (void)sink;
    if (rc != ROCHE_DONE) check(rc, "scan");
    roche_scan_free(scan);
    if (seen != count) check(ROCHE_EINTERNAL, "scan saw fewer records than were appended");
    record(SCAN, count, t);

    check(roche_close(db), "close");
    free(offsets), free(batch_offsets), free(lens), free(batch_data);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: c_baseline DIR [COUNT] [BATCH] [REPS]\n");
        return 2;
    }
    size_t count = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000000;
    size_t batch = argc > 3 ? strtoul(argv[3], NULL, 10) : 1000;
    int reps = argc > 4 ? atoi(argv[4]) : 5;
    for (int rep = 0; rep < reps; rep++) {
        char root[4096];
        snprintf(root, sizeof root, "%s/rep%d", argv[1], rep);
        run(root, count, batch);
        nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
    for (int w = 0; w < WORKLOADS; w++)
        printf("c    %-28s %12.0f ops/s (best of %d, %zu values)\n", labels[w], best[w], reps, count);
    return 0;
}
