// fork() detection. A child inherits a handle's mappings and lock, but
// writing through them, or trimming files at close, would corrupt the
// parent's store; handles check the generation they were opened in.
#pragma once

#include <atomic>
#include <cstdint>

namespace roche {

extern std::atomic<uint64_t> g_fork_generation;

// Installs the pthread_atfork hook (once) and returns the generation.
uint64_t watch_forks();

// Increases in a child process after each fork(); one relaxed load.
inline uint64_t fork_generation() { return g_fork_generation.load(std::memory_order_relaxed); }

}  // namespace roche
