// roche verify: checks every record of a namespace through the library and
// accounts for every byte of its bucket files. Each bucket is scanned with a
// read-only handle, which checks each record against the bucket's companion
// index (append.<n>.idx: position and checksum of header and value):
//   - every record the scan reports as ROCHE_ECORRUPT is one damaged range,
//     from its offset to the next record's offset (to the end of the file
//     for the last record);
//   - bytes past the last record are damage when they are not zero (zeros
//     are space a writer reserved).
// A bucket without a companion (a store in rochefort's own format that no
// writer has opened since) has its headers checked only, and its scan ends
// at the first header that fails: every non-zero byte from there on is one
// damaged range, as are bytes before or between records the scan returned.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "cli.h"
#include "progress.h"

namespace cli {
namespace {

const uint64_t kHeaderSize = 16;

std::string bucket_path(const Args &args, const std::string &ns, uint32_t bucket) {
    return args.root + "/" + ns + "/append." + std::to_string(bucket) + ".raw";
}

struct Totals {
    uint64_t records = 0, bytes = 0, ranges = 0, damaged = 0;
};

class Verifier {
public:
    Verifier(const Args &args, roche_db *db, Totals *totals, Progress *progress)
        : args_(args), db_(db), totals_(totals), progress_(progress) {}

    // Verifies a bucket whose file is size bytes long.
    void bucket(const std::string &ns, uint32_t bucket, uint64_t size) {
        // Records retention dropped are gone by design, not damage: the
        // walk starts at the first record kept.
        uint64_t first = 0, last = 0;
        check(roche_bucket_range(db_, ns.c_str(), bucket, &first, &last));
        uint64_t end = walk(ns, bucket, offset_position(first));
        // Bytes past the last record: zeros are space a writer reserved;
        // anything else is a torn or damaged tail, unless a writer appended
        // records there since the walk, which a new walk finds.
        for (uint64_t tail; (tail = last_nonzero_end(ns, bucket, end)) > end;) {
            uint64_t more = walk(ns, bucket, end);
            if (more > end) {
                end = more;
                continue;
            }
            damage(ns, bucket, end, tail);
            end = tail;
        }
        progress_->bucket_done(size);
    }

private:
    // Walks the records of bucket from pos; returns where the last one ends
    // (the end of the file when the last one is damaged).
    uint64_t walk(const std::string &ns, uint32_t bucket, uint64_t pos) {
        roche_scan *raw = nullptr;
        check(roche_scan_open(db_, ns.c_str(), make_offset(bucket, pos), &raw));
        std::unique_ptr<roche_scan, void (*)(roche_scan *)> scan(raw, roche_scan_free);
        uint64_t offset;
        size_t len;
        int rc;
        bool damaged = false;  // the record at pos failed its check
        while (((rc = roche_scan_next(scan.get(), &offset, nullptr, &len, nullptr)) == ROCHE_OK ||
                rc == ROCHE_ECORRUPT) &&
               offset_bucket(offset) == bucket) {
            uint64_t at = offset_position(offset);
            if (at > pos) damage(ns, bucket, pos, at);
            damaged = rc == ROCHE_ECORRUPT;
            if (damaged) {
                // Its length is not to be trusted: the damage runs to the
                // next record, whose offset the next step gives.
                pos = at;
                continue;
            }
            pos = at + kHeaderSize + len;
            totals_->records++;
            totals_->bytes += kHeaderSize + len;
            progress_->at(pos);
        }
        if (rc != ROCHE_OK && rc != ROCHE_ECORRUPT) check(rc);
        if (damaged) {
            uint64_t end = std::max(file_size(ns, bucket), pos);
            damage(ns, bucket, pos, end);
            pos = end;
            progress_->at(pos);
        }
        return pos;
    }

    uint64_t file_size(const std::string &ns, uint32_t bucket) {
        struct stat st;
        std::string path = bucket_path(args_, ns, bucket);
        if (stat(path.c_str(), &st) != 0) fail(ROCHE_EIO, path + ": " + std::strerror(errno));
        return uint64_t(st.st_size);
    }

    // The end of the last non-zero byte of the bucket file at or after from
    // (from itself when there is none).
    uint64_t last_nonzero_end(const std::string &ns, uint32_t bucket, uint64_t from) {
        std::string path = bucket_path(args_, ns, bucket);
        int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            if (errno == ENOENT) return from;
            fail(ROCHE_EIO, path + ": " + std::strerror(errno));
        }
        // Only the stretches that hold data are read: a writer's reserved
        // space is unwritten extents or holes, which SEEK_DATA passes over
        // (file systems that cannot tell report the whole file as data).
        uint64_t end = from;
        off_t data = off_t(from), hole = 0;
        bool ok = true;
        while (ok && (data = lseek(fd, data, SEEK_DATA)) >= 0 &&
               (hole = lseek(fd, data, SEEK_HOLE)) >= 0) {
            ok = last_nonzero_in(fd, uint64_t(data), uint64_t(hole), &end);
            data = hole;
        }
        int err = errno;
        ::close(fd);
        if (!ok || (data < 0 && err != ENXIO) || hole < 0)
            fail(ROCHE_EIO, path + ": " + std::strerror(err));
        return end;
    }

    // Moves *end past the last non-zero byte in [from, to) of fd, if any.
    static bool last_nonzero_in(int fd, uint64_t from, uint64_t to, uint64_t *end) {
        char chunk[1 << 16];
        for (uint64_t pos = from; pos < to;) {
            ssize_t n = pread(fd, chunk, size_t(std::min<uint64_t>(sizeof chunk, to - pos)),
                              off_t(pos));
            if (n <= 0) return n == 0;  // 0: the file shrank under us
            for (ssize_t i = n; i > 0; i--)
                if (chunk[i - 1]) {
                    *end = pos + uint64_t(i);
                    break;
                }
            pos += uint64_t(n);
        }
        return true;
    }

    void damage(const std::string &ns, uint32_t bucket, uint64_t start, uint64_t end) {
        totals_->ranges++;
        totals_->damaged += end - start;
        progress_->clear();
        out("damaged " + ns + " bucket " + std::to_string(bucket) + " bytes " +
            std::to_string(start) + ".." + std::to_string(end) + " (" +
            std::to_string(end - start) + " bytes)\n");
        std::fflush(stdout);
    }

    const Args &args_;
    roche_db *db_;
    Totals *totals_;
    Progress *progress_;
};

// One namespace's bucket files and their sizes, known before the walk so the
// progress bar knows the total.
struct Plan {
    std::string ns;
    std::vector<uint64_t> sizes;
};

std::vector<Plan> plan(const Args &args, roche_db *db, uint64_t *total) {
    std::vector<Plan> plans;
    *total = 0;
    for (const std::string &ns : selected_namespaces(args, db)) {
        roche_stat_info info = {};
        info.version = ROCHE_STAT_VERSION;
        check(roche_stat(db, ns.c_str(), &info));
        Plan p{ns, {}};
        for (uint32_t b = 0; b < info.buckets; b++) {
            struct stat st;
            p.sizes.push_back(stat(bucket_path(args, ns, b).c_str(), &st) == 0 ? st.st_size : 0);
            *total += p.sizes.back();
        }
        plans.push_back(p);
    }
    return plans;
}

std::string plural(uint64_t n, const char *word) {
    return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

}  // namespace

int run_verify(const Args &args) {
    Store store(args, Access::Read);
    uint64_t total;
    std::vector<Plan> plans = plan(args, store.db(), &total);
    Totals totals;
    {
        Progress progress("verifying", total, args.progress);
        Verifier verifier(args, store.db(), &totals, &progress);
        for (const Plan &p : plans)
            for (uint32_t b = 0; b < p.sizes.size(); b++) verifier.bucket(p.ns, b, p.sizes[b]);
    }
    out("verified " + plural(plans.size(), "namespace") + ": " + plural(totals.records, "record") +
        ", " + std::to_string(totals.bytes) + " bytes; " + plural(totals.ranges, "damaged range") +
        " (" + std::to_string(totals.damaged) + " bytes)\n");
    finish_output();
    if (totals.ranges)
        fail(ROCHE_ECORRUPT, plural(totals.ranges, "damaged range") + " (" +
                                 std::to_string(totals.damaged) + " bytes)");
    return 0;
}

}  // namespace cli
