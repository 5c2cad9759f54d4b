#include "mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "error.h"
#include "fork_guard.h"
#include "roche.h"

namespace roche {

uint64_t page_size() {
    static const uint64_t size = uint64_t(sysconf(_SC_PAGESIZE));
    return size;
}

int MappedFile::open(const std::string &path, int flags) {
    path_ = path;
    writable_ = (flags & O_ACCMODE) == O_RDWR;
    fd_ = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
    if (fd_ < 0) {
        if (errno == ENOENT && !(flags & O_CREAT)) return fail(ROCHE_ENOTFOUND, path + ": no such file");
        return fail_errno(path, errno);
    }
    fd_slot_ = track_descriptor(owner_, fd_);
    struct stat st;
    if (fstat(fd_, &st) != 0) return fail_errno(path, errno);
    if (!S_ISREG(st.st_mode)) return fail(ROCHE_EIO, path + ": not a regular file");
    file_size_.store(uint64_t(st.st_size));
    return ROCHE_OK;
}

// Each is untracked before it goes: a fork in between leaves the child a
// copy it keeps until exit, never a range it would unmap twice.
void MappedFile::close() {
    set_prefault_range(nullptr, 0);
    if (base_.load()) {
        untrack(base_slot_);
        munmap(base_.load(), reserved_);
    }
    for (auto &r : retired_) {
        untrack(r.slot);
        munmap(r.at, r.len);
    }
    retired_.clear();
    base_.store(nullptr);
    base_slot_ = -1;
    if (fd_ >= 0) {
        untrack(fd_slot_);
        ::close(fd_);
    }
    fd_ = -1;
    fd_slot_ = -1;
}

// Maps len bytes of the file at offset off onto at (inside the reservation),
// asking for huge pages: where the file system keeps large folios, random
// reads then take far fewer TLB misses.
int MappedFile::map_range(uint8_t *at, uint64_t len, uint64_t off) {
    int prot = PROT_READ | (writable_ ? PROT_WRITE : 0);
    if (mmap(at, len, prot, MAP_SHARED | MAP_FIXED, fd_, off_t(off)) == MAP_FAILED)
        return fail_errno(path_ + ": mmap", errno);
    madvise(at, len, MADV_HUGEPAGE);  // advice only: failure changes nothing
    return ROCHE_OK;
}

int MappedFile::map(uint64_t min_reserve) {
    min_reserve_ = min_reserve;
    return reserve_and_map(file_size_.load());
}

// Reserves address space (aligned for huge pages) and maps size bytes of the
// file at its start; an older reservation is retired, not unmapped, since
// readers may still point into it.
int MappedFile::reserve_and_map(uint64_t size) {
    const uint64_t align = 2u << 20;
    uint64_t reserve = round_up(std::max(min_reserve_, 2 * size), align);
    void *raw = mmap(nullptr, reserve + align, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (raw == MAP_FAILED) return fail_errno(path_ + ": reserving address space", errno);
    auto *area = reinterpret_cast<uint8_t *>(round_up(reinterpret_cast<uintptr_t>(raw), align));
    uint64_t head = uint64_t(area - static_cast<uint8_t *>(raw));
    if (head) munmap(raw, head);
    if (align - head) munmap(area + reserve, align - head);
    uint64_t mapped = round_up(size, page_size());
    if (mapped > 0) {
        int rc = map_range(area, mapped, 0);
        if (rc != ROCHE_OK) {
            munmap(area, reserve);
            return rc;
        }
    }
    set_prefault_range(area, reserve);  // requests for the old reservation lapse
    if (base_.load()) retired_.push_back({base_.load(), reserved_, base_slot_});
    base_slot_ = track_mapping(owner_, area, reserve);
    reserved_ = reserve;
    mapped_.store(mapped, std::memory_order_release);
    populated_ = 0;
    base_.store(area, std::memory_order_release);
    return ROCHE_OK;
}

int MappedFile::extend_mapping(uint64_t size) {
    if (size > reserved_) return reserve_and_map(size);
    uint64_t have = mapped_.load(), want = round_up(size, page_size());
    if (want <= have) return ROCHE_OK;
    int rc = map_range(base_.load() + have, want - have, have);
    if (rc == ROCHE_OK) mapped_.store(want, std::memory_order_release);
    return rc;
}

int MappedFile::grow(uint64_t min_size, uint64_t min_step, uint64_t max_step, uint64_t align) {
    uint64_t size = file_size_.load();
    uint64_t step = std::clamp(size, min_step, max_step);
    uint64_t new_size = round_up(std::max(min_size, size + step), align);
    int err = fallocate(fd_, 0, off_t(size), off_t(new_size - size)) == 0 ? 0 : errno;
    if (err == EOPNOTSUPP || err == ENOSYS) err = ftruncate(fd_, off_t(new_size)) == 0 ? 0 : errno;
    if (err) return fail_errno(path_ + ": growing to " + std::to_string(new_size) + " bytes", err);
    int rc = extend_mapping(new_size);
    // The size appends may use moves only once the mapping covers it; after
    // a failed mapping the file keeps zeroed space that close trims.
    if (rc == ROCHE_OK) file_size_.store(new_size, std::memory_order_release);
    return rc;
}

void MappedFile::set_prefault_range(uint8_t *lo, uint64_t len) {
    if (!prefault_range_) return;
    std::lock_guard<std::mutex> lock(prefault_range_->mu);  // waits out a prefault in progress
    prefault_range_->lo = lo;
    prefault_range_->hi = lo ? lo + len : nullptr;
}

// One madvise(MADV_POPULATE_WRITE) costs far less than a page fault per
// 4 KiB page, which otherwise limits appends of small values. Advice only.
void MappedFile::populate_ahead(uint64_t need, uint64_t step, Prefaulter *prefaulter) {
    if (prefaulter) {
        if (need + step / 2 <= populated_) return;  // asked for already, with room to spare
        uint64_t from = std::max(populated_, need / page_size() * page_size());
        uint64_t to = std::min(file_size_.load(), round_up(std::max(need, populated_) + step, page_size()));
        if (to <= from) return;
        if (!prefault_range_) {
            prefault_range_ = std::make_shared<PrefaultRange>();
            set_prefault_range(base_.load(), reserved_);
        }
        if (prefaulter->request(prefault_range_, base_.load(std::memory_order_relaxed) + from, to - from)) {
            populated_ = to;
            return;
        }
    }
    if (need <= populated_) return;  // one madvise per step, not per page
    uint64_t to = std::min(file_size_.load(), round_up(need + step, page_size()));
    // Pages below where the writer is now were faulted in already (or are
    // records recovered from the file): start at need's page, not at 0.
    uint64_t from = std::max(populated_, need > step ? need - step : 0) / page_size() * page_size();
#ifdef MADV_POPULATE_WRITE
    if (to > from) madvise(base_.load(std::memory_order_relaxed) + from, to - from, MADV_POPULATE_WRITE);
#endif
    populated_ = std::max(populated_, to);
}

int MappedFile::truncate(uint64_t size) {
    if (ftruncate(fd_, off_t(size)) != 0) return fail_errno(path_ + ": trimming", errno);
    file_size_.store(size, std::memory_order_release);
    populated_ = std::min(populated_, size / page_size() * page_size());
    // Pages past the new end stay mapped; nothing reads them until grow()
    // has allocated them again and mapped them afresh.
    uint64_t keep = round_up(size, page_size());
    if (keep < mapped_.load()) mapped_.store(keep, std::memory_order_release);
    return ROCHE_OK;
}

int MappedFile::punch_hole(uint64_t from, uint64_t to) {
    if (fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off_t(from), off_t(to - from)) == 0)
        return ROCHE_OK;
    if (errno == EOPNOTSUPP || errno == ENOSYS)
        return fail(ROCHE_ENOTSUP, path_ + ": the file system cannot punch holes (retention needs it)");
    return fail_errno(path_ + ": punching a hole", errno);
}

int MappedFile::check_punch_hole() {
    struct stat st;
    if (fstat(fd_, &st) != 0) return fail_errno(path_, errno);
    return punch_hole(round_up(uint64_t(st.st_size), page_size()) + page_size(),
                      round_up(uint64_t(st.st_size), page_size()) + 2 * page_size());
}

int MappedFile::cover(uint64_t need) {
    if (need <= mapped_.load() && need <= file_size_.load()) return ROCHE_OK;
    struct stat st;
    if (fstat(fd_, &st) != 0) return fail_errno(path_, errno);
    if (uint64_t(st.st_size) < need) return fail(ROCHE_ENOTFOUND, path_ + ": shorter than expected");
    file_size_.store(uint64_t(st.st_size), std::memory_order_release);
    return extend_mapping(uint64_t(st.st_size));
}

int MappedFile::sync_range(uint64_t from, uint64_t to) const {
    from = from / page_size() * page_size();
    if (to <= from) return ROCHE_OK;
    if (msync(base() + from, to - from, MS_SYNC) != 0) return fail_errno(path_ + ": msync", errno);
    return ROCHE_OK;
}

int MappedFile::datasync() const {
    if (fdatasync(fd_) != 0) return fail_errno(path_ + ": fdatasync", errno);
    return ROCHE_OK;
}

int MappedFile::rename_to(const std::string &path) {
    if (::rename(path_.c_str(), path.c_str()) != 0) return fail_errno(path_ + ": renaming to " + path, errno);
    path_ = path;
    return ROCHE_OK;
}

}  // namespace roche
