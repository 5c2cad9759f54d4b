#include "doorbell.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <ctime>

#include "error.h"
#include "fork_guard.h"

namespace roche {
namespace {

constexpr size_t kPage = 4096;

// Not FUTEX_PRIVATE_FLAG: followers in other processes share the word
// through the file's page cache.
long futex(std::atomic<uint32_t> *word, int op, uint32_t value, const struct timespec *timeout) {
    return syscall(SYS_futex, reinterpret_cast<uint32_t *>(word), op, value, timeout, nullptr, 0);
}

}  // namespace

Doorbell::~Doorbell() {
    if (!page_) return;
    untrack(page_slot_);
    munmap(page_, kPage);
}

int Doorbell::open(const std::string &dir, uint64_t owner) {
    std::string path = dir + "/doorbell";
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return fail_errno(path, errno);
    struct stat st;
    int err = 0;
    // ftruncate makes a hole: the page costs no disk until a follower waits.
    if (fstat(fd, &st) != 0 || (st.st_size < off_t(kPage) && ftruncate(fd, kPage) != 0)) err = errno;
    void *p = err ? MAP_FAILED : mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (!err && p == MAP_FAILED) err = errno;
    ::close(fd);
    if (err) return fail_errno(path, err);
    page_ = static_cast<uint8_t *>(p);
    page_slot_ = track_mapping(owner, p, kPage);
    return ROCHE_OK;
}

bool Doorbell::wait(uint32_t seen, int timeout_ms) {
    struct timespec limit, *timeout = nullptr;
    if (timeout_ms >= 0) {
        limit.tv_sec = timeout_ms / 1000;
        limit.tv_nsec = long(timeout_ms % 1000) * 1000000L;
        timeout = &limit;
    }
    if (futex(sequence(), FUTEX_WAIT, seen, timeout) == 0) return true;
    return errno != ETIMEDOUT;  // EAGAIN: rung before we slept; EINTR: a signal
}

void Doorbell::wake_all() {
    sequence()->fetch_add(1, std::memory_order_seq_cst);
    futex(sequence(), FUTEX_WAKE, INT_MAX, nullptr);
}

}  // namespace roche
