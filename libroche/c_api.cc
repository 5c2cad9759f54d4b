// The extern "C" surface: argument checks, and no exception ever crosses it.
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

#include "c_api.h"
#include "namespace.h"
#include "values.h"

using roche::fail;

using roche::guarded;
using roche::null_argument;

extern "C" {

const char *roche_version(void) {
#define ROCHE_STR2(x) #x
#define ROCHE_STR(x) ROCHE_STR2(x)
    return ROCHE_STR(ROCHE_VERSION_MAJOR) "." ROCHE_STR(ROCHE_VERSION_MINOR) "." ROCHE_STR(
        ROCHE_VERSION_PATCH);
}

int roche_version_number(void) { return ROCHE_VERSION_NUMBER; }

const char *roche_strerror(int code) {
    switch (code) {
    case ROCHE_OK: return "success";
    case ROCHE_DONE: return "no more records";
    case ROCHE_EINVAL: return "invalid argument";
    case ROCHE_ENOTFOUND: return "not found";
    case ROCHE_ECORRUPT: return "corrupt record";
    case ROCHE_EIO: return "I/O error";
    case ROCHE_ENOMEM: return "out of memory";
    case ROCHE_ETOOBIG: return "value too big";
    case ROCHE_ELOCKED: return "store locked by another writer";
    case ROCHE_EREADONLY: return "store is read-only";
    case ROCHE_EINTERNAL: return "internal error";
    case ROCHE_ETIMEDOUT: return "timed out";
    case ROCHE_ECANCELED: return "woken (canceled)";
    case ROCHE_EDROPPED: return "dropped by retention";
    case ROCHE_ENOTSUP: return "not supported by the file system";
    default: return "unknown error code";
    }
}

const char *roche_last_error(void) { return roche::last_error(); }

void roche_free(void *p) { std::free(p); }

roche_options *roche_options_new(void) { return new (std::nothrow) roche_options(); }

void roche_options_free(roche_options *opts) { delete opts; }

int roche_options_set_buckets(roche_options *opts, uint32_t buckets) {
    if (!opts) return null_argument("opts");
    if (buckets == 0 || buckets > ROCHE_MAX_BUCKETS)
        return fail(ROCHE_EINVAL, "buckets must be between 1 and 8191, not " + std::to_string(buckets));
    opts->store.buckets = buckets;
    return ROCHE_OK;
}

int roche_options_set_read_only(roche_options *opts, int read_only) {
    if (!opts) return null_argument("opts");
    opts->store.read_only = read_only != 0;
    return ROCHE_OK;
}

int roche_options_set_sync(roche_options *opts, int policy) {
    if (!opts) return null_argument("opts");
    if (policy != ROCHE_SYNC_NEVER && policy != ROCHE_SYNC_ALWAYS && policy != ROCHE_SYNC_PERIODIC)
        return fail(ROCHE_EINVAL, "unknown sync policy " + std::to_string(policy));
    opts->store.sync = policy;
    return ROCHE_OK;
}

int roche_options_set_sync_period_ms(roche_options *opts, uint32_t period_ms) {
    if (!opts) return null_argument("opts");
    if (period_ms == 0 || period_ms > 3600000u)
        return fail(ROCHE_EINVAL, "sync period must be 1..3600000 ms, not " + std::to_string(period_ms));
    opts->store.sync_period_ms = period_ms;
    return ROCHE_OK;
}

int roche_options_set_max_open_files(roche_options *opts, uint32_t max_files) {
    if (!opts) return null_argument("opts");
    if (max_files < 4)
        return fail(ROCHE_EINVAL, "max open files must be at least 4, not " + std::to_string(max_files));
    opts->store.max_open_files = max_files;
    return ROCHE_OK;
}

int roche_options_set_format(roche_options *opts, int format) {
    if (!opts) return null_argument("opts");
    if (format != ROCHE_FORMAT_ROCHE && format != ROCHE_FORMAT_ROCHEFORT)
        return fail(ROCHE_EINVAL, "unknown format " + std::to_string(format) +
                                      " (ROCHE_FORMAT_ROCHE or ROCHE_FORMAT_ROCHEFORT)");
    opts->store.format = format == ROCHE_FORMAT_ROCHEFORT ? roche::HeaderFormat::Rochefort
                                                          : roche::HeaderFormat::Roche;
    return ROCHE_OK;
}

int roche_open(const char *root, const roche_options *opts, roche_db **out) {
    if (out) *out = nullptr;
    if (!root) return null_argument("root");
    if (!out) return null_argument("out");
    if (!*root) return fail(ROCHE_EINVAL, "root must not be empty");
    return guarded([&] {
        std::unique_ptr<roche_db> db(new roche_db());
        int rc = roche::Store::open(root, opts ? opts->store : roche::StoreOptions(), &db->store);
        if (rc == ROCHE_OK) *out = db.release();
        return rc;
    });
}

int roche_close(roche_db *db) {
    if (!db) return ROCHE_OK;
    if (db->store->in_child()) {
        // A thread of the parent may have held any of the handle's locks at
        // the fork, and exists no more: touching them could hang for ever.
        // The mappings and descriptors are given back through a lock-free
        // registry; the handle's heap (whose destructors would take those
        // locks) stays until the child exits or execs. Its lock descriptor
        // was closed as the child started.
        db->store->release_in_child();
        (void)db->store.release();
        delete db;
        return ROCHE_OK;
    }
    int rc = guarded([&] { return db->store->close(); });
    delete db;
    return rc;
}

int roche_append(roche_db *db, const char *ns, const char *id, const void *data, size_t len,
                 uint64_t *offset) {
    if (!db) return null_argument("db");
    if (!data && len) return null_argument("data");
    return guarded([&] { return db->store->append(ns, id, data, &len, 1, offset); });
}

int roche_append_many(roche_db *db, const char *ns, const char *id, const void *data,
                      const size_t *lens, size_t count, uint64_t *offsets) {
    if (!db) return null_argument("db");
    if (count && !lens) return null_argument("lens");
    return guarded([&] {
        size_t total = 0;
        for (size_t i = 0; i < count; i++) total += lens[i];
        if (total && !data) return null_argument("data");
        return db->store->append(ns, id, data, lens, count, offsets);
    });
}

int roche_sync_namespace(roche_db *db, const char *ns) {
    if (!db) return null_argument("db");
    return guarded([&] { return db->store->sync_namespace(ns); });
}

int roche_sync(roche_db *db) {
    if (!db) return null_argument("db");
    return guarded([&] { return db->store->sync_all(); });
}

int roche_get(roche_db *db, const char *ns, uint64_t offset, void **data, size_t *len) {
    if (data) *data = nullptr;
    if (len) *len = 0;
    if (!db) return null_argument("db");
    if (!data) return null_argument("data");
    if (!len) return null_argument("len");
    return guarded([&] { return db->store->get(ns, offset, data, len); });
}

int roche_get_view(roche_db *db, const char *ns, uint64_t offset, roche_view **view, const void **data,
                   size_t *len) {
    if (view) *view = nullptr;
    if (data) *data = nullptr;
    if (len) *len = 0;
    if (!db) return null_argument("db");
    if (!view) return null_argument("view");
    if (!data) return null_argument("data");
    if (!len) return null_argument("len");
    return guarded([&] {
        std::unique_ptr<roche_view> pinned(new roche_view());
        int rc = db->store->get_view(ns, offset, &pinned->pin, &pinned->owned, data, len);
        if (rc != ROCHE_OK) {
            std::free(pinned->owned);
            *data = nullptr;
            *len = 0;
            return rc;
        }
        *view = pinned.release();
        return ROCHE_OK;
    });
}

int roche_get_into(roche_db *db, const char *ns, uint64_t offset, void *buf, size_t cap,
                   size_t *len) {
    if (len) *len = 0;
    if (!db) return null_argument("db");
    if (!len) return null_argument("len");
    if (!buf && cap) return null_argument("buf (with a cap above 0)");
    return guarded([&] { return db->store->get_into(ns, offset, buf, cap, len); });
}

void roche_view_release(roche_view *view) {
    if (!view) return;
    std::free(view->owned);
    delete view;
}

int roche_multiget(roche_db *db, const char *ns, const uint64_t *offsets, size_t count,
                   roche_values **out) {
    if (out) *out = nullptr;
    if (!db) return null_argument("db");
    if (!out) return null_argument("out");
    if (count && !offsets) return null_argument("offsets");
    if (count > SIZE_MAX / 64)  // more items than memory could hold their statuses and lengths
        return fail(ROCHE_ENOMEM, "multiget of " + std::to_string(count) + " offsets");
    return guarded([&] { return db->store->multiget(ns, offsets, count, out); });
}

size_t roche_values_count(const roche_values *values) { return values ? values->count : 0; }

int roche_values_item(const roche_values *values, size_t i, const void **data, size_t *len) {
    if (data) *data = nullptr;
    if (len) *len = 0;
    if (!values) return null_argument("values");
    if (i >= values->count)
        return fail(ROCHE_EINVAL, "item " + std::to_string(i) + " of " +
                                      std::to_string(values->count));
    if (values->statuses[i] != ROCHE_OK) return values->statuses[i];
    if (data) *data = values->data + values->starts[i];
    if (len) *len = size_t(values->lengths[i]);
    return ROCHE_OK;
}

const void *roche_values_buffer(const roche_values *values, size_t *size) {
    if (size) *size = values ? values->total : 0;
    return values ? values->data : nullptr;
}

const uint64_t *roche_values_lengths(const roche_values *values) {
    return values ? values->lengths : nullptr;
}

const int32_t *roche_values_statuses(const roche_values *values) {
    return values ? values->statuses : nullptr;
}

void roche_values_free(roche_values *values) { std::free(values); }

int roche_scan_open(roche_db *db, const char *ns, uint64_t from, roche_scan **out) {
    if (out) *out = nullptr;
    if (!db) return null_argument("db");
    if (!out) return null_argument("out");
    return guarded([&] {
        std::unique_ptr<roche_scan> scan(new roche_scan());
        int rc = db->store->scan(ns, from, &scan->scan);
        if (rc == ROCHE_OK) *out = scan.release();
        return rc;
    });
}

int roche_scan_next(roche_scan *scan, uint64_t *offset, const void **data, size_t *len,
                    uint64_t *time_ns) {
    if (!scan) return null_argument("scan");
    return guarded([&] { return scan->scan->next(offset, data, len, time_ns); });
}

int roche_scan_next_batch(roche_scan *scan, size_t max, uint64_t *offsets, const void **data,
                          size_t *lens, uint64_t *times_ns, size_t *count) {
    if (count) *count = 0;
    if (!scan) return null_argument("scan");
    if (!count) return null_argument("count");
    return guarded([&] { return scan->scan->next_batch(max, offsets, data, lens, times_ns, count); });
}

void roche_scan_free(roche_scan *scan) { delete scan; }

int roche_namespaces(roche_db *db, char **names, size_t *count) {
    if (names) *names = nullptr;
    if (count) *count = 0;
    if (!db) return null_argument("db");
    if (!names) return null_argument("names");
    if (!count) return null_argument("count");
    return guarded([&] {
        std::vector<std::string> list;
        int rc = db->store->namespaces(&list);
        if (rc != ROCHE_OK) return rc;
        return roche::pack_names(list, "namespaces", names, count);
    });
}

int roche_close_namespace(roche_db *db, const char *ns) {
    if (!db) return null_argument("db");
    return guarded([&] { return db->store->close_namespace(ns); });
}

int roche_delete_namespace(roche_db *db, const char *ns) {
    if (!db) return null_argument("db");
    return guarded([&] { return db->store->delete_namespace(ns); });
}

int roche_stat(roche_db *db, const char *ns, roche_stat_info *info) {
    if (!db) return null_argument("db");
    if (!info) return null_argument("info");
    return guarded([&] { return db->store->stat(ns, info); });
}

}  // extern "C"
