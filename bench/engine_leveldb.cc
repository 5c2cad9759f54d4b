#include "engine.h"

#include <atomic>
#include <leveldb/db.h>

namespace bench {
namespace {

void check(const leveldb::Status &s, const char *what) {
    if (!s.ok()) fail(std::string(what) + ": " + s.ToString());
}

class LevelDB : public Engine {
public:
    explicit LevelDB(const std::string &dir) {
        leveldb::Options options;
        options.create_if_missing = true;
        check(leveldb::DB::Open(options, dir, &db_), "leveldb open");
        write_.sync = false;
        std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
        it->SeekToLast();
        if (it->Valid()) next_key_ = decode_key(it->key().data()) + 1;
    }
    ~LevelDB() override { delete db_; }

    class LevelWriter : public Writer {
    public:
        explicit LevelWriter(LevelDB &e) : e_(e) {}
        uint64_t append(const char *data, size_t len) override {
            uint64_t k = e_.next_key_++;
            char key[8];
            encode_key(k, key);
            check(e_.db_->Put(e_.write_, leveldb::Slice(key, 8), leveldb::Slice(data, len)), "leveldb put");
            return k;
        }

    private:
        LevelDB &e_;
    };

    std::unique_ptr<Writer> writer() override { return std::make_unique<LevelWriter>(*this); }

    bool get(uint64_t k, std::string &out) override {
        char key[8];
        encode_key(k, key);
        return db_->Get(leveldb::ReadOptions(), leveldb::Slice(key, 8), &out).ok();
    }

    // LevelDB has no multiget: a loop of gets.
    size_t multiget(const uint64_t *keys, size_t n) override {
        std::string value;
        size_t bytes = 0;
        for (size_t i = 0; i < n; ++i) {
            if (!get(keys[i], value)) fail("leveldb multiget: missing key");
            bytes += value.size();
        }
        return bytes;
    }

    uint64_t scan(uint64_t &bytes) override {
        std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
        uint64_t records = 0;
        for (it->SeekToFirst(); it->Valid(); it->Next()) {
            ++records;
            bytes += it->value().size();
        }
        check(it->status(), "leveldb scan");
        return records;
    }

private:
    leveldb::DB *db_ = nullptr;
    leveldb::WriteOptions write_;
    std::atomic<uint64_t> next_key_{0};
};

} // namespace

std::unique_ptr<Engine> open_leveldb(const std::string &dir) { return std::make_unique<LevelDB>(dir); }

} // namespace bench
