/* pty creation inside the container and the --console-socket handoff. */
#include "runtime/console.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "namespaces/namespaces.h"

int console_socket_connect(const char *path, struct vessel_error **err)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(addr.sun_path))
        return vessel_error_set(err, ENAMETOOLONG, "console socket \"%s\"", path);
    strcpy(addr.sun_path, path);
    _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return vessel_error_set(err, errno, "console socket");
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
        return vessel_error_set(err, errno, "connect console socket \"%s\"", path);
    return steal_fd(&fd);
}

static int send_fd(int sockfd, int fd, const char *name)
{
    char cbuf[CMSG_SPACE(sizeof(int))];
    memset(cbuf, 0, sizeof(cbuf));
    struct iovec iov = {.iov_base = (void *)name, .iov_len = strlen(name)};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                         .msg_controllen = sizeof(cbuf)};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    while (sendmsg(sockfd, &msg, MSG_NOSIGNAL) < 0) {
        if (errno != EINTR)
            return -errno;
    }
    return 0;
}

int console_receive(int sockfd, struct vessel_error **err)
{
    char name[256];
    char cbuf[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {.iov_base = name, .iov_len = sizeof(name)};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                         .msg_controllen = sizeof(cbuf)};
    ssize_t n;
    while ((n = recvmsg(sockfd, &msg, MSG_CMSG_CLOEXEC)) < 0) {
        if (errno != EINTR)
            return vessel_error_set(err, errno, "receive the console");
    }
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (n == 0 || c == NULL || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int)))
        return vessel_error_set(err, EPROTO, "receive the console: no fd in message");
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof(int));
    return fd;
}

int console_setup(int sockfd, const struct oci_console_size *size, struct vessel_error **err)
{
    _cleanup_close_ int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0)
        return vessel_error_set(err, errno, "open \"/dev/ptmx\"");
    if (unlockpt(master) < 0)
        return vessel_error_set(err, errno, "unlockpt");
    char slave_path[128];
    if (ptsname_r(master, slave_path, sizeof(slave_path)) != 0)
        return vessel_error_set(err, errno, "ptsname");
    _cleanup_close_ int slave = open(slave_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0)
        return vessel_error_set(err, errno, "open \"%s\"", slave_path);

    /* /dev/console is the container's view of its terminal. */
    if (rootfs_bind_console(slave_path, err) < 0)
        return vessel_error_code(*err);

    if (size && size->present) {
        struct winsize ws = {.ws_row = (unsigned short)size->height,
                             .ws_col = (unsigned short)size->width};
        if (ioctl(slave, TIOCSWINSZ, &ws) < 0)
            return vessel_error_set(err, errno, "set console size");
    }
    int r = send_fd(sockfd, master, slave_path);
    if (r < 0)
        return vessel_error_set(err, -r, "send the console over the console socket");

    if (setsid() < 0)
        return vessel_error_set(err, errno, "setsid");
    if (ioctl(slave, TIOCSCTTY, 0) < 0)
        return vessel_error_set(err, errno, "make \"%s\" the controlling terminal", slave_path);
    for (int fd = 0; fd < 3; fd++) {
        if (dup2(slave, fd) < 0)
            return vessel_error_set(err, errno, "dup the console to fd %d", fd);
    }
    return 0;
}

static int copy_once(int from, int to)
{
    char buf[8192];
    ssize_t n = read(from, buf, sizeof(buf));
    if (n < 0)
        return errno == EINTR || errno == EAGAIN ? 1 : -errno;
    if (n == 0)
        return 0;
    return write_all_fd(to, buf, (size_t)n) < 0 ? 0 : 1;
}

int console_relay(int master, int stop_fd)
{
    struct termios saved;
    bool raw = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
    if (raw) {
        struct termios t = saved;
        cfmakeraw(&t);
        (void)tcsetattr(STDIN_FILENO, TCSANOW, &t);
        struct winsize ws;
        if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
            (void)ioctl(master, TIOCSWINSZ, &ws);
    }
    bool stdin_open = true;
    for (;;) {
        struct pollfd p[3] = {
            {.fd = master, .events = POLLIN},
            {.fd = stdin_open ? STDIN_FILENO : -1, .events = POLLIN},
            {.fd = stop_fd, .events = POLLIN},
        };
        if (poll(p, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[0].revents & POLLIN) {
            if (copy_once(master, STDOUT_FILENO) <= 0)
                break;
            continue;
        }
        if (p[0].revents & (POLLHUP | POLLERR))
            break;
        if (p[1].revents & (POLLIN | POLLHUP)) {
            if (copy_once(STDIN_FILENO, master) <= 0)
                stdin_open = false;
        }
        if (p[2].revents & POLLIN) {
            /* The workload ended: drain what it wrote last. */
            int fl = fcntl(master, F_GETFL);
            (void)fcntl(master, F_SETFL, fl | O_NONBLOCK);
            while (copy_once(master, STDOUT_FILENO) > 0) {
                struct pollfd q = {.fd = master, .events = POLLIN};
                if (poll(&q, 1, 0) <= 0 || !(q.revents & POLLIN))
                    break;
            }
            break;
        }
    }
    if (raw)
        (void)tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    return 0;
}
