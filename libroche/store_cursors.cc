// The store's consumer cursors (roche.h, "Cursors"): plumbing from a
// namespace and a name to the cursor file (cursor.h), and when the file
// reaches the disk.
//
// Cursors live beside the buckets but need no open namespace: a commit is
// a few hundred bytes written under the file's own lock, so read-only
// handles commit as writers do, and a namespace open elsewhere (another
// process's writer) is never in the way.
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

#include "cursor.h"
#include "error.h"
#include "store.h"

namespace roche {

int Store::cursor_dir(const char *ns, std::string *dir) {
    if (int rc = check_process()) return rc;
    std::string_view name;
    if (int rc = namespace_name(ns, &name)) return rc;
    *dir = root_ + "/" + std::string(name);
    struct stat st;
    bool found = ::stat(dir->c_str(), &st) == 0;
    if (found && S_ISDIR(st.st_mode)) return ROCHE_OK;
    if (found || errno == ENOENT || errno == ENOTDIR)
        return fail(ROCHE_ENOTFOUND, "namespace \"" + std::string(name) + "\" does not exist");
    return fail_errno(*dir, errno);
}

// Under ROCHE_SYNC_ALWAYS a change is durable when the call returns; a
// read-only handle has no roche_sync() to leave it to, so it does the
// same. Otherwise the next sync of this handle makes it durable.
int Store::settle_cursor(const std::string &dir, const std::string &file, bool dir_changed) {
    if (opts_.sync == ROCHE_SYNC_ALWAYS || opts_.read_only)
        return dir_changed ? sync_directory(dir) : ROCHE_OK;  // the file was synced under its lock
    std::lock_guard<std::mutex> lock(cursors_mu_);
    UnsyncedCursors &unsynced = unsynced_cursors_[dir];
    if (!file.empty()) unsynced.files.insert(file);
    unsynced.dir_changed |= dir_changed;
    return ROCHE_OK;
}

int Store::cursor_commit(const char *ns, const char *name, const uint64_t *offsets, size_t count) {
    std::string dir;
    std::string_view cursor;
    if (int rc = cursor_name(name, &cursor)) return rc;
    if (int rc = cursor_dir(ns, &dir)) return rc;
    std::string path = cursor_path(dir, cursor);
    bool sync_now = opts_.sync == ROCHE_SYNC_ALWAYS || opts_.read_only;
    bool created = false;
    if (int rc = commit_cursor(path, offsets, count, sync_now, &created)) return rc;
    return settle_cursor(dir, path, created);
}

int Store::cursor_get(const char *ns, const char *name, std::vector<uint64_t> *offsets) {
    std::string dir;
    std::string_view cursor;
    if (int rc = cursor_name(name, &cursor)) return rc;
    if (int rc = cursor_dir(ns, &dir)) return rc;
    return read_cursor(cursor_path(dir, cursor), offsets);
}

int Store::cursor_list(const char *ns, std::vector<std::string> *names) {
    std::string dir;
    if (int rc = cursor_dir(ns, &dir)) return rc;
    DIR *d = opendir(dir.c_str());
    if (!d && errno == ENOENT) return fail(ROCHE_ENOTFOUND, dir + ": the namespace is gone");
    if (!d) return fail_errno(dir, errno);
    while (struct dirent *e = readdir(d)) {
        std::string_view cursor;
        if (cursor_of_file(e->d_name, &cursor)) names->emplace_back(cursor);
    }
    closedir(d);
    std::sort(names->begin(), names->end());
    return ROCHE_OK;
}

int Store::cursor_delete(const char *ns, const char *name) {
    std::string dir;
    std::string_view cursor;
    if (int rc = cursor_name(name, &cursor)) return rc;
    if (int rc = cursor_dir(ns, &dir)) return rc;
    if (int rc = remove_cursor(cursor_path(dir, cursor))) return rc;
    return settle_cursor(dir, std::string(), true);
}

namespace {

// Syncs what one namespace's cursors left unsynced: files first, then the
// directory entries of files created or deleted. A namespace deleted since
// took its cursors with it: nothing is left to sync.
int sync_unsynced(const std::string &dir, const std::set<std::string> &files, bool dir_changed) {
    for (const std::string &file : files)
        if (int rc = sync_cursor_file(file)) return rc;
    struct stat st;
    if (!dir_changed || (::stat(dir.c_str(), &st) != 0 && errno == ENOENT)) return ROCHE_OK;
    return sync_directory(dir);
}

}  // namespace

int Store::sync_cursors(const char *ns) {
    std::string_view name;
    if (int rc = namespace_name(ns, &name)) return rc;
    return sync_cursors_in(root_ + "/" + std::string(name));
}

int Store::sync_all_cursors() {
    std::vector<std::string> dirs;
    {
        std::lock_guard<std::mutex> lock(cursors_mu_);
        for (const auto &entry : unsynced_cursors_) dirs.push_back(entry.first);
    }
    for (const std::string &dir : dirs)
        if (int rc = sync_cursors_in(dir)) return rc;
    return ROCHE_OK;
}

// The namespace's entry is taken out under the mutex and synced outside
// it; when a sync fails it goes back, for the next sync to try again.
int Store::sync_cursors_in(const std::string &dir) {
    UnsyncedCursors unsynced;
    {
        std::lock_guard<std::mutex> lock(cursors_mu_);
        auto it = unsynced_cursors_.find(dir);
        if (it == unsynced_cursors_.end()) return ROCHE_OK;
        unsynced = std::move(it->second);
        unsynced_cursors_.erase(it);
    }
    int rc = sync_unsynced(dir, unsynced.files, unsynced.dir_changed);
    if (rc != ROCHE_OK) {
        std::lock_guard<std::mutex> lock(cursors_mu_);
        UnsyncedCursors &again = unsynced_cursors_[dir];
        again.files.insert(unsynced.files.begin(), unsynced.files.end());
        again.dir_changed |= unsynced.dir_changed;
    }
    return rc;
}

}  // namespace roche
