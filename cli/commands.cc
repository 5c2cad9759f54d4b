// The commands that move values in and out: append, get, multiget, scan,
// plus stat and delete-namespace.
#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>

#include "cli.h"
#include "encode.h"

namespace cli {
namespace {

// All of stdin, or of path; a read error is a failure.
std::string read_all(const std::string &path) {
    FILE *in = path.empty() ? stdin : std::fopen(path.c_str(), "rb");
    std::string name = path.empty() ? "stdin" : path;
    if (!in) fail(ROCHE_EIO, name + ": " + std::strerror(errno));
    std::string data;
    char chunk[1 << 16];
    size_t n;
    while ((n = std::fread(chunk, 1, sizeof chunk, in)) > 0) data.append(chunk, n);
    int err = std::ferror(in) ? errno : 0;
    if (in != stdin) std::fclose(in);
    if (err) fail(ROCHE_EIO, name + ": " + std::strerror(err));
    return data;
}

// Splits input into items ended by sep (the last may lack it), packed back
// to back without their separators, as roche_append_many() takes them.
void split_items(const std::string &input, char sep, std::string *packed,
                 std::vector<size_t> *lens) {
    packed->reserve(input.size());
    size_t start = 0;
    while (start < input.size()) {
        size_t end = input.find(sep, start);
        if (end == std::string::npos) end = input.size();
        packed->append(input, start, end - start);
        lens->push_back(end - start);
        start = end + 1;
    }
}

std::string offsets_text(const std::vector<uint64_t> &offsets) {
    std::string text;
    for (uint64_t off : offsets) text += std::to_string(off) + "\n";
    return text;
}

const uint8_t *bytes(const void *p) { return static_cast<const uint8_t *>(p); }

std::vector<uint64_t> parse_offsets(const std::vector<std::string> &words) {
    std::vector<uint64_t> offsets;
    for (const std::string &w : words) offsets.push_back(parse_u64(w, "offset"));
    return offsets;
}

// Offsets on stdin are data, not command line: a bad one is a failure (1).
std::vector<uint64_t> read_offsets_from_stdin() {
    std::string input = read_all("");
    std::vector<std::string> words;
    const char *space = " \t\r\n\v\f";
    for (size_t start = input.find_first_not_of(space); start != std::string::npos;) {
        size_t end = input.find_first_of(space, start);
        words.push_back(input.substr(start, end - start));
        start = input.find_first_not_of(space, end);
    }
    try {
        return parse_offsets(words);
    } catch (const UsageError &e) {
        fail(ROCHE_EINVAL, std::string("stdin: ") + e.what());
    }
}

std::string format_time(uint64_t ns) {
    if (ns == 0) return "-";
    time_t secs = time_t(ns / 1000000000u);
    struct tm tm;
    char date[32], text[48];
    gmtime_r(&secs, &tm);
    std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(text, sizeof text, "%s.%09uZ", date, unsigned(ns % 1000000000u));
    return text;
}

void print_field(const char *name, const std::string &value) {
    out("  " + std::string(name) + std::string(16 - std::strlen(name), ' ') + value + "\n");
}

// The first record kept in each bucket that retention dropped records of
// ("bucket 0 at 4128, bucket 3 at 1125899906846720"), or "-".
std::string first_kept_text(roche_db *db, const std::string &ns, uint32_t buckets) {
    std::string text;
    for (uint32_t b = 0; b < buckets; b++) {
        uint64_t first = 0, end = 0;
        check(roche_bucket_range(db, ns.c_str(), b, &first, &end));
        if (offset_position(first) == 0) continue;
        text += (text.empty() ? "" : ", ") + std::string("bucket ") + std::to_string(b) + " at " + std::to_string(first);
    }
    return text.empty() ? "-" : text;
}

void print_stat(roche_db *db, const std::string &ns, const roche_stat_info &s, bool recovery_ran) {
    out("namespace " + ns + "\n");
    print_field("buckets", std::to_string(s.buckets));
    print_field("records", std::to_string(s.records));
    print_field("bytes", std::to_string(s.bytes));
    print_field("oldest", format_time(s.oldest_ns));
    print_field("newest", format_time(s.newest_ns));
    print_field("damaged ranges", std::to_string(s.damaged_ranges));
    print_field("damaged bytes", std::to_string(s.damaged_bytes));
    print_field("dropped", std::to_string(s.dropped_records) + " records, " + std::to_string(s.dropped_bytes) +
                               " bytes (retention)");
    print_field("first kept", first_kept_text(db, ns, s.buckets));
    print_field("recovery cut", recovery_ran ? std::to_string(s.recovered_bytes) + " bytes"
                                             : "not run (opened read-only)");
}

}  // namespace

// The --format asked for, checked against allowed; the first is the default.
std::string chosen_format(const Args &args, std::initializer_list<const char *> allowed) {
    if (args.format.empty()) return *allowed.begin();
    std::string list;
    for (const char *f : allowed) {
        if (args.format == f) return f;
        list += std::string(list.empty() ? "" : ", ") + f;
    }
    throw UsageError("--format must be one of " + list + ", not '" + args.format + "'");
}


int run_append(const Args &args) {
    std::string input = read_all(args.file);
    Store store(args, Access::Write);
    const char *id = args.id_given ? args.id.c_str() : nullptr;
    std::vector<uint64_t> offsets;
    if (args.batch) {
        std::string packed;
        std::vector<size_t> lens;
        split_items(input, args.separator, &packed, &lens);
        offsets.resize(lens.size());
        check(roche_append_many(store.db(), args.ns.c_str(), id, packed.data(), lens.data(),
                                lens.size(), offsets.data()));
    } else {
        offsets.resize(1);
        check(roche_append(store.db(), args.ns.c_str(), id, input.data(), input.size(),
                           offsets.data()));
    }
    out(offsets_text(offsets));
    finish_output();
    store.close();
    return 0;
}

int run_get(const Args &args) {
    std::vector<uint64_t> offsets = parse_offsets(args.operands);
    Store store(args, Access::Read);
    for (uint64_t off : offsets) {
        void *data = nullptr;
        size_t len = 0;
        check(roche_get(store.db(), args.ns.c_str(), off, &data, &len));
        std::unique_ptr<void, void (*)(void *)> owned(data, roche_free);
        out(data, len);
    }
    finish_output();
    return 0;
}

int run_multiget(const Args &args) {
    std::string format = chosen_format(args, {"raw", "jsonl"});
    std::vector<uint64_t> offsets =
        args.operands.empty() ? read_offsets_from_stdin() : parse_offsets(args.operands);
    if (offsets.empty()) return 0;
    Store store(args, Access::Read);
    roche_values *raw = nullptr;
    check(roche_multiget(store.db(), args.ns.c_str(), offsets.data(), offsets.size(), &raw));
    std::unique_ptr<roche_values, void (*)(roche_values *)> values(raw, roche_values_free);
    // All or nothing: a stream with a hole in it would be misread downstream.
    for (size_t i = 0; i < offsets.size(); i++) {
        int rc = roche_values_item(values.get(), i, nullptr, nullptr);
        if (rc != ROCHE_OK) fail(rc, "offset " + std::to_string(offsets[i]));
    }
    for (size_t i = 0; i < offsets.size(); i++) {
        const void *data;
        size_t len;
        roche_values_item(values.get(), i, &data, &len);
        std::string item;
        if (format == "raw") {
            append_le32(item, uint32_t(len));
            item.append(static_cast<const char *>(data), len);
        } else {
            item = "{\"offset\":" + std::to_string(offsets[i]) +
                   ",\"length\":" + std::to_string(len) + ",\"value\":\"";
            append_encoded(item, args.encoding, true, bytes(data), len);
            item += "\"}\n";
        }
        out(item);
    }
    finish_output();
    return 0;
}

void print_record(const std::string &format, Encoding encoding, uint64_t offset, uint64_t time_ns,
                  const void *data, size_t len) {
    std::string item;
    if (format == "raw") {
        append_le32(item, uint32_t(len));
        append_le64(item, offset);
        out(item);
        out(data, len);
        return;
    }
    bool json = format == "jsonl";
    std::string fields[] = {std::to_string(offset), std::to_string(time_ns), std::to_string(len)};
    if (json)
        item = "{\"offset\":" + fields[0] + ",\"time\":" + fields[1] + ",\"length\":" + fields[2] +
               ",\"value\":\"";
    else
        item = fields[0] + "\t" + fields[1] + "\t" + fields[2] + "\t";
    append_encoded(item, encoding, json, bytes(data), len);
    item += json ? "\"}\n" : "\n";
    out(item);
}

int run_scan(const Args &args) {
    if (args.from_list.size() > 1) throw UsageError("scan takes one --from offset");
    std::string format = chosen_format(args, {"raw", "jsonl", "tsv"});
    Store store(args, Access::Read);
    roche_scan *raw = nullptr;
    check(roche_scan_open(store.db(), args.ns.c_str(), args.from, &raw));
    std::unique_ptr<roche_scan, void (*)(roche_scan *)> scan(raw, roche_scan_free);
    uint64_t offset, time_ns;
    const void *data;
    size_t len;
    int rc;
    while ((rc = roche_scan_next(scan.get(), &offset, &data, &len, &time_ns)) == ROCHE_OK)
        print_record(format, args.encoding, offset, time_ns, data, len);
    check(rc);
    finish_output();
    return 0;
}

int run_stat(const Args &args) {
    Store store(args, Access::Inspect);
    std::vector<std::string> names = selected_namespaces(args, store.db());
    std::vector<roche_stat_info> infos(names.size());
    for (size_t i = 0; i < names.size(); i++) {
        infos[i].version = ROCHE_STAT_VERSION;
        check(roche_stat(store.db(), names[i].c_str(), &infos[i]));
    }
    out("store " + args.root + ": " + std::to_string(names.size()) +
        (names.size() == 1 ? " namespace\n" : " namespaces\n"));
    for (size_t i = 0; i < names.size(); i++) print_stat(store.db(), names[i], infos[i], !store.read_only());
    finish_output();
    store.close();
    return 0;
}

int run_delete_namespace(const Args &args) {
    Store store(args, Access::Write);
    check(roche_delete_namespace(store.db(), args.operands[0].c_str()));
    store.close();
    return 0;
}

}  // namespace cli
