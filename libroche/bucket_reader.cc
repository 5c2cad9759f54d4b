// Reading a bucket: finding a record by position (locate()), checking and
// copying its value, and walking records in order for scans, followers and
// stat. A writable handle reads its own mapping; a read-only one pread()s,
// and learns what is committed from the companion the writer publishes
// (never from zeros in the file).
#include "bucket_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "checksum.h"
#include "error.h"

namespace roche {
namespace {

// Reads n bytes at pos: ROCHE_OK; ROCHE_ECORRUPT when the file ends first
// (a record the companion lists is not all there: the file was cut behind
// the library's back); ROCHE_EIO for a failed read.
int pread_full(int fd, void *dst, size_t n, uint64_t pos, const std::string &path) {
    auto *out = static_cast<uint8_t *>(dst);
    while (n > 0) {
        ssize_t got = pread(fd, out, n, off_t(pos));
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return fail_errno(path, errno);
        if (got == 0)
            return fail(ROCHE_ECORRUPT, path + ": ends at byte " + std::to_string(pos) +
                                            ", inside a record (the file was cut)");
        out += got;
        pos += uint64_t(got);
        n -= size_t(got);
    }
    return ROCHE_OK;
}

std::string offset_text(uint32_t bucket, uint64_t pos) { return std::to_string(make_offset(bucket, pos)); }

// Whether an entry at pos, followed by one at next, can hold a record that
// ends within end: in order, room for a header, a value no longer than a
// record holds. Written without sums that can wrap: a damaged entry may hold
// any position, 2^64 - 1 included (fuzz_companion found one that did).
bool entry_span_fits(uint64_t pos, uint64_t next, uint64_t end) {
    return pos <= next && next <= end && next - pos >= kHeaderSize && next - pos - kHeaderSize <= ROCHE_MAX_VALUE;
}

}  // namespace

uint64_t BucketFile::file_size() const {
    struct stat st;
    if (fstat(raw_.fd(), &st) != 0) return 0;
    return uint64_t(st.st_size);
}

int BucketFile::read_header(uint64_t pos, uint8_t *dst) const {
    if (opts_.writable) {
        std::memcpy(dst, raw_.base() + pos, kHeaderSize);
        return ROCHE_OK;
    }
    return pread_full(raw_.fd(), dst, kHeaderSize, pos, path_);
}

RecordIndex *BucketFile::reader_index(bool look_again) {
    RecordIndex *idx = rindex_.load(std::memory_order_acquire);
    if (idx || opts_.writable) return idx;
    if (!look_again && rindex_absent_.load(std::memory_order_relaxed)) return nullptr;
    std::lock_guard<std::mutex> lock(reader_mu_);
    if ((idx = rindex_.load()) != nullptr) return idx;
    rindex_absent_.store(true, std::memory_order_relaxed);
    std::string idx_path = path_.substr(0, path_.size() - 4) + ".idx";
    std::unique_ptr<RecordIndex> opened(new RecordIndex());
    opened->set_owner(opts_.owner);
    if (opened->open_read_only(idx_path) != ROCHE_OK) return nullptr;  // none yet: headers only
    rindex_owner_ = std::move(opened);
    rindex_.store(rindex_owner_.get(), std::memory_order_release);
    count_files(1);
    return rindex_owner_.get();
}

// Fills rec from entry i, whose record ends where entry i + 1 begins (the
// sentinel, for the last), and checks that its header agrees: the length it
// claims must be exactly that span, which must lie within the records'
// end (so a damaged companion can never send a read outside the file).
int BucketFile::entry_record(const IndexEntry *e, uint64_t i, uint64_t end, RecordRef *rec) const {
    rec->pos = e[i].pos;
    rec->sum = e[i].sum;
    rec->checked = true;
    uint64_t next = e[i + 1].pos;
    auto damaged = [&] {
        return unless_dropped(rec->pos, fail(ROCHE_ECORRUPT, "record at offset " + offset_text(index_, rec->pos) +
                                                                  " of " + path_ + " does not match its index entry (damaged)"));
    };
    if (!entry_span_fits(rec->pos, next, end)) return damaged();
    int rc = read_header(rec->pos, rec->header);
    if (rc != ROCHE_OK) return rc;
    rec->length = header_length(rec->header);
    rec->time_ns = header_time(rec->header);
    if (rec->pos + kHeaderSize + rec->length != next) return damaged();
    return ROCHE_OK;
}

int BucketFile::locate(uint64_t pos, RecordRef *rec, bool prefetched) {
    RecordIndex *idx;
    uint64_t count, bound;
    if (opts_.writable) {
        idx = &windex_;
        count = count_.load(std::memory_order_acquire);
        bound = end_.load(std::memory_order_acquire);
        // Every line a small record's check reads, and the entry the
        // search probes first, are asked for at once: their cache misses
        // overlap instead of following one another (gets: 3.07 to 3.28
        // M/s against 2.69 to 2.88 with the first two lines only).
        if (!prefetched && pos < bound) prefetch(pos);
    } else {
        idx = reader_index(false);
        if (!idx) {
            int rc = locate_unindexed(pos, rec);
            // Past what the headers show: a writer may have indexed the
            // bucket since; look again for its companion.
            if (rc != ROCHE_ENOTFOUND || !reader_index(true)) return rc;
            return locate(pos, rec, prefetched);
        }
        if (idx->deleted() || stale_now()) return fail(kStale, path_ + ": namespace deleted");
        count = idx->published();
        if (!idx->covers(count + 1)) {
            std::lock_guard<std::mutex> lock(reader_mu_);
            if (idx->cover(count + 1) != ROCHE_OK) return fail(ROCHE_EIO, idx->path() + ": shorter than its count");
        }
        bound = UINT64_MAX;  // pread() finds the file's end
    }
    if (pos < idx->first_kept_pos()) return unless_dropped(pos, ROCHE_ECORRUPT);
    const IndexEntry *e = idx->entries();
    uint64_t end = e[count].pos;
    uint64_t i = idx->lower_bound(pos, count, end);
    if (i < count && e[i].pos == pos) return entry_record(e, i, std::min(end, bound), rec);
    if (pos >= end) {
        // Past the end: perhaps because these files are gone and the
        // namespace was made again (removed by other means than roche_delete_namespace()).
        if (stale()) return fail(kStale, path_ + ": removed");
        return fail(ROCHE_ENOTFOUND, "offset " + offset_text(index_, pos) + " is past the last record of " + path_);
    }
    return fail(ROCHE_ECORRUPT, "no record starts at offset " + offset_text(index_, pos) +
                                    " (inside a record, or damaged)");
}

// A bucket with no companion (rochefort's own format, read-only): the
// header's CRC and the file's size are all there is to check.
int BucketFile::locate_unindexed(uint64_t pos, RecordRef *rec) {
    uint64_t size = file_size();
    if (pos >= size)
        return fail(ROCHE_ENOTFOUND, "offset " + offset_text(index_, pos) + " is past the end of " + path_);
    if (pos + kHeaderSize > size) return fail(ROCHE_ECORRUPT, "no whole header at that offset");
    int rc = read_header(pos, rec->header);
    if (rc != ROCHE_OK) return rc;
    if (header_is_blank(rec->header))
        return fail(ROCHE_ENOTFOUND, "offset " + offset_text(index_, pos) + " is past the last record of " + path_);
    RecordHeader h;
    if (!decode_header(rec->header, &h, opts_.format))
        return fail(ROCHE_ECORRUPT, "no valid record header at offset " + offset_text(index_, pos) +
                                        " (damaged, or inside a record)");
    if (h.length > size - pos - kHeaderSize)
        return fail(ROCHE_ECORRUPT, "record at offset " + offset_text(index_, pos) + " runs past the end of " + path_);
    rec->pos = pos;
    rec->length = h.length;
    rec->time_ns = h.time_ns;
    rec->checked = false;
    return ROCHE_OK;
}

int BucketFile::checksum_failed(uint64_t pos) const {
    return unless_dropped(pos, fail(ROCHE_ECORRUPT, "record at offset " + offset_text(index_, pos) + " of " +
                                                         path_ + " fails its checksum (damaged, or a page the disk never got)"));
}

int BucketFile::unless_dropped(uint64_t pos, int rc) const {
    uint64_t first = first_kept();
    if (pos >= first) return rc;
    return fail(ROCHE_EDROPPED, "offset " + offset_text(index_, pos) + " of " + path_ +
                                    " was dropped by retention (the first record kept is at " +
                                    offset_text(index_, first) + ")");
}

uint64_t BucketFile::first_kept() const {
    if (opts_.writable) return windex_.first_kept_pos();
    RecordIndex *idx = rindex_.load(std::memory_order_acquire);
    return idx ? idx->first_kept_pos() : 0;
}

int BucketFile::copy_value(const RecordRef &rec, void *dst) const {
    if (opts_.writable) {
        const uint8_t *value = nullptr;
        int rc = checked_value(rec, &value);
        if (rc == ROCHE_OK && rec.length) std::memcpy(dst, value, rec.length);
        return rc;
    }
    if (rec.length) {
        int rc = pread_full(raw_.fd(), dst, rec.length, rec.pos + kHeaderSize, path_);
        if (rc != ROCHE_OK) return rc;
    }
    if (rec.checked &&
        record_checksum(rec.pos, rec.header, static_cast<const uint8_t *>(dst), rec.length) != rec.sum)
        return checksum_failed(rec.pos);
    return ROCHE_OK;
}

int BucketFile::checked_value(const RecordRef &rec, const uint8_t **value) const {
    const uint8_t *p = raw_.base() + rec.pos;
    if (record_checksum(rec.pos, p, kHeaderSize + rec.length) != rec.sum) return checksum_failed(rec.pos);
    *value = p + kHeaderSize;
    return ROCHE_OK;
}

void BucketFile::prefetch(uint64_t pos) const {
    if (!opts_.writable) return;
    uint64_t end = end_.load(std::memory_order_relaxed);
    if (pos >= end) return;
    // The header and the start of the value (a small record whole), which
    // the checksum reads, and the index entry the search will probe.
    const uint8_t *p = raw_.base() + pos;
    __builtin_prefetch(p);
    __builtin_prefetch(p + 64);
    __builtin_prefetch(p + 127);
    windex_.prefetch(pos, count_.load(std::memory_order_relaxed), end);
}

BucketExtent BucketFile::extent() {
    BucketExtent ext;
    if (opts_.writable) {
        ext.indexed = true;
        ext.count = count_.load(std::memory_order_acquire);
        ext.end = std::min(windex_.entries()[ext.count].pos, end_.load(std::memory_order_acquire));
        return ext;
    }
    if (RecordIndex *idx = reader_index(true)) {
        if (idx->deleted()) {
            ext.stale = true;
            return ext;
        }
        uint64_t count = idx->published();
        std::lock_guard<std::mutex> lock(reader_mu_);
        if (idx->cover(count + 1) == ROCHE_OK) {
            ext.indexed = true;
            ext.count = count;
            ext.end = idx->entries()[count].pos;
            return ext;
        }
    }
    ext.end = file_size();
    return ext;
}

uint64_t BucketFile::seek(const BucketExtent &ext, uint64_t pos) {
    if (ext.indexed) {
        // Scans start at the first record kept; the entries before it may
        // be holes (zeros), which keep the positions in order for the search.
        RecordIndex *idx = opts_.writable ? &windex_ : rindex_.load();
        return idx->lower_bound(std::max(pos, idx->first_kept_pos()), ext.count, ext.end);
    }
    // Without a companion a position can only be reached by walking the
    // headers from the start.
    uint64_t at = 0;
    RecordRef rec;
    while (at < pos && at < ext.end && locate_unindexed(at, &rec) == ROCHE_OK) at += kHeaderSize + rec.length;
    return at;
}

int BucketFile::next(const BucketExtent &ext, uint64_t *cursor, RecordRef *rec, const uint8_t **value,
                     std::vector<uint8_t> &scratch) {
    if (ext.indexed) {
        RecordIndex *idx = opts_.writable ? &windex_ : rindex_.load();
        // Records retention dropped while the scan went on are passed over.
        uint64_t i = std::max(*cursor, idx->first_kept());
        if (i >= ext.count) return ROCHE_DONE;
        *cursor = i + 1;
        int rc = entry_record(idx->entries(), i, ext.end, rec);
        if (rc != ROCHE_OK) return rc;
    } else {
        if (*cursor >= ext.end || locate_unindexed(*cursor, rec) != ROCHE_OK) return ROCHE_DONE;
        *cursor = rec->pos + kHeaderSize + rec->length;
    }
    if (opts_.writable) return checked_value(*rec, value);
    if (scratch.size() < rec->length) scratch.resize(rec->length);
    int rc = copy_value(*rec, scratch.data());
    if (rc != ROCHE_OK) return rc;
    static const uint8_t kEmpty = 0;
    *value = rec->length ? scratch.data() : &kEmpty;
    return ROCHE_OK;
}

// What a scan costs per record is memory: a plain loop waits on each
// record's first line in turn (measured on 8 M records of 100 B: 56 M/s as
// a bare loop, 28 M/s through next()). The loop below keeps no state but
// the cursor and asks for the line of the record kRunPrefetch ahead, whose
// position the companion already gives: 105 to 112 M/s bare, with the
// checks of entry_record() and the value's checksum.
size_t BucketFile::next_run(const BucketExtent &ext, uint64_t *cursor, size_t max, uint64_t *offsets,
                            const void **data, size_t *lens, uint64_t *times) const {
    constexpr uint64_t kRunPrefetch = 8;
    if (!opts_.writable || !ext.indexed) return 0;
    uint64_t i = *cursor;
    // Records retention dropped are next()'s to pass over.
    if (i < windex_.first_kept() || i >= ext.count) return 0;
    uint64_t stop = ext.count - i > max ? i + max : ext.count;
    const IndexEntry *e = windex_.entries();
    const uint8_t *base = raw_.base();
    size_t n = 0;
    for (; i < stop; i++, n++) {
        if (i + kRunPrefetch < ext.count) {
            uint64_t ahead = e[i + kRunPrefetch].pos;
            if (ahead < ext.end) __builtin_prefetch(base + ahead);
        }
        uint64_t pos = e[i].pos, next = e[i + 1].pos;
        // entry_record()'s checks.
        if (!entry_span_fits(pos, next, ext.end)) break;
        const uint8_t *header = base + pos;
        uint64_t length = next - pos - kHeaderSize;
        if (header_length(header) != length) break;
        if (record_checksum(pos, header, kHeaderSize + length) != e[i].sum) break;
        if (offsets) offsets[n] = make_offset(index_, pos);
        if (data) data[n] = header + kHeaderSize;
        if (lens) lens[n] = size_t(length);
        if (times) times[n] = header_time(header);
    }
    *cursor = i;
    return n;
}

uint64_t BucketFile::cursor_position(const BucketExtent &ext, uint64_t cursor) const {
    if (!ext.indexed) return cursor;
    if (cursor >= ext.count) return ext.end;
    return (opts_.writable ? &windex_ : rindex_.load())->entries()[cursor].pos;
}

void BucketFile::tally(BucketTally *t) {
    BucketExtent ext = extent();
    std::vector<uint8_t> scratch;
    uint64_t cursor = seek(ext, 0);
    RecordRef rec;
    const uint8_t *value;
    if (ext.indexed) {
        RecordIndex *idx = opts_.writable ? &windex_ : rindex_.load();
        t->dropped_records += idx->first_kept();
        t->dropped_bytes += idx->first_kept_pos();
    }
    auto count = [t](uint64_t length, uint64_t time_ns) {
        t->records++;
        t->bytes += kHeaderSize + length;
        if (t->oldest_ns == 0 || time_ns < t->oldest_ns) t->oldest_ns = time_ns;
        t->newest_ns = std::max(t->newest_ns, time_ns);
    };
    for (;;) {
        size_t lens[256];
        uint64_t times[256];
        size_t got = next_run(ext, &cursor, 256, nullptr, nullptr, lens, times);
        for (size_t i = 0; i < got; i++) count(lens[i], times[i]);
        if (got) continue;
        uint64_t before = cursor;
        int rc = next(ext, &cursor, &rec, &value, scratch);
        if (rc == ROCHE_DONE || cursor == before) break;
        if (rc != ROCHE_OK) {
            t->damaged_ranges++;
            if (ext.indexed) {
                const IndexEntry *e = (opts_.writable ? &windex_ : rindex_.load())->entries();
                uint64_t i = cursor - 1;  // the record next() read
                t->damaged_bytes += e[i + 1].pos > e[i].pos ? e[i + 1].pos - e[i].pos : 0;
            } else {
                t->damaged_bytes += kHeaderSize + rec.length;
            }
            continue;
        }
        count(rec.length, rec.time_ns);
    }
    // Without a companion the walk ends at the first header that fails:
    // what follows it, unless it is blank reserved space, is damage.
    uint8_t h[kHeaderSize];
    if (!ext.indexed && cursor < ext.end &&
        (cursor + kHeaderSize > ext.end || (read_header(cursor, h) == ROCHE_OK && !header_is_blank(h)))) {
        t->damaged_ranges++;
        t->damaged_bytes += ext.end - cursor;
    }
}

}  // namespace roche
