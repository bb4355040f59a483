/*
 * Deterministic WASI for Wizer's pre-initialisation snapshot (LD_PRELOAD into the wizer process).
 *
 * componentize-js runs the JavaScript engine's start-up and the pack's top level inside Wizer, with
 * WASI enabled, and snapshots the resulting memory into the component. SpiderMonkey reads the
 * WASI clocks and random source while it starts (hash seeds, Math.random state, the realm's time
 * origin), so the snapshot, and hence the component's bytes, differ on every build. Wizer's WASI
 * implementation (wasmtime-wasi) takes both from the host: random bytes from the getrandom system
 * call (through libc `getrandom` or `syscall(SYS_getrandom)`), time from `clock_gettime`. This
 * shim makes both constant inside the wizer process only. The component itself is built with every
 * WASI feature disabled, so at run time it has no clock or random source either: nothing that was
 * random before is random in the running pack because of this.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>

/* A fixed byte stream: the same bytes for every request. */
static void fill(void *buf, size_t len) {
    unsigned char *p = buf;
    for (size_t i = 0; i < len; i++) p[i] = (unsigned char)(i * 131u + 17u);
}

ssize_t getrandom(void *buf, size_t len, unsigned int flags) {
    (void)flags;
    fill(buf, len);
    return (ssize_t)len;
}

int getentropy(void *buf, size_t len) {
    fill(buf, len);
    return 0;
}

long syscall(long number, ...) {
    va_list ap;
    long a[6];
    va_start(ap, number);
    for (int i = 0; i < 6; i++) a[i] = va_arg(ap, long);
    va_end(ap);
    if (number == SYS_getrandom) {
        fill((void *)a[0], (size_t)a[1]);
        return a[1];
    }
    static long (*real)(long, ...) = NULL;
    if (!real) real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
    return real(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* Every clock reads the same instant (SOURCE_DATE_EPOCH is not consulted: the instant only needs
 * to be the same on every build, and the component cannot read clocks at run time). */
int clock_gettime(clockid_t clock, struct timespec *ts) {
    (void)clock;
    ts->tv_sec = 1000000000; /* 2001-09-09T01:46:40Z */
    ts->tv_nsec = 0;
    return 0;
}

/*
 * File times. The engine reads the sources through WASI, and the `stat` results it gets pass
 * through linear memory, which the snapshot keeps: a copy of the same source made at another time
 * (another checkout, another machine) has other access, change and birth times. Every time is
 * reported as the fixed instant. Wizer's WASI (cap-std) calls the libc functions below.
 */
#include <fcntl.h>
#include <sys/stat.h>

#define FIXED_SECONDS 1000000000

static void fix_stat(struct stat *st) {
    st->st_dev = 1;
    st->st_ino = 1;
    st->st_atim.tv_sec = st->st_mtim.tv_sec = st->st_ctim.tv_sec = FIXED_SECONDS;
    st->st_atim.tv_nsec = st->st_mtim.tv_nsec = st->st_ctim.tv_nsec = 0;
}

typedef int (*fxstat_fn)(int, int, struct stat *);
typedef int (*fxstatat_fn)(int, int, const char *, struct stat *, int);
typedef int (*xstat_fn)(int, const char *, struct stat *);
typedef int (*statx_fn)(int, const char *, int, unsigned int, struct statx *);

#define REAL(name, type) \
    static type real_##name = NULL; \
    if (!real_##name) real_##name = (type)dlsym(RTLD_NEXT, #name)

int __fxstat64(int ver, int fd, struct stat *st) {
    REAL(__fxstat64, fxstat_fn);
    int r = real___fxstat64(ver, fd, st);
    if (r == 0) fix_stat(st);
    return r;
}

int __fxstatat64(int ver, int dirfd, const char *path, struct stat *st, int flags) {
    REAL(__fxstatat64, fxstatat_fn);
    int r = real___fxstatat64(ver, dirfd, path, st, flags);
    if (r == 0) fix_stat(st);
    return r;
}

int __xstat64(int ver, const char *path, struct stat *st) {
    REAL(__xstat64, xstat_fn);
    int r = real___xstat64(ver, path, st);
    if (r == 0) fix_stat(st);
    return r;
}

int __lxstat64(int ver, const char *path, struct stat *st) {
    REAL(__lxstat64, xstat_fn);
    int r = real___lxstat64(ver, path, st);
    if (r == 0) fix_stat(st);
    return r;
}

int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *stx) {
    REAL(statx, statx_fn);
    int r = real_statx(dirfd, path, flags, mask, stx);
    if (r == 0) {
        stx->stx_ino = 1;
        stx->stx_dev_major = 0;
        stx->stx_dev_minor = 1;
        stx->stx_atime.tv_sec = stx->stx_btime.tv_sec = stx->stx_ctime.tv_sec = stx->stx_mtime.tv_sec = FIXED_SECONDS;
        stx->stx_atime.tv_nsec = stx->stx_btime.tv_nsec = stx->stx_ctime.tv_nsec = stx->stx_mtime.tv_nsec = 0;
    }
    return r;
}
