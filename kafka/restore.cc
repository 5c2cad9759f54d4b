// roche kafka restore: a topic's records appended into a namespace, in
// order per partition, resumable after a crash without duplicates.
//
// Partition P goes to bucket P (the store needs at least as many buckets
// as the topic has partitions), so each partition's records keep their
// order, and a bucket holds one partition's records and nothing else the
// restore wrote. When the namespace started empty and the topic came from
// `roche kafka mirror` of a namespace with as many buckets, each record
// gets back the offset it had.
//
// The position lives in Kafka, as a consumer group's committed offsets
// (--group, default "roche-restore.<ns>"): every --commit-interval the
// restore syncs the store, then commits, for each partition, the next
// Kafka offset with metadata "roche-restore 1 end=<E>", E being where the
// partition's bucket ended after the record before it. It also commits
// each partition it starts afresh (no offset in the group, or --from)
// before its first append, so no record it appends is ever outside what
// a commit accounts for. A restore that
// starts again resumes at the committed offset; the records its bucket
// holds past E were appended after the last commit, before a crash: each
// is compared, byte for byte, with the next record of the partition and
// not appended again. A record that differs means the namespace was
// changed behind the restore: it stops (exit 1) rather than guess.
#include <time.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <memory>

#include <zlib.h>

#include "../cli/stop_on_signal.h"
#include "bridge.h"

namespace kafka {
namespace {

constexpr const char *kMetadataPrefix = "roche-restore 1 end=";

class Restore {
public:
    explicit Restore(const Options &opts);
    ~Restore();
    int run();

private:
    static cli::Args store_args(const Options &opts, int32_t partitions);
    void choose_ids(uint32_t buckets);
    void load_positions();
    void apply(const rd_kafka_message_t *msg);
    void commit(bool final);
    std::string status();

    const Options &opts_;
    std::string group_;
    std::atomic<bool> stop_{false};
    cli::StopOnSignal signals_;  // before librdkafka's threads, which inherit its mask
    rd_kafka_t *rk_ = nullptr;
    int32_t partitions_ = 0;
    std::unique_ptr<cli::Store> store_;
    std::vector<std::string> ids_;     // by partition: an id whose bucket is the partition's
    std::vector<int64_t> next_kafka_;  // by partition: the Kafka offset to consume next
    std::vector<uint64_t> end_;        // by partition: where its bucket ends
    std::vector<uint64_t> checked_;    // by partition: where the namespace matches the topic up to
    std::vector<bool> moved_, at_eof_;
    uint64_t appended_ = 0, matched_ = 0;
};

// Runs a call to the group coordinator again while the broker says the
// coordinator is moving or loading (a broker just started or restarted),
// for up to 60 s.
template <typename Call>
rd_kafka_resp_err_t with_coordinator_retries(Call call) {
    uint64_t deadline = now_ms() + 60000;
    for (;;) {
        rd_kafka_resp_err_t err = call();
        bool transient = err == RD_KAFKA_RESP_ERR_NOT_COORDINATOR ||
                         err == RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS ||
                         err == RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE || err == RD_KAFKA_RESP_ERR__TIMED_OUT ||
                         err == RD_KAFKA_RESP_ERR__TRANSPORT;
        if (!transient || now_ms() >= deadline) return err;
        struct timespec pause = {0, 200 * 1000 * 1000};
        nanosleep(&pause, nullptr);
    }
}

rd_kafka_t *new_consumer(const Options &opts, const std::string &group) {
    char err[512];
    rd_kafka_conf_t *conf = make_config(opts, {{"client.id", "roche-kafka-restore"},
                                               {"group.id", group},
                                               {"enable.auto.commit", "false"},
                                               {"enable.auto.offset.store", "false"},
                                               {"enable.partition.eof", "true"},
                                               {"auto.offset.reset", "earliest"}});
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        throw Failure(std::string("cannot start the Kafka consumer: ") + err);
    }
    rd_kafka_poll_set_consumer(rk);
    return rk;
}

Restore::Restore(const Options &opts)
    : opts_(opts),
      group_(opts.group.empty() ? "roche-restore." + opts.store.ns : opts.group),
      signals_([this] { stop_.store(true); }) {
    rk_ = new_consumer(opts, group_);
    partitions_ = partition_count(rk_, opts.topic, 15000);
    if (partitions_ == 0) throw Failure("topic " + opts.topic + " does not exist");
    cli::Args args = store_args(opts, partitions_);
    store_.reset(new cli::Store(args, cli::Access::Write));
    // An existing namespace keeps its own bucket count (when it has more
    // buckets than asked for), and ids hash over that.
    roche_stat_info info = {};
    info.version = ROCHE_STAT_VERSION;
    int rc = roche_stat(store_->db(), opts.store.ns.c_str(), &info);
    if (rc != ROCHE_OK && rc != ROCHE_ENOTFOUND) cli::check(rc);
    choose_ids(rc == ROCHE_OK ? std::max(info.buckets, args.buckets) : args.buckets);
    load_positions();
}

Restore::~Restore() {
    if (rk_) {
        rd_kafka_consumer_close(rk_);
        rd_kafka_destroy(rk_);
    }
}

cli::Args Restore::store_args(const Options &opts, int32_t partitions) {
    cli::Args args = opts.store;
    if (!args.buckets) args.buckets = uint32_t(partitions);
    if (args.buckets < uint32_t(partitions))
        throw UsageError("--buckets " + std::to_string(args.buckets) + " is fewer than the topic's " +
                         std::to_string(partitions) + " partitions (partition P goes to bucket P)");
    return args;
}

// libroche puts an id's records in bucket crc32(id) % buckets: find, for
// each partition P, an id that lands in bucket P.
void Restore::choose_ids(uint32_t buckets) {
    ids_.assign(size_t(partitions_), std::string());
    int32_t missing = partitions_;
    for (uint64_t n = 0; missing > 0; n++) {
        std::string id = "p" + std::to_string(n);
        uint32_t bucket = uint32_t(crc32(0L, reinterpret_cast<const Bytef *>(id.data()), uInt(id.size()))) % buckets;
        if (bucket < uint32_t(partitions_) && ids_[bucket].empty()) {
            ids_[bucket] = id;
            missing--;
        }
    }
}

// Where each partition starts: --from, else the group's committed offset
// (with the bucket end it recorded), else the beginning of the partition.
void Restore::load_positions() {
    size_t n = size_t(partitions_);
    next_kafka_.assign(n, RD_KAFKA_OFFSET_BEGINNING);
    end_.assign(n, 0);
    checked_.assign(n, 0);
    moved_.assign(n, false);
    at_eof_.assign(n, false);
    const char *ns = opts_.store.ns.c_str();
    for (int32_t p = 0; p < partitions_; p++) {
        uint64_t first = 0, end = cli::make_offset(uint32_t(p), 0);
        int rc = roche_bucket_range(store_->db(), ns, uint32_t(p), &first, &end);
        if (rc != ROCHE_OK && rc != ROCHE_ENOTFOUND) cli::check(rc);
        if (rc == ROCHE_ENOTFOUND) end = cli::make_offset(uint32_t(p), 0);
        end_[size_t(p)] = checked_[size_t(p)] = end;
    }
    std::unique_ptr<rd_kafka_topic_partition_list_t, void (*)(rd_kafka_topic_partition_list_t *)> list(
        rd_kafka_topic_partition_list_new(partitions_), rd_kafka_topic_partition_list_destroy);
    for (int32_t p = 0; p < partitions_; p++) rd_kafka_topic_partition_list_add(list.get(), opts_.topic.c_str(), p);
    rd_kafka_resp_err_t err = with_coordinator_retries([&] { return rd_kafka_committed(rk_, list.get(), 30000); });
    if (err) throw Failure("cannot read the committed offsets of group " + group_ + ": " + rd_kafka_err2str(err));
    for (int i = 0; i < list->cnt; i++) {
        const rd_kafka_topic_partition_t &tp = list->elems[i];
        size_t p = size_t(tp.partition);
        if (tp.err) throw Failure("group " + group_ + ", partition " + std::to_string(p) + ": " + rd_kafka_err2str(tp.err));
        if (tp.offset < 0) continue;
        std::string meta(static_cast<const char *>(tp.metadata ? tp.metadata : ""), tp.metadata ? tp.metadata_size : 0);
        if (meta.compare(0, std::strlen(kMetadataPrefix), kMetadataPrefix) != 0)
            throw Failure("group " + group_ + " has an offset for partition " + std::to_string(p) +
                          " that roche kafka restore did not commit; use another --group, or --from");
        uint64_t recorded = cli::parse_u64(meta.substr(std::strlen(kMetadataPrefix)), "the committed bucket end");
        if (cli::offset_bucket(recorded) != p)
            throw Failure("group " + group_ + ": partition " + std::to_string(p) + " was restored into bucket " +
                          std::to_string(cli::offset_bucket(recorded)) + ", not " + std::to_string(p));
        if (end_[p] < recorded)
            throw Failure("bucket " + std::to_string(p) + " of namespace " + opts_.store.ns + " ends at " +
                          std::to_string(end_[p]) + ", before " + std::to_string(recorded) +
                          " where the last commit of group " + group_ + " says it did: the namespace lost records");
        next_kafka_[p] = tp.offset;
        checked_[p] = recorded;  // [recorded, end) is checked against the topic, not appended again
    }
    for (const auto &start : opts_.start_at) {
        if (start.first < 0 || start.first >= partitions_)
            throw UsageError("--from: topic " + opts_.topic + " has no partition " + std::to_string(start.first));
        next_kafka_[size_t(start.first)] = start.second;
        checked_[size_t(start.first)] = end_[size_t(start.first)];
        moved_[size_t(start.first)] = true;
    }
    // A partition the group holds no offset for starts at its first record.
    for (int32_t p = 0; p < partitions_; p++) {
        if (next_kafka_[size_t(p)] != RD_KAFKA_OFFSET_BEGINNING) continue;
        int64_t low = 0, high = 0;
        err = rd_kafka_query_watermark_offsets(rk_, opts_.topic.c_str(), p, &low, &high, 30000);
        if (err) throw Failure("cannot read where partition " + std::to_string(p) + " starts: " + rd_kafka_err2str(err));
        next_kafka_[size_t(p)] = low;
        moved_[size_t(p)] = true;
    }
    for (int i = 0; i < list->cnt; i++) list->elems[i].offset = next_kafka_[size_t(list->elems[i].partition)];
    err = rd_kafka_assign(rk_, list.get());
    if (err) throw Failure(std::string("cannot assign the topic's partitions: ") + rd_kafka_err2str(err));
    // Every new starting point is committed, with where its bucket ends,
    // before the first append. Without it a crash before the first periodic
    // commit leaves records in the bucket that a restart cannot tell from
    // the namespace's own, and it appends them a second time.
    commit(true);
}

void Restore::apply(const rd_kafka_message_t *msg) {
    size_t p = size_t(msg->partition);
    const char *ns = opts_.store.ns.c_str();
    if (checked_[p] < end_[p]) {  // appended before a crash, after the last commit
        void *data = nullptr;
        size_t len = 0;
        cli::check(roche_get(store_->db(), ns, checked_[p], &data, &len));
        bool same = len == msg->len && (len == 0 || std::memcmp(data, msg->payload, len) == 0);
        roche_free(data);
        if (!same)
            throw Failure("partition " + std::to_string(p) + " offset " + std::to_string(msg->offset) +
                          " differs from the record at " + std::to_string(checked_[p]) +
                          ": the namespace changed since group " + group_ + " last committed");
        checked_[p] = next_offset(checked_[p], len);
        matched_++;
    } else {
        uint64_t offset;
        cli::check(roche_append(store_->db(), ns, ids_[p].c_str(), msg->payload, msg->len, &offset));
        if (cli::offset_bucket(offset) != p)
            throw Failure("internal: partition " + std::to_string(p) + " was appended to bucket " +
                          std::to_string(cli::offset_bucket(offset)));
        end_[p] = checked_[p] = next_offset(offset, msg->len);
        appended_++;
    }
    next_kafka_[p] = msg->offset + 1;
    moved_[p] = true;
}

// The store first (so a commit never gets ahead of what is on the disk),
// then the group's offsets with the bucket ends they correspond to.
void Restore::commit(bool final) {
    std::unique_ptr<rd_kafka_topic_partition_list_t, void (*)(rd_kafka_topic_partition_list_t *)> list(
        rd_kafka_topic_partition_list_new(partitions_), rd_kafka_topic_partition_list_destroy);
    for (int32_t p = 0; p < partitions_; p++) {
        if (!moved_[size_t(p)]) continue;
        rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_list_add(list.get(), opts_.topic.c_str(), p);
        tp->offset = next_kafka_[size_t(p)];
        std::string meta = kMetadataPrefix + std::to_string(checked_[size_t(p)]);
        tp->metadata = strdup(meta.c_str());  // the list frees it
        tp->metadata_size = meta.size();
    }
    if (list->cnt == 0) return;
    cli::check(roche_sync(store_->db()));
    rd_kafka_resp_err_t err = final ? with_coordinator_retries([&] { return rd_kafka_commit(rk_, list.get(), 0); })
                                    : rd_kafka_commit(rk_, list.get(), 0);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        moved_.assign(moved_.size(), false);
        return;
    }
    std::string message = std::string("cannot commit the position to group ") + group_ + ": " + rd_kafka_err2str(err);
    if (final) throw Failure(message + " (what was appended is kept; the next run checks it and goes on)");
    std::fprintf(stderr, "roche kafka restore: %s; retrying\n", message.c_str());
}

std::string Restore::status() {
    int64_t lag = 0;
    for (int32_t p = 0; p < partitions_; p++) {
        int64_t low = 0, high = 0;
        if (rd_kafka_get_watermark_offsets(rk_, opts_.topic.c_str(), p, &low, &high) == RD_KAFKA_RESP_ERR_NO_ERROR &&
            next_kafka_[size_t(p)] >= 0 && high > next_kafka_[size_t(p)])
            lag += high - next_kafka_[size_t(p)];
    }
    return ", lag " + std::to_string(lag) + " records";
}

int Restore::run() {
    rd_kafka_queue_t *queue = rd_kafka_queue_get_consumer(rk_);
    const size_t kBatch = 1024;
    rd_kafka_message_t *msgs[kBatch];
    ProgressLine progress("restore", opts_.progress);
    uint64_t last_commit = now_ms();
    std::string failure;
    try {
        while (!stop_.load()) {
            ssize_t n = rd_kafka_consume_batch_queue(queue, 100, msgs, kBatch);
            if (n < 0) throw Failure(std::string("cannot consume: ") + rd_kafka_err2str(rd_kafka_last_error()));
            std::string error;
            for (ssize_t i = 0; i < n; i++) {
                const rd_kafka_message_t *msg = msgs[i];
                if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                    at_eof_[size_t(msg->partition)] = true;
                } else if (msg->err) {
                    char fatal[256];
                    if (rd_kafka_fatal_error(rk_, fatal, sizeof fatal)) error = fatal;
                    else std::fprintf(stderr, "roche kafka restore: %s\n", rd_kafka_message_errstr(msg));
                } else if (error.empty()) {
                    at_eof_[size_t(msg->partition)] = false;
                    try {
                        apply(msg);
                    } catch (const Failure &e) {
                        error = e.what();
                    }
                }
            }
            for (ssize_t i = 0; i < n; i++) rd_kafka_message_destroy(msgs[i]);
            if (!error.empty()) throw Failure(error);
            if (opts_.until_end && std::all_of(at_eof_.begin(), at_eof_.end(), [](bool b) { return b; })) break;
            if (now_ms() - last_commit >= opts_.commit_interval_ms) {
                commit(false);
                last_commit = now_ms();
            }
            progress.tick(appended_ + matched_, [this] { return status(); });
        }
    } catch (const Failure &e) {
        failure = e.what();
    }
    rd_kafka_queue_destroy(queue);
    commit(true);  // what was appended before a failure is kept and committed
    progress.tick(appended_ + matched_, [this] { return status(); }, true);
    if (!failure.empty()) throw Failure(failure);
    store_->close();
    if (opts_.progress)
        std::fprintf(stderr, "restore: done, %" PRIu64 " records appended, %" PRIu64
                     " already there (checked), group %s\n", appended_, matched_, group_.c_str());
    return 0;
}

}  // namespace

int run_restore(const Options &opts) {
    Restore restore(opts);
    return restore.run();
}

}  // namespace kafka
