#include "record.h"

#include <zlib.h>

#include "error.h"
#include "metrohash.h"

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

// zlib's crc32() takes 17 to 19 ns for 12 bytes here (a byte at a time,
// each step waiting on the last): a tenth of an append of 50 B. CRC-32 is
// affine in its input, so the CRC of 12 bytes is the CRC of 12 zero bytes
// XORed with one term per byte, each a function of that byte and its
// place alone: 12 independent table loads, 7 to 8 ns. The tables are
// computed by zlib itself, once, so zlib stays the definition
// (test_header_crc_is_zlibs in tests/test_format.c checks the result).
namespace {
struct HeaderCrcTables {
    uint32_t zeros;             // crc32 of 12 zero bytes
    uint32_t term[12][256];     // crc32 of byte b at place k, else zeros, XOR zeros
    HeaderCrcTables() {
        const uint8_t none[12] = {};
        zeros = uint32_t(crc32(0L, none, 12));
        for (int k = 0; k < 12; k++)
            for (int b = 0; b < 256; b++) {
                uint8_t one[12] = {};  // fresh each time: byte b at place k only
                one[k] = uint8_t(b);
                term[k][b] = uint32_t(crc32(0L, one, 12)) ^ zeros;
            }
    }
};
}  // namespace

uint32_t header_crc(const uint8_t *header) {
    static const HeaderCrcTables tables;
    uint32_t crc = tables.zeros;
    for (int k = 0; k < 12; k++) crc ^= tables.term[k][header[k]];
    return crc;
}

uint32_t header_check(const uint8_t *header, HeaderFormat f) {
    return f == HeaderFormat::Roche ? header_crc(header) : rochefort_check(header);
}

const char *format_option_name(HeaderFormat f) {
    return f == HeaderFormat::Roche ? "ROCHE_FORMAT_ROCHE" : "ROCHE_FORMAT_ROCHEFORT";
}

void encode_header(uint8_t *dst, uint32_t length, uint64_t time_ns, HeaderFormat f) {
    store_le<uint32_t>(dst, length);
    store_le<uint64_t>(dst + 4, time_ns);
    store_le<uint32_t>(dst + 12, header_check(dst, f));
}

bool decode_header(const uint8_t *src, RecordHeader *out, HeaderFormat f) {
    if (load_le<uint32_t>(src + 12) != header_check(src, f)) return false;
    out->length = load_le<uint32_t>(src);
    out->time_ns = load_le<uint64_t>(src + 4);
    return true;
}

int check_header_format(const uint8_t *src, HeaderFormat f, const std::string &path) {
    uint32_t stored = load_le<uint32_t>(src + 12);
    HeaderFormat other = f == HeaderFormat::Roche ? HeaderFormat::Rochefort : HeaderFormat::Roche;
    if (header_is_blank(src) || stored == header_check(src, f) || stored != header_check(src, other))
        return ROCHE_OK;
    if (f == HeaderFormat::Roche)
        return fail(ROCHE_ECORRUPT,
                    path + ": its record headers carry rochefort v0.5's check (MetroHash64), not "
                           "libroche's CRC-32: open the store with roche_options_set_format(" +
                           format_option_name(other) + ") (roche --store-format rochefort, roche serve "
                           "--format rochefort), or convert it first with `roche import --from-rochefort`; "
                           "nothing was changed");
    return fail(ROCHE_ECORRUPT,
                path + ": its record headers carry libroche's CRC-32, not rochefort v0.5's check "
                       "(MetroHash64): open the store with roche_options_set_format(" +
                       format_option_name(other) + "), the default; nothing was changed");
}

bool header_is_blank(const uint8_t *src) {
    uint64_t a, b;
    std::memcpy(&a, src, 8);
    std::memcpy(&b, src + 8, 8);
    return (a | b) == 0;
}

}  // namespace roche
