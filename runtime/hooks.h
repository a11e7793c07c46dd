/* OCI hooks (prestart, createRuntime, createContainer, startContainer,
 * poststart, poststop): run each one with the state JSON on stdin. */
#ifndef VESSEL_RUNTIME_HOOKS_H
#define VESSEL_RUNTIME_HOOKS_H

#include <stddef.h>

#include "common/error.h"
#include "oci/spec.h"

/* Run hooks[0..n) in order, in the caller's namespaces. Each gets the state
 * JSON on stdin (a sealed-off memory file, so a hook that never reads it
 * cannot block the runtime), argv = args (args[0] is argv[0]; just the path
 * when args is empty), exactly its env (empty when none), stdout and stderr
 * both on the runtime's stderr, and no other fds. A hook with a timeout is
 * SIGKILLed after that many seconds. The first failure stops the run:
 *   hook createRuntime[1] "/path": exited with status 3
 *   hook prestart[0] "/path": killed by signal 9
 *   hook poststart[0] "/path": timed out after 2 seconds
 *   hook prestart[0] "/nope": exec: No such file or directory */
int hooks_run(const struct oci_hook *hooks, size_t n, const char *stage, const char *state_json,
              struct vessel_error **err);

#endif
