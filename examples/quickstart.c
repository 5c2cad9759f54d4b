/* quickstart: append, append_many, get, multiget and scan with libroche.
 * Build it as a user would: cc quickstart.c $(pkg-config --cflags --libs roche)
 * Run: ./quickstart [DIR]   (default ./roche-example-data)
 */
#include <stdio.h>
#include <string.h>

#include <roche.h>

/* Prints libroche's message for a failed call and leaves main. */
#define CHECK(call)                                                                  \
    do {                                                                             \
        int rc_ = (call);                                                            \
        if (rc_ != ROCHE_OK) {                                                       \
            fprintf(stderr, "%s: %s (%s)\n", #call, roche_strerror(rc_),             \
                    roche_last_error());                                             \
            return 1;                                                                \
        }                                                                            \
    } while (0)

int main(int argc, char **argv) {
    const char *root = argc > 1 ? argv[1] : "roche-example-data";
    printf("libroche %s (header %d.%d.%d), store in %s\n", roche_version(),
           ROCHE_VERSION_MAJOR, ROCHE_VERSION_MINOR, ROCHE_VERSION_PATCH, root);

    roche_options *opts = roche_options_new();
    CHECK(roche_options_set_buckets(opts, 4));
    roche_db *db;
    CHECK(roche_open(root, opts, &db));
    roche_options_free(opts);

    /* One value; the id keeps all of user-42's events in one bucket, in order. */
    uint64_t first;
    CHECK(roche_append(db, "events", "user-42", "login", 5, &first));

    /* Many values in one call: back to back in one buffer, with their lengths. */
    const char batch[] = "clickscrolllogout";
    size_t lens[] = {5, 6, 6};
    uint64_t offs[3];
    CHECK(roche_append_many(db, "events", "user-42", batch, lens, 3, offs));

    void *value;
    size_t len;
    CHECK(roche_get(db, "events", first, &value, &len));
    printf("get %llu -> %.*s\n", (unsigned long long)first, (int)len, (char *)value);
    roche_free(value);

    /* multiget: one status per item; a bad offset does not fail the rest. */
    uint64_t wanted[] = {offs[2], first + 1, offs[0]};
    roche_values *values;
    CHECK(roche_multiget(db, "events", wanted, 3, &values));
    for (size_t i = 0; i < roche_values_count(values); i++) {
        const void *data;
        int status = roche_values_item(values, i, &data, &len);
        if (status == ROCHE_OK)
            printf("multiget[%zu] -> %.*s\n", i, (int)len, (const char *)data);
        else
            printf("multiget[%zu] -> %s\n", i, roche_strerror(status));
    }
    roche_values_free(values);

    /* scan: every record of the namespace, in offset order. */
    roche_scan *scan;
    CHECK(roche_scan_open(db, "events", 0, &scan));
    uint64_t off, time_ns;
    const void *data;
    int rc;
    while ((rc = roche_scan_next(scan, &off, &data, &len, &time_ns)) == ROCHE_OK)
        printf("scan %llu (t=%llu) %.*s\n", (unsigned long long)off,
               (unsigned long long)time_ns, (int)len, (const char *)data);
    roche_scan_free(scan);
    if (rc != ROCHE_DONE) {
        fprintf(stderr, "scan: %s (%s)\n", roche_strerror(rc), roche_last_error());
        return 1;
    }
    return roche_close(db) == ROCHE_OK ? 0 : 1;
}
