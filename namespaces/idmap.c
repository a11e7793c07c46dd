/* Idmapped bind mounts (options idmap/ridmap): a user namespace carrying the
 * mount's mappings is made by a short-lived child, then attached to a detached
 * copy of the source tree with mount_setattr(MOUNT_ATTR_IDMAP). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "namespaces/rootfs_internal.h"

/* A user namespace with these mappings, as an fd. */
static int idmap_userns(const struct oci_id_mapping *uids, size_t nuids,
                        const struct oci_id_mapping *gids, size_t ngids, struct vessel_error **err)
{
    int ready[2], hold[2];
    if (pipe2(ready, O_CLOEXEC) < 0)
        return vessel_error_set(err, errno, "idmap: pipe");
    if (pipe2(hold, O_CLOEXEC) < 0) {
        int e = errno;
        close(ready[0]);
        close(ready[1]);
        return vessel_error_set(err, e, "idmap: pipe");
    }
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(ready[0]); close(ready[1]); close(hold[0]); close(hold[1]);
        return vessel_error_set(err, e, "idmap: fork");
    }
    if (pid == 0) {
        close(ready[0]);
        close(hold[1]);
        /* Report our pid as the mounted /proc numbers it: we may be in a new pid
         * namespace while /proc is still the host's. */
        char msg[32] = "n";
        if (unshare(CLONE_NEWUSER) == 0) {
            ssize_t len = readlink("/proc/self", msg, sizeof(msg) - 1);
            msg[len > 0 ? len : 0] = '\0';
        }
        if (write(ready[1], msg, strlen(msg) + 1) < 0)
            _exit(1);
        char c;
        /* Stay alive (and in the namespace) until the parent has its fd. */
        while (read(hold[0], &c, 1) < 0 && errno == EINTR)
            ;
        _exit(0);
    }
    close(ready[1]);
    close(hold[0]);
    char msg[32] = "";
    ssize_t n;
    while ((n = read(ready[0], msg, sizeof(msg) - 1)) < 0 && errno == EINTR)
        ;
    close(ready[0]);
    msg[n > 0 ? n : 0] = '\0';
    pid_t proc_pid = (pid_t)atoi(msg);
    int fd = -1;
    if (proc_pid <= 0) {
        vessel_error_set(err, EPERM, "idmap: create user namespace");
    } else if (userns_write_id_maps(proc_pid, uids, nuids, gids, ngids, err) == 0) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)proc_pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            vessel_error_set(err, errno, "idmap: open \"%s\"", path);
    }
    close(hold[1]);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    return fd < 0 ? vessel_error_code(err ? *err : NULL) : fd;
}

int idmap_bind(const struct rootfs_ctx *ctx, const struct oci_mount *m, const char *source,
               int targetfd, const struct mount_flags *f, struct vessel_error **err)
{
    const struct oci_linux *l = &ctx->spec->linux_;
    const struct oci_id_mapping *uids = m->uid_mappings_len ? m->uid_mappings : l->uid_mappings;
    size_t nuids = m->uid_mappings_len ? m->uid_mappings_len : l->uid_mappings_len;
    const struct oci_id_mapping *gids = m->gid_mappings_len ? m->gid_mappings : l->gid_mappings;
    size_t ngids = m->gid_mappings_len ? m->gid_mappings_len : l->gid_mappings_len;
    if (nuids == 0 || ngids == 0)
        return vessel_error_set(err, EINVAL, "idmap \"%s\": uidMappings and gidMappings are required",
                                m->destination);
    _cleanup_close_ int userns = idmap_userns(uids, nuids, gids, ngids, err);
    if (userns < 0)
        return vessel_error_wrap(err, "idmap \"%s\"", m->destination);
    unsigned int rec = (f->flags & MS_REC) ? AT_RECURSIVE : 0;
    _cleanup_close_ int tree = open_tree(AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | rec);
    if (tree < 0)
        return vessel_error_set(err, errno, "idmap: open_tree \"%s\"", source);
    struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns};
    if (mount_setattr(tree, "", AT_EMPTY_PATH | (f->idmap_recursive ? AT_RECURSIVE : 0), &attr,
                      sizeof(attr)) < 0)
        return vessel_error_set(err, errno, "idmap \"%s\": set mapping", m->destination);
    if (move_mount(tree, "", targetfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        return vessel_error_set(err, errno, "mount \"%s\" on \"%s\"", source, m->destination);
    return 0;
}
