/* The spec's mounts, in order, each destination resolved inside the rootfs:
 * bind/rbind with flags, propagation and recursive attributes, and every
 * filesystem type (with the fallbacks runc uses for sysfs, mqueue, devpts). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/path.h"
#include "namespaces/rootfs_internal.h"

#define ATIME_FLAGS (MS_NOATIME | MS_RELATIME | MS_STRICTATIME)
/* Flags a bind remount carries over from the current mount unless told otherwise. */
#define KEPT_FLAGS (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | \
                    MS_RELATIME)

int mount_on_fd(const char *source, int targetfd, const char *type, unsigned long flags,
                const char *data)
{
    char target[64];
    (void)path_fd_to_proc(targetfd, target, sizeof(target));
    return mount(source, target, type, flags, data) < 0 ? -errno : 0;
}

int mount_bind_fd(const char *source, int targetfd, bool recursive)
{
    return mount_on_fd(source, targetfd, NULL, MS_BIND | (recursive ? MS_REC : 0), NULL);
}

int mount_remount_bind(int fd, unsigned long flags, unsigned long clear)
{
    struct statvfs sv;
    if (fstatvfs(fd, &sv) < 0)
        return -errno;
    unsigned long kept = sv.f_flag & KEPT_FLAGS & ~clear;
    if (flags & ATIME_FLAGS)
        kept &= ~(unsigned long)ATIME_FLAGS;
    unsigned long all = MS_REMOUNT | MS_BIND | kept | (flags & ~(MS_BIND | MS_REC | MS_REMOUNT));
    return mount_on_fd(NULL, fd, NULL, all, NULL);
}

int mount_apply_extra(int fd, const struct mount_flags *f)
{
    if (f->propagation != 0) {
        int r = mount_on_fd(NULL, fd, NULL, f->propagation, NULL);
        if (r < 0)
            return r;
    }
    if (f->recursive_attrs) {
        struct mount_attr attr = {.attr_set = f->attr_set, .attr_clr = f->attr_clr};
        if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
            return -errno;
    }
    return 0;
}

bool spec_binds_dev(const struct oci_spec *spec)
{
    for (size_t i = 0; i < spec->mounts_len; i++) {
        const struct oci_mount *m = &spec->mounts[i];
        if (m->destination == NULL || strcmp(m->destination, "/dev") != 0)
            continue;
        if (m->type != NULL && strcmp(m->type, "bind") == 0)
            return true;
        for (size_t j = 0; j < m->options_len; j++)
            if (strcmp(m->options[j], "bind") == 0 || strcmp(m->options[j], "rbind") == 0)
                return true;
    }
    return false;
}

/* devpts: always a private instance with a usable ptmx. */
static char *devpts_data(const char *data)
{
    char *out = NULL;
    const char *base = data != NULL ? data : "";
    bool has_new = strstr(base, "newinstance") != NULL;
    bool has_ptmx = strstr(base, "ptmxmode=") != NULL;
    if (asprintf(&out, "%s%s%s%s%s", base, *base && !has_new ? "," : "", has_new ? "" : "newinstance",
                 has_ptmx ? "" : ",", has_ptmx ? "" : "ptmxmode=0666") < 0)
        return NULL;
    return out;
}

/* The data without its gid=N option (a gid not mapped in a user namespace is EINVAL). */
static char *data_without_gid(const char *data)
{
    char *out = calloc(1, strlen(data) + 1);
    if (out == NULL)
        return NULL;
    _cleanup_free_ char *copy = strdup(data);
    if (copy == NULL) {
        free(out);
        return NULL;
    }
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        if (strncmp(tok, "gid=", 4) == 0)
            continue;
        if (*out)
            strcat(out, ",");
        strcat(out, tok);
    }
    return out;
}

static int mount_error(size_t i, const struct oci_mount *m, int e, struct vessel_error **err)
{
    const char *what = m->source != NULL ? m->source : (m->type != NULL ? m->type : "none");
    vessel_error_set(err, e, "mount \"%s\" on \"%s\"", what, m->destination);
    return vessel_error_wrap(err, "mounts[%zu]", i);
}

static int dest_error(size_t i, const struct oci_mount *m, struct vessel_error **err)
{
    return vessel_error_wrap(err, "mounts[%zu].destination \"%s\"", i, m->destination);
}

/* Bind (or rbind) m: source opened on the host, target created to match it. */
static int mount_one_bind(struct rootfs_ctx *ctx, size_t i, const struct oci_mount *m,
                          const struct mount_flags *f, struct vessel_error **err)
{
    const char *source = m->source != NULL ? m->source : "";
    _cleanup_close_ int bundle = -1;
    if (source[0] != '/' && ctx->bundle != NULL) {
        bundle = open(ctx->bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (bundle < 0)
            return vessel_error_set(err, errno, "open bundle \"%s\"", ctx->bundle);
    }
    _cleanup_close_ int src = openat(bundle >= 0 ? bundle : AT_FDCWD, source, O_PATH | O_CLOEXEC);
    if (src < 0)
        return vessel_error_set(err, errno, "mounts[%zu].source \"%s\"", i, source);
    struct stat st;
    if (fstat(src, &st) < 0)
        return vessel_error_set(err, errno, "mounts[%zu].source \"%s\"", i, source);
    _cleanup_close_ int target = S_ISDIR(st.st_mode)
                                     ? path_mkdir_in_root(ctx->rootfd, m->destination, 0755, err)
                                     : path_create_file_in_root(ctx->rootfd, m->destination, 0644, err);
    if (target < 0)
        return dest_error(i, m, err);

    int r;
    if (f->idmap) {
        r = idmap_bind(ctx, m, source, target, f, err);
        if (r < 0)
            return vessel_error_wrap(err, "mounts[%zu]", i);
    } else {
        char src_path[64];
        (void)path_fd_to_proc(src, src_path, sizeof(src_path));
        r = mount_bind_fd(src_path, target, (f->flags & MS_REC) != 0);
        if (r < 0)
            return mount_error(i, m, -r, err);
    }
    /* From here on work on the new mount, not the directory under it. */
    _cleanup_close_ int top = path_open_in_root(ctx->rootfd, m->destination, O_PATH, 0, err);
    if (top < 0)
        return dest_error(i, m, err);
    if ((f->flags & ~(MS_BIND | MS_REC | MS_REMOUNT)) != 0) {
        r = mount_remount_bind(top, f->flags, f->clear);
        if (r < 0)
            return mount_error(i, m, -r, err);
    }
    r = mount_apply_extra(top, f);
    if (r < 0)
        return mount_error(i, m, -r, err);
    return 0;
}

/* A fallback from a filesystem mount to a bind of the host's one (runc's rules). */
static int mount_one_as_bind(struct rootfs_ctx *ctx, size_t i, const struct oci_mount *m,
                             const struct mount_flags *f, const char *host_path,
                             struct vessel_error **err)
{
    struct oci_mount bind = *m;
    bind.source = (char *)host_path;
    struct mount_flags bf = *f;
    bf.flags |= MS_BIND | MS_REC;
    return mount_one_bind(ctx, i, &bind, &bf, err);
}

static int mount_one_fs(struct rootfs_ctx *ctx, size_t i, const struct oci_mount *m,
                        const struct mount_flags *f, struct vessel_error **err)
{
    const char *type = m->type;
    _cleanup_close_ int target = path_mkdir_in_root(ctx->rootfd, m->destination, 0755, err);
    if (target < 0)
        return dest_error(i, m, err);
    _cleanup_free_ char *data = NULL;
    if (type != NULL && strcmp(type, "devpts") == 0) {
        data = devpts_data(f->data);
        if (data == NULL)
            return vessel_error_set(err, ENOMEM, "mounts[%zu]", i);
    } else if (f->data != NULL && (data = strdup(f->data)) == NULL) {
        return vessel_error_set(err, ENOMEM, "mounts[%zu]", i);
    }
    /* tmpcopyup: keep the directory under the new tmpfs to copy from. */
    _cleanup_close_ int under = -1;
    if (f->tmpcopyup && type != NULL && strcmp(type, "tmpfs") == 0) {
        under = path_open_in_root(ctx->rootfd, m->destination, O_RDONLY | O_DIRECTORY, 0, err);
        if (under < 0)
            return dest_error(i, m, err);
    }
    const char *source = m->source != NULL ? m->source : (type != NULL ? type : "none");
    unsigned long flags = f->flags & ~(MS_BIND | MS_REC);
    int r = mount_on_fd(source, target, type, flags, data);
    if (r == -EINVAL && data != NULL && strstr(data, "gid=") != NULL && type != NULL &&
        strcmp(type, "devpts") == 0) {
        _cleanup_free_ char *nogid = data_without_gid(data);
        if (nogid != NULL)
            r = mount_on_fd(source, target, type, flags, nogid);
    }
    if (r == -EPERM && type != NULL && strcmp(type, "sysfs") == 0)
        return mount_one_as_bind(ctx, i, m, f, "/sys", err);
    if (r == -EPERM && type != NULL && strcmp(type, "mqueue") == 0)
        return mount_one_as_bind(ctx, i, m, f, "/dev/mqueue", err);
    if (r < 0)
        return mount_error(i, m, -r, err);

    _cleanup_close_ int top = path_open_in_root(ctx->rootfd, m->destination,
                                                under >= 0 ? O_RDONLY | O_DIRECTORY : O_PATH, 0, err);
    if (top < 0)
        return dest_error(i, m, err);
    if (under >= 0 && copy_tree(under, top, err) < 0)
        return vessel_error_wrap(err, "mounts[%zu] \"%s\": tmpcopyup", i, m->destination);
    r = mount_apply_extra(top, f);
    if (r < 0)
        return mount_error(i, m, -r, err);
    return 0;
}

int mounts_setup(struct rootfs_ctx *ctx, struct vessel_error **err)
{
    const struct oci_spec *spec = ctx->spec;
    for (size_t i = 0; i < spec->mounts_len; i++) {
        const struct oci_mount *m = &spec->mounts[i];
        if (m->destination == NULL)
            return vessel_error_set(err, EINVAL, "mounts[%zu].destination: missing", i);
        struct mount_flags f;
        int r = mount_options_parse(m->options, m->options_len, &f, err);
        if (r < 0)
            return vessel_error_wrap(err, "mounts[%zu].options", i);
        const char *type = m->type;
        if (type != NULL && strcmp(type, "bind") == 0)
            f.flags |= MS_BIND;
        if (f.flags & MS_BIND)
            r = mount_one_bind(ctx, i, m, &f, err);
        else if (type != NULL && (strcmp(type, "cgroup") == 0 || strcmp(type, "cgroup2") == 0))
            r = cgroup_mount_setup(ctx, i, &f, err);
        else
            r = mount_one_fs(ctx, i, m, &f, err);
        mount_flags_free(&f);
        if (r < 0)
            return r;
    }
    return 0;
}
