// One measured repetition, as it travels from a child process to the CSV.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bench {

struct Sample {
    std::string workload; // append, load, recovery, get, multiget, scan
    std::string engine;   // an engine name or a limit-* name
    uint64_t value_bytes = 0;
    int threads = 1;
    int rep = 0;
    uint64_t ops = 0;
    uint64_t bytes = 0; // value bytes moved
    double seconds = 0;
    long heap_kb = 0; // malloc'ed bytes in use at the end of the workload
    long rss_kb = 0;  // peak RSS of the child process that ran it

    double ops_per_s() const { return seconds > 0 ? ops / seconds : 0; }
    double mb_per_s() const { return seconds > 0 ? bytes / seconds / 1e6 : 0; }
};

std::string to_csv(const Sample &s);
bool from_csv(const std::string &line, Sample &s);
extern const char *const kCsvHeader;

struct Config {
    std::string data_dir;
    std::string out_dir;
    uint64_t store_mib = 1024;
    uint64_t append_mib = 128;
    uint64_t small_ops = 1000000;
    uint64_t gets = 500000;
    uint64_t multiget_calls = 500;
    int reps = 3;
    int kill_after_ms = 100;
    std::vector<std::string> engines; // empty: all
};

// Writes results.csv, results.md, chart.dat from the samples of one run.
void write_report(const Config &config, const std::vector<Sample> &samples,
                  const std::vector<std::string> &failures);

} // namespace bench
