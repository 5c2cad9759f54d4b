/* A namespace as a log: a producer thread appends while a consumer follows
 * from its cursor, committing as it goes; a second run of the consumer
 * goes on where the first stopped; retention then drops what is old.
 *
 *   cc -o log log.c $(pkg-config --cflags --libs roche) -lpthread
 *   ./log DIR */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <roche.h>

static roche_db *db;

static int check(int rc, const char *what) {
    if (rc != ROCHE_OK) fprintf(stderr, "%s: %s: %s\n", what, roche_strerror(rc), roche_last_error());
    return rc;
}

static void *produce(void *arg) {
    int first = *(int *)arg;
    for (int i = first; i < first + 5; i++) {
        char value[32];
        int n = snprintf(value, sizeof value, "event %d", i);
        check(roche_append(db, "events", NULL, value, (size_t)n, NULL), "append");
        struct timespec pause = {0, 20 * 1000000L};
        nanosleep(&pause, NULL);
    }
    return NULL;
}

/* Reads up to `count` records from where the cursor "mailer" stopped,
 * waiting for each as long as it takes. */
static int consume(int count) {
    roche_follow *f;
    if (check(roche_follow_open_cursor(db, "events", "mailer", 0, &f), "follow")) return 1;
    for (int n = 0; n < count; n++) {
        uint64_t offset;
        const void *value;
        size_t len;
        int rc = roche_follow_next(f, 5000, &offset, &value, &len, NULL);
        if (check(rc, "follow next")) break;
        printf("  %llu: %.*s\n", (unsigned long long)offset, (int)len, (const char *)value);
        check(roche_follow_commit(f, "mailer"), "commit");  /* at least once */
    }
    roche_follow_free(f);
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    roche_options *opts = roche_options_new();
    roche_options_set_buckets(opts, 1);
    if (check(roche_open(argv[1], opts, &db), "open")) return 1;
    roche_options_free(opts);

    pthread_t producer;
    int first = 0;
    pthread_create(&producer, NULL, produce, &first);
    printf("first consumer run, as the producer appends:\n");
    consume(3);
    pthread_join(producer, NULL);
    printf("second run, from the cursor:\n");
    consume(2);

    uint64_t freed = 0;
    check(roche_retain(db, "events", 0, 2 * (16 + 7), &freed), "retain");  /* keep the newest two */
    uint64_t kept, end;
    check(roche_bucket_range(db, "events", 0, &kept, &end), "bucket range");
    printf("retention dropped %llu bytes; the first record kept is at %llu\n", (unsigned long long)freed,
           (unsigned long long)kept);
    return check(roche_close(db), "close") ? 1 : 0;
}
