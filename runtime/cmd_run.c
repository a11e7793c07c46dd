/* `vessel run [-d] [create flags] ID`: create and start; in the foreground wait
 * for the workload, forward signals to it, delete it, exit with its status. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "runtime/cmd_common.h"
#include "runtime/commands.h"
#include "runtime/console.h"
#include "runtime/container.h"

static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGPIPE, SIGALRM};

static int exit_code(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return 1;
}

/* Forward signals until the init exits; returns its wait status. */
static int wait_forwarding(pid_t pid, int pidfd, int sigfd)
{
    for (;;) {
        struct pollfd p[2] = {{.fd = pidfd, .events = POLLIN}, {.fd = sigfd, .events = POLLIN}};
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            break;
        if (p[1].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
                (void)kill(pid, (int)si.ssi_signo);
        }
        if (p[0].revents & POLLIN)
            break;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return 1 << 8;
    }
    return status;
}

int cmd_run(struct vessel_globals *g, int argc, char **argv)
{
    struct container_create_opts o = {.bundle = ".", .console_fd = -1};
    bool detach = false;
    if (create_opts_parse(argc, argv, &o, &detach) < 0)
        return 1;
    o.foreground = !detach;
    struct vessel_error *err = NULL;
    _cleanup_close_ int relay = -1;
    if (!detach && o.console_socket == NULL) {
        bool terminal = false;
        if (container_bundle_wants_terminal(o.bundle, &terminal, &err) < 0) {
            log_error_object(err);
            return 1;
        }
        int sv[2];
        if (terminal) {
            if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
                log_error("run: socketpair for the console relay: %s", strerror(errno));
                return 1;
            }
            relay = sv[0];
            o.console_fd = sv[1];
        }
    }
    pid_t pid = 0;
    _cleanup_close_ int pidfd = -1;
    int r = container_create(g, &o, &pid, &pidfd, &err);
    if (o.console_fd >= 0)
        close(o.console_fd);
    if (r < 0) {
        log_error_object(err);
        return 1;
    }
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
        sigaddset(&set, forwarded[i]);
    sigprocmask(SIG_BLOCK, &set, NULL);
    _cleanup_close_ int sigfd = signalfd(-1, &set, SFD_CLOEXEC);

    if (container_start(g->root, o.id, &err) < 0) {
        log_error_object(err);
        struct vessel_error *e2 = NULL;
        if (container_delete(g->root, o.id, true, &e2) < 0)
            log_error_object(e2);
        return 1;
    }
    if (detach)
        return 0;
    if (relay >= 0) {
        _cleanup_close_ int master = console_receive(relay, &err);
        if (master < 0)
            log_error_object(err);
        else
            (void)console_relay(master, pidfd);
    }
    int status = wait_forwarding(pid, pidfd, sigfd);
    if (container_delete(g->root, o.id, true, &err) < 0)
        log_error_object(err);
    return exit_code(status);
}
