/* The container process's own settings, applied by the container's init
 * after pivot_root: limits, scheduling, user and groups, capabilities,
 * no_new_privs; then its environment and the final execve (seccomp last). */
#ifndef VESSEL_RUNTIME_PROCESS_H
#define VESSEL_RUNTIME_PROCESS_H

#include "common/error.h"
#include "oci/spec.h"

/* In this order: rlimits, oomScoreAdj, personality, scheduler, ioPriority,
 * umask (0022 when unset), cwd, [seccomp when noNewPrivileges is false: it
 * then needs CAP_SYS_ADMIN, so it is loaded here before capabilities are
 * dropped, as runc does], bounding set, setgroups + setresgid + setresuid
 * (PR_SET_KEEPCAPS kept across when capabilities are given), the other
 * capability sets and ambient, no_new_privs. A cwd only the new user may
 * enter is retried after the uid change. Absent capabilities: left as they
 * are (a uid change then drops them as setuid(2) does). Errors name the
 * field: `process.cwd "/x": No such file or directory`. */
int process_setup(const struct oci_spec *spec, struct vessel_error **err);

/* envp for execve: process.env, plus PATH (the usual default) when missing
 * and HOME from the container's /etc/passwd for process.user.uid ("/" when
 * not found) when missing, as runc does. NULL-terminated; free with
 * process_env_free. Call after pivot_root (it reads /etc/passwd). */
int process_build_env(const struct oci_spec *spec, char ***envp, struct vessel_error **err);
void process_env_free(char **envp);

/* Resolve process.args[0] through PATH from envp (inside the container),
 * load seccomp if process_setup has not, and execve. Returns only on error:
 * `exec "foo": No such file or directory`. */
int process_exec(const struct oci_spec *spec, char **envp, struct vessel_error **err);

#endif
