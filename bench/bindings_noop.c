/* No-op C functions with the signatures of the bindings' hot calls,
 * roche_get_into() and roche_append(): each returns ROCHE_OK (0) and
 * touches nothing. The Perl and Ruby benchmarks attach them exactly as
 * they attach the real calls, so the rate of a call that does nothing with
 * those six arguments stands beside the rate of get and append
 * (bench/bindings.sh: the rows noop_get and noop_append; "noop" is a call
 * with none). */
#include <stddef.h>
#include <stdint.h>

int roche_bench_noop_get(void *db, const char *ns, uint64_t offset, void *buf, size_t cap, size_t *len) {
    (void)db, (void)ns, (void)offset, (void)buf, (void)cap, (void)len;
    return 0;
}

int roche_bench_noop_append(void *db, const char *ns, const char *id, const void *data, size_t len,
                            uint64_t *offset) {
    (void)db, (void)ns, (void)id, (void)data, (void)len, (void)offset;
    return 0;
}
