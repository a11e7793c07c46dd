/* The isolation layer: namespaces (create, join, id maps, time offsets), the
 * container's rootfs (mounts, /dev, pivot_root, masked and read-only paths),
 * hostname, sysctl and loopback. Knows nothing of the CLI; runtime/ decides. */
#ifndef VESSEL_NAMESPACES_H
#define VESSEL_NAMESPACES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "oci/spec.h"

/* ---- namespaces (namespaces/nsjoin.c) ---- */

/* CLONE_NEW* of every linux.namespaces entry without a path (to create new).
 * *flags is 0 when there is none. */
int namespaces_clone_flags(const struct oci_spec *spec, int *flags, struct vessel_error **err);

/* Open the namespaces given by path (fds[type] = fd, -1 for the rest), checking
 * with NS_GET_NSTYPE that each is a namespace of its entry's type. Errors name the
 * entry: `linux.namespaces[2].path "/proc/1/ns/net": not a network namespace`.
 * On failure every fd is -1 again. Close them with namespaces_close(). */
int namespaces_open_paths(const struct oci_spec *spec, int fds[OCI_NS_COUNT],
                          struct vessel_error **err);
void namespaces_close(int fds[OCI_NS_COUNT]);

/* setns() into fds[which]; which == OCI_NS_COUNT joins all open ones except the
 * user and mount namespaces, in the order ipc, uts, network, pid, cgroup, time.
 * Order rules for the caller (the same as runc's nsexec):
 *   1. join an existing user namespace first: namespaces_join(fds, OCI_NS_USER),
 *      so the others (owned by it) can be joined with its capabilities;
 *   2. namespaces_join(fds, OCI_NS_COUNT) for the rest;
 *   3. namespaces_join(fds, OCI_NS_MOUNT) last (it changes what paths mean);
 *   4. only then unshare/clone the namespaces to create (namespaces_clone_flags):
 *      joined namespaces owned by the host user namespace need the host's
 *      capabilities, which a new user namespace would take away.
 * pid and time namespaces apply to the caller's children only. Entries whose fd is
 * -1 are skipped. */
int namespaces_join(const int fds[OCI_NS_COUNT], enum oci_namespace_type which,
                    struct vessel_error **err);

/* ---- user and time namespaces, from the parent (namespaces/userns.c) ---- */

/* Write linux.uidMappings / gidMappings to /proc/PID/{uid,gid}_map. When the
 * caller is not root in its user namespace (rootless) it cannot map groups with
 * setgroups allowed, so "deny" goes to /proc/PID/setgroups first. No mappings in
 * the spec: nothing is written. At most 340 lines each (the kernel's limit). */
int userns_write_mappings(pid_t pid, const struct oci_spec *spec, struct vessel_error **err);

/* Write linux.timeOffsets (monotonic, boottime) to /proc/PID/timens_offsets: the
 * offsets of the time namespace PID's children will enter (after PID called
 * unshare(CLONE_NEWTIME); PID may be getpid()). Must run before any process is in
 * that namespace. Nothing to do (0) when the spec has no offsets. */
int timens_write_offsets(pid_t pid, const struct oci_spec *spec, struct vessel_error **err);

/* ---- in the container (namespaces/net.c, namespaces/uts.c, namespaces/sysctl.c) ---- */

/* Set "lo" up in the current network namespace (rtnetlink via libmnl). */
int net_loopback_up(struct vessel_error **err);

/* sethostname / setdomainname from the spec. A non-empty value needs a UTS
 * namespace entry in the spec (`hostname "x": a UTS namespace is required`). */
int uts_apply(const struct oci_spec *spec, struct vessel_error **err);

/* Write every linux.sysctl entry to /proc/sys. Keys are validated first
 * (sysctl_key_validate); a value already in place is not written again, so calling
 * this after rootfs_setup (which applies sysctls itself, before /proc/sys becomes
 * read-only) is harmless. */
int sysctl_apply(const struct oci_spec *spec, struct vessel_error **err);

/* Check one key the way runc does: non-empty, no "..", no leading '/', only
 * namespaced keys (kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.* need an ipc
 * namespace; net.* a network namespace; kernel.hostname and kernel.domainname a
 * UTS namespace). Writes the path below /proc/sys into path ("net/ipv4/ip_forward";
 * dots become slashes unless the key already uses slashes). */
int sysctl_key_validate(const struct oci_spec *spec, const char *key, char *path, size_t size,
                        struct vessel_error **err);

/* ---- mount options (namespaces/mount_options.c) ---- */

/* One mount's "options" array, split into what each system call needs. */
struct mount_flags {
    unsigned long flags;        /* MS_* to set (MS_RDONLY, MS_NOSUID, MS_BIND, MS_REC, ...) */
    unsigned long clear;        /* MS_* explicitly turned off (rw, suid, dev, exec, ...) */
    unsigned long propagation;  /* MS_SHARED|MS_SLAVE|MS_PRIVATE|MS_UNBINDABLE (+MS_REC); last wins */
    uint64_t attr_set;          /* recursive MOUNT_ATTR_* (rro, rnosuid, ...) for mount_setattr */
    uint64_t attr_clr;
    bool recursive_attrs;       /* any r* attribute option was given */
    bool idmap;                 /* idmap or ridmap */
    bool idmap_recursive;       /* ridmap */
    bool tmpcopyup;             /* copy the directory's old contents into a new tmpfs */
    char *data;                 /* everything else, comma-joined, for the filesystem; NULL if none */
};

/* Parse options[0..n). Unknown options become filesystem data ("size=64k,mode=755").
 * Never fails on a valid spec; errors are only ENOMEM and over-long data. Free with
 * mount_flags_free(). */
int mount_options_parse(char **options, size_t n, struct mount_flags *out, struct vessel_error **err);
void mount_flags_free(struct mount_flags *f);

/* The option names mount_options_parse understands as flags (for `features`); the
 * same list as oci/vocab.h's oci_mount_option_names. */
const char *const *namespaces_supported_mount_options(size_t *n);

/* ---- the rootfs (namespaces/rootfs.c, mount.c, devices.c, cgroup_mount.c) ---- */

struct rootfs_options {
    bool no_pivot;                 /* MS_MOVE + chroot instead of pivot_root */
    /* Called after every mount and /dev are in place, before pivot_root
     * (createContainer hooks run here). May be NULL. */
    int (*before_pivot)(void *data, struct vessel_error **err);
    void *data;
    const char *console_slave;     /* if non-NULL: bind this pty slave on /dev/console */
    const char *bundle;            /* relative bind sources are relative to it; NULL: the cwd */
};

/* Build the container's filesystem view. Call it in the container's init, already
 * in its new mount namespace (and user namespace if any), before pivot. rootfs is
 * the absolute host path of the root directory. Steps, in order:
 *   / made rslave (or linux.rootfsPropagation), rootfs bound on itself;
 *   every spec mount in order (bind/rbind with all flags, propagation and recursive
 *   attributes via mount_setattr, idmap; tmpfs (tmpcopyup), proc, sysfs (rbind of /sys
 *   when sysfs cannot be mounted: no own netns, user ns), devpts (newinstance,
 *   ptmxmode=0666), mqueue (bind of /dev/mqueue when it cannot be mounted), cgroup (v2:
 *   cgroup2; v1/hybrid: tmpfs with each hierarchy inside), overlay, any other type);
 *   every destination resolved inside the rootfs (path_* in common/path.h); bind
 *   sources are host paths, relative ones relative to opts->bundle (runtime-spec),
 *   or to the current directory when that is NULL;
 *   /dev unless the spec binds it: default devices null zero full random urandom tty
 *   plus linux.devices (mknod, or bind from the host in a user namespace),
 *   /dev/ptmx -> pts/ptmx, /dev/fd, /dev/std{in,out,err}, /dev/shm, /dev/console;
 *   before_pivot; pivot_root (or MS_MOVE + chroot); linux.sysctl (before /proc/sys
 *   turns read-only); masked paths (/dev/null on files, read-only empty tmpfs on
 *   directories; missing ones ignored); read-only paths (recursive bind made
 *   ro,nosuid,nodev,noexec); root.readonly; rootfsPropagation on the new /.
 * Errors name the step and path: `mount "proc" on "/proc": Operation not permitted`,
 * `mounts[2].destination "/x": ...`. Ends with cwd "/" in the new root. */
int rootfs_setup(const struct oci_spec *spec, const char *rootfs,
                 const struct rootfs_options *opts, struct vessel_error **err);

/* After pivot: bind the pty slave at slave_path (as seen now) onto /dev/console,
 * creating it. For runtimes that make the pty inside the container. */
int rootfs_bind_console(const char *slave_path, struct vessel_error **err);

#endif
