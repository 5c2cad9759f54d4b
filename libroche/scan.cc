#include "scan.h"

#include <mutex>
#include <shared_mutex>

#include "error.h"

namespace roche {

Scan::Scan(std::shared_ptr<Namespace> ns, uint64_t from)
    : ns_(std::move(ns)), bucket_(offset_bucket(from)), from_pos_(offset_position(from)) {
    if (ns_) ns_->discover_buckets();
}

int Scan::next(uint64_t *offset, const void **data, size_t *len, uint64_t *time_ns) {
    if (!ns_) return ROCHE_DONE;
    std::shared_lock<std::shared_mutex> lock(ns_->lifecycle());
    if (ns_->closed()) return fail(ROCHE_ENOTFOUND, ns_->dir() + ": namespace closed during scan");
    for (; bucket_ < ns_->bucket_count(); bucket_++, entered_ = false, from_pos_ = 0) {
        BucketFile *bucket = ns_->bucket(bucket_);
        if (!bucket) continue;
        if (!entered_) {
            // The records that exist now are the ones this scan covers: a
            // scan ends even while something appends to the bucket it walks.
            extent_ = bucket->extent();
            cursor_ = bucket->seek(extent_, from_pos_);
            entered_ = true;
        }
        RecordRef rec;
        const uint8_t *value = nullptr;
        int rc = bucket->next(extent_, &cursor_, &rec, &value, scratch_);
        if (rc == ROCHE_DONE) continue;
        if (offset) *offset = make_offset(bucket_, rec.pos);
        if (rc != ROCHE_OK) {
            if (data) *data = nullptr;
            if (len) *len = 0;
            if (time_ns) *time_ns = 0;
            return rc;
        }
        if (data) *data = value;
        if (len) *len = rec.length;
        if (time_ns) *time_ns = rec.time_ns;
        return ROCHE_OK;
    }
    return ROCHE_DONE;
}

}  // namespace roche
