// What both roche-kafka commands share: librdkafka's configuration from the
// command line, the topic's partition count, the progress line.
#include <time.h>

#include <cstdio>
#include <fstream>

#include "bridge.h"

namespace kafka {

std::vector<std::pair<std::string, std::string>> read_properties(const std::string &path) {
    std::ifstream in(path);
    if (!in) throw UsageError("-F " + path + ": cannot be read");
    std::vector<std::pair<std::string, std::string>> pairs;
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
        number++;
        size_t start = line.find_first_not_of(" \t\r");
        if (start == std::string::npos || line[start] == '#' || line[start] == '!') continue;
        size_t end = line.find_last_not_of(" \t\r");
        line = line.substr(start, end - start + 1);
        size_t eq = line.find('=');
        if (eq == std::string::npos || eq == 0)
            throw UsageError("-F " + path + ":" + std::to_string(number) + ": not key=value");
        pairs.emplace_back(line.substr(0, eq), line.substr(eq + 1));
    }
    return pairs;
}

rd_kafka_conf_t *make_config(const Options &opts,
                             const std::vector<std::pair<std::string, std::string>> &defaults) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char err[512];
    auto set = [&](const std::string &key, const std::string &value) {
        if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(conf);
            throw UsageError("librdkafka configuration " + key + "=" + value + ": " + err);
        }
    };
    for (const auto &kv : defaults) set(kv.first, kv.second);
    if (!opts.brokers.empty()) set("bootstrap.servers", opts.brokers);
    for (const auto &kv : opts.config) set(kv.first, kv.second);
    size_t size = sizeof err;
    if (rd_kafka_conf_get(conf, "bootstrap.servers", err, &size) != RD_KAFKA_CONF_OK || !err[0]) {
        rd_kafka_conf_destroy(conf);
        throw UsageError("no brokers: give -b HOST:PORT or -X bootstrap.servers=...");
    }
    return conf;
}

int32_t partition_count(rd_kafka_t *rk, const std::string &topic, int timeout_ms) {
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
    const struct rd_kafka_metadata *md = nullptr;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms);
    rd_kafka_topic_destroy(rkt);
    if (err) throw Failure("cannot read the metadata of topic " + topic + ": " + rd_kafka_err2str(err));
    int32_t count = 0;
    rd_kafka_resp_err_t topic_err = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
    if (md->topic_cnt == 1) {
        topic_err = md->topics[0].err;
        count = md->topics[0].partition_cnt;
    }
    rd_kafka_metadata_destroy(md);
    if (topic_err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) return 0;
    if (topic_err) throw Failure("topic " + topic + ": " + rd_kafka_err2str(topic_err));
    return count;
}

uint64_t now_ms() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000u + uint64_t(ts.tv_nsec) / 1000000u;
}

void ProgressLine::tick(uint64_t records, const std::function<std::string()> &extra, bool final) {
    if (!wanted_) return;
    uint64_t now = now_ms();
    if (!final && now - (last_ms_ ? last_ms_ : start_ms_) < 1000) return;
    uint64_t since = last_ms_ ? last_ms_ : start_ms_;
    double rate = now > since ? double(records - last_records_) * 1000.0 / double(now - since) : 0;
    if (final) rate = now > start_ms_ ? double(records) * 1000.0 / double(now - start_ms_) : 0;
    std::fprintf(stderr, "%s: %llu records (%.0f/s%s)%s\n", what_, (unsigned long long)records, rate,
                 final ? " overall" : "", extra().c_str());
    last_ms_ = now;
    last_records_ = records;
}

}  // namespace kafka
