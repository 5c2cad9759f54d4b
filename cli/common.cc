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

int open_store(const Args &args, bool read_only, roche_db **db) {
    std::unique_ptr<roche_options, void (*)(roche_options *)> opts(roche_options_new(),
                                                                    roche_options_free);
    if (!opts) return ROCHE_ENOMEM;
    int rc = roche_options_set_read_only(opts.get(), read_only);
    if (rc == ROCHE_OK && args.buckets) rc = roche_options_set_buckets(opts.get(), args.buckets);
    if (rc == ROCHE_OK) rc = roche_open(args.root.c_str(), opts.get(), db);
    return rc;
}

bool path_exists(const std::string &path) { return access(path.c_str(), F_OK) == 0; }

}  // namespace

Store::Store(const Args &args, Access access) {
    read_only_ = access == Access::Read || args.read_only;
    // Inspecting never creates a store: a missing root gets the read-only
    // open's "not found".
    if (access == Access::Inspect && !path_exists(args.root)) read_only_ = true;
    int rc = open_store(args, read_only_, &db_);
    if (rc == ROCHE_ELOCKED && access == Access::Inspect) {
        read_only_ = true;  // a writer has it: read beside it
        rc = open_store(args, read_only_, &db_);
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
