// roche-kafka: a namespace mirrored into an Apache Kafka topic, and a topic
// restored into a namespace, over librdkafka. `roche kafka ...` runs this
// program (it links librdkafka, which the roche tool does not need).
#ifndef ROCHE_KAFKA_BRIDGE_H
#define ROCHE_KAFKA_BRIDGE_H

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "../cli/cli.h"

namespace kafka {

using cli::Failure;
using cli::UsageError;

// The command line of both commands; each ignores what it does not use.
struct Options {
    cli::Args store;  // --root, --ns, --buckets
    std::string topic;
    std::string brokers;                                     // -b; else bootstrap.servers from -X/-F
    std::vector<std::pair<std::string, std::string>> config;  // -F files then -X, in order
    bool until_end = false;
    bool progress = true;
    uint32_t commit_interval_ms = 1000;
    // mirror
    std::string cursor;       // default "kafka-mirror.<topic>"
    int32_t partitions = 0;   // topic creation; 0: one per bucket
    // restore
    std::string group;                                  // default "roche-restore.<ns>"
    std::vector<std::pair<int32_t, int64_t>> start_at;  // --from P:O,...
};

// A librdkafka configuration: our defaults, then the user's -F files and -X
// pairs (so the user's win), then the callbacks the command installs.
// Throws UsageError for a key librdkafka does not know or a bad value.
rd_kafka_conf_t *make_config(const Options &opts,
                             const std::vector<std::pair<std::string, std::string>> &defaults);

// Reads "key=value" lines of a Java-style properties file (as librdkafka's
// own tools take with -F): '#' and '!' comments, blank lines skipped.
std::vector<std::pair<std::string, std::string>> read_properties(const std::string &path);

// The topic's partition count, or 0 when the broker says it does not exist.
// Throws Failure when the broker cannot be asked within the timeout.
int32_t partition_count(rd_kafka_t *rk, const std::string &topic, int timeout_ms);

// The time now on the monotonic clock, in ms.
uint64_t now_ms();

// One progress line on stderr per second: "<what>: N records (R/s)<extra>".
class ProgressLine {
public:
    ProgressLine(const char *what, bool wanted) : what_(what), wanted_(wanted) {}
    // Prints when a second has passed since the last line (or final);
    // extra() (what the command adds: lag, records in flight) is asked for
    // only then, so the loop that calls this pays nothing in between.
    void tick(uint64_t records, const std::function<std::string()> &extra, bool final = false);

private:
    const char *what_;
    bool wanted_;
    uint64_t last_ms_ = 0, last_records_ = 0, start_ms_ = now_ms();
};

int run_mirror(const Options &opts);
int run_restore(const Options &opts);

// Every record is its 16-byte header (rochefort's format) then its value:
// the record after one at offset O of length L starts at O + 16 + L.
constexpr uint64_t kRecordHeader = 16;
inline uint64_t next_offset(uint64_t offset, size_t len) { return offset + kRecordHeader + len; }

// Record headers the mirror writes and the restore reads.
constexpr const char *kOffsetHeader = "roche.offset";  // the record's libroche offset, decimal
constexpr const char *kTimeHeader = "roche.time";      // its append time, ns since the epoch, decimal

}  // namespace kafka

#endif
