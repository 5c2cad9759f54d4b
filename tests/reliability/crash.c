/* Crash test: a child appends random values from several threads and
 * reports each returned offset over a pipe; the parent kills it with
 * SIGKILL at a random moment, reopens the store and checks that every
 * reported record reads back byte for byte, that a scan yields them all
 * and nothing that is not a value we wrote, and that appends continue.
 *
 * ROCHE_CRASH_ROUNDS (default 40) sets the number of kills; the store is
 * started afresh every 10 rounds to bound its size. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rel_util.h"

#define NS "crash"
#define WRITER_THREADS 3
#define ROUNDS_PER_STORE 10
#define MAX_VALUE (1u << 20)

/* One returned append; 24 bytes, so each write() to the pipe is atomic. */
struct report {
    uint64_t offset;
    uint64_t seed;
    uint32_t len;
    uint32_t crc;
};

struct writer {
    roche_db *db;
    int pipe_fd;
    uint64_t seed;
};

/* Mostly small values, now and then up to 1 MiB. */
static uint32_t random_length(uint64_t *rng) {
    uint64_t r = rel_next(rng);
    switch (r % 100) {
    case 0: return (uint32_t)((r >> 8) % (MAX_VALUE + 1));
    case 1: case 2: case 3: case 4: case 5: return (uint32_t)((r >> 8) % 65536);
    default: return (uint32_t)((r >> 8) % 4097);
    }
}

static void *append_forever(void *arg) {
    struct writer *w = arg;
    uint8_t *buf = malloc(MAX_VALUE);
    CHECK(buf);
    uint64_t rng = w->seed;
    for (;;) {
        struct report r = {.seed = rel_next(&rng)};
        r.len = random_length(&rng);
        rel_fill(buf, r.len, r.seed);
        /* One value in four goes through an id, so buckets are shared. */
        const char *id = r.seed % 4 == 0 ? "shared-id" : NULL;
        CHECK_OK(roche_append(w->db, NS, id, buf, r.len, &r.offset));
        r.crc = rel_crc(buf, r.len);
        if (write(w->pipe_fd, &r, sizeof r) != (ssize_t)sizeof r) _exit(3);
    }
    return NULL;
}

static void run_writer(const char *root, int pipe_fd, uint64_t seed) {
    roche_db *db;
    CHECK_OK(rel_open(root, 4, 0, &db));
    static struct writer writers[WRITER_THREADS];
    pthread_t threads[WRITER_THREADS];
    for (int t = 0; t < WRITER_THREADS; t++) {
        writers[t] = (struct writer){db, pipe_fd, seed * 31 + (uint64_t)t + 1};
        CHECK(pthread_create(&threads[t], NULL, append_forever, &writers[t]) == 0);
    }
    pthread_join(threads[0], NULL); /* never returns: the parent kills us */
    _exit(4);
}

struct reports {
    struct report *items;
    size_t count, cap;
};

static void add_report(struct reports *rs, const struct report *r) {
    if (rs->count == rs->cap) {
        rs->cap = rs->cap ? 2 * rs->cap : 4096;
        rs->items = realloc(rs->items, rs->cap * sizeof *rs->items);
        CHECK(rs->items);
    }
    rs->items[rs->count++] = *r;
}

static int by_offset(const void *a, const void *b) {
    uint64_t x = ((const struct report *)a)->offset, y = ((const struct report *)b)->offset;
    return x < y ? -1 : x > y;
}

/* Reads whole reports from fd until EOF or until deadline_ms passes (-1:
 * until EOF). A report cut by the kill is dropped. */
static void collect(int fd, struct reports *rs, long deadline_ms) {
    static uint8_t pending[sizeof(struct report)];
    static size_t have;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        int wait_ms = -1;
        if (deadline_ms >= 0) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            long spent = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
            if (spent >= deadline_ms) return;
            wait_ms = (int)(deadline_ms - spent);
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int ready = poll(&p, 1, wait_ms);
        if (ready < 0 && errno == EINTR) continue;
        CHECK(ready >= 0);
        if (ready == 0) continue;
        ssize_t got = read(fd, pending + have, sizeof pending - have);
        if (got < 0 && errno == EINTR) continue;
        CHECK(got >= 0);
        if (got == 0) {
            have = 0;
            return;
        }
        have += (size_t)got;
        if (have == sizeof pending) {
            add_report(rs, (const struct report *)pending);
            have = 0;
        }
    }
}

/* Every reported record reads back byte for byte. */
static void verify_reports(roche_db *db, const struct reports *rs) {
    uint8_t *expect = malloc(MAX_VALUE);
    CHECK(expect);
    for (size_t i = 0; i < rs->count; i++) {
        const struct report *r = &rs->items[i];
        rel_fill(expect, r->len, r->seed);
        CHECK(rel_crc(expect, r->len) == r->crc);
        if (!rel_value_is(db, NS, r->offset, expect, r->len)) {
            fprintf(stderr, "reported record %zu at offset %llu (len %u) lost\n", i,
                    (unsigned long long)r->offset, r->len);
            CHECK(!"a reported record reads back");
        }
    }
    free(expect);
}

/* A scan yields every reported record in offset order, and anything else
 * it yields is a value we wrote whose report the kill cut off. Returns the
 * number of such unreported records. */
static size_t verify_scan(roche_db *db, struct reports *rs) {
    if (rs->count) qsort(rs->items, rs->count, sizeof *rs->items, by_offset);
    roche_scan *scan;
    CHECK_OK(roche_scan_open(db, NS, 0, &scan));
    size_t next = 0, extra = 0;
    uint64_t offset, last = 0;
    const void *data;
    size_t len;
    int rc, first = 1;
    while ((rc = roche_scan_next(scan, &offset, &data, &len, NULL)) == ROCHE_OK) {
        CHECK(first || offset > last);
        first = 0;
        last = offset;
        CHECK(len <= MAX_VALUE);
        if (next < rs->count && rs->items[next].offset == offset) {
            CHECK(len == rs->items[next].len && rel_crc(data, len) == rs->items[next].crc);
            next++;
        } else {
            CHECK(next >= rs->count || rs->items[next].offset > offset);
            CHECK(rel_self_consistent(data, len));
            extra++;
        }
    }
    CHECK_RC(rc, ROCHE_DONE);
    roche_scan_free(scan);
    CHECK(next == rs->count);
    return extra;
}

/* After recovery: no damage inside the files, and a new append lands past
 * every record (so it overwrote nothing) and reads back. */
static void verify_appends_continue(roche_db *db, struct reports *rs, uint64_t seed) {
    struct report r = {.seed = seed, .len = 100};
    uint8_t value[100];
    rel_fill(value, r.len, r.seed);
    CHECK_OK(roche_append(db, NS, "shared-id", value, r.len, &r.offset));
    r.crc = rel_crc(value, r.len);
    for (size_t i = 0; i < rs->count; i++) {
        const struct report *o = &rs->items[i];
        if (o->offset >> ROCHE_OFFSET_BITS == r.offset >> ROCHE_OFFSET_BITS)
            CHECK(o->offset + 16 + o->len <= r.offset);
    }
    CHECK(rel_value_is(db, NS, r.offset, value, r.len));
    add_report(rs, &r);
    /* After the append, as a kill before the first one leaves no namespace. */
    roche_stat_info info = {.version = ROCHE_STAT_VERSION};
    CHECK_OK(roche_stat(db, NS, &info));
    CHECK(info.damaged_ranges == 0 && info.damaged_bytes == 0);
    CHECK(info.records >= rs->count);
}

int main(void) {
    long rounds = env_long("ROCHE_CRASH_ROUNDS", 40);
    uint64_t rng = (uint64_t)env_long("ROCHE_SEED", (long)time(NULL));
    printf("crash: %ld rounds, ROCHE_SEED=%llu\n", rounds, (unsigned long long)rng);
    signal(SIGPIPE, SIG_IGN);
    struct reports rs = {0};
    char *root = NULL;
    size_t verified = 0, unreported = 0, distinct = 0;
    for (long round = 0; round < rounds; round++) {
        if (round % ROUNDS_PER_STORE == 0) {
            if (root) rel_rmdir(root);
            root = rel_tempdir("crash");
            distinct += rs.count;
            rs.count = 0;
        }
        int fds[2];
        CHECK(pipe(fds) == 0);
        uint64_t child_seed = rel_next(&rng);
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            run_writer(root, fds[1], child_seed);
        }
        close(fds[1]);
        /* Kill at any moment: during open and recovery, or mid-append. */
        long kill_after_ms = (long)(rel_next(&rng) % 40);
        collect(fds[0], &rs, kill_after_ms);
        kill(pid, SIGKILL);
        int status;
        CHECK(waitpid(pid, &status, 0) == pid);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        collect(fds[0], &rs, -1);
        close(fds[0]);

        roche_db *db;
        CHECK_OK(rel_open(root, 4, 0, &db));
        verify_reports(db, &rs);
        unreported += verify_scan(db, &rs);
        verify_appends_continue(db, &rs, rel_next(&rng));
        verified += rs.count;
        CHECK_OK(roche_close(db));
    }
    if (root) rel_rmdir(root);
    distinct += rs.count;
    free(rs.items);
    printf("crash: %ld rounds survived; %zu returned appends, verified %zu times in all; "
           "%zu unreported records found whole\n",
           rounds, distinct, verified, unreported);
    return 0;
}
