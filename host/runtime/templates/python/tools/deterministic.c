/*
 * deterministic.so: preloaded (LD_PRELOAD) into componentize-py while it builds the component, and
 * never part of the component. componentize-py pre-initialises the component by running CPython in
 * wasmtime with a real WASI context and snapshotting its memory; everything the interpreter read
 * from the host ends up in the snapshot, directly or as the garbage left in freed memory. This shim
 * makes what the build host returns the same on every build:
 *
 * - getrandom(2) (the libc function and the raw syscall): the same fixed bytes on every call, so
 *   that every random source (CPython's hash secret and `random` seed through WASI random, Rust's
 *   HashMap keys, tempfile names) is seeded alike whichever thread asks first;
 * - the wall clock (CLOCK_REALTIME): SOURCE_DATE_EPOCH;
 * - file times (stat, statx, the glibc __xstat family): SOURCE_DATE_EPOCH, so that directory and
 *   source mtimes the importer caches and the atimes left in freed stat results do not vary;
 * - the monotonic and CPU-time clocks: a per-thread counter advancing 1 microsecond per call, so
 *   that time still moves forward (timers fire) but no value depends on how long anything took.
 *
 * Inode numbers are not faked here: the guest's st_ino is WASI's metadata hash of the host's device
 * and inode, and wasmtime's file-system code (rustix) makes some stat calls as raw system calls that
 * no preloaded library sees. `build` runs componentize-py on a fresh tmpfs in a private mount
 * namespace instead, where inodes are numbered in creation order.
 *
 * Build-time only: it weakens randomness on purpose. Never preload it into anything else.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>

static time_t epoch(void) {
    const char *e = getenv("SOURCE_DATE_EPOCH");
    return e ? (time_t)strtoll(e, NULL, 10) : 0;
}

ssize_t getrandom(void *buf, size_t len, unsigned int flags) {
    (void)flags;
    uint64_t state = 0x5eed5eed5eed5eedULL; /* splitmix64, restarted on every call */
    unsigned char *p = buf;
    for (size_t i = 0; i < len; i++) {
        uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        p[i] = (unsigned char)(z ^ (z >> 31));
    }
    return (ssize_t)len;
}

int clock_gettime(clockid_t id, struct timespec *ts) {
    static int (*real)(clockid_t, struct timespec *);
    static __thread uint64_t ticks; /* per thread: no other thread can shift the sequence */
    if (!real) real = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
    switch (id) {
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_COARSE:
        ts->tv_sec = epoch();
        ts->tv_nsec = 0;
        return 0;
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME:
    case CLOCK_PROCESS_CPUTIME_ID:
    case CLOCK_THREAD_CPUTIME_ID: {
        uint64_t n = (ticks += 1000);
        ts->tv_sec = (time_t)(1000 + n / 1000000000ULL);
        ts->tv_nsec = (long)(n % 1000000000ULL);
        return 0;
    }
    default:
        return real(id, ts);
    }
}

static void fix_stat(struct stat *st) {
    time_t t = epoch();
    st->st_atim.tv_sec = st->st_mtim.tv_sec = st->st_ctim.tv_sec = t;
    st->st_atim.tv_nsec = st->st_mtim.tv_nsec = st->st_ctim.tv_nsec = 0;
}

static void fix_statx(struct statx *sx) {
    time_t t = epoch();
    sx->stx_atime.tv_sec = sx->stx_mtime.tv_sec = sx->stx_ctime.tv_sec = sx->stx_btime.tv_sec = t;
    sx->stx_atime.tv_nsec = sx->stx_mtime.tv_nsec = sx->stx_ctime.tv_nsec = sx->stx_btime.tv_nsec = 0;
}

int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *sx) {
    static int (*real)(int, const char *, int, unsigned int, struct statx *);
    if (!real) real = (int (*)(int, const char *, int, unsigned int, struct statx *))dlsym(RTLD_NEXT, "statx");
    int r = real(dirfd, path, flags, mask, sx);
    if (r == 0) fix_statx(sx);
    return r;
}

#define WRAP_XSTAT(name, T)                                                    \
    int name(int ver, T a, struct stat *st) {                                  \
        static int (*real)(int, T, struct stat *);                             \
        if (!real) real = (int (*)(int, T, struct stat *))dlsym(RTLD_NEXT, #name); \
        int r = real(ver, a, st);                                              \
        if (r == 0) fix_stat(st);                                              \
        return r;                                                              \
    }
WRAP_XSTAT(__xstat64, const char *)
WRAP_XSTAT(__lxstat64, const char *)
WRAP_XSTAT(__fxstat64, int)

int __fxstatat64(int ver, int dirfd, const char *path, struct stat *st, int flags) {
    static int (*real)(int, int, const char *, struct stat *, int);
    if (!real) real = (int (*)(int, int, const char *, struct stat *, int))dlsym(RTLD_NEXT, "__fxstatat64");
    int r = real(ver, dirfd, path, st, flags);
    if (r == 0) fix_stat(st);
    return r;
}

long syscall(long n, ...) {
    static long (*real)(long, ...);
    if (!real) real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
    va_list ap;
    va_start(ap, n);
    long a[6];
    for (int i = 0; i < 6; i++) a[i] = va_arg(ap, long);
    va_end(ap);
    if (n == SYS_getrandom) return getrandom((void *)a[0], (size_t)a[1], (unsigned)a[2]);
    long r = real(n, a[0], a[1], a[2], a[3], a[4], a[5]);
    if (n == SYS_statx && r == 0) fix_statx((struct statx *)a[4]);
    return r;
}
