// A file memory-mapped at the start of a larger reservation of address space.
//
// The mapping grows in place inside the reservation, so a pointer handed to a
// reader stays valid while the file grows; when the reservation is outgrown
// the file is mapped again elsewhere and the old mapping is kept until
// close(). A writable file is grown with fallocate() before the mapping
// covers it, so a full disk is an error from grow() rather than a SIGBUS on
// a later store. Callers serialize grow(), cover() and truncate().
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "prefaulter.h"

namespace roche {

class MappedFile {
public:
    MappedFile() = default;
    ~MappedFile() { close(); }
    MappedFile(const MappedFile &) = delete;
    MappedFile &operator=(const MappedFile &) = delete;

    // Opens path (open(2) flags; O_CLOEXEC is added). ROCHE_ENOTFOUND when
    // it does not exist and O_CREAT was not given.
    int open(const std::string &path, int flags);
    // Maps the file's current size, reserving at least min_reserve bytes of
    // address space for it to grow into.
    int map(uint64_t min_reserve);

    // Writable: grows the file (and the mapping) to at least min_size bytes,
    // by at least its size clamped to [min_step, max_step], rounded to align.
    int grow(uint64_t min_size, uint64_t min_step, uint64_t max_step, uint64_t align);
    // Writable: prefaults the mapping from the last prefaulted byte to
    // need + step, so appends take one madvise instead of a fault per page.
    // With a prefaulter, asks it to, half a step before the writer gets
    // there, and returns at once.
    void populate_ahead(uint64_t need, uint64_t step, Prefaulter *prefaulter = nullptr);
    // Writable: cuts the file to size bytes.
    int truncate(uint64_t size);
    // Writable: frees the blocks of [from, to) (page aligned); they read as
    // zeros after. ROCHE_ENOTSUP when the file system cannot.
    int punch_hole(uint64_t from, uint64_t to);
    // Whether punch_hole() works here, asked without freeing anything (a
    // hole past the end of the file).
    int check_punch_hole();
    // Read-only: maps more of the file once it holds at least need bytes.
    // ROCHE_ENOTFOUND when the file is still shorter.
    int cover(uint64_t need);

    // Writes [from, to) back to the disk and waits (msync MS_SYNC).
    int sync_range(uint64_t from, uint64_t to) const;
    int datasync() const;

    uint8_t *base() const { return base_.load(std::memory_order_acquire); }
    uint64_t size() const { return file_size_.load(std::memory_order_acquire); }
    uint64_t mapped() const { return mapped_.load(std::memory_order_acquire); }
    int fd() const { return fd_; }
    const std::string &path() const { return path_; }
    bool writable() const { return writable_; }

    // Gives the open file another name (rename(2)); the mapping stays.
    int rename_to(const std::string &path);

    // Unmaps everything and closes the file.
    void close();

    // Records the descriptor and mappings under the handle's owner tag, so
    // a child of fork() can give its copies back (fork_guard.h). Set before
    // open().
    void set_owner(uint64_t owner) { owner_ = owner; }

private:
    int reserve_and_map(uint64_t size);
    void set_prefault_range(uint8_t *lo, uint64_t len);
    int map_range(uint8_t *at, uint64_t len, uint64_t off);
    int extend_mapping(uint64_t size);

    int fd_ = -1;
    bool writable_ = false;
    std::string path_;
    std::atomic<uint8_t *> base_{nullptr};
    std::atomic<uint64_t> file_size_{0};  // bytes of the file the mapping covers
    std::atomic<uint64_t> mapped_{0};     // bytes mapped at base_ (page multiple)
    uint64_t reserved_ = 0;               // address space reserved at base_
    uint64_t min_reserve_ = 0;
    uint64_t populated_ = 0;              // prefaulted (or asked for) up to here
    std::shared_ptr<PrefaultRange> prefault_range_;  // made on the first request
    uint64_t owner_ = 0;
    int fd_slot_ = -1, base_slot_ = -1;  // track_*() slots of fd_ and base_
    struct Reservation {
        uint8_t *at;
        uint64_t len;
        int slot;
    };
    std::vector<Reservation> retired_;  // old reservations
};

uint64_t page_size();
inline uint64_t round_up(uint64_t n, uint64_t to) { return (n + to - 1) / to * to; }

}  // namespace roche
