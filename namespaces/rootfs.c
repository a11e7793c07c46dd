/* rootfs_setup(): the order of the container's filesystem setup, pivot_root
 * (or MS_MOVE + chroot), then masked paths, read-only paths and a read-only root. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/path.h"
#include "namespaces/rootfs_internal.h"

static bool running_in_userns(void)
{
    char buf[128] = "";
    _cleanup_close_ int fd = open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    unsigned long a, b, c;
    /* The initial namespace maps everything: "0 0 4294967295". */
    if (sscanf(buf, "%lu %lu %lu", &a, &b, &c) != 3)
        return true;
    return !(a == 0 && b == 0 && c == 4294967295UL);
}

static int propagation_flags(const char *name, unsigned long *out)
{
    static const struct { const char *name; unsigned long flags; } table[] = {
        {"private", MS_PRIVATE}, {"rprivate", MS_PRIVATE | MS_REC},
        {"shared", MS_SHARED}, {"rshared", MS_SHARED | MS_REC},
        {"slave", MS_SLAVE}, {"rslave", MS_SLAVE | MS_REC},
        {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (strcmp(table[i].name, name) == 0) {
            *out = table[i].flags;
            return 0;
        }
    return -EINVAL;
}

static int pivot_to(int rootfd, bool no_pivot, struct vessel_error **err)
{
    if (fchdir(rootfd) < 0)
        return vessel_error_set(err, errno, "chdir to rootfs");
    if (no_pivot) {
        if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
            return vessel_error_set(err, errno, "move rootfs to \"/\"");
        if (chroot(".") < 0)
            return vessel_error_set(err, errno, "chroot");
    } else {
        /* pivot_root(".", "."): the old root ends up on top of the new one and is
         * detached right away, without needing a directory for it. */
        if (syscall(SYS_pivot_root, ".", ".") < 0)
            return vessel_error_set(err, errno, "pivot_root");
        if (umount2(".", MNT_DETACH) < 0)
            return vessel_error_set(err, errno, "unmount old root");
    }
    if (chdir("/") < 0)
        return vessel_error_set(err, errno, "chdir \"/\"");
    return 0;
}

/* After the pivot: mount(2) needs a path for fd. /proc/self/fd/N when the container
 * has a /proc; without one, the path itself is just as safe: it resolves inside the
 * new root and there are no magic links to follow. */
static const char *fd_target(int fd, const char *path, char *buf, size_t size)
{
    if (access("/proc/self/fd", F_OK) < 0)
        return path;
    (void)path_fd_to_proc(fd, buf, size);
    return buf;
}

static int mount_errno(const char *source, const char *target, const char *type,
                       unsigned long flags, const char *data)
{
    return mount(source, target, type, flags, data) < 0 ? -errno : 0;
}

static int mask_path(int rootfd, const char *path, struct vessel_error **err)
{
    _cleanup_close_ int fd = path_open_in_root(rootfd, path, O_PATH, 0, NULL);
    if (fd < 0)
        return 0;  /* missing paths are ignored */
    struct stat st;
    if (fstat(fd, &st) < 0)
        return vessel_error_set(err, errno, "maskedPaths \"%s\"", path);
    char buf[64];
    const char *target = fd_target(fd, path, buf, sizeof(buf));
    int r;
    if (S_ISDIR(st.st_mode))
        r = mount_errno("tmpfs", target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0555");
    else
        r = mount_errno("/dev/null", target, NULL, MS_BIND, NULL);
    if (r < 0)
        return vessel_error_set(err, -r, "maskedPaths: mount \"%s\" on \"%s\"",
                                S_ISDIR(st.st_mode) ? "tmpfs" : "/dev/null", path);
    return 0;
}

static int readonly_path(int rootfd, const char *path, struct vessel_error **err)
{
    _cleanup_close_ int fd = path_open_in_root(rootfd, path, O_PATH, 0, NULL);
    if (fd < 0)
        return 0;
    char buf[64];
    const char *target = fd_target(fd, path, buf, sizeof(buf));
    int r = mount_errno(target, target, NULL, MS_BIND | MS_REC, NULL);
    if (r < 0)
        return vessel_error_set(err, -r, "readonlyPaths: bind \"%s\"", path);
    _cleanup_close_ int top = path_open_in_root(rootfd, path, O_PATH, 0, err);
    if (top < 0)
        return vessel_error_wrap(err, "readonlyPaths");
    struct mount_attr attr = {
        .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
    };
    if (mount_setattr(top, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) == 0)
        return 0;
    if (errno != ENOSYS)
        return vessel_error_set(err, errno, "readonlyPaths: remount \"%s\" read-only", path);
    r = mount_remount_bind(top, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, 0);
    if (r < 0)
        return vessel_error_set(err, -r, "readonlyPaths: remount \"%s\" read-only", path);
    return 0;
}

static int finalize_root(const struct oci_spec *spec, unsigned long propagation,
                         struct vessel_error **err)
{
    _cleanup_close_ int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return vessel_error_set(err, errno, "open \"/\"");
    int r;
    /* Before /proc/sys turns read-only. */
    if ((r = sysctl_apply(spec, err)) < 0)
        return r;
    for (size_t i = 0; i < spec->linux_.masked_paths_len; i++)
        if ((r = mask_path(rootfd, spec->linux_.masked_paths[i], err)) < 0)
            return r;
    for (size_t i = 0; i < spec->linux_.readonly_paths_len; i++)
        if ((r = readonly_path(rootfd, spec->linux_.readonly_paths[i], err)) < 0)
            return r;
    if (spec->root.readonly) {
        struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
        if (mount_setattr(rootfd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0) {
            r = errno == ENOSYS ? mount_remount_bind(rootfd, MS_RDONLY, 0) : -errno;
            if (r < 0)
                return vessel_error_set(err, -r, "root.readonly: remount \"/\" read-only");
        }
    }
    if (propagation != 0 && mount(NULL, "/", NULL, propagation, NULL) < 0)
        return vessel_error_set(err, errno, "linux.rootfsPropagation \"%s\" on \"/\"",
                                spec->linux_.rootfs_propagation);
    return 0;
}

int rootfs_setup(const struct oci_spec *spec, const char *rootfs,
                 const struct rootfs_options *opts, struct vessel_error **err)
{
    static const struct rootfs_options no_options;
    if (opts == NULL)
        opts = &no_options;
    unsigned long propagation = 0;
    if (spec->linux_.rootfs_propagation != NULL &&
        propagation_flags(spec->linux_.rootfs_propagation, &propagation) < 0)
        return vessel_error_set(err, EINVAL, "linux.rootfsPropagation: unknown value \"%s\"",
                                spec->linux_.rootfs_propagation);

    /* Nothing we mount or unmount may reach the host: every mount becomes a
     * slave first (then what the spec asks for, unless shared: a shared rootfs is
     * only set up after the pivot). Later the old root is detached as a tree of
     * slaves, so no unmount propagates back. */
    if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0)
        return vessel_error_set(err, errno, "make \"/\" rslave");
    if (propagation != 0 && !(propagation & MS_SHARED) && mount(NULL, "/", NULL, propagation, NULL) < 0)
        return vessel_error_set(err, errno, "linux.rootfsPropagation \"%s\" on \"/\"",
                                spec->linux_.rootfs_propagation);
    if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
        return vessel_error_set(err, errno, "bind rootfs \"%s\" on itself", rootfs);
    /* pivot_root refuses a shared new root (and shared parents). */
    if (mount(NULL, rootfs, NULL, MS_PRIVATE, NULL) < 0)
        return vessel_error_set(err, errno, "make rootfs \"%s\" private", rootfs);

    struct rootfs_ctx ctx = {.spec = spec, .rootfs = rootfs, .bundle = opts->bundle,
                             .in_userns = running_in_userns()};
    _cleanup_close_ int rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return vessel_error_set(err, errno, "open rootfs \"%s\"", rootfs);
    ctx.rootfd = rootfd;

    int r;
    if ((r = mounts_setup(&ctx, err)) < 0)
        return r;
    if (!spec_binds_dev(spec) && (r = devices_setup(&ctx, opts->console_slave, err)) < 0)
        return r;
    if (opts->before_pivot != NULL && (r = opts->before_pivot(opts->data, err)) < 0)
        return r;
    if ((r = pivot_to(rootfd, opts->no_pivot, err)) < 0)
        return r;
    return finalize_root(spec, propagation, err);
}
