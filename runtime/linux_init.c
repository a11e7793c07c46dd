/* Container executor, init side (`vessel init`, run from the sealed copy):
 * receive the setup request, build the rootfs, make the console, set up the
 * process, report ready, wait on the exec fifo, then exec the workload. */
#include "runtime/linux_executor.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "namespaces/namespaces.h"
#include "runtime/console.h"
#include "runtime/fds.h"
#include "runtime/hooks.h"
#include "runtime/linux_sync.h"
#include "runtime/process.h"
#include "runtime/seccomp.h"

#define KEYCTL_JOIN_SESSION_KEYRING 1

struct init_ctx {
    int sock;
    struct sync_request req;
    const char *config, *rootfs, *id, *state_json;
    struct oci_spec *spec;
    int fifo_fd, console_fd;
};

static char *take_string(const char **cursor, uint32_t len)
{
    char *s = strndup(*cursor, len);
    *cursor += len;
    return s;
}

static int init_receive(struct init_ctx *c, struct vessel_error **err)
{
    uint32_t type = 0;
    char *payload = NULL;
    size_t len = 0;
    int fds[2];
    int r = sync_recv(c->sock, &type, &payload, &len, fds, 2);
    if (r < 0)
        return vessel_error_set(err, -r, "receive the setup request");
    if (type != SYNC_REQUEST || len < sizeof(c->req))
        return vessel_error_set(err, EPROTO, "bad setup request");
    memcpy(&c->req, payload, sizeof(c->req));
    uint64_t want = (uint64_t)sizeof(c->req) + c->req.config_len + c->req.rootfs_len + c->req.id_len +
                    c->req.state_len;
    if (want != len)
        return vessel_error_set(err, EPROTO, "bad setup request length");
    const char *q = payload + sizeof(c->req);
    c->config = take_string(&q, c->req.config_len);
    c->rootfs = take_string(&q, c->req.rootfs_len);
    c->id = take_string(&q, c->req.id_len);
    c->state_json = take_string(&q, c->req.state_len);
    free(payload);
    c->fifo_fd = fds[0];
    c->console_fd = fds[1];
    if (!c->config || !c->rootfs || !c->id || !c->state_json)
        return vessel_error_set(err, ENOMEM, "setup request");
    if (c->fifo_fd < 0)
        return vessel_error_set(err, EPROTO, "setup request without the exec fifo");
    if (spec_parse(c->config, c->req.config_len, &c->spec, err) < 0)
        return vessel_error_wrap(err, "config.json");
    /* We entered the container's cgroup before the re-exec (child_pre_exec):
     * a new cgroup namespace made now is rooted there. */
    const struct oci_namespace *cg = spec_namespace(c->spec, OCI_NS_CGROUP);
    if (cg != NULL && cg->path == NULL && unshare(CLONE_NEWCGROUP) < 0)
        return vessel_error_set(err, errno, "unshare cgroup namespace");
    return 0;
}

/* Before pivot_root: the runtime's prestart/createRuntime hooks, then ours. */
static int init_before_pivot(void *data, struct vessel_error **err)
{
    struct init_ctx *c = data;
    if (c->req.flags & SYNC_F_RUNTIME_HOOKS) {
        int r = sync_send(c->sock, SYNC_HOOKS, NULL, 0, NULL, 0);
        if (r < 0)
            return vessel_error_set(err, -r, "ask the runtime to run hooks");
        uint32_t type = 0;
        char *payload = NULL;
        size_t len = 0;
        r = sync_recv(c->sock, &type, &payload, &len, NULL, 0);
        free(payload);
        if (r < 0 || type != SYNC_HOOKS_DONE)
            return vessel_error_set(err, r < 0 ? -r : EPROTO, "wait for the runtime's hooks");
    }
    /* The notify listener's socket is a host path: connect while it is visible. */
    if (c->spec->linux_.seccomp.present &&
        seccomp_listener_prepare(&c->spec->linux_.seccomp, c->state_json, c->req.pid, err) < 0)
        return vessel_error_code(*err);
    const struct oci_hooks *h = &c->spec->hooks;
    if (h->create_container_len > 0 &&
        hooks_run(h->create_container, h->create_container_len, "createContainer", c->state_json, err) < 0)
        return vessel_error_code(*err);
    return 0;
}

/* Find args[0] now, so a missing binary fails create, not start (as runc). */
static int init_check_executable(const struct oci_spec *spec, char **envp, struct vessel_error **err)
{
    const char *arg0 = spec->process.args[0];
    if (strchr(arg0, '/') != NULL) {
        if (access(arg0, X_OK) < 0)
            return vessel_error_set(err, errno, "exec \"%s\"", arg0);
        return 0;
    }
    const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    for (char **e = envp; e && *e; e++) {
        if (strncmp(*e, "PATH=", 5) == 0)
            path = *e + 5;
    }
    _cleanup_free_ char *copy = strdup(path);
    if (copy == NULL)
        return vessel_error_set(err, ENOMEM, "PATH");
    char *save = NULL;
    for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
        char full[4096];
        snprintf(full, sizeof(full), "%s/%s", *dir ? dir : ".", arg0);
        struct stat st;
        if (stat(full, &st) == 0 && S_ISREG(st.st_mode) && access(full, X_OK) == 0)
            return 0;
    }
    return vessel_error_set(err, 0, "exec \"%s\": executable file not found in $PATH", arg0);
}

static int env_add_listen(char ***envp, int listen_fds)
{
    size_t n = 0;
    while ((*envp)[n])
        n++;
    char **e = realloc(*envp, (n + 3) * sizeof(char *));
    if (e == NULL)
        return -ENOMEM;
    *envp = e;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(e[i], "LISTEN_FDS=", 11) != 0 && strncmp(e[i], "LISTEN_PID=", 11) != 0)
            e[j++] = e[i];
    }
    if (asprintf(&e[j++], "LISTEN_FDS=%d", listen_fds) < 0 || asprintf(&e[j++], "LISTEN_PID=1") < 0)
        return -ENOMEM;
    e[j] = NULL;
    return 0;
}

static int init_setup(struct init_ctx *c, char ***envp, struct vessel_error **err)
{
    const struct oci_spec *spec = c->spec;
    /* Nothing of ours may reach the workload: only 0-2, LISTEN_FDS, --preserve-fds. */
    int keep = c->req.listen_fds + c->req.preserve_fds;
    int ours[] = {c->sock, c->fifo_fd, c->console_fd};
    int r = fds_close_from_except(3 + keep, ours, sizeof(ours) / sizeof(ours[0]));
    if (r < 0)
        return vessel_error_set(err, -r, "close inherited file descriptors");
    /* What is left above them is ours, all close-on-exec (the fds came with
     * MSG_CMSG_CLOEXEC); only the socket lost it for the re-exec. */
    (void)fcntl(c->sock, F_SETFD, FD_CLOEXEC);

    if (!(c->req.flags & SYNC_F_NO_NEW_KEYRING)) {
        char name[128];
        snprintf(name, sizeof(name), "_ses.%s", c->id);
        if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name, 0, 0, 0) < 0 && errno != ENOSYS &&
            errno != EACCES && errno != EPERM && errno != EDQUOT)
            return vessel_error_set(err, errno, "join a new session keyring");
    }
    const struct oci_namespace *net = spec_namespace(spec, OCI_NS_NETWORK);
    if (net != NULL && net->path == NULL && net_loopback_up(err) < 0)
        return vessel_error_wrap(err, "network namespace");
    if (uts_apply(spec, err) < 0)
        return vessel_error_code(*err);
    struct rootfs_options ro = {
        .no_pivot = c->req.flags & SYNC_F_NO_PIVOT,
        .before_pivot = init_before_pivot,
        .data = c,
    };
    if (rootfs_setup(spec, c->rootfs, &ro, err) < 0)
        return vessel_error_code(*err);
    if (spec->process.terminal) {
        if (c->console_fd < 0)
            return vessel_error_set(err, 0, "process.terminal is true but there is no console socket");
        if (console_setup(c->console_fd, &spec->process.console_size, err) < 0)
            return vessel_error_code(*err);
        close(c->console_fd);
        c->console_fd = -1;
    }
    if (process_build_env(spec, envp, err) < 0)
        return vessel_error_code(*err);
    if (c->req.listen_fds > 0 && env_add_listen(envp, c->req.listen_fds) < 0)
        return vessel_error_set(err, ENOMEM, "LISTEN_FDS");
    if (process_setup(spec, err) < 0)
        return vessel_error_code(*err);
    return init_check_executable(spec, *envp, err);
}

/* Blocks until `start` opens the fifo for reading, then hands it one byte. */
static int init_wait_start(struct init_ctx *c, struct vessel_error **err)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", c->fifo_fd);
    int fd;
    while ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0 && errno == EINTR)
        ;
    if (fd < 0)
        return vessel_error_set(err, errno, "open the exec fifo (is /proc mounted in the container?)");
    close(c->fifo_fd);
    c->fifo_fd = -1;
    int r = write_all_fd(fd, "0", 1);
    close(fd);
    if (r < 0)
        return vessel_error_set(err, -r, "write the exec fifo");
    return 0;
}

int linux_init_main(void)
{
    struct vessel_error *err = NULL;
    struct init_ctx c = {.sock = -1, .fifo_fd = -1, .console_fd = -1};
    const char *s = getenv("_VESSEL_INIT");
    if (s == NULL) {
        fprintf(stderr, "vessel: init: only vessel itself starts a container init\n");
        return 1;
    }
    c.sock = atoi(s);
    unsetenv("_VESSEL_INIT");
    /* Keep other container processes out of our /proc entries until exec. */
    (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    (void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);

    char **envp = NULL;
    if (init_receive(&c, &err) < 0 || init_setup(&c, &envp, &err) < 0) {
        sync_send_error(c.sock, err);
        return 1;
    }
    /* Setup done: the runtime records "created" and may exit; we must not die with it. */
    (void)prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
    (void)sync_send(c.sock, SYNC_READY, NULL, 0, NULL, 0);
    close(c.sock);

    if (init_wait_start(&c, &err) < 0)
        goto fail;
    const struct oci_hooks *h = &c.spec->hooks;
    if (h->start_container_len > 0 &&
        hooks_run(h->start_container, h->start_container_len, "startContainer", c.state_json, &err) < 0)
        goto fail;
    for (int sig = 1; sig < NSIG; sig++)
        (void)signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    process_exec(c.spec, envp, &err);
fail:
    /* After ready nobody listens on the socket: the container's stderr is all we have. */
    fprintf(stderr, "vessel: %s\n", err && err->msg ? err->msg : "container init failed");
    return err && err->errnum == ENOENT ? 127 : 1;
}
