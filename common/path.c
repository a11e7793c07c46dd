/* Path resolution scoped to a root directory fd: openat2(RESOLVE_IN_ROOT) with a
 * checked component walk as fallback, plus mkdir -p and file creation on top. */
#include "common/path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"

static int openat2_state;  /* 0 unknown, 1 works, -1 missing or forced off */

void path_force_fallback(int on)
{
    openat2_state = on ? -1 : 0;
}

static int open_with_openat2(int rootfd, const char *path, int flags, mode_t mode)
{
    struct open_how how = {
        .flags = (unsigned long long)(flags | O_CLOEXEC),
        .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    /* EAGAIN: a concurrent rename made the kernel give up; it asks us to retry. */
    for (int tries = 0; tries < 32; tries++) {
        int fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
        if (fd >= 0 || (errno != EAGAIN && errno != EINTR))
            return fd < 0 ? -errno : fd;
    }
    return -EAGAIN;
}

/* The directories walked so far; stack[0] is the root (not owned). */
struct walk {
    int stack[PATH_MAX / 2];
    size_t depth;
};

static int walk_top(const struct walk *w)
{
    return w->stack[w->depth];
}

static void walk_pop_to(struct walk *w, size_t depth)
{
    while (w->depth > depth) {
        (void)close(w->stack[w->depth]);
        w->depth--;
    }
}

/* The fallback: one component at a time, never following anything the kernel
 * would resolve against the real root. With mkdir_mode, missing directories
 * (also the targets of dangling symlinks) are created with mode, and the final
 * directory is opened with flags. Returns fd or -errno. */
static int walk_open(int rootfd, const char *path, int flags, mode_t mode, bool mkdir_mode)
{
    struct walk w = {.depth = 0};
    w.stack[0] = rootfd;
    _cleanup_free_ char *todo = strdup(path);
    if (todo == NULL)
        return -ENOMEM;
    const char *cur = todo;
    int links = 0, ret;

    for (;;) {
        while (*cur == '/')
            cur++;
        if (*cur == '\0') {
            ret = openat(walk_top(&w), ".", flags | O_CLOEXEC, mode);
            ret = ret < 0 ? -errno : ret;
            break;
        }
        const char *end = strchrnul(cur, '/');
        size_t len = (size_t)(end - cur);
        if (len > NAME_MAX) {
            ret = -ENAMETOOLONG;
            break;
        }
        char comp[NAME_MAX + 1];
        memcpy(comp, cur, len);
        comp[len] = '\0';
        const char *rest = end;
        while (*rest == '/')
            rest++;
        bool last = *rest == '\0' && !mkdir_mode;

        if (strcmp(comp, ".") == 0) {
            cur = end;
            continue;
        }
        if (strcmp(comp, "..") == 0) {
            if (w.depth > 0)
                walk_pop_to(&w, w.depth - 1);
            cur = end;
            continue;
        }
        if (!(last && (flags & O_NOFOLLOW))) {
            struct stat st;
            if (fstatat(walk_top(&w), comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
                if (++links > PATH_MAX_SYMLINKS) {
                    ret = -ELOOP;
                    break;
                }
                char target[PATH_MAX];
                ssize_t n = readlinkat(walk_top(&w), comp, target, sizeof(target) - 1);
                if (n < 0) {
                    ret = -errno;
                    break;
                }
                target[n] = '\0';
                char *next = NULL;
                if (asprintf(&next, "%s/%s", target, rest) < 0) {
                    ret = -ENOMEM;
                    break;
                }
                free(todo);
                todo = next;
                cur = todo;
                if (target[0] == '/')
                    walk_pop_to(&w, 0);
                continue;
            }
        }
        if (last) {
            ret = openat(walk_top(&w), comp, flags | O_NOFOLLOW | O_CLOEXEC, mode);
            ret = ret < 0 ? -errno : ret;
            break;
        }
        if (w.depth + 1 >= sizeof(w.stack) / sizeof(w.stack[0])) {
            ret = -ENAMETOOLONG;
            break;
        }
        int fd = openat(walk_top(&w), comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT && mkdir_mode) {
            if (mkdirat(walk_top(&w), comp, mode) < 0 && errno != EEXIST) {
                ret = -errno;
                break;
            }
            fd = openat(walk_top(&w), comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (fd < 0) {
            ret = -errno;
            break;
        }
        w.stack[++w.depth] = fd;
        cur = end;
    }
    walk_pop_to(&w, 0);
    return ret;
}

static int open_in_root(int rootfd, const char *path, int flags, mode_t mode)
{
    const char *p = path;
    while (*p == '/')
        p++;
    if (*p == '\0')
        p = ".";
    if (openat2_state >= 0) {
        int fd = open_with_openat2(rootfd, p, flags, mode);
        if (fd != -ENOSYS) {
            openat2_state = 1;
            return fd;
        }
        openat2_state = -1;
    }
    return walk_open(rootfd, p, flags, mode, false);
}

int path_open_in_root(int rootfd, const char *path, int flags, mode_t mode,
                      struct vessel_error **err)
{
    int fd = open_in_root(rootfd, path, flags, mode);
    if (fd < 0)
        return vessel_error_set(err, -fd, "open \"%s\" in root", path);
    return fd;
}

int path_mkdir_in_root(int rootfd, const char *path, mode_t mode, struct vessel_error **err)
{
    int fd = open_in_root(rootfd, path, O_PATH | O_DIRECTORY, 0);
    if (fd >= 0 || fd != -ENOENT)
        return fd >= 0 ? fd : vessel_error_set(err, -fd, "mkdir \"%s\" in root", path);

    /* Some component is missing: walk, creating what is missing; symlinks
     * (dangling ones too) are followed inside the root. */
    fd = walk_open(rootfd, path, O_PATH | O_DIRECTORY, mode, true);
    if (fd < 0)
        return vessel_error_set(err, -fd, "mkdir \"%s\" in root", path);
    return fd;
}

int path_create_file_in_root(int rootfd, const char *path, mode_t mode,
                             struct vessel_error **err)
{
    int fd = open_in_root(rootfd, path, O_PATH, 0);
    if (fd >= 0 || fd != -ENOENT)
        return fd >= 0 ? fd : vessel_error_set(err, -fd, "create \"%s\" in root", path);

    _cleanup_free_ char *dir = strdup(path);
    if (dir == NULL)
        return vessel_error_set(err, ENOMEM, "create \"%s\" in root", path);
    size_t n = strlen(dir);
    while (n > 0 && dir[n - 1] == '/')
        dir[--n] = '\0';
    char *slash = strrchr(dir, '/');
    const char *base = slash != NULL ? slash + 1 : dir;
    if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
        return vessel_error_set(err, EINVAL, "create \"%s\" in root", path);
    char basename_buf[NAME_MAX + 1];
    if (strlen(base) > NAME_MAX)
        return vessel_error_set(err, ENAMETOOLONG, "create \"%s\" in root", path);
    strcpy(basename_buf, base);
    if (slash != NULL)
        *slash = '\0';
    else
        dir[0] = '\0';

    _cleanup_close_ int parent = path_mkdir_in_root(rootfd, dir, 0755, err);
    if (parent < 0)
        return vessel_error_wrap(err, "create \"%s\" in root", path);
    int f = openat(parent, basename_buf, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode);
    if (f < 0 && errno != EEXIST)
        return vessel_error_set(err, errno, "create \"%s\" in root", path);
    if (f >= 0)
        (void)close(f);
    fd = open_in_root(rootfd, path, O_PATH, 0);
    if (fd < 0)
        return vessel_error_set(err, -fd, "create \"%s\" in root", path);
    return fd;
}

int path_fd_to_proc(int fd, char *buf, size_t size)
{
    int n = snprintf(buf, size, "/proc/self/fd/%d", fd);
    if (n < 0 || (size_t)n >= size)
        return -ENAMETOOLONG;
    return 0;
}
