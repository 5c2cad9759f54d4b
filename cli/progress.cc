#include "progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace cli {
namespace {

// Smaller stores are done before a progress bar would be seen.
const uint64_t kProgressMinBytes = 32u << 20;

}  // namespace

Progress::Progress(const char *label, uint64_t total, bool wanted)
    : label_(label), total_(total),
      shown_(wanted && total >= kProgressMinBytes && isatty(STDERR_FILENO)) {}

void Progress::at(uint64_t pos) {
    if (!shown_) return;
    int percent = int(std::min(base_ + pos, total_) * 100 / total_);  // files may grow
    if (percent == percent_) return;
    percent_ = percent;
    int filled = percent * 30 / 100;
    std::fprintf(stderr, "\r%s [%.*s%*s] %3d%%", label_, filled, "##############################",
                 30 - filled, "", percent);
    std::fflush(stderr);
}

void Progress::clear() {
    if (!shown_ || percent_ < 0) return;
    std::fprintf(stderr, "\r%50s\r", "");
    percent_ = -1;
}

}  // namespace cli
