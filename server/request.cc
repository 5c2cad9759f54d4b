// Request handling of roche-serve: see request.h.
#include "request.h"

#include <charconv>

#include <cstring>
#include <new>

namespace serve {
namespace {

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

void put_u32(char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = char(v >> (8 * i));
}

void put_u64(char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = char(v >> (8 * i));
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Length of the UTF-8 sequence at s (at most n bytes), or 0 if it is not one.
size_t utf8_length(const unsigned char *s, size_t n) {
    unsigned char c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) len = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) len = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) len = 4, cp = c & 0x07;
    else return 0;
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

void error_reply(Reply *reply, std::string text) {
    reply->status = 500;
    reply->content_type = "text/plain; charset=utf-8";
    reply->text = std::move(text);
}

bool g_rochefort_placement = false;

void do_append(roche_db *db, const Query &q, std::string &body, Reply *reply) {
    std::string ns, error;
    if (!request_namespace(q, &ns, &error)) return error_reply(reply, error);
    const std::string *id = q.get("id");
    if (id && id->find('\0') != std::string::npos)
        return error_reply(reply, "bad id: it holds a NUL byte");
    // No id (or an empty one): libroche spreads such appends over buckets;
    // rochefort (--format rochefort) hashes the id "" as any other.
    const char *id_arg = id && !id->empty() ? id->c_str() : g_rochefort_placement ? "" : nullptr;
    uint64_t offset = 0;
    int rc = roche_append(db, ns.c_str(), id_arg, body.data(), body.size(), &offset);
    if (rc != ROCHE_OK) return error_reply(reply, roche_message(rc));
    reply->content_type = "application/json";
    reply->text = append_json(offset, ns);
}

void do_get(roche_db *db, const Query &q, Reply *reply) {
    std::string ns, error;
    if (!request_namespace(q, &ns, &error)) return error_reply(reply, error);
    const std::string *text = q.get("offset");
    uint64_t offset = 0;
    if (!parse_u64(text ? text->data() : "", text ? text->size() : 0, &offset, &error))
        return error_reply(reply, "bad offset: " + error);
    int rc = roche_get_view(db, ns.c_str(), offset, &reply->view, &reply->data, &reply->len);
    if (rc != ROCHE_OK) return error_reply(reply, roche_message(rc));
    reply->content_type = "application/octet-stream";
}

void do_get_multi(roche_db *db, const Query &q, const std::string &body, Reply *reply) {
    std::string ns, error;
    if (!request_namespace(q, &ns, &error)) return error_reply(reply, error);
    const std::string *csv = q.get("csv");
    std::vector<uint64_t> offsets;
    if (!parse_offsets(body.data(), body.size(), csv && *csv == "true", &offsets, &error))
        return error_reply(reply, error);
    static const uint64_t kNone = 0;
    roche_values *values = nullptr;
    int rc = roche_multiget(db, ns.c_str(), offsets.empty() ? &kNone : offsets.data(),
                            offsets.size(), &values);
    if (rc != ROCHE_OK) return error_reply(reply, roche_message(rc));
    reply->multi = new MultiWriter(values);
    reply->content_type = "application/octet-stream";
}

void do_scan(roche_db *db, const Query &q, Reply *reply) {
    std::string ns, error;
    if (!request_namespace(q, &ns, &error)) return error_reply(reply, error);
    roche_scan *scan = nullptr;
    int rc = roche_scan_open(db, ns.c_str(), 0, &scan);
    if (rc != ROCHE_OK) return error_reply(reply, roche_message(rc));
    reply->scan = new ScanWriter(scan);
    reply->content_type = "application/octet-stream";
}

void do_close(roche_db *db, const Query &q, Reply *reply) {
    std::string ns, error;
    if (!request_namespace(q, &ns, &error)) return error_reply(reply, error);
    int rc = roche_close_namespace(db, ns.c_str());
    // A namespace that is not open is closed already: rochefort says success.
    if (rc != ROCHE_OK && rc != ROCHE_ENOTFOUND) return error_reply(reply, roche_message(rc));
    reply->content_type = "application/json";
    reply->text = "{\"success\":true}";
}

}  // namespace

bool unescape(const char *s, size_t len, std::string *out) {
    out->clear();
    out->reserve(len);
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '+') {
            out->push_back(' ');
        } else if (c == '%') {
            if (i + 2 >= len) return false;
            int hi = hex_digit(s[i + 1]), lo = hex_digit(s[i + 2]);
            if (hi < 0 || lo < 0) return false;
            out->push_back(char(hi * 16 + lo));
            i += 2;
        } else {
            out->push_back(c);
        }
    }
    return true;
}

void Query::parse(const char *query, size_t len) {
    pairs_.clear();
    pairs_.reserve(4);  // namespace, id, offset, csv
    size_t start = 0;
    while (start < len) {
        const char *amp = static_cast<const char *>(std::memchr(query + start, '&', len - start));
        size_t end = amp ? size_t(amp - query) : len;
        const char *pair = query + start;
        size_t pair_len = end - start;
        if (pair_len > 0) {
            const char *eq = static_cast<const char *>(std::memchr(pair, '=', pair_len));
            size_t key_len = eq ? size_t(eq - pair) : pair_len;
            std::string key, value;
            if (unescape(pair, key_len, &key) &&
                (!eq || unescape(eq + 1, pair_len - key_len - 1, &value)) && !key.empty())
                pairs_.emplace_back(std::move(key), std::move(value));
        }
        if (!amp) break;
        start = end + 1;
    }
}

const std::string *Query::get(const char *key) const {
    for (const auto &p : pairs_)
        if (p.first == key) return &p.second;
    return nullptr;
}

bool parse_u64(const char *s, size_t len, uint64_t *value, std::string *error) {
    // The text, quoted for the message, only on failure: this runs for
    // every Content-Length and offset.
    auto fail = [&](const char *why) {
        std::string quoted;
        json_escape(std::string(s, len > 64 ? 64 : len), &quoted);
        *error = "\"" + quoted + "\" " + why;
        return false;
    };
    if (len == 0) {
        *error = "\"\" is not a number";
        return false;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return fail("is not a decimal number");
        unsigned d = unsigned(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return fail("is out of range");
        v = v * 10 + d;
    }
    *value = v;
    return true;
}

bool parse_offsets(const char *body, size_t len, bool csv, std::vector<uint64_t> *offsets,
                   std::string *error) {
    offsets->clear();
    if (!csv) {
        if (len % 8 != 0) {
            *error = "incomplete read: " + std::to_string(len) + " is not multiple of 8";
            return false;
        }
        offsets->reserve(len / 8);
        for (size_t i = 0; i < len; i += 8) {
            uint64_t v = 0;
            for (int b = 7; b >= 0; b--) v = (v << 8) | uint8_t(body[i + b]);
            offsets->push_back(v);
        }
        return true;
    }
    size_t start = 0;
    for (;;) {
        const char *comma =
            len > start ? static_cast<const char *>(std::memchr(body + start, ',', len - start))
                        : nullptr;
        size_t end = comma ? size_t(comma - body) : len;
        size_t a = start, b = end;
        while (a < b && is_space(body[a])) a++;
        while (b > a && is_space(body[b - 1])) b--;
        uint64_t v;
        std::string ignored;
        if (parse_u64(body + a, b - a, &v, &ignored)) offsets->push_back(v);
        if (!comma) return true;
        start = end + 1;
    }
}

void json_escape(const std::string &s, std::string *out) {
    static const char kHex[] = "0123456789abcdef";
    const unsigned char *p = reinterpret_cast<const unsigned char *>(s.data());
    size_t n = s.size();
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        if (c == '"' || c == '\\') {
            out->push_back('\\');
            out->push_back(char(c));
            i++;
        } else if (c < 0x20) {
            out->append("\\u00");
            out->push_back(kHex[c >> 4]);
            out->push_back(kHex[c & 15]);
            i++;
        } else if (c < 0x80) {
            out->push_back(char(c));
            i++;
        } else {
            size_t l = utf8_length(p + i, n - i);
            if (l == 0) {
                out->append("\\ufffd");
                i++;
            } else {
                out->append(s, i, l);
                i += l;
            }
        }
    }
}

std::string append_json(uint64_t offset, const std::string &ns) {
    // One allocation: the answer of every append.
    char n[24], b[24];
    size_t nl = size_t(std::to_chars(n, n + sizeof n, offset).ptr - n);
    size_t bl = size_t(std::to_chars(b, b + sizeof b, offset >> ROCHE_OFFSET_BITS).ptr - b);
    std::string json;
    json.reserve(64 + 2 * nl + bl + ns.size());
    json.append("{\"offset\":").append(n, nl).append(",\"offset_str\":\"").append(n, nl);
    json.append("\",\"file\":\"");
    json_escape(ns, &json);
    json.append("/append.").append(b, bl).append(".raw\"}");
    return json;
}

Endpoint route(const char *path, size_t len) {
    std::string p(path, len);
    if (p == "/append") return Endpoint::Append;
    if (p == "/get") return Endpoint::Get;
    if (p == "/getMulti") return Endpoint::GetMulti;
    if (p == "/scan") return Endpoint::Scan;
    if (p == "/close") return Endpoint::Close;
    return Endpoint::Unknown;
}

bool request_namespace(const Query &q, std::string *ns, std::string *error) {
    const std::string *value = q.get("namespace");
    if (!value || value->empty()) {
        *ns = "default";
        return true;
    }
    if (value->find('\0') != std::string::npos) {
        *error = "bad namespace: it holds a NUL byte";
        return false;
    }
    *ns = *value;
    return true;
}

std::string roche_message(int rc) {
    std::string text = roche_strerror(rc);
    const char *detail = roche_last_error();
    if (detail && *detail) text += std::string(": ") + detail;
    return text;
}

MultiWriter::MultiWriter(roche_values *values) : values_(values) {
    size_t n = roche_values_count(values_);
    const uint64_t *lens = roche_values_lengths(values_);
    const int32_t *status = roche_values_statuses(values_);
    for (size_t i = 0; i < n; i++)
        if (status[i] == ROCHE_OK) total_ += 4 + lens[i];
}

MultiWriter::~MultiWriter() { roche_values_free(values_); }

size_t MultiWriter::fill(char *buf, size_t max) {
    size_t n = roche_values_count(values_), written = 0;
    while (written < max && item_ < n) {
        const void *data = nullptr;
        size_t len = 0;
        if (roche_values_item(values_, item_, &data, &len) != ROCHE_OK) {
            item_++;  // failed: left out
            continue;
        }
        char header[4];
        put_u32(header, uint32_t(len));
        while (written < max && done_ < 4) buf[written++] = header[done_++];
        size_t want = len - (done_ - 4), room = max - written;
        size_t take = want < room ? want : room;
        if (take) std::memcpy(buf + written, static_cast<const char *>(data) + (done_ - 4), take);
        written += take;
        done_ += take;
        if (done_ == 4 + len) item_++, done_ = 0;
    }
    return written;
}

ScanWriter::ScanWriter(roche_scan *scan) : scan_(scan) {}

ScanWriter::~ScanWriter() { roche_scan_free(scan_); }

bool ScanWriter::next_batch() {
    size_t count = 0;
    int rc = roche_scan_next_batch(scan_, kBatch, offsets_, data_, lens_, nullptr, &count);
    index_ = 0;
    done_ = 0;
    count_ = 0;
    if (rc == ROCHE_DONE) {
        end_ = true;
    } else if (rc == ROCHE_OK) {
        count_ = count;
    } else if (rc != ROCHE_ECORRUPT) {  // a damaged record is passed
        error_ = roche_message(rc);
        return false;
    }
    return true;
}

long ScanWriter::fill(char *buf, size_t max) {
    size_t written = 0;
    while (written < max) {
        if (index_ >= count_) {
            if (end_ || !error_.empty()) break;
            if (!next_batch()) break;
            continue;
        }
        size_t len = lens_[index_];
        char header[12];
        put_u32(header, uint32_t(len));
        put_u64(header + 4, offsets_[index_]);
        while (written < max && done_ < 12) buf[written++] = header[done_++];
        size_t want = len - (done_ - 12), room = max - written;
        size_t take = want < room ? want : room;
        if (take)
            std::memcpy(buf + written, static_cast<const char *>(data_[index_]) + (done_ - 12), take);
        written += take;
        done_ += take;
        if (done_ == 12 + len) index_++, done_ = 0, records_++;
    }
    if (written == 0 && !error_.empty()) return -1;
    return long(written);
}

Reply::~Reply() {
    roche_view_release(view);
    delete multi;
    delete scan;
}

void set_rochefort_placement(bool on) { g_rochefort_placement = on; }

void handle(roche_db *db, Endpoint endpoint, const Query &query, std::string &body,
            Reply *reply) {
    try {
        switch (endpoint) {
        case Endpoint::Append: return do_append(db, query, body, reply);
        case Endpoint::Get: return do_get(db, query, reply);
        case Endpoint::GetMulti: return do_get_multi(db, query, body, reply);
        case Endpoint::Scan: return do_scan(db, query, reply);
        case Endpoint::Close: return do_close(db, query, reply);
        case Endpoint::Unknown:
            reply->status = 404;
            reply->content_type = "text/plain; charset=utf-8";
            reply->text = "404 page not found\n";
            return;
        }
    } catch (const std::bad_alloc &) {
        error_reply(reply, roche_strerror(ROCHE_ENOMEM));
    }
}

}  // namespace serve
