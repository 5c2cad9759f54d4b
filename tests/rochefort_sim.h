/* rochefort v0.5's storage, reproduced for tests/test_compat.c
 * (rochefort_sim.cc says what it does and why). */
#ifndef ROCHE_TESTS_ROCHEFORT_SIM_H
#define ROCHE_TESTS_ROCHEFORT_SIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The bucket rochefort v0.5 puts an id in. */
uint32_t rf_id_bucket(const char *id, uint32_t buckets);
/* rochefort's check of the first 12 bytes of a header. */
uint32_t rf_check(const uint8_t *header);
/* Opens the namespace directory as rochefort does (every bucket file made,
 * its end its size) and appends one record there: the value, then the
 * header. Returns the offset rochefort would answer, UINT64_MAX on failure. */
uint64_t rf_append(const char *ns_dir, uint32_t buckets, const char *id, const void *data, uint32_t len,
                   uint64_t time_ns);
/* rochefort's /get: 0 and a malloc'ed copy of the value, or -1. */
int rf_read(const char *ns_dir, uint32_t buckets, uint64_t offset, void **data, uint32_t *len);
/* rochefort's /scan: every record it finds, in bucket and file order;
 * returns how many. */
typedef void (*rf_record_fn)(uint64_t offset, const void *data, uint32_t len, void *ctx);
size_t rf_scan(const char *ns_dir, uint32_t buckets, rf_record_fn fn, void *ctx);

#ifdef __cplusplus
}
#endif

#endif
