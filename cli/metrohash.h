// MetroHash64 (J. Andrew Rogers, 2015), the 64-bit variant with a seed:
// the checksum rochefort v0.5 puts in its record headers. Written from the
// published algorithm; checked against its reference test vectors by
// tests/metrohash_test.cc.
#ifndef ROCHE_CLI_METROHASH_H
#define ROCHE_CLI_METROHASH_H

#include <cstddef>
#include <cstdint>

namespace cli {

// MetroHash64 of len bytes at data with seed, as a number (the reference
// implementation stores it to memory in the machine's byte order; its test
// vectors are that memory on a little-endian machine).
uint64_t metrohash64(const void *data, size_t len, uint64_t seed);

// The check rochefort v0.5 writes in a record header: the upper 32 bits of
// MetroHash64, seed 0, of the header's first 12 bytes (length and time).
inline uint32_t rochefort_check(const unsigned char header[12]) {
    return uint32_t(metrohash64(header, 12, 0) >> 32);
}

}  // namespace cli

#endif
