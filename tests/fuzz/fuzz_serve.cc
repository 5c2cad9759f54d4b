/* Fuzz target: roche-serve's request handling (server/request.cc), without
 * the HTTP library: query parsing, getMulti body framing (binary and csv),
 * offset parsing, the JSON of append, and the writers that stream getMulti
 * and scan answers into buffers of any size.
 *
 * Input: byte 0 picks the endpoint (and bit 3 the csv flag), byte 1 the
 * size of the buffers the writers fill (1..256, as the HTTP library hands
 * out smaller or larger ones); then the query string up to the first '\n',
 * and the body after it. Checked:
 *   - handle() answers 200, 404 (unknown path) or 500 with a text, never
 *     crashes or throws;
 *   - an append's JSON has the exact rochefort shape, valid UTF-8 with no
 *     control bytes, and a get of its offset returns the body;
 *   - a getMulti answer streamed in small pieces equals, byte for byte, the
 *     frames of the offsets parse_offsets() found, read one by one;
 *   - a scan answer streamed in small pieces parses into frames whose
 *     values are those a get of each offset returns;
 *   - any bytes, percent-escaped, come back from Query::parse unchanged.
 * A store with a few records in two namespaces ("fz", "default") is built
 * at the start and built afresh every 256 runs, so scans stay short. */
#include <roche.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "request.h"

namespace {

roche_db *db;
unsigned runs;

void seed() {
    const char *values[] = {"", "a", "hello", "0123456789abcdef", "x\0y"};
    for (int i = 0; i < 5; i++) {
        uint64_t off;
        FUZZ_CHECK(roche_append(db, "fz", i % 2 ? "odd" : "even", values[i],
                                std::strlen(values[i]) + (i == 4), &off) == ROCHE_OK);
        FUZZ_CHECK(roche_append(db, "default", nullptr, values[i], std::strlen(values[i]),
                                &off) == ROCHE_OK);
    }
}

void setup() {
    char root[256];
    std::snprintf(root, sizeof root, "/tmp/roche-fuzz-serve-%d", int(getpid()));
    roche_options *opts = roche_options_new();
    FUZZ_CHECK(opts && roche_options_set_buckets(opts, 2) == ROCHE_OK);
    FUZZ_CHECK(roche_open(root, opts, &db) == ROCHE_OK);
    roche_options_free(opts);
    seed();
}

bool valid_utf8_no_controls(const std::string &s) {
    size_t i = 0, n = s.size();
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20) return false;
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (!len || i + len > n) return false;
        for (size_t k = 1; k < len; k++)
            if (((unsigned char)s[i + k] & 0xC0) != 0x80) return false;
        i += len;
    }
    return true;
}

std::string get_value(const std::string &ns, uint64_t offset, int *rc) {
    void *data = nullptr;
    size_t len = 0;
    *rc = roche_get(db, ns.c_str(), offset, &data, &len);
    std::string v = *rc == ROCHE_OK ? std::string((const char *)data, len) : std::string();
    roche_free(data);
    return v;
}

uint32_t u32_at(const std::string &s, size_t p) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) v = (v << 8) | (unsigned char)s[p + i];
    return v;
}

uint64_t u64_at(const std::string &s, size_t p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | (unsigned char)s[p + i];
    return v;
}

void check_query_roundtrip(const std::string &bytes) {
    static const char kHex[] = "0123456789ABCDEF";
    std::string q = "k=";
    for (unsigned char c : bytes) {
        q += '%';
        q += kHex[c >> 4];
        q += kHex[c & 15];
    }
    q += "&k=second";
    serve::Query query;
    query.parse(q.data(), q.size());
    const std::string *v = query.get("k");
    FUZZ_CHECK(v && *v == bytes);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size) {
    if (!db) setup();
    if (++runs % 256 == 0) {  // keep the store small: start it afresh
        char *names = nullptr;
        size_t count = 0;
        FUZZ_CHECK(roche_namespaces(db, &names, &count) == ROCHE_OK);
        const char *p = names;
        for (size_t i = 0; i < count; i++, p += std::strlen(p) + 1)
            FUZZ_CHECK(roche_delete_namespace(db, p) == ROCHE_OK);
        roche_free(names);
        seed();
    }
    if (size < 2) return 0;
    static const serve::Endpoint kEndpoints[] = {
        serve::Endpoint::Append, serve::Endpoint::Get,   serve::Endpoint::GetMulti,
        serve::Endpoint::Scan,   serve::Endpoint::Close, serve::Endpoint::Unknown};
    serve::Endpoint endpoint = kEndpoints[(input[0] & 7) % 6];
    size_t piece = size_t(input[1]) + 1;
    const char *rest = (const char *)input + 2;
    size_t rest_len = size - 2;
    const char *nl = (const char *)std::memchr(rest, '\n', rest_len);
    std::string query_text(rest, nl ? size_t(nl - rest) : rest_len);
    std::string body = nl ? std::string(nl + 1, rest_len - (nl - rest) - 1) : std::string();
    if (input[0] & 8) query_text += "&csv=true";
    // Routing of every spelling but the five paths is 404.
    FUZZ_CHECK(serve::route(query_text.data(), query_text.size()) == serve::Endpoint::Unknown ||
               query_text[0] == '/');

    check_query_roundtrip(body.substr(0, 300));

    serve::Query query;
    query.parse(query_text.data(), query_text.size());
    std::string ns, error;
    bool ns_ok = serve::request_namespace(query, &ns, &error);
    std::string body_copy = body;
    serve::Reply reply;
    serve::handle(db, endpoint, query, body, &reply);
    FUZZ_CHECK(reply.status == 200 || reply.status == 404 || reply.status == 500);
    if (reply.status != 200) {
        FUZZ_CHECK(!reply.text.empty() && !reply.view && !reply.multi && !reply.scan);
        FUZZ_CHECK(reply.status == 404 || endpoint != serve::Endpoint::Unknown);
        return 0;
    }
    FUZZ_CHECK(ns_ok);
    switch (endpoint) {
    case serve::Endpoint::Append: {
        const std::string &j = reply.text;
        FUZZ_CHECK(j.compare(0, 10, "{\"offset\":") == 0 && j.back() == '}');
        FUZZ_CHECK(valid_utf8_no_controls(j));
        uint64_t off = std::strtoull(j.c_str() + 10, nullptr, 10);
        std::string want = "\"offset_str\":\"" + std::to_string(off) + "\"";
        FUZZ_CHECK(j.find(want) != std::string::npos);
        int rc;
        FUZZ_CHECK(get_value(ns, off, &rc) == body_copy && rc == ROCHE_OK);
        break;
    }
    case serve::Endpoint::Get: {
        const std::string *t = query.get("offset");
        uint64_t off;
        FUZZ_CHECK(t && serve::parse_u64(t->data(), t->size(), &off, &error));
        int rc;
        std::string v = get_value(ns, off, &rc);
        FUZZ_CHECK(rc == ROCHE_OK && v == std::string((const char *)reply.data, reply.len));
        break;
    }
    case serve::Endpoint::GetMulti: {
        FUZZ_CHECK(reply.multi);
        const std::string *csv = query.get("csv");
        std::vector<uint64_t> offsets;
        FUZZ_CHECK(serve::parse_offsets(body_copy.data(), body_copy.size(),
                                        csv && *csv == "true", &offsets, &error));
        std::string want;
        for (uint64_t off : offsets) {
            int rc;
            std::string v = get_value(ns, off, &rc);
            if (rc != ROCHE_OK) continue;
            char len[4];
            for (int i = 0; i < 4; i++) len[i] = char(v.size() >> (8 * i));
            want.append(len, 4);
            want += v;
        }
        std::string got;
        std::vector<char> buf(piece);
        size_t n;
        while ((n = reply.multi->fill(buf.data(), piece)) > 0) got.append(buf.data(), n);
        FUZZ_CHECK(got == want && got.size() == reply.multi->total());
        break;
    }
    case serve::Endpoint::Scan: {
        FUZZ_CHECK(reply.scan);
        std::string got;
        std::vector<char> buf(piece);
        long n;
        while ((n = reply.scan->fill(buf.data(), piece)) > 0) got.append(buf.data(), size_t(n));
        FUZZ_CHECK(n == 0);
        size_t p = 0;
        uint64_t last = 0, frames = 0;
        while (p < got.size()) {
            FUZZ_CHECK(p + 12 <= got.size());
            uint32_t len = u32_at(got, p);
            uint64_t off = u64_at(got, p + 4);
            FUZZ_CHECK(p + 12 + len <= got.size());
            FUZZ_CHECK(frames == 0 || off > last);
            int rc;
            FUZZ_CHECK(get_value(ns, off, &rc) == got.substr(p + 12, len) && rc == ROCHE_OK);
            last = off;
            frames++;
            p += 12 + len;
        }
        FUZZ_CHECK(frames == reply.scan->records());
        break;
    }
    case serve::Endpoint::Close:
        FUZZ_CHECK(reply.text == "{\"success\":true}");
        break;
    case serve::Endpoint::Unknown:
        FUZZ_CHECK(false);
    }
    return 0;
}
