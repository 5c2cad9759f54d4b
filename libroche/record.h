// Record codec: rochefort's 16-byte header, encoded and checked in one place.
//
// The header's check has two formats (roche_options_set_format()): libroche's
// CRC-32 (zlib's) and rochefort v0.5's, the upper 32 bits of MetroHash64
// (seed 0), both over the first 12 bytes. A store uses one; the bucket file
// caches it, so the append path pays one predictable branch for it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include <endian.h>

namespace roche {

constexpr size_t kHeaderSize = 16;
constexpr int kOffsetBits = 50;
constexpr uint64_t kPositionMask = (uint64_t{1} << kOffsetBits) - 1;

// Which check a header carries (ROCHE_FORMAT_ROCHE, ROCHE_FORMAT_ROCHEFORT).
enum class HeaderFormat : uint8_t { Roche = 0, Rochefort = 1 };

// "ROCHE_FORMAT_ROCHE" and "ROCHE_FORMAT_ROCHEFORT", for messages.
const char *format_option_name(HeaderFormat f);

struct RecordHeader {
    uint32_t length;
    uint64_t time_ns;
};

inline uint64_t make_offset(uint32_t bucket, uint64_t position) {
    return (uint64_t{bucket} << kOffsetBits) | position;
}
inline uint32_t offset_bucket(uint64_t offset) { return uint32_t(offset >> kOffsetBits); }
inline uint64_t offset_position(uint64_t offset) { return offset & kPositionMask; }

// CRC-32 (IEEE, zlib's) of the first 12 header bytes.
uint32_t header_crc(const uint8_t *header);

// The check of the first 12 header bytes in format f.
uint32_t header_check(const uint8_t *header, HeaderFormat f);

// Writes the 16 header bytes for a value of `length` bytes appended at
// `time_ns`, with the check of format f.
void encode_header(uint8_t *dst, uint32_t length, uint64_t time_ns, HeaderFormat f);

// True when the 16 bytes at src are a header whose check (in format f)
// matches. The length is only trusted after this check, and callers still
// bound it by the file.
bool decode_header(const uint8_t *src, RecordHeader *out, HeaderFormat f);

// A header that fails format f's check but passes the other format's: the
// store was opened with the wrong roche_options_set_format(). Blank space
// never is. Sets the error detail (naming the option and `roche import`)
// about path and returns ROCHE_ECORRUPT then; ROCHE_OK otherwise.
int check_header_format(const uint8_t *src, HeaderFormat f, const std::string &path);

// The fields of a header already checked (or about to be checked against
// its entry's checksum).
inline uint32_t header_length(const uint8_t *h) {
    uint32_t len;
    std::memcpy(&len, h, 4);
    return le32toh(len);
}
inline uint64_t header_time(const uint8_t *h) {
    uint64_t t;
    std::memcpy(&t, h + 4, 8);
    return le64toh(t);
}

// True when all 16 bytes are zero: space reserved ahead, never written.
bool header_is_blank(const uint8_t *src);

}  // namespace roche
