// What the extern "C" files share: the handles behind the opaque types,
// and the guard that keeps C++ exceptions from crossing the API.
#pragma once

#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "error.h"
#include "roche.h"
#include "scan.h"
#include "store.h"

struct roche_options {
    roche::StoreOptions store;
};

struct roche_db {
    std::unique_ptr<roche::Store> store;
};

struct roche_scan {
    std::unique_ptr<roche::Scan> scan;
};

struct roche_view {
    std::shared_ptr<roche::Namespace> pin;  // keeps the mapping the value lies in
    void *owned = nullptr;                  // a read-only handle's copy
};

namespace roche {


// Runs body and maps any escaping C++ exception to a code.
template <typename Body>
inline int guarded(Body &&body) noexcept {
    try {
        return body();
    } catch (const std::bad_alloc &) {
        return fail(ROCHE_ENOMEM, "out of memory");
    } catch (const std::length_error &) {
        return fail(ROCHE_ENOMEM, "out of memory (a size larger than memory)");
    } catch (const std::exception &e) {
        return fail(ROCHE_EINTERNAL, std::string("internal error: ") + e.what());
    } catch (...) {
        return fail(ROCHE_EINTERNAL, "internal error");
    }
}

inline int null_argument(const char *name) {
    return fail(ROCHE_EINVAL, std::string(name) + " must not be NULL");
}

// Hands names out as the API lists them (roche_namespaces(),
// roche_cursor_list()): "a\0b\0" plus a final '\0', in one malloc'd block
// the caller releases with roche_free(). what names the list in the
// out-of-memory message.
inline int pack_names(const std::vector<std::string> &list, const char *what, char **names,
                      size_t *count) {
    size_t total = 1;
    for (auto &n : list) total += n.size() + 1;
    char *buf = static_cast<char *>(std::malloc(total));
    if (!buf) return fail(ROCHE_ENOMEM, std::string("listing ") + what);
    char *p = buf;
    for (auto &n : list) {
        std::memcpy(p, n.c_str(), n.size() + 1);
        p += n.size() + 1;
    }
    *p = '\0';
    *names = buf;
    *count = list.size();
    return ROCHE_OK;
}

}  // namespace roche

