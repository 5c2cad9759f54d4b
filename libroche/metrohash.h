// MetroHash64 (J. Andrew Rogers, 2015), the 64-bit variant with a seed:
// the check rochefort v0.5 puts in its record headers, and the hash it
// places an id's records with. Written from the published algorithm;
// checked against its reference test vectors by cli/tests/metrohash_test.cc.
//
// The one implementation: the engine uses it for ROCHE_FORMAT_ROCHEFORT
// (record.h, namespace.cc), and the roche tool's import and its tests
// include this header too (it needs nothing from the engine). Inline, so
// the 12-byte header check of the append path compiles to straight code.
//
// Four 64-bit lanes eat 32-byte blocks, the lanes are folded into the
// running hash, then the rest of the input goes in as one 16-byte pair of
// words, an 8-, 4-, 2- and 1-byte piece (each when present), and a final
// avalanche. All reads are little-endian; all arithmetic is mod 2^64.
#ifndef ROCHE_METROHASH_H
#define ROCHE_METROHASH_H

#include <cstddef>
#include <cstdint>

namespace roche {
namespace metro_detail {

// The multipliers of the 64-bit variant.
constexpr uint64_t kK0 = 0xD6D018F5;
constexpr uint64_t kK1 = 0xA2AA033B;
constexpr uint64_t kK2 = 0x62992FC1;
constexpr uint64_t kK3 = 0x30BC5B29;

inline uint64_t rotr(uint64_t v, unsigned bits) { return (v >> bits) | (v << (64 - bits)); }

// Little-endian loads of n = 1, 2, 4 or 8 bytes, whatever the host order.
inline uint64_t load(const unsigned char *p, unsigned n) {
    uint64_t v = 0;
    for (unsigned i = n; i-- > 0;) v = v << 8 | p[i];
    return v;
}

}  // namespace metro_detail

// MetroHash64 of len bytes at data with seed, as a number (the reference
// implementation stores it to memory in the machine's byte order; its test
// vectors are that memory on a little-endian machine).
inline uint64_t metrohash64(const void *data, size_t len, uint64_t seed) {
    using namespace metro_detail;
    const unsigned char *p = static_cast<const unsigned char *>(data);
    const unsigned char *const end = p + len;
    const uint64_t start = (seed + kK2) * kK0;
    uint64_t h = start;

    if (len >= 32) {
        uint64_t lane[4] = {start, start, start, start};
        const uint64_t mult[4] = {kK0, kK1, kK2, kK3};
        do {
            // Lane i takes word i, then adds lane (i + 2) % 4 as it stands:
            // lanes 2 and 3 are still the previous block's for lanes 0 and
            // 1; lanes 0 and 1 are this block's for lanes 2 and 3.
            for (unsigned i = 0; i < 4; i++) {
                lane[i] += load(p + 8 * i, 8) * mult[i];
                lane[i] = rotr(lane[i], 29) + lane[(i + 2) & 3];
            }
            p += 32;
        } while (end - p >= 32);
        lane[2] ^= rotr((lane[0] + lane[3]) * kK0 + lane[1], 37) * kK1;
        lane[3] ^= rotr((lane[1] + lane[2]) * kK1 + lane[0], 37) * kK0;
        lane[0] ^= rotr((lane[0] + lane[2]) * kK0 + lane[3], 37) * kK1;
        lane[1] ^= rotr((lane[1] + lane[3]) * kK1 + lane[2], 37) * kK0;
        h += lane[0] ^ lane[1];
    }

    if (end - p >= 16) {
        uint64_t a = rotr(h + load(p, 8) * kK2, 29) * kK3;
        uint64_t b = rotr(h + load(p + 8, 8) * kK2, 29) * kK3;
        a ^= rotr(a * kK0, 21) + b;
        b ^= rotr(b * kK3, 21) + a;
        h += b;
        p += 16;
    }
    if (end - p >= 8) {
        h += load(p, 8) * kK3;
        h ^= rotr(h, 55) * kK1;
        p += 8;
    }
    if (end - p >= 4) {
        h += load(p, 4) * kK3;
        h ^= rotr(h, 26) * kK1;
        p += 4;
    }
    if (end - p >= 2) {
        h += load(p, 2) * kK3;
        h ^= rotr(h, 48) * kK1;
        p += 2;
    }
    if (end - p >= 1) {
        h += load(p, 1) * kK3;
        h ^= rotr(h, 37) * kK1;
    }

    h ^= rotr(h, 28);
    h *= kK0;
    h ^= rotr(h, 29);
    return h;
}

// The check rochefort v0.5 writes in a record header: the upper 32 bits of
// MetroHash64, seed 0, of the header's first 12 bytes (length and time).
inline uint32_t rochefort_check(const unsigned char header[12]) {
    return uint32_t(metrohash64(header, 12, 0) >> 32);
}

// The bucket rochefort v0.5 places an id's records in, before the modulo:
// the upper 32 bits of MetroHash64, seed 0, of the id's bytes.
inline uint32_t rochefort_id_hash(const void *id, size_t len) {
    return uint32_t(metrohash64(id, len, 0) >> 32);
}

}  // namespace roche

#endif
