#include "namespace.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "error.h"
#include "metrohash.h"

namespace roche {
namespace {

std::string bucket_path(const std::string &dir, uint32_t index) {
    return dir + "/append." + std::to_string(index) + ".raw";
}

// Parses "append.<n>.raw"; false for any other name.
bool parse_bucket_name(const char *name, uint32_t *index) {
    const char *prefix = "append.", *suffix = ".raw";
    size_t len = std::strlen(name), plen = std::strlen(prefix), slen = std::strlen(suffix);
    if (len <= plen + slen || std::strncmp(name, prefix, plen) != 0 ||
        std::strcmp(name + len - slen, suffix) != 0)
        return false;
    uint64_t n = 0;
    // Exactly the names open_bucket() makes: "append.01.raw" is some other
    // file, not bucket 1.
    if (name[plen] == '0' && len - slen - plen > 1) return false;
    for (const char *p = name + plen; p < name + len - slen; p++) {
        if (*p < '0' || *p > '9' || n >= ROCHE_MAX_BUCKETS) return false;
        n = n * 10 + uint64_t(*p - '0');
    }
    if (n >= ROCHE_MAX_BUCKETS) return false;
    *index = uint32_t(n);
    return true;
}

// Each thread takes the next slot on its first append without an id, so
// concurrent writers land in different buckets and do not contend.
std::atomic<uint32_t> g_next_thread_slot{0};
thread_local uint32_t t_thread_slot = UINT32_MAX;

}  // namespace

Namespace::Namespace(const std::string &dir, const std::string &name, const NamespaceOptions &opts)
    : dir_(dir), name_(name), opts_(opts) {}

// Scans hold the namespace (shared_ptr): the buckets, and the mappings
// their values point into, go when the last of them lets go.
Namespace::~Namespace() {
    close();
    for (auto &chunk : chunks_) {
        std::atomic<BucketFile *> *slots = chunk.exchange(nullptr);
        if (!slots) continue;
        for (uint32_t i = 0; i < kChunk; i++) delete slots[i].exchange(nullptr);
        delete[] slots;
    }
}

std::atomic<BucketFile *> *Namespace::slot(uint32_t index, bool make) {
    if (index >= ROCHE_MAX_BUCKETS) return nullptr;
    std::atomic<BucketFile *> *slots = chunks_[index / kChunk].load(std::memory_order_acquire);
    if (!slots && make) {  // callers that make hold open_mu_
        slots = new std::atomic<BucketFile *>[kChunk];
        for (uint32_t i = 0; i < kChunk; i++) slots[i].store(nullptr, std::memory_order_relaxed);
        chunks_[index / kChunk].store(slots, std::memory_order_release);
    }
    return slots ? &slots[index % kChunk] : nullptr;
}

BucketFile *Namespace::loaded(uint32_t index) const {
    if (index >= ROCHE_MAX_BUCKETS) return nullptr;
    std::atomic<BucketFile *> *slots = chunks_[index / kChunk].load(std::memory_order_acquire);
    return slots ? slots[index % kChunk].load(std::memory_order_acquire) : nullptr;
}

int Namespace::close() {
    closed_ = true;
    int rc = ROCHE_OK;
    for (uint32_t i = 0; i < bucket_count(); i++) {
        BucketFile *bucket = loaded(i);
        int closed = bucket ? bucket->finish() : ROCHE_OK;
        if (rc == ROCHE_OK) rc = closed;
    }
    return rc;
}

int Namespace::open(const std::string &dir, const std::string &name, const NamespaceOptions &opts,
                    std::shared_ptr<Namespace> *out) {
    struct stat st;
    bool made = false;
    if (stat(dir.c_str(), &st) != 0) {
        if (errno != ENOENT) return fail_errno(dir, errno);
        if (!opts.create) return fail(ROCHE_ENOTFOUND, dir + ": no such namespace");
        if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return fail_errno(dir, errno);
        made = true;
    } else if (!S_ISDIR(st.st_mode)) {
        return fail(ROCHE_EIO, dir + ": not a directory");
    }
    std::shared_ptr<Namespace> ns(new Namespace(dir, name, opts));
    ns->dir_dirty_.store(opts.writable);  // its files may be new: the first sync makes them durable
    std::lock_guard<std::mutex> lock(ns->open_mu_);
    // Before any bucket: every append of this writer rings the doorbell.
    if (opts.writable) {
        int rc = ns->check_formats();
        if (rc == ROCHE_OK) rc = ns->open_doorbell();
        if (rc != ROCHE_OK) return rc;
    }
    int rc = ns->open_existing_buckets();
    if (rc != ROCHE_OK) return rc;
    // Ids hash over the most buckets this namespace ever had: the option
    // (a writer's), the count its companions recorded, its files.
    uint32_t count = std::max(ns->bucket_count(), opts.writable ? opts.buckets : 1u);
    for (uint32_t i = 0; i < ns->bucket_count(); i++)
        if (BucketFile *b = ns->loaded(i)) count = std::max(count, b->recorded_buckets());
    ns->hash_buckets_ = std::min<uint32_t>(count, ROCHE_MAX_BUCKETS);
    ns->bucket_count_.store(ns->hash_buckets_, std::memory_order_release);
    if (opts.writable) {
        // Under ROCHE_SYNC_ALWAYS an append is durable when it returns, and
        // so must be the directory it went into.
        if (opts.sync_always && made && (rc = sync_directory(dir.substr(0, dir.rfind('/')))) != ROCHE_OK)
            return rc;
    }
    *out = std::move(ns);
    return ROCHE_OK;
}

int Namespace::open_existing_buckets() {
    DIR *d = opendir(dir_.c_str());
    if (!d) return fail_errno(dir_, errno);
    int rc = ROCHE_OK;
    while (struct dirent *e = readdir(d)) {
        uint32_t index;
        if (parse_bucket_name(e->d_name, &index) && !loaded(index) && (rc = open_bucket(index, false)) != ROCHE_OK)
            break;
    }
    closedir(d);
    return rc;
}

int Namespace::check_formats() {
    DIR *d = opendir(dir_.c_str());
    if (!d) return fail_errno(dir_, errno);
    int rc = ROCHE_OK;
    while (struct dirent *e = readdir(d)) {
        uint32_t index;
        if (!parse_bucket_name(e->d_name, &index)) continue;
        rc = BucketFile::check_format(bucket_path(dir_, index), opts_.format);
        if (rc == ROCHE_ENOTFOUND) rc = ROCHE_OK;  // gone meanwhile: nothing to check
        if (rc != ROCHE_OK) break;
    }
    closedir(d);
    return rc;
}

// Called with open_mu_ held.
int Namespace::open_bucket(uint32_t index, bool create) {
    BucketOpenOptions bo;
    bo.writable = opts_.writable;
    bo.create = create;
    bo.sync_always = opts_.sync_always;
    bo.buckets = hash_buckets_;
    bo.open_files = opts_.open_files.get();  // the buckets go before the namespace does
    bo.owner = opts_.owner;
    bo.prefaulter = opts_.prefaulter;
    bo.doorbell = opts_.writable ? doorbell_.load() : nullptr;
    bo.format = opts_.format;
    std::unique_ptr<BucketFile> file;
    int rc = BucketFile::open(bucket_path(dir_, index), index, bo, &file);
    if (rc != ROCHE_OK) return rc;
    slot(index, true)->store(file.release(), std::memory_order_release);
    uint32_t count = bucket_count_.load();
    while (count < index + 1 && !bucket_count_.compare_exchange_weak(count, index + 1)) {
    }
    if (create) dir_dirty_.store(true);
    return ROCHE_OK;
}

BucketFile *Namespace::bucket(uint32_t index) {
    if (index >= ROCHE_MAX_BUCKETS) return nullptr;
    BucketFile *b = loaded(index);
    if (b || opts_.writable) return b;
    std::lock_guard<std::mutex> lock(open_mu_);
    if (!loaded(index) && open_bucket(index, false) != ROCHE_OK) return nullptr;
    return loaded(index);
}

int Namespace::bucket_for_append(uint32_t index, BucketFile **out) {
    if ((*out = loaded(index)) != nullptr) return ROCHE_OK;
    std::lock_guard<std::mutex> lock(open_mu_);
    if ((*out = loaded(index)) != nullptr) return ROCHE_OK;
    int rc = open_bucket(index, true);
    if (rc != ROCHE_OK) return rc;
    // Under ROCHE_SYNC_ALWAYS the new files' names are made durable now.
    if (opts_.sync_always && (rc = sync_directory(dir_)) != ROCHE_OK) return rc;
    *out = loaded(index);
    return ROCHE_OK;
}

void Namespace::discover_buckets() {
    if (opts_.writable) return;  // a writer knows every file it has
    std::lock_guard<std::mutex> lock(open_mu_);
    open_existing_buckets();     // best effort: a scan reads what it can open
}

uint32_t Namespace::bucket_for(const char *id) const {
    uint32_t count = hash_buckets_;
    if (id) {
        size_t len = std::strlen(id);
        if (opts_.format == HeaderFormat::Rochefort) return rochefort_id_hash(id, len) % count;
        return uint32_t(crc32(0L, reinterpret_cast<const Bytef *>(id), uInt(len))) % count;
    }
    if (t_thread_slot == UINT32_MAX) t_thread_slot = g_next_thread_slot.fetch_add(1);
    return t_thread_slot % count;
}

int Namespace::sync() {
    for (uint32_t i = 0; i < bucket_count(); i++) {
        BucketFile *b = loaded(i);
        int rc = b ? b->sync() : ROCHE_OK;
        if (rc != ROCHE_OK) return rc;
    }
    // The files' names are entries of the directory: a file created since
    // the last sync is only there after a machine crash once it is synced.
    if (dir_dirty_.exchange(false)) {
        int rc = sync_directory(dir_);
        if (rc != ROCHE_OK) {
            dir_dirty_.store(true);
            return rc;
        }
    }
    return ROCHE_OK;
}

int sync_directory(const std::string &dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return fail_errno(dir, errno);
    int rc = fsync(fd) == 0 ? ROCHE_OK : fail_errno(dir + ": fsync", errno);
    ::close(fd);
    return rc;
}

// Called with open_mu_ held.
int Namespace::open_doorbell() {
    if (doorbell_.load()) return ROCHE_OK;
    std::unique_ptr<Doorbell> bell(new Doorbell());
    int rc = bell->open(dir_, opts_.owner);
    if (rc != ROCHE_OK) return rc;
    doorbell_owner_ = std::move(bell);
    doorbell_.store(doorbell_owner_.get(), std::memory_order_release);
    return ROCHE_OK;
}

int Namespace::doorbell(Doorbell **out) {
    if ((*out = doorbell_.load(std::memory_order_acquire)) != nullptr) return ROCHE_OK;
    std::lock_guard<std::mutex> lock(open_mu_);
    int rc = open_doorbell();
    *out = doorbell_.load();
    return rc;
}

bool Namespace::stale() const {
    if (opts_.writable) return false;
    for (uint32_t i = 0; i < bucket_count(); i++) {
        BucketFile *b = loaded(i);
        if (b && b->stale()) return true;
    }
    return false;
}

uint64_t Namespace::recovered_bytes() {
    uint64_t total = 0;
    for (uint32_t i = 0; i < bucket_count(); i++) {
        BucketFile *b = loaded(i);
        if (b) total += b->recovered_bytes();
    }
    return total;
}

}  // namespace roche
