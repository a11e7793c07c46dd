/* virtio-console (device id 3) with VIRTIO_CONSOLE_F_MULTIPORT: port 0 is the console
 * (the VMM's stdio or given fds), ports 1.. are named ports (e.g. "vessel.ctl") whose
 * host end is a socket; the control queues announce them to the driver. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "microvm/virtio.h"
#include "microvm/vm.h"

#define VIRTIO_CONSOLE_F_MULTIPORT 1

#define CTL_DEVICE_READY 0
#define CTL_DEVICE_ADD 1
#define CTL_PORT_READY 3
#define CTL_CONSOLE_PORT 4
#define CTL_PORT_OPEN 6
#define CTL_PORT_NAME 7

#define CTL_RXQ 2 /* device -> driver control messages */
#define CTL_TXQ 3 /* driver -> device control messages */
#define PORT_NAME_MAX 64
#define CTL_QUEUE_MAX (4 * (VIRTIO_CONSOLE_MAX_PORTS + 1) + 8)

struct console_config {
    uint16_t cols;
    uint16_t rows;
    uint32_t max_nr_ports;
    uint32_t emerg_wr;
} __attribute__((packed));

struct ctl_header {
    uint32_t id;
    uint16_t event;
    uint16_t value;
};

struct ctl_msg {
    struct ctl_header h;
    char name[PORT_NAME_MAX];
    size_t name_len;
};

struct virtio_console;

struct console_port {
    struct virtio_console *con;
    unsigned id;
    int in_fd, out_fd;
    char name[PORT_NAME_MAX];
    bool pollable;   /* in_fd works with epoll (regular files and /dev/null do not) */
    bool registered; /* in_fd is in the event loop */
    bool eof;
    bool guest_open;
};

struct virtio_console {
    struct virtio_mmio *t;
    struct vm *vm;
    struct virtio_device_ops ops;
    struct console_config config;
    unsigned nports; /* including port 0 */
    struct ctl_msg ctl[CTL_QUEUE_MAX];
    unsigned ctl_head, ctl_count;
    struct console_port ports[];
};

static bool con_multiport(struct virtio_console *con)
{
    return (virtio_mmio_features(con->t) & (1ULL << VIRTIO_CONSOLE_F_MULTIPORT)) != 0;
}

static unsigned port_rxq(unsigned id)
{
    return id == 0 ? 0 : 2 + 2 * id;
}

static unsigned port_txq(unsigned id)
{
    return id == 0 ? 1 : 3 + 2 * id;
}

/* ---- device -> driver control messages ---- */

static void ctl_flush(struct virtio_console *con)
{
    struct virtq *vq = virtio_mmio_queue(con->t, CTL_RXQ);
    struct virtq_chain chain;
    bool pushed = false;
    while (vq != NULL && con->ctl_count > 0) {
        int r = virtq_pop(vq, &chain);
        if (r < 0)
            virtio_mmio_set_broken(con->t, "console: bad control descriptor chain");
        if (r <= 0)
            break;
        struct ctl_msg *m = &con->ctl[con->ctl_head];
        size_t n = virtq_chain_write(&chain, 0, &m->h, sizeof(m->h));
        n += virtq_chain_write(&chain, sizeof(m->h), m->name, m->name_len);
        virtq_push(vq, chain.head, (uint32_t)n);
        pushed = true;
        con->ctl_head = (con->ctl_head + 1) % CTL_QUEUE_MAX;
        con->ctl_count--;
    }
    if (pushed)
        virtio_mmio_queue_interrupt(con->t, CTL_RXQ);
}

static void ctl_send(struct virtio_console *con, unsigned id, uint16_t event, uint16_t value,
                     const char *name)
{
    if (con->ctl_count == CTL_QUEUE_MAX) {
        /* Only a driver that never takes its messages gets here. */
        virtio_mmio_set_broken(con->t, "console: control queue overflow");
        return;
    }
    struct ctl_msg *m = &con->ctl[(con->ctl_head + con->ctl_count) % CTL_QUEUE_MAX];
    m->h = (struct ctl_header){.id = id, .event = event, .value = value};
    m->name_len = name != NULL ? strlen(name) : 0;
    if (m->name_len > 0)
        memcpy(m->name, name, m->name_len);
    con->ctl_count++;
}

/* ---- host -> guest data ---- */

static bool port_can_receive(struct console_port *p)
{
    struct virtio_console *con = p->con;
    if (p->eof || p->in_fd < 0)
        return false;
    if (p->id > 0 && !(con_multiport(con) && p->guest_open))
        return false;
    struct virtq *vq = virtio_mmio_queue(con->t, port_rxq(p->id));
    return vq != NULL && virtq_has_avail(vq);
}

static void port_host_closed(struct console_port *p)
{
    p->eof = true;
    if (p->id > 0 && con_multiport(p->con)) {
        ctl_send(p->con, p->id, CTL_PORT_OPEN, 0, NULL);
        ctl_flush(p->con);
    }
}

/* Move one read's worth of host data into the next receive buffer. */
static ssize_t port_read_once(struct console_port *p)
{
    struct virtio_console *con = p->con;
    struct virtq *vq = virtio_mmio_queue(con->t, port_rxq(p->id));
    struct virtq_chain chain;
    if (vq == NULL)
        return 0;
    int r = virtq_pop(vq, &chain);
    if (r < 0)
        virtio_mmio_set_broken(con->t, "console: bad receive descriptor chain");
    if (r <= 0)
        return r;
    if (chain.n_in == 0) {
        virtq_push(vq, chain.head, 0);
        virtio_mmio_queue_interrupt(con->t, port_rxq(p->id));
        return 0;
    }
    ssize_t n;
    do
        n = readv(p->in_fd, chain.iov + chain.n_out, (int)chain.n_in);
    while (n < 0 && errno == EINTR);
    if (n <= 0) {
        virtq_unpop(vq);
        if (n == 0 || errno != EAGAIN)
            port_host_closed(p);
        return -1;
    }
    virtq_push(vq, chain.head, (uint32_t)n);
    virtio_mmio_queue_interrupt(con->t, port_rxq(p->id));
    return n;
}

/* Whether a read would find data or end-of-file now (input may be a blocking fd that is
 * not ours to make non-blocking, e.g. the VMM's stdin). */
static bool port_input_ready(struct console_port *p)
{
    if (!p->pollable)
        return true;
    struct pollfd pfd = {.fd = p->in_fd, .events = POLLIN};
    int r;
    do
        r = poll(&pfd, 1, 0);
    while (r < 0 && errno == EINTR);
    return r != 0;
}

/* Deliver what can be delivered now. The input fd stays in the event loop
 * (edge-triggered) until end-of-file; a receive-queue notification resumes delivery
 * when the guest had no buffers. */
static void port_pump(struct console_port *p)
{
    while (port_can_receive(p) && port_input_ready(p))
        if (port_read_once(p) <= 0)
            break;
    if (p->eof && p->registered) {
        (void)vm_event_del(p->con->vm, p->in_fd);
        p->registered = false;
    }
}

static void port_input_event(void *opaque, uint32_t events)
{
    struct console_port *p = opaque;
    (void)events;
    virtio_mmio_lock(p->con->t);
    port_pump(p);
    virtio_mmio_unlock(p->con->t);
}

/* ---- guest -> host data ---- */

/* writev() without SIGPIPE killing the VMM when the reader of a pipe is gone: block the
 * signal in this thread and take back the one the write raised. */
static ssize_t writev_nosigpipe(int fd, const struct iovec *iov, unsigned n)
{
    sigset_t pipe_set, old, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    sigpending(&pending);
    bool was_pending = sigismember(&pending, SIGPIPE) == 1;
    ssize_t w = writev(fd, iov, (int)n);
    int saved = errno;
    if (w < 0 && errno == EPIPE && !was_pending) {
        static const struct timespec zero = {0, 0};
        (void)sigtimedwait(&pipe_set, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = saved;
    return w;
}

static void port_write_host(struct console_port *p, struct iovec *iov, unsigned n)
{
    while (n > 0) {
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = n};
        ssize_t w = sendmsg(p->out_fd, &msg, MSG_NOSIGNAL);
        if (w < 0 && errno == ENOTSOCK)
            w = writev_nosigpipe(p->out_fd, iov, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN) {
            struct pollfd pfd = {.fd = p->out_fd, .events = POLLOUT};
            (void)poll(&pfd, 1, -1);
            continue;
        }
        if (w <= 0) {
            p->out_fd = -1; /* the host end is gone: from now on output is dropped */
            return;
        }
        virtq_iov_advance(&iov, &n, (size_t)w);
    }
}

static void port_transmit(struct console_port *p)
{
    struct virtio_console *con = p->con;
    struct virtq *vq = virtio_mmio_queue(con->t, port_txq(p->id));
    struct virtq_chain chain;
    int r;
    if (vq == NULL)
        return;
    while ((r = virtq_pop(vq, &chain)) > 0) {
        if (p->out_fd >= 0)
            port_write_host(p, chain.iov, chain.n_out);
        virtq_push(vq, chain.head, 0);
    }
    if (r < 0)
        virtio_mmio_set_broken(con->t, "console: bad transmit descriptor chain");
    virtio_mmio_queue_interrupt(con->t, port_txq(p->id));
}

/* ---- driver -> device control messages ---- */

static void ctl_handle(struct virtio_console *con, const struct ctl_header *h)
{
    struct console_port *p = h->id < con->nports ? &con->ports[h->id] : NULL;
    switch (h->event) {
    case CTL_DEVICE_READY:
        if (h->value == 1)
            for (unsigned id = 0; id < con->nports; id++)
                ctl_send(con, id, CTL_DEVICE_ADD, 0, NULL);
        break;
    case CTL_PORT_READY:
        if (p == NULL || h->value != 1)
            break;
        if (p->id == 0)
            ctl_send(con, 0, CTL_CONSOLE_PORT, 1, NULL);
        else
            ctl_send(con, p->id, CTL_PORT_NAME, 0, p->name);
        if (!p->eof)
            ctl_send(con, p->id, CTL_PORT_OPEN, 1, NULL);
        break;
    case CTL_PORT_OPEN:
        if (p != NULL) {
            p->guest_open = h->value != 0;
            port_pump(p);
        }
        break;
    default:
        break; /* resize, remove acks, unknown: nothing to do */
    }
}

static void ctl_receive(struct virtio_console *con)
{
    struct virtq *vq = virtio_mmio_queue(con->t, CTL_TXQ);
    struct virtq_chain chain;
    int r;
    if (vq == NULL)
        return;
    while ((r = virtq_pop(vq, &chain)) > 0) {
        struct ctl_header h;
        if (virtq_chain_read(&chain, 0, &h, sizeof(h)) == sizeof(h))
            ctl_handle(con, &h);
        virtq_push(vq, chain.head, 0);
    }
    if (r < 0)
        virtio_mmio_set_broken(con->t, "console: bad control descriptor chain");
    virtio_mmio_queue_interrupt(con->t, CTL_TXQ);
    ctl_flush(con);
}

static void console_queue_notify(void *opaque, unsigned q)
{
    struct virtio_console *con = opaque;
    if (q == CTL_RXQ) {
        ctl_flush(con);
        return;
    }
    if (q == CTL_TXQ) {
        if (con_multiport(con))
            ctl_receive(con);
        return;
    }
    unsigned id = q < 2 ? 0 : (q - 2) / 2;
    if (id >= con->nports)
        return;
    if (q == port_txq(id))
        port_transmit(&con->ports[id]);
    else
        port_pump(&con->ports[id]);
}

static void console_reset(void *opaque)
{
    struct virtio_console *con = opaque;
    con->ctl_head = con->ctl_count = 0;
    for (unsigned id = 0; id < con->nports; id++)
        con->ports[id].guest_open = false;
    /* Registered input fds take themselves out of the loop on their next event. */
}

/* epoll refuses regular files and /dev/null (always readable): those are read whenever
 * the guest has buffers. */
static bool fd_pollable(int fd)
{
    if (fd < 0)
        return false;
    _cleanup_close_ int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN};
    return ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0 || errno != EPERM;
}

int virtio_console_create(struct vm *vm, const struct virtio_console_config *cfg, struct vessel_error **err)
{
    if (cfg->nports > VIRTIO_CONSOLE_MAX_PORTS)
        return vessel_error_set(err, EINVAL, "virtio console: %zu named ports (at most %d)", cfg->nports,
                                VIRTIO_CONSOLE_MAX_PORTS);
    for (size_t i = 0; i < cfg->nports; i++) {
        size_t len = strlen(cfg->ports[i].name);
        if (len == 0 || len >= PORT_NAME_MAX)
            return vessel_error_set(err, EINVAL, "virtio console: bad port name \"%s\"", cfg->ports[i].name);
    }
    unsigned nports = 1 + (unsigned)cfg->nports;
    struct virtio_console *con = calloc(1, sizeof(*con) + nports * sizeof(struct console_port));
    if (con == NULL)
        return vessel_error_set(err, ENOMEM, "virtio console");
    con->vm = vm;
    con->nports = nports;
    con->config.max_nr_ports = nports;
    for (unsigned id = 0; id < nports; id++) {
        struct console_port *p = &con->ports[id];
        p->con = con;
        p->id = id;
        p->in_fd = id == 0 ? cfg->in_fd : cfg->ports[id - 1].fd;
        p->out_fd = id == 0 ? cfg->out_fd : cfg->ports[id - 1].fd;
        if (id > 0)
            memcpy(p->name, cfg->ports[id - 1].name, strlen(cfg->ports[id - 1].name) + 1);
        p->pollable = fd_pollable(p->in_fd);
    }
    con->ops = (struct virtio_device_ops){
        .name = "console",
        .device_id = VIRTIO_ID_CONSOLE,
        .features = 1ULL << VIRTIO_CONSOLE_F_MULTIPORT,
        .num_queues = 2 + 2 * nports,
        .queue_notify = console_queue_notify,
        .reset = console_reset,
    };
    int r = virtio_mmio_create(vm, &con->ops, con, &con->config, sizeof(con->config), &con->t, err);
    if (r < 0)
        return r; /* con stays: see virtio_mmio_create */
    for (unsigned id = 0; id < nports; id++) {
        struct console_port *p = &con->ports[id];
        if (!p->pollable)
            continue;
        r = vm_event_add(vm, p->in_fd, EPOLLIN | EPOLLET, port_input_event, p, err);
        if (r < 0)
            return vessel_error_wrap(err, "virtio console port %u", id);
        p->registered = true;
    }
    return 0;
}
