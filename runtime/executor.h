/* What runtime/ hands to an executor (container or micro-VM) at create time,
 * and the start contract both share.
 *
 * Start contract: ROOT/ID/exec.fifo is made by create. The process that will
 * start the workload (the container's init, or the VM's host-side process)
 * opens it O_WRONLY (blocking until `start` opens it) and writes one byte.
 * `vessel start` opens it O_RDONLY, reads that byte, and unlinks it. */
#ifndef VESSEL_RUNTIME_EXECUTOR_H
#define VESSEL_RUNTIME_EXECUTOR_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "oci/spec.h"
#include "oci/state.h"

struct create_request {
    const char *id;
    const char *bundle;          /* absolute */
    const char *rootfs;          /* absolute */
    const char *state_dir;       /* ROOT/ID, exists */
    const char *exec_fifo;       /* ROOT/ID/exec.fifo, exists */
    const struct oci_spec *spec;
    const char *console_socket;  /* NULL unless --console-socket */
    int console_fd;              /* connected console socket (--console-socket, or run's own
                                    relay when it owns the terminal), -1 when none: the pty
                                    master is sent over it */
    int preserve_fds;            /* extra fds after 2 to pass through */
    bool no_pivot;
    bool no_new_keyring;
    bool foreground;             /* run without --detach: stdio stays attached */
    bool debug;
    const char *cgroup_path;     /* resolved cgroups path, e.g. "/vessel/ID" */
};

/* Micro-VM executor (microvm/ + runtime/vm_executor.c). Starts the VMM (or
 * QEMU plus vessel's host-side process) for the request; on return *pid is
 * the container's pid: it is in the container's cgroup, waits on the exec
 * fifo, forwards signals it receives into the guest workload (SIGKILL simply
 * ends the VM), and exits with the workload's status (128+N for signal N).
 * On failure nothing it started is left running. */
int vm_executor_create(const struct create_request *req, pid_t *pid, struct vessel_error **err);

#endif
