// A pull-style scan over one namespace, in offset order.
#pragma once

#include <memory>
#include <vector>

#include "namespace.h"

namespace roche {

class Scan {
public:
    // ns may be NULL (a namespace that does not exist scans as empty).
    Scan(std::shared_ptr<Namespace> ns, uint64_t from);
    int next(uint64_t *offset, const void **data, size_t *len, uint64_t *time_ns);

private:
    std::shared_ptr<Namespace> ns_;  // keeps a closed namespace's object alive
    uint32_t bucket_;
    uint64_t from_pos_;     // where to start in the first bucket
    bool entered_ = false;  // extent_ and cursor_ describe bucket_
    BucketExtent extent_;   // what the scan covers of bucket_, fixed on entry
    uint64_t cursor_ = 0;
    std::vector<uint8_t> scratch_;
};

}  // namespace roche
