#define _GNU_SOURCE
#include "rel_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

void rel_die(const char *file, int line, const char *what, int rc) {
    if (rc)
        fprintf(stderr, "%s:%d: FAILED %s: got %d (%s): %s\n", file, line, what, rc,
                roche_strerror(rc), roche_last_error());
    else
        fprintf(stderr, "%s:%d: FAILED %s\n", file, line, what);
    fflush(stderr);
    _exit(1);
}

long env_long(const char *name, long fallback) {
    const char *s = getenv(name);
    if (!s || !*s) return fallback;
    char *end;
    long v = strtol(s, &end, 10);
    return *end || v < 0 ? fallback : v;
}

char *rel_tempdir(const char *tag) {
    const char *tmp = getenv("TMPDIR");
    char *dir = malloc(4096);
    CHECK(dir);
    snprintf(dir, 4096, "%s/roche-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", tag);
    CHECK(mkdtemp(dir));
    return dir;
}

void rel_rmdir(char *dir) {
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "chmod -R u+rwx '%s' 2>/dev/null; rm -rf '%s'", dir, dir);
    CHECK(system(cmd) == 0);
    free(dir);
}

int rel_open(const char *root, uint32_t buckets, int read_only, roche_db **out) {
    roche_options *opts = roche_options_new();
    CHECK(opts);
    if (buckets) CHECK_OK(roche_options_set_buckets(opts, buckets));
    CHECK_OK(roche_options_set_read_only(opts, read_only));
    /* ROCHE_REL_FORMAT=rochefort: the same test in rochefort v0.5's header
     * format (roche_options_set_format()). */
    const char *format = getenv("ROCHE_REL_FORMAT");
    if (format && strcmp(format, "rochefort") == 0)
        CHECK_OK(roche_options_set_format(opts, ROCHE_FORMAT_ROCHEFORT));
    int rc = roche_open(root, opts, out);
    roche_options_free(opts);
    return rc;
}

char *rel_bucket_path(const char *root, const char *ns, uint32_t b) {
    char *path = malloc(strlen(root) + 300);
    CHECK(path);
    sprintf(path, "%s/%s/append.%u.raw", root, ns ? ns : "default", b);
    return path;
}

uint64_t rel_next(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void rel_fill(uint8_t *buf, size_t len, uint64_t seed) {
    uint64_t state = seed ^ len;
    size_t i = 0;
    if (len >= 8) {
        memcpy(buf, &seed, 8);
        i = 8;
    }
    for (; i < len; i += 8) {
        uint64_t word = rel_next(&state);
        memcpy(buf + i, &word, len - i < 8 ? len - i : 8);
    }
}

int rel_self_consistent(const uint8_t *data, size_t len) {
    if (len < 8) return 1;
    uint64_t seed;
    memcpy(&seed, data, 8);
    uint8_t *expect = malloc(len);
    CHECK(expect);
    rel_fill(expect, len, seed);
    int same = memcmp(expect, data, len) == 0;
    free(expect);
    return same;
}

uint32_t rel_crc(const void *data, size_t len) {
    return (uint32_t)crc32(crc32(0L, Z_NULL, 0), data, (uInt)len);
}

int rel_value_is(roche_db *db, const char *ns, uint64_t offset, const void *expect, size_t len) {
    void *data = NULL;
    size_t got = 0;
    int rc = roche_get(db, ns, offset, &data, &got);
    if (rc != ROCHE_OK) {
        fprintf(stderr, "get %llu: %s: %s\n", (unsigned long long)offset, roche_strerror(rc),
                roche_last_error());
        return 0;
    }
    int same = got == len && (len == 0 || memcmp(data, expect, len) == 0);
    roche_free(data);
    return same;
}
