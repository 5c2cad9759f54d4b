/*
 * roche.h - libroche, an embeddable append-only blob store.
 *
 * libroche is the storage of rochefort ("push data, get a file offset back")
 * as a library. This header is the whole public API: what is not declared
 * here is not API.
 *
 * MODEL
 *   A store is a root directory. Namespaces are its subdirectories, and each
 *   namespace holds bucket files named append.<bucket>.raw:
 *
 *     <root>/<namespace>/append.<bucket>.raw
 *
 *   roche_append() writes a record at the end of one bucket file and returns
 *   its offset, (bucket << 50) | (byte position of the record's header).
 *   Offsets are forever: they stay valid across closes, crashes and reopens
 *   with another bucket count.
 *
 * RECORD FORMAT (rochefort's, byte for byte; all integers little-endian)
 *     u32 length        length of the value in bytes
 *     u64 time          wall-clock time of the append, ns since the epoch
 *     u32 crc           CRC-32 (IEEE, zlib's crc32) of the 12 bytes above
 *                       (rochefort v0.5's own check, the upper 32 bits of
 *                       MetroHash64 of them, under ROCHE_FORMAT_ROCHEFORT:
 *                       roche_options_set_format())
 *     u8  value[length]
 *   After roche_close() a bucket file is exactly the concatenation of its
 *   records: no padding, no trailer. While a store is open for writing,
 *   bucket files carry zero-filled space reserved past the last record.
 *
 * COMPANION FILE (libroche's; beside the format, never inside it)
 *   Each bucket file append.<n>.raw has a companion append.<n>.idx in the
 *   same directory. It is what the format lacks: a checksum of every value,
 *   and a published end. Little-endian:
 *     bytes 0..63     synced checkpoint 0  } u64 magic "RCHIX002", u64
 *     bytes 512..575  synced checkpoint 1  } generation, u64 records, u64
 *                                            end (bytes), u64 inode (for
 *                                            tools; not checked), u64 first
 *                                            record kept (entry number),
 *                                            u64 its position, u64 XXH3 of
 *                                            the 56 bytes before it
 *     bytes 1024..    live area: u64 magic "RCLIV001", u64 boot id (hash
 *                     of /proc/sys/kernel/random/boot_id), u64 inode, u64
 *                     live count of whole records, u32 reserved, u32 flags
 *                     (1: the namespace was deleted; 2: closed cleanly by
 *                     a ROCHE_FORMAT_ROCHEFORT writer), u32 the namespace's
 *                     bucket count, u32 reserved, u64 first record kept
 *                     (entry number; retention), u64 its position, u64
 *                     the end the file was trimmed to at that clean close
 *     bytes 2048..    one 16-byte entry per record, in file order: u64
 *                     position of its header, u64 XXH3-64 of header and
 *                     value, seeded with the position; then a sentinel
 *                     entry whose position is where the records end.
 *                     Entries (and bucket file bytes) before the first
 *                     record kept may be holes: retention freed them
 *   A writer stores a record, then its entry, then the live count
 *   (release), so the live count is the committed end for readers in any
 *   process. roche_sync() writes the records and entries to the disk and
 *   only then a checkpoint, alternating between the two slots (as LMDB's
 *   meta pages); the newest valid one is what survives a machine crash.
 *   Entries make a seek a search (interpolation, then bisection: about one
 *   probe for evenly sized records, at most 2 log2(n)) instead of a walk.
 *   Costs: 16 bytes per record on disk and in the page cache (2 KiB for
 *   the header), an XXH3 of each record when it is appended and each time
 *   it is read.
 *
 * GUARANTEES (each is attacked by a test; tests/reliability/README.md)
 *   - Garbage never comes back as data. Every get, multiget and scan checks
 *     the record against its entry's checksum: a damaged byte, a page the
 *     disk never got, a torn write or an offset where no record starts is
 *     ROCHE_ECORRUPT (or ROCHE_ENOTFOUND past the end), never the bytes.
 *   - Process crash (kill -9 at any instant): every append that returned is
 *     there, byte for byte. Records are written into the page cache before
 *     the call returns; recovery then trusts the live count (the same boot
 *     means the page cache it lives in survived) and accepts past it only
 *     records that have their entry and match its checksum. It never
 *     searches byte by byte, so a value holding something shaped like a
 *     record is never taken for one. Recovery costs O(1) plus the records
 *     appended but not yet published when the writer died.
 *   - Machine crash (power loss): every append that returned before the
 *     last completed roche_sync() (or, under ROCHE_SYNC_ALWAYS, before it
 *     returned) is there, byte for byte, and so are the namespaces and
 *     bucket files created before it (sync fsyncs their directories).
 *     Newer appends may be lost, never replaced by garbage. Recovery walks
 *     and checks every record after the last checkpoint (so its cost grows
 *     with what was appended since the last sync), then writes a new
 *     checkpoint. This assumes the file system keeps file names in the
 *     order they were created (ext4 and XFS do): a new bucket's companion
 *     is created before its bucket file.
 *   - What recovery cuts past the last good record is gone from the
 *     bucket; when it may hold records (after a machine crash, or in a file
 *     another tool wrote), its bytes are first saved in
 *     append.<n>.raw.cut-<position> beside it. Open never fails because of
 *     a torn tail. Damage below the committed end is never cut: those
 *     records read as ROCHE_ECORRUPT, and a scan reports and passes them.
 *   - A store in rochefort's own format (no companions) opens. A writable
 *     open builds each companion from the records whose headers check out,
 *     from the start to the first that does not (their values cannot be
 *     checked: there is no checksum to check them against). It is built
 *     as append.<n>.idx.building and renamed into place once whole, so a
 *     kill during that open leaves no companion and the next open builds
 *     it again, losing nothing (tests/reliability/adopt.c). A read-only
 *     handle on a bucket without a companion checks headers only and ends
 *     a scan at the first header that fails.
 *   - No fsync unless asked for: roche_sync(), ROCHE_SYNC_ALWAYS, or the
 *     group commit of ROCHE_SYNC_PERIODIC.
 *   - One writing handle per store: an flock() on the root directory
 *     itself, so no file can be deleted to defeat it. A second writer, in
 *     this process or another, gets ROCHE_ELOCKED at once. Any number of
 *     read-only handles, in any process, may be open beside the writer;
 *     they learn the committed end from the companion's live count, never
 *     from what the data looks like, and see the writer's new appends. A
 *     namespace deleted with roche_delete_namespace() is marked in its
 *     companions first: readers stop serving its old records and open it
 *     afresh. A namespace removed by other means (rm -rf) is noticed
 *     within about 100 ms: readers check their files' link count at most
 *     that often.
 *   - Namespaces are cheap: bucket files are made on the first append that
 *     goes to them, space is reserved ahead from 32 KiB (doubling), and the
 *     descriptors a handle holds are bounded
 *     (roche_options_set_max_open_files()), so 100,000 namespaces work under
 *     `ulimit -n 1024`. A namespace of one small record takes 8 KiB of
 *     disk after close (a block of records, a block of companion).
 *   - Opening (and recovering) one namespace never holds up calls on
 *     others.
 *   - A namespace directory removed behind the library's back while a
 *     writer has it open (use roche_delete_namespace() instead): appends
 *     get ROCHE_EIO from the bucket's next growth on, and roche_close()
 *     writes the records appended since the removal back from memory and
 *     returns ROCHE_EIO to say so. A bucket file truncated by another
 *     program under a writer is not detected and may raise SIGBUS, as with
 *     any memory-mapped store. Do not replace a bucket file and keep its
 *     companion: its records would no longer match (ROCHE_ECORRUPT, or cut
 *     and saved aside at the next writable open).
 *
 * THREADS
 *   One roche_db serves any number of threads at once, for every call.
 *   Appends to different buckets run in parallel; appends to one bucket are
 *   serialized; gets and scans never wait for appends. A roche_scan
 *   iterator and a roche_values result belong to one thread at a time.
 *   roche_close() must not race with other calls on the same handle.
 *   Opening, closing or deleting a namespace waits for the calls already
 *   running on the handle and holds new ones back until it is done, so
 *   however busy the other threads keep the handle, it is never starved.
 *   A writable handle starts one thread of its own on its first append: it
 *   takes the page faults of the file space appends are about to fill
 *   (MADV_POPULATE_WRITE), so the appending threads find the pages ready;
 *   roche_close() stops it. Nothing ever waits for it. This thread, and the
 *   one a periodic sync or retention starts, block every signal, so a
 *   signal sent to the process never runs the application's handler on a
 *   thread its runtime does not know (Perl's handler crashed there).
 *   A value a scan handed out stays readable until the next call on that
 *   iterator, even if another thread closes or deletes its namespace
 *   meanwhile: the mappings live as long as an iterator holds them.
 *
 * PROCESSES
 *   A handle belongs to the process that opened it. In a child of fork(),
 *   every call on it returns ROCHE_EINVAL except roche_close(), which
 *   takes no lock (a parent thread may have held one at the fork), leaves
 *   the files alone, and unmaps and closes the child's copies of the
 *   handle's mappings and descriptors (values, views and scans the child
 *   still holds from the handle end with it). A mapping or descriptor a
 *   parent thread was making or unmaking at the very instant of the fork,
 *   and the handle's heap, stay until the child exits or execs. The child
 *   does not hold the writer lock, even
 *   before it calls anything: its copy of the lock's descriptor is closed
 *   as it starts. Open the store again in the child instead.
 *
 * ERRORS
 *   Every int-returning call returns ROCHE_OK (0) or a negative ROCHE_E*
 *   code. roche_strerror() gives static text for a code; roche_last_error()
 *   gives the detail of the calling thread's most recent failure (a path,
 *   an errno text), valid until that thread's next failing call. No C++
 *   exception, abort or assert crosses this API.
 *
 * MEMORY
 *   Whatever a roche_* call hands out is released by the call named in its
 *   documentation (roche_free(), roche_values_free(), roche_scan_free()),
 *   never by the caller's own free(). Releasing NULL is always a no-op.
 */
#ifndef ROCHE_H
#define ROCHE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define ROCHE_API
#elif defined(__GNUC__) && __GNUC__ >= 4
#define ROCHE_API __attribute__((visibility("default")))
#else
#define ROCHE_API
#endif

/* Version. CMake reads these three lines: they are the one source of truth. */
#define ROCHE_VERSION_MAJOR 0
#define ROCHE_VERSION_MINOR 1
#define ROCHE_VERSION_PATCH 0
#define ROCHE_VERSION_NUMBER \
    (ROCHE_VERSION_MAJOR * 10000 + ROCHE_VERSION_MINOR * 100 + ROCHE_VERSION_PATCH)

/** Return codes. Negative codes sit far from errno values, as LMDB's do. */
#define ROCHE_OK 0           /**< success */
#define ROCHE_DONE 1         /**< roche_scan_next(): no more records */
#define ROCHE_EINVAL (-30901)    /**< invalid argument (NULL, bad name, ...) */
#define ROCHE_ENOTFOUND (-30902) /**< no record or namespace there */
#define ROCHE_ECORRUPT (-30903)  /**< a record fails its checks (damaged), or none starts there */
#define ROCHE_EIO (-30904)       /**< a system call failed; see roche_last_error() */
#define ROCHE_ENOMEM (-30905)    /**< out of memory */
#define ROCHE_ETOOBIG (-30906)   /**< value longer than ROCHE_MAX_VALUE, or than the buffer given to roche_get_into() */
#define ROCHE_ELOCKED (-30907)   /**< another handle has the store open for writing */
#define ROCHE_EREADONLY (-30908) /**< write call on a read-only handle */
#define ROCHE_EINTERNAL (-30909) /**< a bug in libroche; please report it */
#define ROCHE_ETIMEDOUT (-30910) /**< roche_follow_next(): nothing new within the timeout */
#define ROCHE_ECANCELED (-30911) /**< roche_follow_next(): woken by roche_follow_wake() */
#define ROCHE_EDROPPED (-30912)  /**< the record was dropped by retention (roche_retain()) */
#define ROCHE_ENOTSUP (-30913)   /**< the file system cannot do it (hole punching) */

/** The longest value a record can hold: 4 GiB - 1. */
#define ROCHE_MAX_VALUE 0xFFFFFFFFu
/** The most buckets a namespace can have (offsets keep 13 bits for it). */
#define ROCHE_MAX_BUCKETS 8191u
/** Buckets per namespace when no option says otherwise. */
#define ROCHE_DEFAULT_BUCKETS 8u
/** Bits of an offset that hold the position inside a bucket file. */
#define ROCHE_OFFSET_BITS 50

/** Sync policies for roche_options_set_sync(). */
#define ROCHE_SYNC_NEVER 0  /**< the default, as in rochefort: no fsync */
#define ROCHE_SYNC_ALWAYS 1 /**< msync and fdatasync before each append returns */
#define ROCHE_SYNC_PERIODIC 2 /**< group commit: a thread syncs every period (as Kafka's flush.ms) */

typedef struct roche_db roche_db;           /**< an open store (opaque) */
typedef struct roche_options roche_options; /**< open options (opaque) */
typedef struct roche_values roche_values;   /**< result of roche_multiget() */
typedef struct roche_scan roche_scan;       /**< a scan iterator */
typedef struct roche_view roche_view;       /**< a pinned value (roche_get_view()) */
typedef struct roche_follow roche_follow;   /**< a follower (roche_follow_open()) */

/* ------------------------------------------------------------------------
 * Version and errors
 * ------------------------------------------------------------------------ */

/** Return the library's version as "MAJOR.MINOR.PATCH" (static text).
 *  Compare with ROCHE_VERSION_* to check header and library agree. */
ROCHE_API const char *roche_version(void);

/** Return the library's ROCHE_VERSION_NUMBER. */
ROCHE_API int roche_version_number(void);

/** Return static text for a return code; unknown codes get a generic text.
 *  Never NULL. */
ROCHE_API const char *roche_strerror(int code);

/** Return the detail of the calling thread's most recent failure, or "" if
 *  it has had none. Read it on the failing thread, right after the failing
 *  call. Never NULL. */
ROCHE_API const char *roche_last_error(void);

/** Release memory handed out by roche_get(), roche_namespaces() and other
 *  calls that say so. NULL is a no-op. */
ROCHE_API void roche_free(void *p);

/* ------------------------------------------------------------------------
 * Options
 * ------------------------------------------------------------------------ */

/** Create an options object holding the defaults: ROCHE_DEFAULT_BUCKETS
 *  buckets, read-write, ROCHE_SYNC_NEVER. Returns NULL when out of memory.
 *  The object can be freed as soon as roche_open() returns. */
ROCHE_API roche_options *roche_options_new(void);

/** Free an options object. NULL is a no-op. */
ROCHE_API void roche_options_free(roche_options *opts);

/** Set how many bucket files a namespace gets (1..ROCHE_MAX_BUCKETS).
 *  A namespace that already has more bucket files keeps them all: its
 *  bucket count never shrinks, so ids keep hashing to the same bucket.
 *  @return ROCHE_OK, or ROCHE_EINVAL (NULL opts, 0, more than the maximum). */
ROCHE_API int roche_options_set_buckets(roche_options *opts, uint32_t buckets);

/** Open the store read-only (non-zero) or read-write (0, the default).
 *  A read-only handle takes no lock, creates nothing and writes nothing;
 *  it sees appends made by a writer in another process.
 *  @return ROCHE_OK, or ROCHE_EINVAL for NULL opts. */
ROCHE_API int roche_options_set_read_only(roche_options *opts, int read_only);

/** Set the sync policy: ROCHE_SYNC_NEVER (default), ROCHE_SYNC_ALWAYS or
 *  ROCHE_SYNC_PERIODIC. Under PERIODIC a thread of the handle runs
 *  roche_sync() every period (roche_options_set_sync_period_ms()), so a
 *  machine crash loses at most the appends of the last period or so; an
 *  explicit roche_sync() still covers everything before it.
 *  @return ROCHE_OK, or ROCHE_EINVAL for NULL opts or an unknown policy. */
ROCHE_API int roche_options_set_sync(roche_options *opts, int policy);

/** Set the period of ROCHE_SYNC_PERIODIC, in milliseconds (default 100).
 *  @return ROCHE_OK, or ROCHE_EINVAL for NULL opts or a period outside
 *          1..3600000. */
ROCHE_API int roche_options_set_sync_period_ms(roche_options *opts, uint32_t period_ms);

/** Bound the file descriptors the handle keeps open (as LevelDB's
 *  max_open_files). Each bucket file open holds two (the file and its
 *  companion); when opening a namespace would pass the bound, the
 *  namespaces used least recently are closed first (trimmed, as by
 *  roche_close_namespace(); the next call that uses one opens it again,
 *  which costs a few system calls and no walk). Default: a quarter of the
 *  process's RLIMIT_NOFILE soft limit, within 16..4096 (256 under
 *  `ulimit -n 1024`), so the application keeps the rest. One namespace with
 *  more buckets than the bound holds them all open regardless.
 *  @return ROCHE_OK, or ROCHE_EINVAL for NULL opts or fewer than 4. */
ROCHE_API int roche_options_set_max_open_files(roche_options *opts, uint32_t max_files);

/** Header check formats for roche_options_set_format(). */
#define ROCHE_FORMAT_ROCHE 0     /**< the default: CRC-32 (zlib's) of the 12 header bytes */
#define ROCHE_FORMAT_ROCHEFORT 1 /**< rochefort v0.5's: the upper 32 bits of MetroHash64
                                      (seed 0) of the 12 header bytes */

/** Choose the check every record header carries, for a store that a
 *  rochefort v0.5 server shares (a mixed fleet during a migration), with
 *  no `roche import --from-rochefort`.
 *
 *  ROCHE_FORMAT_ROCHEFORT: every header this handle writes carries
 *  rochefort's check and every header it checks must carry it; an append
 *  with an id goes to bucket (MetroHash64(id, 0) >> 32) % buckets, the
 *  bucket rochefort v0.5 puts that id in (an append without an id still
 *  goes to the thread's own bucket). Everything else is as in the default
 *  format: offsets, the companion files append.<n>.idx (so every value is
 *  still checked against its XXH3 checksum, and readers still learn the
 *  end from the live count), recovery, follow, cursors, retention.
 *  rochefort v0.5 opens only the files append.<n>.raw for n below its
 *  -buckets and ignores every other file in a namespace directory, and it
 *  takes a file's size at open for the end of its records.
 *
 *  What a mixed fleet may do, as tested (tests/test_compat.c):
 *    - Alternate: a rochefort process and a libroche writer in this format
 *      may take turns on one root, never at the same time (rochefort takes
 *      no lock and would not see libroche's lock). Stop one (rochefort
 *      with SIGTERM; libroche with roche_close(), which trims each bucket
 *      file to its last record) before starting the other.
 *    - Records rochefort appends after roche_close() are picked up by the
 *      next writable open in this format, bucket by bucket: the close
 *      marks each companion with the end it trimmed the file to, and the
 *      records after that end are indexed from their headers (as a bucket
 *      with no companion is; their values had no checksum before). A
 *      read-only handle sees them only once a writer has indexed them.
 *    - After a libroche writer in this format dies without roche_close()
 *      (kill -9, a crash), open the store for writing with libroche once
 *      (and close it) before rochefort runs again: until then the bucket
 *      files end in zeroed space reserved ahead, which rochefort would
 *      take for records' room and append after. (Whatever rochefort
 *      appended there anyway is not lost: recovery saves it aside into
 *      append.<n>.raw.cut-<position>.)
 *    - Give both the same bucket count (rochefort's -buckets, and
 *      roche_options_set_buckets() here for new namespaces), so an id
 *      lands in the same bucket under both and rochefort opens every
 *      bucket file.
 *    - Retention (roche_retain()) frees the oldest records as holes that
 *      read as zeros: rochefort's scan of such a bucket stops at once
 *      (its gets of the records kept still work). Leave retention off
 *      while rochefort may still scan.
 *
 *  The wrong format is refused, never "repaired": a writable or read-only
 *  open of a namespace whose bucket files begin with a header that fails
 *  this format's check but passes the other's fails with ROCHE_ECORRUPT
 *  (roche_last_error() names the file, this option and `roche import`),
 *  before any file of the namespace is created, cut, moved aside or
 *  changed. Every call that opens that namespace fails so; other
 *  namespaces are not affected. A namespace whose bucket files hold no
 *  record yet has no format to tell: it takes its first writer's.
 *  `roche import --from-rochefort` converts a store this option was used
 *  on to the default format (it checks every record first).
 *
 *  Threads and processes: the format is the handle's, fixed at
 *  roche_open(); it is not recorded in the store. Every handle on a root,
 *  writer and readers, in any process, must use the format of its
 *  headers; a handle in the other one is refused as above.
 *  @param format  ROCHE_FORMAT_ROCHE or ROCHE_FORMAT_ROCHEFORT
 *  @return ROCHE_OK, or ROCHE_EINVAL for NULL opts or an unknown format. */
ROCHE_API int roche_options_set_format(roche_options *opts, int format);

/* ------------------------------------------------------------------------
 * Store
 * ------------------------------------------------------------------------ */

/** Open the store at directory root.
 *  Read-write: creates root (and missing parents) if needed and takes the
 *  store's writer lock. Read-only: root must exist. A relative root is
 *  made absolute here, so a later chdir() does not move the store; the
 *  root directory must not be renamed or moved while the handle is open
 *  (files are opened by path, on first use).
 *  Namespaces are opened, and recovered, on first use.
 *  @param root  directory path; not NULL, not empty
 *  @param opts  options, or NULL for the defaults
 *  @param out   receives the handle; set to NULL on failure
 *  @return ROCHE_OK; ROCHE_EINVAL (NULL/empty arguments); ROCHE_ELOCKED
 *          (another handle, in this or another process, writes to root);
 *          ROCHE_ENOTFOUND (read-only and root does not exist); ROCHE_EIO
 *          (root is not a directory, permission denied, ...); ROCHE_ENOMEM. */
ROCHE_API int roche_open(const char *root, const roche_options *opts, roche_db **out);

/** Close the store: trim every bucket file to its last record, unmap and
 *  close the files, release the lock, free the handle. Outstanding
 *  roche_scan iterators must be freed first. NULL is a no-op.
 *  @return ROCHE_OK, or ROCHE_EIO if a file could not be trimmed (the
 *          handle is freed all the same; the next open recovers) or its
 *          namespace directory had been removed (see GUARANTEES). */
ROCHE_API int roche_close(roche_db *db);

/* ------------------------------------------------------------------------
 * Writing
 *
 * Namespaces: ns NULL or "" means "default". A name must be 1..255 bytes,
 * not "." or "..", contain no '/', and not start with '.' (reserved);
 * others get ROCHE_EINVAL and nothing is created or read outside root.
 *
 * Buckets: with an id, the bucket is crc32(id) % buckets (under
 * ROCHE_FORMAT_ROCHEFORT, rochefort's (MetroHash64(id, 0) >> 32) %
 * buckets), so one id's records stay in one file, in order (as long as the
 * bucket count is not changed). Without an id (NULL), each thread gets its own bucket, round
 * robin in order of first use, so concurrent writers do not contend.
 * ------------------------------------------------------------------------ */

/** Append one value and return its offset.
 *  @param ns      namespace (see above)
 *  @param id      NUL-terminated id choosing the bucket, or NULL
 *  @param data    the value; may be NULL when len is 0
 *  @param len     value length, at most ROCHE_MAX_VALUE; 0 is valid
 *  @param offset  receives the record's offset; may be NULL
 *  @return ROCHE_OK; ROCHE_EINVAL; ROCHE_ETOOBIG; ROCHE_EREADONLY;
 *          ROCHE_EIO (no space, file size limit, ...); ROCHE_ENOMEM;
 *          ROCHE_ECORRUPT (the namespace's headers carry the other
 *          format's check: roche_options_set_format(); nothing written). */
ROCHE_API int roche_append(roche_db *db, const char *ns, const char *id,
                           const void *data, size_t len, uint64_t *offset);

/** Append count values in one call; all go to one bucket, one after the
 *  other, and offsets[i] receives the offset of value i.
 *  The values lie back to back in data: value i is lens[i] bytes long and
 *  starts where value i-1 ends. Every length is checked before anything is
 *  written. A process crash during the call may keep a prefix of the batch.
 *  @param offsets  receives count offsets; may be NULL
 *  @return as roche_append(); ROCHE_OK for count 0. */
ROCHE_API int roche_append_many(roche_db *db, const char *ns, const char *id,
                                const void *data, const size_t *lens, size_t count,
                                uint64_t *offsets);

/** fsync one namespace: every bucket file's records and companion entries
 *  reach the disk, then a checkpoint of them, then the directory entries
 *  of files created since the last sync. Every append that returned before
 *  the call started (on any thread) is covered.
 *  @return ROCHE_OK; ROCHE_EINVAL; ROCHE_EREADONLY; ROCHE_EIO. A namespace
 *          that has never been written to is ROCHE_OK (nothing to do). */
ROCHE_API int roche_sync_namespace(roche_db *db, const char *ns);

/** fsync every namespace this handle has open (as roche_sync_namespace()),
 *  and the root directory when namespaces were created since the last
 *  sync. When it returns ROCHE_OK, every append that returned before it
 *  started survives a machine crash.
 *  @return ROCHE_OK; ROCHE_EINVAL; ROCHE_EREADONLY; ROCHE_EIO. */
ROCHE_API int roche_sync(roche_db *db);

/* ------------------------------------------------------------------------
 * Reading
 * ------------------------------------------------------------------------ */

/** Read the value of the record at offset.
 *  @param data  receives a copy, released with roche_free() (a valid
 *               pointer even for an empty value)
 *  @param len   receives the value's length
 *  @return ROCHE_OK; ROCHE_EINVAL (NULL arguments, bad name);
 *          ROCHE_ENOTFOUND (no such namespace, a bucket that has no file,
 *          an offset at or past the end); ROCHE_ECORRUPT (no record starts
 *          there, as for an offset into the middle of a record, or the
 *          record fails its checksum: damaged on disk, or a page the disk
 *          never got); ROCHE_ENOMEM; ROCHE_EIO. */
ROCHE_API int roche_get(roche_db *db, const char *ns, uint64_t offset,
                        void **data, size_t *len);

/** Read the value of the record at offset without copying it: *data
 *  points at the value in the store's own mapping, checked against its
 *  checksum, and stays valid and unchanged until roche_view_release(),
 *  whatever happens meanwhile: appends, roche_close_namespace(),
 *  roche_delete_namespace(), even roche_close() (the view pins the
 *  namespace's mappings; release it before or after the close). A
 *  read-only handle reads with pread() and has no mapping to point into:
 *  there the view holds a copy, with the same lifetime.
 *  @param view  receives the pin; release it with roche_view_release()
 *  @param data  receives the value (a valid pointer even for an empty one)
 *  @param len   receives its length
 *  @return as roche_get(); on failure *view, *data are NULL and *len 0. */
ROCHE_API int roche_get_view(roche_db *db, const char *ns, uint64_t offset, roche_view **view,
                             const void **data, size_t *len);

/** Release a view from roche_get_view(). NULL is a no-op. */
ROCHE_API void roche_view_release(roche_view *view);

/** Read the value of the record at offset into the caller's buffer, in one
 *  call: for bindings that keep a buffer of their own and reuse it. The
 *  record is found and checked as by roche_get(); the value is checked
 *  against its checksum before a byte of it reaches buf, so on any failure
 *  buf is left untouched.
 *  @param buf  receives the value; may be NULL when cap is 0 (a size query)
 *  @param cap  bytes buf holds
 *  @param len  receives the value's length (0 for an empty value)
 *  @return ROCHE_OK (the value is in buf, *len its length);
 *          ROCHE_ETOOBIG (cap is smaller than the value: nothing is copied
 *          and *len receives the value's length; retry with a buffer of
 *          *len bytes. The length comes from the record's checked header;
 *          the value itself is checked by the call that copies it, so that
 *          retry may still find it damaged); ROCHE_EINVAL (NULL db or len,
 *          NULL buf with cap above 0, bad name); ROCHE_ENOTFOUND (no such
 *          namespace, a bucket that has no file, an offset at or past the
 *          end); ROCHE_ECORRUPT (no record starts there, or the record
 *          fails its checksum); ROCHE_EDROPPED (dropped by retention);
 *          ROCHE_ENOMEM; ROCHE_EIO. On every failure but ROCHE_ETOOBIG,
 *          *len is 0. Threads and processes: as roche_get(). */
ROCHE_API int roche_get_into(roche_db *db, const char *ns, uint64_t offset, void *buf,
                             size_t cap, size_t *len);

/** Read the values at count offsets in one call.
 *  The result holds one item per offset, in request order (duplicates
 *  allowed), each with its own status: one bad offset does not fail the
 *  others. The whole result is one allocation, released by
 *  roche_values_free().
 *  @return ROCHE_OK even when items failed; ROCHE_EINVAL (NULL arguments,
 *          bad name); ROCHE_ENOMEM. A missing namespace makes every item
 *          ROCHE_ENOTFOUND. */
ROCHE_API int roche_multiget(roche_db *db, const char *ns, const uint64_t *offsets,
                             size_t count, roche_values **out);

/** Number of items in a multiget result (0 for NULL). */
ROCHE_API size_t roche_values_count(const roche_values *values);

/** Item i of a multiget result: its status (ROCHE_OK or the code a
 *  roche_get() of that offset would return), and on success its value,
 *  valid until roche_values_free(). Out of range i gives ROCHE_EINVAL.
 *  data and len may be NULL. */
ROCHE_API int roche_values_item(const roche_values *values, size_t i,
                                const void **data, size_t *len);

/** Bulk view for bindings: all values back to back, in request order
 *  (failed items take no bytes); with lengths and statuses below, one read
 *  of each array recovers every item. *size receives the total length. */
ROCHE_API const void *roche_values_buffer(const roche_values *values, size_t *size);

/** Bulk view: count lengths (0 for failed items). */
ROCHE_API const uint64_t *roche_values_lengths(const roche_values *values);

/** Bulk view: count statuses (ROCHE_OK or a negative code). */
ROCHE_API const int32_t *roche_values_statuses(const roche_values *values);

/** Free a multiget result. NULL is a no-op. */
ROCHE_API void roche_values_free(roche_values *values);

/* ------------------------------------------------------------------------
 * Scanning
 * ------------------------------------------------------------------------ */

/** Start a scan of a namespace: every record, in increasing offset order
 *  (bucket 0 first, each bucket in file order), whose offset is >= from.
 *  Pass 0 to scan everything, or the offset after the last one seen
 *  (last + 1) to resume; finding where to start is a search of the
 *  companion, not a walk. A scan sees the records that existed when it
 *  reached each bucket, so it ends even while appends go on; a missing
 *  namespace scans as empty.
 *  Free the iterator before roche_close() (one left over then only
 *  returns ROCHE_ENOTFOUND, and keeps its namespace's files open).
 *  @return ROCHE_OK; ROCHE_EINVAL; ROCHE_ENOMEM; ROCHE_EIO;
 *          ROCHE_ECORRUPT (the namespace's headers carry the other
 *          format's check: roche_options_set_format()). */
ROCHE_API int roche_scan_open(roche_db *db, const char *ns, uint64_t from,
                              roche_scan **out);

/** Step a scan. On ROCHE_OK, *offset, *data, *len and *time_ns describe the
 *  next record; *data stays valid until the next call on this iterator or
 *  roche_scan_free(). Any output pointer may be NULL.
 *  Damage: a record that fails its checksum is ROCHE_ECORRUPT, with
 *  *offset set to it (*data NULL, *len 0); the next call goes on with the
 *  record after it, which the companion locates exactly. In a bucket with
 *  no companion (read-only, rochefort's own format) the scan of that
 *  bucket ends at the first header that fails instead.
 *  @return ROCHE_OK; ROCHE_DONE at the end; ROCHE_ECORRUPT; ROCHE_EINVAL;
 *          ROCHE_EIO; ROCHE_ENOMEM. */
ROCHE_API int roche_scan_next(roche_scan *scan, uint64_t *offset, const void **data,
                              size_t *len, uint64_t *time_ns);

/** Step a scan by up to max records in one call: the cheap way through a
 *  namespace (one lock and one call for the batch, not for each record).
 *  Record i of the batch is offsets[i], data[i], lens[i], times_ns[i]; any
 *  of the four arrays may be NULL, the others hold at least max items.
 *  data[i] stays valid until the next call on this iterator or
 *  roche_scan_free().
 *  A damaged record is never inside a batch: it ends the batch before it,
 *  and the next call returns ROCHE_ECORRUPT with *count 1 and offsets[0]
 *  set to it (as roche_scan_next() does); the call after goes on past it.
 *  @return ROCHE_OK with *count >= 1 (0 only for max 0); ROCHE_DONE with
 *          *count 0 at the end; ROCHE_ECORRUPT; ROCHE_EINVAL (NULL scan or
 *          count); ROCHE_EIO; ROCHE_ENOMEM. */
ROCHE_API int roche_scan_next_batch(roche_scan *scan, size_t max, uint64_t *offsets,
                                    const void **data, size_t *lens, uint64_t *times_ns,
                                    size_t *count);

/** Free a scan iterator. NULL is a no-op. */
ROCHE_API void roche_scan_free(roche_scan *scan);

/* ------------------------------------------------------------------------
 * Following a namespace (tail), consumer cursors, retention
 *
 * These make a namespace a log, as a Kafka topic or a Chronicle Queue is:
 * a follower reads records as they are appended, from this process or
 * another; a cursor remembers where a named consumer stopped; retention
 * drops the oldest records and gives their disk space back.
 *
 * Positions. A follower reads every bucket of the namespace, each in
 * offset order, once each, with no gaps, including buckets created after
 * it started. Its position is one offset per bucket: where it goes on in
 * that bucket (the offset after the last record it returned, last + 1).
 * Records of different buckets are not ordered with respect to each other
 * (as Kafka's partitions are not). A follower restarted from its position
 * (roche_follow_position(), or a cursor) misses nothing and sees nothing
 * twice.
 * ------------------------------------------------------------------------ */

/** Flags of roche_follow_open(). */
#define ROCHE_FOLLOW_FROM_END 1 /**< buckets with no position given start at their end now,
                                     not at their first record */

/** Start following a namespace.
 *  @param from   positions to start at, one offset per bucket (the bucket
 *                is the offset's own; later entries for a bucket win), or
 *                NULL; a bucket not named starts at its first record kept
 *                (or at its end now, with ROCHE_FOLLOW_FROM_END; buckets
 *                made later start at their first record). A position below
 *                the bucket's first record kept (retention dropped it) is
 *                reported: the first call returns ROCHE_EDROPPED for it.
 *  @param count  entries in from
 *  @param flags  0 or ROCHE_FOLLOW_FROM_END
 *  @param out    receives the follower; free it with roche_follow_free()
 *                before roche_close()
 *  A writable handle creates the namespace when it does not exist yet, so
 *  a follower may start before the first append; a read-only handle gets
 *  ROCHE_ENOTFOUND then. The follower outlives closes of its namespace
 *  (roche_close_namespace(), the bound on open files): it opens it again.
 *  @return ROCHE_OK; ROCHE_EINVAL (NULL db or out, bad name, unknown
 *          flags); ROCHE_ENOTFOUND; ROCHE_ENOMEM; ROCHE_EIO. */
ROCHE_API int roche_follow_open(roche_db *db, const char *ns, const uint64_t *from, size_t count,
                                int flags, roche_follow **out);

/** Start following a namespace from the position a cursor holds
 *  (roche_cursor_commit()); a cursor that does not exist starts as
 *  roche_follow_open() with no positions and the same flags.
 *  @return as roche_follow_open(); ROCHE_EINVAL for a bad cursor name;
 *          ROCHE_ECORRUPT for a cursor file that fails its checks. */
ROCHE_API int roche_follow_open_cursor(roche_db *db, const char *ns, const char *cursor, int flags,
                                       roche_follow **out);

/** Return the next record, waiting for one when every bucket is at its
 *  end. On ROCHE_OK, *offset, *data, *len, *time_ns describe it (any may
 *  be NULL); *data stays valid until the next call on this follower or
 *  roche_follow_free(). The wait is a futex on a word the writer rings
 *  after each append, in a small file beside the buckets (<ns>/doorbell),
 *  so a follower in another process wakes within microseconds and an idle
 *  one uses no CPU. The writer makes that file when it opens the
 *  namespace; a read-only follower makes it if it is missing (a namespace
 *  no writer of this version has opened), and gets ROCHE_EIO if it may
 *  not.
 *  @param timeout_ms  how long to wait: 0 returns at once, -1 waits until
 *                     a record comes or roche_follow_wake()
 *  @return ROCHE_OK; ROCHE_ETIMEDOUT (nothing new in time); ROCHE_ECANCELED
 *          (roche_follow_wake() was called: once per wake); ROCHE_ECORRUPT
 *          (a damaged record, *offset set; the next call goes on past it);
 *          ROCHE_EDROPPED (retention dropped records this follower had not
 *          read yet: *offset is where it was in that bucket; the next call
 *          goes on from the bucket's first record kept); ROCHE_ENOTFOUND
 *          (the namespace was deleted: by this handle, or by the writer
 *          of a read-only handle);
 *          ROCHE_EINVAL; ROCHE_EIO; ROCHE_ENOMEM. */
ROCHE_API int roche_follow_next(roche_follow *follow, int timeout_ms, uint64_t *offset,
                                const void **data, size_t *len, uint64_t *time_ns);

/** Up to max records in one call, as roche_scan_next_batch() (the same
 *  arrays and lifetimes); waits as roche_follow_next() when there is
 *  nothing to return, and returns what there is without waiting for more.
 *  @return ROCHE_OK with *count >= 1; otherwise *count is 0, or 1 for
 *          ROCHE_ECORRUPT and ROCHE_EDROPPED (offsets[0] set), and the
 *          codes of roche_follow_next(). */
ROCHE_API int roche_follow_next_batch(roche_follow *follow, int timeout_ms, size_t max,
                                      uint64_t *offsets, const void **data, size_t *lens,
                                      uint64_t *times_ns, size_t *count);

/** Wake a follower: the roche_follow_next() waiting on it returns
 *  ROCHE_ECANCELED now, or the next one does at once if none is waiting.
 *  The one call on a follower that may come from any thread (not from a
 *  signal handler: it takes a mutex), as long as the follower is not
 *  being freed. Other followers of the namespace wake too, find nothing
 *  new and sleep again.
 *  @return ROCHE_OK; ROCHE_EINVAL for NULL. */
ROCHE_API int roche_follow_wake(roche_follow *follow);

/** The follower's position: for each bucket 0..n-1 of the namespace as
 *  the follower knows it, the offset it goes on from. Call it on the
 *  follower's own thread (between its calls). Writes
 *  min(n, capacity) offsets and sets *count to n, so a first call with
 *  capacity 0 asks for the size.
 *  @return ROCHE_OK; ROCHE_EINVAL (NULL follow or count, or NULL offsets
 *          with capacity > 0). */
ROCHE_API int roche_follow_position(const roche_follow *follow, uint64_t *offsets,
                                    size_t capacity, size_t *count);

/** Commit the follower's position to a cursor (roche_cursor_commit()).
 *  @return as roche_cursor_commit(). */
ROCHE_API int roche_follow_commit(roche_follow *follow, const char *cursor);

/** Free a follower. NULL is a no-op. Not while another thread is inside a
 *  call on it. */
ROCHE_API void roche_follow_free(roche_follow *follow);

/* Cursors: a named position in a namespace (one offset per bucket), kept
 * in <ns>/cursor.<name>. Names follow the rules for namespaces, up to 200
 * bytes. A commit writes one of two slots, each in its own 4 KiB block
 * with a generation and an XXH3 check, alternately, as the companion's
 * checkpoints are written: a crash (kill -9 or power loss) leaves the old
 * position or the new one, never a torn one. A commit is on the disk
 * when it returns under ROCHE_SYNC_ALWAYS, and otherwise after the next
 * roche_sync() (or group commit) of the handle that committed it. Cursors
 * are consumer state, so read-only handles may commit and delete them too
 * (they write only cursor files); commits from several processes are
 * serialized by an flock() on the cursor file. */

/** Commit a position to a cursor, creating it.
 *  @param offsets  one offset per bucket (as roche_follow_position()
 *                  gives), at most ROCHE_MAX_BUCKETS of them
 *  @return ROCHE_OK; ROCHE_EINVAL (NULL arguments, bad names, more than
 *          ROCHE_MAX_BUCKETS offsets); ROCHE_ENOTFOUND (no such
 *          namespace); ROCHE_EIO. */
ROCHE_API int roche_cursor_commit(roche_db *db, const char *ns, const char *name,
                                  const uint64_t *offsets, size_t count);

/** Read a cursor: *offsets receives count offsets, released with
 *  roche_free() (non-NULL even for 0).
 *  @return ROCHE_OK; ROCHE_ENOTFOUND (no such cursor or namespace);
 *          ROCHE_ECORRUPT (neither slot passes its checks); ROCHE_EINVAL;
 *          ROCHE_EIO; ROCHE_ENOMEM. */
ROCHE_API int roche_cursor_get(roche_db *db, const char *ns, const char *name,
                               uint64_t **offsets, size_t *count);

/** List a namespace's cursors, as roche_namespaces() lists namespaces
 *  ("a\0b\0", sorted, released with roche_free()).
 *  @return ROCHE_OK; ROCHE_ENOTFOUND (no such namespace); ROCHE_EINVAL;
 *          ROCHE_EIO; ROCHE_ENOMEM. */
ROCHE_API int roche_cursor_list(roche_db *db, const char *ns, char **names, size_t *count);

/** Delete a cursor.
 *  @return ROCHE_OK; ROCHE_ENOTFOUND (no such cursor); ROCHE_EINVAL;
 *          ROCHE_EIO. */
ROCHE_API int roche_cursor_delete(roche_db *db, const char *ns, const char *name);

/* Retention drops the oldest records of each bucket and frees their disk
 * space in place, with fallocate(FALLOC_FL_PUNCH_HOLE): offsets of the
 * records kept do not change, and `du` drops by what was freed (in whole
 * 4 KiB blocks: the block holding the first record kept stays). A get of
 * a dropped offset is ROCHE_EDROPPED; scans start at the first record
 * kept; a follower that had not read them yet gets ROCHE_EDROPPED once.
 * What a bucket drops is a prefix: its records up to the first one that
 * is young enough. Record times are wall-clock times of the appends, so
 * within a bucket they rise unless the clock stepped back; where it did,
 * the prefix ends at a record the search found young enough.
 * Crash safety: the first record kept is made durable (a checkpoint of
 * the bucket, after syncing it) before any block is freed, so a crash
 * during a pass leaves every record not yet dropped intact.
 * Values handed out in place by this handle (roche_get_view(), a scan's
 * or a follower's *data on a writable handle) read as zeros once
 * retention frees their block: copy what you keep while retention runs. */

/** Drop, in every bucket of a namespace, the records older than
 *  older_than_ns (a time in ns since the epoch; 0: no age limit) and then,
 *  oldest first across buckets, as many more as needed for the records
 *  kept to total at most max_bytes (headers included; 0: no size limit).
 *  @param freed  receives the bytes of records dropped by this call; may
 *                be NULL
 *  @return ROCHE_OK (also when nothing was old enough); ROCHE_ENOTSUP
 *          (the file system cannot punch holes: nothing is dropped);
 *          ROCHE_EREADONLY; ROCHE_ENOTFOUND (no such namespace);
 *          ROCHE_EINVAL; ROCHE_EIO. */
ROCHE_API int roche_retain(roche_db *db, const char *ns, uint64_t older_than_ns, uint64_t max_bytes,
                           uint64_t *freed);

/** Retention as an open option: the writer applies roche_retain() to every
 *  namespace it has open, about once a second, with older_than_ns = now -
 *  max_age_ms and max_bytes per namespace. 0 turns a limit off.
 *  @return ROCHE_OK, or ROCHE_EINVAL for NULL opts. */
ROCHE_API int roche_options_set_retention(roche_options *opts, uint64_t max_age_ms, uint64_t max_bytes);

/** The records a bucket holds now: *first is the offset of its first
 *  record kept, *end the offset where its next record will go (equal when
 *  it holds none). A bucket with no file has both at its offset 0.
 *  @return ROCHE_OK; ROCHE_EINVAL (NULL, bad name, bucket >=
 *          ROCHE_MAX_BUCKETS); ROCHE_ENOTFOUND (no such namespace);
 *          ROCHE_EIO. */
ROCHE_API int roche_bucket_range(roche_db *db, const char *ns, uint32_t bucket, uint64_t *first,
                                 uint64_t *end);

/* ------------------------------------------------------------------------
 * Namespaces and statistics
 * ------------------------------------------------------------------------ */

/** List the namespaces under root: *names receives count NUL-terminated
 *  names back to back ("a\0b\0"), released with roche_free(); sorted.
 *  @return ROCHE_OK; ROCHE_EINVAL; ROCHE_ENOMEM; ROCHE_EIO. */
ROCHE_API int roche_namespaces(roche_db *db, char **names, size_t *count);

/** Close one namespace, as rochefort's close does: its files are trimmed,
 *  unmapped and closed (once no scan iterator holds them), so its
 *  directory can be removed. The next call that uses the namespace opens
 *  it again; an iterator over it returns ROCHE_ENOTFOUND.
 *  @return ROCHE_OK; ROCHE_EINVAL; ROCHE_ENOTFOUND (not open in this
 *          handle); ROCHE_EIO. */
ROCHE_API int roche_close_namespace(roche_db *db, const char *ns);

/** Close a namespace and delete its directory with every bucket file.
 *  Offsets into it become ROCHE_ENOTFOUND, in this handle and in read-only
 *  handles of any process (its companions are marked deleted first).
 *  @return ROCHE_OK; ROCHE_EINVAL; ROCHE_EREADONLY; ROCHE_ENOTFOUND (no
 *          such namespace); ROCHE_EIO. */
ROCHE_API int roche_delete_namespace(roche_db *db, const char *ns);

/** Statistics of one namespace, filled by roche_stat(). Fields are only
 *  ever appended; set version to ROCHE_STAT_VERSION before the call. */
#define ROCHE_STAT_VERSION 2
typedef struct roche_stat_info {
    uint32_t version;         /**< in: ROCHE_STAT_VERSION */
    uint32_t buckets;         /**< bucket files in the namespace */
    uint64_t records;         /**< records that pass their checks */
    uint64_t bytes;           /**< their bytes, headers included */
    uint64_t oldest_ns;       /**< smallest record time (0 when empty) */
    uint64_t newest_ns;       /**< largest record time (0 when empty) */
    uint64_t damaged_ranges;  /**< records that fail their checks */
    uint64_t damaged_bytes;   /**< their total length */
    uint64_t recovered_bytes; /**< written bytes past the last good record,
                                   cut by recovery at open */
    /* version 2 */
    uint64_t dropped_records; /**< records dropped by retention */
    uint64_t dropped_bytes;   /**< their bytes, headers included */
} roche_stat_info;

/** Walk a namespace, checking every record, and fill *info. Reads every
 *  record (as roche_scan does): time proportional to the data.
 *  @return ROCHE_OK; ROCHE_EINVAL (NULL, bad name, unknown version);
 *          ROCHE_ENOTFOUND (no such namespace); ROCHE_EIO; ROCHE_ENOMEM;
 *          ROCHE_ECORRUPT (the namespace's headers carry the other
 *          format's check: roche_options_set_format()). */
ROCHE_API int roche_stat(roche_db *db, const char *ns, roche_stat_info *info);

#ifdef __cplusplus
}
#endif

#endif /* ROCHE_H */
