// fork() detection. A child inherits a handle's mappings and lock, but
// writing through them, or trimming files at close, would corrupt the
// parent's store; handles check the generation they were opened in.
#pragma once

#include <cstdint>

namespace roche {

// Increases in a child process after each fork().
uint64_t fork_generation();

}  // namespace roche
