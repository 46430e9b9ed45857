/* Preloaded before libfaketime when the tests run at a shifted moment (tests/harness/at.py), for
   what libfaketime 0.9.10 gets wrong with a fixed offset (FAKETIME=+Ns):

   - Sleeps. It shifts the deadline of clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME) even with
     FAKETIME_DONT_FAKE_MONOTONIC=1 (wolfcw/libfaketime#426): Python >= 3.11 sleeps that way, so
     time.sleep fails with EINVAL (clock shifted ahead) or hangs (shifted back). Sleeps on any
     clock but the wall clock go straight to the kernel; wall-clock sleeps stay libfaketime's.
   - File times. The kernel stamps files with the real time, and libfaketime leaves the stat
     family of glibc >= 2.33 alone: a file written a second ago looked weeks old (or young) to the
     shifted process. Times read are shifted by the offset, times set are shifted back, as on a
     machine whose clock showed that moment. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int clock_nanosleep(clockid_t clock_id, int flags, const struct timespec *req, struct timespec *rem) {
    if (clock_id != CLOCK_REALTIME) {
        /* the glibc contract: the error number is returned, errno is left alone */
        int saved = errno;
        long r = syscall(SYS_clock_nanosleep, clock_id, flags, req, rem);
        int err = r == 0 ? 0 : errno;
        errno = saved;
        return err;
    }
    static int (*next)(clockid_t, int, const struct timespec *, struct timespec *);
    if (next == NULL)
        next = (int (*)(clockid_t, int, const struct timespec *, struct timespec *))dlsym(RTLD_NEXT, "clock_nanosleep");
    return next(clock_id, flags, req, rem);
}

/* The offset of FAKETIME=+Ns / -Ns (the only form at.py writes); 0 for anything else. */
static long offset_s(void) {
    static int known;
    static long offset;
    if (!known) {
        const char *spec = getenv("FAKETIME");
        char *end = NULL;
        long value = (spec && (spec[0] == '+' || spec[0] == '-')) ? strtol(spec, &end, 10) : 0;
        offset = (end && (*end == '\0' || (*end == 's' && end[1] == '\0'))) ? value : 0;
        known = 1;
    }
    return offset;
}

static int shifted(int result, struct stat *st) {
    if (result == 0 && st != NULL) {
        long d = offset_s();
        st->st_atim.tv_sec += d;
        st->st_mtim.tv_sec += d;
        st->st_ctim.tv_sec += d;
    }
    return result;
}

/* On x86_64 struct stat and struct stat64 are one layout, and glibc exports both names
   (libpython 3.11 calls the *64 ones). */
_Static_assert(sizeof(struct stat) == sizeof(struct stat64), "x86_64 only");
int fstatat(int dirfd, const char *path, struct stat *st, int flags) {
    return shifted((int)syscall(SYS_newfstatat, dirfd, path, st, flags), st);
}
int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags) {
    return fstatat(dirfd, path, (struct stat *)st, flags);
}
int stat(const char *path, struct stat *st) { return fstatat(AT_FDCWD, path, st, 0); }
int stat64(const char *path, struct stat64 *st) { return fstatat(AT_FDCWD, path, (struct stat *)st, 0); }
int lstat(const char *path, struct stat *st) { return fstatat(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW); }
int lstat64(const char *path, struct stat64 *st) {
    return fstatat(AT_FDCWD, path, (struct stat *)st, AT_SYMLINK_NOFOLLOW);
}
int fstat(int fd, struct stat *st) { return shifted((int)syscall(SYS_fstat, fd, st), st); }
int fstat64(int fd, struct stat64 *st) { return fstat(fd, (struct stat *)st); }

static int set_times(int dirfd, const char *path, const struct timespec times[2], int flags) {
    struct timespec real[2];
    if (times != NULL) {
        for (int i = 0; i < 2; i++) {
            real[i] = times[i];
            if (times[i].tv_nsec != UTIME_NOW && times[i].tv_nsec != UTIME_OMIT)
                real[i].tv_sec -= offset_s();
        }
    }
    return (int)syscall(SYS_utimensat, dirfd, path, times != NULL ? real : NULL, flags);
}
int utimensat(int dirfd, const char *path, const struct timespec times[2], int flags) {
    return set_times(dirfd, path, times, flags);
}
int futimens(int fd, const struct timespec times[2]) { return set_times(fd, NULL, times, 0); }
