#include "engine.h"
#include "roche.h"

namespace bench {
namespace {

constexpr const char *kNs = "bench";

void check(int rc, const char *what) {
    if (rc != ROCHE_OK)
        fail(std::string(what) + ": " + roche_strerror(rc) + " " + roche_last_error());
}

class RocheWriter : public Writer {
public:
    explicit RocheWriter(roche_db *db) : db_(db) {}
    uint64_t append(const char *data, size_t len) override {
        uint64_t offset = 0;
        check(roche_append(db_, kNs, nullptr, data, len, &offset), "roche_append");
        return offset;
    }

private:
    roche_db *db_;
};

// roche_append_many, kTxnBatch values a call: the values are gathered into
// one buffer as they come (a copy, as a transaction's pages are for LMDB
// and SQLite, which commit kTxnBatch puts at once). The offsets come back
// with the call, so append() returns 0: for the append workload only.
class RocheBatchWriter : public Writer {
public:
    explicit RocheBatchWriter(roche_db *db) : db_(db) { lens_.reserve(kTxnBatch); }
    uint64_t append(const char *data, size_t len) override {
        buffer_.insert(buffer_.end(), data, data + len);
        lens_.push_back(len);
        if (lens_.size() == kTxnBatch) flush();
        return 0;
    }
    void flush() override {
        if (lens_.empty()) return;
        check(roche_append_many(db_, kNs, nullptr, buffer_.data(), lens_.data(), lens_.size(), nullptr),
              "roche_append_many");
        buffer_.clear();
        lens_.clear();
    }

private:
    roche_db *db_;
    std::vector<char> buffer_;
    std::vector<size_t> lens_;
};

class Roche : public Engine {
public:
    explicit Roche(const std::string &dir, bool batched = false) : batched_(batched) {
        check(roche_open(dir.c_str(), nullptr, &db_), "roche_open");
    }
    ~Roche() override { roche_close(db_); }

    std::unique_ptr<Writer> writer() override {
        if (batched_) return std::make_unique<RocheBatchWriter>(db_);
        return std::make_unique<RocheWriter>(db_);
    }

    // roche_get already hands the caller its own copy.
    bool get(uint64_t key, std::string &) override {
        void *data = nullptr;
        size_t len = 0;
        int rc = roche_get(db_, kNs, key, &data, &len);
        roche_free(data);
        return rc == ROCHE_OK;
    }

    bool in_place() const override { return true; }
    bool get_in_place(uint64_t key, uint64_t *touched) override {
        roche_view *view = nullptr;
        const void *data = nullptr;
        size_t len = 0;
        if (roche_get_view(db_, kNs, key, &view, &data, &len) != ROCHE_OK) return false;
        const auto *p = static_cast<const unsigned char *>(data);
        if (len) *touched += p[0] + p[len - 1];
        roche_view_release(view);
        return true;
    }

    size_t multiget(const uint64_t *keys, size_t n) override {
        roche_values *values = nullptr;
        check(roche_multiget(db_, kNs, keys, n, &values), "roche_multiget");
        const int32_t *statuses = roche_values_statuses(values);
        size_t bytes = 0;
        roche_values_buffer(values, &bytes);
        for (size_t i = 0; i < n; ++i)
            if (statuses[i] != ROCHE_OK) {
                roche_values_free(values);
                fail("roche_multiget: item failed");
            }
        roche_values_free(values);
        return bytes;
    }

    uint64_t scan(uint64_t &bytes) override {
        roche_scan *it = nullptr;
        check(roche_scan_open(db_, kNs, 0, &it), "roche_scan_open");
        // Batches: the API's fast path through a namespace. Every record
        // is still checked against its checksum (its bytes are read).
        uint64_t records = 0;
        size_t lens[1024], count = 0;
        int rc;
        while ((rc = roche_scan_next_batch(it, 1024, nullptr, nullptr, lens, nullptr, &count)) == ROCHE_OK) {
            records += count;
            for (size_t i = 0; i < count; i++) bytes += lens[i];
        }
        roche_scan_free(it);
        if (rc != ROCHE_DONE) check(rc, "roche_scan_next");
        return records;
    }

private:
    roche_db *db_ = nullptr;
    bool batched_;
};

} // namespace

std::unique_ptr<Engine> open_roche(const std::string &dir) { return std::make_unique<Roche>(dir); }
std::unique_ptr<Engine> open_roche_batched(const std::string &dir) { return std::make_unique<Roche>(dir, true); }

} // namespace bench
