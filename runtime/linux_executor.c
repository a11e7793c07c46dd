/* Container executor, runtime side: clone the init with its namespaces (it
 * puts itself in the cgroup), write its id maps and time offsets, let it
 * re-exec from a sealed copy of vessel, and drive its setup until it waits on
 * the exec fifo. */
#include "runtime/linux_executor.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroups/cgroups.h"
#include "common/cleanup.h"
#include "namespaces/namespaces.h"
#include "runtime/exe_clone.h"
#include "runtime/linux_sync.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

void test_crash_point(const char *step)
{
    const char *at = getenv("VESSEL_TEST_CRASH_AT");
    if (at != NULL && strcmp(at, step) == 0)
        _exit(137);
}

static bool ns_is_new(const struct oci_spec *spec, enum oci_namespace_type t)
{
    const struct oci_namespace *ns = spec_namespace(spec, t);
    return ns != NULL && ns->path == NULL;
}

/* The cloned child before exec: only what must happen in this process image. */
static __attribute__((noreturn)) void child_pre_exec(int sock, const int nsfds[OCI_NS_COUNT],
                                                     const struct oci_spec *spec, const char *bundle,
                                                     bool new_userns, const struct cgroup_entry *cg,
                                                     bool cg_v2_done, const char *cgroup_path)
{
    struct vessel_error *err = NULL;
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* First, so everything the init does is accounted to the container. */
    int r = cgroup_entry_self(cg, cg_v2_done);
    if (r < 0) {
        vessel_error_set(&err, -r, "enter cgroup \"%s\"", cgroup_path);
        goto fail;
    }
    /* time: unshared here so the runtime can still write the offsets
     * (only possible before a process is inside); we enter it at exec. */
    if (ns_is_new(spec, OCI_NS_TIME) && unshare(CLONE_NEWTIME) < 0) {
        vessel_error_set(&err, errno, "unshare time namespace");
        goto fail;
    }
    if (sync_send(sock, SYNC_CHILD_READY, NULL, 0, NULL, 0) < 0)
        _exit(1);
    uint32_t type = 0;
    char *payload = NULL;
    size_t len = 0;
    if (sync_recv(sock, &type, &payload, &len, NULL, 0) < 0 || type != SYNC_GO)
        _exit(1);
    free(payload);
    if (new_userns) {
        /* Become the namespace's root so exec keeps the capabilities. */
        if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
            vessel_error_set(&err, errno, "become root in the user namespace (is id 0 mapped?)");
            goto fail;
        }
    }
    if (nsfds[OCI_NS_MOUNT] >= 0 && namespaces_join(nsfds, OCI_NS_MOUNT, &err) < 0)
        goto fail;
    /* Relative mount sources are relative to the bundle (runtime-spec, as runc). */
    if (chdir(bundle) < 0) {
        vessel_error_set(&err, errno, "chdir to the bundle \"%s\"", bundle);
        goto fail;
    }
    int exe_fd = exe_clone_sealed(&err);
    if (exe_fd < 0)
        goto fail;
    int flags = fcntl(sock, F_GETFD);
    if (flags < 0 || fcntl(sock, F_SETFD, flags & ~FD_CLOEXEC) < 0) {
        vessel_error_set(&err, errno, "init sync socket");
        goto fail;
    }
    char env0[64];
    snprintf(env0, sizeof(env0), "_VESSEL_INIT=%d", sock);
    char *const argv[] = {(char *)"vessel", (char *)"init", NULL};
    char *const envp[] = {env0, NULL};
    syscall(SYS_execveat, exe_fd, "", argv, envp, AT_EMPTY_PATH);
    vessel_error_set(&err, errno, "execute the sealed vessel copy");
fail:
    sync_send_error(sock, err);
    _exit(1);
}

/* clone3 straight into the cgroup2 cgroup when there is one (no migration at
 * all); else, or if the kernel refuses, plain clone. Returns like fork. */
static long init_clone(int flags, int v2_dirfd, int *pidfd, bool *v2_done)
{
    *v2_done = false;
    if (v2_dirfd >= 0) {
        struct clone_args a = {
            .flags = (uint64_t)(unsigned)flags | CLONE_PIDFD | CLONE_INTO_CGROUP,
            .pidfd = (uint64_t)(uintptr_t)pidfd,
            .exit_signal = SIGCHLD,
            .cgroup = (uint64_t)v2_dirfd,
        };
        long rc = syscall(SYS_clone3, &a, sizeof(a));
        if (rc >= 0) {
            *v2_done = true;
            return rc;
        }
    }
    return syscall(SYS_clone, (unsigned long)flags | CLONE_PIDFD | SIGCHLD, NULL, pidfd, NULL, 0);
}

static int request_send(int sock, pid_t pid, const struct linux_create_params *p, const char *state_json,
                        int fifo_fd)
{
    const struct create_request *req = p->req;
    const struct oci_spec *spec = req->spec;
    bool hooks = spec->hooks.prestart_len > 0 || spec->hooks.create_runtime_len > 0;
    struct sync_request r = {
        .flags = (req->no_pivot ? SYNC_F_NO_PIVOT : 0) | (req->no_new_keyring ? SYNC_F_NO_NEW_KEYRING : 0) |
                 (p->console_fd >= 0 ? SYNC_F_CONSOLE : 0) | (hooks ? SYNC_F_RUNTIME_HOOKS : 0),
        .listen_fds = p->listen_fds,
        .preserve_fds = req->preserve_fds,
        .pid = (int32_t)pid,
        .config_len = (uint32_t)p->config_len,
        .rootfs_len = (uint32_t)strlen(req->rootfs),
        .id_len = (uint32_t)strlen(req->id),
        .state_len = (uint32_t)strlen(state_json),
    };
    size_t total = sizeof(r) + r.config_len + r.rootfs_len + r.id_len + r.state_len;
    _cleanup_free_ char *buf = malloc(total);
    if (buf == NULL)
        return -ENOMEM;
    char *q = buf;
    memcpy(q, &r, sizeof(r));
    q += sizeof(r);
    memcpy(q, p->config, r.config_len);
    q += r.config_len;
    memcpy(q, req->rootfs, r.rootfs_len);
    q += r.rootfs_len;
    memcpy(q, req->id, r.id_len);
    q += r.id_len;
    memcpy(q, state_json, r.state_len);
    int fds[2] = {fifo_fd, p->console_fd};
    return sync_send(sock, SYNC_REQUEST, buf, total, fds, p->console_fd >= 0 ? 2 : 1);
}

static int init_failed(pid_t pid, struct vessel_error **err)
{
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFSIGNALED(status))
        return vessel_error_set(err, 0, "container init was killed by signal %d during setup",
                                WTERMSIG(status));
    return vessel_error_set(err, 0, "container init exited during setup (status %d)",
                            WEXITSTATUS(status));
}

/* Drive the init from SYNC_GO to SYNC_READY. */
static int init_drive(int sock, pid_t pid, const struct linux_create_params *p, const char *state_json,
                      int fifo_fd, struct vessel_error **err)
{
    int r = request_send(sock, pid, p, state_json, fifo_fd);
    if (r < 0 && r != -EPIPE)
        return vessel_error_set(err, -r, "send setup request to the container init");
    for (;;) {
        uint32_t type = 0;
        _cleanup_free_ char *payload = NULL;
        size_t len = 0;
        r = sync_recv(sock, &type, &payload, &len, NULL, 0);
        if (r == -EPIPE || r == -ECONNRESET)
            return init_failed(pid, err);
        if (r < 0)
            return vessel_error_set(err, -r, "read from the container init");
        switch (type) {
        case SYNC_READY:
            return 0;
        case SYNC_HOOKS:
            test_crash_point("hooks");
            if (p->ops->runtime_hooks && p->ops->runtime_hooks(p->ops->data, pid, err) < 0)
                return vessel_error_code(*err);
            r = sync_send(sock, SYNC_HOOKS_DONE, NULL, 0, NULL, 0);
            if (r < 0)
                return init_failed(pid, err);
            break;
        case SYNC_ERROR: {
            int32_t e = 0;
            if (len >= sizeof(e))
                memcpy(&e, payload, sizeof(e));
            vessel_error_set(err, 0, "%s", len > sizeof(e) ? payload + sizeof(e) : "container init failed");
            (*err)->errnum = e;
            return -1;
        }
        default:
            return vessel_error_set(err, EPROTO, "unexpected message %u from the container init", type);
        }
    }
}

static int parent_setup(int sock, pid_t pid, const struct linux_create_params *p, struct vessel_error **err)
{
    const struct oci_spec *spec = p->req->spec;
    uint32_t type = 0;
    char *payload = NULL;
    size_t len = 0;
    int r = sync_recv(sock, &type, &payload, &len, NULL, 0);
    if (r < 0) {
        free(payload);
        return init_failed(pid, err);
    }
    if (type == SYNC_ERROR) {
        vessel_error_set(err, 0, "%s", len > 4 ? payload + 4 : "container init failed");
        free(payload);
        return -1;
    }
    free(payload);
    if (ns_is_new(spec, OCI_NS_USER) && userns_write_mappings(pid, spec, err) < 0)
        return vessel_error_wrap(err, "user namespace mappings");
    if (ns_is_new(spec, OCI_NS_TIME) && timens_write_offsets(pid, spec, err) < 0)
        return vessel_error_wrap(err, "time namespace offsets");
    test_crash_point("maps");
    r = sync_send(sock, SYNC_GO, NULL, 0, NULL, 0);
    if (r < 0)
        return init_failed(pid, err);
    return 0;
}

int linux_executor_create(const struct linux_create_params *p, pid_t *pid_out, int *pidfd_out,
                          struct vessel_error **err)
{
    const struct create_request *req = p->req;
    const struct oci_spec *spec = req->spec;
    int flags = 0;
    if (namespaces_clone_flags(spec, &flags, err) < 0)
        return vessel_error_code(*err);
    flags &= ~(CLONE_NEWTIME | CLONE_NEWCGROUP);  /* unshared later by the init, see child_pre_exec */
    _cleanup_close_ int fifo_fd = open(req->exec_fifo, O_PATH | O_CLOEXEC);
    if (fifo_fd < 0)
        return vessel_error_set(err, errno, "open \"%s\"", req->exec_fifo);

    int nsfds[OCI_NS_COUNT];
    if (namespaces_open_paths(spec, nsfds, err) < 0)
        return vessel_error_code(*err);
    /* Namespaces given by path are joined here, before the new ones are
     * cloned (which then belong to them); mount last, in the child, so this
     * process keeps the host's paths. */
    if ((nsfds[OCI_NS_USER] >= 0 && namespaces_join(nsfds, OCI_NS_USER, err) < 0) ||
        namespaces_join(nsfds, OCI_NS_COUNT, err) < 0) {
        namespaces_close(nsfds);
        return vessel_error_code(*err);
    }

    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        namespaces_close(nsfds);
        return vessel_error_set(err, errno, "socketpair");
    }
    struct cgroup_entry cg;
    cgroup_entry_init(&cg);
    if (p->cgroup != NULL) {
        cg = *p->cgroup;
        cgroup_entry_init(p->cgroup);
    } else if (req->cgroup_path && cgroup_entry_open(req->cgroup_path, &cg, err) < 0) {
        close(sv[0]);
        close(sv[1]);
        namespaces_close(nsfds);
        return vessel_error_code(*err);
    }
    int pidfd = -1;
    bool cg_v2_done = false;
    long rc = init_clone(flags, cg.v2_dirfd, &pidfd, &cg_v2_done);
    if (rc < 0) {
        int e = errno;
        close(sv[0]);
        close(sv[1]);
        namespaces_close(nsfds);
        cgroup_entry_close(&cg);
        return vessel_error_set(err, e, "clone the container init");
    }
    if (rc == 0) {
        close(sv[0]);
        child_pre_exec(sv[1], nsfds, spec, req->bundle, ns_is_new(spec, OCI_NS_USER), &cg, cg_v2_done,
                       req->cgroup_path);
    }
    pid_t pid = (pid_t)rc;
    close(sv[1]);
    namespaces_close(nsfds);
    cgroup_entry_close(&cg);
    _cleanup_close_ int sock = sv[0];

    _cleanup_free_ char *state_json = NULL;
    int r = 0;
    if (p->ops->spawned && p->ops->spawned(p->ops->data, pid, &state_json, err) < 0)
        r = -1;
    if (r == 0) {
        test_crash_point("spawned");
        r = parent_setup(sock, pid, p, err);
    }
    if (r == 0)
        r = init_drive(sock, pid, p, state_json ? state_json : "{}", fifo_fd, err);
    if (r < 0) {
        (void)syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        close(pidfd);
        return r;
    }
    test_crash_point("init-ready");
    *pid_out = pid;
    *pidfd_out = pidfd;
    return 0;
}
