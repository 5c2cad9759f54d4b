// roche-kafka: `roche kafka mirror` and `roche kafka restore` (the roche tool
// runs this program with the same arguments).
//
// Exit status: 0 done (--until-end reached the end, or SIGTERM/SIGINT
// stopped it after flushing and committing); 1 a runtime failure, with the
// reason on stderr; 2 a usage error.
#include <getopt.h>

#include <cstdio>
#include <cstring>
#include <new>

#include "bridge.h"

namespace kafka {
namespace {

const char kUsage[] =
    "usage: roche kafka mirror  --topic TOPIC [--ns NAME] [--cursor NAME] [--partitions N] [OPTIONS]\n"
    "       roche kafka restore --topic TOPIC [--ns NAME] [--group ID] [--from P:O,...] [OPTIONS]\n"
    "\n"
    "mirror   follows the namespace and produces every record to TOPIC (bucket B to\n"
    "         partition B % partitions; headers roche.offset and roche.time), committing\n"
    "         its position to the libroche cursor NAME (default kafka-mirror.TOPIC) only\n"
    "         over records Kafka acknowledged. It creates TOPIC when missing, with N\n"
    "         partitions (default: one per bucket). A restart goes on from the cursor:\n"
    "         at most the records after the last commit are produced again.\n"
    "restore  consumes every partition of TOPIC and appends into the namespace,\n"
    "         partition P into bucket P, in order. Its position is the consumer group\n"
    "         ID's committed offsets (default roche-restore.NAME); a restart checks what\n"
    "         was appended after the last commit and appends nothing twice.\n"
    "\n"
    "Options:\n"
    "  --root DIR              the store (default: $ROCHE_ROOT, else ./roche-data)\n"
    "  --ns NAME               the namespace (default: \"default\")\n"
    "  --buckets N             restore: buckets of the store (default and minimum:\n"
    "                          the topic's partitions)\n"
    "  -t, --topic TOPIC       the Kafka topic (required)\n"
    "  -b, --brokers LIST      bootstrap servers, HOST:PORT,... (or -X bootstrap.servers=)\n"
    "  -X KEY=VALUE            a librdkafka property (TLS, SASL, ...); repeatable\n"
    "  -F FILE                 librdkafka properties from FILE (KEY=VALUE lines)\n"
    "  --until-end             stop at the end (mirror: of the namespace; restore: of\n"
    "                          every partition), flush, commit, exit 0\n"
    "  --commit-interval MS    how often the position is committed (default 1000)\n"
    "  --from P:O,...          restore: start partition P at Kafka offset O\n"
    "  -q, --no-progress       no progress lines (records/s, lag) on stderr\n"
    "  -h, --help              this help\n"
    "Without --until-end both run until SIGTERM or SIGINT: they flush, commit and\n"
    "exit 0. Exit status: 0 done; 1 failure (reason on stderr); 2 usage error.\n";

enum OptionId { kRoot = 1000, kNs, kBuckets, kUntilEnd, kCommitInterval, kCursor, kPartitions, kGroup, kFrom };

const struct option kOptions[] = {
    {"root", required_argument, nullptr, kRoot},
    {"ns", required_argument, nullptr, kNs},
    {"buckets", required_argument, nullptr, kBuckets},
    {"topic", required_argument, nullptr, 't'},
    {"brokers", required_argument, nullptr, 'b'},
    {"until-end", no_argument, nullptr, kUntilEnd},
    {"commit-interval", required_argument, nullptr, kCommitInterval},
    {"cursor", required_argument, nullptr, kCursor},
    {"partitions", required_argument, nullptr, kPartitions},
    {"group", required_argument, nullptr, kGroup},
    {"from", required_argument, nullptr, kFrom},
    {"no-progress", no_argument, nullptr, 'q'},
    {"help", no_argument, nullptr, 'h'},
    {nullptr, 0, nullptr, 0},
};

uint64_t parse_number(const std::string &text, const char *what, uint64_t min, uint64_t max) {
    uint64_t n = cli::parse_u64(text, what);
    if (n < min || n > max)
        throw UsageError(std::string(what) + " must be " + std::to_string(min) + ".." + std::to_string(max));
    return n;
}

std::vector<std::pair<int32_t, int64_t>> parse_starts(const std::string &text) {
    std::vector<std::pair<int32_t, int64_t>> starts;
    size_t start = 0;
    for (;;) {
        size_t comma = text.find(',', start);
        std::string item = text.substr(start, comma - start);
        size_t colon = item.find(':');
        if (colon == std::string::npos) throw UsageError("--from wants PARTITION:OFFSET, not '" + item + "'");
        starts.emplace_back(int32_t(parse_number(item.substr(0, colon), "--from partition", 0, INT32_MAX)),
                            int64_t(parse_number(item.substr(colon + 1), "--from offset", 0, INT64_MAX)));
        if (comma == std::string::npos) return starts;
        start = comma + 1;
    }
}

std::pair<std::string, std::string> parse_property(const std::string &text) {
    size_t eq = text.find('=');
    if (eq == std::string::npos || eq == 0) throw UsageError("-X wants KEY=VALUE, not '" + text + "'");
    return {text.substr(0, eq), text.substr(eq + 1)};
}

// Parses argv; returns false when --help was asked for.
bool parse(int argc, char **argv, Options &opts) {
    opterr = 0;
    int id;
    while ((id = getopt_long(argc, argv, ":t:b:X:F:qh", kOptions, nullptr)) != -1) {
        std::string value = optarg ? optarg : "";
        switch (id) {
        case 'h': return false;
        case kRoot: opts.store.root = value; opts.store.root_given = true; break;
        case kNs: opts.store.ns = value; break;
        case kBuckets: opts.store.buckets = uint32_t(parse_number(value, "--buckets", 1, ROCHE_MAX_BUCKETS)); break;
        case 't': opts.topic = value; break;
        case 'b': opts.brokers = value; break;
        case 'X': opts.config.push_back(parse_property(value)); break;
        case 'F':
            for (auto &kv : read_properties(value)) opts.config.push_back(kv);
            break;
        case kUntilEnd: opts.until_end = true; break;
        case kCommitInterval:
            opts.commit_interval_ms = uint32_t(parse_number(value, "--commit-interval", 1, 3600000));
            break;
        case kCursor: opts.cursor = value; break;
        case kPartitions: opts.partitions = int32_t(parse_number(value, "--partitions", 1, 100000)); break;
        case kGroup: opts.group = value; break;
        case kFrom: opts.start_at = parse_starts(value); break;
        case 'q': opts.progress = false; break;
        case ':': throw UsageError(std::string("option '") + argv[optind - 1] + "' needs a value");
        default: throw UsageError(std::string("unknown option '") + argv[optind - 1] + "'");
        }
    }
    return true;
}

int run(int argc, char **argv) {
    Options opts;
    try {
        // Options and the command word may come in any order (getopt
        // moves the operands to the end).
        if (!parse(argc, argv, opts)) {
            std::fputs(kUsage, stdout);
            return 0;
        }
        if (optind >= argc) throw UsageError("no command given (mirror or restore)");
        std::string command = argv[optind];
        if (command != "mirror" && command != "restore")
            throw UsageError("unknown command '" + command + "' (mirror or restore)");
        if (optind + 1 < argc) throw UsageError(std::string("unexpected operand '") + argv[optind + 1] + "'");
        if (opts.topic.empty()) throw UsageError("--topic is required");
        if (command == "mirror" && (!opts.group.empty() || !opts.start_at.empty()))
            throw UsageError("--group and --from are restore's options");
        if (command == "restore" && (!opts.cursor.empty() || opts.partitions))
            throw UsageError("--cursor and --partitions are mirror's options");
        if (!opts.store.root_given) {
            const char *env = std::getenv("ROCHE_ROOT");
            opts.store.root = env && *env ? env : "./roche-data";
        }
        rd_kafka_conf_destroy(make_config(opts, {}));  // a bad -X or -F is a usage error, before any work
        return command == "mirror" ? run_mirror(opts) : run_restore(opts);
    } catch (const UsageError &e) {
        std::fprintf(stderr, "roche kafka: %s\n\n%s", e.what(), kUsage);
        return 2;
    }
}

}  // namespace
}  // namespace kafka

int main(int argc, char **argv) {
    try {
        return kafka::run(argc, argv);
    } catch (const kafka::Failure &e) {
        std::fprintf(stderr, "roche kafka: %s\n", e.what());
    } catch (const std::bad_alloc &) {
        std::fprintf(stderr, "roche kafka: %s\n", roche_strerror(ROCHE_ENOMEM));
    } catch (const std::exception &e) {
        std::fprintf(stderr, "roche kafka: %s\n", e.what());
    }
    return 1;
}
