// Ctrl-C (SIGINT) and SIGTERM end a long-running command cleanly: a thread
// waits for them with sigwait() and runs a callback there (such as
// roche_follow_wake(), which takes a lock, so it cannot run in a signal
// handler). Used by roche tail -f and by roche-kafka.
#ifndef ROCHE_CLI_STOP_ON_SIGNAL_H
#define ROCHE_CLI_STOP_ON_SIGNAL_H

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <functional>
#include <thread>

namespace cli {

class StopOnSignal {
public:
    // Blocks SIGINT and SIGTERM in the calling thread (and in threads it
    // starts later) and calls on_signal from the waiting thread when one
    // arrives. Create it before starting other threads.
    explicit StopOnSignal(std::function<void()> on_signal) : on_signal_(std::move(on_signal)) {
        sigemptyset(&set_);
        sigaddset(&set_, SIGINT);
        sigaddset(&set_, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &set_, &old_);
        waiter_ = std::thread([this] {
            int sig = 0;
            sigwait(&set_, &sig);
            if (!done_.load()) {  // a signal, not the destructor
                signaled_.store(true);
                on_signal_();
            }
        });
    }
    ~StopOnSignal() {
        done_.store(true);
        pthread_kill(waiter_.native_handle(), SIGTERM);  // ends its sigwait (blocked: never delivered)
        waiter_.join();
        pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    }
    StopOnSignal(const StopOnSignal &) = delete;
    StopOnSignal &operator=(const StopOnSignal &) = delete;

    bool signaled() const { return signaled_.load(); }

private:
    std::function<void()> on_signal_;
    sigset_t set_, old_;
    std::atomic<bool> done_{false}, signaled_{false};
    std::thread waiter_;
};

}  // namespace cli

#endif
