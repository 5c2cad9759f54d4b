#include "record.h"

#include <zlib.h>

namespace roche {
namespace {

// The format is little-endian whatever the host is.
template <typename T>
T load_le(const uint8_t *p) {
    T v;
    std::memcpy(&v, p, sizeof v);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    if (sizeof v == 8) v = T(__builtin_bswap64(uint64_t(v)));
    if (sizeof v == 4) v = T(__builtin_bswap32(uint32_t(v)));
#endif
    return v;
}

template <typename T>
void store_le(uint8_t *p, T v) {
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    if (sizeof v == 8) v = T(__builtin_bswap64(uint64_t(v)));
    if (sizeof v == 4) v = T(__builtin_bswap32(uint32_t(v)));
#endif
    std::memcpy(p, &v, sizeof v);
}

// Every append and every read checks one 12-byte CRC, and zlib's crc32()
// spends most of its time on setup for so short an input. So the header's
// CRC is computed four bytes at a time ("slicing-by-4") from tables derived
// once from zlib's own table: the same CRC-32, bit for bit (test_format
// checks it against crc32()), in about half the time.
struct SliceTables {
    uint32_t t[4][256];
    SliceTables() {
        const z_crc_t *zlib_table = get_crc_table();
        for (int n = 0; n < 256; n++) t[0][n] = uint32_t(zlib_table[n]);
        for (int k = 1; k < 4; k++)
            for (int n = 0; n < 256; n++) t[k][n] = (t[k - 1][n] >> 8) ^ t[0][t[k - 1][n] & 0xff];
    }
};
}  // namespace

uint32_t header_crc(const uint8_t *header) {
    static const SliceTables slices;
    const auto &t = slices.t;
    uint32_t crc = 0xffffffffu;
    for (int i = 0; i < 12; i += 4) {
        crc ^= load_le<uint32_t>(header + i);
        crc = t[3][crc & 0xff] ^ t[2][(crc >> 8) & 0xff] ^ t[1][(crc >> 16) & 0xff] ^ t[0][crc >> 24];
    }
    return crc ^ 0xffffffffu;
}

void encode_header(uint8_t *dst, uint32_t length, uint64_t time_ns) {
    store_le<uint32_t>(dst, length);
    store_le<uint64_t>(dst + 4, time_ns);
    store_le<uint32_t>(dst + 12, header_crc(dst));
}

bool decode_header(const uint8_t *src, RecordHeader *out) {
    if (load_le<uint32_t>(src + 12) != header_crc(src)) return false;
    out->length = load_le<uint32_t>(src);
    out->time_ns = load_le<uint64_t>(src + 4);
    return true;
}

bool header_is_blank(const uint8_t *src) {
    uint64_t a, b;
    std::memcpy(&a, src, 8);
    std::memcpy(&b, src + 8, 8);
    return (a | b) == 0;
}

}  // namespace roche
