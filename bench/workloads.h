// Workloads and machine limits. Each runs inside a child process (see
// main.cc) and returns its samples; they throw on any failed operation.
#pragma once

#include "engine.h"
#include "sample.h"

#include <functional>

namespace bench {

constexpr size_t kGetValueBytes = 100;
constexpr size_t kMultigetBatch = 1000;

// Incompressible bytes the values are cut from (compression in RocksDB and
// LevelDB must not shrink the work).
const char *value_bytes_at(uint64_t i, size_t len);
void init_value_pool();
long heap_in_use_kb();

std::vector<Sample> run_append(const EngineKind &kind, const std::string &dir, size_t value_bytes,
                               int threads, uint64_t count);
// Fills a fresh store, saves the keys, calls ready(), then appends until
// the process is killed.
void run_load_then_append_forever(const EngineKind &kind, const std::string &dir, uint64_t count,
                                  const std::function<void(const Sample &)> &ready);
void run_append_forever(const EngineKind &kind, const std::string &dir, const std::function<void()> &ready);
std::vector<Sample> run_recovery_open(const EngineKind &kind, const std::string &dir);
void run_torn_tail_writer(const std::string &dir, const std::function<void()> &ready);
std::vector<Sample> run_torn_tail_recovery(const std::string &dir);
std::vector<Sample> run_reads(const EngineKind &kind, const std::string &dir, const Config &config, int rep);
// Random gets of 64 KiB values, copying and in place, for the engines that
// read in place: where a zero-copy read has a copy worth saving.
std::vector<Sample> run_large_reads(const EngineKind &kind, const std::string &dir, int rep);
constexpr size_t kLargeValueBytes = 65536;

std::vector<Sample> run_append_limits(const std::string &dir, size_t value_bytes, int threads, uint64_t count);
std::vector<Sample> run_read_limits(const std::string &dir, const Config &config, int rep);

} // namespace bench
