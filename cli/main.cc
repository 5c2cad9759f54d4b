// roche: append to, read and inspect a libroche store from the shell.
//
//   roche [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS]
//
// Exit status: 0 on success, 1 on a failure (libroche's message on stderr),
// 2 on a usage error (the usage text on stderr).
#include <getopt.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>

#include "cli.h"

namespace cli {
namespace {

const char kGlobalUsage[] =
    "usage: roche [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS]\n"
    "\n"
    "Commands:\n"
    "  append                 append stdin (or --file) as a record, print its offset\n"
    "  get OFFSET...          write the raw values at the offsets to stdout\n"
    "  multiget [OFFSET...]   values at the offsets (arguments, else stdin)\n"
    "  scan                   every record of a namespace, in offset order\n"
    "  stat                   namespaces, buckets, records, bytes, times, damage\n"
    "  verify                 check every record; report damaged ranges\n"
    "  delete-namespace NAME  delete a namespace and its bucket files\n"
    "  tail [-f]              records as they are appended (follow a namespace)\n"
    "  retain                 drop the oldest records, freeing their disk space\n"
    "  import                 convert a rochefort v0.5 data directory in place\n"
    "  cursor SUBCOMMAND      consumer cursors: list, get, set, delete\n"
    "  serve                  serve the store over HTTP as rochefort does (roche-serve)\n"
    "  kafka mirror|restore   mirror a namespace into Apache Kafka, or restore one\n"
    "                         from a topic (roche-kafka)\n"
    "\n"
    "Global options (before or after the command):\n"
    "  --root DIR      the store (default: $ROCHE_ROOT, else ./roche-data)\n"
    "  --ns NAME       the namespace (default: \"default\")\n"
    "  --buckets N     bucket files for a new namespace, 1..8191 (default 8)\n"
    "  --read-only     open the store read-only (writes then fail)\n"
    "  --store-format roche|rochefort\n"
    "                  the record header check: libroche's CRC-32 (default), or\n"
    "                  rochefort v0.5's MetroHash64, to share a rochefort data\n"
    "                  directory in place (ids then hash to buckets as in rochefort)\n"
    "  -h, --help      this help, or a command's help after the command\n"
    "  --version       print the tool's and libroche's versions\n"
    "\n"
    "Exit status: 0 success; 1 failure, with libroche's message on stderr;\n"
    "2 usage error, with the usage text on stderr.\n";

const char kGlobalsFooter[] =
    "\nGlobal options: --root DIR, --ns NAME, --buckets N, --read-only,\n"
    "--store-format roche|rochefort (see 'roche --help').\n";

enum OptionId {
    kRoot = 1000, kNs, kBuckets, kReadOnly, kStoreFormat, kHelp, kVersion,
    kId, kFile, kLines, kNull, kFormat, kEncoding, kFrom, kNoProgress,
    kFollow, kFromEnd, kCursor, kOlderThan, kMaxBytes, kFromRochefort, kDryRun
};

const struct option kGlobalOptions[] = {
    {"root", required_argument, nullptr, kRoot},
    {"ns", required_argument, nullptr, kNs},
    {"buckets", required_argument, nullptr, kBuckets},
    {"read-only", no_argument, nullptr, kReadOnly},
    {"store-format", required_argument, nullptr, kStoreFormat},
    {"help", no_argument, nullptr, kHelp},
};

struct Command {
    const char *name;
    int (*run)(const Args &);
    size_t min_operands, max_operands;
    const char *short_options;           // for getopt_long: ':' first, 'h' always
    std::vector<struct option> options;  // besides the global ones
    const char *usage;
};

const size_t kMany = SIZE_MAX;

// serve and kafka: the server and the Kafka bridge are programs of their
// own, roche-serve and roche-kafka, beside this one (they link
// libmicrohttpd and librdkafka, which the rest of the tool does not need).
// Every argument but the command's word goes to them untouched, so
// rochefort's spellings (-bind, -root, -buckets) work. $ROCHE_SERVE and
// $ROCHE_KAFKA name other ones.
[[noreturn]] void run_beside(const char *program, const char *env_name, const char *package,
                             const std::vector<std::string> &arguments) {
    std::string path;
    const char *env = std::getenv(env_name);
    if (env && *env) {
        path = env;
    } else {
        char self[4096];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        std::string dir = n > 0 ? std::string(self, size_t(n)) : std::string();
        size_t slash = dir.rfind('/');
        path = slash == std::string::npos ? program : dir.substr(0, slash) + "/" + program;
    }
    std::vector<char *> argv{const_cast<char *>(path.c_str())};
    for (const std::string &a : arguments) argv.push_back(const_cast<char *>(a.c_str()));
    argv.push_back(nullptr);
    std::fflush(nullptr);
    execv(path.c_str(), argv.data());
    int err = errno;
    if (err == ENOENT && !(env && *env)) {  // not beside this tool: try $PATH
        argv[0] = const_cast<char *>(program);
        execvp(program, argv.data());
    }
    throw Failure("cannot run " + path + ": " + std::strerror(err) + " (" + program +
                  " is built when its library is found: apt-get install " + package + ")");
}

int run_serve(const Args &args) { run_beside("roche-serve", "ROCHE_SERVE", "libmicrohttpd-dev", args.operands); }
int run_kafka(const Args &args) { run_beside("roche-kafka", "ROCHE_KAFKA", "librdkafka-dev", args.operands); }

const std::vector<Command> &commands() {
    static const std::vector<Command> table = {
        {"append", run_append, 0, 0, ":h0",
         {{"id", required_argument, nullptr, kId},
          {"file", required_argument, nullptr, kFile},
          {"lines", no_argument, nullptr, kLines},
          {"null", no_argument, nullptr, kNull}},
         "usage: roche append [--ns NAME] [--id ID] [--file PATH] [--lines | --null | -0]\n"
         "\n"
         "Appends the bytes of stdin (or of PATH) as one record and prints its offset.\n"
         "  --id ID       pick the bucket by crc32(ID) (rochefort's MetroHash64 under\n"
         "                --store-format rochefort): one id's records stay in order\n"
         "  --file PATH   read from PATH instead of stdin\n"
         "  --lines       batch: one record per line (the newline is not stored)\n"
         "  --null, -0    batch: one record per NUL-terminated item\n"
         "A batch is one multi-append into one bucket; it prints one offset per\n"
         "line, in input order. A last item without its terminator counts too.\n"},
        {"get", run_get, 1, kMany, ":h", {},
         "usage: roche get [--ns NAME] OFFSET...\n"
         "\n"
         "Writes the raw values at the decimal offsets to stdout, back to back.\n"
         "Stops with exit status 1 at the first offset that holds no record.\n"},
        {"multiget", run_multiget, 0, kMany, ":h",
         {{"format", required_argument, nullptr, kFormat},
          {"encoding", required_argument, nullptr, kEncoding}},
         "usage: roche multiget [--ns NAME] [--format raw|jsonl] [--encoding E] [OFFSET...]\n"
         "\n"
         "Reads the values at the decimal offsets given as arguments or, with none,\n"
         "on stdin (separated by white space), in one multiget.\n"
         "  --format raw     rochefort's format (default): per value, its length\n"
         "                   as a u32 little-endian, then its bytes\n"
         "  --format jsonl   one JSON object per line: offset, length, value\n"
         "  --encoding E     the JSON value as text (default; bytes that are not\n"
         "                   UTF-8 become U+FFFD), hex or base64\n"
         "If any offset holds no record, nothing is written and the status is 1.\n"},
        {"scan", run_scan, 0, 0, ":h",
         {{"format", required_argument, nullptr, kFormat},
          {"encoding", required_argument, nullptr, kEncoding},
          {"from", required_argument, nullptr, kFrom}},
         "usage: roche scan [--ns NAME] [--format raw|jsonl|tsv] [--encoding E] [--from OFFSET]\n"
         "\n"
         "Writes every record of the namespace, in increasing offset order.\n"
         "  --format raw     rochefort's scan stream (default): per record, u32 length,\n"
         "                   u64 offset (little-endian), then the value\n"
         "  --format jsonl   one JSON object per line: offset, time, length, value\n"
         "  --format tsv     offset, time, length, value; tab-separated, one per line;\n"
         "                   in text, \\\\ \\t \\n \\r and \\xHH escape control bytes\n"
         "  --encoding E     the value in jsonl/tsv: text (default), hex or base64\n"
         "  --from OFFSET    start at the first record at or after OFFSET; to resume,\n"
         "                   pass the last offset seen plus one\n"
         "time is the append time in nanoseconds since the epoch.\n"},
        {"stat", run_stat, 0, 0, ":h", {},
         "usage: roche stat [--ns NAME] [--read-only]\n"
         "\n"
         "Prints, per namespace (all of them unless --ns): buckets, records, bytes\n"
         "(headers included), oldest and newest append time, damaged ranges and\n"
         "bytes, and the torn tail recovery cut when the namespace was opened.\n"
         "stat opens the store for writing, so recovery runs, unless --read-only is\n"
         "given or another process writes to the store (then it reads beside it).\n"},
        {"verify", run_verify, 0, 0, ":h",
         {{"no-progress", no_argument, nullptr, kNoProgress}},
         "usage: roche verify [--ns NAME] [--no-progress]\n"
         "\n"
         "Reads every record of the namespace (all of them unless --ns), read-only,\n"
         "checking header and value against the bucket's companion index (headers\n"
         "only for a bucket without one), and prints each damaged record (up to the\n"
         "next record) and every other range of bytes that is not a record as\n"
         "  damaged NS bucket B bytes START..END (N bytes)\n"
         "Exit status 1 when there is damage. On a terminal, large stores get a\n"
         "progress bar on stderr (--no-progress turns it off).\n"},
        {"delete-namespace", run_delete_namespace, 1, 1, ":h", {},
         "usage: roche delete-namespace NAME\n"
         "\n"
         "Deletes the namespace NAME with every bucket file. Offsets into it are gone.\n"},
        {"cursor", run_cursor, 1, kMany, ":h", {},
         "usage: roche cursor [--ns NAME] list | get CURSOR | set CURSOR OFFSET... | delete CURSOR\n"
         "\n"
         "A cursor is a named position in a namespace: one offset per bucket, where\n"
         "a consumer goes on (roche_cursor_commit()).\n"
         "  list                    the namespace's cursors, one per line, sorted\n"
         "  get CURSOR              its offsets, one per line\n"
         "  set CURSOR OFFSET...    commit these decimal offsets, creating the cursor\n"
         "  delete CURSOR           delete it\n"
         "The store is opened read-only (cursors are consumer state), so these run\n"
         "beside a process that has it open for writing; a set is on the disk when\n"
         "the command returns.\n"},
        {"tail", run_tail, 0, 0, ":hf",
         {{"follow", no_argument, nullptr, kFollow},
          {"from", required_argument, nullptr, kFrom},
          {"from-end", no_argument, nullptr, kFromEnd},
          {"cursor", required_argument, nullptr, kCursor},
          {"format", required_argument, nullptr, kFormat},
          {"encoding", required_argument, nullptr, kEncoding}},
         "usage: roche tail [--ns NAME] [-f] [--from OFFSET[,OFFSET...] | --cursor NAME] [--from-end]\n"
         "                  [--format raw|jsonl|tsv] [--encoding E]\n"
         "\n"
         "Writes the records of the namespace as scan does, bucket by bucket as they\n"
         "come, each bucket in offset order; then exits, or with -f waits for new ones\n"
         "(as they are appended, from any process) until Ctrl-C or SIGTERM.\n"
         "  -f, --follow     wait for new records instead of exiting\n"
         "  --from OFFSETS   where to start: one offset per bucket, comma-separated (as\n"
         "                   'roche cursor get' prints them); other buckets start at\n"
         "                   their first record\n"
         "  --cursor NAME    start where the cursor says, and commit each batch's\n"
         "                   position to it once the batch is written (at least once)\n"
         "  --from-end       buckets with no position start at their end: new records only\n"
         "Records retention dropped before they were read, and damaged records, are\n"
         "reported on stderr and passed. The store is opened read-only.\n"},
        {"retain", run_retain, 0, 0, ":h",
         {{"older-than", required_argument, nullptr, kOlderThan},
          {"max-bytes", required_argument, nullptr, kMaxBytes},
          {"no-progress", no_argument, nullptr, kNoProgress}},
         "usage: roche retain [--ns NAME] [--older-than AGE] [--max-bytes SIZE] [--no-progress]\n"
         "\n"
         "Drops the oldest records of the namespace (all of them unless --ns) and frees\n"
         "their disk space in place; offsets of the records kept stay valid.\n"
         "  --older-than AGE   drop records appended more than AGE ago: a number with\n"
         "                     s, m, h or d (7d, 36h, 90s)\n"
         "  --max-bytes SIZE   then drop the oldest until the records kept take at most\n"
         "                     SIZE bytes (headers included): a number with K, M, G or\n"
         "                     T (powers of 1024), e.g. 10G\n"
         "Prints the bytes dropped per namespace. On a terminal, many namespaces get a\n"
         "progress line on stderr (--no-progress turns it off).\n"},
        {"import", run_import, 0, 0, ":h",
         {{"from-rochefort", required_argument, nullptr, kFromRochefort},
          {"dry-run", no_argument, nullptr, kDryRun},
          {"no-progress", no_argument, nullptr, kNoProgress}},
         "usage: roche import --from-rochefort DIR [--ns NAME] [--dry-run] [--no-progress]\n"
         "\n"
         "Makes DIR, a data directory written by rochefort v0.5, a libroche store in\n"
         "place: each record header's check is rewritten from rochefort's (MetroHash64)\n"
         "to libroche's (CRC-32). Nothing else changes, so every offset stays valid.\n"
         "Every namespace is converted unless --ns names one. Stop rochefort first.\n"
         "  --dry-run       report what would change; write nothing\n"
         "  --no-progress   no progress bar (on a terminal, large stores get one)\n"
         "Each bucket file is walked from its start; the walk stops at the first\n"
         "header that is neither rochefort's nor libroche's, and reports the rest as\n"
         "  not converted: NS bucket B bytes START..END (N bytes): ...\n"
         "leaving it as it is (exit status 1; the store is then not opened). Otherwise\n"
         "the store is opened for writing, which builds each bucket's companion index,\n"
         "and verified as 'roche verify' does. An interrupted import (even a crash)\n"
         "leaves every record readable by a new run: run it again to finish. Do not\n"
         "open the store for writing with libroche before an import has finished.\n"
         "A store used with --store-format rochefort converts too: it is first checked\n"
         "through the library in that format (damage stops the import before anything\n"
         "changes), then its companion indexes are dropped and built again.\n"},
        {"serve", run_serve, 0, kMany, ":h", {},
         "usage: roche serve [--root DIR] [--bind ADDR] [--buckets N] [OPTIONS]\n"
         "\n"
         "Serves the store over HTTP as rochefort v0.5 does (/append, /get, /getMulti,\n"
         "/scan, /close), so rochefort's clients work unmodified. Default bind\n"
         "127.0.0.1:8000. Runs roche-serve with the same arguments; rochefort's\n"
         "-bind, -root and -buckets are accepted. 'roche serve --help' lists its\n"
         "options. Stops cleanly on SIGTERM or SIGINT.\n"},
        {"kafka", run_kafka, 0, kMany, ":h", {},
         "usage: roche kafka mirror|restore --topic TOPIC [OPTIONS]\n"
         "\n"
         "mirror: follow the namespace and produce every record to an Apache Kafka\n"
         "topic, committing a libroche cursor over what Kafka acknowledged.\n"
         "restore: append a topic's records into the namespace, resumable after a\n"
         "crash without duplicates. Runs roche-kafka with the same arguments;\n"
         "'roche kafka --help' lists its options (librdkafka's -X and -F among them).\n"},
    };
    return table;
}

const Command *find_command(const std::string &name) {
    for (const Command &c : commands())
        if (name == c.name) return &c;
    return nullptr;
}

// The option getopt_long refused: a short one by its letter, a long one as
// written (optopt then holds 0 or the option's id, not a letter).
std::string option_name(char **argv) {
    if (optopt > 0 && optopt < 128) return std::string("-") + char(optopt);
    return argv[optind - 1];
}

uint32_t parse_buckets(const char *text) {
    uint64_t n = parse_u64(text, "--buckets");
    if (n < 1 || n > ROCHE_MAX_BUCKETS)
        throw UsageError("--buckets must be 1.." + std::to_string(ROCHE_MAX_BUCKETS));
    return uint32_t(n);
}

Encoding parse_encoding(const std::string &text) {
    if (text == "text") return Encoding::Text;
    if (text == "hex") return Encoding::Hex;
    if (text == "base64") return Encoding::Base64;
    throw UsageError("--encoding must be text, hex or base64, not '" + text + "'");
}

std::vector<uint64_t> parse_offset_list(const std::string &text) {
    std::vector<uint64_t> offsets;
    size_t start = 0;
    for (;;) {
        size_t comma = text.find(',', start);
        offsets.push_back(parse_u64(text.substr(start, comma - start), "--from"));
        if (comma == std::string::npos) return offsets;
        start = comma + 1;
    }
}

// A number with a unit: units "smhd" (an age, in ns) or "KMGT" (bytes);
// a bare number is seconds or bytes.
uint64_t parse_scaled(const std::string &text, const char *what, const char *units) {
    size_t digits = text.find_first_not_of("0123456789");
    uint64_t n = parse_u64(text.substr(0, digits), what);
    uint64_t scale = units[0] == 's' ? 1000000000ull : 1;
    if (digits != std::string::npos) {
        const char *unit = text.size() == digits + 1 ? std::strchr(units, text[digits]) : nullptr;
        if (!unit || !*unit) throw UsageError(std::string(what) + ": unknown unit in '" + text + "' (use one of " + units + ")");
        static const uint64_t kAges[] = {1000000000ull, 60000000000ull, 3600000000000ull, 86400000000000ull};
        scale = units[0] == 's' ? kAges[unit - units] : uint64_t(1) << (10 * (unit - units + 1));
    }
    if (n && scale > UINT64_MAX / n) throw UsageError(std::string(what) + ": '" + text + "' is too large");
    if (n == 0) throw UsageError(std::string(what) + " must be more than 0");
    return n * scale;
}

// What the command line asks for once its options are read.
enum class Parsed { Run, Help, Version };

Parsed apply_option(int id, const char *value, Args &args) {
    switch (id) {
    case 'h':
    case kHelp: return Parsed::Help;
    case kVersion: return Parsed::Version;
    case kRoot: args.root = value; args.root_given = true; break;
    case kNs: args.ns = value; args.ns_given = true; break;
    case kBuckets: args.buckets = parse_buckets(value); break;
    case kReadOnly: args.read_only = true; break;
    case kStoreFormat:
        if (std::strcmp(value, "roche") == 0) args.store_format = ROCHE_FORMAT_ROCHE;
        else if (std::strcmp(value, "rochefort") == 0) args.store_format = ROCHE_FORMAT_ROCHEFORT;
        else throw UsageError(std::string("--store-format must be roche or rochefort, not '") + value + "'");
        break;
    case kId: args.id = value; args.id_given = true; break;
    case kFile: args.file = value; break;
    case kLines:
    case kNull:
    case '0':
        if (args.batch) throw UsageError("--lines and --null exclude each other");
        args.batch = true;
        args.separator = id == kLines ? '\n' : '\0';
        break;
    case kFormat: args.format = value; break;
    case kEncoding: args.encoding = parse_encoding(value); break;
    case kFrom:
        args.from_list = parse_offset_list(value);
        args.from = args.from_list.empty() ? 0 : args.from_list[0];
        break;
    case 'f':
    case kFollow: args.follow = true; break;
    case kFromEnd: args.from_end = true; break;
    case kCursor: args.cursor = value; break;
    case kOlderThan: args.older_than_ns = parse_scaled(value, "--older-than", "smhd"); break;
    case kMaxBytes: args.max_bytes = parse_scaled(value, "--max-bytes", "KMGT"); break;
    case kNoProgress: args.progress = false; break;
    case kFromRochefort: args.import_from = value; break;
    case kDryRun: args.dry_run = true; break;
    }
    return Parsed::Run;
}

// Reads the options of argv[1..argc) with getopt_long; a leading '+' in
// short_options stops at the first operand (the command name), otherwise
// options and operands may mix and operands end up from optind on.
Parsed parse_options(int argc, char **argv, const std::vector<struct option> &options,
                     const char *short_options, Args &args) {
    optind = 0;  // glibc: reinitialize, as each call parses a different list
    opterr = 0;
    int id;
    while ((id = getopt_long(argc, argv, short_options, options.data(), nullptr)) != -1) {
        if (id == '?') throw UsageError("unknown option '" + option_name(argv) + "'");
        if (id == ':') throw UsageError("option '" + option_name(argv) + "' needs a value");
        Parsed parsed = apply_option(id, optarg, args);
        if (parsed != Parsed::Run) return parsed;
    }
    return Parsed::Run;
}

std::vector<struct option> option_table(const Command *cmd) {
    std::vector<struct option> table(std::begin(kGlobalOptions), std::end(kGlobalOptions));
    if (cmd) table.insert(table.end(), cmd->options.begin(), cmd->options.end());
    else table.push_back({"version", no_argument, nullptr, kVersion});
    table.push_back({nullptr, 0, nullptr, 0});
    return table;
}

void print_usage(FILE *to, const Command *cmd) {
    if (!cmd) {
        std::fputs(kGlobalUsage, to);
        return;
    }
    std::fputs(cmd->usage, to);
    std::fputs(kGlobalsFooter, to);
}

int usage_error(const Command *cmd, const std::string &message) {
    std::fprintf(stderr, "roche: %s\n\n", message.c_str());
    print_usage(stderr, cmd);
    return 2;
}

int print_help(const Command *cmd) {
    print_usage(stdout, cmd);
    return 0;
}

int print_version() {
    std::printf("roche %d.%d.%d (libroche %s)\n", ROCHE_VERSION_MAJOR, ROCHE_VERSION_MINOR,
                ROCHE_VERSION_PATCH, roche_version());
    return 0;
}

int run(int argc, char **argv) {
    Args args;
    const Command *cmd = nullptr;
    try {
        // Global options stop at the command name ("+"); then the command's
        // own options, with the globals again, may come in any order.
        Parsed parsed = parse_options(argc, argv, option_table(nullptr), "+:h", args);
        if (parsed == Parsed::Version) return print_version();
        if (parsed == Parsed::Help) return print_help(nullptr);
        if (optind >= argc) throw UsageError("no command given");
        int first = optind;
        args.command = argv[first];
        cmd = find_command(args.command);
        if (!cmd) throw UsageError("unknown command '" + args.command + "'");
        if (args.command == "serve" || args.command == "kafka") {  // parsed by the program run
            for (int i = 1; i < argc; i++)
                if (i != first) args.operands.push_back(argv[i]);
            return cmd->run(args);
        }
        parsed = parse_options(argc - first, argv + first, option_table(cmd), cmd->short_options,
                               args);
        if (parsed == Parsed::Help) return print_help(cmd);
        for (int i = first + optind; i < argc; i++) args.operands.push_back(argv[i]);
        if (args.operands.size() < cmd->min_operands)
            throw UsageError(args.command + ": missing operand");
        if (args.operands.size() > cmd->max_operands)
            throw UsageError(args.command + ": unexpected operand '" +
                             args.operands[cmd->max_operands] + "'");
    } catch (const UsageError &e) {
        return usage_error(cmd, e.what());
    }
    if (!args.root_given) {
        const char *env = std::getenv("ROCHE_ROOT");
        args.root = env && *env ? env : "./roche-data";
    }
    try {
        return cmd->run(args);
    } catch (const UsageError &e) {
        return usage_error(cmd, e.what());
    }
}

}  // namespace
}  // namespace cli

int main(int argc, char **argv) {
    // Every failure ends here as one line and status 1: no C++ message, no abort.
    try {
        return cli::run(argc, argv);
    } catch (const cli::Failure &e) {
        std::fprintf(stderr, "roche: %s\n", e.what());
    } catch (const std::bad_alloc &) {
        std::fprintf(stderr, "roche: %s\n", roche_strerror(ROCHE_ENOMEM));
    } catch (const std::exception &e) {
        std::fprintf(stderr, "roche: %s: %s\n", roche_strerror(ROCHE_EINTERNAL), e.what());
    }
    return 1;
}
