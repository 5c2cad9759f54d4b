/* roche_interop: the C side of the bindings' cross-language tests.
 *   roche_interop write ROOT NS HEX...    append each value, print offsets
 *   roche_interop read ROOT NS OFFSET...  print each value as hex, or ERR <code>
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roche.h"

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int write_values(roche_db *db, const char *ns, char **hex, int count) {
    for (int i = 0; i < count; i++) {
        size_t n = strlen(hex[i]) / 2;
        unsigned char *buf = malloc(n + 1);
        for (size_t j = 0; j < n; j++) {
            int hi = hex_value(hex[i][2 * j]), lo = hex_value(hex[i][2 * j + 1]);
            if (!buf || hi < 0 || lo < 0 || strlen(hex[i]) % 2) {
                fprintf(stderr, "roche_interop: bad hex \"%s\"\n", hex[i]);
                free(buf);
                return 1;
            }
            buf[j] = (unsigned char)(hi * 16 + lo);
        }
        uint64_t offset;
        int rc = roche_append(db, ns, NULL, buf, n, &offset);
        free(buf);
        if (rc != ROCHE_OK) {
            fprintf(stderr, "roche_interop: %s: %s\n", roche_strerror(rc), roche_last_error());
            return 1;
        }
        printf("%llu\n", (unsigned long long)offset);
    }
    return 0;
}

static int read_values(roche_db *db, const char *ns, char **offsets, int count) {
    for (int i = 0; i < count; i++) {
        void *data;
        size_t len;
        int rc = roche_get(db, ns, strtoull(offsets[i], NULL, 10), &data, &len);
        if (rc != ROCHE_OK) {
            printf("ERR %d\n", rc);
            continue;
        }
        for (size_t j = 0; j < len; j++) printf("%02x", ((unsigned char *)data)[j]);
        printf("\n");
        roche_free(data);
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 4 || (strcmp(argv[1], "write") && strcmp(argv[1], "read"))) {
        fprintf(stderr, "usage: roche_interop write|read ROOT NS ARG...\n");
        return 2;
    }
    int writing = strcmp(argv[1], "write") == 0;
    roche_options *opts = roche_options_new();
    roche_options_set_read_only(opts, !writing);
    roche_db *db;
    int rc = roche_open(argv[2], opts, &db);
    roche_options_free(opts);
    if (rc != ROCHE_OK) {
        fprintf(stderr, "roche_interop: %s: %s\n", roche_strerror(rc), roche_last_error());
        return 1;
    }
    int status = writing ? write_values(db, argv[3], argv + 4, argc - 4)
                         : read_values(db, argv[3], argv + 4, argc - 4);
    return roche_close(db) == ROCHE_OK ? status : 1;
}
