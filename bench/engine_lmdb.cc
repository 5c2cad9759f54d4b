#include "engine.h"

#include <atomic>
#include <lmdb.h>

namespace bench {
namespace {

void check(int rc, const char *what) {
    if (rc != MDB_SUCCESS) fail(std::string(what) + ": " + mdb_strerror(rc));
}

// Reads renew their snapshot this often, as a long-lived reader would.
constexpr size_t kReadsPerTxn = 1000;

class LMDB : public Engine {
public:
    explicit LMDB(const std::string &dir) {
        check(mdb_env_create(&env_), "mdb_env_create");
        check(mdb_env_set_mapsize(env_, size_t(64) << 30), "mdb_env_set_mapsize");
        check(mdb_env_open(env_, dir.c_str(), MDB_NOSYNC | MDB_WRITEMAP, 0644), "mdb_env_open");
        MDB_txn *txn;
        check(mdb_txn_begin(env_, nullptr, 0, &txn), "mdb_txn_begin");
        check(mdb_dbi_open(txn, nullptr, 0, &dbi_), "mdb_dbi_open");
        MDB_cursor *cursor;
        check(mdb_cursor_open(txn, dbi_, &cursor), "mdb_cursor_open");
        MDB_val key, value;
        if (mdb_cursor_get(cursor, &key, &value, MDB_LAST) == MDB_SUCCESS)
            next_key_ = decode_key(static_cast<const char *>(key.mv_data)) + 1;
        mdb_cursor_close(cursor);
        check(mdb_txn_commit(txn), "mdb_txn_commit");
    }
    ~LMDB() override {
        if (read_) mdb_txn_abort(read_);
        mdb_env_close(env_);
    }

    // Keys are taken inside the write transaction, which LMDB serializes,
    // so they reach the tree in order and MDB_APPEND holds with 2 threads.
    class LmdbWriter : public Writer {
    public:
        explicit LmdbWriter(LMDB &e) : e_(e) {}
        ~LmdbWriter() override { flush(); }
        uint64_t append(const char *data, size_t len) override {
            if (!txn_) check(mdb_txn_begin(e_.env_, nullptr, 0, &txn_), "mdb_txn_begin");
            uint64_t k = e_.next_key_++;
            char raw[8];
            encode_key(k, raw);
            MDB_val key{8, raw}, value{len, const_cast<char *>(data)};
            check(mdb_put(txn_, e_.dbi_, &key, &value, MDB_APPEND), "mdb_put");
            if (++pending_ == kTxnBatch) flush();
            return k;
        }
        void flush() override {
            if (!txn_) return;
            check(mdb_txn_commit(txn_), "mdb_txn_commit");
            txn_ = nullptr;
            pending_ = 0;
        }

    private:
        LMDB &e_;
        MDB_txn *txn_ = nullptr;
        size_t pending_ = 0;
    };

    std::unique_ptr<Writer> writer() override { return std::make_unique<LmdbWriter>(*this); }

    bool get(uint64_t k, std::string &out) override {
        MDB_val value;
        if (!lookup(k, value)) return false;
        out.assign(static_cast<const char *>(value.mv_data), value.mv_size);
        return true;
    }

    bool in_place() const override { return true; }
    bool get_in_place(uint64_t k, uint64_t *touched) override {
        MDB_val value;
        if (!lookup(k, value)) return false;
        const auto *p = static_cast<const unsigned char *>(value.mv_data);
        if (value.mv_size) *touched += p[0] + p[value.mv_size - 1];
        return true;
    }

    // LMDB has no multiget: a loop of gets in one snapshot.
    size_t multiget(const uint64_t *keys, size_t n) override {
        renew();
        std::string copy;
        size_t bytes = 0;
        for (size_t i = 0; i < n; ++i) {
            MDB_val value;
            if (!lookup(keys[i], value)) fail("lmdb multiget: missing key");
            copy.assign(static_cast<const char *>(value.mv_data), value.mv_size);
            bytes += copy.size();
        }
        return bytes;
    }

    uint64_t scan(uint64_t &bytes) override {
        renew();
        MDB_cursor *cursor;
        check(mdb_cursor_open(read_, dbi_, &cursor), "mdb_cursor_open");
        MDB_val key, value;
        uint64_t records = 0;
        for (int op = MDB_FIRST; mdb_cursor_get(cursor, &key, &value, MDB_cursor_op(op)) == MDB_SUCCESS;
             op = MDB_NEXT) {
            ++records;
            bytes += value.mv_size;
        }
        mdb_cursor_close(cursor);
        return records;
    }

private:
    bool lookup(uint64_t k, MDB_val &value) {
        if (!read_ || reads_ == kReadsPerTxn) renew();
        ++reads_;
        char raw[8];
        encode_key(k, raw);
        MDB_val key{8, raw};
        return mdb_get(read_, dbi_, &key, &value) == MDB_SUCCESS;
    }
    void renew() {
        if (read_) {
            mdb_txn_reset(read_);
            check(mdb_txn_renew(read_), "mdb_txn_renew");
        } else {
            check(mdb_txn_begin(env_, nullptr, MDB_RDONLY, &read_), "mdb_txn_begin");
        }
        reads_ = 0;
    }

    MDB_env *env_ = nullptr;
    MDB_dbi dbi_ = 0;
    MDB_txn *read_ = nullptr;
    size_t reads_ = 0;
    std::atomic<uint64_t> next_key_{0};
};

} // namespace

std::unique_ptr<Engine> open_lmdb(const std::string &dir) { return std::make_unique<LMDB>(dir); }

} // namespace bench
