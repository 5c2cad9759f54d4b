#include "prefaulter.h"

#include <sys/mman.h>

#include <system_error>

#include "quiet_thread.h"

namespace roche {

Prefaulter::~Prefaulter() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stop_ = true;
        queue_.clear();
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

bool Prefaulter::request(const std::shared_ptr<PrefaultRange> &range, uint8_t *at, uint64_t len) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!thread_.joinable()) {
        try {
            thread_ = start_quiet_thread([this] { run(); });
        } catch (const std::system_error &) {
            return false;
        }
    }
    queue_.push_back({range, at, len});
    cv_.notify_one();
    return true;
}

void Prefaulter::run() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
        cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
        if (stop_) return;
        Request r = std::move(queue_.front());
        queue_.pop_front();
        lock.unlock();
        {
            std::lock_guard<std::mutex> held(r.range->mu);  // the mapping stays while we touch it
            if (r.at >= r.range->lo && r.at + r.len <= r.range->hi) {
#ifdef MADV_POPULATE_WRITE
                madvise(r.at, r.len, MADV_POPULATE_WRITE);  // advice: a failure changes nothing
#endif
            }
        }
        r.range.reset();
        lock.lock();
    }
}

}  // namespace roche
