/* Many namespaces under a small descriptor limit. Under ulimit -n 1024 (set
 * here with setrlimit), one handle appends a 100-byte record to each of N
 * namespaces, a read-only handle in another process reads them back while
 * the writer appends a second record to each, then the writer reads every
 * record back in random order. Checks: every read is byte for byte, the
 * process never holds more descriptors than the bound it was given plus a
 * few, and a namespace of one small record costs at most 64 KiB of disk.
 * Prints the figures (wall time, peak RSS, descriptors, mappings, disk).
 *   ROCHE_NAMESPACES  how many (default 3000; the soak form is 100000) */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rel_util.h"

#define VALUE 100

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static long count_dir(const char *path) {
    DIR *d = opendir(path);
    if (!d) return -1;
    long n = 0;
    while (readdir(d)) n++;
    closedir(d);
    return n - 2;
}

static long count_lines(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long n = 0;
    for (int c; (c = fgetc(f)) != EOF;) n += c == '\n';
    fclose(f);
    return n;
}

static long peak_rss_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kib) == 1) break;
    if (f) fclose(f);
    return kib;
}

/* Bytes the files under dir take on disk (allocated blocks). */
static unsigned long long disk_bytes(const char *dir, unsigned long long *files) {
    DIR *d = opendir(dir);
    CHECK(d);
    unsigned long long total = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char path[4300];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        CHECK(lstat(path, &st) == 0);
        if (S_ISDIR(st.st_mode)) {
            total += disk_bytes(path, files);
        } else {
            total += (unsigned long long)st.st_blocks * 512;
            ++*files;
        }
    }
    closedir(d);
    return total;
}

static void value_of(uint8_t *buf, long ns, int round) { rel_fill(buf, VALUE, (uint64_t)ns * 2 + (uint64_t)round + 1); }

static void name_of(char *buf, size_t size, long i) { snprintf(buf, size, "ns-%07ld", i); }

/* The reader: a read-only handle reads every namespace's first record, in
 * a random order, over and over until told to stop; exits 0 if every read
 * it made was right. */
static int reader(const char *root, long n, const uint64_t *first, int stop_fd) {
    long inherited = count_dir("/proc/self/fd"); /* the writer's, copied by fork() */
    roche_db *db;
    if (rel_open(root, 0, 1, &db) != ROCHE_OK) return 10;
    uint64_t rng = 99;
    uint8_t expect[VALUE];
    char name[32];
    long reads = 0;
    for (;;) {
        char c;
        if (read(stop_fd, &c, 1) == 1) break;
        for (long k = 0; k < 1000; k++) {
            long i = (long)(rel_next(&rng) % (uint64_t)n);
            name_of(name, sizeof name, i);
            value_of(expect, i, 0);
            if (!rel_value_is(db, name, first[i], expect, VALUE)) {
                fprintf(stderr, "reader: namespace %s: %s\n", name, roche_last_error());
                return 11;
            }
            reads++;
        }
    }
    long fds = count_dir("/proc/self/fd") - inherited;
    printf("namespaces: the read-only process made %ld reads beside the writer, holding %ld descriptors of its own\n",
           reads, fds);
    if (fds > 256 + 16) return 12;
    fflush(stdout);
    roche_close(db);
    return 0;
}

int main(void) {
    long n = env_long("ROCHE_NAMESPACES", 3000);
    struct rlimit limit = {1024, 1024};
    CHECK(setrlimit(RLIMIT_NOFILE, &limit) == 0);
    char *root = rel_tempdir("namespaces");
    uint64_t *first = calloc((size_t)n, sizeof *first), *second = calloc((size_t)n, sizeof *second);
    CHECK(first && second);
    uint8_t value[VALUE];
    char name[32];
    double start = now();
    long max_fds = 0, max_maps = 0;

    roche_db *db;
    CHECK_OK(rel_open(root, 0, 0, &db));
    for (long i = 0; i < n; i++) {
        name_of(name, sizeof name, i);
        value_of(value, i, 0);
        CHECK_OK(roche_append(db, name, NULL, value, VALUE, &first[i]));
        if (i % 997 == 0) {
            long fds = count_dir("/proc/self/fd"), maps = count_lines("/proc/self/maps");
            if (fds > max_fds) max_fds = fds;
            if (maps > max_maps) max_maps = maps;
        }
    }
    double written = now();

    /* A reader in another process, while the writer appends again. */
    int stop[2];
    CHECK(pipe(stop) == 0);
    fflush(stdout);
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        close(stop[1]);
        CHECK(fcntl(stop[0], F_SETFL, O_NONBLOCK) == 0);
        _exit(reader(root, n, first, stop[0]));
    }
    close(stop[0]);
    for (long i = 0; i < n; i++) {
        name_of(name, sizeof name, i);
        value_of(value, i, 1);
        CHECK_OK(roche_append(db, name, NULL, value, VALUE, &second[i]));
    }
    CHECK(write(stop[1], "x", 1) == 1);
    int status;
    CHECK(waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    /* Every record back, in a random order, through the one writer. */
    uint64_t rng = 7;
    for (long k = 0; k < 2 * n; k++) {
        long i = (long)(rel_next(&rng) % (uint64_t)n);
        int round = (int)(rel_next(&rng) % 2);
        name_of(name, sizeof name, i);
        value_of(value, i, round);
        CHECK(rel_value_is(db, name, round ? second[i] : first[i], value, VALUE));
        if (k % 997 == 0) {
            long fds = count_dir("/proc/self/fd"), maps = count_lines("/proc/self/maps");
            if (fds > max_fds) max_fds = fds;
            if (maps > max_maps) max_maps = maps;
        }
    }
    double read_back = now();
    CHECK_OK(roche_close(db));
    unsigned long long files = 0, disk = disk_bytes(root, &files);
    double per_ns = (double)disk / (double)n;
    printf("namespaces: %ld namespaces, 2 records of %d B each, under ulimit -n 1024: written in %.1f s, "
           "read back (another process reading beside) in %.1f s\n",
           n, VALUE, written - start, read_back - written);
    printf("namespaces: peak RSS %.1f MiB, at most %ld descriptors and %ld mappings open, "
           "disk %.1f MiB in %llu files after close (%.1f KiB a namespace)\n",
           (double)peak_rss_kib() / 1024, max_fds, max_maps, (double)disk / (1 << 20), files, per_ns / 1024);
    CHECK(max_fds <= 256 + 16);   /* the default bound under this limit, and a few of ours */
    CHECK(per_ns <= 64 * 1024);  /* a namespace of small records stays small */
    rel_rmdir(root);
    free(first);
    free(second);
    printf("namespaces: 1 passed, 0 failed\n");
    return 0;
}
