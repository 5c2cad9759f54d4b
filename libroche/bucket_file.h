// One bucket: the bucket file append.<n>.raw and its companion index
// append.<n>.idx (record_index.h). Appends, checked reads, sync and close
// live in bucket_file.cc; opening a writable bucket, with its recovery, in
// bucket_recovery.cc.
//
// A writable bucket maps both files with zero-filled space reserved ahead
// (mapped_file.h), so an append is a copy into the page cache: it survives
// the death of the process. Appends publish the count of whole records
// after writing them; gets and scans read only what is published and check
// every record's checksum, so they never wait for appends and never return
// bytes that were not appended.
//
// A read-only bucket reads the bucket file with pread(), since another
// process's writer may trim it, and maps the companion, which only grows
// while a reader may use it. Without a companion (a store in rochefort's
// own format that no writer has opened since), it checks headers only and
// ends at the first one that fails.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "doorbell.h"
#include "mapped_file.h"
#include "record.h"
#include "record_index.h"

namespace roche {

struct BucketOpenOptions {
    bool writable = false;
    bool create = false;  // create the files when missing (writable only)
    bool sync_always = false;
    uint32_t buckets = 1;  // the namespace's bucket count, recorded in the companion
    std::atomic<int64_t> *open_files = nullptr;  // counts the descriptors held
    Doorbell *doorbell = nullptr;  // writable: rung after each append (the namespace's)
    uint64_t owner = 0;            // the handle's tag for a fork child's close
    Prefaulter *prefaulter = nullptr;  // writable: the handle's (prefaulter.h)
    HeaderFormat format = HeaderFormat::Roche;  // the check every header carries
};

// What walking a bucket found: valid records and the damaged ones.
struct BucketTally {
    uint64_t records = 0, bytes = 0;
    uint64_t oldest_ns = 0, newest_ns = 0;
    uint64_t damaged_ranges = 0, damaged_bytes = 0;
    uint64_t dropped_records = 0, dropped_bytes = 0;  // by retention
};

// A record found by locate(): where it is and what to check it against.
struct RecordRef {
    uint64_t pos = 0;
    uint32_t length = 0;
    uint64_t time_ns = 0;
    bool checked = false;  // sum is known (the bucket has a companion)
    uint64_t sum = 0;
    uint8_t header[kHeaderSize] = {};
};

// The records a scan of a bucket covers, fixed when the scan reaches it.
struct BucketExtent {
    bool indexed = false;
    uint64_t count = 0;  // indexed: entries
    uint64_t end = 0;    // bytes of records (indexed) or of the file
    bool stale = false;  // the namespace was deleted behind a reader
};

class BucketFile {
public:
    // Opens (and for a writable bucket, recovers) the bucket whose file is
    // path. ROCHE_ENOTFOUND when it does not exist and may not be created.
    static int open(const std::string &path, uint32_t index, const BucketOpenOptions &opts,
                    std::unique_ptr<BucketFile> *out);
    ~BucketFile();  // finish(), then unmap and close the files
    // Reads the first header of the bucket file at path (if it has one) and
    // fails with ROCHE_ECORRUPT when it carries the other format's check
    // (check_header_format()). Reads only: nothing is created or changed.
    static int check_format(const std::string &path, HeaderFormat format);
    BucketFile(const BucketFile &) = delete;
    BucketFile &operator=(const BucketFile &) = delete;

    // Ends the writer's use: trims the file to its last record and the
    // companion to its entries. The mappings stay until the object goes,
    // so pointers handed out stay valid. Idempotent.
    int finish();

    // Appends count values lying back to back in data; offsets[i] receives
    // the offset of value i. Serialized per bucket.
    int append(const uint8_t *data, const size_t *lens, size_t count, uint64_t time_ns,
               uint64_t *offsets);

    // Finds the record that starts at pos: ROCHE_ENOTFOUND at or past the
    // end, ROCHE_ECORRUPT when no record starts there or its header is bad.
    // prefetched: the caller asked for prefetch(pos) already (multiget).
    int locate(uint64_t pos, RecordRef *rec, bool prefetched = false);
    // Copies the value of a located record into dst and checks it:
    // ROCHE_ECORRUPT when it does not match its checksum.
    int copy_value(const RecordRef &rec, void *dst) const;
    // Writable: points *value at a located record's value in the mapping,
    // once it matches its checksum (ROCHE_ECORRUPT otherwise).
    int checked_value(const RecordRef &rec, const uint8_t **value) const;
    // Hints that the record at pos will be read soon (mapped buckets only).
    void prefetch(uint64_t pos) const;

    // Scanning: extent() fixes what a scan covers; seek() turns a position
    // into a cursor; next() reads and checks the record at the cursor and
    // moves it on. ROCHE_OK with *value set (valid until the next call with
    // the same scratch); ROCHE_DONE at the end of the extent; ROCHE_ECORRUPT
    // for a damaged record, which the cursor then passes (indexed buckets;
    // without a companion the scan ends there instead).
    BucketExtent extent();
    uint64_t seek(const BucketExtent &ext, uint64_t pos);
    int next(const BucketExtent &ext, uint64_t *cursor, RecordRef *rec, const uint8_t **value,
             std::vector<uint8_t> &scratch);
    // The fast path of next() for a writable, indexed bucket: up to max
    // records from the cursor in one tight loop, each checked exactly as
    // next() checks it, written to the arrays at [0, n) (any may be NULL).
    // Stops before the first record that fails a check, and before records
    // retention dropped: next() then reports or passes it. Returns n (0 for
    // a bucket it does not serve: read-only, or with no companion).
    size_t next_run(const BucketExtent &ext, uint64_t *cursor, size_t max, uint64_t *offsets,
                    const void **data, size_t *lens, uint64_t *times) const;
    // Where the record at a cursor starts (the extent's end past its last).
    uint64_t cursor_position(const BucketExtent &ext, uint64_t cursor) const;

    // Walks every record, checking each, and fills in a tally.
    void tally(BucketTally *t);

    int sync();

    // Retention (retention.cc). The position of the first record kept:
    // records before it were dropped (ROCHE_EDROPPED).
    uint64_t first_kept() const;
    // Writable: what the bucket holds now, as entry numbers.
    struct Span {
        uint64_t first = 0, count = 0, first_pos = 0, end = 0;
    };
    Span span() const;
    uint64_t entry_pos(uint64_t i) const { return windex_.entries()[i].pos; }
    // Writable: the first entry in [from, to) whose record is at least
    // cutoff_ns old... young: its time >= cutoff_ns (to when none is).
    uint64_t first_younger(uint64_t from, uint64_t to, uint64_t cutoff_ns) const;
    // Writable: drops the records before entry `index`: makes that durable,
    // then frees their blocks. *freed receives the bytes dropped.
    int drop_before(uint64_t index, uint64_t *freed);
    int check_punch_hole() { return raw_.check_punch_hole(); }

    // Read-only: the namespace these files belonged to was deleted (marked
    // by roche_delete_namespace(), or the file unlinked by other means).
    // A system call: for scan and stat, and gets that found nothing.
    bool stale() const;
    bool stale_now();  // stale(), checked at most every 100 ms
    uint32_t index() const { return index_; }
    // The namespace's bucket count as the companion records it (0: none).
    uint32_t recorded_buckets() {
        if (opts_.writable) return recorded_buckets_;
        RecordIndex *idx = reader_index(true);
        return idx ? idx->recorded_buckets() : 0;
    }
    uint64_t recovered_bytes() const { return recovered_bytes_; }

private:
    BucketFile(uint32_t index, const BucketOpenOptions &opts, const std::string &path);
    // bucket_recovery.cc
    int recover();
    int cut_tail(uint64_t pos, uint64_t size, bool keep_aside);
    int save_aside(uint64_t from, uint64_t to);

    int close_writable();
    int restore_unlinked(uint64_t end);
    int check_linked();
    int checksum_failed(uint64_t pos) const;  // ROCHE_ECORRUPT, with the detail
    // A record that failed its checks: ROCHE_EDROPPED if retention dropped
    // it meanwhile (its blocks read as zeros now), else `rc`.
    int unless_dropped(uint64_t pos, int rc) const;
    int sync_locked(bool force);
    int grow_for(uint64_t pos, uint64_t bytes, uint64_t count);
    // Read-only: the companion, once a writer has made it.
    // look_again: try to open it even if the last try found none.
    RecordIndex *reader_index(bool look_again);
    int read_header(uint64_t pos, uint8_t *dst) const;
    int entry_record(const IndexEntry *e, uint64_t i, uint64_t end, RecordRef *rec) const;
    int locate_unindexed(uint64_t pos, RecordRef *rec);
    uint64_t file_size() const;

    uint32_t index_;
    BucketOpenOptions opts_;
    std::string path_;
    uint64_t inode_ = 0;
    uint64_t recovered_bytes_ = 0;
    bool recovered_ = false;  // writable: recover() succeeded
    std::atomic<bool> finished_{false};
    uint32_t recorded_buckets_ = 0;
    std::atomic<int> held_files_{0};  // descriptors counted in opts_.open_files
    void count_files(int n);
    uint64_t fork_generation_;

    MappedFile raw_;  // writable: mapped; read-only: opened for pread
    RecordIndex windex_;  // writable

    // Writable: the whole records, published (release) after each append:
    // end first, then count.
    std::atomic<uint64_t> end_{0};
    std::atomic<uint64_t> count_{0};
    std::mutex append_mu_;   // serializes appends, growth and close
    std::mutex sync_mu_;     // one sync at a time
    uint64_t synced_end_ = 0;  // sync_mu_: what this handle last synced
    bool synced_once_ = false;

    // Read-only.
    std::mutex reader_mu_;
    std::atomic<RecordIndex *> rindex_{nullptr};
    std::atomic<bool> rindex_absent_{false};  // the last look found none
    std::atomic<int64_t> last_link_check_ms_{0};
    std::unique_ptr<RecordIndex> rindex_owner_;
};

}  // namespace roche
