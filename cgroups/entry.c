/* Entering a cgroup from a freshly cloned child: the parent opens the files
 * (its credentials count, even for a child in a user namespace), the child
 * moves itself, which on v1 avoids the kernel-wide threadgroup lock. */
#include "cgroups/cgroups.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cgroups/hierarchy.h"
#include "common/cleanup.h"

void cgroup_entry_init(struct cgroup_entry *e)
{
    e->n = 0;
    e->v2_dirfd = -1;
    e->v2_procs_fd = -1;
}

void cgroup_entry_close(struct cgroup_entry *e)
{
    for (size_t i = 0; i < e->n; i++)
        close(e->tasks_fds[i]);
    if (e->v2_dirfd >= 0)
        close(e->v2_dirfd);
    if (e->v2_procs_fd >= 0)
        close(e->v2_procs_fd);
    cgroup_entry_init(e);
}

int cgroup_entry_open(const char *path, struct cgroup_entry *e, struct vessel_error **err)
{
    cgroup_entry_init(e);
    struct cgroup_hierarchies hs = {0};
    if (cgroup_hierarchies_load(&hs, err) < 0)
        return vessel_error_wrap(err, "enter cgroup \"%s\"", path);
    int r = cgroup_entry_open_in(&hs, path, e, err);
    cgroup_hierarchies_free(&hs);
    return r;
}

int cgroup_entry_open_in(const struct cgroup_hierarchies *hs, const char *path, struct cgroup_entry *e,
                         struct vessel_error **err)
{
    cgroup_entry_init(e);
    int r = 0;
    for (size_t i = 0; i < hs->len && r == 0; i++) {
        const struct cgroup_hierarchy *h = &hs->items[i];
        _cleanup_free_ char *dir = NULL;
        if (cgroup_hierarchy_dir(h, path, &dir, err) < 0) {
            r = vessel_error_code(*err);
            break;
        }
        if (h->v2) {
            if (e->v2_dirfd >= 0)
                continue;  /* only one cgroup2 hierarchy exists */
            e->v2_dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (e->v2_dirfd < 0) {
                r = vessel_error_set(err, errno, "enter cgroup: open \"%s\"", dir);
                break;
            }
            e->v2_procs_fd = openat(e->v2_dirfd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
            if (e->v2_procs_fd < 0)
                r = vessel_error_set(err, errno, "enter cgroup: open \"%s/cgroup.procs\"", dir);
            continue;
        }
        if (e->n == CGROUP_ENTRY_MAX) {
            r = vessel_error_set(err, E2BIG, "enter cgroup \"%s\": too many hierarchies", path);
            break;
        }
        _cleanup_free_ char *file = NULL;
        if (asprintf(&file, "%s/tasks", dir) < 0) {
            r = vessel_error_set(err, ENOMEM, "enter cgroup");
            break;
        }
        int fd = open(file, O_WRONLY | O_CLOEXEC);
        if (fd < 0) {
            r = vessel_error_set(err, errno, "enter cgroup: open \"%s\"", file);
            break;
        }
        e->tasks_fds[e->n++] = fd;
    }
    if (r < 0)
        cgroup_entry_close(e);
    return r;
}

int cgroup_entry_self(const struct cgroup_entry *e, bool v2_done)
{
    /* "0" is the writer itself; through "tasks" only this thread moves. */
    for (size_t i = 0; i < e->n; i++) {
        ssize_t n;
        while ((n = write(e->tasks_fds[i], "0", 1)) < 0 && errno == EINTR)
            ;
        if (n < 0)
            return -errno;
    }
    if (!v2_done && e->v2_procs_fd >= 0) {
        ssize_t n;
        while ((n = write(e->v2_procs_fd, "0", 1)) < 0 && errno == EINTR)
            ;
        if (n < 0)
            return -errno;
    }
    return 0;
}
