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

}  // namespace

uint32_t header_crc(const uint8_t *header) {
    return uint32_t(crc32(0L, header, 12));
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
