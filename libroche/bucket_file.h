// One bucket file, append.<n>.raw: appends, reads and recovery.
//
// A writable bucket is memory-mapped with zero-filled space reserved ahead of
// the last record, so an append is a memcpy into the page cache (it survives
// the death of the process) rather than a write() system call. The mapping
// sits at the start of a larger reservation of address space, so it grows in
// place and pointers handed to readers stay valid; when the reservation is
// outgrown the file is mapped again elsewhere and the old mapping is kept
// until close. close trims the file back to its last record.
//
// A read-only bucket uses pread(): another process's writer may trim the
// file under it, and a mapping past the new end would raise SIGBUS.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "record.h"

namespace roche {

struct BucketOpenOptions {
    bool writable = false;
    bool create = false;     // create the file when missing (writable only)
    bool sync_always = false;
};

// What walking a bucket found: valid records and the damage between them.
struct BucketTally {
    uint64_t records = 0, bytes = 0;
    uint64_t oldest_ns = 0, newest_ns = 0;
    uint64_t damaged_ranges = 0, damaged_bytes = 0;
};

class BucketFile {
public:
    // Opens (and for a writable bucket, recovers) the file at path. Returns
    // ROCHE_ENOTFOUND when it does not exist and may not be created.
    static int open(const std::string &path, uint32_t index, const BucketOpenOptions &opts,
                    std::unique_ptr<BucketFile> *out);
    ~BucketFile();  // close()

    // Trims a writable file to its last record, unmaps and closes it.
    int close();

    BucketFile(const BucketFile &) = delete;
    BucketFile &operator=(const BucketFile &) = delete;

    // Appends count values lying back to back in data; positions[i] receives
    // the offset of value i. Serialized per bucket.
    int append(const uint8_t *data, const size_t *lens, size_t count, uint64_t time_ns,
               uint64_t *offsets);

    // Checks that a whole record starts at pos: ROCHE_ENOTFOUND at or past
    // the end, ROCHE_ECORRUPT for a bad header or a length past the end.
    int locate(uint64_t pos, RecordHeader *header);

    // Copies len value bytes of the record at pos into dst.
    int copy_value(uint64_t pos, uint32_t len, void *dst) const;

    // Hints that the record at pos will be read soon (mapped buckets only).
    void prefetch(uint64_t pos) const;

    // Points at n bytes from pos: into the mapping, or into scratch after a
    // pread. NULL on an I/O error (last error set).
    const uint8_t *view(uint64_t pos, size_t n, std::vector<uint8_t> &scratch) const;

    // Finds the first whole record at or after pos and before the end.
    // Bytes passed over that are not a record are damage; a read-only
    // bucket stops at a blank header (space its writer reserved ahead).
    // Returns true with *at and *header set, or false at the end.
    bool next_record(uint64_t pos, uint64_t *at, RecordHeader *header, uint64_t *skipped,
                     std::vector<uint8_t> &scratch);

    // Walks every record and fills in a tally.
    void tally(BucketTally *t);

    int sync();
    uint32_t index() const { return index_; }
    uint64_t recovered_bytes() const { return recovered_bytes_; }

private:
    BucketFile(int fd, uint32_t index, const BucketOpenOptions &opts);
    uint64_t end_of_data();  // published end (writable) or file size (read-only)
    uint64_t refresh_size();
    int close_writable();
    int check_linked();
    int restore_unlinked(uint64_t end);
    int map_grown(uint64_t new_size);
    void populate_ahead(uint64_t need);
    int map_file(uint64_t size);
    int map_range(uint8_t *at, size_t len, uint64_t off);
    int grow(uint64_t min_size);
    int extend_file(uint64_t new_size);
    int recover(uint64_t size);
    uint64_t find_header(uint64_t from, uint64_t limit) const;
    uint64_t data_end(uint64_t from, uint64_t to) const;
    uint64_t read_checkpoint(uint64_t size, uint64_t *last_record) const;
    void write_checkpoint(uint64_t end, uint64_t last);
    bool read_header(uint64_t pos, uint64_t limit, RecordHeader *header, bool *blank,
                     std::vector<uint8_t> &scratch) const;

    int fd_;
    uint32_t index_;
    BucketOpenOptions opts_;
    std::string path_;
    uint64_t recovered_bytes_ = 0;
    bool recovered_ = false;  // writable: recover() succeeded
    uint64_t fork_generation_;

    // Read-only: the file size last seen.
    std::atomic<uint64_t> seen_size_{0};

    // Writable: end is published (release) after a record is whole; base
    // changes only when the reservation is outgrown.
    std::atomic<uint64_t> end_{0};
    std::atomic<uint8_t *> base_{nullptr};
    std::mutex append_mu_;        // guards everything below
    uint64_t file_size_ = 0;      // bytes in the file, reserved space included
    uint64_t last_record_ = 0;    // position of the last record's header
    size_t mapped_ = 0;           // bytes of the file mapped at base_
    uint64_t populated_ = 0;      // mapping prefaulted up to here
    size_t reserved_ = 0;         // address space reserved at base_
    std::vector<std::pair<uint8_t *, size_t>> retired_;  // old reservations
};

}  // namespace roche
