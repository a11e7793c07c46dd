/* File helpers: whole-file read/write, atomic replace, mkdir -p. */
#include "common/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"

int write_all_fd(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return -EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

ssize_t read_all_fd(int fd, void *buf, size_t len)
{
    char *p = buf;
    size_t done = 0;
    while (done < len) {
        ssize_t n = read(fd, p + done, len - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            break;
        done += (size_t)n;
    }
    return (ssize_t)done;
}

int read_file_at(int dirfd, const char *path, size_t max_size, char **out, size_t *len,
                 struct vessel_error **err)
{
    /* O_NONBLOCK: a FIFO or terminal put in place of a file (a hostile image's
     * /etc/passwd) reads as empty or fails instead of blocking us forever. */
    _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return vessel_error_set(err, errno, "open \"%s\"", path);
    size_t cap = 4096, used = 0;
    _cleanup_free_ char *buf = malloc(cap + 1);
    if (buf == NULL)
        return vessel_error_set(err, ENOMEM, "read \"%s\"", path);
    for (;;) {
        if (used == cap) {
            if (cap >= max_size)
                return vessel_error_set(err, EFBIG, "read \"%s\" (larger than %zu bytes)", path, max_size);
            cap = cap * 2 > max_size ? max_size : cap * 2;
            char *nb = realloc(buf, cap + 1);
            if (nb == NULL)
                return vessel_error_set(err, ENOMEM, "read \"%s\"", path);
            buf = nb;
        }
        ssize_t n = read(fd, buf + used, cap - used);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return vessel_error_set(err, errno, "read \"%s\"", path);
        }
        if (n == 0)
            break;
        used += (size_t)n;
    }
    buf[used] = '\0';
    if (len != NULL)
        *len = used;
    *out = steal_pointer(&buf);
    return 0;
}

int write_file_at(int dirfd, const char *path, const void *buf, size_t len, mode_t mode,
                  struct vessel_error **err)
{
    _cleanup_close_ int fd = openat(dirfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return vessel_error_set(err, errno, "open \"%s\"", path);
    int r = write_all_fd(fd, buf, len);
    if (r < 0)
        return vessel_error_set(err, -r, "write \"%s\"", path);
    return 0;
}

int write_file_atomic(const char *path, const void *buf, size_t len, mode_t mode,
                      struct vessel_error **err)
{
    _cleanup_free_ char *tmp = NULL;
    if (asprintf(&tmp, "%s.tmp.%d", path, (int)getpid()) < 0)
        return vessel_error_set(err, ENOMEM, "write \"%s\"", path);
    _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return vessel_error_set(err, errno, "open \"%s\"", tmp);
    int r = write_all_fd(fd, buf, len);
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    if (r < 0) {
        (void)unlink(tmp);
        return vessel_error_set(err, -r, "write \"%s\"", tmp);
    }
    if (rename(tmp, path) < 0) {
        int e = errno;
        (void)unlink(tmp);
        return vessel_error_set(err, e, "rename \"%s\" to \"%s\"", tmp, path);
    }
    return 0;
}

int mkdir_p(const char *path, mode_t mode, struct vessel_error **err)
{
    char buf[PATH_MAX];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof(buf))
        return vessel_error_set(err, ENAMETOOLONG, "mkdir \"%s\"", path);
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, mode) < 0 && errno != EEXIST)
            return vessel_error_set(err, errno, "mkdir \"%s\"", buf);
        *p = '/';
    }
    if (mkdir(buf, mode) < 0 && errno != EEXIST)
        return vessel_error_set(err, errno, "mkdir \"%s\"", buf);
    return 0;
}
