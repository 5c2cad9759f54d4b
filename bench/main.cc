// roche_bench: libroche against RocksDB, LevelDB, LMDB, SQLite and the
// machine's own limits, in one run. Every measurement runs in a child
// process of its own, so each engine's peak RSS is its own and a crash or a
// SIGKILL touches only that child.
#include "workloads.h"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace bench;

namespace {

std::vector<Sample> samples;
std::vector<std::string> failures;

void write_all(int fd, const std::string &text) {
    for (size_t done = 0; done < text.size();) {
        ssize_t n = write(fd, text.data() + done, text.size() - done);
        if (n <= 0) _exit(3);
        done += size_t(n);
    }
}

struct Child {
    pid_t pid;
    int from_child;
};

// Forks body(fd): the child writes sample lines, then "READY" if it wants
// to be killed, to fd. Exceptions end the child with the message on stderr.
Child spawn(const std::function<void(int)> &body) {
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("pipe");
    std::cout.flush();
    pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("fork");
    if (pid == 0) {
        close(fds[0]);
        try {
            body(fds[1]);
        } catch (const std::exception &e) {
            std::fprintf(stderr, "roche_bench: %s\n", e.what());
            _exit(1);
        }
        _exit(0);
    }
    close(fds[1]);
    return {pid, fds[0]};
}

// Reads lines until EOF or READY; samples go to the list (rss added later).
std::vector<Sample> read_lines(int fd, bool stop_at_ready, bool &ready) {
    std::vector<Sample> got;
    static std::string pending;
    char buf[4096];
    ready = false;
    for (;;) {
        size_t nl;
        while ((nl = pending.find('\n')) != std::string::npos) {
            std::string line = pending.substr(0, nl);
            pending.erase(0, nl + 1);
            if (line == "READY") {
                ready = true;
                if (stop_at_ready) return got;
                continue;
            }
            Sample s;
            if (from_csv(line, s)) got.push_back(s);
        }
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0) {
            pending.clear();
            return got;
        }
        pending.append(buf, size_t(n));
    }
}

void finish(Child child, std::vector<Sample> got, const std::string &what, bool killed, int rep) {
    int status = 0;
    struct rusage usage {};
    wait4(child.pid, &status, 0, &usage);
    close(child.from_child);
    bool ok = killed ? WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL : WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok) failures.push_back(what + " (rep " + std::to_string(rep) + ") failed");
    for (auto &s : got) {
        s.rss_kb = usage.ru_maxrss;
        s.rep = rep;
        samples.push_back(s);
        std::printf("  %-9s %-16s %6llu B %dt  %12.0f ops/s %9.1f MB/s  rss %ld KiB\n", s.workload.c_str(),
                    s.engine.c_str(), (unsigned long long)s.value_bytes, s.threads, s.ops_per_s(), s.mb_per_s(),
                    s.rss_kb);
    }
    std::fflush(stdout);
}

void run_child(const std::string &what, int rep, const std::function<std::vector<Sample>()> &work) {
    Child child = spawn([&](int fd) {
        std::string text;
        for (const auto &s : work()) text += to_csv(s) + "\n";
        write_all(fd, text);
    });
    bool ready;
    finish(child, read_lines(child.from_child, false, ready), what, false, rep);
}

// A child that prints READY and keeps appending until it is SIGKILLed
// kill_after_ms later: the crash that recovery then has to repair.
void run_killed_child(const std::string &what, int rep, int kill_after_ms,
                      const std::function<void(int)> &work) {
    Child child = spawn(work);
    bool ready;
    auto got = read_lines(child.from_child, true, ready);
    if (ready) std::this_thread::sleep_for(std::chrono::milliseconds(kill_after_ms));
    kill(child.pid, SIGKILL);
    finish(child, got, what, ready, rep);
}

void say_ready(int fd) { write_all(fd, "READY\n"); }

std::vector<EngineKind> chosen(const Config &config) {
    std::vector<EngineKind> out;
    for (const auto &kind : engine_kinds())
        if (config.engines.empty() ||
            std::find(config.engines.begin(), config.engines.end(), kind.name) != config.engines.end())
            out.push_back(kind);
    return out;
}

bool roche_chosen(const std::vector<EngineKind> &kinds) {
    return std::any_of(kinds.begin(), kinds.end(), [](const EngineKind &k) { return k.name == "libroche"; });
}

void append_phase(const Config &config, const std::vector<EngineKind> &kinds) {
    const uint64_t append_bytes = config.append_mib << 20;
    const std::vector<std::pair<size_t, uint64_t>> sizes = {
        {50, config.small_ops}, {1024, append_bytes / 1024}, {65536, append_bytes / 65536}};
    // Reps are the outer loop so that each rep's ratios come from
    // neighbouring minutes of this noisy machine.
    for (int rep = 1; rep <= config.reps; ++rep)
        for (auto [value_bytes, count] : sizes)
            for (int threads : {1, 2}) {
                std::printf("append %zu B, %d thread(s), rep %d\n", value_bytes, threads, rep);
                run_child("append limits", rep, [&, value_bytes = value_bytes, count = count, threads] {
                    return run_append_limits(config.data_dir + "/limits", value_bytes, threads, count);
                });
                for (const auto &kind : kinds)
                    run_child("append " + kind.name, rep, [&, value_bytes = value_bytes, count = count, threads] {
                        return run_append(kind, config.data_dir + "/append-" + kind.name, value_bytes, threads, count);
                    });
                // libroche's batch call beside LMDB's and SQLite's batched
                // transactions, for small values on one thread.
                if (value_bytes == 50 && threads == 1 && roche_chosen(kinds))
                    run_child("append " + kRocheBatched.name, rep, [&, count = count] {
                        return run_append(kRocheBatched, config.data_dir + "/append-" + kRocheBatched.name, 50, 1, count);
                    });
            }
}

std::string store_dir(const Config &config, const EngineKind &kind) { return config.data_dir + "/store-" + kind.name; }

void load_and_recovery_phase(const Config &config, const std::vector<EngineKind> &kinds) {
    const uint64_t records = (config.store_mib << 20) / kGetValueBytes;
    for (const auto &kind : kinds) {
        std::printf("load %s: %llu records of %zu B, then SIGKILL mid-append\n", kind.name.c_str(),
                    (unsigned long long)records, kGetValueBytes);
        run_killed_child("load " + kind.name, 1, config.kill_after_ms, [&](int fd) {
            run_load_then_append_forever(kind, store_dir(config, kind), records, [&](const Sample &s) {
                write_all(fd, to_csv(s) + "\n");
                say_ready(fd);
            });
        });
    }
    for (int rep = 1; rep <= config.reps; ++rep)
        for (const auto &kind : kinds) {
            if (rep > 1)
                run_killed_child("append-then-kill " + kind.name, rep, config.kill_after_ms, [&](int fd) {
                    run_append_forever(kind, store_dir(config, kind), [&] { say_ready(fd); });
                });
            run_child("recovery " + kind.name, rep, [&] { return run_recovery_open(kind, store_dir(config, kind)); });
        }
    for (int rep = 1; roche_chosen(kinds) && rep <= config.reps; ++rep) {
        std::string dir = config.data_dir + "/torn-tail";
        run_killed_child("torn-tail writer", rep, 400, [&](int fd) { run_torn_tail_writer(dir, [&] { say_ready(fd); }); });
        run_child("torn-tail recovery", rep, [&] { return run_torn_tail_recovery(dir); });
    }
}

void read_phase(const Config &config, const std::vector<EngineKind> &kinds) {
    for (int rep = 1; rep <= config.reps; ++rep) {
        std::printf("reads, rep %d\n", rep);
        run_child("read limits", rep, [&] { return run_read_limits(config.data_dir + "/read-limit", config, rep); });
        for (const auto &kind : kinds)
            run_child("reads " + kind.name, rep, [&] { return run_reads(kind, store_dir(config, kind), config, rep); });
        for (const auto &kind : kinds)
            run_child("64 KiB reads " + kind.name, rep,
                      [&] { return run_large_reads(kind, config.data_dir + "/large-" + kind.name, rep); });
    }
}

void usage() {
    std::fprintf(stderr,
                 "usage: roche_bench --data DIR --out DIR [--store-mib N] [--append-mib N] [--small-ops N]\n"
                 "                   [--gets N] [--multiget-calls N] [--reps N] [--kill-after-ms N]\n"
                 "                   [--engines a,b,...] [--phases append,recovery,reads]\n");
    std::exit(2);
}

} // namespace

int main(int argc, char **argv) {
    Config config;
    std::string phases = "append,recovery,reads";
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (i + 1 >= argc) usage();
        std::string value = argv[++i];
        if (arg == "--data") config.data_dir = value;
        else if (arg == "--out") config.out_dir = value;
        else if (arg == "--store-mib") config.store_mib = std::stoull(value);
        else if (arg == "--append-mib") config.append_mib = std::stoull(value);
        else if (arg == "--small-ops") config.small_ops = std::stoull(value);
        else if (arg == "--gets") config.gets = std::stoull(value);
        else if (arg == "--multiget-calls") config.multiget_calls = std::stoull(value);
        else if (arg == "--reps") config.reps = std::stoi(value);
        else if (arg == "--kill-after-ms") config.kill_after_ms = std::stoi(value);
        else if (arg == "--phases") phases = value;
        else if (arg == "--engines") {
            std::stringstream list(value);
            for (std::string name; std::getline(list, name, ',');) config.engines.push_back(name);
        } else usage();
    }
    if (config.data_dir.empty() || config.out_dir.empty() || config.reps < 1) usage();
    std::filesystem::create_directories(config.data_dir);
    init_value_pool();
    auto kinds = chosen(config);
    if (phases.find("append") != std::string::npos) append_phase(config, kinds);
    if (phases.find("recovery") != std::string::npos) load_and_recovery_phase(config, kinds);
    if (phases.find("reads") != std::string::npos) read_phase(config, kinds);
    write_report(config, samples, failures);
    for (const auto &f : failures) std::fprintf(stderr, "FAILED: %s\n", f.c_str());
    return failures.empty() ? 0 : 1;
}
