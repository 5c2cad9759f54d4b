// Error reporting: int codes from roche.h plus a thread-local detail text.
#pragma once

#include <string>

#include "roche.h"

namespace roche {

// Records `detail` as this thread's last error and returns `code`, so a
// failing path reads `return fail(ROCHE_EINVAL, "...")`.
int fail(int code, const std::string &detail);

// As fail(), with ": <strerror(err)>" appended; the code is ROCHE_EIO except
// for ENOMEM.
int fail_errno(const std::string &what, int err);

const char *last_error();

// Internal, never returned by the API: a read-only handle found its copy of
// a namespace deleted behind it (the Store opens the namespace afresh).
constexpr int kStale = -30990;

}  // namespace roche
