/* The HTTP ceiling with libmicrohttpd: a fixed 50-byte body for every
 * request, on the same daemon flags and options as roche-serve (epoll, a
 * pool of THREADS polling threads, its connection limit and idle timeout),
 * one response object made once. bench/serve.sh compares roche-serve
 * with it.
 *   ceiling_mhd PORT [THREADS] */
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct MHD_Response *fixed;

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **ctx) {
    (void)cls; (void)url; (void)method; (void)version; (void)upload;
    if (*ctx == NULL) { *ctx = (void *)1; return MHD_YES; }
    if (*upload_size) { *upload_size = 0; return MHD_YES; }
    return MHD_queue_response(c, MHD_HTTP_OK, fixed);
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: ceiling_mhd PORT [THREADS]\n"); return 2; }
    static char body[51];
    memset(body, 'x', 50);
    fixed = MHD_create_response_from_buffer(50, body, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(fixed, "Content-Type", "application/octet-stream");
    unsigned threads = argc > 2 ? (unsigned)atoi(argv[2]) : 2;
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC,
        (uint16_t)atoi(argv[1]), NULL, NULL, answer, NULL,
        MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_LIMIT, 10000u,
        MHD_OPTION_CONNECTION_TIMEOUT, 300u,
        MHD_OPTION_END);
    if (!d) { perror("MHD_start_daemon"); return 1; }
    sigset_t set;
    sigemptyset(&set); sigaddset(&set, SIGTERM); sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int sig; sigwait(&set, &sig);
    MHD_stop_daemon(d);
    return 0;
}
