#include "error.h"

#include <cerrno>
#include <cstring>

namespace roche {
namespace {
thread_local std::string t_last_error;
}

int fail(int code, const std::string &detail) {
    try {
        t_last_error = detail;
    } catch (...) {
        // Out of memory while describing an error: the code still tells.
    }
    return code;
}

int fail_errno(const std::string &what, int err) {
    return fail(err == ENOMEM ? ROCHE_ENOMEM : ROCHE_EIO, what + ": " + std::strerror(err));
}

const char *last_error() { return t_last_error.c_str(); }

}  // namespace roche
