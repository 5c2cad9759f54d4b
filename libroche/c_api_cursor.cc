// The C API of consumer cursors (roche.h, "Cursors"): argument checks and
// the hand-over of results in malloc'd memory; the work is the Store's
// (store_cursors.cc).
#include <cstdlib>
#include <cstring>
#include <vector>

#include "c_api.h"

using roche::fail;
using roche::guarded;
using roche::null_argument;

extern "C" {

int roche_cursor_commit(roche_db *db, const char *ns, const char *name, const uint64_t *offsets,
                        size_t count) {
    if (!db) return null_argument("db");
    if (!name) return null_argument("name");
    if (!offsets && count > 0) return fail(ROCHE_EINVAL, "offsets must not be NULL when count > 0");
    return guarded([&] { return db->store->cursor_commit(ns, name, offsets, count); });
}

int roche_cursor_get(roche_db *db, const char *ns, const char *name, uint64_t **offsets,
                     size_t *count) {
    if (offsets) *offsets = nullptr;
    if (count) *count = 0;
    if (!db) return null_argument("db");
    if (!name) return null_argument("name");
    if (!offsets) return null_argument("offsets");
    if (!count) return null_argument("count");
    return guarded([&] {
        std::vector<uint64_t> position;
        int rc = db->store->cursor_get(ns, name, &position);
        if (rc != ROCHE_OK) return rc;
        // Never NULL on success, even for no offsets, so a caller can tell
        // it apart from the failure paths.
        size_t bytes = position.size() * sizeof(uint64_t);
        auto *out = static_cast<uint64_t *>(std::malloc(bytes ? bytes : 1));
        if (!out) return fail(ROCHE_ENOMEM, "allocating the cursor's offsets");
        if (bytes) std::memcpy(out, position.data(), bytes);
        *offsets = out;
        *count = position.size();
        return ROCHE_OK;
    });
}

int roche_cursor_list(roche_db *db, const char *ns, char **names, size_t *count) {
    if (names) *names = nullptr;
    if (count) *count = 0;
    if (!db) return null_argument("db");
    if (!names) return null_argument("names");
    if (!count) return null_argument("count");
    return guarded([&] {
        std::vector<std::string> list;
        int rc = db->store->cursor_list(ns, &list);
        if (rc != ROCHE_OK) return rc;
        return roche::pack_names(list, "cursors", names, count);
    });
}

int roche_cursor_delete(roche_db *db, const char *ns, const char *name) {
    if (!db) return null_argument("db");
    if (!name) return null_argument("name");
    return guarded([&] { return db->store->cursor_delete(ns, name); });
}

}  // extern "C"
