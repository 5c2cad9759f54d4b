// MetroHash64: four 64-bit lanes eat 32-byte blocks, the lanes are folded
// into the running hash, then the rest of the input goes in as one 16-byte
// pair of words, an 8-, 4-, 2- and 1-byte piece (each when present), and a
// final avalanche. All reads are little-endian; all arithmetic is mod 2^64.
#include "metrohash.h"

#include <cstring>

namespace cli {
namespace {

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

}  // namespace

uint64_t metrohash64(const void *data, size_t len, uint64_t seed) {
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

}  // namespace cli
