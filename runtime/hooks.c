/* Running OCI hooks: fork, state on stdin, exec with the hook's own argv and
 * env, wait with an optional timeout (pidfd + poll), report how it ended. */
#include "runtime/hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static int state_memfd(const char *state_json)
{
    int fd = memfd_create("vessel-hook-state", MFD_CLOEXEC);
    if (fd < 0)
        return -errno;
    int r = write_all_fd(fd, state_json, strlen(state_json));
    if (r == 0 && lseek(fd, 0, SEEK_SET) < 0)
        r = -errno;
    if (r < 0) {
        close(fd);
        return r;
    }
    return fd;
}

/* In the child: set up stdio and exec; on failure send errno up the pipe. */
static void __attribute__((noreturn)) hook_child(const struct oci_hook *h, char **argv, char **envp,
                                                 int state_fd, int errpipe)
{
    /* Restore what a runtime may have changed; the hook is a fresh program. */
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    signal(SIGPIPE, SIG_DFL);
    int e = 0;
    if (dup2(state_fd, 0) < 0 || dup2(2, 1) < 0)
        e = errno;
    if (e == 0) {
        /* Everything above stderr closes on exec, whoever opened it. */
        if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
            for (int fd = 3; fd < 1024; fd++)
                if (fd != errpipe)
                    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
        }
        execve(h->path, argv, envp);
        e = errno;
    }
    (void)write_all_fd(errpipe, &e, sizeof(e));
    _exit(127);
}

/* Wait for pid, killing it after timeout seconds (<= 0: no timeout).
 * Returns 0 with *status, or 1 when it timed out (and was reaped). */
static int hook_wait(pid_t pid, int timeout, int *status)
{
    if (timeout > 0) {
        int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        struct timespec start;
        clock_gettime(CLOCK_MONOTONIC, &start);
        for (;;) {
            pid_t w = waitpid(pid, status, WNOHANG);
            if (w == pid)
                break;
            if (w < 0 && errno != EINTR)
                return -errno;
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            long long left_ms = (long long)timeout * 1000 -
                                ((now.tv_sec - start.tv_sec) * 1000LL +
                                 (now.tv_nsec - start.tv_nsec) / 1000000);
            if (left_ms <= 0) {
                (void)kill(pid, SIGKILL);
                while (waitpid(pid, status, 0) < 0 && errno == EINTR)
                    ;
                if (pidfd >= 0)
                    close(pidfd);
                return 1;
            }
            if (pidfd >= 0) {
                struct pollfd p = {.fd = pidfd, .events = POLLIN};
                (void)poll(&p, 1, left_ms > 1000 ? 1000 : (int)left_ms);
            } else {
                struct timespec ts = {.tv_sec = 0, .tv_nsec = 10000000};
                (void)nanosleep(&ts, NULL);
            }
        }
        if (pidfd >= 0)
            close(pidfd);
        return 0;
    }
    while (waitpid(pid, status, 0) < 0) {
        if (errno != EINTR)
            return -errno;
    }
    return 0;
}

/* A NULL-terminated copy of a counted string array (the spec's are counted). */
static char **strv_copy(char **v, size_t n, const char *fallback)
{
    char **out = calloc(n + 2, sizeof(*out));
    if (out == NULL)
        return NULL;
    if (n > 0)
        memcpy(out, v, n * sizeof(*out));
    else if (fallback != NULL)
        out[0] = (char *)fallback;
    return out;
}

static int hook_run_one(const struct oci_hook *h, size_t idx, const char *stage,
                        const char *state_json, struct vessel_error **err)
{
    _cleanup_close_ int state_fd = state_memfd(state_json ? state_json : "");
    if (state_fd < 0)
        return vessel_error_set(err, -state_fd, "hook %s[%zu] \"%s\": state for stdin", stage, idx, h->path);
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return vessel_error_set(err, errno, "hook %s[%zu] \"%s\": pipe", stage, idx, h->path);
    _cleanup_close_ int rd = pipefd[0];
    _cleanup_close_ int wr = pipefd[1];
    _cleanup_free_ char **argv = strv_copy(h->args, h->args_len, h->path);
    _cleanup_free_ char **envp = strv_copy(h->env, h->env_len, NULL);
    if (argv == NULL || envp == NULL)
        return vessel_error_set(err, ENOMEM, "hook %s[%zu] \"%s\"", stage, idx, h->path);
    pid_t pid = fork();
    if (pid < 0)
        return vessel_error_set(err, errno, "hook %s[%zu] \"%s\": fork", stage, idx, h->path);
    if (pid == 0)
        hook_child(h, argv, envp, state_fd, wr);
    close(steal_fd(&wr));
    int status = 0;
    int r = hook_wait(pid, h->has_timeout ? h->timeout : 0, &status);
    if (r < 0)
        return vessel_error_set(err, -r, "hook %s[%zu] \"%s\": wait", stage, idx, h->path);
    int child_errno = 0;
    if (read_all_fd(rd, &child_errno, sizeof(child_errno)) == (ssize_t)sizeof(child_errno))
        return vessel_error_set(err, child_errno, "hook %s[%zu] \"%s\": exec", stage, idx, h->path);
    if (r == 1)
        return vessel_error_set(err, 0, "hook %s[%zu] \"%s\": timed out after %d seconds",
                                stage, idx, h->path, (int)h->timeout);
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        return vessel_error_set(err, 0, "hook %s[%zu] \"%s\": exited with status %d", stage, idx,
                                h->path, WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return vessel_error_set(err, 0, "hook %s[%zu] \"%s\": killed by signal %d", stage, idx,
                                h->path, WTERMSIG(status));
    return 0;
}

int hooks_run(const struct oci_hook *hooks, size_t n, const char *stage, const char *state_json,
              struct vessel_error **err)
{
    for (size_t i = 0; i < n; i++) {
        int r = hook_run_one(&hooks[i], i, stage, state_json, err);
        if (r < 0)
            return r;
    }
    return 0;
}
