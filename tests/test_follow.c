/* Following a namespace: records as they are appended, in this process and
 * another, in order per bucket with no gaps and no repeats; waits that
 * sleep (no CPU), time out, and wake from another thread; restarts from a
 * position; a writer or follower killed with SIGKILL; deletion and
 * retention under a follower. */
#define _GNU_SOURCE
#include "test_util.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NS "log"

/* Value i of a run: "v<i>" padded to a length that varies with i. */
static size_t make_value(unsigned i, char *buf) {
    size_t len = (size_t)snprintf(buf, 64, "v%u", i);
    size_t pad = i % 37;
    memset(buf + len, '.', pad);
    return len + pad;
}

/* The sequence number of a make_value() value. A value is not
 * NUL-terminated: sscanf on it read on into whatever followed it in memory
 * (the record "v0" with a leftover "1" behind it parsed as v01, and failed
 * the test now and then under load). */
static int value_seq(const void *data, size_t len, unsigned *seq) {
    char text[64];
    if (len >= sizeof text) len = sizeof text - 1;
    memcpy(text, data, len);
    text[len] = '\0';
    return sscanf(text, "v%u", seq);
}

/* Reads one record, failing the test on anything but ROCHE_OK. */
static void expect_record(roche_follow *f, int timeout_ms, const char *value, uint64_t *offset) {
    const void *data;
    size_t len;
    assert_roche_ok(roche_follow_next(f, timeout_ms, offset, &data, &len, NULL));
    assert_int_equal(len, strlen(value));
    assert_memory_equal(data, value, len);
}

static void test_follow_existing_then_new(void **state) {
    (void)state;
    char *root = test_dir_new();
    roche_db *db = open_store(root, 1, 0);
    uint64_t off[4];
    assert_roche_ok(roche_append(db, NS, NULL, "a", 1, &off[0]));
    assert_roche_ok(roche_append(db, NS, NULL, "bb", 2, &off[1]));
    roche_follow *f;
    assert_roche_ok(roche_follow_open(db, NS, NULL, 0, 0, &f));
    uint64_t got;
    expect_record(f, 0, "a", &got);
    assert_int_equal(got, off[0]);
    expect_record(f, 0, "bb", &got);
    assert_int_equal(got, off[1]);
    assert_roche_code(roche_follow_next(f, 0, NULL, NULL, NULL, NULL), ROCHE_ETIMEDOUT);
    uint64_t t0 = mono_ns();
    assert_roche_code(roche_follow_next(f, 50, NULL, NULL, NULL, NULL), ROCHE_ETIMEDOUT);
    assert_true(mono_ns() - t0 >= 45000000u);  /* it waited its timeout */
    assert_roche_ok(roche_append(db, NS, NULL, "ccc", 3, &off[2]));
    expect_record(f, -1, "ccc", &got);
    assert_int_equal(got, off[2]);
    roche_follow_free(f);
    assert_roche_ok(roche_close(db));
    test_dir_free(root);
}

struct delayed {
    roche_db *db;
    roche_follow *follow;
    long delay_ms;
};

static void *append_later(void *arg) {
    struct delayed *d = arg;
    test_sleep_ms(d->delay_ms);
    assert_roche_ok(roche_append(d->db, NS, "late", "late", 4, NULL));
    return NULL;
}

static void *wake_later(void *arg) {
    struct delayed *d = arg;
    test_sleep_ms(d->delay_ms);
    assert_roche_ok(roche_follow_wake(d->follow));
    return NULL;
}

static void test_wait_is_woken_by_append_and_by_wake(void **state) {
    (void)state;
    char *root = test_dir_new();
    roche_db *db = open_store(root, 4, 0);
    roche_follow *f;
    assert_roche_ok(roche_follow_open(db, NS, NULL, 0, 0, &f));  /* before the namespace has a bucket */
    struct delayed d = {db, f, 100};
    pthread_t t;
    pthread_create(&t, NULL, append_later, &d);
    uint64_t got, t_wait = mono_ns();
    expect_record(f, 30000, "late", &got);
    /* Rung by the append, not found when the 30 s timeout ran out. */
    assert_true(mono_ns() - t_wait < 10000000000u);
    pthread_join(t, NULL);
    /* A wake from another thread ends a wait for ever, once. */
    pthread_create(&t, NULL, wake_later, &d);
    uint64_t t0 = mono_ns();
    assert_roche_code(roche_follow_next(f, -1, NULL, NULL, NULL, NULL), ROCHE_ECANCELED);
    assert_true(mono_ns() - t0 >= 90000000u);
    pthread_join(t, NULL);
    assert_roche_code(roche_follow_next(f, 0, NULL, NULL, NULL, NULL), ROCHE_ETIMEDOUT);
    /* A wake with no one waiting is kept for the next call. */
    assert_roche_ok(roche_follow_wake(f));
    assert_roche_code(roche_follow_next(f, -1, NULL, NULL, NULL, NULL), ROCHE_ECANCELED);
    roche_follow_free(f);
    assert_roche_ok(roche_close(db));
    test_dir_free(root);
}

/* The follower in a child process, read-only: reads `count` records of
 * the parent's and checks, per bucket, that each starts where the last
 * ended (no gap, no repeat) and holds the value its sequence number says.
 * Before the first record it reports its CPU time over an idle wait. */
static int follow_in_child(const char *root, unsigned count, int ready_fd, int cpu_fd) {
    roche_db *db = NULL;
    roche_options *o = roche_options_new();
    roche_options_set_read_only(o, 1);
    if (roche_open(root, o, &db) != ROCHE_OK) return 10;
    roche_options_free(o);
    roche_follow *f;
    if (roche_follow_open(db, NS, NULL, 0, 0, &f) != ROCHE_OK) return 11;
    if (write(ready_fd, "r", 1) != 1) return 12;
    struct rusage before, after;
    getrusage(RUSAGE_SELF, &before);
    uint64_t next_pos[8] = {0};
    unsigned last_seq[8] = {0};
    for (unsigned n = 0; n < count; n++) {
        uint64_t off;
        const void *data;
        size_t len;
        uint64_t t_wait = mono_ns();
        int rc = roche_follow_next(f, 30000, &off, &data, &len, NULL);
        if (rc != ROCHE_OK) return 13;
        if (n == 0 && mono_ns() - t_wait > 10000000000u) return 19; /* not rung: it timed out */
        if (n == 0) {
            getrusage(RUSAGE_SELF, &after);
            long cpu_us = (after.ru_utime.tv_sec - before.ru_utime.tv_sec) * 1000000L +
                          (after.ru_utime.tv_usec - before.ru_utime.tv_usec) +
                          (after.ru_stime.tv_sec - before.ru_stime.tv_sec) * 1000000L +
                          (after.ru_stime.tv_usec - before.ru_stime.tv_usec);
            if (write(cpu_fd, &cpu_us, sizeof cpu_us) != sizeof cpu_us) return 14;
        }
        uint32_t b = (uint32_t)(off >> ROCHE_OFFSET_BITS);
        uint64_t pos = off & ((1ull << ROCHE_OFFSET_BITS) - 1);
        if (b >= 8 || pos != next_pos[b]) return 15; /* a gap or a repeat */
        next_pos[b] = pos + 16 + len;
        char expect[128];
        unsigned seq;
        if (value_seq(data, len, &seq) != 1) return 16;
        if (len != make_value(seq, expect) || memcmp(data, expect, len) != 0) return 17;
        if (last_seq[b] && seq <= last_seq[b]) return 18; /* out of order within a bucket */
        last_seq[b] = seq;
    }
    roche_follow_free(f);
    roche_close(db);
    return 0;
}

static void test_follow_across_processes(void **state) {
    (void)state;
    char *root = test_dir_new();
    roche_db *db = open_store(root, 8, 0);
    assert_roche_ok(roche_append(db, NS, "k0", "v0", 2, NULL));  /* the namespace exists */
    int ready[2], cpu[2];
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(cpu), 0);
    const unsigned count = 20000;
    pid_t pid = fork();
    if (pid == 0) _exit(follow_in_child(root, count + 1, ready[1], cpu[1]));
    char c;
    assert_int_equal(read(ready[0], &c, 1), 1);
    test_sleep_ms(300);  /* the child waits, asleep */
    char value[128];
    for (unsigned i = 1; i <= count; i++) {
        char id[16];
        snprintf(id, sizeof id, "k%u", i % 5);  /* buckets made while it follows */
        size_t len = make_value(i, value);
        assert_roche_ok(roche_append(db, NS, id, value, len, NULL));
        if (i % 1000 == 0) test_sleep_ms(2);
    }
    long cpu_us;
    assert_int_equal(read(cpu[0], &cpu_us, sizeof cpu_us), sizeof cpu_us);
    test_assert_child_ok(pid, 60);
    /* 300 ms of waiting took (almost) no CPU: it slept, it did not poll. */
    if (cpu_us > 30000) fail_msg("the idle follower used %ld us of CPU in 300 ms", cpu_us);
    assert_roche_ok(roche_close(db));
    test_dir_free(root);
}

static void test_restart_from_position_misses_nothing(void **state) {
    (void)state;
    char *root = test_dir_new();
    roche_db *db = open_store(root, 4, 0);
    char value[128];
    for (unsigned i = 1; i <= 400; i++) {
        char id[16];
        snprintf(id, sizeof id, "id%u", i % 7);
        assert_roche_ok(roche_append(db, NS, id, value, make_value(i, value), NULL));
    }
    roche_follow *f;
    assert_roche_ok(roche_follow_open(db, NS, NULL, 0, 0, &f));
    int seen[401] = {0};
    for (int n = 0; n < 150; n++) {
        const void *data;
        size_t len;
        assert_roche_ok(roche_follow_next(f, 0, NULL, &data, &len, NULL));
        unsigned seq;
        assert_int_equal(value_seq(data, len, &seq), 1);
        seen[seq]++;
    }
    size_t n_pos;
    assert_roche_ok(roche_follow_position(f, NULL, 0, &n_pos));
    assert_int_equal(n_pos, 4);
    uint64_t pos[4];
    assert_roche_ok(roche_follow_position(f, pos, 4, &n_pos));
    roche_follow_free(f);
    /* Restart from the position (and close the handle in between). */
    assert_roche_ok(roche_close(db));
    db = open_store(root, 4, 0);
    for (unsigned i = 401; i <= 500; i++) assert_roche_ok(roche_append(db, NS, "x", value, make_value(i, value), NULL));
    assert_roche_ok(roche_follow_open(db, NS, pos, 4, 0, &f));
    int rc;
    const void *data;
    size_t len;
    int seen_after[501] = {0};
    while ((rc = roche_follow_next(f, 0, NULL, &data, &len, NULL)) == ROCHE_OK) {
        unsigned seq;
        assert_int_equal(value_seq(data, len, &seq), 1);
        seen_after[seq]++;
    }
    assert_roche_code(rc, ROCHE_ETIMEDOUT);
    for (unsigned i = 1; i <= 500; i++) {
        int total = (i <= 400 ? seen[i] : 0) + seen_after[i];
        if (total != 1) fail_msg("record v%u delivered %d times", i, total);
    }
    roche_follow_free(f);
    assert_roche_ok(roche_close(db));
    test_dir_free(root);
}

static void test_follow_from_end_and_batches(void **state) {
    (void)state;
    char *root = test_dir_new();
    roche_db *db = open_store(root, 4, 0);
    assert_roche_ok(roche_append(db, NS, "a", "old", 3, NULL));
    roche_follow *f;
    assert_roche_ok(roche_follow_open(db, NS, NULL, 0, ROCHE_FOLLOW_FROM_END, &f));
    assert_roche_code(roche_follow_next(f, 0, NULL, NULL, NULL, NULL), ROCHE_ETIMEDOUT);
    const char *ids[] = {"a", "b", "c", "d", "e", "f"};
    for (int i = 0; i < 6; i++) assert_roche_ok(roche_append(db, NS, ids[i], ids[i], 1, NULL));
    uint64_t offs[16];
    const void *data[16];
    size_t lens[16], count;
    assert_roche_ok(roche_follow_next_batch(f, 0, 16, offs, data, lens, NULL, &count));
    assert_int_equal(count, 6);  /* every new record, none of the old */
    for (size_t i = 0; i < count; i++) assert_int_equal(lens[i], 1);
    assert_roche_code(roche_follow_next_batch(f, 0, 16, offs, data, lens, NULL, &count), ROCHE_ETIMEDOUT);
    assert_int_equal(count, 0);
    roche_follow_free(f);
    assert_roche_ok(roche_close(db));
    test_dir_free(root);
}

/* The writer is killed with SIGKILL mid-stream: the follower (another
 * handle, read-only) gets every record the writer published, in order,
 * and goes on with the next writer's. */
/* What a follower has read of a run of writers: the last "v<seq>" and the
 * offset the next record of its bucket must have. */
struct run_state {
    unsigned last;
    uint64_t next_pos;
    int seen;
};

/* Reads "v<seq>" records until the follower times out or returns `stop`.
 * Each record is where the previous one ended, and continues the sequence
 * (or starts it again at v1, a new writer). Returns the final code. */
static int read_writer_records(roche_follow *f, struct run_state *st, const char *stop) {
    const void *data;
    size_t len;
    uint64_t off;
    int rc;
    while ((rc = roche_follow_next(f, stop ? 5000 : 100, &off, &data, &len, NULL)) == ROCHE_OK) {
        if (st->seen) assert_int_equal(off, st->next_pos);
        st->next_pos = off + 16 + len;
        st->seen++;
        if (stop && len == strlen(stop) && memcmp(data, stop, len) == 0) return rc;
        unsigned seq;
        assert_int_equal(value_seq(data, len, &seq), 1);
        if (st->seen > 1 && seq != st->last + 1 && seq != 1) fail_msg("v%u after v%u", seq, st->last);
        char expect[128];
        assert_int_equal(len, make_value(seq, expect));
        assert_memory_equal(data, expect, len);
        st->last = seq;
    }
    return rc;
}

static void test_writer_killed_under_follower(void **state) {
    (void)state;
    char *root = test_dir_new();
    roche_db *w = open_store(root, 1, 0);
    assert_roche_ok(roche_append(w, NS, NULL, "v0", 2, NULL));
    assert_roche_ok(roche_close(w));
    roche_db *r = open_store(root, 1, 1);
    roche_follow *f;
    assert_roche_ok(roche_follow_open(r, NS, NULL, 0, 0, &f));
    struct run_state st = {0, 0, 0};
    for (int round = 0; round < 5; round++) {
        int started[2];
        assert_int_equal(pipe(started), 0);
        pid_t pid = fork();
        if (pid == 0) {
            roche_db *db = open_store(root, 1, 0);
            char value[128];
            for (unsigned i = 1;; i++) {
                roche_append(db, NS, NULL, value, make_value(i, value), NULL);
                if (i == 1 && write(started[1], "s", 1) != 1) _exit(1);
            }
        }
        char c;
        assert_int_equal(read(started[0], &c, 1), 1);  /* killed after its first append, at least */
        close(started[0]);
        close(started[1]);
        test_sleep_ms(round * 7);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        /* The follower reads all the dead writer published, from where it
         * was. A record the writer completed but had not yet published is
         * kept by the next writer's recovery, and read after it opens. */
        int seen_before = st.seen;
        assert_roche_code(read_writer_records(f, &st, NULL), ROCHE_ETIMEDOUT);
        assert_true(st.seen > seen_before);
    }
    /* A writer after the kills: the follower wakes for it, after any record
     * the last dead writer left complete. */
    w = open_store(root, 1, 0);
    assert_roche_ok(roche_append(w, NS, NULL, "after", 5, NULL));
    assert_roche_ok(read_writer_records(f, &st, "after"));
    uint64_t got;
    /* And while it sleeps: rung, not timed out. */
    struct delayed d = {w, f, 100};
    pthread_t t;
    pthread_create(&t, NULL, append_later, &d);
    uint64_t t_wait = mono_ns();
    expect_record(f, 30000, "late", &got);
    assert_true(mono_ns() - t_wait < 10000000000u);
    pthread_join(t, NULL);
    roche_follow_free(f);
    assert_roche_ok(roche_close(r));
    assert_roche_ok(roche_close(w));
    test_dir_free(root);
}

/* A follower killed while it waits leaves nothing behind that blocks the
 * writer or a later follower. */
static void test_follower_killed_while_waiting(void **state) {
    (void)state;
    char *root = test_dir_new();
    roche_db *db = open_store(root, 1, 0);
    assert_roche_ok(roche_append(db, NS, NULL, "x", 1, NULL));
    pid_t pid = fork();
    if (pid == 0) {
        roche_db *r = open_store(root, 1, 1);
        roche_follow *f;
        roche_follow_open(r, NS, NULL, 0, ROCHE_FOLLOW_FROM_END, &f);
        roche_follow_next(f, -1, NULL, NULL, NULL, NULL);
        _exit(1);
    }
    test_sleep_ms(200);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    for (int i = 0; i < 1000; i++) assert_roche_ok(roche_append(db, NS, NULL, "y", 1, NULL));
    roche_follow *f;
    assert_roche_ok(roche_follow_open(db, NS, NULL, 0, ROCHE_FOLLOW_FROM_END, &f));
    struct delayed d = {db, f, 50};
    pthread_t t;
    pthread_create(&t, NULL, append_later, &d);
    uint64_t got, t_wait = mono_ns();
    expect_record(f, 30000, "late", &got);
    assert_true(mono_ns() - t_wait < 10000000000u);
    pthread_join(t, NULL);
    roche_follow_free(f);
    assert_roche_ok(roche_close(db));
    test_dir_free(root);
}

static void *delete_later(void *arg) {
    struct delayed *d = arg;
    test_sleep_ms(d->delay_ms);
    assert_roche_ok(roche_delete_namespace(d->db, NS));
    return NULL;
}

static void test_delete_ends_a_waiting_follower(void **state) {
    (void)state;
    char *root = test_dir_new();
    roche_db *db = open_store(root, 2, 0);
    assert_roche_ok(roche_append(db, NS, NULL, "x", 1, NULL));
    /* A follower in this handle... */
    roche_follow *f;
    assert_roche_ok(roche_follow_open(db, NS, NULL, 0, ROCHE_FOLLOW_FROM_END, &f));
    /* ... and one in another process. */
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t pid = fork();
    if (pid == 0) {
        roche_db *r = open_store(root, 2, 1);
        roche_follow *rf;
        if (roche_follow_open(r, NS, NULL, 0, ROCHE_FOLLOW_FROM_END, &rf) != ROCHE_OK) _exit(2);
        if (write(ready[1], "r", 1) != 1) _exit(3);
        int rc = roche_follow_next(rf, 20000, NULL, NULL, NULL, NULL);
        _exit(rc == ROCHE_ENOTFOUND ? 0 : 4);
    }
    char c;
    assert_int_equal(read(ready[0], &c, 1), 1);
    struct delayed d = {db, f, 100};
    pthread_t t;
    pthread_create(&t, NULL, delete_later, &d);
    assert_roche_code(roche_follow_next(f, 20000, NULL, NULL, NULL, NULL), ROCHE_ENOTFOUND);
    pthread_join(t, NULL);
    test_assert_child_ok(pid, 30);
    roche_follow_free(f);
    assert_roche_ok(roche_close(db));
    test_dir_free(root);
}

/* A follower outlives closes of its namespace (explicit, or by the bound
 * on open files) and goes on where it was. */
static void test_follower_survives_namespace_close(void **state) {
    (void)state;
    char *root = test_dir_new();
    roche_db *db = open_store(root, 1, 0);
    assert_roche_ok(roche_append(db, NS, NULL, "one", 3, NULL));
    roche_follow *f;
    assert_roche_ok(roche_follow_open(db, NS, NULL, 0, 0, &f));
    uint64_t got;
    expect_record(f, 0, "one", &got);
    assert_roche_ok(roche_close_namespace(db, NS));
    assert_roche_ok(roche_append(db, NS, NULL, "two", 3, NULL));
    expect_record(f, 1000, "two", &got);
    assert_roche_ok(roche_close_namespace(db, NS));
    assert_roche_code(roche_follow_next(f, 0, NULL, NULL, NULL, NULL), ROCHE_ETIMEDOUT);
    roche_follow_free(f);
    assert_roche_ok(roche_close(db));
    test_dir_free(root);
}

static void test_follower_learns_of_dropped_records(void **state) {
    (void)state;
    char *root = test_dir_new();
    roche_db *db = open_store(root, 1, 0);
    char value[2000];
    memset(value, 'z', sizeof value);
    uint64_t off[20];
    for (int i = 0; i < 20; i++) assert_roche_ok(roche_append(db, NS, NULL, value, sizeof value, &off[i]));
    roche_follow *f;
    assert_roche_ok(roche_follow_open(db, NS, NULL, 0, 0, &f));
    uint64_t got;
    const void *data;
    size_t len;
    assert_roche_ok(roche_follow_next(f, 0, &got, &data, &len, NULL));
    assert_int_equal(got, off[0]);
    /* Keep the newest 5 records: the follower, at record 1, lost 14. */
    uint64_t freed;
    assert_roche_ok(roche_retain(db, NS, 0, 5 * (16 + sizeof value), &freed));
    assert_int_equal(freed, 15 * (16 + sizeof value));
    assert_roche_code(roche_follow_next(f, 0, &got, &data, &len, NULL), ROCHE_EDROPPED);
    assert_int_equal(got, off[1]);  /* where it was */
    for (int i = 15; i < 20; i++) {
        assert_roche_ok(roche_follow_next(f, 0, &got, &data, &len, NULL));
        assert_int_equal(got, off[i]);
    }
    roche_follow_free(f);
    /* Restarting below the first record kept is reported too. */
    assert_roche_ok(roche_follow_open(db, NS, &off[3], 1, 0, &f));
    assert_roche_code(roche_follow_next(f, 0, &got, NULL, NULL, NULL), ROCHE_EDROPPED);
    assert_int_equal(got, off[3]);
    assert_roche_ok(roche_follow_next(f, 0, &got, NULL, NULL, NULL));
    assert_int_equal(got, off[15]);
    roche_follow_free(f);
    /* A follower from the start begins at the first record kept, silently. */
    assert_roche_ok(roche_follow_open(db, NS, NULL, 0, 0, &f));
    assert_roche_ok(roche_follow_next(f, 0, &got, NULL, NULL, NULL));
    assert_int_equal(got, off[15]);
    roche_follow_free(f);
    assert_roche_ok(roche_close(db));
    test_dir_free(root);
}


struct retainer {
    roche_db *db;
    atomic_int stop;
};

static void *retain_loop(void *arg) {
    struct retainer *r = arg;
    while (!atomic_load(&r->stop)) {
        uint64_t freed;
        assert_roche_ok(roche_retain(r->db, NS, 0, 40 * 2016, &freed));
        test_sleep_ms(1);
    }
    return NULL;
}

/* Retention racing a follower (another thread keeps only the newest 40
 * records while one appends): the follower gets records intact and in
 * order, or ROCHE_EDROPPED, never damage. */
static void test_follower_races_retention(void **state) {
    (void)state;
    char *root = test_dir_new();
    roche_db *db = open_store(root, 1, 0);
    roche_follow *f;
    assert_roche_ok(roche_follow_open(db, NS, NULL, 0, 0, &f));
    struct retainer r = {db, 0};
    pthread_t t;
    pthread_create(&t, NULL, retain_loop, &r);
    char value[2000];
    unsigned next_seq = 0, delivered = 0, dropped = 0;
    for (unsigned i = 0; i < 3000; i++) {
        memset(value, 'a' + i % 26, sizeof value);
        memcpy(value, &i, sizeof i);
        assert_roche_ok(roche_append(db, NS, NULL, value, sizeof value, NULL));
        if (i % 3) continue;
        const void *data;
        size_t len;
        int rc;
        while ((rc = roche_follow_next(f, 0, NULL, &data, &len, NULL)) != ROCHE_ETIMEDOUT) {
            if (rc == ROCHE_EDROPPED) {
                dropped++;
                continue;
            }
            if (rc != ROCHE_OK) fail_msg("follow: %d (%s)", rc, roche_last_error());
            unsigned seq;
            memcpy(&seq, data, sizeof seq);
            assert_int_equal(len, sizeof value);
            assert_true(seq >= next_seq);  /* in order; a jump only past a drop */
            for (size_t b = sizeof seq; b < len; b += 97)
                if (((const char *)data)[b] != (char)('a' + seq % 26)) fail_msg("record %u damaged", seq);
            next_seq = seq + 1;
            delivered++;
        }
    }
    atomic_store(&r.stop, 1);
    pthread_join(t, NULL);
    assert_true(delivered > 0);
    roche_follow_free(f);
    assert_roche_ok(roche_close(db));
    test_dir_free(root);
}

static void test_follow_bad_arguments(void **state) {
    (void)state;
    char *root = test_dir_new();
    roche_db *db = open_store(root, 1, 0);
    roche_follow *f = (roche_follow *)1;
    assert_roche_code(roche_follow_open(NULL, NS, NULL, 0, 0, &f), ROCHE_EINVAL);
    assert_null(f);
    assert_roche_code(roche_follow_open(db, NS, NULL, 0, 0, NULL), ROCHE_EINVAL);
    assert_roche_code(roche_follow_open(db, NS, NULL, 3, 0, &f), ROCHE_EINVAL);
    assert_roche_code(roche_follow_open(db, NS, NULL, 0, 99, &f), ROCHE_EINVAL);
    assert_roche_code(roche_follow_open(db, "a/b", NULL, 0, 0, &f), ROCHE_EINVAL);
    assert_roche_code(roche_follow_open_cursor(db, NS, NULL, 0, &f), ROCHE_EINVAL);
    assert_roche_code(roche_follow_next(NULL, 0, NULL, NULL, NULL, NULL), ROCHE_EINVAL);
    assert_roche_code(roche_follow_wake(NULL), ROCHE_EINVAL);
    size_t n;
    assert_roche_code(roche_follow_position(NULL, NULL, 0, &n), ROCHE_EINVAL);
    assert_roche_ok(roche_follow_open(db, NS, NULL, 0, 0, &f));
    assert_roche_code(roche_follow_next(f, -2, NULL, NULL, NULL, NULL), ROCHE_EINVAL);
    assert_roche_code(roche_follow_next_batch(f, 0, 1, NULL, NULL, NULL, NULL, NULL), ROCHE_EINVAL);
    assert_roche_code(roche_follow_position(f, NULL, 1, &n), ROCHE_EINVAL);
    roche_follow_free(f);
    roche_follow_free(NULL);
    /* A read-only handle cannot follow a namespace that does not exist. */
    roche_db *r = open_store(root, 1, 1);
    assert_roche_code(roche_follow_open(r, "nothing", NULL, 0, 0, &f), ROCHE_ENOTFOUND);
    assert_roche_ok(roche_close(r));
    assert_roche_ok(roche_close(db));
    test_dir_free(root);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_follow_existing_then_new),
        cmocka_unit_test(test_wait_is_woken_by_append_and_by_wake),
        cmocka_unit_test(test_follow_across_processes),
        cmocka_unit_test(test_restart_from_position_misses_nothing),
        cmocka_unit_test(test_follow_from_end_and_batches),
        cmocka_unit_test(test_writer_killed_under_follower),
        cmocka_unit_test(test_follower_killed_while_waiting),
        cmocka_unit_test(test_delete_ends_a_waiting_follower),
        cmocka_unit_test(test_follower_survives_namespace_close),
        cmocka_unit_test(test_follower_learns_of_dropped_records),
        cmocka_unit_test(test_follower_races_retention),
        cmocka_unit_test(test_follow_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
