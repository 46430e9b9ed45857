/* Preloaded before libfaketime when the tests run at a shifted moment (tests/harness/at.py).
   libfaketime 0.9.10 shifts the deadline of clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME)
   even with FAKETIME_DONT_FAKE_MONOTONIC=1 (wolfcw/libfaketime#426): Python >= 3.11 sleeps that
   way, so time.sleep fails with EINVAL (clock shifted ahead) or hangs (shifted back). Sleeps on
   any clock but the wall clock go straight to the kernel; wall-clock sleeps stay libfaketime's. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
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
