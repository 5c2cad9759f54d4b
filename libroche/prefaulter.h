// Page faults taken ahead of the writer, on a thread of its own.
//
// A copy into fresh pages of a mapped file faults each page in first: the
// kernel allocates and zeroes it and the file system maps its block. For
// appends that is a large part of the cost (a quarter of an append of 50 B,
// more of one of 64 KiB, in perf on the bench machine). A handle's
// prefaulter takes those faults for the writers on another core
// (MADV_POPULATE_WRITE), a step ahead of where they write; a writer never
// waits for it, and a page it has not reached yet faults in as it is
// written, as before.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

namespace roche {

// The address space a request may still touch: its mapping's current
// reservation. The mapping's owner narrows it, under mu, before it unmaps
// or moves, so a prefault never lands on address space that is no longer
// the file's. A prefault past the file's end fails quietly (EFAULT); it
// never grows a file.
struct PrefaultRange {
    std::mutex mu;
    uint8_t *lo = nullptr, *hi = nullptr;
};

class Prefaulter {
public:
    Prefaulter() = default;
    ~Prefaulter();  // drops what is queued and joins the thread
    Prefaulter(const Prefaulter &) = delete;
    Prefaulter &operator=(const Prefaulter &) = delete;

    // Queues [at, at + len) of range's mapping. False when the thread cannot
    // be started (the caller then prefaults itself).
    bool request(const std::shared_ptr<PrefaultRange> &range, uint8_t *at, uint64_t len);

private:
    struct Request {
        std::shared_ptr<PrefaultRange> range;
        uint8_t *at;
        uint64_t len;
    };
    void run();

    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Request> queue_;
    bool stop_ = false;
    std::thread thread_;  // started on the first request
};

}  // namespace roche
