/* The loops of bench.pl in C, against the same libroche.so: the figure
 * each Perl number is compared with. 100-byte values, one thread.
 *   baseline ROOT [COUNT] [BATCH]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "roche.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void report(const char *label, size_t ops, double started) {
    double seconds = now() - started;
    printf("%-28s %10zu ops %8.3f s %12.0f ops/s\n", label, ops, seconds, ops / seconds);
}

static int check(int rc, const char *what) {
    if (rc != ROCHE_OK && rc != ROCHE_DONE) {
        fprintf(stderr, "%s: %s (%s)\n", what, roche_strerror(rc), roche_last_error());
        exit(1);
    }
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: baseline ROOT [COUNT] [BATCH]\n");
        return 2;
    }
    size_t count = argc > 2 ? strtoul(argv[2], NULL, 10) : 200000;
    size_t batch = argc > 3 ? strtoul(argv[3], NULL, 10) : 1000;
    uint64_t *offsets = malloc(count * sizeof *offsets);
    uint64_t *batch_offsets = malloc(batch * sizeof *batch_offsets);
    size_t *lens = malloc(batch * sizeof *lens);
    char *values = malloc(batch * 100);
    if (!offsets || !batch_offsets || !lens || !values) return 1;
    memset(values, 'v', batch * 100);
    for (size_t i = 0; i < batch; i++) lens[i] = 100;

    roche_db *db;
    check(roche_open(argv[1], NULL, &db), "open");

    double started = now();
    for (size_t i = 0; i < count; i++) check(roche_append(db, NULL, NULL, values, 100, &offsets[i]), "append");
    report("append (100 B)", count, started);

    started = now();
    for (size_t i = 0; i < count / batch; i++)
        check(roche_append_many(db, "batched", NULL, values, lens, batch, batch_offsets), "append_many");
    char label[64];
    snprintf(label, sizeof label, "append_many (%zu x 100 B)", batch);
    report(label, count, started);

    srand(1);    /* the same shuffle idea as bench.pl: random order, every offset once */
    for (size_t i = count - 1; i > 0; i--) {
        size_t j = (size_t)rand() % (i + 1);
        uint64_t swap = offsets[i];
        offsets[i] = offsets[j];
        offsets[j] = swap;
    }
    started = now();
    for (size_t i = 0; i < count; i++) {
        void *data;
        size_t len;
        check(roche_get(db, NULL, offsets[i], &data, &len), "get");
        roche_free(data);
    }
    report("get", count, started);

    /* What Roche's get does since roche_get_view: one copy, out of the
     * store's mapping, into the caller's buffer (Perl's scalar). */
    char copy[100];
    volatile char sink = 0; /* reads the copy, so it is not optimised away */
    started = now();
    for (size_t i = 0; i < count; i++) {
        roche_view *view;
        const void *data;
        size_t len;
        check(roche_get_view(db, NULL, offsets[i], &view, &data, &len), "get_view");
        memcpy(copy, data, len < sizeof copy ? len : sizeof copy);
        roche_view_release(view);
        sink = copy[0];
    }
    (void)sink;
    report("get (view, one copy)", count, started);

    started = now();
    for (size_t i = 0; i < count; i += batch) {
        roche_values *result;
        check(roche_multiget(db, NULL, offsets + i, count - i < batch ? count - i : batch, &result), "multiget");
        roche_values_free(result);
    }
    snprintf(label, sizeof label, "multi_get (%zu per call)", batch);
    report(label, count, started);

    started = now();
    roche_scan *scan;
    check(roche_scan_open(db, NULL, 0, &scan), "scan");
    size_t seen = 0;
    while (check(roche_scan_next(scan, NULL, NULL, NULL, NULL), "scan") == ROCHE_OK) seen++;
    roche_scan_free(scan);
    report("scan (one record a call)", seen, started);

    /* The scan the bindings' "scan" is compared with: roche_scan_next_batch,
     * 1024 records a call, each value copied out once (a binding copies
     * each into a string of its own). */
    enum { SCAN_BATCH = 1024 };
    static const void *data[SCAN_BATCH];
    static size_t sizes[SCAN_BATCH];
    started = now();
    check(roche_scan_open(db, NULL, 0, &scan), "scan");
    seen = 0;
    size_t got = 0;
    while (check(roche_scan_next_batch(scan, SCAN_BATCH, NULL, data, sizes, NULL, &got), "scan") == ROCHE_OK) {
        for (size_t i = 0; i < got; i++) {
            memcpy(copy, data[i], sizes[i] < sizeof copy ? sizes[i] : sizeof copy);
            sink = copy[0];
        }
        seen += got;
    }
    roche_scan_free(scan);
    report("scan", seen, started);

    check(roche_close(db), "close");
    free(offsets), free(batch_offsets), free(lens), free(values);
    return 0;
}
