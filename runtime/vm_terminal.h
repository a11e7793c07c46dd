/* process.terminal in VM mode, host side: the pty whose master goes to
 * --console-socket (or the monitor's own stdio in a foreground run). */
#ifndef VESSEL_RUNTIME_VM_TERMINAL_H
#define VESSEL_RUNTIME_VM_TERMINAL_H

#include <stdbool.h>
#include <termios.h>

#include "common/error.h"

struct vm_terminal {
    int in_fd, out_fd;       /* what the monitor relays to and from port 0 */
    bool restore;            /* fd 0 is a tty put in raw mode: restore saved on exit */
    struct termios saved;
};

/* With console_socket: make a pty, send its master there (SCM_RIGHTS) on console_conn
 * when the runtime already connected (>= 0), else on a new connection; relay its slave,
 * in raw mode (the guest's pty does the line discipline). Without: fds 0 and 1, with
 * a tty stdin put in raw mode. */
int vm_terminal_open(const char *console_socket, int console_conn, struct vm_terminal *t,
                     struct vessel_error **err);
void vm_terminal_restore(struct vm_terminal *t);

#endif
