// Opening a writable bucket: recovery.
//
// The companion says how many records are whole: its live count when it was
// written during this boot (the page cache it lives in survived whatever
// killed the writer), else its last synced checkpoint. Recovery checks the
// last of those records, then walks on past them, accepting a record only
// when its header checks out and it matches its entry's checksum, and stops
// at the first that does not. It never searches byte by byte: a value that
// holds something shaped like a record is never taken for one. What follows
// the last record is cut from the file; bytes that may be records the disk
// kept without their entries (after a machine crash, or in a file written by
// another tool) are first saved aside in append.<n>.raw.cut-<position>.
//
// A bucket file without a usable companion (rochefort's own format, or a
// companion describing another file) gets one built: every record whose
// header checks out is indexed, from the start to the first that does not.
//
// In rochefort's format (ROCHE_FORMAT_ROCHEFORT) a rochefort process may
// have appended to the file since this library's writer closed it. That
// close marked the companion (kFlagClosed, with the end it trimmed the
// file to); when the walk of the indexed records reaches exactly that end,
// the records after it are indexed from their headers, as a file with no
// companion is. A tail cut in that format is always saved aside first: it
// may hold another program's records.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "bucket_file.h"
#include "checksum.h"
#include "error.h"

namespace roche {
namespace {

constexpr uint64_t kMinReservation = 256u << 20;

// End of the last non-zero byte in [from, to), or from: how much of a tail
// was written rather than merely reserved. Scans backwards, so a long
// written tail costs one word.
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

// Where the file's data ends within [from, to): the file system skips holes
// and unwritten extents (space reserved ahead and never written), so a
// crash's blank tail costs nothing to pass over. `to` when it cannot tell.
uint64_t data_end(int fd, uint64_t from, uint64_t to) {
    uint64_t end = from;
    off_t data = off_t(from);
    while ((data = lseek(fd, data, SEEK_DATA)) >= 0 && uint64_t(data) < to) {
        off_t hole = lseek(fd, data, SEEK_HOLE);
        if (hole < 0) return to;
        end = std::min(uint64_t(hole), to);
        data = hole;
    }
    return data < 0 && errno != ENXIO ? to : end;
}

// Entries [first, n) start at first_pos (the first record retention kept;
// 0 and 0 without retention) and rise by at least a header each.
bool entries_in_order(const IndexEntry *e, uint64_t first, uint64_t first_pos, uint64_t n) {
    if (first < n && e[first].pos != first_pos) return false;
    bool ok = true;
    for (uint64_t i = first + 1; i < n; i++) ok &= e[i].pos >= e[i - 1].pos + kHeaderSize;
    return ok;
}

}  // namespace

int BucketFile::recover() {
    // A new bucket's companion is created before its bucket file: a file
    // system that keeps names in the order they were made (ext4's and XFS's
    // journals do) never shows the bucket file of this library without it.
    int rc = raw_.open(path_, O_RDWR);
    bool created = rc == ROCHE_ENOTFOUND && opts_.create;
    if (rc != ROCHE_OK && !created) return rc;
    // A bucket file with no companion gets one built under another name,
    // renamed into place once whole. A kill in the middle leaves no
    // companion, and the next open builds it again; a half-built one, which
    // trusts nothing past its end, would have had every record it had not
    // reached cut as a tail (seen: roche import killed in its verify pass).
    const std::string idx_path = path_.substr(0, path_.size() - 4) + ".idx";
    const std::string building_path = idx_path + ".building";
    bool adopting = !created && access(idx_path.c_str(), F_OK) != 0 && errno == ENOENT;
    if (adopting && unlink(building_path.c_str()) != 0 && errno != ENOENT)
        return fail_errno(building_path, errno);
    IndexState state;
    if ((rc = windex_.open_writable(adopting ? building_path : idx_path, &state)) != ROCHE_OK) return rc;
    if (created && (rc = raw_.open(path_, O_RDWR | O_CREAT)) != ROCHE_OK) return rc;
    struct stat st;
    if (fstat(raw_.fd(), &st) != 0) return fail_errno(path_, errno);
    inode_ = uint64_t(st.st_ino);
    const HeaderFormat format = opts_.format;
    const bool rochefort = format == HeaderFormat::Rochefort;
    uint64_t size = raw_.size();
    if ((rc = raw_.map(kMinReservation)) != ROCHE_OK) return rc;
    const uint8_t *base = raw_.base();
    // A companion that exists is the writer's own, even empty or unreadable
    // (a machine crash may keep its name and lose its pages): then nothing
    // is trusted, and a record without its entry is not accepted. Only a
    // bucket with no companion at all is indexed from its headers alone.
    bool building = !state.existed;
    uint64_t n = std::min(state.trusted, windex_.capacity());
    // Retention dropped the records before `first`: their bytes and entries
    // may be holes, and the walk starts at the first record kept.
    uint64_t first = std::min(state.first, n), first_pos = first ? state.first_pos : 0;
    // A damaged companion: records dropped end past the file, or nowhere.
    if (first_pos > size || (first > 0 && first_pos < kHeaderSize)) first = first_pos = 0;
    uint64_t pos = first_pos;
    // The first record kept (Namespace::open() checked the file's start
    // before anything was opened): a store written in the other format is
    // refused before anything is cut.
    if (first_pos > 0 && first_pos + kHeaderSize <= size &&
        (rc = check_header_format(base + first_pos, format, path_)) != ROCHE_OK)
        return rc;
    // Searches need the trusted entries in order, records back to back from
    // the first kept. One pass over them (memory speed: tens of milliseconds
    // for ten million records) catches a companion damaged behind the
    // library's back; such a companion is built again from the file's
    // headers.
    if (n > first && !entries_in_order(windex_.entries(), first, first_pos, n)) {
        n = first;
        building = true;
        windex_.forget_checkpoints();  // entries are rewritten in place: readers keep their mapping
    }
    if (n > first) {
        // Records below the committed end are kept whatever they look like
        // now: damaged ones read as ROCHE_ECORRUPT, never cut. Where they
        // end is the companion's (the sentinel entry, or the checkpoint),
        // not what the last header says now.
        const IndexEntry *e = windex_.entries();
        pos = state.trusted_end;
        RecordHeader h;
        if (pos < e[n - 1].pos + kHeaderSize) {  // no sentinel (an older companion): ask the header
            pos = e[n - 1].pos + kHeaderSize;
            if (pos <= size && decode_header(base + e[n - 1].pos, &h, format)) pos += h.length;
        }
        // A file cut behind the library's back has lost the records that
        // ended past its new end, and their entries with them.
        while (n > first && pos > size) pos = e[--n].pos;
    }
    for (;;) {
        RecordHeader h;
        if (pos + kHeaderSize > size || !decode_header(base + pos, &h, format) || h.length > size - pos - kHeaderSize)
            break;
        uint64_t sum = record_checksum(pos, base + pos, kHeaderSize + h.length);
        if (!building && (n >= windex_.capacity() || windex_.entries()[n].pos != pos || windex_.entries()[n].sum != sum)) {
            // Past where this library's writer closed the file, in
            // rochefort's format: appended by rochefort since. Indexed from
            // their headers on, as a file without a companion is.
            if (!(rochefort && state.closed && pos == state.closed_end)) break;
            building = true;
        }
        if (building) {
            if ((rc = windex_.reserve(n + 2)) != ROCHE_OK) return rc;
            windex_.entries()[n] = IndexEntry{pos, sum};
        }
        n++;
        pos += kHeaderSize + h.length;
    }
    // After a reboot, or in a file another tool wrote (rochefort's format
    // always may be), what follows the chain may hold records whose entries
    // were lost: keep those bytes.
    if ((rc = cut_tail(pos, size, !state.same_boot || building || rochefort)) != ROCHE_OK) return rc;
    if ((rc = windex_.cut(n, pos)) != ROCHE_OK) return rc;
    // The count the namespace hashes over: at least what was recorded.
    recorded_buckets_ = std::max(windex_.recorded_buckets(), opts_.buckets);
    windex_.set_first_kept(first, first_pos);
    windex_.claim(inode_, n, recorded_buckets_);
    if (adopting && (rc = windex_.rename_to(idx_path)) != ROCHE_OK) return rc;
    // claim() cleared kFlagClosed: on the disk too, before any append, so a
    // machine crash cannot bring back a clean close that is over.
    if (state.closed && (rc = windex_.sync_live_area()) != ROCHE_OK) return rc;
    end_.store(pos);
    count_.store(n);
    // After a reboot the walk read every record back from the disk: they
    // are durable, and a checkpoint spares the next open the same walk.
    if (state.usable && !state.same_boot && (rc = windex_.checkpoint(n, pos, inode_)) != ROCHE_OK) return rc;
    recovered_ = true;
    return ROCHE_OK;
}

int BucketFile::cut_tail(uint64_t pos, uint64_t size, bool keep_aside) {
    if (size <= pos) return ROCHE_OK;
    uint64_t written = last_nonzero_end(raw_.base(), pos, data_end(raw_.fd(), pos, size));
    recovered_bytes_ = written - pos;
    if (keep_aside && written > pos) {
        int rc = save_aside(pos, written);
        if (rc != ROCHE_OK) return rc;
    }
    return raw_.truncate(pos);
}

// Copies [from, to) of the bucket file into append.<n>.raw.cut-<from>, a
// name no bucket file has, before recovery cuts it.
int BucketFile::save_aside(uint64_t from, uint64_t to) {
    std::string name = path_ + ".cut-" + std::to_string(from);
    int fd = -1;
    for (int i = 1; fd < 0 && i <= 100; i++) {
        std::string candidate = i == 1 ? name : name + "." + std::to_string(i);
        fd = ::open(candidate.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0 && errno != EEXIST) return fail_errno(candidate + ": saving a cut tail", errno);
        if (fd >= 0) name = candidate;
    }
    if (fd < 0) return fail(ROCHE_EIO, name + ": too many saved tails");
    const uint8_t *p = raw_.base();
    int err = 0;
    for (uint64_t at = from; at < to && !err;) {
        ssize_t n = ::write(fd, p + at, size_t(std::min<uint64_t>(to - at, 1 << 30)));
        if (n > 0)
            at += uint64_t(n);
        else if (n == 0 || errno != EINTR)
            err = n == 0 ? EIO : errno;
    }
    if (!err && fsync(fd) != 0) err = errno;
    ::close(fd);
    if (err) return fail_errno(name + ": saving a cut tail", err);
    return ROCHE_OK;
}

}  // namespace roche
