/* Shared inside namespaces/ only: the state of one rootfs_setup() run and the
 * helpers its files (rootfs.c, mount.c, devices.c, cgroup_mount.c, idmap.c) share. */
#ifndef VESSEL_NAMESPACES_ROOTFS_INTERNAL_H
#define VESSEL_NAMESPACES_ROOTFS_INTERNAL_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "namespaces/namespaces.h"
#include "oci/spec.h"

struct rootfs_ctx {
    const struct oci_spec *spec;
    const char *rootfs;   /* host path of the root directory */
    int rootfd;           /* O_PATH of the rootfs, after it was bound on itself */
    const char *bundle;   /* for relative bind sources; NULL: the cwd */
    bool in_userns;       /* running in a user namespace other than the initial one */
};

/* mount(2) with the target given as an fd (via /proc/self/fd/N). Returns 0 or -errno. */
int mount_on_fd(const char *source, int targetfd, const char *type, unsigned long flags,
                const char *data);
/* Bind source (a path as seen now) onto targetfd; recursive with MS_REC. 0 or -errno. */
int mount_bind_fd(const char *source, int targetfd, bool recursive);
/* Remount a bind mount (the mount on top of fd) with flags, keeping the current
 * flags that flags/clear do not mention (locked ones in a user namespace). */
int mount_remount_bind(int fd, unsigned long flags, unsigned long clear);
/* Propagation and recursive attributes of f on the mount at fd. 0 or -errno. */
int mount_apply_extra(int fd, const struct mount_flags *f);

/* Every spec mount, in order (mount.c). */
int mounts_setup(struct rootfs_ctx *ctx, struct vessel_error **err);
/* One cgroup mount at dest (cgroup_mount.c). */
int cgroup_mount_setup(struct rootfs_ctx *ctx, size_t index, const struct mount_flags *f,
                       struct vessel_error **err);
/* Idmapped bind of source on targetfd (idmap.c). */
int idmap_bind(const struct rootfs_ctx *ctx, const struct oci_mount *m, const char *source,
               int targetfd, const struct mount_flags *f, struct vessel_error **err);
/* uid_map and gid_map of PID from mapping lists (userns.c). */
int userns_write_id_maps(pid_t pid, const struct oci_id_mapping *uids, size_t nuids,
                         const struct oci_id_mapping *gids, size_t ngids, struct vessel_error **err);
/* Copy the contents of directory fromfd into directory tofd (tmpcopyup). */
int copy_tree(int fromfd, int tofd, struct vessel_error **err);
/* /dev: devices, links, console (devices.c). */
int devices_setup(struct rootfs_ctx *ctx, const char *console_slave, struct vessel_error **err);

/* True when the spec bind-mounts something on /dev (then /dev is left alone). */
bool spec_binds_dev(const struct oci_spec *spec);

#endif
