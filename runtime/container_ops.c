/* start, kill, delete and state loading on an existing ROOT/ID. */
#include "runtime/container.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroups/cgroups.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "common/log.h"
#include "runtime/hooks.h"
#include "runtime/state_store.h"

int container_state_load(const char *root, const char *id, struct container_state **out,
                         struct vessel_error **err)
{
    _cleanup_close_ int dirfd = state_dir_open(root, id, 0, err);
    if (dirfd < 0)
        return dirfd;
    if (state_read(dirfd, out, err) < 0)
        return vessel_error_code(*err);
    (*out)->status = state_status_compute(dirfd, *out);
    return 0;
}

/* The spec copy taken at create (hooks for start and delete); NULL if unreadable. */
static struct oci_spec *spec_copy_load(int dirfd)
{
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;
    struct oci_spec *spec = NULL;
    struct vessel_error *e = NULL;
    if (read_file_at(dirfd, STATE_CONFIG_FILE, OCI_SPEC_MAX_FILE, &buf, &len, &e) == 0)
        (void)spec_parse(buf, len, &spec, &e);
    vessel_error_free(e);
    return spec;
}

static void hooks_warn(const struct oci_hook *hooks, size_t n, const char *stage, const struct container_state *st)
{
    if (n == 0)
        return;
    struct vessel_error *e = NULL;
    _cleanup_free_ char *json = NULL;
    if (state_to_oci_json(st, &json, &e) == 0)
        (void)hooks_run(hooks, n, stage, json, &e);
    if (e != NULL) {
        /* runtime-spec: poststart/poststop failures are warnings. */
        log_warning("%s", e->msg);
        vessel_error_free(e);
    }
}

static const char *status_name(enum container_status s)
{
    return container_status_name(s);
}

/* Wait for the init's byte on the exec fifo, or its death. */
static int fifo_release(int dirfd, const struct container_state *st, struct vessel_error **err)
{
    _cleanup_close_ int pidfd = state_pidfd_open(st);
    if (pidfd < 0)
        return vessel_error_set(err, 0, "cannot start a container that has stopped");
    _cleanup_close_ int fd = openat(dirfd, STATE_EXEC_FIFO, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return vessel_error_set(err, errno, "open exec fifo");
    for (;;) {
        struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = pidfd, .events = POLLIN}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return vessel_error_set(err, errno, "wait on exec fifo");
        }
        if (p[0].revents & (POLLIN | POLLHUP)) {
            char c;
            ssize_t n = read(fd, &c, 1);
            if (n == 1)
                return 0;
            if (n < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            return vessel_error_set(err, 0, "container init exited before start");
        }
        if (p[1].revents & POLLIN)
            return vessel_error_set(err, 0, "container init exited before start");
    }
}

int container_start(const char *root, const char *id, struct vessel_error **err)
{
    _cleanup_close_ int dirfd = state_dir_open(root, id, LOCK_EX, err);
    if (dirfd < 0)
        return dirfd;
    _cleanup_state_ struct container_state *st = NULL;
    if (state_read(dirfd, &st, err) < 0)
        return vessel_error_code(*err);
    enum container_status s = state_status_compute(dirfd, st);
    if (s == STATUS_STOPPED)
        return vessel_error_set(err, 0, "cannot start a container that has stopped");
    if (s != STATUS_CREATED)
        return vessel_error_set(err, 0, "cannot start a container in state \"%s\" (must be created)",
                                status_name(s));
    if (fifo_release(dirfd, st, err) < 0)
        return vessel_error_code(*err);
    (void)unlinkat(dirfd, STATE_EXEC_FIFO, 0);
    st->started = true;
    st->status = STATUS_RUNNING;
    if (state_write(dirfd, st, err) < 0)
        return vessel_error_code(*err);
    _cleanup_spec_ struct oci_spec *spec = spec_copy_load(dirfd);
    if (spec)
        hooks_warn(spec->hooks.poststart, spec->hooks.poststart_len, "poststart", st);
    return 0;
}

int signal_parse(const char *name, int *sig, struct vessel_error **err)
{
    if (name == NULL || *name == '\0')
        return vessel_error_set(err, 0, "empty signal");
    if (isdigit((unsigned char)name[0])) {
        char *end = NULL;
        long n = strtol(name, &end, 10);
        if (*end != '\0' || n <= 0 || n >= NSIG)
            return vessel_error_set(err, 0, "invalid signal \"%s\"", name);
        *sig = (int)n;
        return 0;
    }
    const char *n = strncasecmp(name, "SIG", 3) == 0 ? name + 3 : name;
    for (int s = 1; s < SIGRTMIN; s++) {
        const char *abbrev = sigabbrev_np(s);
        if (abbrev && strcasecmp(abbrev, n) == 0) {
            *sig = s;
            return 0;
        }
    }
    /* RTMIN+N / RTMAX-N */
    if (strncasecmp(n, "RTMIN", 5) == 0 || strncasecmp(n, "RTMAX", 5) == 0) {
        bool max = toupper((unsigned char)n[3]) == 'A';
        int off = 0;
        if (n[5] != '\0') {
            char *end = NULL;
            off = (int)strtol(n + 5, &end, 10);
            if (*end != '\0')
                off = -1000;
        }
        int s = max ? SIGRTMAX + off : SIGRTMIN + off;
        if (s >= SIGRTMIN && s <= SIGRTMAX) {
            *sig = s;
            return 0;
        }
    }
    return vessel_error_set(err, 0, "unknown signal \"%s\"", name);
}

int container_kill(const char *root, const char *id, int sig, bool all, struct vessel_error **err)
{
    _cleanup_close_ int dirfd = state_dir_open(root, id, 0, err);
    if (dirfd < 0)
        return dirfd;
    _cleanup_state_ struct container_state *st = NULL;
    if (state_read(dirfd, &st, err) < 0)
        return vessel_error_code(*err);
    enum container_status s = state_status_compute(dirfd, st);
    if (s == STATUS_STOPPED || (s == STATUS_CREATING && !state_process_alive(st)))
        return vessel_error_set(err, 0, "container \"%s\" is not running", id);
    if (all && st->cgroup_path) {
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        if (cgroup_pids(st->cgroup_path, &pids, &n, err) < 0)
            return vessel_error_code(*err);
        for (size_t i = 0; i < n; i++)
            (void)kill(pids[i], sig);
        return 0;
    }
    _cleanup_close_ int pidfd = state_pidfd_open(st);
    if (pidfd < 0)
        return vessel_error_set(err, 0, "container \"%s\" is not running", id);
    if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
        return vessel_error_set(err, errno, "kill container \"%s\" with signal %d", id, sig);
    return 0;
}

/* SIGKILL the init and wait until it is gone (pidfd turns readable at exit). */
static void init_kill_wait(const struct container_state *st)
{
    _cleanup_close_ int pidfd = state_pidfd_open(st);
    if (pidfd < 0)
        return;
    if (syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) < 0)
        return;
    struct pollfd p = {.fd = pidfd, .events = POLLIN};
    while (poll(&p, 1, -1) < 0 && errno == EINTR)
        ;
}

int container_delete(const char *root, const char *id, bool force, struct vessel_error **err)
{
    _cleanup_close_ int dirfd = state_dir_open(root, id, LOCK_EX, err);
    if (dirfd < 0)
        return dirfd;
    _cleanup_state_ struct container_state *st = NULL;
    if (state_read(dirfd, &st, err) < 0) {
        if (!force)
            return vessel_error_code(*err);
        /* A create killed before its first state write: nothing else exists yet. */
        vessel_error_free(*err);
        *err = NULL;
        return state_dir_remove(root, id, err);
    }
    enum container_status s = state_status_compute(dirfd, st);
    if (!force && s != STATUS_STOPPED && s != STATUS_CREATED)
        return vessel_error_set(err, 0, "cannot delete container \"%s\" that is not stopped: %s", id,
                                status_name(s));
    init_kill_wait(st);
    if (st->cgroup_path && cgroup_destroy(st->cgroup_path, err) < 0)
        return vessel_error_wrap(err, "delete container \"%s\"", id);
    _cleanup_spec_ struct oci_spec *spec = spec_copy_load(dirfd);
    if (spec) {
        st->status = STATUS_STOPPED;
        hooks_warn(spec->hooks.poststop, spec->hooks.poststop_len, "poststop", st);
    }
    return state_dir_remove(root, id, err);
}
