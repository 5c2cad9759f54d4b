// The checksum kept beside each record in the companion index.
//
// XXH3-64 from the xxHash library (Debian libxxhash-dev), seeded with the
// record's position, over the whole record (16-byte header and value): a
// record is only ever accepted at the position it was written at, with
// exactly the bytes it was written with. README ("Why these libraries")
// has the measurements against ISA-L's CRC-32C that chose it.
//
// Records up to 240 bytes take XXH3's scalar path, inlined here. Longer
// ones go to a build of XXH3 for the widest vector unit the CPU has (SSE2,
// AVX2 or AVX-512, chosen once at load; checksum.cc), so a portable
// x86-64 build still hashes at memory speed without a runtime dependency.
#pragma once

#include <cstddef>
#include <cstdint>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace roche {

using WideHash = uint64_t (*)(const void *p, size_t n, uint64_t seed);
using WideHashParts = uint64_t (*)(const void *a, size_t an, const void *b, size_t bn, uint64_t seed);
extern WideHash g_wide_hash;
extern WideHashParts g_wide_hash_parts;
constexpr size_t kScalarHashMax = 240;  // XXH3 uses no vectors up to here

// Checksum of a record lying contiguously at p (header then value).
inline uint64_t record_checksum(uint64_t pos, const uint8_t *p, size_t n) {
    return n <= kScalarHashMax ? XXH3_64bits_withSeed(p, n, pos) : g_wide_hash(p, n, pos);
}

// The same checksum of a record whose 16-byte header and value lie apart.
inline uint64_t record_checksum(uint64_t pos, const uint8_t *header, const uint8_t *value, size_t len) {
    return g_wide_hash_parts(header, 16, value, len, pos);
}

}  // namespace roche
