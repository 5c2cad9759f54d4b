// The store: a root directory, its writer lock, and the open namespaces.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <thread>
#include <string>
#include <string_view>
#include <unordered_map>

#include "fork_guard.h"
#include "prefaulter.h"
#include "reader_gate.h"
#include <vector>

#include "namespace.h"
#include "roche.h"

struct roche_values;

namespace roche {

struct StoreOptions {
    uint32_t buckets = ROCHE_DEFAULT_BUCKETS;
    bool read_only = false;
    int sync = ROCHE_SYNC_NEVER;
    uint32_t sync_period_ms = 100;  // ROCHE_SYNC_PERIODIC
    uint32_t max_open_files = 0;    // 0: a quarter of RLIMIT_NOFILE, within [16, 4096]
    uint64_t retention_age_ms = 0;  // roche_options_set_retention(); 0: off
    uint64_t retention_bytes = 0;
    HeaderFormat format = HeaderFormat::Roche;  // roche_options_set_format()
};

class Scan;
class Follow;

class Store {
public:
    static int open(const char *root, const StoreOptions &opts, std::unique_ptr<Store> *out);
    ~Store();

    int append(const char *ns, const char *id, const void *data, const size_t *lens, size_t count,
               uint64_t *offsets);
    int get(const char *ns, uint64_t offset, void **data, size_t *len);
    // The value in place: *pin keeps its namespace (and mappings) alive;
    // a read-only handle copies it into *owned (malloc) instead.
    int get_view(const char *ns, uint64_t offset, std::shared_ptr<Namespace> *pin, void **owned,
                 const void **data, size_t *len);
    // The value copied into buf when it fits in cap bytes; else
    // ROCHE_ETOOBIG with *len its length, and buf untouched.
    int get_into(const char *ns, uint64_t offset, void *buf, size_t cap, size_t *len);
    int multiget(const char *ns, const uint64_t *offsets, size_t count, roche_values **out);
    int scan(const char *ns, uint64_t from, std::unique_ptr<Scan> *out);
    // A follower (follow.h) of ns; a writable handle creates the namespace.
    int follow(const char *ns, const uint64_t *positions, size_t count, bool from_end,
               std::unique_ptr<Follow> *out);
    // The namespace, open, held by the caller (never created).
    int pin_namespace(const std::string &name, std::shared_ptr<Namespace> *out);
    // Drops old records of one namespace (retention.h).
    int retain(const char *ns, uint64_t older_than_ns, uint64_t max_bytes, uint64_t *freed);
    int bucket_range(const char *ns, uint32_t bucket, uint64_t *first, uint64_t *end);
    int stat(const char *ns, roche_stat_info *info);
    int namespaces(std::vector<std::string> *names);
    int close_namespace(const char *ns);
    int delete_namespace(const char *ns);
    int sync_namespace(const char *ns);
    int sync_all();  // every namespace open in this handle

    // Consumer cursors (store_cursors.cc; the format is in cursor.h). They
    // work on read-only handles too: cursors are consumer state.
    int cursor_commit(const char *ns, const char *name, const uint64_t *offsets, size_t count);
    int cursor_get(const char *ns, const char *name, std::vector<uint64_t> *offsets);
    int cursor_list(const char *ns, std::vector<std::string> *names);
    int cursor_delete(const char *ns, const char *name);

    int close();               // trims and releases every namespace
    // True in a child of fork(): the handle is the parent's, and its locks
    // may be held by parent threads that do not exist here.
    bool in_child() const;
    // In a child of fork(): unmaps and closes the child's copies of this
    // handle's mappings and descriptors, taking no lock and touching no
    // file. The parent's files and this object are left alone.
    void release_in_child() const { roche::release_in_child(owner_tag_); }

private:
    // Keys view each namespace's own name, so lookups allocate nothing.
    using OpenMap = std::unordered_map<std::string_view, std::shared_ptr<Namespace>>;

    Store(const std::string &root, const StoreOptions &opts) : root_(root), opts_(opts) {}

    // Runs fn(Namespace &) with mu_ held shared, opening the namespace on
    // first use; with create, a missing namespace is made.
    template <typename Fn>
    int with_namespace(const char *ns, bool create, Fn &&fn);
    // Runs fn(Namespace &, BucketFile &, const RecordRef &) on the record
    // that starts at offset, once located (the checks every get shares).
    template <typename Fn>
    int with_record(const char *ns, uint64_t offset, Fn &&fn);
    int open_namespace(std::string_view name, bool create);
    std::shared_ptr<std::mutex> gate(std::string_view name);
    void drop_gate(std::string_view name, std::shared_ptr<std::mutex> &g);
    int remove_namespace_files(const std::string &name);
    void forget_namespace(std::string_view name);
    // Closes the namespaces used least recently until the descriptors held
    // leave room for another namespace (never `keep`).
    void make_room(std::string_view keep);
    int release(OpenMap::iterator it);
    int check_process() const;
    void start_syncer();
    void retain_open_namespaces();
    void stop_syncer();
    // The namespace's directory, checked to exist (ROCHE_ENOTFOUND).
    int cursor_dir(const char *ns, std::string *dir);
    // Makes a cursor change durable now, or leaves it to the next sync.
    int settle_cursor(const std::string &dir, const std::string &file, bool dir_changed);
    // fdatasync the cursor files (and fsync the directories) changed since
    // the last sync: of one namespace, or of all.
    int sync_cursors(const char *ns);
    int sync_all_cursors();
    int sync_cursors_in(const std::string &dir);

    std::string root_;
    StoreOptions opts_;
    int lock_fd_ = -1;    // the root directory, flock()ed by a writer
    int lock_slot_ = -1;  // close_in_child()'s slot for lock_fd_
    uint64_t fork_generation_;  // a child of fork() may not use this handle
    uint64_t owner_tag_ = new_owner_tag();  // what a child's close gives back (fork_guard.h)
    std::unique_ptr<Prefaulter> prefaulter_;  // writable handles (prefaulter.h)
    // Shared by every call for its whole length; exclusive to open, close
    // or delete a namespace, so no call ever runs on a released one. A
    // ReaderGate, not a std::shared_mutex: a waiting close stops new calls
    // (reader_gate.h says why).
    ReaderGate mu_;
    OpenMap open_;
    // Descriptors held by open bucket files, and the bound make_room()
    // keeps them under; tick_ orders namespaces by last use.
    std::shared_ptr<std::atomic<int64_t>> open_files_ = std::make_shared<std::atomic<int64_t>>(0);
    int64_t max_open_files_ = 256;
    std::atomic<uint64_t> tick_{1};
    std::mutex gates_mu_;  // guards gates_ only, never held across I/O
    std::unordered_map<std::string, std::shared_ptr<std::mutex>> gates_;
    // The directories whose entries the next sync must make durable: the
    // root (namespaces created) and, once, the root's parent.
    std::atomic<bool> root_dirty_{false};
    bool root_parent_dirty_ = false;
    // ROCHE_SYNC_PERIODIC: a thread that syncs every sync_period_ms. A
    // pointer, so a child of fork() (where the thread does not exist) can
    // drop it without joining.
    std::thread *syncer_ = nullptr;
    std::mutex syncer_mu_;
    std::condition_variable syncer_cv_;
    bool syncer_stop_ = false;
    // Cursor changes not yet synced, by namespace directory (never held
    // across I/O).
    struct UnsyncedCursors {
        std::set<std::string> files;  // cursor files committed
        bool dir_changed = false;     // a cursor file was created or deleted
    };
    std::mutex cursors_mu_;
    std::map<std::string, UnsyncedCursors> unsynced_cursors_;
};

// Checks a name that becomes a file name in the store (a namespace's
// directory, a cursor's file): 1..max_len bytes, no '/', not starting with
// '.' (so never "." or ".."). kind ("namespace", "cursor") names it in the
// message. Returns the name in *out, or ROCHE_EINVAL.
int check_file_name(const char *kind, const char *name, size_t max_len, std::string_view *out);

// Checks a namespace name (NULL or "" mean "default") and returns the name
// to use in *out, or ROCHE_EINVAL.
int namespace_name(const char *ns, std::string_view *out);

}  // namespace roche
