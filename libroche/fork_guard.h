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

// Descriptors a child of fork() must not keep: the writer lock, which
// belongs to the open file description that fork() shares, so a child that
// kept it would hold the store's lock after its parent closed. The child's
// copy is closed as the child starts, before any code of the program runs
// there. Lock-free, since a fork may happen while another thread is
// registering. Returns a slot for forget_in_child(), or -1 when all are
// taken (then a child keeps the lock until it exits, as before).
int close_in_child(int fd);
void forget_in_child(int slot);

// What a child's roche_close() gives back: the mappings and descriptors a
// handle held at the fork. Each is recorded under its handle's owner tag
// (new_owner_tag()) after it is made and forgotten before it is unmade, so
// the registry only ever names memory and descriptors the handle really
// holds; one made or unmade by a parent thread at the very instant of the
// fork is left to the child's exit. Lock-free for the same reason as
// close_in_child(): the child must not wait on a lock a vanished thread held.
// A tracked item's slot is -1 when it is not tracked (owner 0).
uint64_t new_owner_tag();
int track_mapping(uint64_t owner, void *addr, uint64_t len);
int track_descriptor(uint64_t owner, int fd);
void untrack(int slot);
// Child only: unmaps and closes everything tracked under owner.
void release_in_child(uint64_t owner);

}  // namespace roche
