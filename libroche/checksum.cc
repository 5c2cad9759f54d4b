#include "checksum.h"

extern "C" {
#define ROCHE_DECLARE_ISA(isa)                                                   \
    uint64_t roche_xxh3_##isa(const void *p, size_t n, uint64_t seed);           \
    uint64_t roche_xxh3_parts_##isa(const void *a, size_t an, const void *b, size_t bn, uint64_t seed);
ROCHE_DECLARE_ISA(generic)
#if defined(ROCHE_XXH3_X86)
ROCHE_DECLARE_ISA(avx2)
ROCHE_DECLARE_ISA(avx512)
#endif
}

namespace roche {
namespace {

// Runs when the library is loaded. Until then (a static constructor of
// another library calling in first) the generic build answers: every build
// computes the same XXH3, only at another speed.
__attribute__((constructor)) void choose_wide_hash() {
#if defined(ROCHE_XXH3_X86)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) {
        g_wide_hash = roche_xxh3_avx512;
        g_wide_hash_parts = roche_xxh3_parts_avx512;
    } else if (__builtin_cpu_supports("avx2")) {
        g_wide_hash = roche_xxh3_avx2;
        g_wide_hash_parts = roche_xxh3_parts_avx2;
    }
#endif
}

}  // namespace

WideHash g_wide_hash = roche_xxh3_generic;
WideHashParts g_wide_hash_parts = roche_xxh3_parts_generic;

}  // namespace roche
