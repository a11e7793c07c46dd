/* tmpcopyup: copy a directory tree (files, dirs, links, nodes with owners and
 * modes) from under a new tmpfs into it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "namespaces/rootfs_internal.h"

#define COPY_MAX_DEPTH 64

static int copy_file(int fromdir, int todir, const char *name, const struct stat *st)
{
    _cleanup_close_ int in = openat(fromdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0)
        return -errno;
    _cleanup_close_ int out = openat(todir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                                     st->st_mode & 07777);
    if (out < 0)
        return -errno;
    char buf[65536];
    for (;;) {
        ssize_t n = read(in, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return 0;
        int r = write_all_fd(out, buf, (size_t)n);
        if (r < 0)
            return r;
    }
}

/* Owner and exact mode (mkdir/mknod/open went through the umask). An owner the
 * user namespace cannot map is left as is rather than failing the mount. */
static int copy_attrs(int todir, const char *name, const struct stat *st)
{
    if (fchownat(todir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0 &&
        errno != EINVAL && errno != EPERM)
        return -errno;
    if (!S_ISLNK(st->st_mode) && fchmodat(todir, name, st->st_mode & 07777, 0) < 0)
        return -errno;
    return 0;
}

static int copy_dir(int fromfd, int tofd, int depth, char *failed, size_t size)
{
    if (depth > COPY_MAX_DEPTH)
        return -ELOOP;
    int dupfd = fcntl(fromfd, F_DUPFD_CLOEXEC, 3);
    if (dupfd < 0)
        return -errno;
    _cleanup_closedir_ DIR *d = fdopendir(dupfd);
    if (d == NULL) {
        (void)close(dupfd);
        return -errno;
    }
    struct dirent *de;
    while ((errno = 0, de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(fromfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            goto fail;
        int r = 0;
        if (S_ISDIR(st.st_mode)) {
            if (mkdirat(tofd, name, 0700) < 0 && errno != EEXIST)
                goto fail;
            _cleanup_close_ int sub_from = openat(fromfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            _cleanup_close_ int sub_to = openat(tofd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub_from < 0 || sub_to < 0)
                goto fail;
            r = copy_dir(sub_from, sub_to, depth + 1, failed, size);
            if (r < 0)
                return r;
        } else if (S_ISREG(st.st_mode)) {
            r = copy_file(fromfd, tofd, name, &st);
        } else if (S_ISLNK(st.st_mode)) {
            char target[4096];
            ssize_t n = readlinkat(fromfd, name, target, sizeof(target) - 1);
            if (n < 0)
                goto fail;
            target[n] = '\0';
            r = symlinkat(target, tofd, name) < 0 ? -errno : 0;
        } else {
            r = mknodat(tofd, name, st.st_mode, st.st_rdev) < 0 ? -errno : 0;
        }
        if (r == 0)
            r = copy_attrs(tofd, name, &st);
        if (r < 0) {
            snprintf(failed, size, "%s", name);
            return r;
        }
        continue;
fail:
        snprintf(failed, size, "%s", name);
        return -errno;
    }
    return errno != 0 ? -errno : 0;
}

int copy_tree(int fromfd, int tofd, struct vessel_error **err)
{
    char failed[256] = "";
    int r = copy_dir(fromfd, tofd, 0, failed, sizeof(failed));
    if (r < 0)
        return vessel_error_set(err, -r, "copy \"%s\"", failed);
    struct stat st;
    if (fstat(fromfd, &st) == 0) {
        if (fchown(tofd, st.st_uid, st.st_gid) < 0 && errno != EINVAL && errno != EPERM)
            return vessel_error_set(err, errno, "chown copy");
        if (fchmod(tofd, st.st_mode & 07777) < 0)
            return vessel_error_set(err, errno, "chmod copy");
    }
    return 0;
}
