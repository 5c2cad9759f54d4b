#include "engine.h"

#include <atomic>
#include <rocksdb/db.h>

namespace bench {
namespace {

void check(const rocksdb::Status &s, const char *what) {
    if (!s.ok()) fail(std::string(what) + ": " + s.ToString());
}

class RocksDB : public Engine {
public:
    RocksDB(const std::string &dir, bool wal) : wal_(wal) {
        rocksdb::Options options;
        options.create_if_missing = true;
        check(rocksdb::DB::Open(options, dir, &db_), "rocksdb open");
        write_.sync = false;
        write_.disableWAL = !wal;
        std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
        it->SeekToLast();
        if (it->Valid()) next_key_ = decode_key(it->key().data()) + 1;
    }
    ~RocksDB() override { delete db_; }

    class RocksWriter : public Writer {
    public:
        explicit RocksWriter(RocksDB &e) : e_(e) {}
        uint64_t append(const char *data, size_t len) override {
            uint64_t k = e_.next_key_++;
            char key[8];
            encode_key(k, key);
            check(e_.db_->Put(e_.write_, rocksdb::Slice(key, 8), rocksdb::Slice(data, len)), "rocksdb put");
            return k;
        }

    private:
        RocksDB &e_;
    };

    std::unique_ptr<Writer> writer() override { return std::make_unique<RocksWriter>(*this); }

    bool get(uint64_t k, std::string &out) override {
        char key[8];
        encode_key(k, key);
        rocksdb::PinnableSlice value;
        if (!db_->Get(rocksdb::ReadOptions(), db_->DefaultColumnFamily(), rocksdb::Slice(key, 8), &value).ok())
            return false;
        out.assign(value.data(), value.size());
        return true;
    }

    // The batched MultiGet, RocksDB's fast path for many keys.
    size_t multiget(const uint64_t *keys, size_t n) override {
        std::vector<char> raw(n * 8);
        std::vector<rocksdb::Slice> slices(n);
        for (size_t i = 0; i < n; ++i) {
            encode_key(keys[i], &raw[i * 8]);
            slices[i] = rocksdb::Slice(&raw[i * 8], 8);
        }
        std::vector<rocksdb::PinnableSlice> values(n);
        std::vector<rocksdb::Status> statuses(n);
        db_->MultiGet(rocksdb::ReadOptions(), db_->DefaultColumnFamily(), n, slices.data(), values.data(),
                      statuses.data());
        size_t bytes = 0;
        std::string copy;
        for (size_t i = 0; i < n; ++i) {
            check(statuses[i], "rocksdb multiget");
            copy.assign(values[i].data(), values[i].size());
            bytes += copy.size();
        }
        return bytes;
    }

    uint64_t scan(uint64_t &bytes) override {
        std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
        uint64_t records = 0;
        for (it->SeekToFirst(); it->Valid(); it->Next()) {
            ++records;
            bytes += it->value().size();
        }
        check(it->status(), "rocksdb scan");
        return records;
    }

    void settle() override {
        if (!wal_) check(db_->Flush(rocksdb::FlushOptions()), "rocksdb flush");
    }

private:
    rocksdb::DB *db_ = nullptr;
    rocksdb::WriteOptions write_;
    bool wal_;
    std::atomic<uint64_t> next_key_{0};
};

} // namespace

std::unique_ptr<Engine> open_rocksdb_wal(const std::string &dir) { return std::make_unique<RocksDB>(dir, true); }
std::unique_ptr<Engine> open_rocksdb_nowal(const std::string &dir) { return std::make_unique<RocksDB>(dir, false); }

} // namespace bench
