// roche tail and roche retain: a namespace as a log.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "cli.h"
#include "stop_on_signal.h"

namespace cli {

int run_tail(const Args &args) {
    std::string format = chosen_format(args, {"raw", "jsonl", "tsv"});
    if (!args.cursor.empty() && !args.from_list.empty()) throw UsageError("--from and --cursor exclude each other");
    Store store(args, Access::Read);
    int flags = args.from_end ? ROCHE_FOLLOW_FROM_END : 0;
    roche_follow *raw = nullptr;
    if (!args.cursor.empty())
        check(roche_follow_open_cursor(store.db(), args.ns.c_str(), args.cursor.c_str(), flags, &raw));
    else
        check(roche_follow_open(store.db(), args.ns.c_str(), args.from_list.data(), args.from_list.size(), flags, &raw));
    std::unique_ptr<roche_follow, void (*)(roche_follow *)> follow(raw, roche_follow_free);
    roche_follow *waiting = follow.get();
    StopOnSignal stop([waiting] { roche_follow_wake(waiting); });
    const size_t kBatch = 256;
    uint64_t offsets[kBatch], times[kBatch];
    const void *data[kBatch];
    size_t lens[kBatch], count;
    for (;;) {
        int rc = roche_follow_next_batch(follow.get(), args.follow ? -1 : 0, kBatch, offsets, data, lens, times, &count);
        if (rc == ROCHE_ETIMEDOUT || rc == ROCHE_ECANCELED) break;
        if (rc == ROCHE_EDROPPED || rc == ROCHE_ECORRUPT) {
            // Reported, and passed: the follower goes on after it.
            std::fprintf(stderr, "roche: %s: %s\n", roche_strerror(rc), roche_last_error());
            continue;
        }
        check(rc);
        for (size_t i = 0; i < count; i++) print_record(format, args.encoding, offsets[i], times[i], data[i], lens[i]);
        finish_output();  // records are seen as they arrive
        // At least once: the position moves on only after the records
        // reached stdout.
        if (!args.cursor.empty()) check(roche_follow_commit(follow.get(), args.cursor.c_str()));
    }
    finish_output();
    return 0;
}

int run_retain(const Args &args) {
    if (!args.older_than_ns && !args.max_bytes) throw UsageError("give --older-than, --max-bytes or both");
    Store store(args, Access::Write);
    std::vector<std::string> names = selected_namespaces(args, store.db());
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t now_ns = uint64_t(now.tv_sec) * 1000000000u + uint64_t(now.tv_nsec);
    uint64_t cutoff = args.older_than_ns && now_ns > args.older_than_ns ? now_ns - args.older_than_ns : 0;
    if (args.older_than_ns && !cutoff) cutoff = 1;  // an age beyond the epoch keeps everything
    bool progress = args.progress && isatty(STDERR_FILENO) && names.size() > 1;
    uint64_t total = 0;
    for (size_t i = 0; i < names.size(); i++) {
        if (progress) std::fprintf(stderr, "\rretain: %zu/%zu namespaces", i, names.size());
        uint64_t freed = 0;
        check(roche_retain(store.db(), names[i].c_str(), cutoff, args.max_bytes, &freed));
        total += freed;
        out(names[i] + ": dropped " + std::to_string(freed) + " bytes\n");
    }
    if (progress) std::fprintf(stderr, "\rretain: %zu/%zu namespaces\n", names.size(), names.size());
    out("total: dropped " + std::to_string(total) + " bytes\n");
    finish_output();
    store.close();
    return 0;
}

}  // namespace cli
