/* Threads sharing one handle, and processes sharing one store. */
#include "test_util.h"

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define THREADS 4
#define PER_THREAD 5000

struct worker {
    roche_db *db;
    int id;
    int use_id; /* all threads on one id (one bucket) or each on its own */
    uint64_t offs[PER_THREAD];
    int failures;
};

static size_t make_value(char *buf, int thread, int i) {
    return (size_t)sprintf(buf, "t%d-i%d-%0*d", thread, i, i % 50, 0);
}

/* Appends, and reads back every record it and the others wrote so far. */
static void *append_and_read(void *arg) {
    struct worker *w = arg;
    char value[128], key[16];
    snprintf(key, sizeof key, "shared");
    for (int i = 0; i < PER_THREAD; i++) {
        size_t len = make_value(value, w->id, i);
        if (roche_append(w->db, "threads", w->use_id ? key : NULL, value, len, &w->offs[i]))
            w->failures++;
        void *data;
        size_t got;
        int back = i / 2;
        if (roche_get(w->db, "threads", w->offs[back], &data, &got) != ROCHE_OK) {
            w->failures++;
            continue;
        }
        len = make_value(value, w->id, back);
        if (got != len || memcmp(data, value, len)) w->failures++;
        roche_free(data);
    }
    return NULL;
}

/* Scans while the appenders run: every record seen is whole. */
static void *scan_while_appending(void *arg) {
    struct worker *w = arg;
    for (int round = 0; round < 20; round++) {
        roche_scan *scan;
        if (roche_scan_open(w->db, "threads", 0, &scan)) {
            w->failures++;
            return NULL;
        }
        const void *data;
        size_t len;
        while (roche_scan_next(scan, NULL, &data, &len, NULL) == ROCHE_OK)
            if (len < 4 || ((const char *)data)[0] != 't') w->failures++;
        roche_scan_free(scan);
    }
    return NULL;
}

static void run_threads(int use_id) {
    char *dir = test_dir_new();
    roche_db *db = open_store(dir, 4, 0);
    static struct worker workers[THREADS + 1];
    pthread_t threads[THREADS + 1];
    for (int t = 0; t <= THREADS; t++) {
        workers[t] = (struct worker){.db = db, .id = t, .use_id = use_id};
        assert_int_equal(pthread_create(&threads[t], NULL,
                                        t < THREADS ? append_and_read : scan_while_appending,
                                        &workers[t]),
                         0);
    }
    for (int t = 0; t <= THREADS; t++) {
        pthread_join(threads[t], NULL);
        assert_int_equal(workers[t].failures, 0);
    }
    roche_stat_info info = {.version = ROCHE_STAT_VERSION};
    assert_roche_ok(roche_stat(db, "threads", &info));
    assert_int_equal(info.records, THREADS * PER_THREAD);
    assert_roche_ok(roche_close(db));
    /* After reopening, every offset still holds its value. */
    db = open_store(dir, 4, 1);
    char value[128];
    for (int t = 0; t < THREADS; t++)
        for (int i = 0; i < PER_THREAD; i += 97)
            assert_value(db, "threads", workers[t].offs[i], value, make_value(value, t, i));
    assert_roche_ok(roche_close(db));
    test_dir_free(dir);
}

static void test_threads_on_their_own_buckets(void **state) {
    (void)state;
    run_threads(0);
}

static void test_threads_on_one_bucket(void **state) {
    (void)state;
    run_threads(1);
}

static void *fail_on_this_thread(void *arg) {
    roche_db *none;
    (void)arg;
    roche_open(NULL, NULL, &none);
    return NULL;
}

static void test_last_error_is_per_thread(void **state) {
    (void)state;
    roche_db *db;
    assert_roche_code(roche_open("", NULL, &db), ROCHE_EINVAL);
    char mine[256];
    snprintf(mine, sizeof mine, "%s", roche_last_error());
    pthread_t other;
    pthread_create(&other, NULL, fail_on_this_thread, NULL);
    pthread_join(other, NULL);
    assert_string_equal(roche_last_error(), mine);
}

static void test_second_writer_is_refused_at_once(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *db = open_store(dir, 0, 0);
    roche_db *again;
    assert_roche_code(roche_open(dir, NULL, &again), ROCHE_ELOCKED); /* same process */
    pid_t pid = fork();
    if (pid == 0) {
        roche_db *child;
        _exit(roche_open(dir, NULL, &child) == ROCHE_ELOCKED ? 0 : 1);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_roche_ok(roche_close(db));
    db = open_store(dir, 0, 0); /* the lock went with the close */
    assert_roche_ok(roche_close(db));
    test_dir_free(dir);
}

/* A read-only process sees records a writer appends after it opened. */
static void test_reader_process_sees_new_appends(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *db = open_store(dir, 2, 0);
    uint64_t first;
    assert_roche_ok(roche_append(db, "live", NULL, "before", 6, &first));
    int to_child[2], to_parent[2];
    assert_int_equal(pipe(to_child), 0);
    assert_int_equal(pipe(to_parent), 0);
    pid_t pid = fork();
    if (pid == 0) {
        roche_options *opts = roche_options_new();
        roche_options_set_read_only(opts, 1);
        roche_db *ro;
        int ok = roche_open(dir, opts, &ro) == ROCHE_OK;
        void *data;
        size_t len;
        ok = ok && roche_get(ro, "live", first, &data, &len) == ROCHE_OK && len == 6;
        char go = ok ? 'y' : 'n';
        ok = ok && write(to_parent[1], &go, 1) == 1;
        uint64_t later;
        ok = ok && read(to_child[0], &later, sizeof later) == sizeof later;
        ok = ok && roche_get(ro, "live", later, &data, &len) == ROCHE_OK && len == 5 &&
             memcmp(data, "after", 5) == 0;
        roche_scan *scan;
        int n = 0;
        ok = ok && roche_scan_open(ro, "live", 0, &scan) == ROCHE_OK;
        while (ok && roche_scan_next(scan, NULL, NULL, NULL, NULL) == ROCHE_OK) n++;
        _exit(ok && n == 2 ? 0 : 1);
    }
    char go;
    assert_int_equal(read(to_parent[0], &go, 1), 1);
    assert_int_equal(go, 'y');
    uint64_t later;
    assert_roche_ok(roche_append(db, "live", NULL, "after", 5, &later));
    assert_int_equal(write(to_child[1], &later, sizeof later), sizeof later);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_roche_ok(roche_close(db));
    test_dir_free(dir);
}

/* kill -9 right after appends returned: all of them are there on reopen. */
static void test_appends_survive_kill(void **state) {
    (void)state;
    char *dir = test_dir_new();
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    pid_t pid = fork();
    if (pid == 0) {
        roche_db *db;
        if (roche_open(dir, NULL, &db)) _exit(1);
        char value[64];
        for (int i = 0;; i++) {
            uint64_t off;
            size_t len = make_value(value, 0, i);
            if (roche_append(db, NULL, NULL, value, len, &off)) _exit(1);
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
    roche_db *db = open_store(dir, 0, 0);
    char value[64];
    for (size_t i = 0; i < n; i++) assert_value(db, NULL, offs[i], value, make_value(value, 0, (int)i));
    uint64_t next;
    assert_roche_ok(roche_append(db, NULL, NULL, "next", 4, &next));
    assert_value(db, NULL, next, "next", 4);
    assert_roche_ok(roche_close(db));
    test_dir_free(dir);
}

/* A child of fork() may not use the parent's handle at all, and closing it
 * there leaves the parent's files alone. */
static void test_forked_child_cannot_use_the_handle(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *db = open_store(dir, 1, 0);
    uint64_t off;
    assert_roche_ok(roche_append(db, NULL, NULL, "parent", 6, &off));
    pid_t pid = fork();
    if (pid == 0) {
        uint64_t child_off;
        int refused = roche_append(db, NULL, NULL, "child", 5, &child_off) == ROCHE_EINVAL;
        /* Reads are refused too, even one that only lists directories. */
        char *names = NULL;
        size_t count = 0;
        refused = refused && roche_namespaces(db, &names, &count) == ROCHE_EINVAL && names == NULL;
        void *value = NULL;
        size_t len = 0;
        refused = refused && roche_get(db, NULL, off, &value, &len) == ROCHE_EINVAL;
        roche_close(db);
        _exit(refused ? 0 : 1);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* The parent still holds the store's lock: a second writer is refused. */
    roche_db *second = NULL;
    assert_int_equal(roche_open(dir, NULL, &second), ROCHE_ELOCKED);
    assert_null(second);
    /* The parent's mapping and reserved space are intact: it goes on. */
    for (int i = 0; i < 1000; i++) assert_roche_ok(roche_append(db, NULL, NULL, "more", 4, &off));
    assert_value(db, NULL, off, "more", 4);
    assert_value(db, NULL, 0, "parent", 6);
    assert_roche_ok(roche_close(db));
    test_dir_free(dir);
}

/* The library's own threads (the prefaulter, the syncer of
 * ROCHE_SYNC_PERIODIC) block every asynchronous signal, so a signal sent to
 * the process runs the application's handler on one of the application's
 * threads: Perl's handler crashed on a thread it did not know. The caller's
 * own mask is as it was. */
static void test_library_threads_take_no_signals(void **state) {
    (void)state;
    sigset_t none, before, after;
    sigemptyset(&none);
    assert_int_equal(pthread_sigmask(SIG_SETMASK, &none, &before), 0);
    char *dir = test_dir_new();
    roche_options *opts = roche_options_new();
    assert_non_null(opts);
    assert_roche_ok(roche_options_set_sync(opts, ROCHE_SYNC_PERIODIC));
    roche_db *db = NULL;
    assert_roche_ok(roche_open(dir, opts, &db));
    roche_options_free(opts);
    char value[4096] = {0};
    uint64_t off;
    for (int i = 0; i < 4096; i++) assert_roche_ok(roche_append(db, NULL, NULL, value, sizeof value, &off));
    assert_int_equal(pthread_sigmask(SIG_SETMASK, NULL, &after), 0);
    assert_int_equal(sigismember(&after, SIGALRM) || sigismember(&after, SIGTERM) || sigismember(&after, SIGINT), 0);

    long self = (long)syscall(SYS_gettid);
    int others = 0;
    DIR *tasks = opendir("/proc/self/task");
    assert_non_null(tasks);
    struct dirent *e;
    while ((e = readdir(tasks))) {
        if (e->d_name[0] == '.' || atol(e->d_name) == self) continue;
        char path[64], line[256];
        snprintf(path, sizeof path, "/proc/self/task/%s/status", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue; /* the thread ended meanwhile */
        unsigned long long blocked = 0;
        int found = 0;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "SigBlk: %llx", &blocked) == 1) found = 1;
        fclose(f);
        assert_true(found);
        /* SIGALRM, SIGTERM and SIGINT at least; bit n-1 is signal n */
        assert_true(blocked & (1ULL << (SIGALRM - 1)));
        assert_true(blocked & (1ULL << (SIGTERM - 1)));
        assert_true(blocked & (1ULL << (SIGINT - 1)));
        others++;
    }
    closedir(tasks);
    assert_true(others >= 1); /* the syncer at least; the prefaulter too where it runs */
    assert_roche_ok(roche_close(db));
    test_dir_free(dir);
    pthread_sigmask(SIG_SETMASK, &before, NULL);
}

/* Calls on three threads while a fourth closes and deletes namespaces under
 * them: no call runs on a namespace being released (under ASan, a store
 * whose close did not wait for the calls in flight fails here with a
 * use-after-free), and the calls on a namespace that is only closed
 * (reopened at its next use) read back every value they appended. */
#define GATE_WORKERS 3
#define GATE_ROUNDS 3000

struct gate_worker {
    roche_db *db;
    int id;
    atomic_int *stop;
    int failures;
    atomic_int calls;
};

/* Whether every worker has made at least `least` rounds of calls: on a
 * loaded machine a thread may not run at all during GATE_ROUNDS closes. */
static int all_called(struct gate_worker *workers, int least) {
    for (int t = 0; t < GATE_WORKERS; t++)
        if (atomic_load(&workers[t].calls) < least) return 0;
    return 1;
}

static void *call_through_closes(void *arg) {
    struct gate_worker *w = arg;
    char value[64], ns[16];
    snprintf(ns, sizeof ns, "stay%d", w->id);
    uint64_t offs[64];
    int n = 0;
    while (!atomic_load(w->stop)) {
        size_t len = (size_t)snprintf(value, sizeof value, "w%d-%d", w->id, n);
        uint64_t off;
        if (roche_append(w->db, ns, NULL, value, len, &off) != ROCHE_OK) {
            w->failures++;
            break;
        }
        offs[n % 64] = off;
        int back = n - (n % 64 < 32 ? n % 64 : 0); /* one of the last 64 written, or this one */
        void *data;
        size_t got;
        if (roche_get(w->db, ns, offs[back % 64], &data, &got) != ROCHE_OK) {
            w->failures++;
            break;
        }
        len = (size_t)snprintf(value, sizeof value, "w%d-%d", w->id, back);
        if (got != len || memcmp(data, value, len)) w->failures++;
        roche_free(data);
        /* The namespace being deleted: any answer but a crash. */
        roche_append(w->db, "churn", NULL, "x", 1, &off);
        if (roche_get(w->db, "churn", off, &data, &got) == ROCHE_OK) roche_free(data);
        roche_stat_info info = {.version = ROCHE_STAT_VERSION};
        roche_stat(w->db, "churn", &info);
        n++;
        atomic_fetch_add(&w->calls, 1);
    }
    return NULL;
}

static void test_calls_race_closes_and_deletes(void **state) {
    (void)state;
    char *dir = test_dir_new();
    roche_db *db = open_store(dir, 2, 0);
    atomic_int stop = 0;
    struct gate_worker workers[GATE_WORKERS];
    pthread_t threads[GATE_WORKERS];
    for (int t = 0; t < GATE_WORKERS; t++) {
        workers[t] = (struct gate_worker){.db = db, .id = t, .stop = &stop};
        assert_int_equal(pthread_create(&threads[t], NULL, call_through_closes, &workers[t]), 0);
    }
    char ns[16];
    for (int round = 0; round < GATE_ROUNDS || !all_called(workers, 100); round++) {
        int rc = roche_delete_namespace(db, "churn");
        assert_true(rc == ROCHE_OK || rc == ROCHE_ENOTFOUND);
        snprintf(ns, sizeof ns, "stay%d", round % GATE_WORKERS);
        rc = roche_close_namespace(db, ns);
        assert_true(rc == ROCHE_OK || rc == ROCHE_ENOTFOUND);
    }
    atomic_store(&stop, 1);
    for (int t = 0; t < GATE_WORKERS; t++) {
        pthread_join(threads[t], NULL);
        assert_int_equal(workers[t].failures, 0);
        assert_true(atomic_load(&workers[t].calls) >= 100);
    }
    assert_roche_ok(roche_close(db));
    test_dir_free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calls_race_closes_and_deletes),
        cmocka_unit_test(test_threads_on_their_own_buckets),
        cmocka_unit_test(test_threads_on_one_bucket),
        cmocka_unit_test(test_last_error_is_per_thread),
        cmocka_unit_test(test_second_writer_is_refused_at_once),
        cmocka_unit_test(test_reader_process_sees_new_appends),
        cmocka_unit_test(test_appends_survive_kill),
        cmocka_unit_test(test_forked_child_cannot_use_the_handle),
        cmocka_unit_test(test_library_threads_take_no_signals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
