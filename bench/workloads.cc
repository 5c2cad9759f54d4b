#include "workloads.h"

#include <roche.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <malloc.h>
#include <sys/mman.h>
#include <thread>
#include <unistd.h>

namespace bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr size_t kPoolBytes = 8u << 20;
constexpr size_t kRecordHeader = 16; // libroche's record header
std::vector<char> pool;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

uint64_t splitmix(uint64_t &state) {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void fresh_dir(const std::string &dir) {
    fs::remove_all(dir);
    fs::create_directories(dir);
}

std::string keys_path(const std::string &dir) { return dir + ".keys"; }

void save_keys(const std::string &dir, const std::vector<uint64_t> &keys) {
    std::ofstream out(keys_path(dir), std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char *>(keys.data()), std::streamsize(keys.size() * 8));
    if (!out) fail("cannot write " + keys_path(dir));
}

std::vector<uint64_t> load_keys(const std::string &dir) {
    std::ifstream in(keys_path(dir), std::ios::binary);
    std::vector<uint64_t> keys(fs::file_size(keys_path(dir)) / 8);
    in.read(reinterpret_cast<char *>(keys.data()), std::streamsize(keys.size() * 8));
    if (!in || keys.empty()) fail("cannot read " + keys_path(dir));
    return keys;
}

// The same random picks, in the same order, for every engine in a rep.
std::vector<uint64_t> pick(const std::vector<uint64_t> &keys, uint64_t n, uint64_t seed) {
    std::vector<uint64_t> picked(n);
    for (auto &k : picked) k = keys[splitmix(seed) % keys.size()];
    return picked;
}

// Heap in use when a workload starts, after the harness's own buffers (keys,
// random picks), so samples report the engine's heap only.
long heap_baseline_kb = 0;
void mark_heap_baseline() { heap_baseline_kb = heap_in_use_kb(); }

Sample sample(const std::string &workload, const std::string &engine, uint64_t value_bytes, int threads,
              uint64_t ops, uint64_t bytes, double seconds) {
    Sample s;
    s.workload = workload;
    s.engine = engine;
    s.value_bytes = value_bytes;
    s.threads = threads;
    s.ops = ops;
    s.bytes = bytes;
    s.seconds = seconds;
    s.heap_kb = heap_in_use_kb() - heap_baseline_kb;
    return s;
}

// Runs body(thread, first, count) on `threads` threads over [0, total) and
// returns the wall time from the moment all threads are ready.
double timed_threads(int threads, uint64_t total,
                     const std::function<std::function<void(uint64_t, uint64_t)>(int)> &prepare) {
    std::vector<std::function<void(uint64_t, uint64_t)>> bodies;
    for (int t = 0; t < threads; ++t) bodies.push_back(prepare(t));
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> pool_threads;
    for (int t = 0; t < threads; ++t)
        pool_threads.emplace_back([&, t] {
            uint64_t first = total * t / threads, last = total * (t + 1) / threads;
            ++ready;
            while (!go) std::this_thread::yield();
            bodies[t](first, last - first);
        });
    while (ready < threads) std::this_thread::yield();
    auto start = Clock::now();
    go = true;
    for (auto &th : pool_threads) th.join();
    return seconds_since(start);
}

volatile uint64_t sink;

// Linux 5.14; the constant is missing from older headers.
constexpr int kMadvPopulateWrite = 23;

// Copies count records into one fresh, preallocated mapped file per thread.
// populate: fault every page in with one madvise(MADV_POPULATE_WRITE) first
// instead of one page fault per 4 KiB page during the copies.
double mmap_fill_seconds(const std::string &dir, size_t value_bytes, int threads, uint64_t count, bool populate) {
    size_t record = value_bytes + kRecordHeader;
    std::vector<char *> maps(threads);
    std::vector<size_t> map_bytes(threads);
    double seconds = timed_threads(threads, count, [&](int t) {
        return [&, t](uint64_t first, uint64_t n) {
            std::string path = dir + "/mmap." + std::to_string(t);
            int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
            map_bytes[t] = std::max<size_t>(n * record, 1);
            // Blocks allocated up front, as libroche does, so page faults
            // need no block allocation.
            if (fd < 0 || fallocate(fd, 0, 0, off_t(map_bytes[t])) != 0) fail("limit: cannot size " + path);
            char *map = static_cast<char *>(mmap(nullptr, map_bytes[t], PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
            close(fd);
            if (map == MAP_FAILED) fail("limit: mmap failed");
            if (populate && madvise(map, map_bytes[t], kMadvPopulateWrite) != 0) fail("limit: MADV_POPULATE_WRITE");
            maps[t] = map;
            for (uint64_t i = 0; i < n; ++i) std::memcpy(map + i * record, value_bytes_at(first + i, record), record);
        };
    });
    for (int t = 0; t < threads; ++t) munmap(maps[t], map_bytes[t]);
    return seconds;
}

} // namespace

void init_value_pool() {
    pool.resize(kPoolBytes);
    uint64_t state = 42;
    for (size_t i = 0; i < kPoolBytes; i += 8) {
        uint64_t r = splitmix(state);
        std::memcpy(&pool[i], &r, 8);
    }
}

const char *value_bytes_at(uint64_t i, size_t len) { return pool.data() + (i * 4099) % (kPoolBytes - len); }

long heap_in_use_kb() {
    struct mallinfo2 m = mallinfo2();
    return long((m.uordblks + m.hblkhd) / 1024);
}

std::vector<Sample> run_append(const EngineKind &kind, const std::string &dir, size_t value_bytes,
                               int threads, uint64_t count) {
    fresh_dir(dir);
    mark_heap_baseline();
    auto engine = kind.open(dir);
    // One writer per thread, made before the clock starts; LMDB begins its
    // write transaction on the writing thread, at the first append.
    std::vector<std::unique_ptr<Writer>> writers(threads);
    double seconds = timed_threads(threads, count, [&](int t) {
        writers[t] = engine->writer();
        return [&, t](uint64_t first, uint64_t n) {
            Writer &w = *writers[t];
            for (uint64_t i = first; i < first + n; ++i) w.append(value_bytes_at(i, value_bytes), value_bytes);
            w.flush();
        };
    });
    Sample s = sample("append", kind.name, value_bytes, threads, count, count * value_bytes, seconds);
    writers.clear();
    engine.reset();
    fs::remove_all(dir);
    return {s};
}

void run_load_then_append_forever(const EngineKind &kind, const std::string &dir, uint64_t count,
                                  const std::function<void(const Sample &)> &ready) {
    fresh_dir(dir);
    std::vector<uint64_t> keys(count);
    mark_heap_baseline();
    auto engine = kind.open(dir);
    auto writer = engine->writer();
    auto start = Clock::now();
    for (uint64_t i = 0; i < count; ++i) keys[i] = writer->append(value_bytes_at(i, kGetValueBytes), kGetValueBytes);
    writer->flush();
    engine->settle();
    Sample s = sample("load", kind.name, kGetValueBytes, 1, count, count * kGetValueBytes, seconds_since(start));
    save_keys(dir, keys);
    ready(s);
    for (uint64_t i = count;; ++i) writer->append(value_bytes_at(i, kGetValueBytes), kGetValueBytes);
}

void run_append_forever(const EngineKind &kind, const std::string &dir, const std::function<void()> &ready) {
    auto engine = kind.open(dir);
    auto writer = engine->writer();
    ready();
    for (uint64_t i = 0;; ++i) writer->append(value_bytes_at(i, kGetValueBytes), kGetValueBytes);
}

// Namespaces open and recover on first use: time the open and one get.
std::vector<Sample> run_recovery_open(const EngineKind &kind, const std::string &dir) {
    uint64_t first_key = load_keys(dir)[0];
    std::string value;
    mark_heap_baseline();
    auto start = Clock::now();
    auto engine = kind.open(dir);
    bool found = engine->get(first_key, value);
    double seconds = seconds_since(start);
    if (!found) fail(kind.name + ": first record missing after recovery");
    return {sample("recovery", kind.name, kGetValueBytes, 1, 1, 0, seconds)};
}

std::vector<Sample> run_reads(const EngineKind &kind, const std::string &dir, const Config &config, int rep) {
    auto keys = load_keys(dir);
    auto gets = pick(keys, config.gets, 1000 + rep);
    auto batches = pick(keys, config.multiget_calls * kMultigetBatch, 2000 + rep);
    std::string value;
    value.reserve(kGetValueBytes);
    mark_heap_baseline();
    auto engine = kind.open(dir);
    std::vector<Sample> out;

    // One untimed pass over the same keys first: every engine's pages are
    // then mapped and cached alike, so the timed passes (get, then get in
    // place) compare reads, not first-touch page faults.
    for (uint64_t k : gets)
        if (!engine->get(k, value)) fail(kind.name + ": get of a stored key failed");

    auto start = Clock::now();
    for (uint64_t k : gets)
        if (!engine->get(k, value)) fail(kind.name + ": get of a stored key failed");
    out.push_back(sample("get", kind.name, kGetValueBytes, 1, gets.size(), gets.size() * kGetValueBytes,
                         seconds_since(start)));
    if (engine->in_place()) {
        uint64_t touched = 0;
        start = Clock::now();
        for (uint64_t k : gets)
            if (!engine->get_in_place(k, &touched)) fail(kind.name + ": in-place get of a stored key failed");
        out.push_back(sample("get-in-place", kind.name, kGetValueBytes, 1, gets.size(), gets.size() * kGetValueBytes,
                             seconds_since(start)));
        if (touched == 1) std::printf(" ");  // keeps the reads
    }

    start = Clock::now();
    uint64_t bytes = 0;
    for (size_t i = 0; i < batches.size(); i += kMultigetBatch)
        bytes += engine->multiget(&batches[i], kMultigetBatch);
    out.push_back(sample("multiget", kind.name, kGetValueBytes, 1, batches.size(), bytes, seconds_since(start)));

    start = Clock::now();
    bytes = 0;
    uint64_t records = engine->scan(bytes);
    out.push_back(sample("scan", kind.name, kGetValueBytes, 1, records, bytes, seconds_since(start)));
    if (records < keys.size()) fail(kind.name + ": scan saw fewer records than were loaded");
    return out;
}

std::vector<Sample> run_large_reads(const EngineKind &kind, const std::string &dir, int rep) {
    constexpr uint64_t kStoreBytes = 256u << 20, kGets = 20000;
    fresh_dir(dir);
    mark_heap_baseline();
    auto engine = kind.open(dir);
    if (!engine->in_place()) {
        engine.reset();
        fs::remove_all(dir);
        return {};
    }
    std::vector<uint64_t> keys(kStoreBytes / kLargeValueBytes);
    {
        auto writer = engine->writer();
        for (uint64_t i = 0; i < keys.size(); ++i) keys[i] = writer->append(value_bytes_at(i, kLargeValueBytes), kLargeValueBytes);
        writer->flush();
    }
    engine->settle();
    auto gets = pick(keys, kGets, 3000 + rep);
    std::string value;
    for (uint64_t k : gets)  // untimed: the same pages cached for both passes
        if (!engine->get(k, value)) fail(kind.name + ": get of a stored 64 KiB value failed");
    std::vector<Sample> out;
    auto start = Clock::now();
    for (uint64_t k : gets)
        if (!engine->get(k, value)) fail(kind.name + ": get of a stored 64 KiB value failed");
    out.push_back(sample("get", kind.name, kLargeValueBytes, 1, gets.size(), gets.size() * kLargeValueBytes,
                         seconds_since(start)));
    uint64_t touched = 0;
    start = Clock::now();
    for (uint64_t k : gets)
        if (!engine->get_in_place(k, &touched)) fail(kind.name + ": in-place get of a stored 64 KiB value failed");
    out.push_back(sample("get-in-place", kind.name, kLargeValueBytes, 1, gets.size(), gets.size() * kLargeValueBytes,
                         seconds_since(start)));
    if (touched == 1) std::printf(" ");  // keeps the reads
    engine.reset();
    fs::remove_all(dir);
    return out;
}

// The append ceiling: the same records (header + value) copied into a
// fresh, preallocated memory-mapped file, and written with one write() each.
std::vector<Sample> run_append_limits(const std::string &dir, size_t value_bytes, int threads, uint64_t count) {
    fresh_dir(dir);
    mark_heap_baseline();
    size_t record = value_bytes + kRecordHeader;
    std::vector<Sample> out;

    double seconds = mmap_fill_seconds(dir, value_bytes, threads, count, false);
    out.push_back(sample("append", "limit-mmap", value_bytes, threads, count, count * value_bytes, seconds));
    fresh_dir(dir);
    out.push_back(sample("append", "limit-mmap-populated", value_bytes, threads, count, count * value_bytes,
                         mmap_fill_seconds(dir, value_bytes, threads, count, true)));
    fresh_dir(dir);

    seconds = timed_threads(threads, count, [&](int t) {
        return [&, t](uint64_t first, uint64_t n) {
            std::string path = dir + "/write." + std::to_string(t);
            int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd < 0) fail("limit: cannot create " + path);
            for (uint64_t i = 0; i < n; ++i)
                if (write(fd, value_bytes_at(first + i, record), record) != ssize_t(record)) fail("limit: write");
            close(fd);
        };
    });
    out.push_back(sample("append", "limit-write", value_bytes, threads, count, count * value_bytes, seconds));
    fs::remove_all(dir);
    return out;
}

volatile uint64_t opaque_zero = 0;

// The read ceiling: memcpy of 100-byte values out of a mapped file as big
// as the store, at random record positions and then front to back.
std::vector<Sample> run_read_limits(const std::string &dir, const Config &config, int rep) {
    fs::create_directories(dir);
    mark_heap_baseline();
    std::string path = dir + "/read-limit";
    size_t record = kGetValueBytes + kRecordHeader;
    size_t records = config.store_mib * (1u << 20) / kGetValueBytes;
    size_t file_bytes = records * record;
    if (!fs::exists(path) || fs::file_size(path) != file_bytes) {
        int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        for (size_t done = 0; done < file_bytes;) {
            size_t n = std::min<size_t>(kPoolBytes / 2, file_bytes - done);
            if (write(fd, pool.data(), n) != ssize_t(n)) fail("read limit: write");
            done += n;
        }
        close(fd);
    }
    int fd = open(path.c_str(), O_RDONLY);
    const char *map =
        static_cast<const char *>(mmap(nullptr, file_bytes, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0));
    close(fd);
    if (map == MAP_FAILED) fail("read limit: mmap failed");

    std::vector<uint64_t> positions(config.gets);
    uint64_t seed = 1000 + rep;
    for (auto &p : positions) p = (splitmix(seed) % records) * record + kRecordHeader;
    char buf[kGetValueBytes];
    uint64_t check = 0;
    auto start = Clock::now();
    for (uint64_t p : positions) {
        std::memcpy(buf, map + p, kGetValueBytes);
        check += uint8_t(buf[kGetValueBytes - 1]);
    }
    std::vector<Sample> out;
    out.push_back(sample("get", "limit-mmap-read", kGetValueBytes, 1, positions.size(),
                         positions.size() * kGetValueBytes, seconds_since(start)));

    // The same reads chained: each position depends on the bytes the read
    // before it copied (through a zero the compiler cannot see), so no two
    // overlap in the processor. This is the memory's round trip, the floor
    // of a get that finishes before the next one starts; the unchained row
    // above overlaps a dozen of them.
    uint64_t zero = opaque_zero;
    start = Clock::now();
    for (uint64_t p : positions) {
        std::memcpy(buf, map + p + (check & zero), kGetValueBytes);
        check += uint8_t(buf[kGetValueBytes - 1]);
    }
    out.push_back(sample("get", "limit-mmap-read-chained", kGetValueBytes, 1, positions.size(),
                         positions.size() * kGetValueBytes, seconds_since(start)));

    std::vector<char> chunk(1u << 20);
    start = Clock::now();
    for (size_t done = 0; done < file_bytes; done += chunk.size()) {
        size_t n = std::min(chunk.size(), file_bytes - done);
        std::memcpy(chunk.data(), map + done, n);
        check += uint8_t(chunk[n - 1]);
    }
    out.push_back(sample("scan", "limit-mmap-read", kGetValueBytes, 1, records, records * kGetValueBytes,
                         seconds_since(start)));
    sink = check;
    munmap(const_cast<char *>(map), file_bytes);
    return out;
}

// libroche only: a writer appends 1000 records to a one-bucket store, then
// starts a value of 4 GiB - 1 and tells the parent, which SIGKILLs it a
// while into the copy: the bucket file ends in a torn tail of gigabytes.
void run_torn_tail_writer(const std::string &dir, const std::function<void()> &ready) {
    std::filesystem::remove_all(dir);
    roche_options *opts = roche_options_new();
    roche_options_set_buckets(opts, 1);
    roche_db *db = nullptr;
    if (roche_open(dir.c_str(), opts, &db) != ROCHE_OK) fail(std::string("roche_open: ") + roche_last_error());
    roche_options_free(opts);
    for (int i = 0; i < 1000; i++)
        if (roche_append(db, "torn", nullptr, "before the torn tail", 20, nullptr) != ROCHE_OK)
            fail(std::string("roche_append: ") + roche_last_error());
    size_t len = ROCHE_MAX_VALUE;
    void *value = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (value == MAP_FAILED) fail("mmap of a 4 GiB value");
    std::memset(value, 0xA5, len);
    ready();
    roche_append(db, "torn", nullptr, value, len, nullptr);  // killed before it returns
    std::this_thread::sleep_for(std::chrono::hours(1));
}

// Opens the store the torn-tail writer left (recovery cuts the tail) and
// reads one record back.
std::vector<Sample> run_torn_tail_recovery(const std::string &dir) {
    auto start = Clock::now();
    roche_db *db = nullptr;
    if (roche_open(dir.c_str(), nullptr, &db) != ROCHE_OK) fail(std::string("roche_open: ") + roche_last_error());
    void *data = nullptr;
    size_t len = 0;
    if (roche_get(db, "torn", 0, &data, &len) != ROCHE_OK || len != 20)
        fail(std::string("first record after the torn tail: ") + roche_last_error());
    double seconds = seconds_since(start);
    roche_free(data);
    roche_stat_info info = {ROCHE_STAT_VERSION, 0, 0, 0, 0, 0, 0, 0, 0};
    roche_stat(db, "torn", &info);
    roche_close(db);
    std::filesystem::remove_all(dir);
    if (info.records != 1000) fail("torn-tail store holds " + std::to_string(info.records) + " records, not 1000");
    return {sample("recovery-torn-4GiB", "libroche", 20, 1, 1, 0, seconds)};
}

}  // namespace bench
