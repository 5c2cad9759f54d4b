// Shared pieces of the roche command-line tool: the parsed command line, the
// two ways a command fails, and the store handle the commands open.
#ifndef ROCHE_CLI_H
#define ROCHE_CLI_H

#include <roche.h>

#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <initializer_list>
#include <string>
#include <vector>

namespace cli {

// How a command encodes values in its text formats.
enum class Encoding { Text, Hex, Base64 };

// Everything the command line said, global and per-command options alike.
struct Args {
    std::string command;
    std::string root;
    bool root_given = false;
    std::string ns = "default";
    bool ns_given = false;
    uint32_t buckets = 0;  // 0: the library's default
    bool read_only = false;
    int store_format = ROCHE_FORMAT_ROCHE;  // --store-format

    std::string id;  // append
    bool id_given = false;
    std::string file;
    char separator = 0;  // append: '\n' for --lines, '\0' for --null
    bool batch = false;
    std::string format;  // multiget, scan
    Encoding encoding = Encoding::Text;
    uint64_t from = 0;  // scan
    std::vector<uint64_t> from_list;  // tail: --from, one offset per bucket
    bool from_end = false;            // tail
    bool follow = false;              // tail -f
    std::string cursor;               // tail --cursor
    uint64_t older_than_ns = 0;       // retain --older-than (an age)
    uint64_t max_bytes = 0;           // retain --max-bytes
    bool progress = true;  // verify, retain, import
    std::string import_from;  // import --from-rochefort
    bool dry_run = false;     // import

    std::vector<std::string> operands;
};

// A wrong command line: main prints the message and the command's usage, and
// exits 2.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Any other failure: main prints "roche: <message>" and exits 1.
struct Failure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Throws a Failure worded "<roche_strerror>: <roche_last_error>" unless rc
// is ROCHE_OK (or ROCHE_DONE).
void check(int rc);
// The same wording for a code whose detail is known to the caller.
[[noreturn]] void fail(int rc, const std::string &detail);

// How a command opens the store.
enum class Access {
    Write,   // read-write; --read-only makes writes fail with the library's error
    Read,    // always read-only: never takes the lock, never creates anything
    Inspect  // read-write, so recovery runs and can be reported, unless
             // --read-only, the root is missing or another process writes
};

// An open store, closed (and its close checked) by close() or, on the
// error path, by the destructor.
class Store {
public:
    Store(const Args &args, Access access);
    ~Store();
    Store(const Store &) = delete;
    Store &operator=(const Store &) = delete;

    roche_db *db() const { return db_; }
    bool read_only() const { return read_only_; }
    void close();

private:
    roche_db *db_ = nullptr;
    bool read_only_ = false;
};

// The namespaces a command covers: --ns when given, else every namespace.
std::vector<std::string> selected_namespaces(const Args &args, roche_db *db);

// Parses a decimal offset; throws UsageError naming what when it is not one.
uint64_t parse_u64(const std::string &text, const char *what);

// Offsets: bucket << ROCHE_OFFSET_BITS | position in the bucket file.
inline uint64_t make_offset(uint32_t bucket, uint64_t pos) { return uint64_t(bucket) << ROCHE_OFFSET_BITS | pos; }
inline uint32_t offset_bucket(uint64_t offset) { return uint32_t(offset >> ROCHE_OFFSET_BITS); }
inline uint64_t offset_position(uint64_t offset) { return offset & ((uint64_t(1) << ROCHE_OFFSET_BITS) - 1); }

// Writes bytes to stdout, failing loudly (a full disk, a closed pipe).
void out(const void *data, size_t len);
void out(const std::string &s);
void finish_output();

int run_append(const Args &args);
int run_get(const Args &args);
int run_multiget(const Args &args);
int run_scan(const Args &args);
int run_stat(const Args &args);
int run_verify(const Args &args);
int run_delete_namespace(const Args &args);
int run_tail(const Args &args);
int run_retain(const Args &args);
int run_import(const Args &args);

// Writes one record in a scan format ("raw", "jsonl" or "tsv"): scan and
// tail print the same way.
void print_record(const std::string &format, Encoding encoding, uint64_t offset, uint64_t time_ns,
                  const void *data, size_t len);
// The format a command was given, checked against the ones it knows.
std::string chosen_format(const Args &args, std::initializer_list<const char *> allowed);
int run_cursor(const Args &args);

}  // namespace cli

#endif
