#include "bucket_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "checksum.h"
#include "error.h"
#include "fork_guard.h"

namespace roche {
namespace {

constexpr uint64_t kMiB = 1 << 20;
constexpr uint64_t kMinGrowth = 32 << 10;  // first space reserved ahead: small namespaces stay small
constexpr uint64_t kMaxGrowth = 64 * kMiB;  // bounds zero space left by a crash
constexpr uint64_t kPopulateStep = 4 * kMiB;  // bounds the pause of one prefault

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

}  // namespace

BucketFile::BucketFile(uint32_t index, const BucketOpenOptions &opts, const std::string &path)
    : index_(index), opts_(opts), path_(path), fork_generation_(fork_generation()) {
    raw_.set_owner(opts.owner);
    windex_.set_owner(opts.owner);
}

int BucketFile::check_format(const std::string &path, HeaderFormat format) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? ROCHE_ENOTFOUND : fail_errno(path, errno);
    uint8_t header[kHeaderSize];
    ssize_t got;
    do got = pread(fd, header, sizeof header, 0);
    while (got < 0 && errno == EINTR);
    int err = errno;
    ::close(fd);
    if (got < 0) return fail_errno(path, err);
    if (size_t(got) < sizeof header) return ROCHE_OK;  // no whole header: nothing to tell
    return check_header_format(header, format, path);
}

int BucketFile::open(const std::string &path, uint32_t index, const BucketOpenOptions &opts,
                     std::unique_ptr<BucketFile> *out) {
    std::unique_ptr<BucketFile> bucket(new BucketFile(index, opts, path));
    int rc = opts.writable ? bucket->recover() : bucket->raw_.open(path, O_RDONLY);
    // A reader in the wrong format would find no record it can check.
    if (rc == ROCHE_OK && !opts.writable) rc = check_format(path, opts.format);
    if (rc == ROCHE_ENOTFOUND) return fail(ROCHE_ENOTFOUND, path + ": no such bucket file");
    if (rc != ROCHE_OK) return rc;
    bucket->count_files(opts.writable ? 2 : 1);
    *out = std::move(bucket);
    return ROCHE_OK;
}

// The mappings go only with the object: a value a scan handed out stays
// readable until the scan lets go of the namespace, whoever closed it.
BucketFile::~BucketFile() {
    finish();
    count_files(-held_files_.load());
}

void BucketFile::count_files(int n) {
    held_files_.fetch_add(n, std::memory_order_relaxed);
    if (opts_.open_files) opts_.open_files->fetch_add(n, std::memory_order_relaxed);
}

int BucketFile::finish() {
    if (finished_.exchange(true)) return ROCHE_OK;
    // In a child of fork() the files still belong to the parent: no trim.
    // A file whose recovery failed is left as it was found.
    if (opts_.writable && recovered_ && fork_generation() == fork_generation_) return close_writable();
    return ROCHE_OK;
}

// Trims to the last record. A file whose directory was removed under us is
// written back from the mapping first, so no append that returned is lost;
// the caller still hears about it.
int BucketFile::close_writable() {
    std::lock_guard<std::mutex> lock(append_mu_);
    uint64_t end = end_.load();
    struct stat st;
    if (fstat(raw_.fd(), &st) != 0) return fail_errno(path_, errno);
    if (st.st_nlink == 0) return restore_unlinked(end);
    // A failed trim loses nothing: the next writable open cuts the reserved
    // space as recovery does.
    if (uint64_t(st.st_size) > end && ftruncate(raw_.fd(), off_t(end)) != 0)
        return fail_errno(path_ + ": trimming to the last record", errno);
    windex_.cut(count_.load(), end);
    // In rochefort's format another program may append after this close:
    // the next writable open indexes what follows this end (recover()).
    if (opts_.format == HeaderFormat::Rochefort) windex_.mark_closed(end);
    // Under ROCHE_SYNC_ALWAYS every record is on the disk already: a
    // checkpoint spares the next open after a machine crash its walk.
    if (opts_.sync_always) return windex_.checkpoint(count_.load(), end, inode_);
    return ROCHE_OK;
}

int BucketFile::restore_unlinked(uint64_t end) {
    const std::string why = path_ + ": removed while open";
    if (end == 0) return fail(ROCHE_EIO, why + " (it held no records)");
    std::string dir = path_.substr(0, path_.rfind('/'));
    if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return fail_errno(why + "; restoring", errno);
    int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return fail_errno(why + "; restoring", errno);
    const uint8_t *p = raw_.base();
    uint64_t done = 0;
    int err = 0;
    while (done < end && !err) {
        ssize_t n = ::write(fd, p + done, size_t(std::min<uint64_t>(end - done, 1 << 30)));
        if (n > 0)
            done += uint64_t(n);
        else if (n == 0 || errno != EINTR)
            err = n == 0 ? EIO : errno;
    }
    ::close(fd);
    if (err) return fail_errno(why + "; restoring", err);
    return fail(ROCHE_EIO, why + "; its " + std::to_string(end) +
                               " bytes of records were written back from memory "
                               "(without their companion index, rebuilt at the next open)");
}

// Whether the file has been unlinked (its namespace directory removed behind
// the library's back): appends into it would vanish at close. Checked when
// the file grows, so it costs nothing per append.
int BucketFile::check_linked() {
    struct stat st;
    if (fstat(raw_.fd(), &st) != 0) return fail_errno(path_, errno);
    if (st.st_nlink == 0)
        return fail(ROCHE_EIO, path_ + ": removed while open; appends refused "
                                       "(the records already appended are written back at close)");
    return ROCHE_OK;
}

// Makes room for bytes more at pos and count more entries. Called with
// append_mu_ held.
int BucketFile::grow_for(uint64_t pos, uint64_t bytes, uint64_t count) {
    if (pos + bytes > raw_.size()) {
        int rc = check_linked();
        if (rc == ROCHE_OK) rc = raw_.grow(pos + bytes, kMinGrowth, kMaxGrowth, 4096);
        if (rc != ROCHE_OK) return rc;
    }
    if (count + 1 > windex_.capacity()) return windex_.reserve(count + 1);  // and the sentinel
    return ROCHE_OK;
}

int BucketFile::append(const uint8_t *data, const size_t *lens, size_t count, uint64_t time_ns,
                       uint64_t *offsets) {
    uint64_t total = 0;
    for (size_t i = 0; i < count; i++) total += kHeaderSize + lens[i];
    std::lock_guard<std::mutex> lock(append_mu_);
    uint64_t pos = end_.load(std::memory_order_relaxed), n = count_.load(std::memory_order_relaxed);
    int rc = grow_for(pos, total, n + count);
    if (rc != ROCHE_OK) return rc;
    // Prefault at most a step past the start: a 4 GiB value is not zeroed
    // in full before it is copied (its copy faults pages in as it goes).
    raw_.populate_ahead(std::min(pos + total, pos + kPopulateStep), kPopulateStep, opts_.prefaulter);
    windex_.populate_ahead(n + count, opts_.prefaulter);
    uint8_t *base = raw_.base();
    IndexEntry *entries = windex_.entries();
    uint64_t start = pos;
    for (size_t i = 0; i < count; i++) {
        uint8_t *record = base + pos;
        if (lens[i]) std::memcpy(record + kHeaderSize, data, lens[i]);
        encode_header(record, uint32_t(lens[i]), time_ns, opts_.format);
        uint64_t sum = record_checksum(pos, record, kHeaderSize + lens[i]);
        // Entry n is the sentinel, whose pos (this record's) readers may be
        // loading right now: only its sum is new.
        if (i == 0)
            entries[n].sum = sum;
        else
            entries[n + i] = IndexEntry{pos, sum};
        if (offsets) offsets[i] = make_offset(index_, pos);
        data += lens[i];
        pos += kHeaderSize + lens[i];
    }
    entries[n + count] = IndexEntry{pos, 0};  // the sentinel: where the records end
    // Publish: whoever loads the count (readers here, in other processes,
    // and recovery after a kill) sees every record and entry below it.
    end_.store(pos, std::memory_order_release);
    count_.store(n + count, std::memory_order_release);
    windex_.publish(n + count);
    if (opts_.doorbell) opts_.doorbell->ring();
    if (opts_.sync_always) {
        if ((rc = raw_.sync_range(start, pos)) != ROCHE_OK) return rc;
        return windex_.sync_entries(n, n + count);
    }
    return ROCHE_OK;
}

int BucketFile::sync() {
    if (!opts_.writable) return ROCHE_OK;
    std::lock_guard<std::mutex> sync_lock(sync_mu_);
    return sync_locked(false);
}

// sync_mu_ held. force: write a checkpoint even with nothing new to sync
// (retention's first record kept changed).
int BucketFile::sync_locked(bool force) {
    uint64_t end, count;
    {
        // Only the snapshot is taken under the append lock: appends go on
        // while the pages are written back.
        std::lock_guard<std::mutex> lock(append_mu_);
        end = end_.load();
        count = count_.load();
    }
    // Nothing appended since this handle's last sync: nothing to write (a
    // group commit on an idle store costs no I/O).
    if (synced_once_ && end == synced_end_ && !force) return ROCHE_OK;
    int rc = raw_.sync_range(synced_once_ ? std::min(synced_end_, end) : 0, end);
    if (rc == ROCHE_OK) rc = raw_.datasync();
    if (rc == ROCHE_OK) rc = windex_.checkpoint(count, end, inode_);
    if (rc == ROCHE_OK) {
        synced_end_ = end;
        synced_once_ = true;
    }
    return rc;
}

// At most every 100 ms (a coarse clock read otherwise): whether the files
// were unlinked by other means than roche_delete_namespace().
bool BucketFile::stale_now() {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
    int64_t ms = int64_t(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
    int64_t last = last_link_check_ms_.load(std::memory_order_relaxed);
    if (ms - last < 100 || !last_link_check_ms_.compare_exchange_strong(last, ms)) return false;
    return stale();
}

bool BucketFile::stale() const {
    if (opts_.writable) return false;
    RecordIndex *idx = rindex_.load(std::memory_order_acquire);
    if (idx && idx->deleted()) return true;
    struct stat st;
    return fstat(raw_.fd(), &st) == 0 && st.st_nlink == 0;
}

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
    // Written without sums that can wrap: a damaged entry may hold any
    // position, 2^64 - 1 included (fuzz_companion found one that did).
    if (rec->pos > next || next > end || next - rec->pos < kHeaderSize ||
        next - rec->pos - kHeaderSize > ROCHE_MAX_VALUE)
        return damaged();
    int rc = read_header(rec->pos, rec->header);
    if (rc != ROCHE_OK) return rc;
    rec->length = header_length(rec->header);
    rec->time_ns = header_time(rec->header);
    if (rec->pos + kHeaderSize + rec->length != next) return damaged();
    return ROCHE_OK;
}

int BucketFile::locate(uint64_t pos, RecordRef *rec) {
    RecordIndex *idx;
    uint64_t count, bound;
    if (opts_.writable) {
        idx = &windex_;
        count = count_.load(std::memory_order_acquire);
        bound = end_.load(std::memory_order_acquire);
        // The header's cache miss overlaps the search's.
        if (pos < bound) __builtin_prefetch(raw_.base() + pos);
    } else {
        idx = reader_index(false);
        if (!idx) {
            int rc = locate_unindexed(pos, rec);
            // Past what the headers show: a writer may have indexed the
            // bucket since; look again for its companion.
            if (rc != ROCHE_ENOTFOUND || !reader_index(true)) return rc;
            return locate(pos, rec);
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
    for (;;) {
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
        t->records++;
        t->bytes += kHeaderSize + rec.length;
        if (t->oldest_ns == 0 || rec.time_ns < t->oldest_ns) t->oldest_ns = rec.time_ns;
        t->newest_ns = std::max(t->newest_ns, rec.time_ns);
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
