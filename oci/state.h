/* The container state: the OCI state JSON (what `vessel state` prints) plus the
 * private fields vessel needs to manage the container later (stored in
 * ROOT/ID/state.json). Plain data; file I/O and locking live in runtime/. */
#ifndef VESSEL_OCI_STATE_H
#define VESSEL_OCI_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "oci/spec.h"

enum container_status {
    STATUS_CREATING, STATUS_CREATED, STATUS_RUNNING, STATUS_STOPPED, STATUS_PAUSED
};

struct container_state {
    char *oci_version;
    char *id;
    enum container_status status;   /* as last recorded; runtime/ recomputes it */
    int pid;                        /* 0 while unknown */
    uint64_t pid_start_time;        /* /proc/PID/stat field 22, guards against pid reuse */
    char *bundle;
    char *rootfs;                   /* absolute path */
    char *created;                  /* RFC 3339 UTC timestamp */
    char *owner;                    /* user name, "" when unknown */
    struct oci_kv *annotations; size_t annotations_len;
    /* private */
    char *cgroup_path;              /* as resolved at create, e.g. "/vessel/ID" */
    char *isolation;                /* "container" or "vm" */
    char *vm_backend;               /* "builtin" or "qemu" in vm mode, else NULL */
    bool started;                   /* start has released the user process */
    bool systemd_cgroup;
};

const char *container_status_name(enum container_status status);  /* "created", ... */
int container_status_parse(const char *name, enum container_status *out);

/* Full private document for ROOT/ID/state.json. */
int state_to_json(const struct container_state *st, char **out, struct vessel_error **err);
/* Only the OCI state fields (ociVersion, id, status, pid, bundle, annotations,
 * plus created, owner, rootfs as engines expect), pretty-printed, for `state`. */
int state_to_oci_json(const struct container_state *st, char **out, struct vessel_error **err);
int state_from_json(const char *json, size_t len, struct container_state **out, struct vessel_error **err);
void state_free(struct container_state *st);
void state_freep(struct container_state **st);
#define _cleanup_state_ __attribute__((cleanup(state_freep)))

#endif
