// rochefort v0.5's storage, reproduced for tests/test_compat.c: how it opens a
// namespace, appends, reads and scans (main.go at the v0.5 tag of
// github.com/jackdoe/rochefort, Storage and StoreItem), so a test can run a
// "rochefort process" against a directory a libroche handle shares. The
// header check and the id hash are the engine's MetroHash64
// (libroche/metrohash.h), checked against the published vectors and the
// fixture rochefort v0.5 itself wrote by cli/tests/metrohash_test.cc.
//
// What v0.5 does, and so what this does:
//   - a namespace is opened by opening (creating, empty) append.<i>.raw for
//     every i below -buckets; nothing else in the directory is looked at;
//   - each file's end is its size at open (Seek(0, 2)): no walk;
//   - an append writes the value at end + 16, then the header at end;
//   - a read checks the header and reads the value, no more;
//   - a scan walks each file from 0 to its end, stopping at the first header
//     that fails (or a short read).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../libroche/metrohash.h"
#include "rochefort_sim.h"

namespace {

const uint64_t kHeader = 16;

std::string bucket_file(const char *ns_dir, uint32_t i) {
    return std::string(ns_dir) + "/append." + std::to_string(i) + ".raw";
}

bool read_at(int fd, void *dst, size_t n, uint64_t pos) {
    auto *p = static_cast<uint8_t *>(dst);
    while (n > 0) {
        ssize_t got = pread(fd, p, n, off_t(pos));
        if (got <= 0) return false;  // Go's ReadAt: a short read is an error
        p += got;
        pos += uint64_t(got);
        n -= size_t(got);
    }
    return true;
}

bool write_at(int fd, const void *src, size_t n, uint64_t pos) {
    auto *p = static_cast<const uint8_t *>(src);
    while (n > 0) {
        ssize_t put = pwrite(fd, p, n, off_t(pos));
        if (put <= 0) return false;
        p += put;
        pos += uint64_t(put);
        n -= size_t(put);
    }
    return true;
}

uint32_t le32(const uint8_t *p) { return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24; }

// readHeader: the value's length when the check holds.
bool read_header(int fd, uint64_t pos, uint32_t *len) {
    uint8_t h[kHeader];
    if (!read_at(fd, h, sizeof h, pos)) return false;
    if (le32(h + 12) != roche::rochefort_check(h)) return false;
    *len = le32(h);
    return true;
}

// NewStorage: every bucket file opened (made if missing), its end its size.
struct Storage {
    std::vector<int> fds;
    std::vector<uint64_t> ends;
    bool open(const char *ns_dir, uint32_t buckets) {
        mkdir(ns_dir, 0700);
        for (uint32_t i = 0; i < buckets; i++) {
            int fd = ::open(bucket_file(ns_dir, i).c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
            if (fd < 0) return false;
            fds.push_back(fd);
            off_t end = lseek(fd, 0, SEEK_END);
            if (end < 0) return false;
            ends.push_back(uint64_t(end));
        }
        return true;
    }
    ~Storage() {
        for (int fd : fds) ::close(fd);
    }
};

}  // namespace

extern "C" {

uint32_t rf_id_bucket(const char *id, uint32_t buckets) {
    return roche::rochefort_id_hash(id, std::strlen(id)) % buckets;
}

uint32_t rf_check(const uint8_t *header) { return roche::rochefort_check(header); }

uint64_t rf_append(const char *ns_dir, uint32_t buckets, const char *id, const void *data, uint32_t len,
                   uint64_t time_ns) {
    Storage s;
    if (!s.open(ns_dir, buckets)) return UINT64_MAX;
    uint32_t b = rf_id_bucket(id ? id : "", buckets);
    uint64_t at = s.ends[b];
    uint8_t h[kHeader];
    for (int k = 0; k < 4; k++) h[k] = uint8_t(len >> (8 * k));
    for (int k = 0; k < 8; k++) h[4 + k] = uint8_t(time_ns >> (8 * k));
    uint32_t check = roche::rochefort_check(h);
    for (int k = 0; k < 4; k++) h[12 + k] = uint8_t(check >> (8 * k));
    // "first write the data, then the header"
    if (len && !write_at(s.fds[b], data, len, at + kHeader)) return UINT64_MAX;
    if (!write_at(s.fds[b], h, kHeader, at)) return UINT64_MAX;
    return uint64_t(b) << 50 | at;
}

int rf_read(const char *ns_dir, uint32_t buckets, uint64_t offset, void **data, uint32_t *len) {
    Storage s;
    if (!s.open(ns_dir, buckets)) return -1;
    uint64_t b = offset >> 50, pos = offset & ((uint64_t(1) << 50) - 1);
    if (b >= buckets) return -1;  // "wrong offset, index > open files"
    if (!read_header(s.fds[b], pos, len)) return -1;
    *data = std::malloc(*len ? *len : 1);
    if (!*data || (*len && !read_at(s.fds[b], *data, *len, pos + kHeader))) {
        std::free(*data);
        *data = nullptr;
        return -1;
    }
    return 0;
}

size_t rf_scan(const char *ns_dir, uint32_t buckets, rf_record_fn fn, void *ctx) {
    Storage s;
    if (!s.open(ns_dir, buckets)) return 0;
    size_t n = 0;
    std::vector<uint8_t> value;
    for (uint32_t b = 0; b < buckets; b++) {
        for (uint64_t pos = 0; pos < s.ends[b];) {
            uint32_t len;
            if (!read_header(s.fds[b], pos, &len)) break;
            value.resize(len);
            if (len && !read_at(s.fds[b], value.data(), len, pos + kHeader)) break;
            if (fn) fn(uint64_t(b) << 50 | pos, value.data(), len, ctx);
            n++;
            pos += kHeader + len;
        }
    }
    return n;
}

}  // extern "C"
