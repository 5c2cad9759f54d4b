#include "values.h"

#include <cstdlib>
#include <cstring>

#include "roche.h"

namespace roche {

ValuesBuilder::~ValuesBuilder() { std::free(result_); }

void ValuesBuilder::set(size_t i, int status, uint64_t length) {
    statuses_[i] = status;
    lengths_[i] = status == ROCHE_OK ? length : 0;
}

bool ValuesBuilder::allocate() {
    std::free(result_);
    result_ = nullptr;
    size_t count = statuses_.size(), total = 0;
    for (uint64_t len : lengths_) total += len;
    // Layout: struct | lengths | starts | statuses | data; each array aligned.
    size_t arrays = count * (2 * sizeof(uint64_t) + sizeof(int32_t));
    size_t head = (sizeof(roche_values) + 7) / 8 * 8;
    auto *block = static_cast<uint8_t *>(std::malloc(head + arrays + total + 1));
    if (!block) return false;
    result_ = reinterpret_cast<roche_values *>(block);
    result_->count = count;
    result_->total = total;
    result_->lengths = reinterpret_cast<uint64_t *>(block + head);
    result_->starts = result_->lengths + count;
    result_->statuses = reinterpret_cast<int32_t *>(result_->starts + count);
    result_->data = reinterpret_cast<uint8_t *>(result_->statuses + count);
    uint64_t start = 0;
    for (size_t i = 0; i < count; i++) {
        result_->starts[i] = start;
        start += lengths_[i];
    }
    if (count) {
        std::memcpy(result_->lengths, lengths_.data(), count * sizeof(uint64_t));
        std::memcpy(result_->statuses, statuses_.data(), count * sizeof(int32_t));
    }
    return true;
}

roche_values *ValuesBuilder::release() {
    roche_values *out = result_;
    result_ = nullptr;
    return out;
}

}  // namespace roche
