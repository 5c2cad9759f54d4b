// Record codec: rochefort's 16-byte header, encoded and checked in one place.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include <endian.h>

namespace roche {

constexpr size_t kHeaderSize = 16;
constexpr int kOffsetBits = 50;
constexpr uint64_t kPositionMask = (uint64_t{1} << kOffsetBits) - 1;

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

// Writes the 16 header bytes for a value of `length` bytes appended at `time_ns`.
void encode_header(uint8_t *dst, uint32_t length, uint64_t time_ns);

// True when the 16 bytes at src are a header whose CRC matches. The length is
// only trusted after this check, and callers still bound it by the file.
bool decode_header(const uint8_t *src, RecordHeader *out);

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
