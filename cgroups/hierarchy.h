/* Internal to cgroups/: the cgroup hierarchies mounted in our mount namespace,
 * found in /proc/self/mountinfo (one entry per hierarchy, bind mounts merged). */
#ifndef VESSEL_CGROUPS_HIERARCHY_H
#define VESSEL_CGROUPS_HIERARCHY_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

struct cgroup_hierarchy {
    char *mountpoint;   /* "/sys/fs/cgroup/cpu" */
    char *root;         /* root of the mount inside the hierarchy, usually "/" */
    char *controllers;  /* v1: "cpu,cpuacct" or "name=systemd"; v2: "" */
    bool v2;
};

struct cgroup_hierarchies {
    struct cgroup_hierarchy *items;
    size_t len;
};

/* Parse mountinfo text (exposed for unit tests) or read /proc/self/mountinfo. */
int cgroup_hierarchies_parse(const char *mountinfo, struct cgroup_hierarchies *out,
                             struct vessel_error **err);
int cgroup_hierarchies_load(struct cgroup_hierarchies *out, struct vessel_error **err);
void cgroup_hierarchies_free(struct cgroup_hierarchies *h);

/* Directory of cgroup PATH in hierarchy h ("/sys/fs/cgroup/cpu/vessel/x"). */
int cgroup_hierarchy_dir(const struct cgroup_hierarchy *h, const char *path, char **out,
                         struct vessel_error **err);
/* Whether the v1 hierarchy h carries controller name (exact list match). */
bool cgroup_hierarchy_has(const struct cgroup_hierarchy *h, const char *name);

/* cgroup_entry_open over hierarchies already loaded (entry.c). */
struct cgroup_entry;
int cgroup_entry_open_in(const struct cgroup_hierarchies *hs, const char *path, struct cgroup_entry *e,
                         struct vessel_error **err);

#endif
