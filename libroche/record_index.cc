#include "record_index.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>

#include "checksum.h"
#include "error.h"
#include "roche.h"

// The companion stores integers in the host's order, read in place through
// the mapping; the format is defined as little-endian (roche.h).
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the companion file is little-endian");

namespace roche {
namespace {

constexpr uint64_t kSlotMagic = 0x3230305849484352ull;  // "RCHIX002": a synced checkpoint
constexpr uint64_t kLiveMagic = 0x31303056494c4352ull;  // "RCLIV001": the live area
constexpr uint64_t kSlotBytes = 512;                    // one sector each, torn apart
constexpr uint64_t kSlotCheckedBytes = 56;
constexpr uint64_t kMinIndexReserve = 16u << 20;

struct Slot {
    uint64_t magic, generation, count, end, raw_inode, first, first_pos, check;
};
struct LiveArea {
    uint64_t magic, boot, raw_inode;
    // then the live count (atomic) and a 32-bit sequence reserved for follow
};

uint64_t slot_check(const Slot &s) {
    return XXH3_64bits(&s, kSlotCheckedBytes);
}

}  // namespace

uint64_t current_boot_id() {
    static const uint64_t id = [] {
        std::ifstream in("/proc/sys/kernel/random/boot_id");
        std::string text;
        if (!std::getline(in, text) || text.empty()) return uint64_t(0);
        uint64_t h = XXH3_64bits(text.data(), text.size());
        return h ? h : 1;
    }();
    return id;
}

void mark_deleted(const std::string &idx_path) {
    int fd = ::open(idx_path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return;  // no companion: nothing reads it through one
    uint32_t flags = kFlagDeleted;
    (void)!pwrite(fd, &flags, sizeof flags, off_t(kLiveFlagsOffset));
    ::close(fd);
}

uint64_t RecordIndex::capacity() const {
    uint64_t size = std::min(file_.size(), file_.mapped());
    return size > kIndexHeaderBytes ? (size - kIndexHeaderBytes) / sizeof(IndexEntry) : 0;
}

RecordIndex::Checkpoint RecordIndex::read_checkpoints() const {
    Checkpoint newest;
    for (int i = 0; i < 2; i++) {
        Slot s;
        std::memcpy(&s, file_.base() + i * kSlotBytes, sizeof s);
        if (s.magic != kSlotMagic || s.check != slot_check(s)) continue;
        if (s.generation > newest.generation && s.first <= s.count)
            newest = Checkpoint{s.generation, s.count, s.end, s.first, s.first_pos};
    }
    return newest;
}

int RecordIndex::open_writable(const std::string &path, IndexState *state) {
    *state = IndexState();
    int rc = file_.open(path, O_RDWR);
    state->existed = rc == ROCHE_OK;
    if (rc == ROCHE_ENOTFOUND) rc = file_.open(path, O_RDWR | O_CREAT);
    if (rc != ROCHE_OK) return rc;
    bool fresh = file_.size() < kIndexHeaderBytes;
    if (fresh && file_.size() > 0 && (rc = file_.truncate(0)) != ROCHE_OK) return rc;
    if ((rc = file_.map(kMinIndexReserve)) != ROCHE_OK) return rc;
    if (fresh) return reset();
    LiveArea live;
    std::memcpy(&live, file_.base() + kLiveAreaOffset, sizeof live);
    bool live_ok = live.magic == kLiveMagic;
    Checkpoint synced = read_checkpoints();
    generation_ = synced.generation;
    synced_count_ = synced.count;
    state->usable = live_ok || generation_ > 0;
    state->same_boot = live_ok && live.boot != 0 && live.boot == current_boot_id();
    if (live_ok && (flags()->load() & kFlagClosed)) {
        state->closed = true;
        std::memcpy(&state->closed_end, file_.base() + kLiveClosedEndOffset, sizeof state->closed_end);
    }
    // The trusted records and the sentinel after them must fit the file.
    uint64_t fits = capacity() ? capacity() - 1 : 0;
    if (state->same_boot) {
        state->trusted = std::min(published(), fits);
        state->trusted_end = entries()[state->trusted].pos;
        state->first = std::min(first_kept(), state->trusted);
        state->first_pos = first_kept_pos();
    } else if (synced.count <= fits) {
        state->trusted = synced.count;
        state->trusted_end = synced.end;
        state->first = synced.first;
        state->first_pos = synced.first_pos;
    }
    if (!state->usable) return reset();
    punched_below_ = state->first;
    return ROCHE_OK;
}

int RecordIndex::open_read_only(const std::string &path) {
    int rc = file_.open(path, O_RDONLY);
    if (rc != ROCHE_OK) return rc;
    if (file_.size() < kIndexHeaderBytes) return fail(ROCHE_ENOTFOUND, path + ": not initialized yet");
    if ((rc = file_.map(kMinIndexReserve)) != ROCHE_OK) return rc;
    uint64_t magic;
    std::memcpy(&magic, file_.base() + kLiveAreaOffset, sizeof magic);
    if (magic != kLiveMagic) return fail(ROCHE_ENOTFOUND, path + ": not initialized yet");
    return ROCHE_OK;
}

// A fresh header: no checkpoint, no entries. The live area's magic goes in
// last (claim()), so a reader never takes a half-written header for one.
int RecordIndex::reset() {
    int rc = file_.truncate(0);
    if (rc == ROCHE_OK) rc = file_.grow(4096, 4096, 4096, 4096);
    if (rc != ROCHE_OK) return rc;
    std::memset(file_.base(), 0, kIndexHeaderBytes);
    generation_ = 0;
    synced_count_ = 0;
    return ROCHE_OK;
}

void RecordIndex::claim(uint64_t raw_inode, uint64_t count, uint32_t buckets) {
    uint8_t *area = file_.base() + kLiveAreaOffset;
    publish(count);
    std::memcpy(file_.base() + kLiveBucketsOffset, &buckets, sizeof buckets);
    // A deletion that a crash interrupted before the files went: the
    // namespace is this writer's again.
    // A clean close (kFlagClosed) is over too.
    flags()->store(0, std::memory_order_relaxed);
    std::memset(file_.base() + kLiveClosedEndOffset, 0, 8);
    uint64_t boot = current_boot_id();
    std::memcpy(area + 8, &boot, 8);
    std::memcpy(area + 16, &raw_inode, 8);
    reinterpret_cast<std::atomic<uint64_t> *>(area)->store(kLiveMagic, std::memory_order_release);
}

int RecordIndex::reserve(uint64_t count) {
    uint64_t need = kIndexHeaderBytes + count * sizeof(IndexEntry);
    if (need <= file_.size()) return ROCHE_OK;
    return file_.grow(need, 4096, 16u << 20, 4096);  // doubling, from one page
}

void RecordIndex::populate_ahead(uint64_t count, Prefaulter *prefaulter) {
    file_.populate_ahead(kIndexHeaderBytes + count * sizeof(IndexEntry), 256u << 10, prefaulter);
}

int RecordIndex::cut(uint64_t count, uint64_t end) {
    if (count < synced_count_) synced_count_ = count;
    // Readers in other processes may still hold the old live count: the
    // entries below it are zeroed (they then read as damage), never cut
    // from the file under their mapping, which would raise SIGBUS.
    uint64_t published_count = published();
    uint64_t readable = published_count < capacity() ? published_count + 1 : capacity();
    if (readable > count)
        std::memset(entries() + count, 0, (readable - count) * sizeof(IndexEntry));
    uint64_t keep = kIndexHeaderBytes + std::max(count + 1, readable) * sizeof(IndexEntry);
    int rc = reserve(count + 1);
    if (rc != ROCHE_OK) return rc;
    entries()[count] = IndexEntry{end, 0};
    if (keep >= file_.size()) return ROCHE_OK;
    uint64_t page_end = std::min(round_up(keep, page_size()), file_.size());
    std::memset(file_.base() + keep, 0, page_end - keep);
    return file_.truncate(page_end);
}

int RecordIndex::punch_entries_below(uint64_t index) {
    uint64_t from = round_up(kIndexHeaderBytes + punched_below_ * sizeof(IndexEntry), page_size());
    uint64_t to = (kIndexHeaderBytes + index * sizeof(IndexEntry)) / page_size() * page_size();
    if (to > from) {
        int rc = file_.punch_hole(from, to);
        if (rc != ROCHE_OK) return rc;
    }
    punched_below_ = std::max(punched_below_, index);
    return ROCHE_OK;
}

int RecordIndex::cover(uint64_t count) {
    if (count > kMaxEntries) return fail(ROCHE_ECORRUPT, path() + ": a count no bucket can hold (damaged)");
    return file_.cover(kIndexHeaderBytes + count * sizeof(IndexEntry));
}

uint64_t RecordIndex::lower_bound(uint64_t pos, uint64_t count, uint64_t end) const {
    const IndexEntry *e = entries();
    // Invariant: entries below lo lie before pos, entries from hi on at or
    // after it; positions in [lo, hi) lie within [lo_pos, hi_pos).
    uint64_t lo = std::min(first_kept(), count), hi = count, lo_pos = 0, hi_pos = std::max(end, pos + 1);
    bool interpolate = true;
    while (lo < hi) {
        if (pos <= lo_pos) return lo;
        if (pos >= hi_pos) return hi;
        uint64_t span = hi - lo, mid;
        if (interpolate)  // double, not a 128-bit division: a few cycles, not dozens
            mid = lo + uint64_t(double(pos - lo_pos) / double(hi_pos - lo_pos) * double(span) + 0.5);
        else
            mid = lo + span / 2;
        mid = std::min(mid, hi - 1);
        uint64_t at = e[mid].pos;
        if (at < pos) {
            lo = mid + 1;
            lo_pos = at + 16;  // the next record starts past this one's header
        } else {
            hi = mid;
            hi_pos = at;
            if (at == pos) return mid;
        }
        // Uneven record sizes mislead interpolation: bisect after a step
        // that did not halve the range, so the worst case stays logarithmic.
        interpolate = !interpolate || (hi - lo) * 2 <= span;
    }
    return lo;
}

int RecordIndex::checkpoint(uint64_t count, uint64_t end, uint64_t raw_inode) {
    uint64_t from = kIndexHeaderBytes + synced_count_ * sizeof(IndexEntry);
    uint64_t to = kIndexHeaderBytes + count * sizeof(IndexEntry);
    int rc = file_.sync_range(from, to);
    if (rc == ROCHE_OK) rc = file_.datasync();
    if (rc != ROCHE_OK) return rc;
    // The entries are on the disk; only now may a checkpoint claim them.
    Slot s{kSlotMagic, generation_ + 1, count, end, raw_inode, first_kept(), first_kept_pos(), 0};
    s.check = slot_check(s);
    uint8_t *slot = file_.base() + (s.generation % 2) * kSlotBytes;
    std::memcpy(slot, &s, sizeof s);
    rc = file_.sync_range((s.generation % 2) * kSlotBytes, (s.generation % 2) * kSlotBytes + kSlotBytes);
    if (rc != ROCHE_OK) return rc;
    generation_ = s.generation;
    synced_count_ = count;
    return ROCHE_OK;
}

}  // namespace roche
