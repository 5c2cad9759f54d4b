// The value checksum kept beside each record in the companion index.
//
// XXH3 (64-bit) from the xxHash library, seeded with the record's position,
// over the whole record (16-byte header and value): a record is only ever
// accepted at the position it was written at, with exactly the bytes it was
// written with. bench/checksum measured it against ISA-L's CRC-32C and
// zlib's CRC-32 (README: "Why these libraries"). The header keeps rochefort's
// zlib CRC-32 as well; this checksum never replaces the format, it sits
// beside it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace roche {

// Checksum of a record lying contiguously at p (header then value).
inline uint64_t record_checksum(uint64_t pos, const uint8_t *p, size_t n) {
    return XXH3_64bits_withSeed(p, n, pos);
}

// The same checksum of a record whose header and value lie apart.
inline uint64_t record_checksum(uint64_t pos, const uint8_t *header, const uint8_t *value,
                                size_t len) {
    XXH3_state_t state;
    std::memset(&state, 0, sizeof state);  // quiets a false -Wmaybe-uninitialized
    XXH3_64bits_reset_withSeed(&state, pos);
    XXH3_64bits_update(&state, header, 16);
    if (len) XXH3_64bits_update(&state, value, len);
    return XXH3_64bits_digest(&state);
}

}  // namespace roche
