// The multiget result: one allocation holding every item, so a caller (or a
// binding) releases it with one call and can read it in three bulk views.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

struct roche_values {
    size_t count;
    size_t total;         // bytes of all values
    int32_t *statuses;    // count entries
    uint64_t *lengths;    // count entries
    uint64_t *starts;     // count entries: where each value starts in data
    uint8_t *data;        // total bytes
};

namespace roche {

class ValuesBuilder {
public:
    explicit ValuesBuilder(size_t count) : statuses_(count), lengths_(count) {}
    ~ValuesBuilder();

    void set(size_t i, int status, uint64_t length);
    int status(size_t i) const { return statuses_[i]; }
    uint64_t length(size_t i) const { return lengths_[i]; }

    // Lays out the result for the statuses and lengths set so far; false
    // when out of memory. After it, value(i) is where item i's bytes go.
    bool allocate();
    uint8_t *value(size_t i) const { return result_->data + result_->starts[i]; }
    roche_values *release();

private:
    std::vector<int32_t> statuses_;
    std::vector<uint64_t> lengths_;
    roche_values *result_ = nullptr;
};

}  // namespace roche
