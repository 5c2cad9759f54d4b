/* Shared by the fuzz targets: a check that aborts (libFuzzer reports it
 * as a crash with the input that caused it) and store helpers. */
#ifndef ROCHE_FUZZ_UTIL_H
#define ROCHE_FUZZ_UTIL_H

#include <stdio.h>
#include <stdlib.h>

#include "roche.h"

#define FUZZ_CHECK(cond)                                                           \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fprintf(stderr, "%s:%d: FAILED %s (%s)\n", __FILE__, __LINE__, #cond,  \
                    roche_last_error());                                           \
            abort();                                                               \
        }                                                                          \
    } while (0)

/* Opens root read-only (1) or read-write (0) with one bucket. */
static inline roche_db *fuzz_open_store(const char *root, int read_only) {
    roche_options *opts = roche_options_new();
    FUZZ_CHECK(opts);
    FUZZ_CHECK(roche_options_set_buckets(opts, 1) == ROCHE_OK);
    FUZZ_CHECK(roche_options_set_read_only(opts, read_only) == ROCHE_OK);
    roche_db *db = NULL;
    FUZZ_CHECK(roche_open(root, opts, &db) == ROCHE_OK);
    roche_options_free(opts);
    return db;
}

#endif
