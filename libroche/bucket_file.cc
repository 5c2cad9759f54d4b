#include "bucket_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "error.h"
#include "fork_guard.h"

namespace roche {
namespace {

constexpr uint64_t kMiB = 1 << 20;
constexpr uint64_t kMinGrowth = 1 * kMiB;    // first reservation ahead
constexpr uint64_t kMaxGrowth = 64 * kMiB;   // bounds zero space left by a crash
constexpr uint64_t kMinReservation = 256 * kMiB;
constexpr size_t kResyncWindow = 1 << 20;
constexpr uint64_t kPopulateStep = 4 * kMiB;  // bounds the pause of one prefault

uint64_t round_up(uint64_t n, uint64_t to) { return (n + to - 1) / to * to; }

uint64_t page_size() {
    static const uint64_t size = uint64_t(sysconf(_SC_PAGESIZE));
    return size;
}

// First index in [i, n) whose byte is not zero, or n.
size_t skip_zeros(const uint8_t *p, size_t i, size_t n) {
    while (i < n && (i & 7)) {
        if (p[i]) return i;
        i++;
    }
    for (; i + 8 <= n; i += 8) {
        uint64_t word;
        std::memcpy(&word, p + i, 8);
        if (word) break;
    }
    while (i < n && !p[i]) i++;
    return i;
}

// End of the last non-zero byte in [from, to), or from: how much of a tail
// was written rather than merely reserved.
uint64_t last_nonzero_end(const uint8_t *p, uint64_t from, uint64_t to) {
    while (to > from && (to & 7)) {
        if (p[to - 1]) return to;
        to--;
    }
    for (; to >= from + 8; to -= 8) {
        uint64_t word;
        std::memcpy(&word, p + to - 8, 8);
        if (word) break;
    }
    while (to > from && !p[to - 1]) to--;
    return to;
}

bool pread_full(int fd, void *dst, size_t n, uint64_t pos) {
    auto *out = static_cast<uint8_t *>(dst);
    while (n > 0) {
        ssize_t got = pread(fd, out, n, off_t(pos));
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
            if (got == 0) errno = EIO;  // the file shrank under us
            return false;
        }
        out += got;
        pos += uint64_t(got);
        n -= size_t(got);
    }
    return true;
}

}  // namespace

BucketFile::BucketFile(int fd, uint32_t index, const BucketOpenOptions &opts)
    : fd_(fd), index_(index), opts_(opts), fork_generation_(fork_generation()) {}

int BucketFile::open(const std::string &path, uint32_t index, const BucketOpenOptions &opts,
                     std::unique_ptr<BucketFile> *out) {
    int flags = O_CLOEXEC | (opts.writable ? O_RDWR : O_RDONLY);
    if (opts.writable && opts.create) flags |= O_CREAT;
    int fd = ::open(path.c_str(), flags, 0644);
    if (fd < 0) {
        if (errno == ENOENT) return fail(ROCHE_ENOTFOUND, path + ": no such bucket file");
        return fail_errno(path, errno);
    }
    std::unique_ptr<BucketFile> bucket(new BucketFile(fd, index, opts));
    bucket->path_ = path;
    struct stat st;
    if (fstat(fd, &st) != 0) return fail_errno(path, errno);
    if (!S_ISREG(st.st_mode)) return fail(ROCHE_EIO, path + ": not a regular file");
    bucket->seen_size_.store(uint64_t(st.st_size));
    if (opts.writable) {
        int rc = bucket->recover(uint64_t(st.st_size));
        if (rc != ROCHE_OK) return rc;
    }
    *out = std::move(bucket);
    return ROCHE_OK;
}

BucketFile::~BucketFile() { close(); }

int BucketFile::close() {
    if (fd_ < 0) return ROCHE_OK;
    int rc = ROCHE_OK;
    // In a child of fork() the files still belong to the parent: no trim.
    // A file whose recovery failed is left as it was found.
    if (opts_.writable && recovered_ && fork_generation() == fork_generation_) rc = close_writable();
    if (opts_.writable) {
        if (base_.load()) munmap(base_.load(), reserved_);
        for (auto &r : retired_) munmap(r.first, r.second);
        base_.store(nullptr);
        retired_.clear();
    }
    ::close(fd_);
    fd_ = -1;
    return rc;
}

// Trims to the last record and leaves a checkpoint. A file whose directory
// was removed under us is written back from the mapping first, so no append
// that returned is lost; the caller still hears about it.
int BucketFile::close_writable() {
    uint64_t end = end_.load();
    struct stat st;
    if (fstat(fd_, &st) != 0) return fail_errno(path_, errno);
    if (st.st_nlink == 0) return restore_unlinked(end);
    // A failed trim loses nothing: the next writable open cuts the reserved
    // space as recovery.
    if (uint64_t(st.st_size) > end && ftruncate(fd_, off_t(end)) != 0)
        return fail_errno(path_ + ": trimming to the last record", errno);
    write_checkpoint(end, last_record_);
    return ROCHE_OK;
}

int BucketFile::restore_unlinked(uint64_t end) {
    const std::string why = path_ + ": removed while open";
    if (end == 0) return fail(ROCHE_EIO, why + " (it held no records)");
    std::string dir = path_.substr(0, path_.rfind('/'));
    if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return fail_errno(why + "; restoring", errno);
    int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return fail_errno(why + "; restoring", errno);
    const uint8_t *p = base_.load();
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
                               " bytes of records were written back from memory");
}

// Whether the file has been unlinked (its namespace directory removed behind
// the library's back): appends into it would vanish at close. Checked when
// the file grows, so it costs nothing per append.
int BucketFile::check_linked() {
    struct stat st;
    if (fstat(fd_, &st) != 0) return fail_errno(path_, errno);
    if (st.st_nlink == 0)
        return fail(ROCHE_EIO, path_ + ": removed while open; appends refused "
                                       "(the records already appended are written back at close)");
    return ROCHE_OK;
}

// Read-only: the file's current size. Another process's writer may have
// appended (or grown the file) since it was last looked at.
uint64_t BucketFile::refresh_size() {
    struct stat st;
    if (fstat(fd_, &st) == 0) seen_size_.store(uint64_t(st.st_size));
    return seen_size_.load();
}

uint64_t BucketFile::end_of_data() {
    return opts_.writable ? end_.load(std::memory_order_acquire) : seen_size_.load();
}

// Maps len bytes of the file at file offset off onto at (inside our
// reservation), asking for huge pages: where the file system keeps large
// folios, random reads then take far fewer TLB misses.
int BucketFile::map_range(uint8_t *at, size_t len, uint64_t off) {
    if (mmap(at, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd_, off_t(off)) == MAP_FAILED)
        return fail_errno(path_ + ": mmap", errno);
    madvise(at, len, MADV_HUGEPAGE);  // advice only: failure changes nothing
    return ROCHE_OK;
}

// Reserves address space (aligned for huge pages) for the file to grow into
// and maps the file at its start. Called with append_mu_ held, or before
// the bucket is shared.
int BucketFile::map_file(uint64_t size) {
    const size_t align = 2 * kMiB;
    size_t reserve = round_up(std::max(kMinReservation, 2 * size), align);
    void *raw = mmap(nullptr, reserve + align, PROT_NONE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (raw == MAP_FAILED) return fail_errno(path_ + ": reserving address space", errno);
    auto *area = reinterpret_cast<uint8_t *>(round_up(reinterpret_cast<uintptr_t>(raw), align));
    size_t head = size_t(area - static_cast<uint8_t *>(raw));
    if (head) munmap(raw, head);
    if (align - head) munmap(area + reserve, align - head);
    size_t mapped = round_up(size, page_size());
    if (mapped > 0) {
        int rc = map_range(area, mapped, 0);
        if (rc != ROCHE_OK) {
            munmap(area, reserve);
            return rc;
        }
    }
    if (base_.load()) retired_.emplace_back(base_.load(), reserved_);
    reserved_ = reserve;
    mapped_ = mapped;
    populated_ = end_.load(std::memory_order_relaxed) / page_size() * page_size();  // a new mapping starts unfaulted
    base_.store(area, std::memory_order_release);
    return ROCHE_OK;
}

// Allocates the blocks for real (posix_fallocate), so a full disk fails here
// with ENOSPC instead of raising SIGBUS on a later store into the mapping.
int BucketFile::extend_file(uint64_t new_size) {
    int err = fallocate(fd_, 0, off_t(file_size_), off_t(new_size - file_size_)) == 0 ? 0 : errno;
    if (err == EOPNOTSUPP || err == ENOSYS) err = ftruncate(fd_, off_t(new_size)) == 0 ? 0 : errno;
    if (err) return fail_errno(path_ + ": growing to " + std::to_string(new_size) + " bytes", err);
    return ROCHE_OK;
}

// Grows the file and its mapping to hold at least min_size bytes. file_size_
// is the space appends may use, so it only moves once the mapping covers it;
// after a failed mapping the file keeps some zeroed space that close trims.
int BucketFile::grow(uint64_t min_size) {
    int rc = check_linked();
    if (rc != ROCHE_OK) return rc;
    write_checkpoint(end_.load(std::memory_order_relaxed), last_record_);
    uint64_t growth = std::clamp(file_size_, kMinGrowth, kMaxGrowth);
    uint64_t new_size = round_up(std::max(min_size, file_size_ + growth), kMiB);
    rc = extend_file(new_size);
    if (rc == ROCHE_OK) rc = map_grown(new_size);
    if (rc == ROCHE_OK) file_size_ = new_size;
    return rc;
}

int BucketFile::map_grown(uint64_t new_size) {
    if (new_size > reserved_) return map_file(new_size);
    size_t want = round_up(new_size, page_size());
    if (want <= mapped_) return ROCHE_OK;  // recovery mapped past a trimmed end
    int rc = map_range(base_.load() + mapped_, want - mapped_, mapped_);
    if (rc == ROCHE_OK) mapped_ = want;
    return rc;
}

// Prefaults the mapping ahead of the writer, a step at a time: one
// madvise(MADV_POPULATE_WRITE) costs far less than a page fault per 4 KiB
// page, which otherwise limits appends of small values. Advice only: on a
// kernel without it, or when it fails, the page faults happen as before.
void BucketFile::populate_ahead(uint64_t need) {
    uint64_t to = std::min(file_size_, round_up(need + kPopulateStep, page_size()));
#ifdef MADV_POPULATE_WRITE
    if (to > populated_)
        madvise(base_.load(std::memory_order_relaxed) + populated_, to - populated_, MADV_POPULATE_WRITE);
#endif
    populated_ = std::max(populated_, to);
}

int BucketFile::append(const uint8_t *data, const size_t *lens, size_t count, uint64_t time_ns,
                       uint64_t *offsets) {
    uint64_t total = 0;
    for (size_t i = 0; i < count; i++) total += kHeaderSize + lens[i];
    std::lock_guard<std::mutex> lock(append_mu_);
    uint64_t pos = end_.load(std::memory_order_relaxed);
    if (pos + total > file_size_) {
        int rc = grow(pos + total);
        if (rc != ROCHE_OK) return rc;
    }
    if (pos + total > populated_) populate_ahead(pos + total);
    uint8_t *base = base_.load(std::memory_order_relaxed);
    uint64_t start = pos;
    for (size_t i = 0; i < count; i++) {
        uint8_t header[kHeaderSize];
        encode_header(header, uint32_t(lens[i]), time_ns);
        if (lens[i]) std::memcpy(base + pos + kHeaderSize, data, lens[i]);
        // The header goes in after its value: whoever sees a valid header
        // (a reader process, or recovery after a kill) sees the whole value.
        std::atomic_thread_fence(std::memory_order_release);
        std::memcpy(base + pos, header, kHeaderSize);
        if (offsets) offsets[i] = make_offset(index_, pos);
        last_record_ = pos;
        data += lens[i];
        pos += kHeaderSize + lens[i];
    }
    end_.store(pos, std::memory_order_release);
    if (opts_.sync_always) {
        uint64_t from = start / page_size() * page_size();
        if (msync(base + from, pos - from, MS_SYNC) != 0) return fail_errno(path_ + ": msync", errno);
    }
    return ROCHE_OK;
}

bool BucketFile::read_header(uint64_t pos, uint64_t limit, RecordHeader *header, bool *blank,
                             std::vector<uint8_t> &scratch) const {
    *blank = false;
    if (pos + kHeaderSize > limit) return false;
    const uint8_t *p = view(pos, kHeaderSize, scratch);
    if (!p) return false;
    if (!decode_header(p, header)) {
        *blank = header_is_blank(p);
        return false;
    }
    return header->length <= limit - pos - kHeaderSize;
}

int BucketFile::locate(uint64_t pos, RecordHeader *header) {
    uint64_t limit = end_of_data();
    if (!opts_.writable && pos + kHeaderSize > limit) limit = refresh_size();
    if (pos >= limit)
        return fail(ROCHE_ENOTFOUND, "offset " + std::to_string(make_offset(index_, pos)) +
                                         " is past the end of " + path_);
    uint8_t buf[kHeaderSize];
    const uint8_t *p = buf;
    if (pos + kHeaderSize > limit) return fail(ROCHE_ECORRUPT, "no whole header at that offset");
    if (opts_.writable)
        p = base_.load(std::memory_order_acquire) + pos;
    else if (!pread_full(fd_, buf, kHeaderSize, pos))
        return fail_errno(path_, errno);
    if (!opts_.writable && header_is_blank(p))  // space the writer reserved ahead
        return fail(ROCHE_ENOTFOUND, "offset " + std::to_string(make_offset(index_, pos)) +
                                         " is past the last record of " + path_);
    if (!decode_header(p, header))
        return fail(ROCHE_ECORRUPT, "no valid record header at offset " +
                                        std::to_string(make_offset(index_, pos)) +
                                        " (damaged, or inside a record)");
    if (!opts_.writable && header->length > limit - pos - kHeaderSize) limit = refresh_size();
    if (header->length > limit - pos - kHeaderSize)
        return fail(ROCHE_ECORRUPT, "record at offset " + std::to_string(make_offset(index_, pos)) +
                                        " runs past the end of " + path_);
    return ROCHE_OK;
}

int BucketFile::copy_value(uint64_t pos, uint32_t len, void *dst) const {
    if (len == 0) return ROCHE_OK;
    if (opts_.writable) {
        std::memcpy(dst, base_.load(std::memory_order_acquire) + pos + kHeaderSize, len);
        return ROCHE_OK;
    }
    return pread_full(fd_, dst, len, pos + kHeaderSize) ? ROCHE_OK : fail_errno(path_, errno);
}

void BucketFile::prefetch(uint64_t pos) const {
    if (opts_.writable && pos < end_.load(std::memory_order_relaxed))
        __builtin_prefetch(base_.load(std::memory_order_relaxed) + pos);
}

const uint8_t *BucketFile::view(uint64_t pos, size_t n, std::vector<uint8_t> &scratch) const {
    static const uint8_t kEmpty = 0;
    if (opts_.writable) return base_.load(std::memory_order_acquire) + pos;
    if (n == 0) return &kEmpty;
    if (scratch.size() < n) scratch.resize(n);
    if (!pread_full(fd_, scratch.data(), n, pos)) {
        fail_errno(path_, errno);
        return nullptr;
    }
    return scratch.data();
}

// Where the file's data ends within [from, to): the file system skips holes
// and unwritten extents (space reserved ahead that was never written), so a
// crash's blank tail costs nothing to pass over. `to` when it cannot tell.
uint64_t BucketFile::data_end(uint64_t from, uint64_t to) const {
    uint64_t end = from;
    off_t data = off_t(from);
    while ((data = lseek(fd_, data, SEEK_DATA)) >= 0 && uint64_t(data) < to) {
        off_t hole = lseek(fd_, data, SEEK_HOLE);
        if (hole < 0) return to;
        end = std::min(uint64_t(hole), to);
        data = hole;
    }
    return data < 0 && errno != ENXIO ? to : end;
}

// Resynchronizes after damage: the first position in [from, limit) holding a
// valid header whose record fits before limit, or limit. Blank stretches are
// skipped a word at a time, and trailing holes not read at all.
uint64_t BucketFile::find_header(uint64_t from, uint64_t limit) const {
    std::vector<uint8_t> scratch;
    uint64_t stop = data_end(from, limit);
    for (uint64_t start = from; start < stop && start + kHeaderSize <= limit; start += kResyncWindow) {
        size_t n = size_t(std::min<uint64_t>(kResyncWindow + kHeaderSize - 1, limit - start));
        const uint8_t *w = view(start, n, scratch);
        if (!w) return limit;
        for (size_t i = 0; i + kHeaderSize <= n && i < kResyncWindow && start + i < stop; i++) {
            if (header_is_blank(w + i)) {
                size_t next = skip_zeros(w, i, n);
                i = std::max(i, next >= kHeaderSize ? next - kHeaderSize : 0);
                continue;
            }
            RecordHeader h;
            if (decode_header(w + i, &h) && h.length <= limit - (start + i) - kHeaderSize)
                return start + i;
        }
    }
    return limit;
}

bool BucketFile::next_record(uint64_t pos, uint64_t *at, RecordHeader *header, uint64_t *skipped,
                             std::vector<uint8_t> &scratch) {
    uint64_t limit = end_of_data();
    if (!opts_.writable && pos + kHeaderSize > limit) limit = refresh_size();
    *skipped = 0;
    bool blank;
    bool found_here = read_header(pos, limit, header, &blank, scratch);
    if (!found_here && !blank && !opts_.writable && limit != refresh_size()) {
        limit = seen_size_.load();  // the record's value may lie in what the writer added
        found_here = read_header(pos, limit, header, &blank, scratch);
    }
    if (found_here) {
        *at = pos;
        return true;
    }
    if (pos + kHeaderSize > limit || (blank && !opts_.writable)) return false;
    uint64_t found = find_header(pos + 1, limit);
    if (found >= limit) return false;
    *skipped = found - pos;
    return read_header(found, limit, header, &blank, scratch) && (*at = found, true);
}

// The checkpoint is a record boundary below which every record was whole:
// written as an extended attribute, "<end> <position of the last record>",
// when the file grows and at a clean close, so recovery walks only what came
// after it (for a cleanly closed file, nothing). It is trusted only when that
// last record is still there and ends exactly at <end>, so a file rewritten
// by another tool is walked whole. Records below it are still checked by
// every get and scan; the checkpoint only saves the walk.
static const char kCheckpointAttr[] = "user.roche.checkpoint";

void BucketFile::write_checkpoint(uint64_t end, uint64_t last) {
    std::string value = std::to_string(end) + " " + std::to_string(last);
    fsetxattr(fd_, kCheckpointAttr, value.data(), value.size(), 0);  // advice only
}

uint64_t BucketFile::read_checkpoint(uint64_t size, uint64_t *last_record) const {
    char value[48] = {0};
    if (fgetxattr(fd_, kCheckpointAttr, value, sizeof value - 1) <= 0) return 0;
    char *rest;
    uint64_t end = std::strtoull(value, &rest, 10);
    uint64_t last = std::strtoull(rest, &rest, 10);
    RecordHeader h;
    if (*rest || end > size || end == 0 || last + kHeaderSize > end) return 0;
    if (!decode_header(base_.load() + last, &h) || last + kHeaderSize + h.length != end) return 0;
    *last_record = last;
    return end;
}

// Recovery: from the checkpoint, keep the longest chain of valid records,
// skipping damage that is followed by valid records, and cut the torn or
// blank tail.
int BucketFile::recover(uint64_t size) {
    int rc = map_file(size);
    if (rc != ROCHE_OK) return rc;
    file_size_ = size;
    end_.store(size);  // walk the whole file; no one else sees it yet
    std::vector<uint8_t> scratch;
    uint64_t pos = read_checkpoint(size, &last_record_), at, skipped;
    RecordHeader h;
    while (next_record(pos, &at, &h, &skipped, scratch)) {
        last_record_ = at;
        pos = at + kHeaderSize + h.length;
    }
    recovered_bytes_ = last_nonzero_end(base_.load(), pos, data_end(pos, size)) - pos;
    if (size > pos && ftruncate(fd_, off_t(pos)) != 0) return fail_errno(path_ + ": trimming", errno);
    file_size_ = pos;
    end_.store(pos, std::memory_order_release);
    populated_ = pos / page_size() * page_size();
    recovered_ = true;
    return ROCHE_OK;
}

void BucketFile::tally(BucketTally *t) {
    std::vector<uint8_t> scratch;
    uint64_t pos = 0, at, skipped;
    RecordHeader h;
    while (next_record(pos, &at, &h, &skipped, scratch)) {
        if (skipped) {
            t->damaged_ranges++;
            t->damaged_bytes += skipped;
        }
        t->records++;
        t->bytes += kHeaderSize + h.length;
        if (t->oldest_ns == 0 || h.time_ns < t->oldest_ns) t->oldest_ns = h.time_ns;
        t->newest_ns = std::max(t->newest_ns, h.time_ns);
        pos = at + kHeaderSize + h.length;
    }
}

int BucketFile::sync() {
    if (!opts_.writable) return ROCHE_OK;
    std::lock_guard<std::mutex> lock(append_mu_);
    uint64_t end = end_.load();
    if (end && msync(base_.load(), end, MS_SYNC) != 0) return fail_errno(path_ + ": msync", errno);
    if (fdatasync(fd_) != 0) return fail_errno(path_ + ": fdatasync", errno);
    return ROCHE_OK;
}

}  // namespace roche
