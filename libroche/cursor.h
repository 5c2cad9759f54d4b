// A consumer cursor: a named position in a namespace, one offset per bucket,
// in the file <namespace dir>/cursor.<name> (roche.h, "Cursors").
//
// The file holds two slots, written alternately, as the companion's
// checkpoints are (record_index.h), so a crash leaves the old position or
// the new one, never a torn one. Little-endian:
//
//   slot 0 at byte 0, slot 1 at byte kCursorSlotStride (69632 = 17 * 4096),
//   so each slot lies in 4 KiB blocks of its own; a slot is
//     u64 magic       "RCCUR001"
//     u64 generation  1 for the first commit, then one more than the newest
//     u32 count       offsets that follow, at most ROCHE_MAX_BUCKETS (8191)
//     u32 reserved    0
//     u64 offsets[count]
//     u64 check       XXH3-64 of every byte of the slot before it
//
// Only those bytes are written; the rest of each slot stays a hole. The
// valid slot (magic and check) with the higher generation is the cursor.
// A commit writes the other slot, so the newest position is never
// overwritten: a torn or lost write of the new slot leaves the old one.
//
// Commits flock() the file exclusively, so committers in any number of
// processes take turns and each generation is written once. Readers take
// no lock while both slots pass their checks (or one was never written);
// a slot that fails may be a commit in progress, so they read again under
// a shared lock (read_cursor()). A read never returns a position older
// than one whose commit returned before the read began.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace roche {

constexpr size_t kCursorNameMax = 200;
constexpr uint64_t kCursorSlotStride = 17 * 4096;
constexpr char kCursorFilePrefix[] = "cursor.";

// Checks a cursor name: as a namespace's (check_file_name()), up to
// kCursorNameMax bytes, and never NULL or "". ROCHE_EINVAL otherwise.
int cursor_name(const char *name, std::string_view *out);

// The cursor's file in a namespace's directory.
std::string cursor_path(const std::string &ns_dir, std::string_view name);

// The cursor name a file name in a namespace's directory stands for, or
// false when it is no cursor's file.
bool cursor_of_file(const char *file_name, std::string_view *name);

// Writes a new position to the cursor file at path, creating it. With
// sync, the file is fdatasync()ed before it is unlocked. *created tells
// whether this commit made the file (its directory entry is not durable
// until the directory is synced). ROCHE_ENOTFOUND when the directory is
// gone; ROCHE_EIO.
int commit_cursor(const std::string &path, const uint64_t *offsets, size_t count, bool sync,
                  bool *created);

// Reads the newest valid position. ROCHE_ENOTFOUND when there is no file
// (or a commit that made it died before writing); ROCHE_ECORRUPT when
// neither slot passes its checks; ROCHE_EIO.
int read_cursor(const std::string &path, std::vector<uint64_t> *offsets);

// Removes the cursor file, after any commit in progress. ROCHE_ENOTFOUND
// when there is none.
int remove_cursor(const std::string &path);

// fdatasyncs a cursor file; one deleted since is not an error.
int sync_cursor_file(const std::string &path);

}  // namespace roche
