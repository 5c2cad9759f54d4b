// roche-serve: rochefort v0.5's HTTP service on a libroche store, over
// libmicrohttpd. `roche serve ...` runs this program. See README.md.
//
// Threads: libmicrohttpd's pool of --threads polling threads (epoll) runs
// every request; the main thread only waits for SIGTERM/SIGINT and then
// drains: stop accepting, let requests in flight finish (up to --grace
// seconds), stop the daemon, roche_close(), exit 0.
#include <microhttpd.h>
#include <roche.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "request.h"

namespace serve {
namespace {

const char kUsage[] =
    "usage: roche serve [--root DIR] [--bind ADDR] [--buckets N] [OPTIONS]\n"
    "\n"
    "Serves the store over HTTP as rochefort v0.5 does, so its clients work\n"
    "unmodified: /append, /get, /getMulti, /scan, /close (see server/README.md).\n"
    "  --root DIR        the store (default: $ROCHE_ROOT, else ./roche-data)\n"
    "  --bind ADDR       HOST:PORT, [V6]:PORT, :PORT (all interfaces) or PORT\n"
    "                    (default 127.0.0.1:8000; port 0 picks a free one)\n"
    "  --buckets N       bucket files for a new namespace, 1..8191 (default 8)\n"
    "  --threads N       HTTP threads (default: the CPUs online)\n"
    "  --max-body SIZE   largest request body, e.g. 64M (default 256M; at most\n"
    "                    4G-1, a record's limit); larger ones get 413\n"
    "  --sync POLICY     never (default, as rochefort), always, or periodic\n"
    "                    (group commit every 100 ms)\n"
    "  --read-only       serve a store another process writes: appends fail\n"
    "  --format FORMAT   roche (default): libroche's record header check (CRC-32);\n"
    "                    rochefort: rochefort v0.5's (MetroHash64), to serve a\n"
    "                    rochefort data directory as it is, without 'roche\n"
    "                    import', ids placed in buckets as rochefort places them\n"
    "                    (--store-format is the same option)\n"
    "  --grace SECONDS   on SIGTERM, how long requests in flight may take to\n"
    "                    finish (default 30)\n"
    "  --idle-timeout S  close connections idle for S seconds (default 300, 0: never)\n"
    "rochefort's spellings -root, -bind and -buckets work too.\n"
    "Stops on SIGTERM or SIGINT: stops accepting, finishes the requests in\n"
    "flight, closes the store, exits 0.\n";

struct Config {
    std::string root, bind = "127.0.0.1:8000";
    uint32_t buckets = 0;
    unsigned threads = 0;
    uint64_t max_body = 256ull << 20;
    int sync = ROCHE_SYNC_NEVER;
    bool read_only = false;
    int format = ROCHE_FORMAT_ROCHE;
    unsigned grace = 30, idle_timeout = 300;
};

struct Server {
    roche_db *db = nullptr;
    uint64_t max_body = 0;
    std::atomic<long> in_flight{0};
    std::atomic<bool> draining{false};
};

// One request: created when its request line arrives, freed when it
// completes (answered, or the connection went away).
struct Request {
    std::string path, raw_query;
    Query query;
    Endpoint endpoint = Endpoint::Unknown;
    std::string body;
    uint64_t received = 0;
    bool started = false, too_big = false;
};

[[noreturn]] void usage_error(const std::string &message) {
    std::fprintf(stderr, "roche serve: %s\n\n%s", message.c_str(), kUsage);
    std::exit(2);
}

uint64_t parse_number(const char *text, const char *what) {
    uint64_t v;
    std::string error;
    if (!parse_u64(text, std::strlen(text), &v, &error))
        usage_error(std::string(what) + ": " + error);
    return v;
}

uint64_t parse_size(const std::string &text) {
    size_t digits = text.find_first_not_of("0123456789");
    uint64_t n = parse_number(text.substr(0, digits).c_str(), "--max-body");
    unsigned shift = 0;
    if (digits != std::string::npos) {
        const char *units = "KMG";
        const char *u = text.size() == digits + 1 ? std::strchr(units, text[digits]) : nullptr;
        if (!u || !*u) usage_error("--max-body: unknown unit in '" + text + "' (K, M or G)");
        shift = unsigned(10 * (u - units + 1));
    }
    if (n == 0 || n > (uint64_t(ROCHE_MAX_VALUE) >> shift))
        usage_error("--max-body must be 1..4G-1 bytes, not '" + text + "'");
    uint64_t v = n << shift;
    return v > ROCHE_MAX_VALUE ? ROCHE_MAX_VALUE : v;
}

Config parse_args(int argc, char **argv) {
    enum { kRoot = 1000, kBind, kBuckets, kThreads, kMaxBody, kSync, kReadOnly, kGrace,
           kIdle, kFormat, kHelp };
    static const struct option options[] = {
        {"root", required_argument, nullptr, kRoot},
        {"bind", required_argument, nullptr, kBind},
        {"buckets", required_argument, nullptr, kBuckets},
        {"threads", required_argument, nullptr, kThreads},
        {"max-body", required_argument, nullptr, kMaxBody},
        {"sync", required_argument, nullptr, kSync},
        {"read-only", no_argument, nullptr, kReadOnly},
        {"grace", required_argument, nullptr, kGrace},
        {"idle-timeout", required_argument, nullptr, kIdle},
        {"format", required_argument, nullptr, kFormat},
        {"store-format", required_argument, nullptr, kFormat},
        {"help", no_argument, nullptr, kHelp},
        {nullptr, 0, nullptr, 0},
    };
    Config c;
    bool root_given = false;
    opterr = 0;
    int id;
    // getopt_long_only: rochefort's single-dash -root, -bind, -buckets too.
    while ((id = getopt_long_only(argc, argv, ":h", options, nullptr)) != -1) {
        switch (id) {
        case kRoot: c.root = optarg; root_given = true; break;
        case kBind: c.bind = optarg; break;
        case kBuckets: {
            uint64_t n = parse_number(optarg, "--buckets");
            if (n < 1 || n > ROCHE_MAX_BUCKETS) usage_error("--buckets must be 1..8191");
            c.buckets = uint32_t(n);
            break;
        }
        case kThreads: {
            uint64_t n = parse_number(optarg, "--threads");
            if (n < 1 || n > 256) usage_error("--threads must be 1..256");
            c.threads = unsigned(n);
            break;
        }
        case kMaxBody: c.max_body = parse_size(optarg); break;
        case kSync:
            if (!std::strcmp(optarg, "never")) c.sync = ROCHE_SYNC_NEVER;
            else if (!std::strcmp(optarg, "always")) c.sync = ROCHE_SYNC_ALWAYS;
            else if (!std::strcmp(optarg, "periodic")) c.sync = ROCHE_SYNC_PERIODIC;
            else usage_error(std::string("--sync must be never, always or periodic, not '") +
                             optarg + "'");
            break;
        case kReadOnly: c.read_only = true; break;
        case kFormat:
            if (!std::strcmp(optarg, "roche")) c.format = ROCHE_FORMAT_ROCHE;
            else if (!std::strcmp(optarg, "rochefort")) c.format = ROCHE_FORMAT_ROCHEFORT;
            else usage_error(std::string("--format must be roche or rochefort, not '") + optarg + "'");
            break;
        case kGrace: c.grace = unsigned(parse_number(optarg, "--grace")); break;
        case kIdle: c.idle_timeout = unsigned(parse_number(optarg, "--idle-timeout")); break;
        case 'h':
        case kHelp: std::fputs(kUsage, stdout); std::exit(0);
        case ':': usage_error(std::string("option '") + argv[optind - 1] + "' needs a value");
        default: usage_error(std::string("unknown option '") + argv[optind - 1] + "'");
        }
    }
    if (optind < argc) usage_error(std::string("unexpected operand '") + argv[optind] + "'");
    if (!root_given) {
        const char *env = std::getenv("ROCHE_ROOT");
        c.root = env && *env ? env : "./roche-data";
    }
    if (c.threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        c.threads = n < 1 ? 1 : n > 64 ? 64 : unsigned(n);
    }
    return c;
}

// A listening socket on HOST:PORT (numeric or a name: its first address that
// binds; BIND is the option, for messages); DUAL makes an IPv6 socket take IPv4 too. -1 with *ERR set on failure
// (a resolver failure is printed and exits).
int bind_listen(const std::string &bind, const std::string &host, const std::string &port,
                bool dual, int *err) {
    struct addrinfo hints = {}, *res = nullptr;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(host.c_str(), port.c_str(), &hints, &res);
    if (gai != 0) {
        std::fprintf(stderr, "roche serve: --bind %s: %s\n", bind.c_str(), gai_strerror(gai));
        std::exit(1);
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            *err = errno;
            continue;
        }
        int one = 1, zero = 0;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (dual && ai->ai_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
        if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1024) == 0) break;
        *err = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

// Opens, binds and listens on ADDR; prints the error and exits on failure.
int listen_on(const std::string &bind, std::string *shown) {
    std::string host, port;
    bool any = false;
    if (!bind.empty() && bind[0] == '[') {
        size_t close = bind.find("]:");
        if (close == std::string::npos) usage_error("--bind: bad address '" + bind + "'");
        host = bind.substr(1, close - 1);
        port = bind.substr(close + 2);
    } else {
        size_t colon = bind.rfind(':');
        if (colon == std::string::npos) {
            host = "127.0.0.1";
            port = bind;
        } else {
            host = bind.substr(0, colon);
            port = bind.substr(colon + 1);
            // Go's ":8000": every interface, IPv6 and IPv4 (one dual-stack
            // socket, so "localhost" works whether it resolves to ::1 or
            // 127.0.0.1); IPv4 only where the host has no IPv6.
            any = host.empty();
            if (any) host = "::";
        }
    }
    if (port.empty() || port.find_first_not_of("0123456789") != std::string::npos ||
        port.size() > 5 || std::atoi(port.c_str()) > 65535)
        usage_error("--bind: bad port in '" + bind + "'");
    int err = 0;
    int fd = bind_listen(bind, host, port, any, &err);
    // A host without IPv6 (module off or disabled): ":PORT" is every IPv4
    // interface, as Go falls back to.
    if (fd < 0 && any && err != EADDRINUSE && err != EACCES)
        fd = bind_listen(bind, "0.0.0.0", port, false, &err);
    if (fd < 0) {
        std::fprintf(stderr, "roche serve: cannot listen on %s: %s\n", bind.c_str(),
                     std::strerror(err));
        std::exit(1);
    }
    struct sockaddr_storage sa;
    socklen_t len = sizeof sa;
    getsockname(fd, reinterpret_cast<struct sockaddr *>(&sa), &len);
    char text[INET6_ADDRSTRLEN] = "?";
    unsigned p = 0;
    if (sa.ss_family == AF_INET6) {
        auto *a = reinterpret_cast<struct sockaddr_in6 *>(&sa);
        inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
        p = ntohs(a->sin6_port);
        *shown = std::string("[") + text + "]:" + std::to_string(p);
    } else {
        auto *a = reinterpret_cast<struct sockaddr_in *>(&sa);
        inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
        p = ntohs(a->sin_port);
        *shown = std::string(text) + ":" + std::to_string(p);
    }
    return fd;
}

// --- libmicrohttpd callbacks -------------------------------------------------

// A connection's state: the request whose request line came last, until it
// completes. libmicrohttpd tells of every request it hands to on_access as
// completed, but not of one it refuses while reading its headers (too big,
// malformed): that one is freed with the next request or the connection.
struct Connection {
    Request *pending = nullptr;
};

void on_connection(void *, struct MHD_Connection *, void **socket_context,
                   enum MHD_ConnectionNotificationCode code) {
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        *socket_context = new (std::nothrow) Connection;
    } else {
        Connection *conn = static_cast<Connection *>(*socket_context);
        if (conn) delete conn->pending;
        delete conn;
        *socket_context = nullptr;
    }
}

Connection *connection_of(struct MHD_Connection *c) {
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? static_cast<Connection *>(info->socket_context) : nullptr;
}

// Called with the raw URI, before libmicrohttpd unescapes it: the query is
// parsed as Go does, by Query::parse. Returns the request's context.
void *on_request_line(void *, const char *uri, struct MHD_Connection *c) {
    Connection *conn = connection_of(c);
    if (!conn) return nullptr;
    delete conn->pending;  // one libmicrohttpd refused before on_access
    conn->pending = nullptr;
    Request *r = new (std::nothrow) Request;
    if (!r) return nullptr;
    const char *q = std::strchr(uri, '?');
    try {
        r->path.assign(uri, q ? size_t(q - uri) : std::strlen(uri));
        if (q) r->raw_query.assign(q + 1);
    } catch (const std::bad_alloc &) {
        delete r;
        return nullptr;
    }
    conn->pending = r;
    return r;
}

void on_completed(void *cls, struct MHD_Connection *c, void **ctx,
                  enum MHD_RequestTerminationCode) {
    Server *server = static_cast<Server *>(cls);
    Request *r = static_cast<Request *>(*ctx);
    if (!r) return;
    Connection *conn = connection_of(c);
    if (conn && conn->pending == r) conn->pending = nullptr;
    if (r->started) server->in_flight.fetch_sub(1);
    delete r;
    *ctx = nullptr;
}

ssize_t read_multi(void *cls, uint64_t, char *buf, size_t max) {
    size_t n = static_cast<MultiWriter *>(cls)->fill(buf, max);
    return n ? ssize_t(n) : MHD_CONTENT_READER_END_WITH_ERROR;
}

void free_multi(void *cls) { delete static_cast<MultiWriter *>(cls); }

ssize_t read_scan(void *cls, uint64_t, char *buf, size_t max) {
    ScanWriter *w = static_cast<ScanWriter *>(cls);
    long n = w->fill(buf, max);
    if (n > 0) return ssize_t(n);
    if (n == 0) return MHD_CONTENT_READER_END_OF_STREAM;
    // Headers are gone already: cutting the chunked stream short is how the
    // client learns the scan did not finish.
    std::fprintf(stderr, "roche serve: scan cut short: %s\n", w->error().c_str());
    return MHD_CONTENT_READER_END_WITH_ERROR;
}

void free_scan(void *cls) { delete static_cast<ScanWriter *>(cls); }

void release_view(void *cls) { roche_view_release(static_cast<roche_view *>(cls)); }

enum MHD_Result send(Server *server, struct MHD_Connection *c, Reply &reply) {
    struct MHD_Response *resp = nullptr;
    if (reply.view) {
        resp = MHD_create_response_from_buffer_with_free_callback_cls(
            reply.len, const_cast<void *>(reply.data), release_view, reply.view);
        if (resp) reply.view = nullptr;  // the response releases it now
    } else if (reply.multi) {
        resp = MHD_create_response_from_callback(reply.multi->total(), 64 * 1024, read_multi,
                                                 reply.multi, free_multi);
        if (resp) reply.multi = nullptr;
    } else if (reply.scan) {
        resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 256 * 1024, read_scan,
                                                 reply.scan, free_scan);
        if (resp) reply.scan = nullptr;
    } else {
        resp = MHD_create_response_from_buffer(reply.text.size(),
                                               const_cast<char *>(reply.text.data()),
                                               MHD_RESPMEM_MUST_COPY);
    }
    if (!resp) return MHD_NO;  // out of memory: drop the connection
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, reply.content_type);
    if (server->draining.load(std::memory_order_relaxed))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(c, unsigned(reply.status), resp);
    MHD_destroy_response(resp);
    return ret;
}

enum MHD_Result send_text(Server *server, struct MHD_Connection *c, int status,
                          const std::string &text) {
    Reply reply;
    reply.status = status;
    reply.text = text;
    return send(server, c, reply);
}

std::string too_big_text(uint64_t max) {
    return "request body too large: the limit is " + std::to_string(max) +
           " bytes (roche serve --max-body)";
}

bool wants_body(Endpoint e) { return e == Endpoint::Append || e == Endpoint::GetMulti; }

enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *, const char *,
                          const char *, const char *upload, size_t *upload_size, void **ctx) {
    Server *server = static_cast<Server *>(cls);
    Request *r = static_cast<Request *>(*ctx);
    if (!r) return MHD_NO;  // out of memory at the request line
    try {
        if (!r->started) {
            r->started = true;  // in flight from here to on_completed
            server->in_flight.fetch_add(1);
            r->endpoint = route(r->path.data(), r->path.size());
            r->query.parse(r->raw_query.data(), r->raw_query.size());
            const char *length = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                              MHD_HTTP_HEADER_CONTENT_LENGTH);
            uint64_t n = 0;
            std::string ignored;
            if (length && parse_u64(length, std::strlen(length), &n, &ignored)) {
                // Refused before the body is read (and before 100-continue).
                if (n > server->max_body)
                    return send_text(server, c, 413, too_big_text(server->max_body));
                if (wants_body(r->endpoint)) r->body.reserve(n < (64u << 20) ? n : (64u << 20));
            }
            return MHD_YES;
        }
        if (*upload_size) {
            r->received += *upload_size;
            if (r->received > server->max_body) {
                if (!r->too_big) std::string().swap(r->body);
                r->too_big = true;
            } else if (wants_body(r->endpoint)) {
                r->body.append(upload, *upload_size);
            }
            *upload_size = 0;
            return MHD_YES;
        }
        if (r->too_big) return send_text(server, c, 413, too_big_text(server->max_body));
        Reply reply;
        handle(server->db, r->endpoint, r->query, r->body, &reply);
        std::string().swap(r->body);
        return send(server, c, reply);
    } catch (const std::bad_alloc &) {
        return send_text(server, c, 500, roche_strerror(ROCHE_ENOMEM));
    }
}

void log_mhd(void *, const char *fmt, va_list ap) {
    std::fputs("roche serve: libmicrohttpd: ", stderr);
    std::vfprintf(stderr, fmt, ap);
}

int run(int argc, char **argv) {
    Config config = parse_args(argc, argv);

    // Every thread started from here on inherits the blocked signals; the
    // main thread takes them with sigwait.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);
    signal(SIGPIPE, SIG_IGN);

    roche_options *opts = roche_options_new();
    if (!opts) {
        std::fprintf(stderr, "roche serve: %s\n", roche_strerror(ROCHE_ENOMEM));
        return 1;
    }
    if (config.buckets) roche_options_set_buckets(opts, config.buckets);
    roche_options_set_read_only(opts, config.read_only);
    roche_options_set_sync(opts, config.sync);
    roche_options_set_format(opts, config.format);
    set_rochefort_placement(config.format == ROCHE_FORMAT_ROCHEFORT);
    Server server;
    server.max_body = config.max_body;
    int rc = roche_open(config.root.c_str(), opts, &server.db);
    roche_options_free(opts);
    if (rc != ROCHE_OK) {
        std::fprintf(stderr, "roche serve: cannot open %s: %s\n", config.root.c_str(),
                     roche_message(rc).c_str());
        if (rc == ROCHE_ELOCKED)
            std::fprintf(stderr, "roche serve: another process writes to it; "
                                 "--read-only serves beside it\n");
        return 1;
    }

    std::string shown;
    int fd = listen_on(config.bind, &shown);
    struct MHD_Daemon *daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG,
        0, nullptr, nullptr, on_access, &server,
        MHD_OPTION_EXTERNAL_LOGGER, log_mhd, nullptr,
        MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_THREAD_POOL_SIZE, config.threads,
        MHD_OPTION_CONNECTION_LIMIT, 10000u,
        MHD_OPTION_CONNECTION_TIMEOUT, config.idle_timeout,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, nullptr,
        MHD_OPTION_URI_LOG_CALLBACK, on_request_line, &server,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, &server,
        MHD_OPTION_END);
    if (!daemon) {
        std::fprintf(stderr, "roche serve: cannot start the HTTP server on %s\n", shown.c_str());
        close(fd);
        roche_close(server.db);
        return 1;
    }
    std::fprintf(stderr, "roche serve: listening on http://%s (root %s, %u threads%s)\n",
                 shown.c_str(), config.root.c_str(), config.threads,
                 config.read_only ? ", read-only" : "");

    int sig = 0;
    while (sigwait(&stop, &sig) != 0) {
    }
    std::fprintf(stderr, "roche serve: %s: stopping, %ld requests in flight\n", strsignal(sig),
                 server.in_flight.load());
    // Drain: no new connections; keep-alive connections get "Connection:
    // close" on their next answer; requests in flight finish, up to --grace
    // seconds (a second signal cuts the wait short).
    server.draining = true;
    int listen_fd = MHD_quiesce_daemon(daemon);
    if (listen_fd >= 0) close(listen_fd);
    struct timespec tick = {0, 10 * 1000 * 1000};
    for (unsigned waited = 0; server.in_flight.load() > 0 && waited < config.grace * 100;
         waited++) {
        if (sigtimedwait(&stop, nullptr, &tick) > 0) {
            std::fprintf(stderr, "roche serve: second signal: stopping now\n");
            break;
        }
    }
    long left = server.in_flight.load();
    if (left > 0) std::fprintf(stderr, "roche serve: %ld requests cut short\n", left);
    MHD_stop_daemon(daemon);
    rc = roche_close(server.db);
    if (rc != ROCHE_OK) {
        std::fprintf(stderr, "roche serve: close: %s\n", roche_message(rc).c_str());
        return 1;
    }
    std::fprintf(stderr, "roche serve: stopped\n");
    return 0;
}

}  // namespace
}  // namespace serve

int main(int argc, char **argv) {
    try {
        return serve::run(argc, argv);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "roche serve: %s\n", e.what());
        return 1;
    }
}
