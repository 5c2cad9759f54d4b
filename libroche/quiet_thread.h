// The library's own threads (the prefaulter, the syncer) take no
// asynchronous signals. A signal sent to the process goes to any thread
// that does not block it; on one of ours, the application's handler would
// run on a thread its runtime does not know. Perl's handler, for one,
// looks up its interpreter in thread-local storage and crashes there (a
// SIGALRM of Time::HiRes::ualarm did, in the Perl binding's tests). A new
// thread inherits its creator's mask: block everything around the start,
// then give the creator its own mask back.
#pragma once

#include <pthread.h>
#include <signal.h>

#include <thread>
#include <utility>

namespace roche {

template <class F>
std::thread start_quiet_thread(F &&body) {
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    struct Restore {
        const sigset_t *mask;
        ~Restore() { pthread_sigmask(SIG_SETMASK, mask, nullptr); }
    } restore{&old};  // also when the start throws
    return std::thread(std::forward<F>(body));
}

}  // namespace roche
