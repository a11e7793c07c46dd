/* Which file descriptors reach the workload: 0-2, then LISTEN_FDS (socket
 * activation, passed through as runc does), then --preserve-fds. */
#ifndef VESSEL_RUNTIME_FDS_H
#define VESSEL_RUNTIME_FDS_H

#include "common/error.h"

/* Count of socket-activation fds handed to this process: LISTEN_FDS when
 * LISTEN_PID is unset or equals our pid, else 0. Bounded to 4096. */
int fds_listen_count(void);

/* Mark every fd >= 3 + keep close-on-exec, so exactly 0-2 and the kept
 * ones survive execve. Returns 0 or -errno. */
int fds_close_on_exec_from(int keep);

/* Clear FD_CLOEXEC on fds 3..3+keep-1 that are open (they must survive). */
int fds_keep(int keep);

#endif
