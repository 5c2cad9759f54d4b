/* XXH3 compiled for one instruction set (ROCHE_ISA: sse2, avx2 or avx512),
 * for checksum.cc to choose from at run time, as xxHash's own
 * xxh_x86dispatch does. C, and only xxhash.h: with XXH_INLINE_ALL every
 * function here is static, so nothing built for a wider instruction set
 * can be shared with (and run by) code built for a narrower one. */
#include <stddef.h>
#include <stdint.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#define ROCHE_JOIN2(a, b) a##b
#define ROCHE_JOIN(a, b) ROCHE_JOIN2(a, b)

uint64_t ROCHE_JOIN(roche_xxh3_, ROCHE_ISA)(const void *p, size_t n, uint64_t seed) {
    return XXH3_64bits_withSeed(p, n, seed);
}

uint64_t ROCHE_JOIN(roche_xxh3_parts_, ROCHE_ISA)(const void *a, size_t an, const void *b, size_t bn,
                                                  uint64_t seed) {
    XXH3_state_t state;
    XXH3_INITSTATE(&state);
    XXH3_64bits_reset_withSeed(&state, seed);
    XXH3_64bits_update(&state, a, an);
    if (bn) XXH3_64bits_update(&state, b, bn);
    return XXH3_64bits_digest(&state);
}
