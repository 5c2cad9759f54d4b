/* roche_options_set_format(ROCHE_FORMAT_ROCHEFORT): a store in rochefort
 * v0.5's header format, read and appended in place, shared with rochefort
 * during a migration.
 *
 * rochefort's side is played by the data directory rochefort v0.5 itself
 * wrote (cli/tests/fixtures/rochefort-v0.5), by cli/tests/rochefort_writer
 * (ROCHEFORT_WRITER), and by rochefort_sim.cc, which opens, appends, reads
 * and scans as v0.5's main.go does. Covered: the API round trip, rochefort's
 * placement of ids, files each side wrote read by the other, rochefort's
 * appends after libroche's close picked up, a kill -9 mid-append, and the
 * wrong format refused both ways with every file left as it was. */
#include "test_util.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "rochefort_sim.h"

#define HDR 16
#define MASK ((UINT64_C(1) << 50) - 1)

/* Opens root in a format; no cmocka assertion, so a forked child may call
 * it (and _exit on failure). */
static int try_open_format(const char *root, int format, uint32_t buckets, int read_only, roche_db **db) {
    roche_options *opts = roche_options_new();
    if (!opts) return ROCHE_ENOMEM;
    int rc = roche_options_set_format(opts, format);
    if (rc == ROCHE_OK && buckets) rc = roche_options_set_buckets(opts, buckets);
    if (rc == ROCHE_OK) rc = roche_options_set_read_only(opts, read_only);
    if (rc == ROCHE_OK) rc = roche_open(root, opts, db);
    roche_options_free(opts);
    return rc;
}

static roche_db *open_format(const char *root, int format, uint32_t buckets, int read_only) {
    roche_db *db = NULL;
    assert_roche_ok(try_open_format(root, format, buckets, read_only, &db));
    return db;
}

static roche_db *open_compat(const char *root, uint32_t buckets) {
    return open_format(root, ROCHE_FORMAT_ROCHEFORT, buckets, 0);
}

static char *ns_dir(const char *root, const char *ns) {
    char *p = malloc(strlen(root) + strlen(ns) + 2);
    assert_non_null(p);
    sprintf(p, "%s/%s", root, ns);
    return p;
}

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Every file under dir with its sha256, sorted: two snapshots compare equal
 * when no file was made, removed or changed. */
static char *snapshot(const char *dir) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cd '%s' && find . -type f | LC_ALL=C sort | xargs -r sha256sum", dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1 << 16, len = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    size_t got;
    while ((got = fread(text + len, 1, cap - len - 1, p)) > 0) {
        len += got;
        if (len + 1 == cap) text = realloc(text, cap *= 2);
    }
    text[len] = '\0';
    assert_int_equal(pclose(p), 0);
    return text;
}

static void copy_fixture(const char *to) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cp -r '%s/data/.' '%s/'", ROCHE_FIXTURE_DIR, to);
    assert_int_equal(system(cmd), 0);
}

/* The fixture's manifest: per record, namespace, offset, length, value file. */
struct fixture_record {
    char ns[32];
    uint64_t offset;
    size_t len;
    char file[16];
};

static size_t read_manifest(struct fixture_record *out, size_t max) {
    FILE *f = fopen(ROCHE_FIXTURE_DIR "/manifest.tsv", "r");
    assert_non_null(f);
    char line[256];
    size_t n = 0;
    while (n < max && fgets(line, sizeof line, f)) {
        if (line[0] == '#') continue;
        unsigned long long off;
        size_t len;
        assert_int_equal(sscanf(line, "%31s %llu %zu %15s", out[n].ns, &off, &len, out[n].file), 4);
        out[n].offset = off;
        out[n].len = len;
        n++;
    }
    fclose(f);
    return n;
}

static void *fixture_value(const char *file, size_t *len) {
    char path[512];
    snprintf(path, sizeof path, "%s/values/%s", ROCHE_FIXTURE_DIR, file);
    return read_file(path, len);
}

/* What rochefort's scan of a namespace finds, collected. */
struct seen {
    size_t n;
    uint64_t offsets[4096];
    char values[4096][48];
};

static void collect(uint64_t offset, const void *data, uint32_t len, void *ctx) {
    struct seen *s = ctx;
    if (s->n >= 4096) return;
    s->offsets[s->n] = offset;
    size_t keep = len < 47 ? len : 47;
    if (keep) memcpy(s->values[s->n], data, keep);
    s->values[s->n][keep] = '\0';
    s->n++;
}

/* True when rochefort's scan found offset holding value. */
static int seen_has(const struct seen *s, uint64_t offset, const char *value) {
    for (size_t i = 0; i < s->n; i++)
        if (s->offsets[i] == offset) return strcmp(s->values[i], value) == 0;
    return 0;
}

/* Every record header in a bucket file, walked from 0 to its end, carries
 * rochefort's check; returns how many there are. */
static size_t assert_rochefort_headers(const char *path) {
    size_t len;
    uint8_t *p = read_file(path, &len);
    size_t pos = 0, n = 0;
    while (pos < len) {
        assert_true(pos + HDR <= len);
        assert_int_equal(le32(p + pos + 12), rf_check(p + pos));
        assert_int_not_equal(le32(p + pos + 12), (uint32_t)crc32(0L, p + pos, 12));
        pos += HDR + le32(p + pos);
        n++;
    }
    assert_int_equal(pos, len);
    free(p);
    return n;
}

static void test_option_arguments(void **state) {
    (void)state;
    roche_options *opts = roche_options_new();
    assert_non_null(opts);
    assert_roche_code(roche_options_set_format(NULL, ROCHE_FORMAT_ROCHEFORT), ROCHE_EINVAL);
    assert_roche_code(roche_options_set_format(opts, 2), ROCHE_EINVAL);
    assert_non_null(strstr(roche_last_error(), "ROCHE_FORMAT_ROCHEFORT"));
    assert_roche_code(roche_options_set_format(opts, -1), ROCHE_EINVAL);
    assert_roche_ok(roche_options_set_format(opts, ROCHE_FORMAT_ROCHE));
    assert_roche_ok(roche_options_set_format(opts, ROCHE_FORMAT_ROCHEFORT));
    roche_options_free(opts);
}

/* Every call of the API in the format, and the files rochefort's way of
 * reading sees afterwards. */
static void test_round_trip(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *db = open_compat(dir, 8);
    const char *ids[] = {"a", "b", "c", "big", "z", "user-42", "order-7", "x"};
    uint64_t offs[8];
    char value[8][32];
    for (int i = 0; i < 8; i++) {
        snprintf(value[i], sizeof value[i], "value of %s", ids[i]);
        assert_roche_ok(roche_append(db, "events", ids[i], value[i], strlen(value[i]), &offs[i]));
        /* rochefort's placement, not CRC-32's */
        assert_int_equal(offs[i] >> 50, rf_id_bucket(ids[i], 8));
    }
    /* The fixture's own placements (8 buckets): a, c, big in 3; b, z in 0. */
    assert_int_equal(offs[0] >> 50, 3);
    assert_int_equal(offs[1] >> 50, 0);
    assert_int_equal(offs[2] >> 50, 3);
    assert_int_equal(offs[3] >> 50, 3);
    assert_int_equal(offs[4] >> 50, 0);
    /* append_many with and without an id; an empty value; NUL bytes */
    const char batch[] = "one\0two\0three";
    size_t lens[3] = {3, 4, 6};
    uint64_t many[3], anon[3];
    assert_roche_ok(roche_append_many(db, "events", "a", batch, lens, 3, many));
    assert_int_equal(many[0] >> 50, 3);
    assert_roche_ok(roche_append_many(db, "events", NULL, batch, lens, 3, anon));
    uint64_t empty;
    assert_roche_ok(roche_append(db, "events", "b", "", 0, &empty));

    for (int i = 0; i < 8; i++) assert_value(db, "events", offs[i], value[i], strlen(value[i]));
    assert_value(db, "events", many[1], "\0two", 4);
    assert_value(db, "events", anon[2], "\0three", 6);
    assert_value(db, "events", empty, "", 0);
    char buf[64];
    size_t got;
    assert_roche_ok(roche_get_into(db, "events", offs[5], buf, sizeof buf, &got));
    assert_int_equal(got, strlen(value[5]));
    roche_view *view;
    const void *data;
    assert_roche_ok(roche_get_view(db, "events", offs[6], &view, &data, &got));
    assert_memory_equal(data, value[6], got);
    roche_view_release(view);
    roche_values *vals;
    uint64_t want[3] = {offs[3], many[2], offs[3] + 1};
    assert_roche_ok(roche_multiget(db, "events", want, 3, &vals));
    assert_roche_ok(roche_values_item(vals, 0, &data, &got));
    assert_memory_equal(data, value[3], got);
    assert_roche_ok(roche_values_item(vals, 1, &data, &got));
    assert_int_equal(got, 6);
    assert_int_equal(roche_values_item(vals, 2, NULL, NULL), ROCHE_ECORRUPT);
    roche_values_free(vals);

    /* scan and follow see all 15 records */
    roche_scan *scan;
    assert_roche_ok(roche_scan_open(db, "events", 0, &scan));
    int n = 0, rc;
    while ((rc = roche_scan_next(scan, NULL, NULL, NULL, NULL)) == ROCHE_OK) n++;
    assert_int_equal(rc, ROCHE_DONE);
    assert_int_equal(n, 15);
    roche_scan_free(scan);
    roche_follow *f;
    assert_roche_ok(roche_follow_open(db, "events", NULL, 0, 0, &f));
    n = 0;
    while ((rc = roche_follow_next(f, 0, NULL, NULL, NULL, NULL)) == ROCHE_OK) n++;
    assert_int_equal(rc, ROCHE_ETIMEDOUT);
    assert_int_equal(n, 15);
    roche_follow_free(f);
    roche_stat_info info = {.version = ROCHE_STAT_VERSION};
    assert_roche_ok(roche_stat(db, "events", &info));
    assert_int_equal(info.records, 15);
    assert_int_equal(info.damaged_ranges, 0);
    assert_roche_ok(roche_sync(db));
    assert_roche_ok(roche_close(db));

    /* On the disk: rochefort's headers, each file exactly its records, and
     * rochefort's reader finds every record where it was appended. */
    size_t headers = 0;
    for (uint32_t b = 0; b < 8; b++) {
        char *path = bucket_path(dir, "events", b);
        if (file_size(path) >= 0) headers += assert_rochefort_headers(path);
        free(path);
    }
    assert_int_equal(headers, 15);
    char *events = ns_dir(dir, "events");
    static struct seen seen;
    seen.n = 0;
    assert_int_equal(rf_scan(events, 8, collect, &seen), 15);
    for (int i = 0; i < 8; i++) assert_true(seen_has(&seen, offs[i], value[i]));
    void *rv;
    uint32_t rlen;
    assert_int_equal(rf_read(events, 8, many[0], &rv, &rlen), 0);
    assert_int_equal(rlen, 3);
    assert_memory_equal(rv, "one", 3);
    free(rv);

    /* A read-only handle in the format reads them too. */
    db = open_format(dir, ROCHE_FORMAT_ROCHEFORT, 0, 1);
    for (int i = 0; i < 8; i++) assert_value(db, "events", offs[i], value[i], strlen(value[i]));
    assert_roche_ok(roche_close(db));
    free(events);
    test_dir_free(dir);
}

/* The data directory rochefort v0.5 wrote opens in place: every offset it
 * answered reads its value, appends land where rochefort puts their ids,
 * and afterwards rochefort's reader finds the old records and the new. */
static void test_fixture_in_place(void **state) {
    (void)state;
    char *dir = test_dir_new();
    copy_fixture(dir);
    struct fixture_record recs[16];
    size_t n = read_manifest(recs, 16);
    assert_int_equal(n, 7);
    roche_db *db = open_compat(dir, 8);
    for (size_t i = 0; i < n; i++) {
        size_t len;
        void *want = fixture_value(recs[i].file, &len);
        assert_int_equal(len, recs[i].len);
        assert_value(db, recs[i].ns, recs[i].offset, want, len);
        free(want);
    }
    roche_stat_info info = {.version = ROCHE_STAT_VERSION};
    assert_roche_ok(roche_stat(db, "events", &info));
    assert_int_equal(info.records, 3);
    assert_int_equal(info.buckets, 8);
    assert_int_equal(info.damaged_ranges, 0);
    /* Same ids as the fixture's: the same buckets, after rochefort's records. */
    uint64_t a2, z2, big2;
    assert_roche_ok(roche_append(db, "default", "a", "a again", 7, &a2));
    assert_int_equal(a2, (UINT64_C(3) << 50) | (3377699720527935 & MASK) + HDR + 16);
    assert_roche_ok(roche_append(db, "events", "z", "z again", 7, &z2));
    assert_int_equal(z2, HDR + 1);
    assert_roche_ok(roche_append(db, "events", "big", "big again", 9, &big2));
    assert_int_equal(big2 >> 50, 3);
    assert_roche_ok(roche_close(db));

    char *def = ns_dir(dir, "default"), *events = ns_dir(dir, "events");
    static struct seen seen;
    seen.n = 0;
    assert_int_equal(rf_scan(def, 8, collect, &seen), 4 + 1);
    assert_true(seen_has(&seen, a2, "a again"));
    assert_true(seen_has(&seen, 3377699720527872, "hello, rochefort"));
    seen.n = 0;
    assert_int_equal(rf_scan(events, 8, collect, &seen), 3 + 2);
    assert_true(seen_has(&seen, z2, "z again"));
    assert_true(seen_has(&seen, big2, "big again"));
    /* rochefort's bytes are untouched: each file starts with them */
    for (uint32_t b = 0; b < 8; b++) {
        char orig[512];
        snprintf(orig, sizeof orig, "%s/data/events/append.%u.raw", ROCHE_FIXTURE_DIR, b);
        char *now = bucket_path(dir, "events", b);
        size_t olen, nlen;
        void *o = read_file(orig, &olen), *c = read_file(now, &nlen);
        assert_true(nlen >= olen);
        if (olen) assert_memory_equal(o, c, olen);
        free(o);
        free(c);
        free(now);
    }
    free(def);
    free(events);
    test_dir_free(dir);
}

/* Files cli/tests/rochefort_writer wrote (rochefort's format, every bucket
 * file made): read in place, appended to, and read back by rochefort's
 * reader. */
static void test_rochefort_writer_files(void **state) {
    (void)state;
    const char *writer = getenv("ROCHEFORT_WRITER");
    if (!writer || !*writer) skip();
    char *dir = test_dir_new();
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' '%s' events 4 200 --list > '%s/list'", writer, dir, dir);
    assert_int_equal(system(cmd), 0);
    char list[512];
    snprintf(list, sizeof list, "%s/list", dir);
    FILE *f = fopen(list, "r");
    assert_non_null(f);
    static uint64_t offs[200];
    static char vals[200][32];
    int n = 0;
    unsigned long long off;
    while (n < 200 && fscanf(f, "%llu\t%31s", &off, vals[n]) == 2) offs[n++] = off;
    fclose(f);
    assert_int_equal(n, 200);
    roche_db *db = open_compat(dir, 4);
    for (int i = 0; i < n; i++) assert_value(db, "events", offs[i], vals[i], strlen(vals[i]));
    uint64_t mine[4];
    for (int i = 0; i < 4; i++) {
        char v[16];
        snprintf(v, sizeof v, "roche-%d", i);
        assert_roche_ok(roche_append(db, "events", v, v, strlen(v), &mine[i]));
    }
    assert_roche_ok(roche_close(db));
    char *events = ns_dir(dir, "events");
    static struct seen seen;
    seen.n = 0;
    assert_int_equal(rf_scan(events, 4, collect, &seen), 204);
    for (int i = 0; i < n; i++) assert_true(seen_has(&seen, offs[i], vals[i]));
    for (int i = 0; i < 4; i++) {
        char v[16];
        snprintf(v, sizeof v, "roche-%d", i);
        assert_true(seen_has(&seen, mine[i], v));
    }
    free(events);
    test_dir_free(dir);
}

/* rochefort appends after libroche's close (to buckets libroche wrote, and
 * to one it never did): the next writable open indexes them, with their
 * checksums from then on; a read-only handle sees them once it has. Two
 * rounds, so the mark a close leaves works again after a reopen. */
static void test_rochefort_appends_after_close(void **state) {
    (void)state;
    char *dir = test_dir_new();
    char *events = ns_dir(dir, "events");
    static uint64_t offs[64];
    static char vals[64][32];
    int n = 0;
    for (int round = 0; round < 2; round++) {
        roche_db *db = open_compat(dir, 4);
        for (int i = 0; i < n; i++) assert_value(db, "events", offs[i], vals[i], strlen(vals[i]));
        for (int i = 0; i < 6; i++, n++) {
            snprintf(vals[n], sizeof vals[n], "roche-%d-%d", round, i);
            char id[8];
            snprintf(id, sizeof id, "r%d", i % 2);  /* two buckets only */
            assert_roche_ok(roche_append(db, "events", id, vals[n], strlen(vals[n]), &offs[n]));
        }
        assert_roche_ok(roche_close(db));
        /* rochefort, with the same 4 buckets: its ids cover every bucket */
        for (int i = 0; i < 10; i++, n++) {
            snprintf(vals[n], sizeof vals[n], "rochefort-%d-%d", round, i);
            char id[8];
            snprintf(id, sizeof id, "k%d", i);
            offs[n] = rf_append(events, 4, id, vals[n], (uint32_t)strlen(vals[n]), 1600000000000000000ull + (uint64_t)n);
            assert_int_not_equal(offs[n], UINT64_MAX);
            assert_int_equal(offs[n] >> 50, rf_id_bucket(id, 4));
        }
        if (round == 0) {
            /* Before a writer indexed them, a reader does not see those in
             * buckets with a companion (its live count is the end), and
             * checks headers only in buckets that have none yet. */
            roche_db *ro = open_format(dir, ROCHE_FORMAT_ROCHEFORT, 0, 1);
            int hidden = 0;
            for (int i = n - 10; i < n; i++) {
                char idx[600];
                snprintf(idx, sizeof idx, "%s/append.%u.idx", events, (unsigned)(offs[i] >> 50));
                void *v;
                size_t len;
                if (file_size(idx) >= 0) {
                    assert_int_equal(roche_get(ro, "events", offs[i], &v, &len), ROCHE_ENOTFOUND);
                    hidden++;
                } else {
                    assert_value(ro, "events", offs[i], vals[i], strlen(vals[i]));
                }
            }
            assert_true(hidden > 0);
            assert_roche_ok(roche_close(ro));
        }
    }
    roche_db *db = open_compat(dir, 4);
    for (int i = 0; i < n; i++) assert_value(db, "events", offs[i], vals[i], strlen(vals[i]));
    roche_stat_info info = {.version = ROCHE_STAT_VERSION};
    assert_roche_ok(roche_stat(db, "events", &info));
    assert_int_equal(info.records, (uint64_t)n);
    assert_int_equal(info.damaged_ranges, 0);
    assert_int_equal(info.recovered_bytes, 0);
    /* a scan lists each once, in offset order */
    roche_scan *scan;
    assert_roche_ok(roche_scan_open(db, "events", 0, &scan));
    uint64_t off, last = 0;
    int count = 0, rc;
    while ((rc = roche_scan_next(scan, &off, NULL, NULL, NULL)) == ROCHE_OK) {
        assert_true(count == 0 || off > last);
        last = off;
        count++;
    }
    assert_int_equal(rc, ROCHE_DONE);
    assert_int_equal(count, n);
    roche_scan_free(scan);
    /* a reader in another handle sees them now, checked */
    roche_db *ro = open_format(dir, ROCHE_FORMAT_ROCHEFORT, 0, 1);
    for (int i = 0; i < n; i++) assert_value(ro, "events", offs[i], vals[i], strlen(vals[i]));
    assert_roche_ok(roche_close(ro));
    assert_roche_ok(roche_close(db));
    /* nothing was cut or saved aside */
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -q cut-", events);
    assert_int_not_equal(system(cmd), 0);
    static struct seen seen;
    seen.n = 0;
    assert_int_equal(rf_scan(events, 4, collect, &seen), (size_t)n);
    free(events);
    test_dir_free(dir);
}

/* Past the end a clean close marked, only records whose headers check out
 * are taken: bytes that are not one are cut from the bucket and saved
 * aside, as in a file with no companion. */
static void test_damage_after_close_is_saved_aside(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *db = open_compat(dir, 4);
    uint64_t off;
    assert_roche_ok(roche_append(db, "events", "r0", "mine", 4, &off));
    assert_roche_ok(roche_close(db));
    /* the bucket was closed cleanly; damage after the mark is no record */
    char *path = bucket_path(dir, "events", (uint32_t)(off >> 50));
    int fd = open(path, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    uint8_t junk[HDR + 4] = {5, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 9, 'j', 'u', 'n', 'k'};
    assert_int_equal(write(fd, junk, sizeof junk), (ssize_t)sizeof junk);
    close(fd);
    db = open_compat(dir, 4);
    assert_value(db, "events", off, "mine", 4);
    roche_stat_info info = {.version = ROCHE_STAT_VERSION};
    assert_roche_ok(roche_stat(db, "events", &info));
    assert_int_equal(info.records, 1);
    assert_int_equal(info.recovered_bytes, sizeof junk);
    assert_roche_ok(roche_close(db));
    assert_int_equal(file_size(path), HDR + 4);
    char aside[600];
    snprintf(aside, sizeof aside, "%s.cut-%d", path, HDR + 4);
    assert_int_equal(file_size(aside), (long)sizeof junk);
    free(path);
    test_dir_free(dir);
}

static size_t make_value(char *buf, int i) {
    int reps = i % 7;
    size_t len = (size_t)sprintf(buf, "v%d:", i);
    for (int r = 0; r < reps; r++) len += (size_t)sprintf(buf + len, "%d", i);
    return len;
}

/* kill -9 of a writer in the format in the middle of its appends: every
 * append that returned is there after a reopen, the reopen trims the
 * reserved space, and rochefort's reader then finds every record. */
static void test_kill_mid_append(void **state) {
    (void)state;
    char *dir = test_dir_new();
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(pipefd[0]);
        roche_db *db;
        if (try_open_format(dir, ROCHE_FORMAT_ROCHEFORT, 4, 0, &db)) _exit(1);
        char value[96], id[16];
        for (int i = 0;; i++) {
            uint64_t off;
            size_t len = make_value(value, i);
            snprintf(id, sizeof id, "id%d", i % 13);
            if (roche_append(db, "events", id, value, len, &off)) _exit(1);
            if (write(pipefd[1], &off, sizeof off) != sizeof off) _exit(1);
        }
    }
    close(pipefd[1]);
    static uint64_t offs[20000];
    size_t n = 0;
    while (n < 20000 && read(pipefd[0], &offs[n], sizeof offs[n]) == sizeof offs[n]) n++;
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(pipefd[0]);
    assert_int_equal(n, 20000);
    roche_db *db = open_compat(dir, 4);
    char value[96];
    for (size_t i = 0; i < n; i++) {
        assert_value(db, "events", offs[i], value, make_value(value, (int)i));
        char id[16];
        snprintf(id, sizeof id, "id%d", (int)i % 13);
        assert_int_equal(offs[i] >> 50, rf_id_bucket(id, 4));
    }
    uint64_t next;
    assert_roche_ok(roche_append(db, "events", "after", "after", 5, &next));
    assert_value(db, "events", next, "after", 5);
    roche_stat_info info = {.version = ROCHE_STAT_VERSION};
    assert_roche_ok(roche_stat(db, "events", &info));
    assert_int_equal(info.damaged_ranges, 0);
    assert_true(info.records >= n + 1);
    uint64_t records = info.records;
    assert_roche_ok(roche_close(db));
    char *events = ns_dir(dir, "events");
    assert_int_equal(rf_scan(events, 4, NULL, NULL), records);
    free(events);
    test_dir_free(dir);
}

/* rochefort run after a writer in the format died without roche_close()
 * (against the documented order): it takes the reserved zeros for records'
 * room and appends after them. The next writable open keeps every record
 * the writer appended, cuts the zeros and rochefort's record, and saves
 * them aside, so nothing is lost. */
static void test_rochefort_after_a_crash_is_saved_aside(void **state) {
    (void)state;
    char *dir = test_dir_new();
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(pipefd[0]);
        roche_db *db;
        if (try_open_format(dir, ROCHE_FORMAT_ROCHEFORT, 1, 0, &db)) _exit(1);
        uint64_t off;
        if (roche_append(db, "events", "x", "before the crash", 16, &off)) _exit(1);
        if (write(pipefd[1], &off, sizeof off) != sizeof off) _exit(1);
        pause();
    }
    close(pipefd[1]);
    uint64_t off;
    assert_int_equal(read(pipefd[0], &off, sizeof off), sizeof off);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(pipefd[0]);
    char *path = bucket_path(dir, "events", 0);
    long reserved = file_size(path);
    assert_true(reserved > HDR + 16);  /* space reserved ahead, zeros */
    char *events = ns_dir(dir, "events");
    uint64_t rf = rf_append(events, 1, "x", "rochefort", 9, 1);
    assert_int_equal(rf, (uint64_t)reserved);
    roche_db *db = open_compat(dir, 1);
    assert_value(db, "events", off, "before the crash", 16);
    void *v;
    size_t len;
    assert_int_equal(roche_get(db, "events", rf, &v, &len), ROCHE_ENOTFOUND);
    roche_stat_info info = {.version = ROCHE_STAT_VERSION};
    assert_roche_ok(roche_stat(db, "events", &info));
    assert_int_equal(info.records, 1);
    assert_int_equal(info.recovered_bytes, (uint64_t)reserved + HDR + 9 - (HDR + 16));
    assert_roche_ok(roche_close(db));
    char aside[600];
    snprintf(aside, sizeof aside, "%s.cut-%d", path, HDR + 16);
    size_t alen;
    uint8_t *saved = read_file(aside, &alen);
    assert_int_equal(alen, (size_t)reserved + HDR + 9 - (HDR + 16));
    assert_memory_equal(saved + alen - 9, "rochefort", 9);
    free(saved);
    assert_int_equal(file_size(path), HDR + 16);
    free(events);
    free(path);
    test_dir_free(dir);
}

/* The wrong format is refused, in both directions, on writable and
 * read-only handles, with a detail naming the option (and `roche import`),
 * and no file is made, cut, moved aside or changed; other namespaces of
 * the store still work. */
static void assert_refused(const char *root, const char *ns, int format, const char *needle) {
    for (int ro = 0; ro < 2; ro++) {
        roche_db *db = open_format(root, format, 0, ro);
        void *v;
        size_t len;
        uint64_t off;
        assert_int_equal(roche_get(db, ns, 0, &v, &len), ROCHE_ECORRUPT);
        assert_non_null(strstr(roche_last_error(), needle));
        assert_non_null(strstr(roche_last_error(), "nothing was changed"));
        if (!ro) {
            assert_int_equal(roche_append(db, ns, "a", "x", 1, &off), ROCHE_ECORRUPT);
            assert_non_null(strstr(roche_last_error(), needle));
        }
        roche_scan *scan = NULL;
        int rc = roche_scan_open(db, ns, 0, &scan);
        if (rc == ROCHE_OK) rc = roche_scan_next(scan, NULL, NULL, NULL, NULL);
        assert_int_equal(rc, ROCHE_ECORRUPT);
        roche_scan_free(scan);
        roche_stat_info info = {.version = ROCHE_STAT_VERSION};
        assert_int_equal(roche_stat(db, ns, &info), ROCHE_ECORRUPT);
        assert_roche_ok(roche_close(db));
    }
}

static void test_wrong_format_refused(void **state) {
    (void)state;
    /* 1. rochefort's own files (no companions), opened in the default format */
    char *dir = test_dir_new();
    copy_fixture(dir);
    char *before = snapshot(dir);
    assert_refused(dir, "events", ROCHE_FORMAT_ROCHE, "roche_options_set_format(ROCHE_FORMAT_ROCHEFORT)");
    assert_refused(dir, "default", ROCHE_FORMAT_ROCHE, "roche import --from-rochefort");
    /* another namespace in the default format works beside them */
    roche_db *db = open_format(dir, ROCHE_FORMAT_ROCHE, 0, 0);
    uint64_t off;
    assert_roche_ok(roche_append(db, "other", NULL, "ok", 2, &off));
    assert_value(db, "other", off, "ok", 2);
    assert_roche_ok(roche_close(db));
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "rm -rf '%s/other'", dir);
    assert_int_equal(system(cmd), 0);
    char *after = snapshot(dir);
    assert_string_equal(before, after);
    free(before);
    free(after);

    /* 2. a store closed by a writer in rochefort's format (companions
     *    beside), opened in the default format */
    db = open_compat(dir, 8);
    assert_roche_ok(roche_append(db, "events", "a", "more", 4, &off));
    assert_roche_ok(roche_close(db));
    before = snapshot(dir);
    assert_refused(dir, "events", ROCHE_FORMAT_ROCHE, "ROCHE_FORMAT_ROCHEFORT");
    after = snapshot(dir);
    assert_string_equal(before, after);
    free(before);
    free(after);
    test_dir_free(dir);

    /* 3. a default-format store, opened in rochefort's format */
    dir = test_dir_new();
    db = open_store(dir, 4, 0);
    for (int i = 0; i < 20; i++) {
        char id[8];
        snprintf(id, sizeof id, "i%d", i);
        assert_roche_ok(roche_append(db, "events", id, id, strlen(id), &off));
    }
    assert_roche_ok(roche_close(db));
    before = snapshot(dir);
    assert_refused(dir, "events", ROCHE_FORMAT_ROCHEFORT, "ROCHE_FORMAT_ROCHE)");
    after = snapshot(dir);
    assert_string_equal(before, after);
    /* and the default format still reads it all */
    db = open_store(dir, 0, 0);
    assert_value(db, "events", off, "i19", 3);
    assert_roche_ok(roche_close(db));
    free(before);
    free(after);
    test_dir_free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_option_arguments),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_fixture_in_place),
        cmocka_unit_test(test_rochefort_writer_files),
        cmocka_unit_test(test_rochefort_appends_after_close),
        cmocka_unit_test(test_damage_after_close_is_saved_aside),
        cmocka_unit_test(test_kill_mid_append),
        cmocka_unit_test(test_rochefort_after_a_crash_is_saved_aside),
        cmocka_unit_test(test_wrong_format_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
