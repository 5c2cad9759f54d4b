#include "fork_guard.h"

#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <mutex>

namespace roche {

std::atomic<uint64_t> g_fork_generation{0};

namespace {
std::once_flag g_registered;
constexpr int kChildCloseSlots = 1024;
std::atomic<int> g_child_close[kChildCloseSlots];  // 0 (free) or a descriptor + 1

void on_fork_child() {
    g_fork_generation.fetch_add(1, std::memory_order_relaxed);
    for (auto &slot : g_child_close) {
        int fd = slot.exchange(0, std::memory_order_relaxed) - 1;
        if (fd >= 0) close(fd);
    }
}
}  // namespace

int close_in_child(int fd) {
    watch_forks();
    for (int i = 0; i < kChildCloseSlots; i++) {
        int empty = 0;
        if (g_child_close[i].compare_exchange_strong(empty, fd + 1)) return i;
    }
    return -1;
}

void forget_in_child(int slot) {
    if (slot >= 0) g_child_close[slot].store(0, std::memory_order_relaxed);
}

uint64_t watch_forks() {
    std::call_once(g_registered, [] { pthread_atfork(nullptr, nullptr, on_fork_child); });
    return fork_generation();
}


namespace {
// Slots in chunks that are never freed, so a slot number stays valid and a
// child can walk them without a lock. A slot goes free -> busy (claimed,
// being filled) -> live, and back to free; a child acts on live slots only.
enum : uint32_t { kFree = 0, kBusy = 1, kLive = 2 };
struct TrackedSlot {
    std::atomic<uint32_t> state{kFree};
    std::atomic<uint64_t> owner{0};
    std::atomic<uintptr_t> addr{0};  // the mapping, or the descriptor
    std::atomic<uint64_t> len{0};    // 0 for a descriptor
};
constexpr int kSlotsPerChunk = 512;
struct TrackedChunk {
    TrackedSlot slots[kSlotsPerChunk];
    std::atomic<TrackedChunk *> next{nullptr};
};
TrackedChunk g_first_chunk;
std::atomic<uint64_t> g_next_owner{1};

TrackedSlot &slot_at(int slot) {
    TrackedChunk *chunk = &g_first_chunk;
    for (int i = slot / kSlotsPerChunk; i > 0; i--) chunk = chunk->next.load(std::memory_order_acquire);
    return chunk->slots[slot % kSlotsPerChunk];
}

int track(uint64_t owner, uintptr_t addr, uint64_t len) {
    if (!owner) return -1;
    TrackedChunk *chunk = &g_first_chunk;
    for (int base = 0;; base += kSlotsPerChunk) {
        for (int i = 0; i < kSlotsPerChunk; i++) {
            TrackedSlot &s = chunk->slots[i];
            uint32_t expected = kFree;
            if (s.state.load(std::memory_order_relaxed) != kFree ||
                !s.state.compare_exchange_strong(expected, kBusy, std::memory_order_acquire))
                continue;
            s.owner.store(owner, std::memory_order_relaxed);
            s.addr.store(addr, std::memory_order_relaxed);
            s.len.store(len, std::memory_order_relaxed);
            s.state.store(kLive, std::memory_order_release);
            return base + i;
        }
        TrackedChunk *next = chunk->next.load(std::memory_order_acquire);
        if (!next) {
            auto *fresh = new TrackedChunk();
            if (chunk->next.compare_exchange_strong(next, fresh, std::memory_order_acq_rel))
                next = fresh;
            else
                delete fresh;  // another thread linked one first: next is it
        }
        chunk = next;
    }
}
}  // namespace

uint64_t new_owner_tag() {
    watch_forks();
    return g_next_owner.fetch_add(1, std::memory_order_relaxed);
}

int track_mapping(uint64_t owner, void *addr, uint64_t len) {
    return track(owner, reinterpret_cast<uintptr_t>(addr), len);
}

int track_descriptor(uint64_t owner, int fd) { return fd < 0 ? -1 : track(owner, uintptr_t(fd), 0); }

void untrack(int slot) {
    if (slot >= 0) slot_at(slot).state.store(kFree, std::memory_order_release);
}

void release_in_child(uint64_t owner) {
    if (!owner) return;
    for (TrackedChunk *chunk = &g_first_chunk; chunk; chunk = chunk->next.load(std::memory_order_acquire)) {
        for (TrackedSlot &s : chunk->slots) {
            if (s.state.load(std::memory_order_acquire) != kLive || s.owner.load(std::memory_order_relaxed) != owner)
                continue;
            uintptr_t addr = s.addr.load(std::memory_order_relaxed);
            uint64_t len = s.len.load(std::memory_order_relaxed);
            s.state.store(kFree, std::memory_order_relaxed);
            if (len)
                munmap(reinterpret_cast<void *>(addr), len);
            else
                close(int(addr));
        }
    }
}

}  // namespace roche
