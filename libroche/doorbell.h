// A namespace's doorbell: how a follower, in this process or another,
// sleeps until the writer appends, without a sleep loop.
//
// The file <ns>/doorbell holds one 4 KiB page, mapped shared by the writer
// and by every follower:
//   bytes 0..3   u32 sequence: the futex word followers sleep on
//   bytes 4..7   u32 waiting: set by a follower before it sleeps
// The writer creates the file (sparse: no block is written until a
// follower first waits) when it opens the namespace, and keeps only the
// mapping, not a descriptor.
//
// Protocol (Dekker's, on two words): a follower sets `waiting`, fences,
// reads the sequence, checks the buckets once more and sleeps while the
// sequence still has that value. The writer publishes a record, fences,
// and only when `waiting` is set clears it, bumps the sequence and wakes
// every sleeper. Either the follower's check sees the record or the
// writer sees the flag, so no record is slept through; an append with no
// follower waiting costs a fence and a load. A follower killed while
// waiting leaves the flag set, which costs the writer one wake, once.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace roche {

class Doorbell {
public:
    Doorbell() = default;
    ~Doorbell();
    Doorbell(const Doorbell &) = delete;
    Doorbell &operator=(const Doorbell &) = delete;

    // Maps <dir>/doorbell, creating it when missing.
    // owner: the handle's tag for a fork child's close (fork_guard.h).
    int open(const std::string &dir, uint64_t owner);

    // Writer: after publishing records, wakes the followers that wait.
    void ring() {
        std::atomic_thread_fence(std::memory_order_seq_cst);
        if (waiting()->load(std::memory_order_relaxed) && waiting()->exchange(0, std::memory_order_seq_cst))
            wake_all();
    }
    // Follower: announces a wait and returns the sequence to wait on. Check
    // for records after this call and before wait().
    uint32_t arm() {
        waiting()->store(1, std::memory_order_seq_cst);
        std::atomic_thread_fence(std::memory_order_seq_cst);
        return sequence()->load(std::memory_order_seq_cst);
    }
    // Follower: sleeps while the sequence is still seen, at most timeout_ms
    // (-1: no limit). Returns false on timeout; true when rung, woken, or
    // interrupted (the caller checks again either way).
    bool wait(uint32_t seen, int timeout_ms);
    // Wakes every follower sleeping on this doorbell (a ring, or a
    // follower being woken from another thread: it rechecks and sees why).
    void wake_all();

private:
    std::atomic<uint32_t> *sequence() const { return reinterpret_cast<std::atomic<uint32_t> *>(page_); }
    std::atomic<uint32_t> *waiting() const { return reinterpret_cast<std::atomic<uint32_t> *>(page_ + 4); }

    uint8_t *page_ = nullptr;
    int page_slot_ = -1;
};

}  // namespace roche
