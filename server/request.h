// The request handling of roche-serve, without the HTTP library: query
// parsing, getMulti body framing, the rochefort v0.5 answers of every
// endpoint, and the writers that stream getMulti and scan answers into the
// buffers the HTTP library hands out. serve.cc glues this to libmicrohttpd;
// tests/fuzz/fuzz_serve.cc drives it directly. Only the public C API of
// libroche (roche.h) is used.
#ifndef ROCHE_SERVER_REQUEST_H
#define ROCHE_SERVER_REQUEST_H

#include <roche.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace serve {

// The parsed query string: key/value pairs in order, unescaped as Go's
// url.ParseQuery does ('+' is a space, %XX a byte; a pair with a bad escape
// is skipped; pairs are separated by '&').
class Query {
public:
    void parse(const char *query, size_t len);
    // The first value of key, or nullptr when the key is absent (Go's
    // Query().Get() gives "" for both; callers treat them alike).
    const std::string *get(const char *key) const;

private:
    std::vector<std::pair<std::string, std::string>> pairs_;
};

// Unescapes a query component; false on a bad %-escape.
bool unescape(const char *s, size_t len, std::string *out);

// Parses a decimal u64 as Go's strconv.ParseUint(s, 10, 64): digits only,
// no sign, no spaces. On failure *error says why.
bool parse_u64(const char *s, size_t len, uint64_t *value, std::string *error);

// getMulti's body: u64 little-endian offsets (a length that is not a
// multiple of 8 fails), or with csv decimal offsets separated by commas
// (an entry that does not parse is skipped, as rochefort does; spaces and
// line ends around an entry are allowed).
bool parse_offsets(const char *body, size_t len, bool csv, std::vector<uint64_t> *offsets,
                   std::string *error);

// Writes s as the inside of a JSON string: quotes, backslashes and control
// bytes escaped; bytes that are not UTF-8 become U+FFFD, so the text is
// always valid JSON.
void json_escape(const std::string &s, std::string *out);

// append's answer: {"offset":N,"offset_str":"N","file":"<ns>/append.<b>.raw"}
// (the file relative to the store's root).
std::string append_json(uint64_t offset, const std::string &ns);

// The endpoints of rochefort v0.5.
enum class Endpoint { Append, Get, GetMulti, Scan, Close, Unknown };
Endpoint route(const char *path, size_t len);

// The namespace a request names: "" and absent mean "default". A name with
// a NUL byte in it (%00) is refused here, other bad names by libroche.
bool request_namespace(const Query &q, std::string *ns, std::string *error);

// Streams a multiget result as rochefort's getMulti answer: per item that
// was found, [u32 LE length][value], in request order; items that failed
// (bad offsets) are left out, as rochefort v0.5 does.
class MultiWriter {
public:
    explicit MultiWriter(roche_values *values);  // takes ownership
    ~MultiWriter();
    MultiWriter(const MultiWriter &) = delete;
    MultiWriter &operator=(const MultiWriter &) = delete;

    uint64_t total() const { return total_; }  // bytes of the whole answer
    // Copies up to max bytes of the answer into buf; 0 at the end.
    size_t fill(char *buf, size_t max);

private:
    roche_values *values_;
    uint64_t total_ = 0;
    size_t item_ = 0;  // the item being written
    size_t done_ = 0;  // bytes of its frame (4 + length) written so far
};

// Streams a scan as rochefort's scan answer: per record,
// [u32 LE length][u64 LE offset][value]. Records that fail their checks
// (ROCHE_ECORRUPT) are passed, as rochefort ends a bucket at a bad header.
class ScanWriter {
public:
    explicit ScanWriter(roche_scan *scan);  // takes ownership
    ~ScanWriter();
    ScanWriter(const ScanWriter &) = delete;
    ScanWriter &operator=(const ScanWriter &) = delete;

    // Copies up to max (> 0) bytes into buf. Returns the count, 0 at the
    // end, or -1 on an error (error() says which; the stream is cut).
    long fill(char *buf, size_t max);
    const std::string &error() const { return error_; }
    uint64_t records() const { return records_; }

private:
    bool next_batch();
    static const size_t kBatch = 64;
    roche_scan *scan_;
    uint64_t offsets_[kBatch];
    const void *data_[kBatch];
    size_t lens_[kBatch];
    size_t count_ = 0, index_ = 0;  // the batch and the record in it
    size_t done_ = 0;               // bytes of its frame (12 + length) written
    bool end_ = false;
    std::string error_;
    uint64_t records_ = 0;
};

// An answer to a request, before it is handed to the HTTP library: a status,
// a content type, and one of a text/JSON body, a pinned value (get), a
// multiget writer or a scan writer.
struct Reply {
    int status = 200;
    const char *content_type = "text/plain; charset=utf-8";
    std::string text;
    roche_view *view = nullptr;  // get: the value, pinned
    const void *data = nullptr;
    size_t len = 0;
    MultiWriter *multi = nullptr;
    ScanWriter *scan = nullptr;

    Reply() = default;
    Reply(const Reply &) = delete;
    Reply &operator=(const Reply &) = delete;
    ~Reply();
};

// "<roche_strerror(rc)>: <roche_last_error()>" (read on the failing thread).
std::string roche_message(int rc);

// Answers one request: the endpoint, its query, and the whole body (append
// and getMulti read it; the others ignore it). Never throws for bad input:
// every failure is a 500 with a text body, as rochefort's; an unknown path
// is rochefort's (Go's) 404. The body may be moved from.
void handle(roche_db *db, Endpoint endpoint, const Query &query, std::string &body,
            Reply *reply);

// --format rochefort: an append with no id (or an empty one) goes where
// rochefort v0.5 puts it, the bucket of the id "" (libroche's default is the
// serving thread's own bucket). Set once, before the first request.
void set_rochefort_placement(bool on);

}  // namespace serve

#endif
