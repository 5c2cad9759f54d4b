#include "fork_guard.h"

#include <pthread.h>
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

}  // namespace roche
