// The store's gate: every call passes it shared, and opening, closing or
// deleting a namespace takes it exclusive, so no call ever runs on a
// namespace being released.
//
// Why not std::shared_mutex: glibc's rwlock prefers readers, so threads
// that keep calling (three threads doing appends, gets and stats on a busy
// store) kept roche_close_namespace() waiting for good: it starved for
// over 20 minutes in test_calls_race_closes_and_deletes. Here a writer
// that arrives stops new readers at once and waits only for the calls
// already inside.
//
// How: each thread owns a record (one cache line) saying which gate it is
// inside. A reader writes its record and then reads the gate's writer
// flag; a writer sets the flag and then reads every record (Dekker's
// pattern, on sequentially consistent exchanges and loads). Either the
// reader sees the flag, steps out and waits for the writer on turn_, or
// the writer sees the record and waits for that call to leave.
//
// A thread may take the gate shared again while it holds it (the depth is
// counted; a nested call never waits for a writer, which would wait for
// it). Taking it exclusive while holding it shared deadlocks, as with any
// shared mutex. Meets the SharedMutex requirements of std::shared_lock and
// std::unique_lock.
//
// Measured against std::shared_mutex (medians of 11 alternating runs,
// 2026-12-02): random gets 2.15 against 2.22 M/s, 50 B appends 6.51
// against 6.18 M/s, inside the machine's noise.
#pragma once

#include <atomic>
#include <cstdint>
#include <shared_mutex>

namespace roche {

class ReaderGate {
public:
    ReaderGate();
    ReaderGate(const ReaderGate &) = delete;
    ReaderGate &operator=(const ReaderGate &) = delete;

    void lock_shared();
    void unlock_shared();
    void lock();
    void unlock();

private:
    const uint64_t id_;  // never reused: a thread's record names the gate it is in
    std::atomic<bool> writer_{false};
    std::shared_mutex turn_;  // writers one at a time; readers that met one wait here
};

}  // namespace roche
