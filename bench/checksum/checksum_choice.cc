// Build (from repo root; portable baseline ISA, no -march=native on purpose):
//   g++ -std=c++17 -O2 -march=x86-64 -o /tmp/cc bench/checksum/checksum_choice.cc -lisal -lxxhash -lz -ldl
//   (also informative: the same with -O3; libroche's default CMake build type RelWithDebInfo uses -O2)
// Run:  /tmp/cc            (optional arg: min ms per repetition, default 100)
//
// Standalone micro-benchmark for choosing libroche's per-record value checksum.
// A record = 16-byte header + value; sizes 16+50, 16+1024, 16+65536 bytes.
//   cached   : the same record (offset 0 of the buffer) hashed over and over -> L1/L2 resident
//   uncached : records at random (unaligned) offsets in a 256 MiB buffer    -> DRAM + TLB misses
// Calls are independent (results XOR-folded), i.e. this is throughput, not latency.
// Each cell = median of 5 repetitions, each repetition >= min ms (iteration count calibrated first).
// Candidates:
//   isal_crc32c    : ISA-L crc32_iscsi (CRC-32C), runtime-dispatched inside libisal
//   isal_01 / isal_base : the same, forcing ISA-L's SSE4.2+PCLMUL variant / table-driven fallback
//                    (what non-AVX512 / pre-SSE4.2 machines would get from the dispatcher)
//   xxh3_inline    : XXH3_64bits_withSeed, header-only (XXH_INLINE_ALL), compiled for -march=x86-64 (SSE2)
//   xxh3_so        : XXH3_64bits_withSeed from libxxhash.so (Debian build, scalar/SSE2 path)
//   xxh3_so_disp   : XXH3_64bits_withSeed_dispatch from libxxhash.so (runtime picks SSE2/AVX2/AVX512)
//   xxh32          : XXH32 (inline), reference
//   zlib_crc32     : zlib crc32 (CRC-32/IEEE, software), reference
#include <cstdint>
#include <cstddef>

// Shared-library XXH entry points must be declared before xxhash.h with XXH_INLINE_ALL,
// which macro-renames every XXH* identifier that follows it.
extern "C" uint64_t XXH3_64bits_withSeed(const void*, size_t, uint64_t);
extern "C" uint64_t XXH3_64bits_withSeed_dispatch(const void*, size_t, uint64_t);
static uint64_t (*const so_xxh3)(const void*, size_t, uint64_t) = &XXH3_64bits_withSeed;
static uint64_t (*const so_xxh3_disp)(const void*, size_t, uint64_t) = &XXH3_64bits_withSeed_dispatch;

#define XXH_INLINE_ALL
#include <xxhash.h>
#include <isa-l/crc.h>
#include <zlib.h>
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

static constexpr size_t kBufBytes = size_t(256) << 20;
static constexpr size_t kNumOffsets = size_t(1) << 20;
static constexpr uint64_t kSeed = 0x9E3779B97F4A7C15ull;

static uint8_t* g_buf;
static std::vector<uint32_t> g_off;  // random offsets, per record size

struct IsalCrc32c { static const char* name() { return "isal_crc32c"; }
  static uint64_t f(const uint8_t* p, size_t n) { return crc32_iscsi(const_cast<uint8_t*>(p), int(n), 0xFFFFFFFFu); } };
extern "C" unsigned int crc32_iscsi_01(unsigned char*, int, unsigned int);  // exported, not in header
struct Isal01 { static const char* name() { return "isal_01"; }
  static uint64_t f(const uint8_t* p, size_t n) { return crc32_iscsi_01(const_cast<uint8_t*>(p), int(n), 0xFFFFFFFFu); } };
struct IsalBase { static const char* name() { return "isal_base"; }
  static uint64_t f(const uint8_t* p, size_t n) { return crc32_iscsi_base(const_cast<uint8_t*>(p), int(n), 0xFFFFFFFFu); } };
struct Xxh3Inline { static const char* name() { return "xxh3_inline"; }
  static uint64_t f(const uint8_t* p, size_t n) { return XXH3_64bits_withSeed(p, n, kSeed); } };
struct Xxh3So { static const char* name() { return "xxh3_so"; }
  static uint64_t f(const uint8_t* p, size_t n) { return so_xxh3(p, n, kSeed); } };
struct Xxh3SoDisp { static const char* name() { return "xxh3_so_disp"; }
  static uint64_t f(const uint8_t* p, size_t n) { return so_xxh3_disp(p, n, kSeed); } };
struct Xxh32 { static const char* name() { return "xxh32"; }
  static uint64_t f(const uint8_t* p, size_t n) { return XXH32(p, n, uint32_t(kSeed)); } };
struct ZlibCrc32 { static const char* name() { return "zlib_crc32"; }
  static uint64_t f(const uint8_t* p, size_t n) { return crc32(0L, p, uInt(n)); } };

static volatile uint64_t g_sink;

template <class H>
static double run_once(size_t n, size_t iters, bool cached) {
  uint64_t acc = 0;
  auto t0 = std::chrono::steady_clock::now();
  if (cached) {
    const uint8_t* p = g_buf;
    for (size_t i = 0; i < iters; ++i) {
      asm volatile("" : "+r"(p));  // stop the compiler hoisting the (pure) hash out of the loop
      acc ^= H::f(p, n);
    }
  } else {
    const uint32_t* off = g_off.data();
    for (size_t i = 0; i < iters; ++i) {
      const uint8_t* p = g_buf + off[i & (kNumOffsets - 1)];
      acc ^= H::f(p, n);
    }
  }
  auto t1 = std::chrono::steady_clock::now();
  g_sink = acc;
  return std::chrono::duration<double, std::nano>(t1 - t0).count();
}

struct Cell { double ns_per_call; double spread_pct; };

template <class H>
static Cell measure(size_t n, bool cached, double min_ms) {
  size_t iters = 64;
  for (;;) {  // calibrate (also warms up / triggers lazy dispatch)
    double ns = run_once<H>(n, iters, cached);
    if (ns >= min_ms * 1e6) break;
    double scale = ns > 0 ? (min_ms * 1e6 * 1.2) / ns : 16.0;
    iters = size_t(double(iters) * std::min(std::max(scale, 2.0), 16.0));
  }
  std::vector<double> r;
  for (int rep = 0; rep < 5; ++rep) r.push_back(run_once<H>(n, iters, cached) / double(iters));
  std::sort(r.begin(), r.end());
  return {r[2], 100.0 * (r[4] - r[0]) / r[2]};
}

// Follow "endbr64? bnd? jmp *disp32(%rip)" trampolines (ISA-L multibinary stub, PLT stubs).
static const void* follow_jmp(const void* fn) {
  for (int hop = 0; hop < 4; ++hop) {
    const uint8_t* c = static_cast<const uint8_t*>(fn);
    if (c[0] == 0xF3 && c[1] == 0x0F && c[2] == 0x1E && c[3] == 0xFA) c += 4;  // endbr64
    if (c[0] == 0xF2) c += 1;                                                   // bnd prefix
    if (!(c[0] == 0xFF && c[1] == 0x25)) return fn;
    int32_t disp; std::memcpy(&disp, c + 2, 4);
    const void* const* slot = reinterpret_cast<const void* const*>(c + 6 + disp);
    fn = *slot;
  }
  return fn;
}

static std::string isal_dispatch_name() {
  uint8_t tmp[64] = {1};
  (void)crc32_iscsi(tmp, sizeof tmp, 0);  // forces dispatch resolution + PLT binding
  const void* target = follow_jmp(reinterpret_cast<const void*>(&crc32_iscsi));
  Dl_info di{};
  if (target && dladdr(target, &di) && di.dli_sname) return di.dli_sname;
  return "unknown";
}

template <class H>
static void row(size_t n, double min_ms) {
  Cell c = measure<H>(n, true, min_ms);
  Cell u = measure<H>(n, false, min_ms);
  std::printf("%-13s %6zu | %9.1f ns %7.2f GB/s (±%4.1f%%) | %9.1f ns %7.2f GB/s (±%4.1f%%)\n",
              H::name(), n, c.ns_per_call, double(n) / c.ns_per_call, c.spread_pct / 2,
              u.ns_per_call, double(n) / u.ns_per_call, u.spread_pct / 2);
  std::fflush(stdout);
}

int main(int argc, char** argv) {
  double min_ms = argc > 1 ? std::atof(argv[1]) : 100.0;

  // Sanity: CRC-32C("123456789") = 0xE3069283 (ISA-L: init ~0, no final xor -> complement).
  const char* chk = "123456789";
  unsigned isal = ~crc32_iscsi((unsigned char*)chk, 9, 0xFFFFFFFFu);
  std::printf("sanity: isal crc32c=%08x (expect e3069283), zlib crc32=%08lx (expect cbf43926)\n",
              isal, crc32(0L, (const Bytef*)chk, 9));
  std::printf("sanity: xxh3 inline=%016llx so=%016llx so_disp=%016llx (must match)\n",
              (unsigned long long)XXH3_64bits_withSeed(chk, 9, kSeed),
              (unsigned long long)so_xxh3(chk, 9, kSeed), (unsigned long long)so_xxh3_disp(chk, 9, kSeed));
  std::printf("sanity: isal_01=%08x isal_base=%08x (must match isal)\n",
              ~crc32_iscsi_01((unsigned char*)chk, 9, 0xFFFFFFFFu), ~crc32_iscsi_base((unsigned char*)chk, 9, 0xFFFFFFFFu));
  std::printf("ISA-L crc32_iscsi dispatched to: %s\n", isal_dispatch_name().c_str());
  std::printf("xxhash header %d.%d.%d, XXH_VECTOR (inline build) = %d (0=scalar,1=SSE2,2=AVX2,3=AVX512)\n",
              XXH_VERSION_MAJOR, XXH_VERSION_MINOR, XXH_VERSION_RELEASE, int(XXH_VECTOR));

  g_buf = static_cast<uint8_t*>(std::aligned_alloc(4096, kBufBytes));
  std::mt19937_64 rng(42);
  for (size_t i = 0; i < kBufBytes / 8; ++i) { uint64_t v = rng(); std::memcpy(g_buf + 8 * i, &v, 8); }

  std::printf("\n%-13s %6s | %-37s | %-37s\n", "algo", "bytes", "cached (same record)", "uncached (random in 256 MiB)");
  const size_t sizes[] = {16 + 50, 16 + 1024, 16 + 65536};
  for (size_t n : sizes) {
    g_off.resize(kNumOffsets);
    std::uniform_int_distribution<uint32_t> d(0, uint32_t(kBufBytes - n));
    for (auto& o : g_off) o = d(rng);
    row<IsalCrc32c>(n, min_ms);
    row<Isal01>(n, min_ms);
    row<IsalBase>(n, min_ms);
    row<Xxh3Inline>(n, min_ms);
    row<Xxh3So>(n, min_ms);
    row<Xxh3SoDisp>(n, min_ms);
    row<Xxh32>(n, min_ms);
    row<ZlibCrc32>(n, min_ms);
    std::printf("\n");
  }
  std::printf("(± = half of (max-min)/median over the 5 repetitions)\n");
  return int(g_sink & 0);
}
