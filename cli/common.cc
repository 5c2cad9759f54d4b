#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "cli.h"

namespace cli {

void fail(int rc, const std::string &detail) {
    std::string message = roche_strerror(rc);
    if (!detail.empty()) message += ": " + detail;
    throw Failure(message);
}

void check(int rc) {
    if (rc < 0) fail(rc, roche_last_error());
}

namespace {

// buckets 0: the library's default.
int open_store(const std::string &root, bool read_only, uint32_t buckets, int format, roche_db **db) {
    std::unique_ptr<roche_options, void (*)(roche_options *)> opts(roche_options_new(),
                                                                    roche_options_free);
    if (!opts) return ROCHE_ENOMEM;
    int rc = roche_options_set_read_only(opts.get(), read_only);
    if (rc == ROCHE_OK && buckets) rc = roche_options_set_buckets(opts.get(), buckets);
    if (rc == ROCHE_OK) rc = roche_options_set_format(opts.get(), format);
    if (rc == ROCHE_OK) rc = roche_open(root.c_str(), opts.get(), db);
    return rc;
}

// The bucket count of an existing namespace, 0 when there is none. A writer
// opened with the default count would grow a namespace that has fewer
// buckets, and ids would then hash to other buckets.
uint32_t existing_buckets(const std::string &root, const std::string &ns, int format) {
    roche_db *db = nullptr;
    roche_stat_info info = {};
    info.version = ROCHE_STAT_VERSION;
    if (open_store(root, true, 0, format, &db) != ROCHE_OK) return 0;
    int rc = roche_stat(db, ns.c_str(), &info);
    roche_close(db);
    return rc == ROCHE_OK ? info.buckets : 0;
}

// How many buckets to ask for: --buckets, else what the namespace has.
// Inspecting asks for 1, which never grows a namespace (counts only grow).
uint32_t buckets_for(const Args &args, Access access) {
    if (access == Access::Inspect) return 1;
    if (args.buckets || access == Access::Read) return args.buckets;
    return existing_buckets(args.root, args.ns, args.store_format);
}

bool path_exists(const std::string &path) { return access(path.c_str(), F_OK) == 0; }

}  // namespace

Store::Store(const Args &args, Access access) {
    read_only_ = access == Access::Read || args.read_only;
    // Inspecting never creates a store: a missing root gets the read-only
    // open's "not found".
    if (access == Access::Inspect && !path_exists(args.root)) read_only_ = true;
    uint32_t buckets = buckets_for(args, access);
    int rc = open_store(args.root, read_only_, buckets, args.store_format, &db_);
    if (rc == ROCHE_ELOCKED && access == Access::Inspect) {
        read_only_ = true;  // a writer has it: read beside it
        rc = open_store(args.root, read_only_, buckets, args.store_format, &db_);
    }
    check(rc);
}

Store::~Store() { roche_close(db_); }

void Store::close() {
    int rc = roche_close(db_);
    db_ = nullptr;
    check(rc);
}

std::vector<std::string> selected_namespaces(const Args &args, roche_db *db) {
    if (args.ns_given) return {args.ns};
    char *names = nullptr;
    size_t count = 0;
    check(roche_namespaces(db, &names, &count));
    std::vector<std::string> result;
    for (const char *p = names; result.size() < count; p += std::strlen(p) + 1)
        result.emplace_back(p);
    roche_free(names);
    return result;
}

uint64_t parse_u64(const std::string &text, const char *what) {
    uint64_t value = 0;
    bool ok = !text.empty();
    for (char c : text) {
        unsigned digit = unsigned(c - '0');
        if (digit > 9 || value > (UINT64_MAX - digit) / 10) {
            ok = false;
            break;
        }
        value = value * 10 + digit;
    }
    if (!ok) throw UsageError(std::string(what) + ": '" + text + "' is not a decimal number");
    return value;
}

void out(const void *data, size_t len) {
    if (len && std::fwrite(data, 1, len, stdout) != len)
        throw Failure(std::string("writing to stdout: ") + std::strerror(errno));
}

void out(const std::string &s) { out(s.data(), s.size()); }

void finish_output() {
    if (std::fflush(stdout) != 0 || std::ferror(stdout))
        throw Failure(std::string("writing to stdout: ") + std::strerror(errno));
}

}  // namespace cli
