// A namespace: one directory holding the bucket files append.<n>.raw.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "bucket_file.h"
#include "roche.h"

namespace roche {

struct NamespaceOptions {
    bool writable = false;
    bool create = false;  // create the directory and bucket files if missing
    bool sync_always = false;
    uint32_t buckets = ROCHE_DEFAULT_BUCKETS;
};

class Namespace : public std::enable_shared_from_this<Namespace> {
public:
    // Opens dir. Writable: every bucket file is opened and recovered, and the
    // bucket count is max(opts.buckets, bucket files present). ROCHE_ENOTFOUND
    // when the directory is missing and may not be created.
    static int open(const std::string &dir, const std::string &name, const NamespaceOptions &opts,
                    std::shared_ptr<Namespace> *out);
    ~Namespace();

    // The bucket with that number, or NULL when it has no file. A read-only
    // namespace looks again for files a writer created since.
    BucketFile *bucket(uint32_t index);

    // Where an append goes: crc32(id) % buckets, or the calling thread's own
    // bucket when id is NULL.
    uint32_t bucket_for(const char *id) const;

    // Read-only: opens bucket files a writer in another process has created
    // since, so a new scan sees every bucket. No-op when writable.
    void discover_buckets();
    uint32_t bucket_count() const { return bucket_count_.load(std::memory_order_relaxed); }

    int sync();
    uint64_t recovered_bytes();
    // Read-only: the writer deleted this namespace (its files are gone).
    bool stale() const;

    // Closing releases the files; scans that still hold the namespace see
    // closed() and stop. Callers hold lifecycle() exclusively to close and
    // shared to read.
    int close();
    bool closed() const { return closed_; }
    std::shared_mutex &lifecycle() { return lifecycle_mu_; }
    const std::string &dir() const { return dir_; }
    const std::string &name() const { return name_; }

private:
    Namespace(const std::string &dir, const std::string &name, const NamespaceOptions &opts);
    int open_bucket(uint32_t index, bool create);
    int open_existing_buckets();

    std::string dir_;
    std::string name_;
    NamespaceOptions opts_;
    std::unique_ptr<std::atomic<BucketFile *>[]> buckets_;
    std::atomic<uint32_t> bucket_count_{0};  // highest bucket number + 1
    std::mutex open_mu_;                     // serializes opening bucket files
    std::shared_mutex lifecycle_mu_;
    bool closed_ = false;
    std::atomic<bool> dir_dirty_{false};  // files created here since the last sync
};

// fsyncs a directory, so the names created in it survive a machine crash.
int sync_directory(const std::string &dir);

}  // namespace roche
