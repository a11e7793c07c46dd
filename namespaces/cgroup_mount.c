/* The spec's "cgroup" mount: cgroup2 on a unified host; on v1 and hybrid hosts
 * a tmpfs holding each of the host's hierarchies (mounted fresh in a cgroup
 * namespace, else the container's own cgroup directory bound in), like runc. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/path.h"
#include "namespaces/rootfs_internal.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
#define PROC_FILE_MAX (4u << 20)

/* Super options that are not controllers or name=: dropped for a fresh mount. */
static bool cgroup_option_is_controller(const char *tok)
{
    static const char *const skip[] = {"rw", "ro", "xattr", "noprefix", "clone_children",
                                       "cpuset_v2_mode", "favordynmods", "nsdelegate",
                                       "memory_recursiveprot", "memory_localevents", "none"};
    if (strncmp(tok, "release_agent=", 14) == 0)
        return false;
    for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
        if (strcmp(tok, skip[i]) == 0)
            return false;
    return true;
}

/* "rw,cpu,cpuacct" -> "cpu,cpuacct" (the form /proc/self/cgroup uses). */
static void cgroup_controllers(const char *superopts, char *out, size_t size)
{
    char copy[512];
    snprintf(copy, sizeof(copy), "%s", superopts);
    out[0] = '\0';
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (!cgroup_option_is_controller(tok))
            continue;
        size_t used = strlen(out);
        snprintf(out + used, size - used, "%s%s", used ? "," : "", tok);
    }
}

/* This process's path in the hierarchy with that controller list ("" for v2). */
static int cgroup_own_path(const char *proc_cgroup, const char *controllers, char *out, size_t size)
{
    const char *line = proc_cgroup;
    while (line != NULL && *line != '\0') {
        const char *eol = strchrnul(line, '\n');
        const char *c1 = memchr(line, ':', (size_t)(eol - line));
        const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(eol - c1 - 1)) : NULL;
        if (c2 != NULL && (size_t)(c2 - c1 - 1) == strlen(controllers) &&
            strncmp(c1 + 1, controllers, strlen(controllers)) == 0) {
            snprintf(out, size, "%.*s", (int)(eol - c2 - 1), c2 + 1);
            return 0;
        }
        line = *eol ? eol + 1 : NULL;
    }
    return -ENOENT;
}

static int cgroup_bind_own(const char *mountpoint, const char *proc_cgroup, const char *controllers,
                           int target)
{
    char own[1024], host[1536];
    if (cgroup_own_path(proc_cgroup, controllers, own, sizeof(own)) < 0)
        snprintf(own, sizeof(own), "/");
    snprintf(host, sizeof(host), "%s%s", mountpoint, own);
    return mount_bind_fd(host, target, true);
}

/* Mount one hierarchy at target: fresh in a cgroup namespace, else bound. */
static int cgroup_mount_one(struct rootfs_ctx *ctx, const char *fstype, const char *mountpoint,
                            const char *superopts, const char *proc_cgroup, int parent,
                            const char *name, int target, unsigned long flags)
{
    bool v2 = strcmp(fstype, "cgroup2") == 0;
    char controllers[512];
    if (v2)
        controllers[0] = '\0';
    else
        cgroup_controllers(superopts, controllers, sizeof(controllers));
    int r = -EPERM;
    if (spec_namespace(ctx->spec, OCI_NS_CGROUP) != NULL)
        r = mount_on_fd("cgroup", target, fstype, flags & ~(MS_BIND | MS_REC), v2 ? NULL : controllers);
    if (r == -EPERM || r == -EBUSY) {
        r = cgroup_bind_own(mountpoint, proc_cgroup, controllers, target);
        if (r == 0 && (flags & ~(MS_BIND | MS_REC)) != 0) {
            /* Looked up again to land on the new mount, not the directory under it. */
            int top = path_open_in_root(parent, name, O_PATH, 0, NULL);
            if (top < 0)
                return top;
            r = mount_remount_bind(top, flags, 0);
            (void)close(top);
        }
    }
    return r;
}

static int cgroup_mount_error(size_t i, const struct oci_mount *m, const char *what, int e,
                              struct vessel_error **err)
{
    vessel_error_set(err, e, "mount \"%s\" on \"%s\"", what, m->destination);
    return vessel_error_wrap(err, "mounts[%zu]", i);
}

int cgroup_mount_setup(struct rootfs_ctx *ctx, size_t i, const struct mount_flags *f,
                       struct vessel_error **err)
{
    const struct oci_mount *m = &ctx->spec->mounts[i];
    _cleanup_close_ int target = path_mkdir_in_root(ctx->rootfd, m->destination, 0755, err);
    if (target < 0)
        return vessel_error_wrap(err, "mounts[%zu].destination \"%s\"", i, m->destination);
    _cleanup_free_ char *proc_cgroup = NULL;
    size_t len;
    if (read_file_at(AT_FDCWD, "/proc/self/cgroup", PROC_FILE_MAX, &proc_cgroup, &len, err) < 0)
        return vessel_error_wrap(err, "mounts[%zu]", i);
    unsigned long flags = f->flags & ~(MS_BIND | MS_REC | MS_REMOUNT);

    struct statfs sfs;
    if (statfs(CGROUP_ROOT, &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC) {
        int r = cgroup_mount_one(ctx, "cgroup2", CGROUP_ROOT, "", proc_cgroup, ctx->rootfd,
                                 m->destination, target, flags);
        if (r < 0)
            return cgroup_mount_error(i, m, "cgroup2", -r, err);
        return 0;
    }

    /* v1 or hybrid: a tmpfs, then every hierarchy the host has under /sys/fs/cgroup. */
    int r = mount_on_fd("tmpfs", target, "tmpfs", flags & ~MS_RDONLY, "mode=755");
    if (r < 0)
        return cgroup_mount_error(i, m, "tmpfs", -r, err);
    _cleanup_close_ int dir = path_open_in_root(ctx->rootfd, m->destination, O_PATH | O_DIRECTORY, 0, err);
    if (dir < 0)
        return vessel_error_wrap(err, "mounts[%zu].destination \"%s\"", i, m->destination);
    _cleanup_free_ char *mountinfo = NULL;
    if (read_file_at(AT_FDCWD, "/proc/self/mountinfo", PROC_FILE_MAX, &mountinfo, &len, err) < 0)
        return vessel_error_wrap(err, "mounts[%zu]", i);
    char *save = NULL;
    for (char *line = strtok_r(mountinfo, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char mountpoint[512], fstype[32], superopts[512];
        const char *sep = strstr(line, " - ");
        if (sep == NULL || sscanf(line, "%*s %*s %*s %*s %511s", mountpoint) != 1 ||
            sscanf(sep + 3, "%31s %*s %511s", fstype, superopts) != 2)
            continue;
        if (strcmp(fstype, "cgroup") != 0 && strcmp(fstype, "cgroup2") != 0)
            continue;
        if (strncmp(mountpoint, CGROUP_ROOT "/", sizeof(CGROUP_ROOT)) != 0)
            continue;
        const char *name = mountpoint + sizeof(CGROUP_ROOT);
        if (*name == '\0' || strchr(name, '/') != NULL || strcmp(name, "..") == 0 || strcmp(name, ".") == 0)
            continue;
        if (mkdirat(dir, name, 0755) < 0 && errno != EEXIST)
            return cgroup_mount_error(i, m, name, errno, err);
        _cleanup_close_ int sub = openat(dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0)
            return cgroup_mount_error(i, m, name, errno, err);
        r = cgroup_mount_one(ctx, fstype, mountpoint, superopts, proc_cgroup, dir, name, sub, flags);
        if (r < 0)
            return cgroup_mount_error(i, m, mountpoint, -r, err);
        /* "cpu,cpuacct" is also reachable as cpu and cpuacct. */
        if (strchr(name, ',') != NULL) {
            char names[512];
            snprintf(names, sizeof(names), "%s", name);
            char *s2 = NULL;
            for (char *c = strtok_r(names, ",", &s2); c; c = strtok_r(NULL, ",", &s2))
                if (symlinkat(name, dir, c) < 0 && errno != EEXIST)
                    return cgroup_mount_error(i, m, name, errno, err);
        }
    }
    if (flags & MS_RDONLY) {
        r = mount_on_fd(NULL, dir, NULL, MS_REMOUNT | flags, "mode=755");
        if (r < 0)
            return cgroup_mount_error(i, m, "tmpfs", -r, err);
    }
    return 0;
}
