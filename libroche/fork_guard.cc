#include "fork_guard.h"

#include <pthread.h>

#include <atomic>
#include <mutex>

namespace roche {
namespace {

std::atomic<uint64_t> g_generation{0};
std::once_flag g_registered;

void on_fork_child() { g_generation.fetch_add(1, std::memory_order_relaxed); }

}  // namespace

uint64_t fork_generation() {
    std::call_once(g_registered, [] { pthread_atfork(nullptr, nullptr, on_fork_child); });
    return g_generation.load(std::memory_order_relaxed);
}

}  // namespace roche
