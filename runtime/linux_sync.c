/* Runtime <-> init framed messages (see linux_sync.h). */
#include "runtime/linux_sync.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/fs.h"

struct sync_header {
    uint32_t type, len;
};

int sync_send(int fd, uint32_t type, const void *payload, size_t len, const int *fds, size_t nfds)
{
    if (len > SYNC_MAX_PAYLOAD || nfds > SYNC_MAX_FDS)
        return -EMSGSIZE;
    struct sync_header h = {.type = type, .len = (uint32_t)len};
    char cbuf[CMSG_SPACE(sizeof(int) * SYNC_MAX_FDS)];
    memset(cbuf, 0, sizeof(cbuf));
    struct iovec iov = {.iov_base = &h, .iov_len = sizeof(h)};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    if (nfds > 0) {
        msg.msg_control = cbuf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
    }
    ssize_t n;
    while ((n = sendmsg(fd, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR)
        ;
    if (n < 0)
        return -errno;
    if ((size_t)n < sizeof(h)) {
        int r = write_all_fd(fd, (char *)&h + n, sizeof(h) - (size_t)n);
        if (r < 0)
            return r;
    }
    if (len > 0)
        return write_all_fd(fd, payload, len);
    return 0;
}

int sync_recv(int fd, uint32_t *type, char **payload, size_t *len, int *fds, size_t nfds)
{
    for (size_t i = 0; i < nfds; i++)
        fds[i] = -1;
    *payload = NULL;
    *len = 0;
    struct sync_header h;
    char cbuf[CMSG_SPACE(sizeof(int) * SYNC_MAX_FDS)];
    struct iovec iov = {.iov_base = &h, .iov_len = sizeof(h)};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                         .msg_controllen = sizeof(cbuf)};
    ssize_t n;
    while ((n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
        ;
    if (n < 0)
        return -errno;
    if (n == 0)
        return -EPIPE;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t got = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        int tmp[SYNC_MAX_FDS];
        memcpy(tmp, CMSG_DATA(c), sizeof(int) * (got < SYNC_MAX_FDS ? got : SYNC_MAX_FDS));
        for (size_t i = 0; i < got && i < SYNC_MAX_FDS; i++) {
            if (i < nfds)
                fds[i] = tmp[i];
            else
                close(tmp[i]);
        }
    }
    if ((size_t)n < sizeof(h)) {
        ssize_t m = read_all_fd(fd, (char *)&h + n, sizeof(h) - (size_t)n);
        if (m < 0)
            return (int)m;
        if ((size_t)m != sizeof(h) - (size_t)n)
            return -EPIPE;
    }
    if (h.len > SYNC_MAX_PAYLOAD)
        return -EMSGSIZE;
    char *buf = malloc((size_t)h.len + 1);
    if (buf == NULL)
        return -ENOMEM;
    ssize_t m = read_all_fd(fd, buf, h.len);
    if (m < 0 || (size_t)m != h.len) {
        free(buf);
        return m < 0 ? (int)m : -EPIPE;
    }
    buf[h.len] = '\0';
    *type = h.type;
    *len = h.len;
    if (h.len > 0)
        *payload = buf;
    else
        free(buf);
    return 0;
}

void sync_send_error(int fd, const struct vessel_error *err)
{
    const char *msg = err && err->msg ? err->msg : "container init failed";
    size_t mlen = strlen(msg);
    char *buf = malloc(sizeof(int32_t) + mlen);
    if (buf == NULL)
        return;
    int32_t e = err ? err->errnum : 0;
    memcpy(buf, &e, sizeof(e));
    memcpy(buf + sizeof(e), msg, mlen);
    (void)sync_send(fd, SYNC_ERROR, buf, sizeof(e) + mlen, NULL, 0);
    free(buf);
}
