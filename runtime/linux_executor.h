/* The container executor: clones the container's init with its namespaces,
 * re-executes it from a sealed copy of vessel (runtime/exe_clone.h), drives it
 * through setup over a sync socket, and hands back its pid once it waits on
 * the exec fifo. The init side is linux_init_main (the hidden `init` command). */
#ifndef VESSEL_RUNTIME_LINUX_EXECUTOR_H
#define VESSEL_RUNTIME_LINUX_EXECUTOR_H

#include <stddef.h>
#include <sys/types.h>

#include "common/error.h"
#include "runtime/executor.h"

struct linux_executor_ops {
    void *data;
    /* The init exists (pid known): record it (state "creating" with pid) and
     * return the state JSON the hooks inside the container get (malloc'ed). */
    int (*spawned)(void *data, pid_t pid, char **state_json, struct vessel_error **err);
    /* Namespaces and mounts exist, before pivot_root: prestart + createRuntime. */
    int (*runtime_hooks)(void *data, pid_t pid, struct vessel_error **err);
};

struct linux_create_params {
    const struct create_request *req;
    const char *config;   /* the config.json bytes req->spec was parsed from */
    size_t config_len;
    int console_fd;       /* connected console socket (or one end of a socketpair), -1 if none */
    int listen_fds;       /* LISTEN_FDS passed through before req->preserve_fds */
    /* req->cgroup_path already opened (cgroup_create_open): taken over (left
     * empty) and closed by the executor. NULL: the executor opens it. */
    struct cgroup_entry *cgroup;
    const struct linux_executor_ops *ops;
};

/* On success *pid is the init (waiting on req->exec_fifo) and *pidfd its
 * pidfd. On failure the init (if any) is killed and reaped. */
int linux_executor_create(const struct linux_create_params *p, pid_t *pid, int *pidfd,
                          struct vessel_error **err);

/* The init, re-executed from the sealed copy: `vessel init` with _VESSEL_INIT
 * naming the sync socket. Returns only on failure (exit status). */
int linux_init_main(void);

/* VESSEL_TEST_CRASH_AT=<step>: _exit(137) at the named step of create, so
 * tests can prove `delete --force` cleans up after a runtime killed there.
 * Steps: state-dir, cgroup, spawned, maps, init-ready. */
void test_crash_point(const char *step);

#endif
