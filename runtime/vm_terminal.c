/* The host pty of a VM-mode container with a terminal (runtime/vm_terminal.h). */
#include "runtime/vm_terminal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "runtime/console.h"

/* Send fd over the unix socket sock with SCM_RIGHTS, as --console-socket receivers expect. */
static int send_fd(int sock, int fd)
{
    char byte = 0;
    struct iovec iov = {&byte, 1};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } u;
    memset(&u, 0, sizeof(u));
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    while (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0)
        if (errno != EINTR)
            return -errno;
    return 0;
}

static void make_raw(int fd)
{
    struct termios t;
    if (tcgetattr(fd, &t) == 0) {
        cfmakeraw(&t);
        (void)tcsetattr(fd, TCSANOW, &t);
    }
}

int vm_terminal_open(const char *console_socket, int console_conn, struct vm_terminal *t,
                     struct vessel_error **err)
{
    *t = (struct vm_terminal){.in_fd = 0, .out_fd = 1};
    if (console_conn < 0 && console_socket == NULL) {
        if (isatty(0) && tcgetattr(0, &t->saved) == 0) {
            t->restore = true;
            make_raw(0);
        }
        return 0;
    }
    _cleanup_close_ int own = -1;
    int sock = console_conn;
    if (sock < 0) {
        own = console_socket_connect(console_socket, err);
        if (own < 0)
            return own;
        sock = own;
    }
    _cleanup_close_ int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0)
        return vessel_error_set(err, errno, "open a pty");
    char name[64];
    int r = ptsname_r(master, name, sizeof(name));
    if (r != 0)
        return vessel_error_set(err, r, "ptsname");
    int slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0)
        return vessel_error_set(err, errno, "open \"%s\"", name);
    make_raw(slave);
    r = send_fd(sock, master);
    if (r < 0) {
        close(slave);
        return vessel_error_set(err, -r, "--console-socket \"%s\": send the pty",
                                console_socket ? console_socket : "(run)");
    }
    t->in_fd = t->out_fd = slave;
    return 0;
}

void vm_terminal_restore(struct vm_terminal *t)
{
    if (t->restore)
        (void)tcsetattr(0, TCSANOW, &t->saved);
    t->restore = false;
}
