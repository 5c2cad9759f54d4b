/* Helpers shared by the cmocka suites. */
#ifndef ROCHE_TEST_UTIL_H
#define ROCHE_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "roche.h"

/* Fails with libroche's own message, as libgit2's cl_git_pass does. */
#define assert_roche_ok(call)                                                      \
    do {                                                                           \
        int rc_ = (call);                                                          \
        if (rc_ != ROCHE_OK)                                                       \
            fail_msg("%s returned %d (%s): %s", #call, rc_, roche_strerror(rc_),   \
                     roche_last_error());                                          \
    } while (0)

#define assert_roche_code(call, code)                                              \
    do {                                                                           \
        int rc_ = (call);                                                          \
        if (rc_ != (code))                                                         \
            fail_msg("%s returned %d (%s), expected %s: %s", #call, rc_,           \
                     roche_strerror(rc_), #code, roche_last_error());              \
    } while (0)

/* A fresh, empty directory under /tmp; freed and removed by test_dir_free. */
char *test_dir_new(void);
void test_dir_free(char *dir);

/* Opens a store with n buckets (0: default) read-write or read-only. */
roche_db *open_store(const char *root, uint32_t buckets, int read_only);

/* Path of bucket b of namespace ns ("default" when NULL). */
char *bucket_path(const char *root, const char *ns, uint32_t b);

/* Whole-file helpers. */
long file_size(const char *path);
void write_file(const char *path, const void *data, size_t len);
void *read_file(const char *path, size_t *len);

/* Gets the value at offset and checks it equals expect. */
void assert_value(roche_db *db, const char *ns, uint64_t offset, const void *expect, size_t len);

/* Clocks: monotonic (for deadlines) and wall-clock (record times). */
uint64_t mono_ns(void);
uint64_t wall_ns(void);
void test_sleep_ms(long ms);

/* Waits for a child at most seconds; a child still running then is killed
 * and the test fails, so a hang never hangs the suite. Returns the wait
 * status. */
int test_wait_child(int pid, int seconds);
/* The child exited normally with code 0 (within seconds). */
void test_assert_child_ok(int pid, int seconds);

#endif
