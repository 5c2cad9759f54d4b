#include "cursor.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "checksum.h"
#include "error.h"
#include "roche.h"
#include "store.h"

// Slots are written and read as the host's integers; the format is
// defined as little-endian (cursor.h).
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the cursor file is little-endian");

namespace roche {
namespace {

constexpr uint64_t kCursorMagic = 0x3130305255434352ull;  // "RCCUR001"

struct SlotHeader {
    uint64_t magic, generation;
    uint32_t count, reserved;
};
static_assert(sizeof(SlotHeader) == 24, "the slot header is 24 bytes");
static_assert(sizeof(SlotHeader) + 8 * (ROCHE_MAX_BUCKETS + 1) <= kCursorSlotStride,
              "a full slot fits before the next one");

// One slot as read: valid only when its magic, count and check hold;
// damaged when it has the magic but fails a check (torn by a crash, or
// being written by a commit as it was read).
struct Slot {
    bool valid = false;
    bool damaged = false;
    uint64_t generation = 0;
    std::vector<uint64_t> offsets;
};

// Closes a descriptor on every path out (which also drops its flock).
struct Descriptor {
    int fd;
    explicit Descriptor(int f) : fd(f) {}
    ~Descriptor() {
        if (fd >= 0) ::close(fd);
    }
    Descriptor(const Descriptor &) = delete;
    Descriptor &operator=(const Descriptor &) = delete;
};

uint64_t slot_offset(int index) { return uint64_t(index) * kCursorSlotStride; }

// Reads exactly n bytes at pos; false on a short read (a slot that was
// never written, or lies past the end of the file).
bool read_exactly(int fd, void *buf, size_t n, uint64_t pos, int *err) {
    auto *p = static_cast<uint8_t *>(buf);
    while (n > 0) {
        ssize_t got = pread(fd, p, n, off_t(pos));
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) *err = errno;
        if (got <= 0) return false;
        p += got;
        n -= size_t(got);
        pos += uint64_t(got);
    }
    return true;
}

int write_exactly(int fd, const void *buf, size_t n, uint64_t pos, const std::string &path) {
    auto *p = static_cast<const uint8_t *>(buf);
    while (n > 0) {
        ssize_t put = pwrite(fd, p, n, off_t(pos));
        if (put < 0 && errno == EINTR) continue;
        if (put < 0) return fail_errno(path + ": writing the cursor", errno);
        p += put;
        n -= size_t(put);
        pos += uint64_t(put);
    }
    return ROCHE_OK;
}

// Reads slot index; a slot that fails a check comes back not valid, only
// an I/O error is an error.
int read_slot(int fd, int index, const std::string &path, Slot *slot) {
    *slot = Slot();
    int err = 0;
    std::vector<uint8_t> bytes(sizeof(SlotHeader));
    if (!read_exactly(fd, bytes.data(), bytes.size(), slot_offset(index), &err))
        return err ? fail_errno(path + ": reading the cursor", err) : ROCHE_OK;
    SlotHeader h;
    std::memcpy(&h, bytes.data(), sizeof h);
    if (h.magic != kCursorMagic) return ROCHE_OK;  // never written
    slot->damaged = true;
    if (h.count > ROCHE_MAX_BUCKETS || h.reserved != 0) return ROCHE_OK;
    size_t checked = sizeof h + 8 * size_t(h.count);
    bytes.resize(checked + 8);
    uint64_t body = slot_offset(index) + sizeof h;
    if (!read_exactly(fd, bytes.data() + sizeof h, bytes.size() - sizeof h, body, &err))
        return err ? fail_errno(path + ": reading the cursor", err) : ROCHE_OK;
    uint64_t check;
    std::memcpy(&check, bytes.data() + checked, sizeof check);
    if (check != XXH3_64bits(bytes.data(), checked)) return ROCHE_OK;
    slot->valid = true;
    slot->damaged = false;
    slot->generation = h.generation;
    slot->offsets.resize(h.count);
    if (h.count) std::memcpy(slot->offsets.data(), bytes.data() + sizeof h, 8 * size_t(h.count));
    return ROCHE_OK;
}

// Reads both slots; *newest is the index of the valid one with the higher
// generation, or -1 when neither is valid.
int read_slots(int fd, const std::string &path, Slot slots[2], int *newest) {
    *newest = -1;
    for (int i = 0; i < 2; i++) {
        int rc = read_slot(fd, i, path, &slots[i]);
        if (rc != ROCHE_OK) return rc;
        if (slots[i].valid && (*newest < 0 || slots[i].generation > slots[*newest].generation)) *newest = i;
    }
    return ROCHE_OK;
}

int write_slot(int fd, int index, uint64_t generation, const uint64_t *offsets, size_t count,
               const std::string &path) {
    SlotHeader h = {kCursorMagic, generation, uint32_t(count), 0};
    size_t checked = sizeof h + 8 * count;
    std::vector<uint8_t> bytes(checked + 8);
    std::memcpy(bytes.data(), &h, sizeof h);
    if (count) std::memcpy(bytes.data() + sizeof h, offsets, 8 * count);
    uint64_t check = XXH3_64bits(bytes.data(), checked);
    std::memcpy(bytes.data() + checked, &check, sizeof check);
    return write_exactly(fd, bytes.data(), bytes.size(), slot_offset(index), path);
}

int lock(int fd, int how, const std::string &path) {
    while (flock(fd, how) != 0)
        if (errno != EINTR) return fail_errno(path + ": locking the cursor", errno);
    return ROCHE_OK;
}

// True when the file open as fd is no longer the one at path: a delete
// unlinked it between our open and our lock.
bool unlinked(int fd, const std::string &path) {
    struct stat held, named;
    if (fstat(fd, &held) != 0 || ::stat(path.c_str(), &named) != 0) return true;
    return held.st_ino != named.st_ino || held.st_dev != named.st_dev;
}

// Opens and exclusively locks the cursor file at path, creating it; retries
// while deletes unlink the file it opened.
int open_locked(const std::string &path, Descriptor *file) {
    for (int attempt = 0; attempt < 100; attempt++) {
        int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0 && errno == ENOENT) return fail(ROCHE_ENOTFOUND, path + ": the namespace is gone");
        if (fd < 0) return fail_errno(path, errno);
        Descriptor opened(fd);
        if (int rc = lock(fd, LOCK_EX, path)) return rc;
        if (unlinked(fd, path)) continue;
        std::swap(file->fd, opened.fd);
        return ROCHE_OK;
    }
    return fail(ROCHE_EIO, path + ": the cursor file keeps being deleted under the commit");
}

bool empty_file(int fd) {
    struct stat st;
    return fstat(fd, &st) == 0 && st.st_size == 0;
}

}  // namespace

int cursor_name(const char *name, std::string_view *out) {
    if (!name) return fail(ROCHE_EINVAL, "cursor name must not be NULL");
    return check_file_name("cursor", name, kCursorNameMax, out);
}

std::string cursor_path(const std::string &ns_dir, std::string_view name) {
    return ns_dir + "/" + kCursorFilePrefix + std::string(name);
}

bool cursor_of_file(const char *file_name, std::string_view *name) {
    const size_t prefix = sizeof kCursorFilePrefix - 1;
    if (std::strncmp(file_name, kCursorFilePrefix, prefix) != 0) return false;
    return cursor_name(file_name + prefix, name) == ROCHE_OK;
}

int commit_cursor(const std::string &path, const uint64_t *offsets, size_t count, bool sync,
                  bool *created) {
    if (count > ROCHE_MAX_BUCKETS)
        return fail(ROCHE_EINVAL, "a cursor holds at most " + std::to_string(ROCHE_MAX_BUCKETS) + " offsets");
    Descriptor file(-1);
    if (int rc = open_locked(path, &file)) return rc;
    *created = empty_file(file.fd);
    Slot slots[2];
    int newest;
    if (int rc = read_slots(file.fd, path, slots, &newest)) return rc;
    // Never overwrite the newest position: a torn write must leave it.
    int target = newest < 0 ? 0 : 1 - newest;
    uint64_t generation = newest < 0 ? 1 : slots[newest].generation + 1;
    if (int rc = write_slot(file.fd, target, generation, offsets, count, path)) return rc;
    if (sync && fdatasync(file.fd) != 0) return fail_errno(path + ": syncing the cursor", errno);
    return ROCHE_OK;
}

int read_cursor(const std::string &path, std::vector<uint64_t> *offsets) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) return fail(ROCHE_ENOTFOUND, path + ": no such cursor");
    if (fd < 0) return fail_errno(path, errno);
    Descriptor file(fd);
    // The first look takes no lock. It is only trusted when no slot failed
    // its checks: a slot read torn may be a commit in progress, newer than
    // one that completed after the other slot was read, so the valid slot
    // could be two commits old. Then, or when neither slot is valid, look
    // again under a shared lock, which waits for commits in progress: what
    // fails then is damage.
    for (int attempt = 0; attempt < 2; attempt++) {
        if (attempt == 1 && flock(fd, LOCK_SH) != 0 && errno != EINTR && errno != ENOLCK)
            return fail_errno(path + ": locking the cursor", errno);
        if (empty_file(fd)) return fail(ROCHE_ENOTFOUND, path + ": no position committed yet");
        Slot slots[2];
        int newest;
        if (int rc = read_slots(fd, path, slots, &newest)) return rc;
        bool settled = attempt == 1 || !(slots[0].damaged || slots[1].damaged);
        if (newest >= 0 && settled) {
            *offsets = std::move(slots[newest].offsets);
            return ROCHE_OK;
        }
    }
    return fail(ROCHE_ECORRUPT, path + ": neither slot of the cursor file passes its checks");
}

int remove_cursor(const std::string &path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) return fail(ROCHE_ENOTFOUND, path + ": no such cursor");
    if (fd < 0) return fail_errno(path, errno);
    Descriptor file(fd);
    // After a commit in progress; a commit that opened the file before the
    // unlink sees it unlinked once it has the lock, and makes a new one.
    if (int rc = lock(fd, LOCK_EX, path)) return rc;
    if (unlinked(fd, path)) return fail(ROCHE_ENOTFOUND, path + ": no such cursor (deleted meanwhile)");
    if (::unlink(path.c_str()) != 0) {
        if (errno == ENOENT) return fail(ROCHE_ENOTFOUND, path + ": no such cursor");
        return fail_errno(path + ": deleting the cursor", errno);
    }
    return ROCHE_OK;
}

int sync_cursor_file(const std::string &path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) return ROCHE_OK;  // deleted since: nothing to keep
    if (fd < 0) return fail_errno(path, errno);
    Descriptor file(fd);
    if (fdatasync(fd) != 0) return fail_errno(path + ": syncing the cursor", errno);
    return ROCHE_OK;
}

}  // namespace roche
