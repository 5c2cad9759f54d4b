/* The log benchmarks (issue: follow, cursors, retention), on the public C
 * API only, in one run:
 *
 *   follow latency  a writer process appends records holding the
 *                   CLOCK_MONOTONIC time of the append; a follower in
 *                   another process, read-only and blocked in
 *                   roche_follow_next() between records (the writer paces
 *                   them, so it sleeps each time), takes the difference at
 *                   delivery. Median, p99, p99.9 and max over --records,
 *                   and the follower's voluntary context switches per
 *                   record (about 1 when it slept for each one).
 *   retention pass  a store of --retain-mib MiB in 8 buckets; one
 *                   roche_retain() dropping the oldest half: GB/s freed and
 *                   the allocated disk (st_blocks) before and after.
 *
 * usage: roche_bench_log --data DIR [--records N] [--pace-us N] [--retain-mib N] [--out FILE]
 * Writes a Markdown table to --out (default stdout). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "roche.h"

static void die(const char *what, int rc) {
    fprintf(stderr, "roche_bench_log: %s: %s (%s)\n", what, roche_strerror(rc), roche_last_error());
    exit(1);
}

static uint64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static roche_db *open_store(const char *root, int read_only, uint32_t buckets) {
    roche_options *o = roche_options_new();
    roche_options_set_read_only(o, read_only);
    roche_options_set_buckets(o, buckets);
    roche_db *db;
    int rc = roche_open(root, o, &db);
    roche_options_free(o);
    if (rc) die("open", rc);
    return db;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static long voluntary_switches(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_nvcsw;
}

/* The follower: returns through the pipe its sorted latencies. */
static void follower(const char *root, uint64_t records, int ready_fd, int result_fd) {
    roche_db *db = open_store(root, 1, 1);
    roche_follow *f;
    int rc = roche_follow_open(db, "follow", NULL, 0, ROCHE_FOLLOW_FROM_END, &f);
    if (rc) die("follow", rc);
    uint64_t *lat = malloc(records * sizeof *lat);
    if (write(ready_fd, "r", 1) != 1) exit(1);
    long switches = voluntary_switches();
    for (uint64_t i = 0; i < records; i++) {
        const void *data;
        size_t len;
        if ((rc = roche_follow_next(f, 10000, NULL, &data, &len, NULL)) != ROCHE_OK) die("follow next", rc);
        uint64_t now = mono_ns(), sent;
        memcpy(&sent, data, sizeof sent);
        lat[i] = now - sent;
    }
    switches = voluntary_switches() - switches;
    if (write(result_fd, &switches, sizeof switches) != sizeof switches) exit(1);
    size_t bytes = records * sizeof *lat;
    for (size_t done = 0; done < bytes;) {
        ssize_t n = write(result_fd, (char *)lat + done, bytes - done);
        if (n <= 0) exit(1);
        done += (size_t)n;
    }
    roche_follow_free(f);
    roche_close(db);
    _exit(0);
}

static void follow_latency(const char *data_dir, uint64_t records, long pace_us, FILE *out) {
    char root[4096];
    snprintf(root, sizeof root, "%s/follow", data_dir);
    roche_db *db = open_store(root, 0, 1);
    char value[64] = {0};
    int rc = roche_append(db, "follow", NULL, value, sizeof value, NULL);  /* the namespace exists */
    if (rc) die("append", rc);
    int ready[2], result[2];
    if (pipe(ready) || pipe(result)) exit(1);
    fflush(NULL);  /* the child must not write the parent's buffered output again */
    pid_t pid = fork();
    if (pid == 0) follower(root, records, ready[1], result[1]);
    char c;
    if (read(ready[0], &c, 1) != 1) exit(1);
    prctl(PR_SET_TIMERSLACK, 1000UL);  /* the pace, not the timer slack */
    struct timespec pace = {0, pace_us * 1000L};
    for (uint64_t i = 0; i < records; i++) {
        nanosleep(&pace, NULL);  /* the follower is asleep again by now */
        uint64_t now = mono_ns();
        memcpy(value, &now, sizeof now);
        if ((rc = roche_append(db, "follow", NULL, value, sizeof value, NULL))) die("append", rc);
    }
    long switches;
    uint64_t *lat = malloc(records * sizeof *lat);
    if (read(result[0], &switches, sizeof switches) != sizeof switches) exit(1);
    size_t bytes = records * sizeof *lat;
    for (size_t done = 0; done < bytes;) {
        ssize_t n = read(result[0], (char *)lat + done, bytes - done);
        if (n <= 0) exit(1);
        done += (size_t)n;
    }
    int status;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status)) exit(1);
    qsort(lat, records, sizeof *lat, cmp_u64);
    fprintf(out, "| follow latency, append to delivery in another process (%llu records of 64 B, one every %ld us) "
                 "| median %.1f us | p99 %.1f us | p99.9 %.1f us | max %.1f us | %.2f voluntary context switches per record |\n",
            (unsigned long long)records, pace_us, lat[records / 2] / 1e3, lat[records * 99 / 100] / 1e3,
            lat[records * 999 / 1000] / 1e3, lat[records - 1] / 1e3, (double)switches / (double)records);
    free(lat);
    roche_close(db);
}

static long long allocated_bytes(const char *dir) {
    long long total = 0;
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char path[8192];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (e->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode)) total += (long long)st.st_blocks * 512;
    }
    closedir(d);
    return total;
}

static void retention_pass(const char *data_dir, uint64_t mib, FILE *out) {
    char root[4096], ns_dir[4200];
    snprintf(root, sizeof root, "%s/retain", data_dir);
    snprintf(ns_dir, sizeof ns_dir, "%s/ret", root);
    roche_db *db = open_store(root, 0, 8);
    static char value[4080];
    memset(value, 'r', sizeof value);
    uint64_t count = mib * 1024 * 1024 / (16 + sizeof value);
    for (uint64_t i = 0; i < count; i++) {
        char id[24];
        snprintf(id, sizeof id, "%llu", (unsigned long long)(i % 64));
        int rc = roche_append(db, "ret", id, value, sizeof value, NULL);
        if (rc) die("append", rc);
    }
    int rc = roche_sync(db);
    if (rc) die("sync", rc);
    long long before = allocated_bytes(ns_dir);
    uint64_t freed;
    uint64_t t0 = mono_ns();
    if ((rc = roche_retain(db, "ret", 0, count / 2 * (16 + sizeof value), &freed))) die("retain", rc);
    double seconds = (mono_ns() - t0) / 1e9;
    long long after = allocated_bytes(ns_dir);
    fprintf(out, "| retention pass, keep the newest half of %llu MiB in 8 buckets (sync, checkpoint, punch) "
                 "| %.2f GB/s freed | %.1f ms | disk %.1f MiB before | %.1f MiB after | %.1f MiB dropped |\n",
            (unsigned long long)mib, freed / seconds / 1e9, seconds * 1e3, before / 1048576.0, after / 1048576.0,
            freed / 1048576.0);
    roche_close(db);
}

int main(int argc, char **argv) {
    const char *data = NULL, *out_path = NULL;
    uint64_t records = 100000, retain_mib = 1024;
    long pace_us = 50;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--data")) data = argv[i + 1];
        else if (!strcmp(argv[i], "--records")) records = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--pace-us")) pace_us = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--retain-mib")) retain_mib = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--out")) out_path = argv[i + 1];
        else data = NULL, i = argc;
    }
    if (!data || records == 0) {
        fprintf(stderr, "usage: roche_bench_log --data DIR [--records N] [--pace-us N] [--retain-mib N] [--out FILE]\n");
        return 2;
    }
    mkdir(data, 0755);
    FILE *out = out_path ? fopen(out_path, "w") : stdout;
    if (!out) return 1;
    fprintf(out, "| workload | results |\n|---|---|\n");
    follow_latency(data, records, pace_us, out);
    retention_pass(data, retain_mib, out);
    if (out != stdout) fclose(out);
    return 0;
}
