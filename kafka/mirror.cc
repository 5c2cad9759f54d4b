// roche kafka mirror: every record of a namespace, as it is appended, is
// produced to a Kafka topic; the mirror's position is a libroche cursor,
// committed only up to records Kafka acknowledged.
//
// Order: bucket B goes to partition B % partitions, so each bucket's
// records reach their partition in offset order (the idempotent producer
// keeps that order through retries). Each Kafka record carries its libroche
// offset and append time as headers, and its append time (ms) as its
// timestamp.
//
// What a crash repeats: the cursor moves only over records whose delivery
// Kafka confirmed, and only every --commit-interval; a restarted mirror
// goes on from the cursor, so it produces again at most the records after
// the last commit (unacknowledged, or acknowledged but not yet committed).
// Nothing is lost. Within one run, the idempotent producer writes no
// duplicates, even across a broker restart.
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>

#include "../cli/stop_on_signal.h"
#include "bridge.h"

namespace kafka {
namespace {

static_assert(sizeof(void *) >= sizeof(uint64_t), "a record's next offset travels as the message opaque");

constexpr uint64_t kNoPosition = UINT64_MAX;

// A record handed to the producer: where its bucket goes on once Kafka
// acknowledged it (and every record of the bucket before it).
struct InFlight {
    uint64_t next;
    bool acked;
};

class Mirror {
public:
    explicit Mirror(const Options &opts);
    ~Mirror();
    int run();

private:
    static void on_delivery(rd_kafka_t *, const rd_kafka_message_t *msg, void *opaque);
    void delivered(uint64_t next, int32_t partition, rd_kafka_resp_err_t err);
    void follow_until_stopped();
    void produce(uint64_t offset, const void *data, size_t len, uint64_t time_ns);
    void ensure_topic();
    void commit(bool final);
    std::string status();

    const Options &opts_;
    std::string cursor_;
    std::atomic<bool> stop_{false};
    std::atomic<roche_follow *> follow_{nullptr};
    cli::StopOnSignal signals_;  // before librdkafka's threads, which inherit its mask
    cli::Store store_;
    rd_kafka_t *rk_ = nullptr;
    rd_kafka_topic_t *rkt_ = nullptr;
    int32_t partitions_ = 0;
    std::vector<std::deque<InFlight>> in_flight_;  // by bucket
    std::vector<uint64_t> acked_;                  // by bucket: the position to commit
    bool acked_moved_ = false;
    std::string delivery_error_;  // the first record Kafka refused
    uint64_t produced_ = 0, delivered_ = 0, skipped_ = 0;
    ProgressLine progress_{"mirror", opts_.progress};
};

Mirror::Mirror(const Options &opts)
    : opts_(opts),
      cursor_(opts.cursor.empty() ? "kafka-mirror." + opts.topic : opts.cursor),
      signals_([this] {
          stop_.store(true);
          if (roche_follow *f = follow_.load()) roche_follow_wake(f);
      }),
      store_(opts.store, cli::Access::Read) {
    roche_follow *follow = nullptr;
    cli::check(roche_follow_open_cursor(store_.db(), opts.store.ns.c_str(), cursor_.c_str(), 0, &follow));
    follow_.store(follow);
    size_t buckets = 0;
    cli::check(roche_follow_position(follow, nullptr, 0, &buckets));
    acked_.resize(buckets);
    cli::check(roche_follow_position(follow, acked_.data(), acked_.size(), &buckets));
    in_flight_.resize(buckets);

    char err[512];
    rd_kafka_conf_t *conf = make_config(opts, {{"client.id", "roche-kafka-mirror"},
                                               {"enable.idempotence", "true"},
                                               {"allow.auto.create.topics", "false"},
                                               {"linger.ms", "5"}});
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, this);
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk_) {
        rd_kafka_conf_destroy(conf);
        throw Failure(std::string("cannot start the Kafka producer: ") + err);
    }
    ensure_topic();
    rkt_ = rd_kafka_topic_new(rk_, opts.topic.c_str(), nullptr);
}

Mirror::~Mirror() {
    if (rkt_) rd_kafka_topic_destroy(rkt_);
    if (rk_) rd_kafka_destroy(rk_);
    roche_follow_free(follow_.load());
}

// The topic as it is, or created with one partition per bucket (or
// --partitions) and the broker's default replication.
void Mirror::ensure_topic() {
    partitions_ = partition_count(rk_, opts_.topic, 15000);
    if (partitions_ > 0) return;
    int32_t want = opts_.partitions ? opts_.partitions : int32_t(std::max<size_t>(acked_.size(), 1));
    char err[512];
    rd_kafka_NewTopic_t *topic = rd_kafka_NewTopic_new(opts_.topic.c_str(), want, -1, err, sizeof err);
    if (!topic) throw Failure(std::string("cannot create topic ") + opts_.topic + ": " + err);
    rd_kafka_queue_t *queue = rd_kafka_queue_new(rk_);
    rd_kafka_CreateTopics(rk_, &topic, 1, nullptr, queue);
    rd_kafka_event_t *event = rd_kafka_queue_poll(queue, 30000);
    std::string failure = event ? "" : "no answer";
    if (event) {
        size_t n = 0;
        const rd_kafka_topic_result_t **results =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &n);
        rd_kafka_resp_err_t code = rd_kafka_event_error(event);
        if (!code && n == 1) code = rd_kafka_topic_result_error(results[0]);
        if (code && code != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) failure = rd_kafka_err2str(code);
        rd_kafka_event_destroy(event);
    }
    rd_kafka_queue_destroy(queue);
    rd_kafka_NewTopic_destroy(topic);
    if (!failure.empty()) throw Failure("cannot create topic " + opts_.topic + ": " + failure);
    for (int tries = 0; tries < 100 && partitions_ == 0; tries++) {  // metadata catches up
        partitions_ = partition_count(rk_, opts_.topic, 15000);
        if (!partitions_) rd_kafka_poll(rk_, 100);
    }
    if (!partitions_) throw Failure("topic " + opts_.topic + " was created but does not show in the metadata");
}

void Mirror::on_delivery(rd_kafka_t *, const rd_kafka_message_t *msg, void *opaque) {
    static_cast<Mirror *>(opaque)->delivered(uint64_t(uintptr_t(msg->_private)), msg->partition, msg->err);
}

// Marks the record acknowledged and moves its bucket's position over every
// acknowledged record at the front; a refused record stops the bucket there.
void Mirror::delivered(uint64_t next, int32_t partition, rd_kafka_resp_err_t err) {
    std::deque<InFlight> &queue = in_flight_[cli::offset_bucket(next)];
    for (InFlight &f : queue) {
        if (f.next != next) continue;
        if (err) {
            if (delivery_error_.empty())
                delivery_error_ = "Kafka did not take the record ending at offset " + std::to_string(next) +
                                  " (partition " + std::to_string(partition) + "): " + rd_kafka_err2str(err);
        } else {
            f.acked = true;
            delivered_++;
        }
        break;
    }
    while (!queue.empty() && queue.front().acked) {
        acked_[cli::offset_bucket(next)] = queue.front().next;
        acked_moved_ = true;
        queue.pop_front();
    }
}

void Mirror::produce(uint64_t offset, const void *data, size_t len, uint64_t time_ns) {
    uint32_t bucket = cli::offset_bucket(offset);
    if (bucket >= in_flight_.size()) {  // a bucket made after the mirror started
        in_flight_.resize(bucket + 1);
        acked_.resize(bucket + 1, kNoPosition);
    }
    uint64_t next = next_offset(offset, len);
    in_flight_[bucket].push_back({next, false});
    char offset_text[24], time_text[24];
    int offset_len = std::snprintf(offset_text, sizeof offset_text, "%" PRIu64, offset);
    int time_len = std::snprintf(time_text, sizeof time_text, "%" PRIu64, time_ns);
    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            rk_, RD_KAFKA_V_RKT(rkt_), RD_KAFKA_V_PARTITION(int32_t(bucket % uint32_t(partitions_))),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_VALUE(const_cast<void *>(data), len),
            RD_KAFKA_V_HEADER(kOffsetHeader, offset_text, offset_len),
            RD_KAFKA_V_HEADER(kTimeHeader, time_text, time_len),
            RD_KAFKA_V_TIMESTAMP(int64_t(time_ns / 1000000)),
            RD_KAFKA_V_OPAQUE(reinterpret_cast<void *>(uintptr_t(next))), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && delivery_error_.empty()) {
            rd_kafka_poll(rk_, 100);  // the local queue drains as Kafka acknowledges
            continue;
        }
        in_flight_[bucket].pop_back();
        std::string hint = err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE
                               ? " (raise -X message.max.bytes, and the topic's max.message.bytes)"
                               : "";
        throw Failure("cannot produce the record at offset " + std::to_string(offset) + ": " +
                      (delivery_error_.empty() ? rd_kafka_err2str(err) : delivery_error_) + hint);
    }
    produced_++;
}

void Mirror::commit(bool final) {
    if (!acked_moved_ && !final) return;
    std::vector<uint64_t> position;
    for (uint64_t p : acked_)
        if (p != kNoPosition) position.push_back(p);
    cli::check(roche_cursor_commit(store_.db(), opts_.store.ns.c_str(), cursor_.c_str(), position.data(),
                                   position.size()));
    acked_moved_ = false;
}

// What the progress line adds: records in flight and bytes not yet read.
std::string Mirror::status() {
    uint64_t behind = 0;
    std::vector<uint64_t> position(in_flight_.size() + 64);
    size_t n = 0;
    if (roche_follow_position(follow_.load(), position.data(), position.size(), &n) == ROCHE_OK) {
        for (size_t b = 0; b < std::min(n, position.size()); b++) {
            uint64_t first, end;
            if (roche_bucket_range(store_.db(), opts_.store.ns.c_str(), uint32_t(b), &first, &end) == ROCHE_OK &&
                end > position[b])
                behind += end - position[b];
        }
    }
    return ", " + std::to_string(produced_ - delivered_) + " in flight, " + std::to_string(behind) +
           " bytes behind";
}

void Mirror::follow_until_stopped() {
    const size_t kBatch = 1024;
    uint64_t offsets[kBatch], times[kBatch];
    const void *data[kBatch];
    size_t lens[kBatch];
    uint64_t last_commit = now_ms();
    while (!stop_.load() && delivery_error_.empty()) {
        size_t count = 0;
        int rc = roche_follow_next_batch(follow_.load(), opts_.until_end ? 0 : 100, kBatch, offsets, data, lens,
                                         times, &count);
        if (rc == ROCHE_OK) {
            for (size_t i = 0; i < count; i++) produce(offsets[i], data[i], lens[i], times[i]);
        } else if (rc == ROCHE_ETIMEDOUT) {
            if (opts_.until_end) break;
        } else if (rc == ROCHE_ECANCELED) {
            break;
        } else if (rc == ROCHE_EDROPPED || rc == ROCHE_ECORRUPT) {
            // Not there to mirror (dropped by retention, or damaged): said, and passed.
            std::fprintf(stderr, "roche kafka mirror: %s: %s\n", roche_strerror(rc), roche_last_error());
            skipped_++;
        } else {
            cli::check(rc);
        }
        rd_kafka_poll(rk_, 0);  // delivery reports
        if (now_ms() - last_commit >= opts_.commit_interval_ms) {
            commit(false);
            last_commit = now_ms();
        }
        progress_.tick(delivered_, [this] { return status(); });
    }
}

int Mirror::run() {
    std::string failure;
    try {
        follow_until_stopped();
    } catch (const Failure &e) {
        failure = e.what();
    }
    // Whatever ended the run, what Kafka acknowledged is committed.
    rd_kafka_resp_err_t flushed = rd_kafka_flush(rk_, 60000);
    commit(true);
    progress_.tick(delivered_, [this] { return status(); }, true);
    if (!failure.empty()) throw Failure(failure);
    if (!delivery_error_.empty()) throw Failure(delivery_error_);
    if (flushed)
        throw Failure(std::to_string(rd_kafka_outq_len(rk_)) + " records not acknowledged within 60 s (" +
                      rd_kafka_err2str(flushed) + "); the next run produces them again");
    if (opts_.progress)
        std::fprintf(stderr, "mirror: done, %" PRIu64 " records acknowledged%s, cursor %s\n", delivered_,
                     skipped_ ? (", " + std::to_string(skipped_) + " skipped").c_str() : "", cursor_.c_str());
    return 0;
}

}  // namespace

int run_mirror(const Options &opts) {
    Mirror mirror(opts);
    int rc = mirror.run();
    return rc;
}

}  // namespace kafka
