/* The micro-VM container's host process (runtime/vm_monitor.h): backend,
 * boot deadline, start release, stdio relay, signal forwarding, exit status. */
#include "runtime/vm_monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroups/cgroups.h"
#include "common/fs.h"
#include "common/log.h"
#include "microvm/protocol.h"
#include "microvm/qemu.h"
#include "runtime/vm_terminal.h"

#define TAIL_SIZE 4096          /* console output kept to explain a failure */
#define QEMU_ERR_SIZE 2048      /* QEMU's stderr kept likewise */
#define EXIT_GRACE_MS 10000     /* after the exit status: time for the guest to power off */
#define MAX_QUEUED_SIGNALS 32

/* Fixed fd layout in the monitor: everything else inherited is closed, so no lock or
 * log file of the creating process stays open for the container's lifetime. */
enum { FD_CON = 3, FD_CTL, FD_ERR, FD_GCON, FD_GCTL, FD_GERR, FD_SYNC, FD_CONSOLE_CONN, FD_FIRST_FREE };

struct monitor {
    struct vm_launch *l;
    pid_t qemu;
    int sfd, fifo_efd, done_fd, qemu_err;
    bool hello, created, exited, stdin_open, backend_gone;
    int in_fd, out_fd;           /* the workload's terminal or stdio on the host: 0/1, or a pty slave */
    bool terminal;
    struct vm_terminal term;
    uint64_t stdin_bytes;        /* sent on port 0, announced with PROTO_STDIN_EOF */
    int backend_status;          /* wait status of QEMU */
    enum proto_exit_kind exit_kind;
    uint32_t exit_value;
    char tail[TAIL_SIZE];
    size_t tail_len;
    char qerr[QEMU_ERR_SIZE];
    size_t qerr_len;
    int queued[MAX_QUEUED_SIGNALS];
    size_t nqueued;
    char builtin_detail[256];
};

static struct monitor *the_monitor;  /* for leave() */

/* Every exit goes through here: a terminal we made raw is put back. */
static _Noreturn void leave(int code)
{
    if (the_monitor)
        vm_terminal_restore(&the_monitor->term);
    _exit(code);
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    char buf[PROTO_MAX_PAYLOAD + 64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof(buf) - 2)
        n = (int)sizeof(buf) - 2;
    buf[n++] = '\n';
    (void)write_all_fd(2, "vessel: ", 8);
    (void)write_all_fd(2, buf, (size_t)n);
}

static void keep(char *buf, size_t *len, size_t cap, const char *data, size_t n)
{
    if (n >= cap) {
        data += n - cap;
        n = cap;
    }
    if (*len + n > cap) {
        size_t drop = *len + n - cap;
        memmove(buf, buf + drop, *len - drop);
        *len -= drop;
    }
    memcpy(buf + *len, data, n);
    *len += n;
}

/* Why the guest ended without an exit status, from what it and QEMU printed. */
static void explain(struct monitor *m, char *out, size_t size)
{
    char tail[TAIL_SIZE + 1];
    memcpy(tail, m->tail, m->tail_len);
    tail[m->tail_len] = '\0';
    char *panic = strstr(tail, "Kernel panic");
    if (panic) {
        panic[strcspn(panic, "\r\n")] = '\0';
        snprintf(out, size, "guest kernel panic: %.1000s", panic);
        return;
    }
    char qerr[QEMU_ERR_SIZE + 1];
    memcpy(qerr, m->qerr, m->qerr_len);
    qerr[m->qerr_len] = '\0';
    qerr[strcspn(qerr, "\n")] = '\0';
    if (qerr[0])
        snprintf(out, size, "%.1000s", qerr);
    else if (m->builtin_detail[0])
        snprintf(out, size, "the VM stopped: %.200s", m->builtin_detail);
    else if (m->backend_gone && WIFSIGNALED(m->backend_status))
        snprintf(out, size, "QEMU was killed by signal %d", WTERMSIG(m->backend_status));
    else if (!m->backend_gone)
        snprintf(out, size, "no word from vessel's guest init (--debug shows the guest console)");
    else if (!m->hello)
        snprintf(out, size, "the guest kernel stopped before vessel's guest init spoke (a kernel panic or "
                            "reset? --debug shows the guest console)");
    else
        snprintf(out, size, "the guest stopped without reporting (--debug shows the guest console)");
}

/* Before the container exists the creating process hears about failures. */
static _Noreturn void give_up(struct monitor *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static _Noreturn void give_up(struct monitor *m, const char *fmt, ...)
{
    char msg[PROTO_MAX_PAYLOAD];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (m->qemu > 0 && !m->backend_gone) {
        (void)kill(m->qemu, SIGKILL);
        (void)waitpid(m->qemu, NULL, 0);
    }
    struct vessel_error *e = NULL;
    if (!m->created && proto_send_text(FD_SYNC, PROTO_ERROR, msg, &e) == 0)
        leave(1);
    vessel_error_free(e);
    say("%s", msg);
    leave(m->created ? 255 : 1);
}

static void *fifo_thread(void *arg)
{
    struct monitor *m = arg;
    /* Blocks until `vessel start` opens the fifo for reading (runtime/executor.h). */
    int fd = open(m->l->req->exec_fifo, O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        (void)write_all_fd(fd, "0", 1);
        close(fd);
    }
    uint64_t one = 1;
    (void)!write(m->fifo_efd, &one, sizeof(one));
    return NULL;
}

static void send_signal(struct monitor *m, int sig)
{
    if (!m->created) {
        if (m->nqueued < MAX_QUEUED_SIGNALS)
            m->queued[m->nqueued++] = sig;
        return;
    }
    struct vessel_error *e = NULL;
    (void)proto_send_u32(FD_CTL, PROTO_SIGNAL, (uint32_t)sig, &e);
    vessel_error_free(e);
}

static void on_message(struct monitor *m, const struct proto_msg *msg)
{
    struct vessel_error *e = NULL;
    switch (msg->type) {
    case PROTO_HELLO:
        if (proto_get_u32(msg, 0) != PROTO_VERSION)
            give_up(m, "the guest speaks protocol version %u, this vessel %u: rebuild the guest assets "
                       "(make vm-assets)", proto_get_u32(msg, 0), PROTO_VERSION);
        m->hello = true;
        break;
    case PROTO_CREATED: {
        if (m->created)
            break;
        if (proto_send(FD_SYNC, PROTO_CREATED, NULL, 0, &e) < 0)
            give_up(m, "%s", e->msg);
        close(FD_SYNC);
        m->created = true;
        pthread_t t;
        if (pthread_create(&t, NULL, fifo_thread, m) != 0)
            give_up(m, "start thread: %s", strerror(errno));
        pthread_detach(t);
        for (size_t i = 0; i < m->nqueued; i++)
            send_signal(m, m->queued[i]);
        m->nqueued = 0;
        break;
    }
    case PROTO_ERROR: {
        /* The guest is not trusted: no escape sequences reach the user's terminal. */
        char text[PROTO_MAX_PAYLOAD + 1];
        memcpy(text, msg->payload, msg->length + 1);
        for (char *c = text; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                *c = ' ';
        if (!m->created)
            give_up(m, "%s", text);
        say("%s", text);
        break;
    }
    case PROTO_EXIT:
        m->exited = true;
        m->exit_kind = (enum proto_exit_kind)proto_get_u32(msg, 0);
        m->exit_value = proto_get_u32(msg, 4);
        break;
    case PROTO_STARTED:
        break;
    default:
        give_up(m, "unexpected %s message from the guest", proto_type_name(msg->type));
    }
}

/* Copy a readable socket to an fd (and the console tail); false at EOF. */
static bool relay(struct monitor *m, int from, int to, bool tail)
{
    char buf[16384];
    ssize_t n = read(from, buf, sizeof(buf));
    if (n < 0)
        return errno == EINTR || errno == EAGAIN;
    if (n == 0)
        return false;
    if (tail)
        keep(m->tail, &m->tail_len, TAIL_SIZE, buf, (size_t)n);
    if (to >= 0)
        (void)write_all_fd(to, buf, (size_t)n);
    return true;
}

static void drain(struct monitor *m, bool *con_open, bool *err_open)
{
    for (int i = 0; i < 1000 && (*con_open || *err_open); i++) {
        struct pollfd p[2] = {{*con_open ? FD_CON : -1, POLLIN, 0}, {*err_open ? FD_ERR : -1, POLLIN, 0}};
        if (poll(p, 2, 100) <= 0)
            return;
        if (p[0].revents && !relay(m, FD_CON, m->created ? m->out_fd : -1, true))
            *con_open = false;
        if (p[1].revents && !relay(m, FD_ERR, 2, false))
            *err_open = false;
    }
}

static _Noreturn void conclude(struct monitor *m, bool con_open, bool err_open)
{
    drain(m, &con_open, &err_open);
    if (m->exited)
        leave(m->exit_kind == PROTO_EXIT_SIGNAL ? 128 + (int)m->exit_value : (int)m->exit_value);
    char why[PROTO_MAX_PAYLOAD / 2];
    explain(m, why, sizeof(why));
    if (!m->created)
        give_up(m, "the guest ended before the container was created: %s", why);
    say("the micro-VM ended without the workload's exit status: %s", why);
    leave(m->backend_gone && WIFSIGNALED(m->backend_status) ? 128 + WTERMSIG(m->backend_status) : 255);
}

/* QEMU's stderr: kept to explain failures, shown with --debug. >0 data, 0 EOF, <0 nothing now. */
static int read_qemu_err(struct monitor *m)
{
    char buf[1024];
    ssize_t n = read(m->qemu_err, buf, sizeof(buf));
    if (n < 0)
        return errno == EAGAIN || errno == EINTR ? -1 : 0;
    if (n > 0) {
        keep(m->qerr, &m->qerr_len, QEMU_ERR_SIZE, buf, (size_t)n);
        if (log_debug_enabled())
            (void)write_all_fd(2, buf, (size_t)n);
    }
    return (int)(n > 0);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static _Noreturn void serve(struct monitor *m)
{
    struct proto_reader r;
    proto_reader_init(&r);
    static struct proto_msg msg;
    bool con_open = true, err_open = true, ctl_open = true;
    long long boot_deadline = now_ms() + (long long)m->l->opts->boot_timeout * 1000, exit_deadline = 0;
    for (;;) {
        long long now = now_ms();
        if (!m->created && now >= boot_deadline) {
            char why[PROTO_MAX_PAYLOAD / 2];
            explain(m, why, sizeof(why));
            give_up(m, "the guest did not come up within %u s (annotation vessel.vm.boot-timeout): %s",
                    m->l->opts->boot_timeout, why);
        }
        if (m->exited && exit_deadline == 0)
            exit_deadline = now + EXIT_GRACE_MS;
        if (exit_deadline && now >= exit_deadline) {
            if (m->qemu > 0)
                (void)kill(m->qemu, SIGKILL);
            conclude(m, con_open, err_open);
        }
        long long until = m->created ? (exit_deadline ? exit_deadline : -1) : boot_deadline;
        int timeout = until < 0 ? -1 : (int)(until - now);
        struct pollfd p[7] = {
            {ctl_open ? FD_CTL : -1, POLLIN, 0}, {con_open ? FD_CON : -1, POLLIN, 0}, {err_open ? FD_ERR : -1, POLLIN, 0},
            {m->sfd, POLLIN, 0}, {m->fifo_efd, POLLIN, 0}, {m->stdin_open ? m->in_fd : -1, POLLIN, 0},
            {m->qemu_err >= 0 ? m->qemu_err : m->done_fd, POLLIN, 0},
        };
        if (poll(p, 7, timeout) < 0)
            continue;
        if (p[0].revents) {
            uint8_t buf[1024];
            ssize_t n = read(FD_CTL, buf, sizeof(buf));
            if (n > 0) {
                for (size_t off = 0; off < (size_t)n;) {
                    off += proto_reader_feed(&r, buf + off, (size_t)n - off);
                    struct vessel_error *e = NULL;
                    int got;
                    while ((got = proto_reader_next(&r, &msg, &e)) == 1)
                        on_message(m, &msg);
                    if (got < 0)
                        give_up(m, "%s", e->msg);
                }
            } else if (n == 0) {
                ctl_open = false;  /* the backend is going away; SIGCHLD or done_fd follows */
            }
        }
        if (p[1].revents && !relay(m, FD_CON, m->created ? m->out_fd : (log_debug_enabled() ? 2 : -1), true))
            con_open = false;
        if (p[2].revents && !relay(m, FD_ERR, 2, false))
            err_open = false;
        if (p[3].revents) {
            struct signalfd_siginfo si;
            while (read(m->sfd, &si, sizeof(si)) == sizeof(si)) {
                if (si.ssi_signo != SIGCHLD) {
                    send_signal(m, (int)si.ssi_signo);
                    continue;
                }
                int status;
                if (m->qemu > 0 && waitpid(m->qemu, &status, WNOHANG) == m->qemu) {
                    m->backend_gone = true;
                    m->backend_status = status;
                }
            }
            if (m->backend_gone) {
                while (m->qemu_err >= 0 && read_qemu_err(m) > 0)
                    ;
                conclude(m, con_open, err_open);
            }
        }
        if (p[4].revents) {
            uint64_t v;
            (void)!read(m->fifo_efd, &v, sizeof(v));
            struct vessel_error *e = NULL;
            if (proto_send(FD_CTL, PROTO_START, NULL, 0, &e) < 0)
                give_up(m, "%s", e->msg);
        }
        if (p[5].revents) {
            char buf[16384];
            ssize_t n = read(m->in_fd, buf, sizeof(buf));
            if (n > 0) {
                if (write_all_fd(FD_CON, buf, (size_t)n) == 0)
                    m->stdin_bytes += (uint64_t)n;
            } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                m->stdin_open = false;
                struct vessel_error *e = NULL;
                /* A terminal has no end of file of its own: ^D travels as a byte. */
                if (!m->terminal)
                    (void)proto_send_u64(FD_CTL, PROTO_STDIN_EOF, m->stdin_bytes, &e);
                vessel_error_free(e);
            }
        }
        if (p[6].revents) {
            if (m->qemu_err >= 0) {
                if (read_qemu_err(m) == 0) {
                    close(m->qemu_err);
                    m->qemu_err = -1;
                }
            } else {
                m->backend_gone = true;
                conclude(m, con_open, err_open);
            }
        }
    }
}

static void layout_fds(struct vm_launch *l)
{
    int src[8] = {l->con, l->ctl, l->err, l->guest_con, l->guest_ctl, l->guest_err, l->sync_fd, l->console_conn};
    int parked[8];
    for (int i = 0; i < 8; i++)
        if (src[i] >= 0 && (parked[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 64)) < 0)
            _exit(1);
    for (int i = 0; i < 8; i++)
        if (src[i] >= 0 && dup3(parked[i], FD_CON + i, O_CLOEXEC) < 0)
            _exit(1);
    if (close_range(FD_FIRST_FREE, ~0U, 0) < 0)
        for (int fd = FD_FIRST_FREE; fd < 4096; fd++)
            (void)close(fd);
    l->con = FD_CON, l->ctl = FD_CTL, l->err = FD_ERR;
    l->guest_con = FD_GCON, l->guest_ctl = FD_GCTL, l->guest_err = FD_GERR, l->sync_fd = FD_SYNC;
    l->console_conn = l->console_conn >= 0 ? FD_CONSOLE_CONN : -1;
}

/* Every signal a user may send is forwarded, except those that must stay ours. */
static int signals_take(sigset_t *set)
{
    sigemptyset(set);
    for (int sig = 1; sig < SIGRTMIN; sig++) {
        switch (sig) {
        case SIGKILL: case SIGSTOP: case SIGPIPE: case SIGSEGV: case SIGBUS: case SIGFPE: case SIGILL:
        case SIGTRAP: case SIGSYS: case SIGABRT:
            continue;
        default:
            sigaddset(set, sig);
        }
    }
    signal(SIGPIPE, SIG_IGN);
    if (sigprocmask(SIG_BLOCK, set, NULL) < 0)
        return -1;
    return signalfd(-1, set, SFD_CLOEXEC | SFD_NONBLOCK);
}

_Noreturn void vm_monitor_run(struct vm_launch *l)
{
    bool debug = log_debug_enabled();
    log_close();
    layout_fds(l);
    static struct monitor m;
    m = (struct monitor){.l = l, .sfd = -1, .fifo_efd = -1, .done_fd = -1, .qemu_err = -1, .stdin_open = true,
                         .in_fd = 0, .out_fd = 1};
    the_monitor = &m;
    const struct create_request *req = l->req;
    /* Our own session: a terminal's ^C reaches the runtime, which forwards it, not us twice. */
    (void)setsid();
    struct vessel_error *e = NULL;
    if (req->cgroup_path && cgroup_enter(req->cgroup_path, getpid(), &e) < 0)
        give_up(&m, "enter cgroup: %s", e->msg);
    if (req->spec->has_process && req->spec->process.terminal) {
        m.terminal = true;
        if (vm_terminal_open(req->console_socket, l->console_conn, &m.term, &e) < 0)
            give_up(&m, "%s", e->msg);
        m.in_fd = m.term.in_fd;
        m.out_fd = m.term.out_fd;
    }
    if (l->console_conn >= 0)
        close(l->console_conn);
    sigset_t set;
    m.sfd = signals_take(&set);
    m.fifo_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    int out[2];
    if (m.sfd < 0 || m.fifo_efd < 0 || pipe2(out, O_CLOEXEC | O_NONBLOCK) < 0)
        give_up(&m, "monitor setup: %s", strerror(errno));
    if (l->opts->backend == VM_BACKEND_QEMU) {
        struct qemu_config qc = {
            .qemu_path = l->opts->qemu_path, .kvm = l->opts->kvm, .memory_mib = l->opts->memory_mib,
            .vcpus = l->opts->vcpus, .kernel = l->opts->assets.kernel, .initrd = l->initrd,
            .cmdline = l->cmdline, .disk = l->disk, .disk_format = l->disk_format,
            .disk_readonly = l->disk_readonly, .console_fd = FD_GCON, .ctl_fd = FD_GCTL, .err_fd = FD_GERR,
            .serial_fd = debug ? 2 : -1, .extra_args = req->spec->vm.hypervisor_parameters,
            .extra_len = req->spec->vm.hypervisor_parameters_len,
        };
        if (qemu_spawn(&qc, out[1], &m.qemu, &e) < 0)
            give_up(&m, "%s", e->msg);
        close(out[1]);
        m.qemu_err = out[0];
    } else {
        if (vm_builtin_start(l, out[1], m.builtin_detail, sizeof(m.builtin_detail), &e) < 0)
            give_up(&m, "builtin VMM: %s", e->msg);
        m.done_fd = out[0];
    }
    if (l->opts->backend == VM_BACKEND_QEMU) {
        close(FD_GCON);
        close(FD_GCTL);
        close(FD_GERR);
    }
    serve(&m);
}
