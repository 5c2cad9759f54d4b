#include "test_util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

char *test_dir_new(void) {
    char *dir = strdup("/tmp/roche-test-XXXXXX");
    assert_non_null(dir);
    assert_non_null(mkdtemp(dir));
    return dir;
}

void test_dir_free(char *dir) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(dir);
}

roche_db *open_store(const char *root, uint32_t buckets, int read_only) {
    roche_options *opts = roche_options_new();
    assert_non_null(opts);
    if (buckets) assert_roche_ok(roche_options_set_buckets(opts, buckets));
    assert_roche_ok(roche_options_set_read_only(opts, read_only));
    roche_db *db = NULL;
    assert_roche_ok(roche_open(root, opts, &db));
    roche_options_free(opts);
    assert_non_null(db);
    return db;
}

char *bucket_path(const char *root, const char *ns, uint32_t b) {
    char *path = malloc(strlen(root) + 300);
    assert_non_null(path);
    sprintf(path, "%s/%s/append.%u.raw", root, ns ? ns : "default", b);
    return path;
}

long file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

void write_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

void *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    void *buf = malloc(*len + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, *len, f), *len);
    fclose(f);
    return buf;
}

void assert_value(roche_db *db, const char *ns, uint64_t offset, const void *expect, size_t len) {
    void *data = NULL;
    size_t got = 0;
    assert_roche_ok(roche_get(db, ns, offset, &data, &got));
    assert_int_equal(got, len);
    if (len) assert_memory_equal(data, expect, len);
    roche_free(data);
}

uint64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t wall_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void test_sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

int test_wait_child(int pid, int seconds) {
    uint64_t deadline = mono_ns() + (uint64_t)seconds * 1000000000u;
    int status = 0;
    for (;;) {
        pid_t got = waitpid(pid, &status, WNOHANG);
        if (got == pid) return status;
        if (got < 0 && errno != EINTR) fail_msg("waitpid(%d): %s", pid, strerror(errno));
        if (mono_ns() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            fail_msg("child %d still running after %d s: killed", pid, seconds);
        }
        test_sleep_ms(1);
    }
}

void test_assert_child_ok(int pid, int seconds) {
    int status = test_wait_child(pid, seconds);
    if (WIFSIGNALED(status))
        fail_msg("child %d killed by signal %d%s", pid, WTERMSIG(status),
                 WTERMSIG(status) == SIGALRM ? " (SIGALRM: it hung)" : "");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("child %d exited with code %d", pid, WEXITSTATUS(status));
}
