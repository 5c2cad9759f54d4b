// A pull-style scan over one namespace, in offset order.
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "namespace.h"

namespace roche {

// The values of one batch (a scan's or a follower's). Writable buckets
// hand out pointers into their mapping; read-only buckets read each value
// into one(), which keep() copies into the batch's buffer. The buffer may
// still move while the batch grows, so those items get their pointers
// from place(), once the batch is complete.
class ValueBatch {
public:
    void clear() {
        buffer_.clear();
        pending_.clear();
    }
    std::vector<uint8_t> &one() { return one_; }
    // Item n's value: value itself when it lies in a mapping; NULL for a
    // copy, which place() points at.
    const void *keep(size_t n, const uint8_t *value, size_t len) {
        static const uint8_t kEmpty = 0;
        if (value && !one_.empty() && value == one_.data()) {
            pending_.emplace_back(n, buffer_.size());
            buffer_.insert(buffer_.end(), one_.begin(), one_.begin() + len);
            return nullptr;
        }
        return value ? value : &kEmpty;
    }
    void place(const void **data) const {
        if (data)
            for (const auto &p : pending_) data[p.first] = buffer_.data() + p.second;
    }

private:
    std::vector<uint8_t> buffer_;
    std::vector<uint8_t> one_;
    std::vector<std::pair<size_t, size_t>> pending_;  // (item, where in buffer_)
};

// One record through a batch call (a scan's or a follower's): batch is
// called as batch(max, offsets, data, lens, times, count).
template <typename Batch>
int next_of_batch(Batch &&batch, uint64_t *offset, const void **data, size_t *len, uint64_t *time_ns) {
    const void *value = nullptr;
    size_t count = 0, length = 0;
    uint64_t off = 0, time = 0;
    int rc = batch(size_t(1), &off, &value, &length, &time, &count);
    if (count) {
        if (offset) *offset = off;
        if (data) *data = value;
        if (len) *len = length;
        if (time_ns) *time_ns = time;
    }
    return rc;
}

class Scan {
public:
    // ns may be NULL (a namespace that does not exist scans as empty).
    Scan(std::shared_ptr<Namespace> ns, uint64_t from);
    int next(uint64_t *offset, const void **data, size_t *len, uint64_t *time_ns);
    // Up to max records in one call (roche_scan_next_batch()): the
    // namespace's lock is taken once, not once per record.
    int next_batch(size_t max, uint64_t *offsets, const void **data, size_t *lens, uint64_t *times,
                   size_t *count);

private:
    struct Position {
        uint32_t bucket;
        uint64_t from_pos;
        bool entered;
        BucketExtent extent;
        uint64_t cursor;
        BucketFile *current;
    };
    // One step, with the namespace's lifecycle lock held.
    int step(RecordRef *rec, uint64_t *offset, const uint8_t **value);

    std::shared_ptr<Namespace> ns_;  // keeps a closed namespace's object alive
    uint32_t bucket_;
    uint64_t from_pos_;     // where to start in the first bucket
    bool entered_ = false;  // extent_ and cursor_ describe bucket_
    BucketExtent extent_;   // what the scan covers of bucket_, fixed on entry
    uint64_t cursor_ = 0;
    BucketFile *current_ = nullptr;  // bucket_'s file, once entered
    ValueBatch batch_;
};

}  // namespace roche
