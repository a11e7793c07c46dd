/* The container's /dev: default and spec devices (mknod, or a bind of the
 * host's node inside a user namespace), ptmx, fd and std* links, shm, console. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/path.h"
#include "namespaces/rootfs_internal.h"

struct device {
    const char *path;
    char type;  /* c b u p */
    long long major, minor;
    mode_t mode;
    uid_t uid;
    gid_t gid;
};

static const struct device default_devices[] = {
    {"/dev/null", 'c', 1, 3, 0666, 0, 0},
    {"/dev/zero", 'c', 1, 5, 0666, 0, 0},
    {"/dev/full", 'c', 1, 7, 0666, 0, 0},
    {"/dev/random", 'c', 1, 8, 0666, 0, 0},
    {"/dev/urandom", 'c', 1, 9, 0666, 0, 0},
    {"/dev/tty", 'c', 5, 0, 0666, 0, 0},
};

/* Split path into its parent (created inside the root) and last component. */
static int device_parent(int rootfd, const char *path, char *base, size_t size,
                         struct vessel_error **err)
{
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    if (*name == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strlen(name) >= size)
        return vessel_error_set(err, EINVAL, "device \"%s\": invalid path", path);
    snprintf(base, size, "%s", name);
    char dir[4096];
    snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 0, path);
    int fd = path_mkdir_in_root(rootfd, dir, 0755, err);
    if (fd < 0)
        return vessel_error_wrap(err, "device \"%s\"", path);
    return fd;
}

static int device_bind_from_host(int rootfd, const struct device *d, struct vessel_error **err)
{
    _cleanup_close_ int target = path_create_file_in_root(rootfd, d->path, 0644, err);
    if (target < 0)
        return vessel_error_wrap(err, "device \"%s\"", d->path);
    int r = mount_bind_fd(d->path, target, false);
    if (r < 0)
        return vessel_error_set(err, -r, "mount \"%s\" on \"%s\"", d->path, d->path);
    return 0;
}

static int device_create(const struct rootfs_ctx *ctx, const struct device *d, struct vessel_error **err)
{
    mode_t type;
    switch (d->type) {
    case 'c': case 'u': type = S_IFCHR; break;
    case 'b': type = S_IFBLK; break;
    case 'p': type = S_IFIFO; break;
    default: return vessel_error_set(err, EINVAL, "device \"%s\": unknown type '%c'", d->path, d->type);
    }
    if (ctx->in_userns && type != S_IFIFO)
        return device_bind_from_host(ctx->rootfd, d, err);
    char base[256];
    _cleanup_close_ int parent = device_parent(ctx->rootfd, d->path, base, sizeof(base), err);
    if (parent < 0)
        return parent;
    dev_t dev = type == S_IFIFO ? 0 : makedev((unsigned)d->major, (unsigned)d->minor);
    if (mknodat(parent, base, type | (d->mode & 07777), dev) < 0) {
        if (errno == EEXIST)
            return 0;
        if (errno == EPERM && type != S_IFIFO)  /* e.g. no CAP_MKNOD: the host's node instead */
            return device_bind_from_host(ctx->rootfd, d, err);
        return vessel_error_set(err, errno, "mknod \"%s\"", d->path);
    }
    /* mknod went through the umask; set the exact mode and the owner. */
    if (fchmodat(parent, base, d->mode & 07777, 0) < 0)
        return vessel_error_set(err, errno, "chmod \"%s\"", d->path);
    if (fchownat(parent, base, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0)
        return vessel_error_set(err, errno, "chown \"%s\"", d->path);
    return 0;
}

static int dev_symlink(int devfd, const char *target, const char *name, bool replace,
                       struct vessel_error **err)
{
    if (replace && unlinkat(devfd, name, 0) < 0 && errno != ENOENT)
        return vessel_error_set(err, errno, "remove \"/dev/%s\"", name);
    if (symlinkat(target, devfd, name) < 0 && errno != EEXIST)
        return vessel_error_set(err, errno, "symlink \"/dev/%s\" -> \"%s\"", name, target);
    return 0;
}

static bool spec_has_device(const struct oci_spec *spec, const char *path)
{
    for (size_t i = 0; i < spec->linux_.devices_len; i++)
        if (spec->linux_.devices[i].path && strcmp(spec->linux_.devices[i].path, path) == 0)
            return true;
    return false;
}

static int console_bind(int rootfd, const char *slave, struct vessel_error **err)
{
    _cleanup_close_ int target = path_create_file_in_root(rootfd, "/dev/console", 0600, err);
    if (target < 0)
        return vessel_error_wrap(err, "console");
    int r = mount_bind_fd(slave, target, false);
    if (r < 0)
        return vessel_error_set(err, -r, "mount \"%s\" on \"/dev/console\"", slave);
    return 0;
}

int devices_setup(struct rootfs_ctx *ctx, const char *console_slave, struct vessel_error **err)
{
    const struct oci_spec *spec = ctx->spec;
    _cleanup_close_ int devfd = path_mkdir_in_root(ctx->rootfd, "/dev", 0755, err);
    if (devfd < 0)
        return vessel_error_wrap(err, "/dev");
    int r;
    for (size_t i = 0; i < sizeof(default_devices) / sizeof(default_devices[0]); i++) {
        if (spec_has_device(spec, default_devices[i].path))
            continue;
        if ((r = device_create(ctx, &default_devices[i], err)) < 0)
            return r;
    }
    for (size_t i = 0; i < spec->linux_.devices_len; i++) {
        const struct oci_device *od = &spec->linux_.devices[i];
        if (od->path == NULL || od->type == NULL)
            return vessel_error_set(err, EINVAL, "linux.devices[%zu]: path and type are required", i);
        struct device d = {
            .path = od->path, .type = od->type[0], .major = od->major, .minor = od->minor,
            .mode = od->has_file_mode ? od->file_mode : 0666,
            .uid = od->has_uid ? od->uid : 0, .gid = od->has_gid ? od->gid : 0,
        };
        if ((r = device_create(ctx, &d, err)) < 0)
            return vessel_error_wrap(err, "linux.devices[%zu]", i);
    }
    if ((r = dev_symlink(devfd, "pts/ptmx", "ptmx", true, err)) < 0 ||
        (r = dev_symlink(devfd, "/proc/self/fd", "fd", false, err)) < 0 ||
        (r = dev_symlink(devfd, "/proc/self/fd/0", "stdin", false, err)) < 0 ||
        (r = dev_symlink(devfd, "/proc/self/fd/1", "stdout", false, err)) < 0 ||
        (r = dev_symlink(devfd, "/proc/self/fd/2", "stderr", false, err)) < 0)
        return r;
    if (mkdirat(devfd, "shm", 01777) == 0) {
        if (fchmodat(devfd, "shm", 01777, 0) < 0)
            return vessel_error_set(err, errno, "chmod \"/dev/shm\"");
    } else if (errno != EEXIST) {
        return vessel_error_set(err, errno, "mkdir \"/dev/shm\"");
    }
    if (console_slave != NULL && (r = console_bind(ctx->rootfd, console_slave, err)) < 0)
        return r;
    return 0;
}

int rootfs_bind_console(const char *slave_path, struct vessel_error **err)
{
    _cleanup_close_ int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return vessel_error_set(err, errno, "open \"/\"");
    return console_bind(rootfd, slave_path, err);
}
