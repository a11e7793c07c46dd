/* `create` as a transaction: validate, claim ROOT/ID, cgroup, executor; every
 * step registers its undo and a failure unwinds them in reverse. */
#include "runtime/container.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroups/cgroups.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "runtime/console.h"
#include "runtime/executor.h"
#include "runtime/fds.h"
#include "runtime/hooks.h"
#include "runtime/isolation.h"
#include "runtime/linux_executor.h"
#include "runtime/state_store.h"

struct create_txn {
    const char *root, *id;
    int dirfd;
    bool dir_claimed;
    char *cgroup_path;
    bool cgroup_created;
    struct cgroup_entry cgroup_entry;  /* opened for the container executor, which takes it */
    struct container_state st;   /* borrows strings; never state_free'd */
    struct oci_spec *spec;
};

static int read_config(const char *bundle, char **buf, size_t *len, struct vessel_error **err)
{
    _cleanup_free_ char *path = NULL;
    if (asprintf(&path, "%s/config.json", bundle) < 0)
        return vessel_error_set(err, ENOMEM, "config path");
    return read_file_at(AT_FDCWD, path, OCI_SPEC_MAX_FILE, buf, len, err);
}

int container_bundle_wants_terminal(const char *bundle, bool *terminal, struct vessel_error **err)
{
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;
    _cleanup_spec_ struct oci_spec *spec = NULL;
    if (read_config(bundle, &buf, &len, err) < 0 || spec_parse(buf, len, &spec, err) < 0)
        return vessel_error_code(*err);
    *terminal = spec->has_process && spec->process.terminal;
    return 0;
}

static const char *owner_name(void)
{
    uid_t uid = geteuid();
    if (uid == 0)
        return "root";
    struct passwd *pw = getpwuid(uid);
    return pw ? pw->pw_name : "";
}

static int validate(const struct container_create_opts *o, const struct oci_spec *spec, const char *rootfs,
                    struct vessel_error **err)
{
    if (!spec->has_process)
        return vessel_error_set(err, 0, "process: required to create a container");
    struct stat st;
    if (stat(rootfs, &st) < 0)
        return vessel_error_set(err, errno, "root.path \"%s\"", rootfs);
    if (!S_ISDIR(st.st_mode))
        return vessel_error_set(err, ENOTDIR, "root.path \"%s\"", rootfs);
    if (spec->process.terminal && o->console_socket == NULL && o->console_fd < 0)
        return vessel_error_set(err, 0, "process.terminal is true: --console-socket is required when detached");
    if (!spec->process.terminal && o->console_socket != NULL)
        return vessel_error_set(err, 0, "--console-socket given but process.terminal is false");
    if (o->preserve_fds < 0 || o->preserve_fds > 4096)
        return vessel_error_set(err, 0, "--preserve-fds %d: out of range", o->preserve_fds);
    return 0;
}

static int txn_spawned(void *data, pid_t pid, char **state_json, struct vessel_error **err)
{
    struct create_txn *t = data;
    t->st.pid = pid;
    (void)pid_stat_read(pid, &t->st.pid_start_time, NULL);
    if (state_write(t->dirfd, &t->st, err) < 0)
        return vessel_error_code(*err);
    return state_to_oci_json(&t->st, state_json, err);
}

static int txn_runtime_hooks(void *data, pid_t pid, struct vessel_error **err)
{
    struct create_txn *t = data;
    (void)pid;
    _cleanup_free_ char *json = NULL;
    if (state_to_oci_json(&t->st, &json, err) < 0)
        return vessel_error_code(*err);
    const struct oci_hooks *h = &t->spec->hooks;
    if (hooks_run(h->prestart, h->prestart_len, "prestart", json, err) < 0 ||
        hooks_run(h->create_runtime, h->create_runtime_len, "createRuntime", json, err) < 0)
        return vessel_error_code(*err);
    return 0;
}

static void txn_unwind(struct create_txn *t)
{
    struct vessel_error *ignored = NULL;
    if (t->cgroup_created)
        (void)cgroup_destroy(t->cgroup_path, &ignored);
    vessel_error_free(ignored);
    ignored = NULL;
    if (t->dir_claimed)
        (void)state_dir_remove(t->root, t->id, &ignored);
    vessel_error_free(ignored);
}

static int write_pid_file(const char *path, pid_t pid, struct vessel_error **err)
{
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%d", (int)pid);
    if (write_file_atomic(path, buf, (size_t)n, 0644, err) < 0)
        return vessel_error_wrap(err, "--pid-file");
    return 0;
}

static int txn_run(struct create_txn *t, const struct vessel_globals *g, const struct container_create_opts *o,
                   const char *config, size_t config_len, const char *bundle, const char *rootfs, pid_t *pid,
                   int *pidfd, struct vessel_error **err)
{
    const struct oci_spec *spec = t->spec;
    enum isolation_mode mode;
    if (isolation_select(g, spec, &mode, err) < 0)
        return vessel_error_code(*err);
    if (cgroup_resolve_path(spec->linux_.cgroups_path, o->id, &t->cgroup_path, err) < 0)
        return vessel_error_code(*err);
    _cleanup_close_ int console_fd = -1;
    if (o->console_socket) {
        console_fd = console_socket_connect(o->console_socket, err);
        if (console_fd < 0)
            return console_fd;
    }

    t->dirfd = state_dir_claim(g->root, o->id, err);
    if (t->dirfd < 0)
        return t->dirfd;
    t->dir_claimed = true;
    _cleanup_free_ char *created = timestamp_now();
    _cleanup_free_ char *state_dir = NULL, *fifo = NULL;
    if (asprintf(&state_dir, "%s/%s", g->root, o->id) < 0 ||
        asprintf(&fifo, "%s/%s", state_dir, STATE_EXEC_FIFO) < 0)
        return vessel_error_set(err, ENOMEM, "state paths");
    t->st = (struct container_state){
        .oci_version = spec->oci_version, .id = (char *)o->id, .status = STATUS_CREATING,
        .bundle = (char *)bundle, .rootfs = (char *)rootfs, .created = created,
        .owner = (char *)owner_name(), .annotations = spec->annotations,
        .annotations_len = spec->annotations_len, .cgroup_path = t->cgroup_path,
        .isolation = (char *)isolation_name(mode), .systemd_cgroup = g->systemd_cgroup,
    };
    /* Recorded before anything else exists, so delete --force finds it all. */
    if (state_write(t->dirfd, &t->st, err) < 0)
        return vessel_error_code(*err);
    if (write_file_at(t->dirfd, STATE_CONFIG_FILE, config, config_len, 0600, err) < 0)
        return vessel_error_code(*err);
    /* 0622 despite the umask: the init opens it after switching to the container's user. */
    if (mkfifoat(t->dirfd, STATE_EXEC_FIFO, 0622) < 0 || fchmodat(t->dirfd, STATE_EXEC_FIFO, 0622, 0) < 0)
        return vessel_error_set(err, errno, "mkfifo \"%s\"", fifo);
    test_crash_point("state-dir");

    /* The container executor needs the cgroup open for its init to enter. */
    struct cgroup_entry *entry = mode == ISOLATION_VM ? NULL : &t->cgroup_entry;
    if (cgroup_create_open(t->cgroup_path, &spec->linux_.resources, entry, err) < 0)
        return vessel_error_wrap(err, "create cgroup \"%s\"", t->cgroup_path);
    t->cgroup_created = true;
    test_crash_point("cgroup");

    struct create_request req = {
        .id = o->id, .bundle = bundle, .rootfs = rootfs, .state_dir = state_dir, .exec_fifo = fifo,
        .spec = spec, .console_socket = o->console_socket,
        .console_fd = console_fd >= 0 ? console_fd : o->console_fd, .preserve_fds = o->preserve_fds,
        .no_pivot = o->no_pivot, .no_new_keyring = o->no_new_keyring, .foreground = o->foreground,
        .debug = g->debug, .cgroup_path = t->cgroup_path,
    };
    if (mode == ISOLATION_VM) {
        if (vm_executor_create(&req, pid, err) < 0)
            return vessel_error_code(*err);
        char *ignored = NULL;
        int r = txn_spawned(t, *pid, &ignored, err);
        free(ignored);
        if (r < 0)
            return r;
        *pidfd = state_pidfd_open(&t->st);
    } else {
        struct linux_executor_ops ops = {.data = t, .spawned = txn_spawned, .runtime_hooks = txn_runtime_hooks};
        struct linux_create_params p = {
            .req = &req, .config = config, .config_len = config_len,
            .console_fd = req.console_fd,
            .listen_fds = fds_listen_count(), .ops = &ops, .cgroup = &t->cgroup_entry,
        };
        if (linux_executor_create(&p, pid, pidfd, err) < 0)
            return vessel_error_code(*err);
    }
    t->st.status = STATUS_CREATED;
    if (state_write(t->dirfd, &t->st, err) < 0 || (o->pid_file && write_pid_file(o->pid_file, *pid, err) < 0)) {
        (void)kill(*pid, SIGKILL);
        return vessel_error_code(*err);
    }
    return 0;
}

int container_create(const struct vessel_globals *g, const struct container_create_opts *o, pid_t *pid,
                     int *pidfd, struct vessel_error **err)
{
    if (container_id_validate(o->id, err) < 0)
        return vessel_error_code(*err);
    char bundle[PATH_MAX];
    if (realpath(o->bundle ? o->bundle : ".", bundle) == NULL)
        return vessel_error_set(err, errno, "bundle \"%s\"", o->bundle ? o->bundle : ".");
    _cleanup_free_ char *config = NULL;
    size_t config_len = 0;
    _cleanup_spec_ struct oci_spec *spec = NULL;
    if (read_config(bundle, &config, &config_len, err) < 0)
        return vessel_error_code(*err);
    if (spec_parse(config, config_len, &spec, err) < 0)
        return vessel_error_wrap(err, "%s/config.json", bundle);
    _cleanup_free_ char *rootfs = NULL;
    const char *rp = spec->has_root && spec->root.path ? spec->root.path : "rootfs";
    if (rp[0] == '/' ? (rootfs = strdup(rp)) == NULL : asprintf(&rootfs, "%s/%s", bundle, rp) < 0)
        return vessel_error_set(err, ENOMEM, "rootfs path");
    if (validate(o, spec, rootfs, err) < 0)
        return vessel_error_code(*err);

    struct create_txn t = {.root = g->root, .id = o->id, .dirfd = -1, .spec = spec};
    cgroup_entry_init(&t.cgroup_entry);
    int r = txn_run(&t, g, o, config, config_len, bundle, rootfs, pid, pidfd, err);
    cgroup_entry_close(&t.cgroup_entry);
    if (r < 0)
        txn_unwind(&t);
    if (t.dirfd >= 0)
        close(t.dirfd);
    free(t.cgroup_path);
    return r;
}
