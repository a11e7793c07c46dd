/* The public face of cgroups/: put a container's processes in one cgroup path
 * across every mounted hierarchy (cgroup2-only, v1, and hybrid hosts). */
#ifndef VESSEL_CGROUPS_CGROUPS_H
#define VESSEL_CGROUPS_CGROUPS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/error.h"
#include "oci/spec.h"

/* Map linux.cgroupsPath to the cgroup path vessel uses (always absolute, "/a/b"):
 *   NULL or ""            -> "/vessel/ID"
 *   "/abs/path"           -> kept (duplicate and trailing slashes removed)
 *   "slice:prefix:name"   -> systemd form mapped to the cgroupfs path systemd
 *                            would use: "system.slice:docker:x" ->
 *                            "/system.slice/docker-x.scope", "a-b.slice:p:n" ->
 *                            "/a.slice/a-b.slice/p-n.scope" (empty slice ->
 *                            system.slice; a name ending in .slice is used as is)
 *   "rel/path"            -> under the runtime's own cgroup (cgroup_self_path),
 *                            as runc does; on hybrid and v1 hosts the own path
 *                            of the unified (else name=systemd, else first)
 *                            hierarchy is the base for every hierarchy.
 * ".." components are refused (EINVAL). *out is malloc'ed. */
int cgroup_resolve_path(const char *cgroups_path, const char *id, char **out,
                        struct vessel_error **err);

/* Create PATH in every mounted hierarchy (parents too). On v1 the cpuset
 * levels get cpuset.cpus/mems from their parent; on v2 every controller the
 * parent offers is enabled in the ancestors' cgroup.subtree_control (best
 * effort: a controller the kernel refuses there is skipped). res is accepted
 * for the later resources issue and not applied yet (may be NULL). An existing
 * cgroup is joined, not an error. */
int cgroup_create(const char *path, const struct oci_resources *res, struct vessel_error **err);

/* Write pid into PATH/cgroup.procs in every hierarchy. pid 0 (or the
 * caller's own pid) moves the calling process itself, which must then be
 * single-threaded: on v1 that goes through "tasks" and avoids a kernel-wide
 * lock costing an RCU grace period per hierarchy (about 1-10 ms in all), so
 * a container init should enter its cgroup itself (before unsharing its
 * cgroup namespace) rather than be moved by its parent. */
int cgroup_enter(const char *path, pid_t pid, struct vessel_error **err);

/* Entering PATH from a child about to be cloned, off the parent's critical
 * path: the parent opens every v1 hierarchy's "tasks" file and the cgroup2
 * directory (for clone3's CLONE_INTO_CGROUP) and cgroup.procs, so the
 * parent's credentials apply even when the child is in a new user namespace;
 * the single-threaded child then writes "0" (itself) to each, which on v1
 * skips the global threadgroup lock and its RCU grace period (~10 ms). */
#define CGROUP_ENTRY_MAX 32
struct cgroup_entry {
    int tasks_fds[CGROUP_ENTRY_MAX];  /* v1 PATH/tasks, write-only */
    size_t n;
    int v2_dirfd;                     /* cgroup2 PATH directory, -1 if no cgroup2 */
    int v2_procs_fd;                  /* cgroup2 PATH/cgroup.procs, -1 if no cgroup2 */
};
void cgroup_entry_init(struct cgroup_entry *e);
/* Open the fds (O_CLOEXEC). On failure nothing stays open. */
int cgroup_entry_open(const char *path, struct cgroup_entry *e, struct vessel_error **err);
/* In the child (single-threaded, after fork/clone): move itself into every
 * hierarchy; v2_done when clone3 already placed it in the cgroup2 one.
 * No allocation. Returns 0 or -errno of the first failed write. */
int cgroup_entry_self(const struct cgroup_entry *e, bool v2_done);
void cgroup_entry_close(struct cgroup_entry *e);
/* cgroup_create, then cgroup_entry_open into *e (may be NULL), from one read
 * of /proc/self/mountinfo. On failure *e holds nothing open. */
int cgroup_create_open(const char *path, const struct oci_resources *res, struct cgroup_entry *e,
                       struct vessel_error **err);

/* Every pid in PATH and its descendants, deduplicated over all hierarchies.
 * A cgroup missing everywhere yields *n == 0. *pids is malloc'ed (may be NULL
 * when *n == 0). */
int cgroup_pids(const char *path, pid_t **pids, size_t *n, struct vessel_error **err);

/* Remove PATH (descendants first) in every hierarchy. Remaining processes are
 * thawed and SIGKILLed first, retrying (bounded, about 5 s) until the
 * directories can be removed. A hierarchy where PATH is missing is fine. */
int cgroup_destroy(const char *path, struct vessel_error **err);

/* The calling process's own cgroup path (unified hierarchy when mounted, else
 * name=systemd, else the first v1 hierarchy of /proc/self/cgroup). */
int cgroup_self_path(char **out, struct vessel_error **err);

/* Which cgroup versions are mounted here (for `features`). */
int cgroup_versions(int *has_v1, int *has_v2, struct vessel_error **err);

#endif
