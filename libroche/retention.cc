#include "retention.h"

#include <algorithm>
#include <vector>

#include "error.h"

namespace roche {

BucketFile::Span BucketFile::span() const {
    Span s;
    s.count = count_.load(std::memory_order_acquire);
    s.end = end_.load(std::memory_order_acquire);
    s.first = std::min(windex_.first_kept(), s.count);
    s.first_pos = windex_.first_kept_pos();
    return s;
}

// Record times rise within a bucket (wall-clock times of its appends)
// unless the clock stepped back: a search, not a walk.
uint64_t BucketFile::first_younger(uint64_t from, uint64_t to, uint64_t cutoff_ns) const {
    const IndexEntry *e = windex_.entries();
    const uint8_t *base = raw_.base();
    while (from < to) {
        uint64_t mid = from + (to - from) / 2;
        if (header_time(base + e[mid].pos) < cutoff_ns)
            from = mid + 1;
        else
            to = mid;
    }
    return from;
}

int BucketFile::drop_before(uint64_t index, uint64_t *freed) {
    *freed = 0;
    std::lock_guard<std::mutex> sync_lock(sync_mu_);
    Span s = span();
    index = std::min(index, s.count);
    if (index <= s.first) return ROCHE_OK;
    uint64_t pos = windex_.entries()[index].pos;  // the sentinel when every record goes
    // Durable first: a crash after this point finds the records gone, never
    // a hole where a record it keeps should be.
    windex_.set_first_kept(index, pos);
    int rc = sync_locked(true);
    if (rc != ROCHE_OK) return rc;
    *freed = pos - s.first_pos;
    // Whole blocks only: the block holding the first record kept stays.
    uint64_t from = s.first_pos / 4096 * 4096, to = pos / 4096 * 4096;
    if (to > from && (rc = raw_.punch_hole(from, to)) != ROCHE_OK) return rc;
    return windex_.punch_entries_below(index);
}

namespace {

struct BucketPlan {
    BucketFile *file;
    BucketFile::Span span;
    uint64_t drop_to;  // entry number: the first record kept after the pass
};

// Bytes the bucket keeps when it drops the records older than cutoff_ns
// (and never fewer than the plan already drops).
uint64_t kept_bytes(const BucketPlan &p, uint64_t cutoff_ns, uint64_t *index) {
    *index = std::max(p.drop_to, p.file->first_younger(p.drop_to, p.span.count, cutoff_ns));
    return p.span.end - (*index < p.span.count ? p.file->entry_pos(*index) : p.span.end);
}

}  // namespace

int retain_namespace(Namespace &ns, uint64_t older_than_ns, uint64_t max_bytes, uint64_t *freed) {
    *freed = 0;
    std::vector<BucketPlan> plans;
    for (uint32_t b = 0; b < ns.bucket_count(); b++)
        if (BucketFile *f = ns.bucket(b)) plans.push_back(BucketPlan{f, f->span(), f->span().first});
    if (plans.empty()) return ROCHE_OK;
    // Asked before anything is dropped: a file system that cannot free the
    // space gets a clear error, never records dropped and kept on disk.
    int rc = plans[0].file->check_punch_hole();
    if (rc != ROCHE_OK) return rc;
    for (BucketPlan &p : plans)
        if (older_than_ns) p.drop_to = p.file->first_younger(p.span.first, p.span.count, older_than_ns);
    if (max_bytes) {
        // The size limit drops the oldest records across buckets: the
        // smallest cutoff time whose kept bytes fit, by bisection on time.
        auto total_kept = [&](uint64_t cutoff) {
            uint64_t total = 0, index;
            for (const BucketPlan &p : plans) total += kept_bytes(p, cutoff, &index);
            return total;
        };
        if (total_kept(0) > max_bytes) {
            uint64_t lo = 0, hi = UINT64_MAX;  // kept(lo) > max_bytes >= kept(hi)
            while (hi - lo > 1) {
                uint64_t mid = lo + (hi - lo) / 2;
                if (total_kept(mid) > max_bytes)
                    lo = mid;
                else
                    hi = mid;
            }
            // Records appended at the same instant (one append_many) share
            // a time, which bisection cannot split: all of time lo go at
            // hi, so keep back as many of the newest of them as still fit.
            uint64_t kept = 0;
            std::vector<uint64_t> at_lo(plans.size());
            for (size_t i = 0; i < plans.size(); i++) {
                kept_bytes(plans[i], lo, &at_lo[i]);
                kept += kept_bytes(plans[i], hi, &plans[i].drop_to);
            }
            for (size_t i = 0; i < plans.size(); i++) {
                BucketPlan &p = plans[i];
                while (p.drop_to > at_lo[i]) {
                    uint64_t size = p.file->entry_pos(p.drop_to) - p.file->entry_pos(p.drop_to - 1);
                    if (kept + size > max_bytes) break;
                    kept += size;
                    p.drop_to--;
                }
            }
        }
    }
    for (BucketPlan &p : plans) {
        uint64_t dropped = 0;
        if (p.drop_to > p.span.first && (rc = p.file->drop_before(p.drop_to, &dropped)) != ROCHE_OK) return rc;
        *freed += dropped;
    }
    return ROCHE_OK;
}

}  // namespace roche
