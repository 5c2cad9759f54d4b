/* Helpers shared by the reliability tests: plain C, fork-safe (no test
 * framework state), each check exits the process non-zero with the
 * library's own error text. */
#ifndef ROCHE_REL_UTIL_H
#define ROCHE_REL_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "roche.h"

void rel_die(const char *file, int line, const char *what, int rc);

/* Fails unless cond holds. */
#define CHECK(cond)                                                                \
    do {                                                                           \
        if (!(cond)) rel_die(__FILE__, __LINE__, #cond, 0);                        \
    } while (0)

/* Fails unless call returns code; prints both codes and roche_last_error(). */
#define CHECK_RC(call, code)                                                       \
    do {                                                                           \
        int rc_ = (call);                                                          \
        if (rc_ != (code)) rel_die(__FILE__, __LINE__, #call " == " #code, rc_);   \
    } while (0)

#define CHECK_OK(call) CHECK_RC(call, ROCHE_OK)

/* An integer from the environment, or fallback when unset or invalid. */
long env_long(const char *name, long fallback);

/* A fresh empty directory under $TMPDIR (or /tmp); rel_rmdir removes it. */
char *rel_tempdir(const char *tag);
void rel_rmdir(char *dir);

/* Opens root with the given bucket count (0: default), read-only or not. */
int rel_open(const char *root, uint32_t buckets, int read_only, roche_db **out);

/* Path of bucket b of namespace ns; caller frees. */
char *rel_bucket_path(const char *root, const char *ns, uint32_t b);

/* Deterministic pseudo-random generator (splitmix64). */
uint64_t rel_next(uint64_t *state);

/* Fills a value from its seed: values of 8 bytes or more begin with the
 * seed, so any value found on disk can be checked against its seed. */
void rel_fill(uint8_t *buf, size_t len, uint64_t seed);

/* 1 when data is exactly what rel_fill makes from its embedded seed (values
 * under 8 bytes carry no seed and always pass). */
int rel_self_consistent(const uint8_t *data, size_t len);

/* CRC-32 of a buffer (zlib). */
uint32_t rel_crc(const void *data, size_t len);

/* Reads the record at offset and compares it with expect. 1 when equal. */
int rel_value_is(roche_db *db, const char *ns, uint64_t offset, const void *expect, size_t len);

#endif
