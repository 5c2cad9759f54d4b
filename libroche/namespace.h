// A namespace: one directory holding the bucket files append.<n>.raw (and
// their companions).
//
// Bucket files are made on the first append that goes to them, so a
// namespace costs only what it holds. The bucket count (what ids hash
// over) is recorded in every companion, so it survives buckets that were
// never written, and never shrinks.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "bucket_file.h"
#include "doorbell.h"
#include "roche.h"

namespace roche {

struct NamespaceOptions {
    bool writable = false;
    bool create = false;  // create the directory if missing
    bool sync_always = false;
    uint32_t buckets = ROCHE_DEFAULT_BUCKETS;
    // The check of every record header, and how ids pick buckets.
    HeaderFormat format = HeaderFormat::Roche;
    // The store's count of descriptors held: shared, since a namespace a
    // scan or view still holds may outlive the store's handle.
    std::shared_ptr<std::atomic<int64_t>> open_files;
    uint64_t owner = 0;  // the handle's tag for a fork child's close (fork_guard.h)
    Prefaulter *prefaulter = nullptr;  // writable: the handle's, which outlives its appends
};

class Namespace : public std::enable_shared_from_this<Namespace> {
public:
    // Opens dir, and for a writable namespace opens and recovers every
    // bucket file in it. ROCHE_ENOTFOUND when the directory is missing and
    // may not be created.
    static int open(const std::string &dir, const std::string &name, const NamespaceOptions &opts,
                    std::shared_ptr<Namespace> *out);
    ~Namespace();

    // The bucket with that number, or NULL when it has no file. A read-only
    // namespace looks again for a file a writer created since.
    BucketFile *bucket(uint32_t index);
    // Writable: the bucket, its files made if this is its first append.
    int bucket_for_append(uint32_t index, BucketFile **out);

    // Where an append goes: crc32(id) % buckets (in rochefort's format, as
    // rochefort places it: (MetroHash64(id, 0) >> 32) % buckets), or the
    // calling thread's own bucket when id is NULL.
    uint32_t bucket_for(const char *id) const;

    // Read-only: opens bucket files a writer in another process has created
    // since, so a new scan sees every bucket. No-op when writable.
    void discover_buckets();
    // Buckets a scan walks: every bucket that may have a file.
    uint32_t bucket_count() const { return bucket_count_.load(std::memory_order_acquire); }

    int sync();
    uint64_t recovered_bytes();
    // The doorbell followers sleep on (doorbell.h): a writer's is made when
    // the namespace opens; a reader's on first use.
    int doorbell(Doorbell **out);
    // Read-only: the writer deleted this namespace (its files are gone).
    bool stale() const;

    // Closing releases the files; scans that still hold the namespace see
    // closed() and stop. Callers hold lifecycle() exclusively to close and
    // shared to read.
    int close();
    bool closed() const { return closed_; }
    // roche_delete_namespace() is removing it: followers end rather than
    // open it again.
    void mark_removed() { removed_.store(true); }
    bool removed() const { return removed_.load(); }
    std::shared_mutex &lifecycle() { return lifecycle_mu_; }
    const std::string &dir() const { return dir_; }
    const std::string &name() const { return name_; }

    // For the store's least-recently-used list of open namespaces.
    void touch(uint64_t tick) {
        if (last_used_.load(std::memory_order_relaxed) != tick) last_used_.store(tick, std::memory_order_relaxed);
    }
    uint64_t last_used() const { return last_used_.load(std::memory_order_relaxed); }

private:
    // Bucket slots in chunks made on demand: a namespace of one bucket does
    // not pay for 8191 of them.
    static constexpr uint32_t kChunk = 64;
    static constexpr uint32_t kChunks = (ROCHE_MAX_BUCKETS + kChunk - 1) / kChunk;

    Namespace(const std::string &dir, const std::string &name, const NamespaceOptions &opts);
    int open_bucket(uint32_t index, bool create);
    int open_existing_buckets();
    // Writable: every bucket file's first header is in the store's format,
    // checked before any file is opened, so a refused namespace is left
    // exactly as it was.
    int check_formats();
    int open_doorbell();
    std::atomic<BucketFile *> *slot(uint32_t index, bool make);
    BucketFile *loaded(uint32_t index) const;

    std::string dir_;
    std::string name_;
    NamespaceOptions opts_;
    std::atomic<std::atomic<BucketFile *> *> chunks_[kChunks] = {};
    std::atomic<uint32_t> bucket_count_{0};  // highest bucket number with a file + 1, or more
    uint32_t hash_buckets_ = 1;              // what ids hash over (writable)
    std::mutex open_mu_;                     // serializes opening bucket files and the doorbell
    std::atomic<Doorbell *> doorbell_{nullptr};
    std::unique_ptr<Doorbell> doorbell_owner_;
    std::shared_mutex lifecycle_mu_;
    bool closed_ = false;
    std::atomic<bool> removed_{false};
    std::atomic<bool> dir_dirty_{false};  // files created here since the last sync
    std::atomic<uint64_t> last_used_{0};
};

// fsyncs a directory, so the names created in it survive a machine crash.
int sync_directory(const std::string &dir);

}  // namespace roche
