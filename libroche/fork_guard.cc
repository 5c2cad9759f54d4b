#include "fork_guard.h"

#include <pthread.h>

#include <mutex>

namespace roche {

std::atomic<uint64_t> g_fork_generation{0};

namespace {
std::once_flag g_registered;
void on_fork_child() { g_fork_generation.fetch_add(1, std::memory_order_relaxed); }
}  // namespace

uint64_t watch_forks() {
    std::call_once(g_registered, [] { pthread_atfork(nullptr, nullptr, on_fork_child); });
    return fork_generation();
}

}  // namespace roche
