// results.csv (every repetition), results.md (medians, ratios, goals) and
// chart.dat (what chart.gp draws), all from the samples of one run.
#include "engine.h"
#include "sample.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace bench {

const char *const kCsvHeader =
    "workload,engine,value_bytes,threads,rep,ops,bytes,seconds,ops_per_s,mb_per_s,heap_kb,peak_rss_kb";

std::string to_csv(const Sample &s) {
    char line[512];
    std::snprintf(line, sizeof line, "%s,%s,%llu,%d,%d,%llu,%llu,%.9f,%.1f,%.2f,%ld,%ld", s.workload.c_str(),
                  s.engine.c_str(), (unsigned long long)s.value_bytes, s.threads, s.rep, (unsigned long long)s.ops,
                  (unsigned long long)s.bytes, s.seconds, s.ops_per_s(), s.mb_per_s(), s.heap_kb, s.rss_kb);
    return line;
}

bool from_csv(const std::string &line, Sample &s) {
    std::stringstream in(line);
    std::vector<std::string> f;
    for (std::string field; std::getline(in, field, ',');) f.push_back(field);
    if (f.size() != 12) return false;
    s.workload = f[0];
    s.engine = f[1];
    s.value_bytes = std::stoull(f[2]);
    s.threads = std::stoi(f[3]);
    s.rep = std::stoi(f[4]);
    s.ops = std::stoull(f[5]);
    s.bytes = std::stoull(f[6]);
    s.seconds = std::stod(f[7]);
    s.heap_kb = std::stol(f[10]);
    s.rss_kb = std::stol(f[11]);
    return true;
}

namespace {

constexpr const char *kRoche = "libroche";

struct Key {
    std::string workload;
    uint64_t value_bytes;
    int threads;
    bool operator<(const Key &o) const {
        return std::tie(workload, value_bytes, threads) < std::tie(o.workload, o.value_bytes, o.threads);
    }
};

struct Summary {
    double ops_per_s = 0, mb_per_s = 0, seconds = 0;
    long rss_kb = 0, heap_kb = 0;
    int reps = 0;
};

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

using Table = std::map<Key, std::map<std::string, Summary>>;

Table summarize(const std::vector<Sample> &samples) {
    std::map<Key, std::map<std::string, std::vector<const Sample *>>> groups;
    for (const auto &s : samples) groups[{s.workload, s.value_bytes, s.threads}][s.engine].push_back(&s);
    Table table;
    for (auto &[key, engines] : groups)
        for (auto &[engine, list] : engines) {
            std::vector<double> ops, mb, secs;
            Summary sum;
            for (const Sample *s : list) {
                ops.push_back(s->ops_per_s());
                mb.push_back(s->mb_per_s());
                secs.push_back(s->seconds);
                sum.rss_kb = std::max(sum.rss_kb, s->rss_kb);
                sum.heap_kb = std::max(sum.heap_kb, s->heap_kb);
            }
            sum.ops_per_s = median(ops);
            sum.mb_per_s = median(mb);
            sum.seconds = median(secs);
            sum.reps = int(list.size());
            table[key][engine] = sum;
        }
    return table;
}

const Summary *find(const Table &t, const std::string &workload, uint64_t bytes, int threads, const std::string &engine) {
    auto k = t.find({workload, bytes, threads});
    if (k == t.end()) return nullptr;
    auto e = k->second.find(engine);
    return e == k->second.end() ? nullptr : &e->second;
}

std::string fmt(const char *format, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, format, v);
    return buf;
}

std::string human(double ops) {
    if (ops >= 1e6) return fmt("%.2f M", ops / 1e6);
    if (ops >= 1e3) return fmt("%.1f k", ops / 1e3);
    return fmt("%.0f", ops);
}

std::string label(const Key &k) {
    if (k.workload == "append" || k.workload == "load")
        return k.workload + " " + (k.value_bytes >= 1024 ? std::to_string(k.value_bytes / 1024) + " KiB"
                                                         : std::to_string(k.value_bytes) + " B") +
               ", " + std::to_string(k.threads) + "t";
    if (k.workload == "multiget") return "multiget (values)";
    if (k.workload == "scan") return "scan (records)";
    return k.workload;
}

// libroche first, then the peers as engine_kinds() lists them, then limits.
std::vector<std::string> in_display_order(const std::map<std::string, Summary> &engines) {
    std::vector<std::string> names;
    for (const auto &kv : engines) names.push_back(kv.first);
    auto rank = [](const std::string &name) {
        if (name.rfind("limit-", 0) == 0) return 100;
        const auto &kinds = engine_kinds();
        for (size_t i = 0; i < kinds.size(); ++i)
            if (kinds[i].name == name) return int(i);
        return 50;
    };
    std::stable_sort(names.begin(), names.end(),
                     [&](const std::string &a, const std::string &b) { return rank(a) < rank(b); });
    return names;
}

void write_tables(std::ostream &md, const Table &table) {
    md << "| workload | engine | ops/s | MB/s | libroche / this | peak RSS MiB | heap MiB | reps |\n"
       << "|---|---|---:|---:|---:|---:|---:|---:|\n";
    for (const auto &[key, engines] : table) {
        if (key.workload == "recovery") continue;
        const Summary *roche = find(table, key.workload, key.value_bytes, key.threads, kRoche);
        for (const std::string &engine : in_display_order(engines)) {
            const Summary &s = engines.at(engine);
            std::string ratio = roche && engine != kRoche && s.ops_per_s > 0 ? fmt("%.2fx", roche->ops_per_s / s.ops_per_s) : "";
            md << "| " << label(key) << " | " << (engine == kRoche ? "**libroche**" : engine) << " | "
               << human(s.ops_per_s) << " | " << fmt("%.1f", s.mb_per_s) << " | " << ratio << " | "
               << fmt("%.0f", s.rss_kb / 1024.0) << " | " << fmt("%.1f", s.heap_kb / 1024.0) << " | " << s.reps
               << " |\n";
        }
    }
    md << "\nRecovery: time of open + the first get after the writer was SIGKILLed mid-append.\n\n"
       << "| engine | median ms | reps |\n|---|---:|---:|\n";
    auto rec = table.find({"recovery", 100, 1});
    if (rec != table.end())
        for (const std::string &engine : in_display_order(rec->second))
            md << "| " << engine << " | " << fmt("%.2f", rec->second.at(engine).seconds * 1e3) << " | "
               << rec->second.at(engine).reps << " |\n";
}

std::string verdict(bool measured, bool met) { return !measured ? "not measured" : met ? "met" : "**not met**"; }

void write_goals(std::ostream &md, const Table &t, const Config &config) {
    auto ops = [&](const char *w, uint64_t b, int th, const char *e) {
        const Summary *s = find(t, w, b, th, e);
        return s ? s->ops_per_s : 0.0;
    };
    double a50 = ops("append", 50, 1, kRoche), lmdb50 = ops("append", 50, 1, "lmdb");
    double a64 = ops("append", 65536, 1, kRoche), lim64 = ops("append", 65536, 1, "limit-mmap-populated");
    double get = ops("get", 100, 1, kRoche), lmdb = ops("get", 100, 1, "lmdb");
    double scan = ops("scan", 100, 1, kRoche), lmdb_scan = ops("scan", 100, 1, "lmdb");
    double mget = ops("multiget", 100, 1, kRoche);
    double view = ops("get-in-place", 100, 1, kRoche);
    double get64 = ops("get", 65536, 1, kRoche), view64 = ops("get-in-place", 65536, 1, kRoche);
    const Summary *rec = find(t, "recovery", 100, 1, kRoche);
    const Summary *torn = find(t, "recovery-torn-4GiB", 20, 1, kRoche);
    auto times = [](double a, double b) { return fmt("%.2fx", b > 0 ? a / b : 0); };
    md << "| measure | goal | measured | |\n|---|---|---|---|\n";
    md << "| append 50 B, 1 thread | >= 10 M/s and >= 1.6x LMDB | " << human(a50) << "/s, " << times(a50, lmdb50)
       << " LMDB | " << verdict(a50 > 0 && lmdb50 > 0, a50 >= 10e6 && a50 >= 1.6 * lmdb50) << " |\n";
    double many50 = ops("append", 50, 1, "libroche-many");
    if (many50 > 0)
        md << "| append 50 B, 1 thread, 1000 a call (`roche_append_many`; LMDB commits 1000 puts a transaction) | "
              "the same, beside the goal | "
           << human(many50) << "/s, " << times(many50, lmdb50) << " LMDB | "
           << (many50 >= 10e6 && many50 >= 1.6 * lmdb50 ? "at the goal's figures" : "below the goal's figures") << " |\n";
    md << "| append 64 KiB, 1 thread | >= 80% of mmap memcpy (pages populated) | " << fmt("%.0f%%", lim64 > 0 ? 100 * a64 / lim64 : 0)
       << " | " << verdict(a64 > 0 && lim64 > 0, a64 >= 0.8 * lim64) << " |\n";
    double chained = ops("get", 100, 1, "limit-mmap-read-chained");
    md << "| random get, value checked | >= 5 M/s and >= 5x LMDB | " << human(get) << "/s, " << times(get, lmdb)
       << " LMDB; the memory's round trip allows " << human(chained) << "/s one read at a time | " << verdict(get > 0 && lmdb > 0, get >= 5e6 && get >= 5 * lmdb) << " |\n";
    md << "| scan, every record checked | >= LMDB | " << human(scan) << "/s, " << times(scan, lmdb_scan) << " LMDB | "
       << verdict(scan > 0 && lmdb_scan > 0, scan >= lmdb_scan) << " |\n";
    md << "| get in place (roche_get_view) | >= 2x the copying get | " << human(view) << "/s, " << times(view, get)
       << " | " << verdict(view > 0 && get > 0, view >= 2 * get) << " |\n";
    md << "| get in place, 64 KiB values | >= 2x the copying get | " << human(view64) << "/s, " << times(view64, get64)
       << " | " << verdict(view64 > 0 && get64 > 0, view64 >= 2 * get64) << " |\n";
    md << "| multiget | >= 10 M values/s | " << human(mget) << "/s | " << verdict(mget > 0, mget >= 10e6) << " |\n";
    md << "| recovery open of a " << config.store_mib << " MiB store after SIGKILL | < 100 ms | "
       << (rec ? fmt("%.2f ms", rec->seconds * 1e3) : "") << " | " << verdict(rec, rec && rec->seconds < 0.1)
       << " |\n";
    md << "| recovery open of a bucket with a 4 GiB torn tail | < 100 ms | "
       << (torn ? fmt("%.2f ms", torn->seconds * 1e3) : "") << " | " << verdict(torn, torn && torn->seconds < 0.1)
       << " |\n";
}

// Binding rows come from the bindings' own runs: results/bindings.csv,
// "language,workload,ops_per_s,ratio_to_c", is copied in when present.
void write_bindings(std::ostream &md, const std::string &out_dir) {
    std::ifstream in(out_dir + "/bindings.csv");
    md << "\n## Bindings\n\n";
    if (!in) {
        md << "No `bindings.csv` in this directory yet. Its format: a header line, then\n"
              "`language,workload,ops_per_s,ratio_to_c` (workload: append, append_many, get, multiget, scan,\n"
              "or noop, noop_get and noop_append, which have no ratio).\n";
        return;
    }
    md << "| language | workload | ops/s | ratio to C |\n|---|---|---:|---:|\n";
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
        std::stringstream row(line);
        std::vector<std::string> f;
        for (std::string field; std::getline(row, field, ',');) f.push_back(field);
        if (f.size() == 3) f.emplace_back();  // a noop row: its empty ratio is no field to getline
        if (f.size() >= 4) md << "| " << f[0] << " | " << f[1] << " | " << f[2] << " | " << f[3] << " |\n";
    }
}

// One row per workload, one column per engine (medians of ops/s); "-"
// where an engine has no figure. The limit column is the matching ceiling.
void write_chart_data(const std::string &path, const Table &table) {
    const std::vector<std::string> engines = {kRoche, "rocksdb-wal", "rocksdb-nowal", "leveldb", "lmdb", "sqlite"};
    std::ofstream out(path);
    out << "workload";
    for (const auto &e : engines) out << " " << e;
    out << " limit\n";
    for (const auto &[key, row] : table) {
        if (key.workload == "recovery" || key.workload == "load") continue;
        std::string name = label(key);
        std::replace(name.begin(), name.end(), ' ', '_');
        out << '"' << name << '"';
        for (const auto &e : engines) {
            auto it = row.find(e);
            out << " " << (it == row.end() ? std::string("-") : fmt("%.0f", it->second.ops_per_s));
        }
        // A multiget's ceiling is that of its gets.
        const Summary *lim = find(table, key.workload == "multiget" ? "get" : key.workload, key.value_bytes,
                                  key.threads, key.workload == "append" ? "limit-mmap-populated" : "limit-mmap-read");
        out << " " << (lim ? fmt("%.0f", lim->ops_per_s) : std::string("-")) << "\n";
    }
}

} // namespace

void write_report(const Config &config, const std::vector<Sample> &samples, const std::vector<std::string> &failures) {
    std::filesystem::create_directories(config.out_dir);
    std::ofstream csv(config.out_dir + "/results.csv");
    csv << kCsvHeader << "\n";
    for (const auto &s : samples) csv << to_csv(s) << "\n";

    Table table = summarize(samples);
    std::ofstream md(config.out_dir + "/results.md");
    std::time_t now = std::time(nullptr);
    char when[64];
    std::strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
    md << "# libroche benchmark results\n\n"
       << "Run of " << when << "; the machine is described in `machine.txt`. Medians of " << config.reps
       << " repetitions; every ratio compares medians from this one run.\n\n"
       << "Sizes of this run: store for get/multiget/scan/recovery " << config.store_mib << " MiB of "
       << "100-byte values; appends of 50 B: " << config.small_ops << " values; of 1 KiB and 64 KiB: "
       << config.append_mib << " MiB; " << config.gets << " random gets; " << config.multiget_calls
       << " multigets of 1000 offsets.\n\n";
    if (!failures.empty()) {
        md << "Failures in this run:\n\n";
        for (const auto &f : failures) md << "- " << f << "\n";
        md << "\n";
    }
    md << "## Goals (reported, not asserted)\n\n";
    write_goals(md, table, config);
    md << "\n## All measurements\n\n"
       << "`libroche / this` is libroche's median ops/s over the row's. `limit-*` rows are the machine's\n"
       << "ceilings: `limit-mmap` memcpy of the same records into a fresh preallocated mapped file, one\n"
       << "page fault per 4 KiB page; `limit-mmap-populated` the same after one madvise(MADV_POPULATE_WRITE);\n"
       << "`limit-write` one write() per record; `limit-mmap-read` memcpy of 100-byte values out of a mapped file (random\n"
       << "for get, front to back for scan); `limit-mmap-read-chained` the same random reads, each one's position\n"
       << "depending on the bytes the one before it read: the memory's round trip, the floor of a get that\n"
       << "finishes before the next begins. Peak RSS counts the pages of mapped files a process touched;\n"
       << "heap is malloc'ed bytes in use at the end of the workload.\n\n";
    write_tables(md, table);
    write_bindings(md, config.out_dir);
    write_chart_data(config.out_dir + "/chart.dat", table);
}

} // namespace bench
