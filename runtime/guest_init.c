/* PID 1 inside a vessel micro-VM: mounts, modules, the rootfs disk, then the
 * workload through the very same container path (`create` + `start`, in forks),
 * relaying stdio and signals and reporting the exit status over vessel.ctl. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/log.h"
#include "microvm/protocol.h"
#include "oci/spec.h"
#include "runtime/commands.h"
#include "runtime/console.h"
#include "runtime/guest_boot.h"

#define GUEST_ROOT "/run/vessel"
#define GUEST_PIDFILE "/run/vessel-container.pid"
#define GUEST_CONSOLE_SOCK "/run/vessel-console.sock"
#define GUEST_CREATE_ERR_MAX 4000 /* stderr kept from `create` for the error message */

/* Report a fatal error to the host (when the port is up) and power off. */
static _Noreturn void fail(int ctl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static _Noreturn void fail(int ctl, const char *fmt, ...)
{
    char msg[PROTO_MAX_PAYLOAD];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    guest_log("vessel guest init: %s\n", msg);
    struct vessel_error *ignored = NULL;
    if (ctl >= 0)
        (void)proto_send_text(ctl, PROTO_ERROR, msg, &ignored);
    vessel_error_free(ignored);
    guest_power_off();
}

/* fork and run a vessel command ("create ...", "start ID") in the child as
 * "/init --root GUEST_ROOT --isolation container" would, with the given stdio. The
 * child calls the command directly instead of exec'ing /init again: the same code,
 * without loading and relocating vessel and its libraries once more (about 0.1 s per
 * command under TCG). */
static pid_t run_vessel(command_fn fn, const char *const *args, int in, int out, int errfd)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(errfd, 2) < 0)
        _exit(127);
    /* The guest init's own fds (ports, signalfd, pipes) are all close-on-exec; an
     * exec would have dropped them, so drop them here too. */
    (void)close_range(3, ~0U, 0);
    struct vessel_globals vg = {.root = GUEST_ROOT, .isolation = ISOLATION_CONTAINER, .debug = guest_debug};
    struct vessel_error *e = NULL;
    if (log_init(NULL, 0, guest_debug, &e) < 0)
        _exit(127);
    char *argv[16];  /* getopt may permute the pointers, never the strings */
    int argc = 0;
    for (; args[argc] && argc < 15; argc++)
        argv[argc] = (char *)args[argc];
    argv[argc] = NULL;
    optind = 1;
    int rc = fn(&vg, argc, argv);
    log_close();
    fflush(NULL);
    _exit(rc);
}

/* Relay state: one poll loop moves bytes and messages until the workload is gone. */
struct guest {
    int ctl, hvc, hvc_in, errport, sfd;  /* hvc blocks for output; hvc_in is non-blocking */
    char pend[16384];                    /* stdin read from hvc0, not yet taken by the workload */
    size_t pend_len;
    uint64_t stdin_seen, stdin_total;    /* bytes read from hvc0; total once the host's stdin ended */
    bool stdin_eof;
    int in_w, out_r, err_r;      /* our ends of the workload's stdio pipes */
    pid_t create_pid, start_pid, ctr_pid;
    char id[128];
    char create_err[GUEST_CREATE_ERR_MAX + 1];
    size_t create_err_len;
    bool created, exited;
    int console_listen;          /* process.terminal: where `create` sends the pty master */
    int status;
};

static void send_or_die(struct guest *g, enum proto_type type, const void *p, size_t len)
{
    struct vessel_error *e = NULL;
    if (proto_send(g->ctl, type, p, len, &e) < 0)
        guest_power_off();  /* the host is gone */
}

/* Copy what is readable from *from to `to`; at EOF or error close *from and set it to -1. */
static void pump(int *from, int to)
{
    char buf[16384];
    ssize_t n = read(*from, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        close(*from);
        *from = -1;
        return;
    }
    if (to >= 0)
        (void)write_all_fd(to, buf, (size_t)n);
}

static void on_message(struct guest *g, const struct proto_msg *m);

static void on_create_done(struct guest *g, int status)
{
    g->create_pid = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        /* `create` said why on stderr: hand that to the host, minus our own prefix. */
        while (g->create_err_len < GUEST_CREATE_ERR_MAX) {
            ssize_t n = read(g->err_r, g->create_err + g->create_err_len, GUEST_CREATE_ERR_MAX - g->create_err_len);
            if (n <= 0)
                break;
            g->create_err_len += (size_t)n;
        }
        g->create_err[g->create_err_len] = '\0';
        char *m = g->create_err;
        while (strncmp(m, "vessel: ", 8) == 0)
            m += 8;
        m[strcspn(m, "\n")] = '\0';
        fail(g->ctl, "in the guest: %s", *m ? m : "create failed");
    }
    char *buf = NULL;
    size_t len = 0;
    struct vessel_error *e = NULL;
    if (read_file_at(AT_FDCWD, GUEST_PIDFILE, 64, &buf, &len, &e) < 0 || (g->ctr_pid = atoi(buf)) <= 0)
        fail(g->ctl, "in the guest: no container pid after create");
    free(buf);
    if (g->console_listen >= 0) {
        /* The terminal replaces the stdio pipes: the pty master carries both directions. */
        int conn = accept4(g->console_listen, NULL, NULL, SOCK_CLOEXEC);
        struct vessel_error *ce = NULL;
        int master = conn >= 0 ? console_receive(conn, &ce) : -1;
        if (master < 0)
            fail(g->ctl, "in the guest: receive the container's terminal: %s", ce ? ce->msg : strerror(errno));
        close(conn);
        close(g->console_listen);
        g->console_listen = -1;
        close(g->out_r);
        if (g->in_w >= 0)
            close(g->in_w);
        (void)fcntl(master, F_SETFL, O_NONBLOCK);
        g->out_r = master;
        g->in_w = fcntl(master, F_DUPFD_CLOEXEC, 0);
    }
    /* Anything else `create` printed belongs to the user. */
    if (g->create_err_len > 0)
        (void)write_all_fd(g->errport, g->create_err, g->create_err_len);
    g->created = true;
    guest_log("vessel guest init: container created\n");
    send_or_die(g, PROTO_CREATED, NULL, 0);
    if (guest_autostart) {
        static const struct proto_msg start = {.type = PROTO_START};
        g->stdin_eof = true;  /* stdin_total 0: no input will come */
        on_message(g, &start);
    }
}

static void reap(struct guest *g)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if (pid == g->create_pid) {
            on_create_done(g, status);
        } else if (pid == g->start_pid) {
            g->start_pid = 0;
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                fail(g->ctl, "in the guest: start failed (status %d)", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
            guest_log("vessel guest init: started\n");
            send_or_die(g, PROTO_STARTED, NULL, 0);
        } else if (pid == g->ctr_pid) {
            guest_log("vessel guest init: the container's init exited\n");
            g->exited = true;
            g->status = status;
        }
    }
}

static void on_message(struct guest *g, const struct proto_msg *m)
{
    struct vessel_error *e = NULL;
    switch (m->type) {
    case PROTO_START: {
        guest_log("vessel guest init: start\n");
        if (!g->created || g->start_pid != 0)
            fail(g->ctl, "in the guest: start before the container was created");
        const char *args[] = {"start", g->id, NULL};
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        g->start_pid = run_vessel(cmd_start, args, null, null, g->errport);
        close(null);
        if (g->start_pid < 0)
            fail(g->ctl, "in the guest: fork: %s", strerror(errno));
        break;
    }
    case PROTO_SIGNAL:
        if (g->ctr_pid > 0)
            (void)kill(g->ctr_pid, (int)proto_get_u32(m, 0));
        break;
    case PROTO_STDIN_EOF:
        g->stdin_eof = true;
        g->stdin_total = proto_get_u64(m, 0);
        break;
    case PROTO_EXEC:
        (void)proto_send_text(g->ctl, PROTO_ERROR, "exec is not supported in VM mode yet", &e);
        vessel_error_free(e);
        break;
    default:
        fail(g->ctl, "in the guest: unexpected %s message from the host", proto_type_name(m->type));
    }
}

static _Noreturn void finish(struct guest *g)
{
    /* The pid namespace is gone with its init, so the pipes reach EOF soon; bound it anyway. */
    for (int rounds = 0; rounds < 200 && (g->out_r >= 0 || g->err_r >= 0); rounds++) {
        struct pollfd p[2] = {{g->out_r, POLLIN, 0}, {g->err_r, POLLIN, 0}};
        if (poll(p, 2, 10) <= 0)
            continue;
        if (p[0].revents)
            pump(&g->out_r, g->hvc);
        if (p[1].revents)
            pump(&g->err_r, g->errport);
    }
    (void)tcdrain(g->hvc);
    struct vessel_error *e = NULL;
    if (WIFSIGNALED(g->status))
        (void)proto_send_exit(g->ctl, PROTO_EXIT_SIGNAL, (uint32_t)WTERMSIG(g->status), &e);
    else
        (void)proto_send_exit(g->ctl, PROTO_EXIT_CODE, (uint32_t)WEXITSTATUS(g->status), &e);
    guest_power_off();
}

static _Noreturn void serve(struct guest *g)
{
    struct proto_reader r;
    proto_reader_init(&r);
    static struct proto_msg msg;
    for (;;) {
        if (g->exited)
            finish(g);
        struct pollfd p[6] = {
            {g->ctl, POLLIN, 0}, {g->sfd, POLLIN, 0}, {g->out_r, POLLIN, 0},
            {g->created ? g->err_r : -1, POLLIN, 0},
            /* Input waits in the port until the workload's stdin (pipe or pty) exists. */
            {g->created && g->in_w >= 0 && g->pend_len == 0 ? g->hvc_in : -1, POLLIN, 0},
            {g->in_w >= 0 && g->pend_len > 0 ? g->in_w : -1, POLLOUT, 0},
        };
        if (poll(p, 6, -1) < 0)
            continue;
        if (p[1].revents) {
            struct signalfd_siginfo si;
            while (read(g->sfd, &si, sizeof(si)) == sizeof(si))
                ;
            reap(g);
        }
        if (p[0].revents) {
            uint8_t buf[1024];
            ssize_t n = read(g->ctl, buf, sizeof(buf));
            if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
                fail(-1, "control port closed");
            for (size_t off = 0; n > 0 && off < (size_t)n;) {
                off += proto_reader_feed(&r, buf + off, (size_t)n - off);
                struct vessel_error *e = NULL;
                int got;
                while ((got = proto_reader_next(&r, &msg, &e)) == 1)
                    on_message(g, &msg);
                if (got < 0)
                    fail(g->ctl, "in the guest: %s", e->msg);
            }
        }
        if (p[2].revents)
            pump(&g->out_r, g->hvc);
        if (p[3].revents)
            pump(&g->err_r, g->errport);
        if (p[4].revents) {
            ssize_t n = read(g->hvc_in, g->pend, sizeof(g->pend));
            if (n > 0) {
                g->pend_len = (size_t)n;
                g->stdin_seen += (uint64_t)n;
            }
        }
        if (g->pend_len > 0 && g->in_w >= 0) {
            /* Never block on a workload that does not read its stdin. */
            ssize_t n = write(g->in_w, g->pend, g->pend_len);
            if (n > 0) {
                memmove(g->pend, g->pend + n, g->pend_len - (size_t)n);
                g->pend_len -= (size_t)n;
            } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
                close(g->in_w);  /* the workload closed its stdin: drop the rest */
                g->in_w = -1;
                g->pend_len = 0;
            }
        }
        if (g->stdin_eof && g->in_w >= 0 && g->pend_len == 0 && g->stdin_seen >= g->stdin_total) {
            close(g->in_w);  /* everything the host had was passed on: end of file */
            g->in_w = -1;
        }
    }
}

int guest_init_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    guest_mount_base();
    struct guest g = {.ctl = -1, .in_w = -1, .out_r = -1, .err_r = -1};
    bool poweroff_at_once = false;
    guest_cmdline(g.id, sizeof(g.id), &poweroff_at_once);
    if (poweroff_at_once)
        guest_power_off();
    char msg[1024];
    if (guest_load_modules(msg, sizeof(msg)) < 0) {
        /* No control port without the modules: the host sees the VM end without a word. */
        guest_log("vessel guest init: %s\n", msg);
        guest_power_off();
    }
    g.ctl = guest_open_port(PROTO_NAME, O_RDWR);
    if (g.ctl < 0)
        fail(-1, "no %s port", PROTO_NAME);
    struct vessel_error *e = NULL;
    if (proto_send_u32(g.ctl, PROTO_HELLO, PROTO_VERSION, &e) < 0)
        fail(-1, "%s", e->msg);
    g.errport = guest_open_port(PROTO_STDERR_NAME, O_WRONLY);
    g.hvc = guest_open_wait("/dev/hvc0", O_RDWR | O_NOCTTY);
    g.hvc_in = open("/dev/hvc0", O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (g.errport < 0 || g.hvc < 0 || g.hvc_in < 0)
        fail(g.ctl, "in the guest: the %s port or /dev/hvc0 did not appear", PROTO_STDERR_NAME);
    guest_set_raw(g.hvc);
    if (g.id[0] == '\0')
        fail(g.ctl, "in the guest: no vessel.id= on the kernel command line");

    _cleanup_spec_ struct oci_spec *spec = NULL;
    if (spec_load(GUEST_BUNDLE, &spec, &e) < 0)
        fail(g.ctl, "in the guest: %s", e->msg);
    guest_log("vessel guest init: config read, mounting the rootfs\n");
    if (guest_mount_rootfs(spec, msg, sizeof(msg)) < 0)
        fail(g.ctl, "in the guest: %s", msg);

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL);
    g.sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    int in[2], out[2], err[2];
    if (g.sfd < 0 || pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
        fail(g.ctl, "in the guest: pipes: %s", strerror(errno));
    g.in_w = in[1];
    g.out_r = out[0];
    g.err_r = err[0];
    (void)fcntl(g.err_r, F_SETFL, O_NONBLOCK);
    (void)fcntl(g.out_r, F_SETFL, O_NONBLOCK);
    (void)fcntl(g.in_w, F_SETFL, O_NONBLOCK);
    signal(SIGPIPE, SIG_IGN);
    /* pivot_root cannot leave the initramfs (the kernel's rootfs), so the container's
     * root is moved over / and chrooted into, as runc documents for ramdisk roots. */
    const char *args[] = {"create", "--no-pivot", "--bundle", GUEST_BUNDLE, "--pid-file", GUEST_PIDFILE, g.id,
                          NULL, NULL, NULL};
    g.console_listen = -1;
    if (spec->has_process && spec->process.terminal) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX, .sun_path = GUEST_CONSOLE_SOCK};
        g.console_listen = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (g.console_listen < 0 || bind(g.console_listen, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
            listen(g.console_listen, 1) < 0)
            fail(g.ctl, "in the guest: console socket: %s", strerror(errno));
        args[6] = "--console-socket";
        args[7] = GUEST_CONSOLE_SOCK;
        args[8] = g.id;
    }
    g.create_pid = run_vessel(cmd_create, args, in[0], out[1], err[1]);
    if (g.create_pid < 0)
        fail(g.ctl, "in the guest: fork: %s", strerror(errno));
    close(in[0]);
    close(out[1]);
    close(err[1]);
    guest_log("vessel guest init: create %s started\n", g.id);
    serve(&g);
}
