// The companion index of one bucket file: append.<n>.idx beside append.<n>.raw.
//
// rochefort's format checks only the 12 bytes of each header, and tells no
// reader where the data ends. The companion adds both, beside the format
// and never inside it (roche.h, COMPANION FILE, has the layout):
//   - one entry per record, in file order: its position and a checksum of
//     the whole record (record_checksum()), so every read checks the value
//     and a seek is a search over positions, not a walk;
//   - the live count: how many entries are whole, stored after each append
//     (release) in the shared page cache, where readers in any process load
//     it; it also survives a kill -9 of the writer, but not a machine crash;
//   - two synced checkpoints, written alternately by roche_sync() after the
//     data and entries they cover reached the disk, each with a generation
//     and a checksum (as LMDB's meta pages): what survives a machine crash.
// The boot id of the machine that wrote the live count tells recovery
// whether the page cache it lived in survived (same boot) or not.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <string>

#include "mapped_file.h"

namespace roche {

// Entry i describes record i. One more entry always follows the last
// record's: a sentinel whose pos is where the records end (its sum is 0),
// written before the count that covers it, so every record's end is the
// next entry's position and the committed end is entries[count].pos.
struct IndexEntry {
    uint64_t pos;  // byte position of the record's header in the bucket file
    uint64_t sum;  // record_checksum() of header and value
};

// Two checkpoint sectors and the live area: a companion of a few records
// fits one 4 KiB block with its entries.
constexpr uint64_t kIndexHeaderBytes = 2048;
// More entries than a bucket file of 2^50 bytes can hold records: a count
// past this is damage, never a size to compute with.
constexpr uint64_t kMaxEntries = uint64_t(1) << 46;
constexpr uint64_t kLiveAreaOffset = 1024;
constexpr uint64_t kLiveFlagsOffset = kLiveAreaOffset + 36;  // u32
constexpr uint64_t kLiveBucketsOffset = kLiveAreaOffset + 40;  // u32: the namespace's bucket count
// Retention: the first record kept, as an entry number and a position.
// Entries and bytes below them may be holes (punched) and read as zeros.
constexpr uint64_t kLiveFirstIndexOffset = kLiveAreaOffset + 48;  // u64
constexpr uint64_t kLiveFirstPosOffset = kLiveAreaOffset + 56;    // u64
constexpr uint32_t kFlagDeleted = 1;  // roche_delete_namespace() removed the bucket
// ROCHE_FORMAT_ROCHEFORT: the writer closed the bucket cleanly, its file
// trimmed to the end stored at kLiveClosedEndOffset. Records past that end
// were appended by another program (rochefort) after the close: the next
// writable open in that format indexes them. claim() clears it.
constexpr uint32_t kFlagClosed = 2;
constexpr uint64_t kLiveClosedEndOffset = kLiveAreaOffset + 64;  // u64

// Sets kFlagDeleted in a companion file (roche_delete_namespace(), before
// it removes the files): readers in every process see it in their mapping.
void mark_deleted(const std::string &idx_path);

// The machine's boot id (a hash of /proc/sys/kernel/random/boot_id), or 0
// when it cannot be read (then nothing unsynced is ever trusted).
uint64_t current_boot_id();

// What a writable open found in the companion.
struct IndexState {
    bool existed = false;  // the companion was there before this open
    bool usable = false;   // a valid live area or checkpoint
    bool same_boot = false;  // the live count was written during this boot
    uint64_t trusted = 0;  // entries known whole: live count (same boot) or last checkpoint
    uint64_t trusted_end = 0;  // where those records end in the bucket file
    uint64_t first = 0;      // the first record kept (retention), entry number
    uint64_t first_pos = 0;  // and position, from the same source as trusted
    bool closed = false;     // kFlagClosed was set: closed cleanly at closed_end
    uint64_t closed_end = 0;
};

class RecordIndex {
public:
    // Writable: opens or creates path and reads what it records. Nothing in
    // it names the bucket file's inode, so a copied store keeps its
    // companions.
    int open_writable(const std::string &path, IndexState *state);
    // Read-only: ROCHE_ENOTFOUND when there is no usable companion (yet).
    int open_read_only(const std::string &path);
    // The handle's owner tag for a fork child's close (fork_guard.h).
    void set_owner(uint64_t owner) { file_.set_owner(owner); }

    // Writable: discards every entry (a fresh companion).
    int reset();
    // Writable: discards both checkpoints (entries about to be rebuilt).
    void forget_checkpoints() {
        std::memset(file_.base(), 0, kLiveAreaOffset);
        generation_ = 0;
        synced_count_ = 0;
    }
    // Writable: makes room for count entries.
    int reserve(uint64_t count);
    void populate_ahead(uint64_t count, Prefaulter *prefaulter);
    IndexEntry *entries() const {
        return reinterpret_cast<IndexEntry *>(file_.base() + kIndexHeaderBytes);
    }
    // Entries the file holds room for.
    uint64_t capacity() const;

    // The live count: entries whole in the page cache.
    uint64_t published() const { return live_count()->load(std::memory_order_acquire); }
    void publish(uint64_t count) { live_count()->store(count, std::memory_order_release); }
    // Writable: stamps the live area with this boot, the raw file, count,
    // and the namespace's bucket count.
    void claim(uint64_t raw_inode, uint64_t count, uint32_t buckets);
    // The bucket count recorded by the last writer (0 if none).
    uint32_t recorded_buckets() const {
        uint32_t n;
        std::memcpy(&n, file_.base() + kLiveBucketsOffset, sizeof n);
        return n;
    }
    // Writable: drops entries from count on (cut by recovery) and leaves
    // the sentinel: the records end at end.
    int cut(uint64_t count, uint64_t end);

    // Writes entries [from, to) back to the disk (ROCHE_SYNC_ALWAYS).
    int sync_entries(uint64_t from, uint64_t to) const {
        return file_.sync_range(kIndexHeaderBytes + from * sizeof(IndexEntry),
                                kIndexHeaderBytes + to * sizeof(IndexEntry));
    }

    // Retention: the first record kept. The position is stored first and
    // the entry number last (release), and both only ever grow: a reader
    // that loads the number (acquire) and then the position never sees a
    // position below that entry's.
    uint64_t first_kept() const { return live_u64(kLiveFirstIndexOffset)->load(std::memory_order_acquire); }
    uint64_t first_kept_pos() const { return live_u64(kLiveFirstPosOffset)->load(std::memory_order_acquire); }
    void set_first_kept(uint64_t index, uint64_t pos) {
        live_u64(kLiveFirstPosOffset)->store(pos, std::memory_order_release);
        live_u64(kLiveFirstIndexOffset)->store(index, std::memory_order_release);
    }
    // Frees the entries' pages below entry `index` (whole pages past the
    // header's). ROCHE_ENOTSUP when the file system cannot punch holes.
    int punch_entries_below(uint64_t index);

    // Writable, ROCHE_FORMAT_ROCHEFORT: the bucket is closed cleanly with
    // its records ending at end (kFlagClosed).
    void mark_closed(uint64_t end) {
        std::memcpy(file_.base() + kLiveClosedEndOffset, &end, sizeof end);
        flags()->fetch_or(kFlagClosed, std::memory_order_release);
    }
    // Writes the live area back to the disk (a cleared kFlagClosed must not
    // come back after a machine crash).
    int sync_live_area() const { return file_.sync_range(kLiveAreaOffset, kIndexHeaderBytes); }

    // The namespace was deleted: these files are no longer its.
    bool deleted() const {
        return reinterpret_cast<const std::atomic<uint32_t> *>(file_.base() + kLiveFlagsOffset)
                   ->load(std::memory_order_relaxed) & kFlagDeleted;
    }

    // Read-only: maps entries up to count, which the writer has published.
    // covers() says whether that is needed; cover() needs the caller's lock.
    int cover(uint64_t count);
    bool covers(uint64_t count) const {
        if (count > kMaxEntries) return false;
        uint64_t need = kIndexHeaderBytes + count * sizeof(IndexEntry);
        return need <= file_.mapped() && need <= file_.size();
    }

    // The first entry in [first_kept(), count) whose position is >= pos
    // (count if none): the entries before the first record kept may be
    // holes. Interpolation search, falling back to bisection: about one
    // probe for evenly sized records, never more than 2 log2(count).
    uint64_t lower_bound(uint64_t pos, uint64_t count, uint64_t end) const;
    // Hints that lower_bound(pos, ...) will run soon: its first probe.
    void prefetch(uint64_t pos, uint64_t count, uint64_t end) const {
        if (count && end > pos) {
            const IndexEntry *guess = entries() + uint64_t(double(pos) / double(end) * double(count) + 0.5);
            __builtin_prefetch(guess);
            __builtin_prefetch(guess + 1);  // the next entry's position ends the record
        }
    }

    // Writable: the data of the first count entries (ending at end) is on
    // the disk; make the entries durable, then record a checkpoint of them.
    int checkpoint(uint64_t count, uint64_t end, uint64_t raw_inode);

    const std::string &path() const { return file_.path(); }
    int rename_to(const std::string &path) { return file_.rename_to(path); }
    void close() { file_.close(); }

private:
    std::atomic<uint64_t> *live_u64(uint64_t offset) const {
        return reinterpret_cast<std::atomic<uint64_t> *>(file_.base() + offset);
    }
    std::atomic<uint32_t> *flags() const {
        return reinterpret_cast<std::atomic<uint32_t> *>(file_.base() + kLiveFlagsOffset);
    }
    std::atomic<uint64_t> *live_count() const {
        return reinterpret_cast<std::atomic<uint64_t> *>(file_.base() + kLiveAreaOffset + 24);
    }
    struct Checkpoint {
        uint64_t generation = 0, count = 0, end = 0, first = 0, first_pos = 0;
    };
    Checkpoint read_checkpoints() const;

    MappedFile file_;
    uint64_t generation_ = 0;  // of the newest checkpoint
    uint64_t synced_count_ = 0;
    uint64_t punched_below_ = 0;  // entries below this one are holes already
};

}  // namespace roche
