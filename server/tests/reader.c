/* A reader in another process beside roche-serve: opens the store
 * read-only and prints every record of a namespace, one per line, as
 * "offset length hex(value)", in scan order.   reader ROOT NS */
#include <roche.h>
#include <stdio.h>

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: reader ROOT NS\n");
        return 2;
    }
    roche_options *opts = roche_options_new();
    roche_options_set_read_only(opts, 1);
    roche_db *db = NULL;
    int rc = roche_open(argv[1], opts, &db);
    roche_options_free(opts);
    if (rc != ROCHE_OK) {
        fprintf(stderr, "open: %s: %s\n", roche_strerror(rc), roche_last_error());
        return 1;
    }
    roche_scan *scan = NULL;
    rc = roche_scan_open(db, argv[2], 0, &scan);
    uint64_t offset;
    const void *data;
    size_t len;
    while (rc == ROCHE_OK && (rc = roche_scan_next(scan, &offset, &data, &len, NULL)) == ROCHE_OK) {
        printf("%llu %zu ", (unsigned long long)offset, len);
        for (size_t i = 0; i < len; i++) printf("%02x", ((const unsigned char *)data)[i]);
        printf("\n");
    }
    roche_scan_free(scan);
    roche_close(db);
    if (rc != ROCHE_DONE) {
        fprintf(stderr, "scan: %s: %s\n", roche_strerror(rc), roche_last_error());
        return 1;
    }
    return 0;
}
