/* Which file descriptors reach the workload: 0-2, then LISTEN_FDS (socket
 * activation, passed through as runc does), then --preserve-fds. */
#ifndef VESSEL_RUNTIME_FDS_H
#define VESSEL_RUNTIME_FDS_H

#include <stddef.h>

#include "common/error.h"

/* Count of socket-activation fds handed to this process: LISTEN_FDS when
 * LISTEN_PID is unset or equals our pid, else 0. Bounded to 4096. */
int fds_listen_count(void);

/* Close every fd >= from except the n listed in except (the init's own sync
 * socket, exec fifo and console, which may sit anywhere): fds the caller of
 * create leaked to us must not stay open in the waiting container init.
 * Returns 0 or -errno. */
int fds_close_from_except(int from, const int *except, size_t n);

#endif
