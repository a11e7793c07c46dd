/* The container lifecycle shared by every command and both executors:
 * create (a transaction), start, kill, delete, and loading state. */
#ifndef VESSEL_RUNTIME_CONTAINER_H
#define VESSEL_RUNTIME_CONTAINER_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "oci/state.h"
#include "runtime/commands.h"

struct container_create_opts {
    const char *id;
    const char *bundle;          /* default "." */
    const char *console_socket;  /* --console-socket */
    const char *pid_file;        /* --pid-file */
    int preserve_fds;
    bool no_pivot, no_new_keyring;
    bool foreground;             /* `run` without --detach */
    int console_fd;              /* foreground pty: our end of a socketpair given to the init, or -1 */
};

/* Validate everything, then claim ROOT/ID and build the container; any failure
 * unwinds every step (init killed, cgroup removed, state dir removed). On
 * success the container is "created": *pid is its init (or VMM), *pidfd a
 * pidfd for it (our child in this process). */
int container_create(const struct vessel_globals *g, const struct container_create_opts *o, pid_t *pid,
                     int *pidfd, struct vessel_error **err);

/* Does this bundle's process ask for a terminal? (run decides on a pty relay.) */
int container_bundle_wants_terminal(const char *bundle, bool *terminal, struct vessel_error **err);

/* Release a created container's user process (exec fifo), run poststart hooks. */
int container_start(const char *root, const char *id, struct vessel_error **err);

/* Signal the init (or every process of the cgroup with all). */
int container_kill(const char *root, const char *id, int sig, bool all, struct vessel_error **err);

/* Delete a stopped (or created) container; force: any state, including a
 * create whose runtime was killed at any step. Runs poststop hooks. */
int container_delete(const char *root, const char *id, bool force, struct vessel_error **err);

/* Read ROOT/ID's state with its live status filled in. */
int container_state_load(const char *root, const char *id, struct container_state **out,
                         struct vessel_error **err);

/* Signal names with or without SIG, and numbers: "TERM", "SIGKILL", "9". */
int signal_parse(const char *name, int *sig, struct vessel_error **err);

#endif
