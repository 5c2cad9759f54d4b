// The extern "C" surface of followers, retention and bucket ranges.
#include <cstdlib>
#include <vector>

#include "c_api.h"
#include "follow.h"

using roche::fail;
using roche::guarded;
using roche::null_argument;

struct roche_follow {
    std::unique_ptr<roche::Follow> follow;
};

extern "C" {

int roche_follow_open(roche_db *db, const char *ns, const uint64_t *from, size_t count, int flags,
                      roche_follow **out) {
    if (out) *out = nullptr;
    if (!db) return null_argument("db");
    if (!out) return null_argument("out");
    if (!from && count) return null_argument("from (with count > 0)");
    if (flags & ~ROCHE_FOLLOW_FROM_END) return fail(ROCHE_EINVAL, "unknown follow flags " + std::to_string(flags));
    return guarded([&] {
        std::unique_ptr<roche_follow> f(new roche_follow());
        int rc = db->store->follow(ns, from, count, flags & ROCHE_FOLLOW_FROM_END, &f->follow);
        if (rc == ROCHE_OK) *out = f.release();
        return rc;
    });
}

int roche_follow_open_cursor(roche_db *db, const char *ns, const char *cursor, int flags, roche_follow **out) {
    if (out) *out = nullptr;
    if (!db) return null_argument("db");
    if (!cursor) return null_argument("cursor");
    return guarded([&] {
        std::vector<uint64_t> from;
        int rc = db->store->cursor_get(ns, cursor, &from);
        if (rc == ROCHE_ENOTFOUND) {
            // No such cursor yet, or no such namespace: open says which.
            from.clear();
        } else if (rc != ROCHE_OK) {
            return rc;
        }
        return roche_follow_open(db, ns, from.data(), from.size(), flags, out);
    });
}

int roche_follow_next_batch(roche_follow *follow, int timeout_ms, size_t max, uint64_t *offsets,
                            const void **data, size_t *lens, uint64_t *times_ns, size_t *count) {
    if (count) *count = 0;
    if (!follow) return null_argument("follow");
    if (!count) return null_argument("count");
    if (timeout_ms < -1) return fail(ROCHE_EINVAL, "timeout_ms must be -1, 0 or positive");
    return guarded([&] { return follow->follow->next_batch(timeout_ms, max, offsets, data, lens, times_ns, count); });
}

int roche_follow_next(roche_follow *follow, int timeout_ms, uint64_t *offset, const void **data, size_t *len,
                      uint64_t *time_ns) {
    return roche::next_of_batch(
        [&](size_t max, uint64_t *o, const void **d, size_t *l, uint64_t *t, size_t *c) {
            return roche_follow_next_batch(follow, timeout_ms, max, o, d, l, t, c);
        },
        offset, data, len, time_ns);
}

int roche_follow_wake(roche_follow *follow) {
    if (!follow) return null_argument("follow");
    return guarded([&] {
        follow->follow->wake();
        return ROCHE_OK;
    });
}

int roche_follow_position(const roche_follow *follow, uint64_t *offsets, size_t capacity, size_t *count) {
    if (!follow) return null_argument("follow");
    if (!count) return null_argument("count");
    if (!offsets && capacity) return null_argument("offsets (with capacity > 0)");
    return guarded([&] {
        std::vector<uint64_t> position = follow->follow->position();
        for (size_t i = 0; i < position.size() && i < capacity; i++) offsets[i] = position[i];
        *count = position.size();
        return ROCHE_OK;
    });
}

int roche_follow_commit(roche_follow *follow, const char *cursor) {
    if (!follow) return null_argument("follow");
    return guarded([&] {
        std::vector<uint64_t> position = follow->follow->position();
        const std::string &ns = follow->follow->namespace_name();
        return follow->follow->store()->cursor_commit(ns.c_str(), cursor, position.data(), position.size());
    });
}

void roche_follow_free(roche_follow *follow) { delete follow; }

int roche_retain(roche_db *db, const char *ns, uint64_t older_than_ns, uint64_t max_bytes, uint64_t *freed) {
    if (freed) *freed = 0;
    if (!db) return null_argument("db");
    return guarded([&] {
        uint64_t dropped = 0;
        int rc = db->store->retain(ns, older_than_ns, max_bytes, &dropped);
        if (freed) *freed = dropped;
        return rc;
    });
}

int roche_options_set_retention(roche_options *opts, uint64_t max_age_ms, uint64_t max_bytes) {
    if (!opts) return null_argument("opts");
    opts->store.retention_age_ms = max_age_ms;
    opts->store.retention_bytes = max_bytes;
    return ROCHE_OK;
}

int roche_bucket_range(roche_db *db, const char *ns, uint32_t bucket, uint64_t *first, uint64_t *end) {
    if (!db) return null_argument("db");
    if (!first) return null_argument("first");
    if (!end) return null_argument("end");
    if (bucket >= ROCHE_MAX_BUCKETS)
        return fail(ROCHE_EINVAL, "bucket " + std::to_string(bucket) + " is past the last (8190)");
    return guarded([&] { return db->store->bucket_range(ns, bucket, first, end); });
}

}  // extern "C"
