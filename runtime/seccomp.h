/* linux.seccomp: build the filter with libseccomp, load it with the spec's
 * flags, and hand the notify fd to the listener (SCMP_ACT_NOTIFY). */
#ifndef VESSEL_RUNTIME_SECCOMP_H
#define VESSEL_RUNTIME_SECCOMP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/error.h"
#include "oci/spec.h"

/* Build and load the filter for the calling thread. Does nothing when
 * sc->present is false. no_new_privs sets PR_SET_NO_NEW_PRIVS first; without
 * it loading needs CAP_SYS_ADMIN (runc's order: load before dropping caps).
 * defaultAction (+defaultErrnoRet), architectures (the native one is always
 * included; names this libseccomp does not know are skipped), syscalls whose
 * names are unknown here are skipped as runc does; errnoRet defaults to
 * EPERM for ERRNO and TRACE; several args on the same index become separate
 * rules (OR), otherwise one rule (AND). Flags: LOG, SPEC_ALLOW,
 * WAIT_KILLABLE_RECV as seccomp(2) flags (the kernel rejects what it lacks:
 * see seccomp_features); TSYNC is accepted and ignored (single-threaded).
 * With SCMP_ACT_NOTIFY the listener fd is sent over the connection made by
 * seccomp_listener_prepare (or, when none was prepared, a connection to
 * listenerPath made now, which works only if that path is reachable here),
 * then closed here. */
int seccomp_load_spec(const struct oci_seccomp *sc, bool no_new_privs, struct vessel_error **err);

/* For SCMP_ACT_NOTIFY: connect to sc->listener_path now (call it while the
 * host's path is still visible, i.e. before pivot_root) and prepare the
 * message runc sends: one sendmsg carrying the notify fd (SCM_RIGHTS) and the
 * JSON {"ociVersion","fds":["seccompFd"],"pid":PID,"metadata":listenerMetadata,
 * "state":STATE_JSON}. state_json is the OCI state (may be NULL: then "state"
 * is omitted), pid the container's pid as the host sees it. No-op when the
 * filter has no listener path. */
int seccomp_listener_prepare(const struct oci_seccomp *sc, const char *state_json, pid_t pid,
                             struct vessel_error **err);

/* For `features`: the OCI names of the architectures this libseccomp knows
 * ("SCMP_ARCH_X86_64", ...) and of the flags this kernel accepts
 * ("SECCOMP_FILTER_FLAG_LOG", ...). Arrays and strings are malloc'ed; free
 * each with seccomp_strv_free. Returns 0 or -ENOMEM. */
int seccomp_features(char ***archs, size_t *narchs, char ***flags, size_t *nflags);
void seccomp_strv_free(char **v, size_t n);

#endif
