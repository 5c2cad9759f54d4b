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

}  // namespace roche
