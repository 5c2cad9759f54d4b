/* Test helper: holds a store open for writing, as an application would,
 * while the cli tests run the tool beside it.
 *   hold_writer ROOT VALUE...  appends each VALUE to the default namespace,
 *   prints "ready" and waits for stdin to close before closing the store. */
#include <roche.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    roche_db *db;
    if (argc < 2 || roche_open(argv[1], NULL, &db) != ROCHE_OK) {
        fprintf(stderr, "hold_writer: %s\n", roche_last_error());
        return 1;
    }
    for (int i = 2; i < argc; i++) {
        if (roche_append(db, NULL, "held", argv[i], strlen(argv[i]), NULL) != ROCHE_OK) {
            fprintf(stderr, "hold_writer: %s\n", roche_last_error());
            return 1;
        }
    }
    printf("ready\n");
    fflush(stdout);
    while (getchar() != EOF) {
    }
    return roche_close(db) == ROCHE_OK ? 0 : 1;
}
