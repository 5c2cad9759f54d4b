/* Appends one value and reads it back; exits 0 when the round trip works
 * and the library's version agrees with the header's. */
#include <roche.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc != 2 || roche_version_number() != ROCHE_VERSION_NUMBER) return 2;
    roche_db *db;
    uint64_t off;
    void *data;
    size_t len;
    if (roche_open(argv[1], NULL, &db) || roche_append(db, NULL, NULL, "ok", 2, &off) ||
        roche_get(db, NULL, off, &data, &len)) {
        fprintf(stderr, "%s\n", roche_last_error());
        return 1;
    }
    int same = len == 2 && memcmp(data, "ok", 2) == 0;
    roche_free(data);
    return roche_close(db) == ROCHE_OK && same ? 0 : 1;
}
