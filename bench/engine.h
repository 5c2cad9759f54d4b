// The one interface every store in the benchmark sits behind, so each
// workload is written once and runs the same way on every engine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace bench {

// One thread's writing end. Engines that commit in transactions (LMDB,
// SQLite) batch appends inside it and commit on flush().
class Writer {
public:
    virtual ~Writer() = default;
    // Stores a value and returns the key that reads it back: the offset for
    // libroche, the next sequential integer for the peers.
    virtual uint64_t append(const char *data, size_t len) = 0;
    virtual void flush() {}
};

class Engine {
public:
    virtual ~Engine() = default;
    virtual std::unique_ptr<Writer> writer() = 0;
    // Copies the value at key into out (the caller owns a copy, as with
    // roche_get). Returns false when there is none.
    virtual bool get(uint64_t key, std::string &out) = 0;
    // Reads the value at key where it lies, without a copy (libroche's
    // roche_get_view, LMDB's mdb_get), touching its first and last byte
    // into *touched. Returns false for a missing key; engines without such
    // a read leave in_place() false.
    virtual bool in_place() const { return false; }
    virtual bool get_in_place(uint64_t, uint64_t *) { return false; }
    // Reads n keys in one call where the engine has one; returns the total
    // bytes read, or throws if any key is missing.
    virtual size_t multiget(const uint64_t *keys, size_t n) = 0;
    // Reads every record in key order; returns the record count.
    virtual uint64_t scan(uint64_t &bytes) = 0;
    // Makes what was appended so far survive a SIGKILL (RocksDB without a
    // WAL keeps it in memory until a flush).
    virtual void settle() {}
};

struct EngineKind {
    std::string name;
    std::string config; // how it is configured, for the results
    std::unique_ptr<Engine> (*open)(const std::string &dir);
};

const std::vector<EngineKind> &engine_kinds();

std::unique_ptr<Engine> open_roche(const std::string &dir);
// libroche appending through roche_append_many, kTxnBatch values a call
// (the append workload only: its writer returns no keys).
std::unique_ptr<Engine> open_roche_batched(const std::string &dir);
extern const EngineKind kRocheBatched;
std::unique_ptr<Engine> open_rocksdb_wal(const std::string &dir);
std::unique_ptr<Engine> open_rocksdb_nowal(const std::string &dir);
std::unique_ptr<Engine> open_leveldb(const std::string &dir);
std::unique_ptr<Engine> open_lmdb(const std::string &dir);
std::unique_ptr<Engine> open_sqlite(const std::string &dir);

// Peers store under big-endian keys, so byte order is integer order.
inline void encode_key(uint64_t k, char out[8]) {
    for (int i = 7; i >= 0; --i, k >>= 8) out[i] = char(k & 0xff);
}
inline uint64_t decode_key(const char *in) {
    uint64_t k = 0;
    for (int i = 0; i < 8; ++i) k = k << 8 | uint8_t(in[i]);
    return k;
}

[[noreturn]] inline void fail(const std::string &what) { throw std::runtime_error(what); }

// Transactional peers commit this many appends at once: their bulk-load
// configuration (one transaction per value would be their worst case).
constexpr size_t kTxnBatch = 1000;

} // namespace bench
