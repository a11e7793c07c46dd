/* fd hygiene between the runtime and the workload (close_range based). */
#include "runtime/fds.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"

int fds_listen_count(void)
{
    const char *fds = getenv("LISTEN_FDS");
    if (fds == NULL || *fds == '\0')
        return 0;
    const char *pid = getenv("LISTEN_PID");
    if (pid != NULL && *pid != '\0' && strtol(pid, NULL, 10) != (long)getpid())
        return 0;
    char *end = NULL;
    long n = strtol(fds, &end, 10);
    if (*end != '\0' || n <= 0 || n > 4096)
        return 0;
    return (int)n;
}

static int close_fd_range(unsigned int lo, unsigned int hi)
{
    if (syscall(SYS_close_range, lo, hi, 0) == 0)
        return 0;
    if (errno != ENOSYS)
        return -errno;
    /* Without close_range: close what /proc/self/fd lists in [lo, hi]. */
    _cleanup_closedir_ DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return -errno;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char *end = NULL;
        long fd = strtol(de->d_name, &end, 10);
        if (*end == '\0' && fd >= (long)lo && (unsigned long)fd <= hi && fd != dirfd(d))
            close((int)fd);
    }
    return 0;
}

int fds_close_from_except(int from, const int *except, size_t n)
{
    unsigned int lo = (unsigned int)from;
    for (;;) {
        /* The smallest excepted fd at or above lo ends the next range to close. */
        long next = -1;
        for (size_t i = 0; i < n; i++) {
            if (except[i] >= 0 && (unsigned int)except[i] >= lo && (next < 0 || except[i] < next))
                next = except[i];
        }
        if (next < 0)
            return close_fd_range(lo, UINT_MAX);
        if ((unsigned int)next > lo) {
            int r = close_fd_range(lo, (unsigned int)next - 1);
            if (r < 0)
                return r;
        }
        lo = (unsigned int)next + 1;
    }
}
