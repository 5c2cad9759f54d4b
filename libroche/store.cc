#include "store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "error.h"
#include "follow.h"
#include "fork_guard.h"
#include "quiet_thread.h"
#include "retention.h"
#include "record_index.h"
#include "scan.h"
#include "values.h"

namespace roche {

namespace {

// Record times: the wall clock, in ns since the epoch.
uint64_t wall_clock_ns() {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return uint64_t(now.tv_sec) * 1000000000u + uint64_t(now.tv_nsec);
}

}  // namespace

int check_file_name(const char *kind, const char *name, size_t max_len, std::string_view *out) {
    if (!*name) return fail(ROCHE_EINVAL, std::string(kind) + " name is empty");
    size_t len = strnlen(name, max_len + 1);
    if (len > max_len)
        return fail(ROCHE_EINVAL, std::string(kind) + " name longer than " + std::to_string(max_len) + " bytes");
    if (name[0] == '.')
        return fail(ROCHE_EINVAL, std::string(kind) + " \"" + name + "\": names starting with '.' are reserved");
    if (std::memchr(name, '/', len))
        return fail(ROCHE_EINVAL, std::string(kind) + " \"" + name + "\": '/' is not allowed");
    *out = std::string_view(name, len);
    return ROCHE_OK;
}

int namespace_name(const char *ns, std::string_view *out) {
    if (!ns || !*ns) {
        *out = "default";
        return ROCHE_OK;
    }
    return check_file_name("namespace", ns, 255, out);
}

int Store::open(const char *root, const StoreOptions &opts, std::unique_ptr<Store> *out) {
    std::error_code ec;
    struct stat st;
    bool existed = ::stat(root, &st) == 0;
    if (!opts.read_only) std::filesystem::create_directories(root, ec);
    if (::stat(root, &st) != 0) {
        if (errno == ENOENT) return fail(ROCHE_ENOTFOUND, std::string(root) + ": no such store");
        return fail_errno(root, errno);
    }
    if (!S_ISDIR(st.st_mode)) return fail(ROCHE_EIO, std::string(root) + ": not a directory");
    // The root is kept as an absolute path: a chdir() of the program later
    // does not move the store under the handle.
    std::string absolute = std::filesystem::absolute(root, ec).lexically_normal().string();
    if (ec) return fail(ROCHE_EIO, std::string(root) + ": " + ec.message());
    while (absolute.size() > 1 && absolute.back() == '/') absolute.pop_back();
    std::unique_ptr<Store> store(new Store(absolute, opts));
    store->fork_generation_ = watch_forks();
    store->max_open_files_ = opts.max_open_files;
    if (!store->max_open_files_) {
        // Room for the application's own descriptors beside ours.
        struct rlimit limit;
        rlim_t soft = getrlimit(RLIMIT_NOFILE, &limit) == 0 ? limit.rlim_cur : 1024;
        store->max_open_files_ = int64_t(std::clamp<rlim_t>(soft / 4, 16, 4096));
    }
    if (!opts.read_only) {
        // The writer lock is an flock() on the root directory itself: no
        // file that can be deleted behind the lock's back, and one lock per
        // open of the directory, so a second handle in this process is
        // refused as one in another process is.
        if (access(absolute.c_str(), W_OK) != 0)
            return fail_errno(absolute + ": cannot write to the store's root", errno);
        store->lock_fd_ = ::open(absolute.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (store->lock_fd_ < 0) return fail_errno(absolute, errno);
        if (flock(store->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
            if (errno == EWOULDBLOCK)
                return fail(ROCHE_ELOCKED, std::string(root) + ": another handle has it open for writing");
            return fail_errno(absolute + ": locking", errno);
        }
        store->lock_slot_ = close_in_child(store->lock_fd_);
        store->prefaulter_.reset(new Prefaulter());
        store->root_dirty_.store(true);
        store->root_parent_dirty_ = !existed;
        if (opts.sync == ROCHE_SYNC_PERIODIC || (!opts.read_only && (opts.retention_age_ms || opts.retention_bytes)))
            store->start_syncer();
    }
    *out = std::move(store);
    return ROCHE_OK;
}

Store::~Store() {
    close();
    if (lock_fd_ >= 0 && fork_generation() == fork_generation_) {
        forget_in_child(lock_slot_);  // first: a fork after the close would close a reused number
        ::close(lock_fd_);            // releases the flock
    }
}

bool Store::in_child() const { return fork_generation() != fork_generation_; }

// The handle's background work: the group commit of ROCHE_SYNC_PERIODIC
// and retention as an open option (about once a second).
void Store::start_syncer() {
    syncer_ = new std::thread(start_quiet_thread([this] {
        bool periodic = opts_.sync == ROCHE_SYNC_PERIODIC;
        bool retaining = opts_.retention_age_ms || opts_.retention_bytes;
        using Clock = std::chrono::steady_clock;
        auto sync_period = std::chrono::milliseconds(opts_.sync_period_ms);
        auto retention_period = std::chrono::milliseconds(1000);
        auto next_sync = Clock::now() + sync_period, next_retention = Clock::now() + retention_period;
        std::unique_lock<std::mutex> lock(syncer_mu_);
        while (!syncer_stop_) {
            auto wake = periodic && retaining ? std::min(next_sync, next_retention)
                                              : (periodic ? next_sync : next_retention);
            syncer_cv_.wait_until(lock, wake);
            if (syncer_stop_) break;
            lock.unlock();
            if (periodic && Clock::now() >= next_sync) {
                sync_all();  // a failure is reported by the next roche_sync()
                next_sync = Clock::now() + sync_period;
            }
            if (retaining && Clock::now() >= next_retention) {
                retain_open_namespaces();
                next_retention = Clock::now() + retention_period;
            }
            lock.lock();
        }
    }));
}

void Store::retain_open_namespaces() {
    std::vector<std::string> names;
    {
        std::shared_lock<ReaderGate> lock(mu_);
        for (const auto &entry : open_) names.emplace_back(entry.first);
    }
    uint64_t now_ns = wall_clock_ns();
    uint64_t age_ns = opts_.retention_age_ms * 1000000u;
    uint64_t older_than = opts_.retention_age_ms && now_ns > age_ns ? now_ns - age_ns : 0;
    for (const std::string &name : names) {
        uint64_t freed;
        if (older_than || opts_.retention_bytes)
            retain(name.c_str(), older_than, opts_.retention_bytes, &freed);  // best effort, as group commit
    }
}

void Store::stop_syncer() {
    if (!syncer_) return;
    if (fork_generation() != fork_generation_) {
        syncer_ = nullptr;  // the thread lives in the parent only
        return;
    }
    {
        std::lock_guard<std::mutex> lock(syncer_mu_);
        syncer_stop_ = true;
    }
    syncer_cv_.notify_all();
    syncer_->join();
    delete syncer_;
    syncer_ = nullptr;
}

int Store::close() {
    stop_syncer();
    std::unique_lock<ReaderGate> lock(mu_);
    int rc = ROCHE_OK;
    while (!open_.empty()) {
        int closed = release(open_.begin());
        if (rc == ROCHE_OK) rc = closed;
    }
    // Every bucket file is finished: nothing appends, nothing asks.
    if (fork_generation() == fork_generation_) prefaulter_.reset();
    return rc;
}

// Closes a namespace and forgets it; mu_ is held exclusively. A scan may
// still hold the object: it sees closed() and stops.
int Store::release(OpenMap::iterator it) {
    std::shared_ptr<Namespace> ns = it->second;  // outlives the map entry
    open_.erase(it);
    std::unique_lock<std::shared_mutex> ns_lock(ns->lifecycle());
    return ns->close();
}

// One gate per namespace being opened, closed or deleted: the I/O of
// opening (recovery) runs under it, not under mu_, so calls on other
// namespaces go on meanwhile; calls on this one wait for it.
std::shared_ptr<std::mutex> Store::gate(std::string_view name) {
    std::lock_guard<std::mutex> lock(gates_mu_);
    auto &g = gates_[std::string(name)];
    if (!g) g = std::make_shared<std::mutex>();
    return g;
}

void Store::drop_gate(std::string_view name, std::shared_ptr<std::mutex> &g) {
    std::lock_guard<std::mutex> lock(gates_mu_);
    auto it = gates_.find(std::string(name));
    g.reset();
    if (it != gates_.end() && it->second.use_count() == 1) gates_.erase(it);  // no one else waits
}

void Store::make_room(std::string_view keep) {
    // A namespace opens with at least one bucket: two descriptors.
    for (int round = 0; open_files_->load(std::memory_order_relaxed) + 2 > max_open_files_ && round < 64; round++) {
        std::string victim;
        {
            std::shared_lock<ReaderGate> lock(mu_);
            uint64_t oldest = UINT64_MAX;
            for (const auto &entry : open_)
                if (entry.first != keep && entry.second->last_used() < oldest) {
                    oldest = entry.second->last_used();
                    victim = std::string(entry.first);
                }
        }
        if (victim.empty()) return;  // nothing else open: the bound is too small for this one
        forget_namespace(victim);
    }
}

int Store::open_namespace(std::string_view name, bool create) {
    tick_.fetch_add(1, std::memory_order_relaxed);
    make_room(name);
    std::shared_ptr<std::mutex> g = gate(name);
    int rc = ROCHE_OK;
    {
        std::lock_guard<std::mutex> opening(*g);
        bool open;
        {
            std::shared_lock<ReaderGate> lock(mu_);
            open = open_.count(name) != 0;
        }
        if (!open) {
            NamespaceOptions no;
            no.writable = !opts_.read_only;
            no.create = create && !opts_.read_only;
            no.sync_always = opts_.sync == ROCHE_SYNC_ALWAYS;
            no.buckets = opts_.buckets;
            no.format = opts_.format;
            no.open_files = open_files_;
            no.owner = owner_tag_;
            no.prefaulter = prefaulter_.get();
            std::shared_ptr<Namespace> ns;
            rc = Namespace::open(root_ + "/" + std::string(name), std::string(name), no, &ns);
            if (rc == ROCHE_OK) {
                std::unique_lock<ReaderGate> lock(mu_);
                open_.emplace(ns->name(), std::move(ns));
            }
            if (rc == ROCHE_OK && no.create) root_dirty_.store(true);  // it may be a new directory
        }
    }
    drop_gate(name, g);
    return rc;
}

int Store::check_process() const {
    if (fork_generation() == fork_generation_) return ROCHE_OK;
    return fail(ROCHE_EINVAL, "this handle was opened before fork(); open the store again in the child");
}

template <typename Fn>
int Store::with_namespace(const char *ns, bool create, Fn &&fn) {
    std::string_view name;
    int rc = check_process();
    if (rc != ROCHE_OK) return rc;
    rc = namespace_name(ns, &name);
    if (rc != ROCHE_OK) return rc;
    for (int fresh = 0;;) {
        {
            std::shared_lock<ReaderGate> lock(mu_);
            auto it = open_.find(name);
            if (it != open_.end()) {
                it->second->touch(tick_.load(std::memory_order_relaxed));
                rc = fn(*it->second);
                if (rc != kStale) return rc;
            }
        }
        if (rc == kStale) {
            // A read-only handle's namespace was deleted (and perhaps made
            // again) by the writer: forget these files, and look again.
            if (fresh++ > 2) return fail(ROCHE_ENOTFOUND, "namespace \"" + std::string(name) + "\" was deleted");
            forget_namespace(name);
        }
        if ((rc = open_namespace(name, create)) != ROCHE_OK) return rc;
    }
}

void Store::forget_namespace(std::string_view name) {
    std::shared_ptr<std::mutex> g = gate(name);
    {
        std::lock_guard<std::mutex> closing(*g);
        std::unique_lock<ReaderGate> lock(mu_);
        auto it = open_.find(name);
        if (it != open_.end()) release(it);
    }
    drop_gate(name, g);
}

int Store::append(const char *ns, const char *id, const void *data, const size_t *lens,
                  size_t count, uint64_t *offsets) {
    if (opts_.read_only) return fail(ROCHE_EREADONLY, "the store was opened read-only");
    for (size_t i = 0; i < count; i++)
        if (lens[i] > ROCHE_MAX_VALUE)
            return fail(ROCHE_ETOOBIG, "value of " + std::to_string(lens[i]) +
                                           " bytes; the most a record holds is 4 GiB - 1");
    if (count == 0) return ROCHE_OK;
    // The caller's value is often not in cache. A prefetch is not held back
    // by the locks' atomic instructions as a load is, so the miss overlaps
    // the clock read and the namespace lookup instead of following them.
    __builtin_prefetch(data);
    __builtin_prefetch(static_cast<const char *>(data) + lens[0] - (lens[0] > 0));
    uint64_t time_ns = wall_clock_ns();
    return with_namespace(ns, true, [&](Namespace &space) {
        BucketFile *bucket;
        int rc = space.bucket_for_append(space.bucket_for(id), &bucket);
        if (rc != ROCHE_OK) return rc;
        return bucket->append(static_cast<const uint8_t *>(data), lens, count, time_ns, offsets);
    });
}

static int no_bucket(const std::string &dir, uint64_t offset) {
    return fail(ROCHE_ENOTFOUND, "offset " + std::to_string(offset) + ": bucket " +
                                     std::to_string(offset_bucket(offset)) + " of " + dir +
                                     " has no file");
}

// What every single read checks before it reads a value (roche_get(),
// roche_get_view(), roche_get_into()): the namespace, the offset's bucket,
// and a record that starts at the offset (locate(): its header and its
// entry, or ROCHE_EDROPPED). fn(bucket, rec) then reads the value, through
// copy_value() or checked_value(), which check it against its checksum.
template <typename Fn>
int Store::with_record(const char *ns, uint64_t offset, Fn &&fn) {
    return with_namespace(ns, false, [&](Namespace &space) {
        BucketFile *bucket = space.bucket(offset_bucket(offset));
        if (!bucket) return no_bucket(space.dir(), offset);
        RecordRef rec;
        int rc = bucket->locate(offset_position(offset), &rec);
        if (rc != ROCHE_OK) return rc;
        return fn(space, *bucket, rec);
    });
}

int Store::get(const char *ns, uint64_t offset, void **data, size_t *len) {
    return with_record(ns, offset, [&](Namespace &, BucketFile &bucket, const RecordRef &rec) {
        void *copy = std::malloc(rec.length ? rec.length : 1);
        if (!copy) return fail(ROCHE_ENOMEM, "allocating " + std::to_string(rec.length) + " bytes");
        int rc = bucket.copy_value(rec, copy);
        if (rc != ROCHE_OK) {
            std::free(copy);
            return rc;
        }
        *data = copy;
        *len = rec.length;
        return ROCHE_OK;
    });
}

int Store::get_into(const char *ns, uint64_t offset, void *buf, size_t cap, size_t *len) {
    return with_record(ns, offset, [&](Namespace &, BucketFile &bucket, const RecordRef &rec) {
        if (rec.length > cap) {
            *len = rec.length;
            return fail(ROCHE_ETOOBIG, "value of " + std::to_string(rec.length) +
                                           " bytes; the buffer holds " + std::to_string(cap));
        }
        int rc;
        if (!opts_.read_only) {
            rc = bucket.copy_value(rec, buf);  // checked in the mapping, then copied
        } else {
            // A read-only handle pread()s the value and checks it where it
            // landed: land it here, so damaged bytes never reach buf.
            uint8_t small[4096];
            uint8_t *tmp = small;
            if (rec.length > sizeof small) {
                tmp = static_cast<uint8_t *>(std::malloc(rec.length));
                if (!tmp) return fail(ROCHE_ENOMEM, "allocating " + std::to_string(rec.length) + " bytes");
            }
            rc = bucket.copy_value(rec, tmp);
            if (rc == ROCHE_OK && rec.length) std::memcpy(buf, tmp, rec.length);
            if (tmp != small) std::free(tmp);
        }
        if (rc == ROCHE_OK) *len = rec.length;
        return rc;
    });
}

int Store::get_view(const char *ns, uint64_t offset, std::shared_ptr<Namespace> *pin, void **owned,
                    const void **data, size_t *len) {
    if (opts_.read_only) {
        int rc = get(ns, offset, owned, len);
        if (rc == ROCHE_OK) *data = *owned;
        return rc;
    }
    return with_record(ns, offset, [&](Namespace &space, BucketFile &bucket, const RecordRef &rec) {
        const uint8_t *value;
        int rc = bucket.checked_value(rec, &value);
        if (rc != ROCHE_OK) return rc;
        *pin = space.shared_from_this();
        *data = value;
        *len = rec.length;
        return ROCHE_OK;
    });
}

int Store::multiget(const char *ns, const uint64_t *offsets, size_t count, roche_values **out) {
    ValuesBuilder builder(count);
    int rc = with_namespace(ns, false, [&](Namespace &space) {
        // Pass one finds every record and sizes the result; pass two copies.
        // Headers are prefetched a few items ahead, so the cache misses of
        // random offsets overlap instead of queueing one after another.
        constexpr size_t kPrefetchDistance = 8;
        std::vector<BucketFile *> buckets(count);
        std::vector<RecordRef> records(count);
        for (size_t i = 0; i < count; i++) buckets[i] = space.bucket(offset_bucket(offsets[i]));
        auto prefetch = [&](size_t i) {
            if (i < count && buckets[i]) buckets[i]->prefetch(offset_position(offsets[i]));
        };
        for (size_t i = 0; i < kPrefetchDistance; i++) prefetch(i);
        for (size_t i = 0; i < count; i++) {
            prefetch(i + kPrefetchDistance);
            int status = buckets[i] ? buckets[i]->locate(offset_position(offsets[i]), &records[i], true)
                                    : no_bucket(space.dir(), offsets[i]);
            if (status == kStale) return kStale;
            builder.set(i, status, status == ROCHE_OK ? records[i].length : 0);
        }
        // A copy that fails (damage, an I/O error) changes the layout: lay
        // out again.
        for (bool copied = false; !copied;) {
            if (!builder.allocate()) return fail(ROCHE_ENOMEM, "allocating the multiget result");
            copied = true;
            for (size_t i = 0; i < count; i++) {
                if (builder.status(i) != ROCHE_OK) continue;
                int status = buckets[i]->copy_value(records[i], builder.value(i));
                if (status != ROCHE_OK) {
                    builder.set(i, status, 0);
                    copied = false;
                }
            }
        }
        return ROCHE_OK;
    });
    if (rc == ROCHE_ENOTFOUND) {  // no such namespace: every item is not found
        for (size_t i = 0; i < count; i++) builder.set(i, ROCHE_ENOTFOUND, 0);
        rc = builder.allocate() ? ROCHE_OK : fail(ROCHE_ENOMEM, "allocating the multiget result");
    }
    if (rc == ROCHE_OK) *out = builder.release();
    return rc;
}

int Store::scan(const char *ns, uint64_t from, std::unique_ptr<Scan> *out) {
    int rc = with_namespace(ns, false, [&](Namespace &space) {
        if (space.stale()) return kStale;
        out->reset(new Scan(space.shared_from_this(), from));
        return ROCHE_OK;
    });
    if (rc == ROCHE_ENOTFOUND) {
        out->reset(new Scan(nullptr, from));
        rc = ROCHE_OK;
    }
    return rc;
}

int Store::stat(const char *ns, roche_stat_info *info) {
    // Version 1 callers have the shorter struct: its fields only.
    if (info->version != ROCHE_STAT_VERSION && info->version != 1)
        return fail(ROCHE_EINVAL, "roche_stat_info.version must be ROCHE_STAT_VERSION (or 1)");
    return with_namespace(ns, false, [&](Namespace &space) {
        if (space.stale()) return kStale;
        BucketTally t;
        for (uint32_t i = 0; i < space.bucket_count(); i++)
            if (BucketFile *b = space.bucket(i)) b->tally(&t);
        info->buckets = space.bucket_count();
        info->records = t.records;
        info->bytes = t.bytes;
        info->oldest_ns = t.oldest_ns;
        info->newest_ns = t.newest_ns;
        info->damaged_ranges = t.damaged_ranges;
        info->damaged_bytes = t.damaged_bytes;
        info->recovered_bytes = space.recovered_bytes();
        if (info->version >= 2) {
            info->dropped_records = t.dropped_records;
            info->dropped_bytes = t.dropped_bytes;
        }
        return ROCHE_OK;
    });
}

int Store::follow(const char *ns, const uint64_t *positions, size_t count, bool from_end,
                  std::unique_ptr<Follow> *out) {
    // A writer makes the namespace (and its doorbell) if it is not there:
    // a follower may start before the first append.
    return with_namespace(ns, !opts_.read_only, [&](Namespace &space) {
        if (space.stale()) return kStale;
        out->reset(new Follow(this, space.shared_from_this(), positions, count, from_end));
        return ROCHE_OK;
    });
}

int Store::pin_namespace(const std::string &name, std::shared_ptr<Namespace> *out) {
    return with_namespace(name.c_str(), false, [&](Namespace &space) {
        if (space.stale()) return kStale;
        *out = space.shared_from_this();
        return ROCHE_OK;
    });
}

int Store::retain(const char *ns, uint64_t older_than_ns, uint64_t max_bytes, uint64_t *freed) {
    *freed = 0;
    if (opts_.read_only) return fail(ROCHE_EREADONLY, "the store was opened read-only");
    if (older_than_ns == 0 && max_bytes == 0) return with_namespace(ns, false, [](Namespace &) { return ROCHE_OK; });
    return with_namespace(ns, false, [&](Namespace &space) {
        std::shared_lock<std::shared_mutex> lock(space.lifecycle());
        if (space.closed()) return fail(ROCHE_ENOTFOUND, space.dir() + ": closed during retention");
        return retain_namespace(space, older_than_ns, max_bytes, freed);
    });
}

int Store::bucket_range(const char *ns, uint32_t bucket, uint64_t *first, uint64_t *end) {
    *first = *end = make_offset(bucket, 0);
    return with_namespace(ns, false, [&](Namespace &space) {
        if (space.stale()) return kStale;
        std::shared_lock<std::shared_mutex> lock(space.lifecycle());
        BucketFile *file = space.bucket(bucket);
        if (!file) return ROCHE_OK;
        BucketExtent ext = file->extent();
        if (ext.stale) return kStale;
        *first = make_offset(bucket, std::min(file->first_kept(), ext.end));
        *end = make_offset(bucket, ext.end);
        return ROCHE_OK;
    });
}

int Store::namespaces(std::vector<std::string> *names) {
    if (int rc = check_process()) return rc;
    DIR *d = opendir(root_.c_str());
    if (!d) return fail_errno(root_, errno);
    while (struct dirent *e = readdir(d)) {
        struct stat st;
        std::string path = root_ + "/" + e->d_name;
        if (e->d_name[0] != '.' && ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
            names->push_back(e->d_name);
    }
    closedir(d);
    std::sort(names->begin(), names->end());
    return ROCHE_OK;
}

int Store::close_namespace(const char *ns) {
    if (int rc = check_process()) return rc;
    std::string_view name;
    int rc = namespace_name(ns, &name);
    if (rc != ROCHE_OK) return rc;
    std::shared_ptr<std::mutex> g = gate(name);
    {
        std::lock_guard<std::mutex> closing(*g);  // waits for an open in progress
        std::unique_lock<ReaderGate> lock(mu_);
        auto it = open_.find(name);
        if (it == open_.end())
            rc = fail(ROCHE_ENOTFOUND, "namespace \"" + std::string(name) + "\" is not open");
        else
            rc = release(it);
    }
    drop_gate(name, g);
    return rc;
}

int Store::delete_namespace(const char *ns) {
    if (int rc = check_process()) return rc;
    if (opts_.read_only) return fail(ROCHE_EREADONLY, "the store was opened read-only");
    std::string_view name;
    int rc = namespace_name(ns, &name);
    if (rc != ROCHE_OK) return rc;
    std::shared_ptr<std::mutex> g = gate(name);
    {
        std::lock_guard<std::mutex> deleting(*g);  // waits for an open in progress
        {
            std::unique_lock<ReaderGate> lock(mu_);
            auto it = open_.find(name);
            if (it != open_.end()) {
                it->second->mark_removed();  // its followers end, not reopen it
                release(it);
            }
        }
        rc = remove_namespace_files(std::string(name));
    }
    drop_gate(name, g);
    return rc;
}

// Marks every companion of the namespace deleted, so read-only handles in
// any process stop serving it (roche.h, COMPANION FILE), then removes it.
int Store::remove_namespace_files(const std::string &name) {
    std::string dir = root_ + "/" + name;
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) return fail(ROCHE_ENOTFOUND, dir + ": no such namespace");
    for (const auto &entry : std::filesystem::directory_iterator(dir, ec)) {
        const std::string file = entry.path().filename().string();
        if (file.size() > 4 && file.compare(file.size() - 4, 4, ".idx") == 0) mark_deleted(entry.path().string());
    }
    // Followers asleep in any process wake, and find the namespace deleted.
    Doorbell bell;
    if (std::filesystem::exists(dir + "/doorbell", ec) && bell.open(dir, 0) == ROCHE_OK) bell.wake_all();
    std::filesystem::remove_all(dir, ec);
    if (ec) return fail(ROCHE_EIO, dir + ": " + ec.message());
    return ROCHE_OK;
}

int Store::sync_namespace(const char *ns) {
    if (opts_.read_only) return fail(ROCHE_EREADONLY, "the store was opened read-only");
    int rc = with_namespace(ns, false, [](Namespace &space) { return space.sync(); });
    if (rc != ROCHE_OK && rc != ROCHE_ENOTFOUND) return rc;
    return sync_cursors(ns);  // after the records they point into
}

int Store::sync_all() {
    if (int rc = check_process()) return rc;
    if (opts_.read_only) return fail(ROCHE_EREADONLY, "the store was opened read-only");
    std::shared_lock<ReaderGate> lock(mu_);
    for (auto &entry : open_) {
        int rc = entry.second->sync();
        if (rc != ROCHE_OK) return rc;
    }
    if (root_dirty_.exchange(false)) {
        int rc = sync_directory(root_);
        if (rc == ROCHE_OK && root_parent_dirty_) {
            std::string parent = std::filesystem::absolute(root_).parent_path().string();
            if ((rc = sync_directory(parent)) == ROCHE_OK) root_parent_dirty_ = false;
        }
        if (rc != ROCHE_OK) {
            root_dirty_.store(true);
            return rc;
        }
    }
    return sync_all_cursors();  // after the records they point into
}

}  // namespace roche
