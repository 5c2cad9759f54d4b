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
    void seek_within(BucketFile *bucket);

    std::shared_ptr<Namespace> ns_;  // keeps a closed namespace's object alive
    uint32_t bucket_;
    uint64_t pos_;
    bool seek_pending_;  // pos_ came from the caller and may be mid-record
    std::vector<uint8_t> scratch_;
};

}  // namespace roche
