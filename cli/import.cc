// roche import --from-rochefort DIR: makes a data directory written by
// rochefort v0.5 a libroche store, in place.
//
// Both write the same record: a 16-byte header (u32 LE value length, u64 LE
// time in ns, u32 LE check) and the value. They differ only in the check:
// rochefort's is the upper 32 bits of MetroHash64 (seed 0) of the header's
// first 12 bytes, libroche's is their CRC-32 (zlib's crc32, IEEE). The
// import rewrites that check, and nothing else, in every record header, so
// every offset an application stored stays valid.
//
// Each bucket file append.<n>.raw is walked from 0, one record at a time. A
// header is a record when its length fits in the file and its check is
// either rochefort's (the 4 bytes are rewritten) or libroche's (converted
// already, by an earlier run: left alone). The walk stops at the first
// header that is neither: rochefort never reserves space ahead (its files
// end at the end of the last record it wrote), so anything but zeros from
// there on is a torn or damaged record, reported as a tail not converted and
// left exactly as it is. Zeros are space a libroche writer reserved.
//
// Crash safety: each record is converted by one 4-byte pwrite of its check.
// Whatever a crash leaves, each header holds either check, both of which the
// walk accepts, so running the import again converts the rest; each file is
// fsynced after its pass. The store must not be opened for writing with
// libroche before an import has finished: a writable open takes the first
// header it cannot check for the end of the bucket and cuts the rest (into
// append.<n>.raw.cut-<position>). That is also why an import that leaves a
// tail does not open the store for writing at all.
//
// A bucket file with a companion append.<n>.idx is libroche's already (a
// writable open made it one, as the verify pass at the end of an import
// does): it is skipped. Unless its headers carry rochefort's check: then a
// libroche writer with ROCHE_FORMAT_ROCHEFORT (roche_options_set_format())
// made the companion, and its checksums cover the old check. Such a
// namespace is first checked through the library in that format, read-only
// (every value against its checksum; a damaged record, or records dropped
// by retention, stop the import before anything changes); then, under the
// lock, the companions of all its bucket files are removed (and the
// directory fsynced) before any header changes, so a crash leaves either
// that format with fewer companions (which the check accepts again) or
// files with no companion, which the walk below converts as rochefort's;
// the verify pass at the end builds the companions again.
//
// At the end, unless this is a dry run or a tail was left, the store is
// opened for writing through the library, so each bucket gets its companion
// index, and then checked record by record as 'roche verify' does.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "cli.h"
#include "../libroche/metrohash.h"
#include "progress.h"

namespace cli {
namespace {

const uint64_t kHeaderSize = 16;

struct Bucket {
    uint32_t number;
    std::string path;
    uint64_t size;
    bool companion;  // append.<n>.idx beside it: libroche's already
    bool compat = false;  // ... made in rochefort's format (ROCHE_FORMAT_ROCHEFORT)
};

struct Namespace {
    std::string name;
    std::vector<Bucket> buckets;
};

struct Totals {
    uint64_t converted = 0, already = 0, files = 0, owned = 0, tails = 0, tail_bytes = 0;
};

std::string errno_text(const std::string &what) { return what + ": " + std::strerror(errno); }

bool is_directory(const std::string &path) {
    struct stat st;
    return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// n when name is "append.<n>.raw" with n a decimal bucket number.
bool bucket_number(const std::string &name, uint32_t *n) {
    const std::string prefix = "append.", suffix = ".raw";
    if (name.size() <= prefix.size() + suffix.size() || name.compare(0, prefix.size(), prefix) != 0 ||
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
        return false;
    std::string digits = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
    if (digits.size() > 4 || digits.find_first_not_of("0123456789") != std::string::npos ||
        (digits.size() > 1 && digits[0] == '0'))
        return false;
    *n = uint32_t(std::stoul(digits));
    return *n < ROCHE_MAX_BUCKETS;
}

std::vector<std::string> directory_entries(const std::string &dir) {
    std::unique_ptr<DIR, int (*)(DIR *)> d(opendir(dir.c_str()), closedir);
    if (!d) fail(errno == ENOENT ? ROCHE_ENOTFOUND : ROCHE_EIO, errno_text(dir));
    std::vector<std::string> names;
    errno = 0;
    while (struct dirent *e = readdir(d.get())) {
        if (e->d_name[0] != '.') names.push_back(e->d_name);
        errno = 0;
    }
    if (errno) fail(ROCHE_EIO, errno_text(dir));
    std::sort(names.begin(), names.end());
    return names;
}

uint32_t le32(const unsigned char *p);

// Whether the file's first header carries rochefort's check (not libroche's).
bool rochefort_first_header(const std::string &path) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail(ROCHE_EIO, errno_text(path));
    unsigned char h[kHeaderSize];
    ssize_t n;
    while ((n = pread(fd, h, sizeof h, 0)) < 0 && errno == EINTR) {
    }
    ::close(fd);
    if (n != ssize_t(sizeof h)) return false;
    uint32_t stored = le32(h + 12);
    return stored == roche::rochefort_check(h) && stored != uint32_t(crc32(0, h, 12));
}

// The bucket files of the namespace directory dir, by number.
std::vector<Bucket> find_buckets(const std::string &dir) {
    std::vector<Bucket> buckets;
    for (const std::string &name : directory_entries(dir)) {
        uint32_t n = 0;
        if (!bucket_number(name, &n)) continue;
        std::string path = dir + "/" + name;
        struct stat st;
        if (stat(path.c_str(), &st) != 0) fail(ROCHE_EIO, errno_text(path));
        if (!S_ISREG(st.st_mode)) continue;
        std::string idx = dir + "/append." + std::to_string(n) + ".idx";
        Bucket b{n, path, uint64_t(st.st_size), access(idx.c_str(), F_OK) == 0};
        b.compat = b.companion && rochefort_first_header(path);
        buckets.push_back(b);
    }
    std::sort(buckets.begin(), buckets.end(),
              [](const Bucket &a, const Bucket &b) { return a.number < b.number; });
    return buckets;
}

// --ns NAME, else every directory under root that holds a bucket file.
std::vector<Namespace> find_namespaces(const Args &args) {
    std::vector<Namespace> found;
    if (args.ns_given) {
        std::string dir = args.root + "/" + args.ns;
        if (args.ns.empty() || args.ns.find('/') != std::string::npos || args.ns[0] == '.' ||
            !is_directory(dir))
            fail(ROCHE_ENOTFOUND, "no namespace '" + args.ns + "' in " + args.root);
        found.push_back({args.ns, find_buckets(dir)});
        return found;
    }
    for (const std::string &name : directory_entries(args.root)) {
        std::string dir = args.root + "/" + name;
        if (!is_directory(dir)) continue;
        std::vector<Bucket> buckets = find_buckets(dir);
        if (!buckets.empty()) found.push_back({name, std::move(buckets)});
    }
    return found;
}

uint32_t le32(const unsigned char *p) {
    return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

// Reads len bytes at pos; false at the end of the file.
bool read_at(int fd, const std::string &path, void *buf, size_t len, uint64_t pos) {
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, static_cast<char *>(buf) + done, len - done, off_t(pos + done));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail(ROCHE_EIO, errno_text(path));
        if (n == 0) return false;
        done += size_t(n);
    }
    return true;
}

// The end of the last non-zero byte in [from, to) of fd, or from.
uint64_t last_nonzero_end(int fd, const std::string &path, uint64_t from, uint64_t to) {
    uint64_t end = from;
    char chunk[1 << 16];
    for (uint64_t pos = from; pos < to;) {
        size_t want = size_t(std::min<uint64_t>(sizeof chunk, to - pos));
        ssize_t n = pread(fd, chunk, want, off_t(pos));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail(ROCHE_EIO, errno_text(path));
        if (n == 0) break;
        for (ssize_t i = n; i > 0; i--)
            if (chunk[i - 1]) {
                end = pos + uint64_t(i);
                break;
            }
        pos += uint64_t(n);
    }
    return end;
}

// For the tests only, in a build of the tool made for them (the CMake
// target roche_cli_test_hooks, never installed): $ROCHE_IMPORT_CRASH_AFTER=N
// kills the process with SIGKILL right after the Nth check it rewrites, as
// a crash would. The installed tool has no such hook.
uint64_t crash_after() {
#ifdef ROCHE_CLI_TEST_HOOKS
    const char *env = std::getenv("ROCHE_IMPORT_CRASH_AFTER");
    return env && *env ? std::strtoull(env, nullptr, 10) : 0;
#else
    return 0;
#endif
}

class Importer {
public:
    Importer(bool dry_run, Totals *totals, Progress *progress)
        : dry_run_(dry_run), totals_(totals), progress_(progress), crash_after_(crash_after()) {}

    void bucket(const std::string &ns, const Bucket &b) {
        totals_->files++;
        if (b.companion && !b.compat) {
            totals_->owned++;
            progress_->bucket_done(b.size);
            return;
        }
        int fd = open(b.path.c_str(), (dry_run_ ? O_RDONLY : O_RDWR) | O_CLOEXEC);
        if (fd < 0) fail(ROCHE_EIO, errno_text(b.path));
        struct Closer {
            int fd;
            ~Closer() { ::close(fd); }
        } closer{fd};
        bool wrote = false;
        uint64_t pos = 0;
        unsigned char h[kHeaderSize];
        while (b.size - pos >= kHeaderSize && read_at(fd, b.path, h, sizeof h, pos)) {
            uint64_t len = le32(h);
            if (len > b.size - pos - kHeaderSize) break;  // runs past the end: torn
            uint32_t stored = le32(h + 12);
            uint32_t crc = uint32_t(crc32(0, h, 12));
            if (stored == crc) {
                totals_->already++;
            } else if (stored == roche::rochefort_check(h)) {
                if (!dry_run_) {
                    rewrite(fd, b.path, pos, crc);
                    wrote = true;
                }
                totals_->converted++;
            } else {
                break;
            }
            pos += kHeaderSize + len;
            progress_->at(pos);
        }
        if (pos < b.size) {
            uint64_t end = last_nonzero_end(fd, b.path, pos, b.size);
            if (end > pos) tail(ns, b.number, pos, end);
        }
        if (wrote && fsync(fd) != 0) fail(ROCHE_EIO, errno_text(b.path));
        progress_->bucket_done(b.size);
    }

private:
    void rewrite(int fd, const std::string &path, uint64_t pos, uint32_t crc) {
        unsigned char check[4] = {uint8_t(crc), uint8_t(crc >> 8), uint8_t(crc >> 16),
                                  uint8_t(crc >> 24)};
        ssize_t n;
        while ((n = pwrite(fd, check, sizeof check, off_t(pos + 12))) < 0 && errno == EINTR) {
        }
        if (n != ssize_t(sizeof check)) {
            if (n >= 0) errno = EIO;
            fail(ROCHE_EIO, errno_text(path));
        }
        if (crash_after_ && ++rewritten_ == crash_after_) raise(SIGKILL);
    }

    void tail(const std::string &ns, uint32_t bucket, uint64_t start, uint64_t end) {
        totals_->tails++;
        totals_->tail_bytes += end - start;
        progress_->clear();
        out("not converted: " + ns + " bucket " + std::to_string(bucket) + " bytes " +
            std::to_string(start) + ".." + std::to_string(end) + " (" + std::to_string(end - start) +
            " bytes): no rochefort or libroche record at " + std::to_string(start) + "\n");
        std::fflush(stdout);
    }

    bool dry_run_;
    Totals *totals_;
    Progress *progress_;
    uint64_t crash_after_, rewritten_ = 0;
};

std::string plural(uint64_t n, const char *word) {
    return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

// Holds the store's writer lock (an flock on its root, as libroche takes
// it), so no libroche writer opens the store while its headers change.
class WriterLock {
public:
    explicit WriterLock(const std::string &root) {
        fd_ = open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd_ < 0) fail(ROCHE_EIO, errno_text(root));
        if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
            int err = errno;
            ::close(fd_);
            if (err == EWOULDBLOCK)
                fail(ROCHE_ELOCKED, root + ": another handle has it open for writing");
            errno = err;
            fail(ROCHE_EIO, errno_text(root + ": locking"));
        }
    }
    ~WriterLock() { ::close(fd_); }
    WriterLock(const WriterLock &) = delete;
    WriterLock &operator=(const WriterLock &) = delete;

private:
    int fd_;
};

// Namespaces a libroche writer in rochefort's format indexed: every record
// checked through the library, read-only, in that format (nothing changes).
void check_compat_namespaces(const Args &args, const std::vector<Namespace> &namespaces) {
    std::vector<const Namespace *> compat;
    for (const Namespace &ns : namespaces)
        for (const Bucket &b : ns.buckets)
            if (b.compat) {
                compat.push_back(&ns);
                break;
            }
    if (compat.empty()) return;
    Args ro = args;
    ro.read_only = true;
    ro.store_format = ROCHE_FORMAT_ROCHEFORT;
    Store store(ro, Access::Read);
    for (const Namespace *ns : compat) {
        roche_stat_info info = {};
        info.version = ROCHE_STAT_VERSION;
        check(roche_stat(store.db(), ns->name.c_str(), &info));
        if (info.damaged_ranges)
            fail(ROCHE_ECORRUPT, ns->name + ": " + plural(info.damaged_ranges, "damaged record") +
                                     " in bucket files libroche indexed in rochefort's format (see 'roche "
                                     "--store-format rochefort --ns " + ns->name + " verify'); nothing converted");
        for (const Bucket &b : ns->buckets) {
            uint64_t first = 0, end = 0;
            check(roche_bucket_range(store.db(), ns->name.c_str(), b.number, &first, &end));
            if (offset_position(first) > 0)
                fail(ROCHE_EINVAL, ns->name + " bucket " + std::to_string(b.number) +
                                       ": retention dropped its first records, and the import walks a "
                                       "bucket from its start; nothing converted (keep using --store-format "
                                       "rochefort)");
        }
    }
}

// Under the lock: the companions of a namespace in rochefort's format go,
// all of them and durably, before any header changes.
void drop_compat_companions(const std::string &dir, Namespace &ns) {
    bool any = false;
    for (const Bucket &b : ns.buckets) any |= b.compat;
    if (!any) return;
    for (Bucket &b : ns.buckets) {
        if (!b.companion) continue;
        std::string idx = dir + "/append." + std::to_string(b.number) + ".idx";
        if (unlink(idx.c_str()) != 0 && errno != ENOENT) fail(ROCHE_EIO, errno_text(idx));
        b.companion = b.compat = false;
    }
    int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) fail(ROCHE_EIO, errno_text(dir));
    ::close(fd);
}

}  // namespace

int run_import(const Args &given) {
    if (given.import_from.empty()) throw UsageError("import: --from-rochefort DIR is required");
    if (given.root_given)
        throw UsageError("import: the store is the --from-rochefort DIR; --root is not used");
    if (given.read_only && !given.dry_run)
        throw UsageError("import: --read-only: the import rewrites the store (see --dry-run)");
    if (given.store_format != ROCHE_FORMAT_ROCHE)
        throw UsageError("import: it converts to libroche's format; --store-format rochefort does not apply");
    Args args = given;
    args.root = given.import_from;
    args.root_given = true;
    while (args.root.size() > 1 && args.root.back() == '/') args.root.pop_back();
    if (!is_directory(args.root)) fail(ROCHE_ENOTFOUND, args.root + ": no such directory");

    Totals totals;
    std::vector<Namespace> namespaces;
    check_compat_namespaces(args, find_namespaces(args));
    {
        std::unique_ptr<WriterLock> lock;
        if (!args.dry_run) lock.reset(new WriterLock(args.root));
        namespaces = find_namespaces(args);
        if (!args.dry_run)
            for (Namespace &ns : namespaces) drop_compat_companions(args.root + "/" + ns.name, ns);
        uint64_t total = 0;
        for (const Namespace &ns : namespaces)
            for (const Bucket &b : ns.buckets) total += b.size;
        Progress progress("importing", total, args.progress);
        Importer importer(args.dry_run, &totals, &progress);
        for (const Namespace &ns : namespaces)
            for (const Bucket &b : ns.buckets) importer.bucket(ns.name, b);
    }

    std::string where = plural(namespaces.size(), "namespace") + " (" +
                        plural(totals.files, "bucket file") + ")";
    if (args.dry_run)
        out("dry run: would convert " + plural(totals.converted, "record") + ", " +
            std::to_string(totals.already) + " already converted, in " + where +
            "; nothing written\n");
    else
        out("converted " + plural(totals.converted, "record") + ", " +
            std::to_string(totals.already) + " already converted, in " + where + "\n");
    if (totals.owned)
        out("skipped " + plural(totals.owned, "bucket file") +
            " libroche already owns (a companion append.<n>.idx is beside each)\n");
    if (totals.tails) {
        finish_output();
        fail(ROCHE_ECORRUPT,
             plural(totals.tails, "tail") + " not converted (" + std::to_string(totals.tail_bytes) +
                 " bytes); " +
                 (args.dry_run ? std::string("an import would leave them as they are")
                               : std::string("left as they are, and the store was not opened "
                                             "for writing (that would cut them)")));
    }
    if (args.dry_run || namespaces.empty()) {
        finish_output();
        return 0;
    }

    // The verify pass: a writable open builds each bucket's companion index
    // from its (now libroche) headers; then every record is checked through
    // the library, as 'roche verify' does.
    {
        Store store(args, Access::Inspect);
        if (store.read_only())
            fail(ROCHE_ELOCKED, args.root + ": another handle has it open for writing");
        for (const Namespace &ns : namespaces) {
            roche_stat_info info = {};
            info.version = ROCHE_STAT_VERSION;
            check(roche_stat(store.db(), ns.name.c_str(), &info));
            if (info.recovered_bytes)
                out("opening " + ns.name + " cut " + std::to_string(info.recovered_bytes) +
                    " bytes past its last record (saved aside in append.<n>.raw.cut-<position>)\n");
        }
        store.close();
    }
    return run_verify(args);
}

}  // namespace cli
