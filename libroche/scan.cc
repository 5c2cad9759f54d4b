#include "scan.h"

#include <mutex>
#include <shared_mutex>

#include "error.h"

namespace roche {

Scan::Scan(std::shared_ptr<Namespace> ns, uint64_t from)
    : ns_(std::move(ns)),
      bucket_(offset_bucket(from)),
      pos_(offset_position(from)),
      seek_pending_(offset_position(from) != 0) {
    if (ns_) ns_->discover_buckets();
}

// Resuming from an offset: start there when a record starts there, else at
// the first record after it (walking the bucket from its start).
void Scan::seek_within(BucketFile *bucket) {
    seek_pending_ = false;
    RecordHeader h;
    if (bucket->locate(pos_, &h) == ROCHE_OK) return;
    uint64_t at = 0, skipped, target = pos_;
    for (pos_ = 0; bucket->next_record(pos_, &at, &h, &skipped, scratch_) && at < target;)
        pos_ = at + kHeaderSize + h.length;
    if (pos_ < target) pos_ = target;  // nothing after target: the bucket is done
}

int Scan::next(uint64_t *offset, const void **data, size_t *len, uint64_t *time_ns) {
    if (!ns_) return ROCHE_DONE;
    std::shared_lock<std::shared_mutex> lock(ns_->lifecycle());
    if (ns_->closed()) return fail(ROCHE_ENOTFOUND, ns_->dir() + ": namespace closed during scan");
    for (; bucket_ < ns_->bucket_count(); bucket_++, pos_ = 0, seek_pending_ = false) {
        BucketFile *bucket = ns_->bucket(bucket_);
        if (!bucket) continue;
        if (seek_pending_) seek_within(bucket);
        uint64_t at, skipped;
        RecordHeader h;
        if (!bucket->next_record(pos_, &at, &h, &skipped, scratch_)) continue;
        const uint8_t *value = bucket->view(at + kHeaderSize, h.length, scratch_);
        if (!value) return ROCHE_EIO;
        pos_ = at + kHeaderSize + h.length;
        if (offset) *offset = make_offset(bucket_, at);
        if (data) *data = value;
        if (len) *len = h.length;
        if (time_ns) *time_ns = h.time_ns;
        return ROCHE_OK;
    }
    return ROCHE_DONE;
}

}  // namespace roche
