/* Test-only LD_PRELOAD shim: makes mmap, fallocate or large mallocs fail
 * on demand, so the fault tests reach libroche's error paths. The test
 * switches faults with roche_fault_set(), found through dlsym(). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

extern void *__libc_malloc(size_t size);

static volatile int fail_mmap;         /* every mmap fails with ENOMEM */
static volatile int fail_fallocate;    /* every fallocate fails with ENOSPC */
static volatile size_t fail_malloc_over; /* mallocs larger than this fail (0: off) */

void roche_fault_set(int mmap_fails, int fallocate_fails, size_t malloc_limit) {
    fail_mmap = mmap_fails;
    fail_fallocate = fallocate_fails;
    fail_malloc_over = malloc_limit;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
    if (fail_mmap) {
        errno = ENOMEM;
        return MAP_FAILED;
    }
    return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
    return mmap(addr, len, prot, flags, fd, off);
}

int fallocate(int fd, int mode, off_t off, off_t len) {
    if (fail_fallocate) {
        errno = ENOSPC;
        return -1;
    }
    long rc = syscall(SYS_fallocate, fd, mode, off, len);
    return (int)rc;
}

int fallocate64(int fd, int mode, off_t off, off_t len) { return fallocate(fd, mode, off, len); }

void *malloc(size_t size) {
    if (fail_malloc_over && size > fail_malloc_over) {
        errno = ENOMEM;
        return NULL;
    }
    return __libc_malloc(size);
}
