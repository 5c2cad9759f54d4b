// A pull-style scan over one namespace, in offset order.
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "namespace.h"

namespace roche {

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
    // One step, with the namespace's lifecycle lock held. Read-only buckets
    // copy the value to the end of scratch_ (so a batch keeps every value
    // it returns): *value_at says where, and *value is NULL until the batch
    // ends and scratch_ can no longer move.
    int step(RecordRef *rec, uint64_t *offset, const uint8_t **value, size_t *value_at);

    std::shared_ptr<Namespace> ns_;  // keeps a closed namespace's object alive
    uint32_t bucket_;
    uint64_t from_pos_;     // where to start in the first bucket
    bool entered_ = false;  // extent_ and cursor_ describe bucket_
    BucketExtent extent_;   // what the scan covers of bucket_, fixed on entry
    uint64_t cursor_ = 0;
    BucketFile *current_ = nullptr;  // bucket_'s file, once entered
    std::vector<uint8_t> scratch_;  // read-only values of the current call
    std::vector<uint8_t> one_;      // a read-only bucket's value, before it joins scratch_
    std::vector<std::pair<size_t, size_t>> pending_;  // (item, where in scratch_) of read-only values
};

}  // namespace roche
