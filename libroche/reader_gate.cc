#include "reader_gate.h"

#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <mutex>
#include <vector>

namespace roche {
namespace {

// Which gate a thread is inside. One cache line each: a reader writes only
// its own line.
struct alignas(64) ThreadRecord {
    std::atomic<uint64_t> gate{0};  // the gate's id, or 0
    uint32_t depth = 0;             // times taken: read and written by its thread only
};

// Every record ever made. A thread's record goes back to the free list when
// the thread ends, for the next thread; none is ever freed, so a writer may
// read a record whatever its thread does meanwhile.
class Registry {
public:
    Registry() {
        // A fork() while another thread holds mu_ would leave it locked in
        // the child for ever.
        pthread_atfork([] { registry().mu_.lock(); }, [] { registry().mu_.unlock(); },
                       [] { registry().mu_.unlock(); });
    }
    static Registry &registry() {
        static Registry *r = new Registry;  // never destroyed: threads may end after exit() began
        return *r;
    }
    ThreadRecord *acquire() {
        std::lock_guard<std::mutex> lock(mu_);
        if (!free_.empty()) {
            ThreadRecord *r = free_.back();
            free_.pop_back();
            return r;
        }
        all_.push_back(new ThreadRecord);
        return all_.back();
    }
    void release(ThreadRecord *r) {
        std::lock_guard<std::mutex> lock(mu_);
        free_.push_back(r);
    }
    std::vector<ThreadRecord *> snapshot() {
        std::lock_guard<std::mutex> lock(mu_);
        return all_;
    }

private:
    std::mutex mu_;
    std::vector<ThreadRecord *> all_, free_;
};

// The hot path reads only this pointer (trivial: no initialization check);
// the holder, made once per thread, gives the record back when it ends.
thread_local ThreadRecord *t_record = nullptr;
struct RecordHolder {
    ~RecordHolder() {
        if (t_record) Registry::registry().release(t_record);
        t_record = nullptr;
    }
};
thread_local RecordHolder t_holder;

ThreadRecord *my_record() {
    ThreadRecord *r = t_record;
    if (__builtin_expect(r != nullptr, 1)) return r;
    r = Registry::registry().acquire();
    t_record = r;
    static_cast<void>(&t_holder);  // made now: its destructor is due when the thread ends
    return r;
}

std::atomic<uint64_t> next_gate_id{1};

}  // namespace

ReaderGate::ReaderGate() : id_(next_gate_id.fetch_add(1)) {}

void ReaderGate::lock_shared() {
    ThreadRecord *me = my_record();
    uint64_t inside = me->gate.load(std::memory_order_relaxed);
    if (inside == id_) {
        me->depth++;
        return;
    }
    if (inside != 0) {
        // Inside another gate already (one record holds one gate): this
        // one is taken as a plain shared lock, which writers also wait for.
        turn_.lock_shared();
        return;
    }
    for (;;) {
        me->gate.exchange(id_, std::memory_order_seq_cst);
        if (!writer_.load(std::memory_order_seq_cst)) {
            me->depth = 1;
            return;
        }
        // A writer is in or on its way: step out, wait for it, try again.
        me->gate.store(0, std::memory_order_release);
        std::shared_lock<std::shared_mutex> wait(turn_);
    }
}

void ReaderGate::unlock_shared() {
    ThreadRecord *me = t_record;  // lock_shared() made it
    if (me->gate.load(std::memory_order_relaxed) != id_) {
        turn_.unlock_shared();
        return;
    }
    if (--me->depth == 0) me->gate.store(0, std::memory_order_release);
}

void ReaderGate::lock() {
    turn_.lock();
    writer_.exchange(true, std::memory_order_seq_cst);
    // A record made after the snapshot belongs to a thread that will see
    // writer_ when it comes in.
    for (ThreadRecord *r : Registry::registry().snapshot()) {
        for (int waits = 0; r->gate.load(std::memory_order_seq_cst) == id_; waits++) {
            if (waits < 64) {
                sched_yield();
            } else {
                struct timespec pause = {0, 50 * 1000};  // a long call (a large append) is inside
                nanosleep(&pause, nullptr);
            }
        }
    }
}

void ReaderGate::unlock() {
    writer_.store(false, std::memory_order_release);
    turn_.unlock();
}

}  // namespace roche
