// A follower: reads every bucket of a namespace as it grows, and sleeps on
// the namespace's doorbell (doorbell.h) when it has read everything.
//
// Its position is one byte position per bucket (a lane): where it goes on
// in that bucket. Each call takes records bucket by bucket, round robin
// from where the last call stopped, up to each bucket's published count at
// that moment, so one busy bucket cannot starve the others.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "namespace.h"
#include "scan.h"

namespace roche {

class Store;

class Follow {
public:
    // ns: the namespace, already open in store; positions: one offset per
    // bucket (later ones win); from_end: other buckets start at their end.
    Follow(Store *store, std::shared_ptr<Namespace> ns, const uint64_t *positions, size_t count,
           bool from_end);

    int next_batch(int timeout_ms, size_t max, uint64_t *offsets, const void **data, size_t *lens,
                   uint64_t *times, size_t *count);
    void wake();
    // The offset each bucket goes on from (bucket_count() of them).
    std::vector<uint64_t> position() const;
    const std::string &namespace_name() const { return ns_->name(); }
    Store *store() const { return store_; }

private:
    struct Lane {
        uint64_t pos = 0;      // where the next record of this bucket starts
        bool owed = false;     // pos was asked for or reached: dropping it is news
        bool has_cursor = false;
        uint64_t cursor = 0;   // the bucket's entry (or position) at pos, once sought
    };

    // Takes what is there now, without waiting. ROCHE_DONE when nothing.
    int collect(size_t max, uint64_t *offsets, const void **data, size_t *lens, uint64_t *times,
                size_t *count);
    // Reads one bucket into the batch from *n on.
    int take(uint32_t bucket, size_t max, uint64_t *offsets, const void **data, size_t *lens,
             uint64_t *times, size_t *n);
    // The namespace was closed (by the bound on open files, or
    // roche_close_namespace()): open it again. ROCHE_ENOTFOUND if deleted.
    int reattach();
    Lane &lane(uint32_t bucket);

    Store *store_;
    std::shared_ptr<Namespace> ns_;
    std::vector<Lane> lanes_;
    uint32_t next_bucket_ = 0;  // where the next call starts its round
    std::atomic<bool> woken_{false};
    std::mutex wake_mu_;  // holds ns_ (and its doorbell) still while wake() rings
    ValueBatch batch_;
};

}  // namespace roche
