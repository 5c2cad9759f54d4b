#include "scan.h"

#include <mutex>
#include <shared_mutex>

#include "error.h"

namespace roche {

Scan::Scan(std::shared_ptr<Namespace> ns, uint64_t from)
    : ns_(std::move(ns)), bucket_(offset_bucket(from)), from_pos_(offset_position(from)) {
    if (ns_) ns_->discover_buckets();
}

int Scan::step(RecordRef *rec, uint64_t *offset, const uint8_t **value) {
    for (; bucket_ < ns_->bucket_count(); bucket_++, entered_ = false, from_pos_ = 0) {
        // The bucket is looked up once when the scan enters it, not per record.
        BucketFile *bucket = entered_ ? current_ : (current_ = ns_->bucket(bucket_));
        if (!bucket) continue;
        if (!entered_) {
            // The records that exist now are the ones this scan covers: a
            // scan ends even while something appends to the bucket it walks.
            extent_ = bucket->extent();
            if (extent_.stale) return fail(ROCHE_ENOTFOUND, ns_->dir() + ": namespace deleted during the scan");
            cursor_ = bucket->seek(extent_, from_pos_);
            entered_ = true;
        }
        *value = nullptr;
        int rc;
        // Records retention drops while the scan runs are passed over:
        // a scan covers the records kept.
        do rc = bucket->next(extent_, &cursor_, rec, value, batch_.one());
        while (rc == ROCHE_EDROPPED);
        if (rc == ROCHE_DONE) continue;
        *offset = make_offset(bucket_, rec->pos);
        return rc;
    }
    return ROCHE_DONE;
}

int Scan::next(uint64_t *offset, const void **data, size_t *len, uint64_t *time_ns) {
    return next_of_batch(
        [this](size_t max, uint64_t *o, const void **d, size_t *l, uint64_t *t, size_t *c) {
            return next_batch(max, o, d, l, t, c);
        },
        offset, data, len, time_ns);
}

int Scan::next_batch(size_t max, uint64_t *offsets, const void **data, size_t *lens, uint64_t *times,
                     size_t *count) {
    *count = 0;
    if (!ns_) return ROCHE_DONE;
    if (max == 0) return ROCHE_OK;
    std::shared_lock<std::shared_mutex> lock(ns_->lifecycle());
    if (ns_->closed()) return fail(ROCHE_ENOTFOUND, ns_->dir() + ": namespace closed during scan");
    batch_.clear();
    size_t n = 0;
    int rc = ROCHE_OK;
    while (n < max) {
        // Inside a bucket, whole runs of records come at once; the step
        // below enters buckets, ends them, and deals with a record that
        // fails or was dropped.
        if (entered_ && current_) {
            size_t got = current_->next_run(extent_, &cursor_, max - n, offsets ? offsets + n : nullptr,
                                            data ? data + n : nullptr, lens ? lens + n : nullptr,
                                            times ? times + n : nullptr);
            n += got;
            if (got) continue;
        }
        // A failing record ends a batch that has records: it is returned
        // alone, as the result of the next call.
        Position before{bucket_, from_pos_, entered_, extent_, cursor_, current_};
        RecordRef rec;
        uint64_t offset = 0;
        const uint8_t *value = nullptr;
        rc = step(&rec, &offset, &value);
        if (rc == ROCHE_DONE) break;
        if (rc != ROCHE_OK) {
            if (n > 0) {
                bucket_ = before.bucket, from_pos_ = before.from_pos, entered_ = before.entered;
                extent_ = before.extent, cursor_ = before.cursor, current_ = before.current;
                rc = ROCHE_OK;
                break;
            }
            if (offsets) offsets[0] = offset;
            if (data) data[0] = nullptr;
            if (lens) lens[0] = 0;
            if (times) times[0] = 0;
            *count = 1;
            return rc;
        }
        if (offsets) offsets[n] = offset;
        const void *kept = batch_.keep(n, value, rec.length);
        if (data) data[n] = kept;
        if (lens) lens[n] = rec.length;
        if (times) times[n] = rec.time_ns;
        n++;
    }
    batch_.place(data);
    *count = n;
    return n ? ROCHE_OK : rc;
}

}  // namespace roche
