// Retention: dropping the oldest records of a namespace and giving their
// disk space back in place (roche.h, roche_retain()).
//
// Each bucket drops a prefix of its records. The first record kept is
// made durable (a checkpoint, after syncing the bucket) before any block
// is freed, so a crash anywhere in a pass leaves every record that was not
// yet dropped intact, and the next pass frees what the crash left.
#pragma once

#include <cstdint>

#include "namespace.h"

namespace roche {

// Drops the records older than older_than_ns (0: no age limit), then, by
// time across buckets, as many more as needed for the records kept to
// total at most max_bytes (0: no limit). *freed: the bytes dropped.
int retain_namespace(Namespace &ns, uint64_t older_than_ns, uint64_t max_bytes, uint64_t *freed);

}  // namespace roche
