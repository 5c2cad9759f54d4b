#include "follow.h"

#include <chrono>
#include <shared_mutex>

#include "error.h"
#include "store.h"

namespace roche {

Follow::Follow(Store *store, std::shared_ptr<Namespace> ns, const uint64_t *positions, size_t count,
               bool from_end)
    : store_(store), ns_(std::move(ns)) {
    ns_->discover_buckets();
    if (from_end) {
        // Buckets that exist now start at their end; buckets made later
        // start at their first record (all of it is new).
        std::shared_lock<std::shared_mutex> lock(ns_->lifecycle());
        for (uint32_t b = 0; b < ns_->bucket_count(); b++)
            if (BucketFile *f = ns_->bucket(b)) lane(b).pos = f->extent().end;
    }
    for (size_t i = 0; i < count; i++) {
        Lane &l = lane(offset_bucket(positions[i]));
        l.pos = offset_position(positions[i]);
        l.owed = true;
    }
}

Follow::Lane &Follow::lane(uint32_t bucket) {
    if (bucket >= lanes_.size()) lanes_.resize(bucket + 1);
    return lanes_[bucket];
}

std::vector<uint64_t> Follow::position() const {
    std::vector<uint64_t> offsets(std::max<size_t>(lanes_.size(), ns_->bucket_count()));
    for (uint32_t b = 0; b < offsets.size(); b++)
        offsets[b] = make_offset(b, b < lanes_.size() ? lanes_[b].pos : 0);
    return offsets;
}

int Follow::take(uint32_t bucket, size_t max, uint64_t *offsets, const void **data, size_t *lens,
                 uint64_t *times, size_t *n) {
    BucketFile *file = ns_->bucket(bucket);
    if (!file) return ROCHE_OK;
    BucketExtent ext = file->extent();
    if (ext.stale) return fail(ROCHE_ENOTFOUND, ns_->dir() + ": namespace deleted");
    Lane &l = lane(bucket);
    uint64_t first = file->first_kept();
    if (l.pos < first) {
        uint64_t lost = l.pos;
        bool news = l.owed;
        l.pos = first;
        l.has_cursor = false;
        if (news) {
            if (*n > 0) return ROCHE_DONE;  // returned alone, by the next call
            l.owed = false;
            if (offsets) offsets[0] = make_offset(bucket, lost);
            if (data) data[0] = nullptr;
            if (lens) lens[0] = 0;
            if (times) times[0] = 0;
            *n = 1;
            return fail(ROCHE_EDROPPED, "records of bucket " + std::to_string(bucket) + " of " + ns_->dir() +
                                            " from position " + std::to_string(lost) + " to " +
                                            std::to_string(first) + " were dropped by retention");
        }
    }
    // The cursor found last time still stands for pos unless the bucket was
    // cut or rebuilt since; a search is one probe or so otherwise.
    if (!l.has_cursor || file->cursor_position(ext, l.cursor) != l.pos ||
        (ext.indexed && l.cursor > ext.count))
        l.cursor = file->seek(ext, l.pos);
    l.has_cursor = true;
    while (*n < max) {
        // Runs of whole records at once; a record that fails or was
        // dropped, and the end of the bucket, come through next() below.
        size_t got = file->next_run(ext, &l.cursor, max - *n, offsets ? offsets + *n : nullptr,
                                    data ? data + *n : nullptr, lens ? lens + *n : nullptr,
                                    times ? times + *n : nullptr);
        if (got) {
            l.pos = file->cursor_position(ext, l.cursor);
            l.owed = true;
            *n += got;
            continue;
        }
        uint64_t cursor = l.cursor;
        RecordRef rec;
        const uint8_t *value = nullptr;
        int rc = file->next(ext, &cursor, &rec, &value, batch_.one());
        if (rc == ROCHE_DONE) return ROCHE_OK;
        if (rc != ROCHE_OK) {
            if (*n > 0) return ROCHE_DONE;  // the damaged record is returned alone, next call
            l.cursor = cursor;
            l.pos = file->cursor_position(ext, cursor);
            if (offsets) offsets[0] = make_offset(bucket, rec.pos);
            if (data) data[0] = nullptr;
            if (lens) lens[0] = 0;
            if (times) times[0] = 0;
            *n = 1;
            return rc;
        }
        if (rec.pos != l.pos && l.owed && l.pos < file->first_kept()) {
            // Retention dropped records between the check above and this
            // read: report it (the next pass through the check does).
            l.has_cursor = false;
            if (*n > 0) return ROCHE_DONE;
            return take(bucket, max, offsets, data, lens, times, n);
        }
        l.cursor = cursor;
        l.pos = rec.pos + kHeaderSize + rec.length;
        l.owed = true;
        if (offsets) offsets[*n] = make_offset(bucket, rec.pos);
        const void *kept = batch_.keep(*n, value, rec.length);
        if (data) data[*n] = kept;
        if (lens) lens[*n] = rec.length;
        if (times) times[*n] = rec.time_ns;
        ++*n;
    }
    return ROCHE_OK;
}

int Follow::collect(size_t max, uint64_t *offsets, const void **data, size_t *lens, uint64_t *times,
                    size_t *count) {
    std::shared_lock<std::shared_mutex> lock(ns_->lifecycle());
    if (ns_->closed()) return ROCHE_ENOTFOUND;  // reattach, then try again
    batch_.clear();
    size_t n = 0;
    uint32_t buckets = ns_->bucket_count();
    int rc = ROCHE_OK;
    for (uint32_t i = 0; i < buckets && n < max && rc == ROCHE_OK; i++) {
        uint32_t b = (next_bucket_ + i) % buckets;
        rc = take(b, max, offsets, data, lens, times, &n);
        if (rc != ROCHE_OK && rc != ROCHE_DONE) {
            next_bucket_ = b;  // this bucket goes on first next time
            *count = n;
            return rc;
        }
        if (n == max || rc == ROCHE_DONE) next_bucket_ = rc == ROCHE_DONE ? b : (b + 1) % buckets;
    }
    batch_.place(data);
    *count = n;
    return n ? ROCHE_OK : ROCHE_DONE;
}

int Follow::reattach() {
    if (ns_->removed()) return fail(ROCHE_ENOTFOUND, ns_->dir() + ": namespace deleted");
    std::shared_ptr<Namespace> fresh;
    int rc = store_->pin_namespace(ns_->name(), &fresh);
    if (rc != ROCHE_OK) return rc;
    std::lock_guard<std::mutex> lock(wake_mu_);
    ns_ = std::move(fresh);
    for (Lane &l : lanes_) l.has_cursor = false;
    return ROCHE_OK;
}

int Follow::next_batch(int timeout_ms, size_t max, uint64_t *offsets, const void **data, size_t *lens,
                       uint64_t *times, size_t *count) {
    *count = 0;
    if (max == 0) return ROCHE_OK;
    using Clock = std::chrono::steady_clock;
    Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(timeout_ms > 0 ? timeout_ms : 0);
    bool looked_for_buckets = false;
    for (int reattached = 0;;) {
        if (woken_.exchange(false)) return fail(ROCHE_ECANCELED, "the follower was woken (roche_follow_wake)");
        int rc = collect(max, offsets, data, lens, times, count);
        if (rc == ROCHE_ENOTFOUND && *count == 0 && ns_->closed()) {
            if (reattached++ > 2 || (rc = reattach()) != ROCHE_OK) return rc;
            continue;
        }
        if (rc != ROCHE_DONE) return rc;
        // Nothing new. A reader may not know a bucket the writer made since.
        if (!looked_for_buckets) {
            looked_for_buckets = true;
            ns_->discover_buckets();
            if (ns_->bucket_count() > lanes_.size()) continue;
        }
        int remaining = -1;
        if (timeout_ms >= 0) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
            if (left <= 0) return fail(ROCHE_ETIMEDOUT, "no new record within " + std::to_string(timeout_ms) + " ms");
            remaining = int(left);
        }
        Doorbell *bell;
        if ((rc = ns_->doorbell(&bell)) != ROCHE_OK) return rc;
        uint32_t seen = bell->arm();
        // Checked again after arming: a record published before the writer
        // looked at the flag is seen here, or the writer rings.
        if (woken_.load()) continue;
        rc = collect(max, offsets, data, lens, times, count);
        if (rc != ROCHE_DONE) {
            if (rc == ROCHE_ENOTFOUND && *count == 0 && ns_->closed()) continue;
            return rc;
        }
        bell->wait(seen, remaining);
        looked_for_buckets = false;
    }
}

void Follow::wake() {
    woken_.store(true);
    std::lock_guard<std::mutex> lock(wake_mu_);
    Doorbell *bell;
    if (ns_->doorbell(&bell) == ROCHE_OK) bell->wake_all();
}

}  // namespace roche
