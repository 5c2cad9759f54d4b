// The HTTP ceiling with Boost.Beast: a fixed 50-byte body for every request,
// asynchronous, one io_context run by THREADS threads (as a Beast server
// would be written for roche-serve). bench/serve.sh measures it beside
// libmicrohttpd's.   ceiling_beast PORT [THREADS]
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <csignal>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;

class Session : public std::enable_shared_from_this<Session> {
public:
    explicit Session(tcp::socket s) : stream_(std::move(s)) {}
    void start() { read(); }

private:
    void read() {
        req_ = {};
        http::async_read(stream_, buf_, req_,
                         [self = shared_from_this()](boost::beast::error_code ec, size_t) {
                             if (!ec) self->respond();
                         });
    }
    void respond() {
        res_ = {};
        res_.result(http::status::ok);
        res_.version(req_.version());
        res_.keep_alive(req_.keep_alive());
        res_.set(http::field::content_type, "application/octet-stream");
        res_.body() = std::string(50, 'x');
        res_.prepare_payload();
        http::async_write(stream_, res_,
                          [self = shared_from_this()](boost::beast::error_code ec, size_t) {
                              if (!ec && self->res_.keep_alive()) self->read();
                          });
    }
    boost::beast::tcp_stream stream_;
    boost::beast::flat_buffer buf_;
    http::request<http::string_body> req_;
    http::response<http::string_body> res_;
};

void accept(tcp::acceptor &acc) {
    acc.async_accept(net::make_strand(acc.get_executor()), [&acc](boost::beast::error_code ec, tcp::socket s) {
        if (!ec) std::make_shared<Session>(std::move(s))->start();
        accept(acc);
    });
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    int threads = argc > 2 ? std::atoi(argv[2]) : 2;
    net::io_context ioc(threads);
    tcp::acceptor acc(ioc, {net::ip::make_address("127.0.0.1"), (unsigned short)std::atoi(argv[1])});
    accept(acc);
    net::signal_set sigs(ioc, SIGINT, SIGTERM);
    sigs.async_wait([&](auto, int) { ioc.stop(); });
    std::vector<std::thread> pool;
    for (int i = 1; i < threads; i++) pool.emplace_back([&] { ioc.run(); });
    ioc.run();
    for (auto &t : pool) t.join();
}
