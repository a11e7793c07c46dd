/* The container's terminal: a pty made inside the container (its devpts),
 * whose master travels to the caller over --console-socket (SCM_RIGHTS, as
 * runc does) and whose slave becomes the init's controlling tty and stdio. */
#ifndef VESSEL_RUNTIME_CONSOLE_H
#define VESSEL_RUNTIME_CONSOLE_H

#include "common/error.h"
#include "oci/spec.h"

/* Connect to the unix socket at path (runtime side, before the init is cloned). */
int console_socket_connect(const char *path, struct vessel_error **err);

/* In the init, after pivot_root: open /dev/ptmx, bind the slave on
 * /dev/console, apply process.consoleSize, send the master over sockfd, then
 * make the slave the controlling terminal and fds 0-2. */
int console_setup(int sockfd, const struct oci_console_size *size, struct vessel_error **err);

/* Receive a pty master sent with SCM_RIGHTS on sockfd. */
int console_receive(int sockfd, struct vessel_error **err);

/* Copy stdin -> master and master -> stdout until the master hangs up or
 * stop_fd (e.g. a pidfd) becomes readable. Puts a tty stdin in raw mode
 * meanwhile. Returns 0 or a negative errno. */
int console_relay(int master, int stop_fd);

#endif
