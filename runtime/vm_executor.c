/* vm_executor_create (runtime/executor.h): decide, build the images, fork the
 * monitor and wait until the guest reports the container created (or why not). */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/log.h"
#include "microvm/protocol.h"
#include "runtime/executor.h"
#include "runtime/vm_images.h"
#include "runtime/vm_monitor.h"
#include "runtime/vm_options.h"

/* The host's TSC rate, so a TCG guest need not calibrate it (calibration against
 * the PIT fails on a busy host and the boot hangs). */
static unsigned long host_tsc_khz(void)
{
    _cleanup_fclose_ FILE *f = fopen("/proc/cpuinfo", "re");
    char line[256];
    double mhz = 0;
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "cpu MHz : %lf", &mhz) == 1 || sscanf(line, "cpu MHz\t: %lf", &mhz) == 1)
            break;
    return mhz >= 100 && mhz < 100000 ? (unsigned long)(mhz * 1000) : 2000000;
}

/* First on every backend's kernel command line (so vm.kernel.parameters, which come last,
 * can undo them): skip the crypto self-tests the guest kernel runs at boot (every algorithm
 * registered by then, and the SP800-108 KDF's own test, whose init does nothing else). They
 * cost about 0.7 s under TCG and guard against miscompiled crypto, not against the workload.
 * Hardening (mitigations, init_on_alloc, rodata) is left as the distribution set it. */
#define VM_BOOT_PARAMS "cryptomgr.notests initcall_blacklist=crypto_kdf108_init "

/* The guest kernel command line, one for both backends. */
static int build_cmdline(const struct create_request *req, const struct vm_options *o, char **out,
                         struct vessel_error **err)
{
    char *s = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&s, &len);
    if (f == NULL)
        return vessel_error_set(err, errno, "kernel command line");
    fputs(VM_BOOT_PARAMS, f);
    /* Port 0 carries the workload's stdout: only emergencies (a panic) may appear there. */
    if (req->debug)
        fprintf(f, "console=ttyS0 loglevel=7 vessel.debug=1");
    else
        fprintf(f, "console=hvc0 quiet loglevel=1");
    fprintf(f, " panic=-1 vessel.id=%s", req->id);
    if (o->backend == VM_BACKEND_QEMU && !o->kvm)
        fprintf(f, " tsc_early_khz=%lu", host_tsc_khz());
    const struct oci_vm *vm = &req->spec->vm;
    for (size_t i = 0; i < vm->kernel_parameters_len; i++)
        fprintf(f, " %s", vm->kernel_parameters[i]);
    if (fclose(f) != 0)
        return vessel_error_set(err, ENOMEM, "kernel command line");
    if (len > 2048) {
        free(s);
        return vessel_error_set(err, E2BIG, "vm.kernel.parameters: kernel command line longer than 2048 bytes");
    }
    *out = s;
    return 0;
}

static int read_config(const struct create_request *req, char **buf, size_t *len, struct vessel_error **err)
{
    _cleanup_free_ char *path = NULL;
    if (asprintf(&path, "%s/config.json", req->state_dir) < 0)
        return vessel_error_set(err, ENOMEM, "config path");
    if (access(path, R_OK) < 0) {
        free(path);
        if (asprintf(&path, "%s/config.json", req->bundle) < 0)
            return vessel_error_set(err, ENOMEM, "config path");
    }
    return read_file_at(AT_FDCWD, path, OCI_SPEC_MAX_FILE, buf, len, err);
}

static int make_images(const struct create_request *req, struct vm_launch *l, char **disk, char **initrd,
                       struct vessel_error **err)
{
    const struct oci_vm *vm = &req->spec->vm;
    if (vm->image_path != NULL) {
        if (access(vm->image_path, R_OK) < 0)
            return vessel_error_set(err, errno, "vm.image.path \"%s\"", vm->image_path);
        *disk = strdup(vm->image_path);
        l->disk_format = vm->image_format ? vm->image_format : "raw";
    } else {
        if (vm_image_rootfs(req->rootfs, req->state_dir, l->disk_readonly, disk, err) < 0)
            return vessel_error_code(*err);
        l->disk_format = "raw";
    }
    if (*disk == NULL)
        return vessel_error_set(err, ENOMEM, "image path");
    _cleanup_free_ char *config = NULL;
    size_t config_len = 0;
    if (read_config(req, &config, &config_len, err) < 0 ||
        vm_image_initrd(l->opts->assets.initrd, config, config_len, req->state_dir, initrd, err) < 0)
        return vessel_error_code(*err);
    return 0;
}

static void remove_images(const struct create_request *req, const char *disk, const char *initrd)
{
    if (disk && req->spec->vm.image_path == NULL)
        (void)unlink(disk);
    if (initrd)
        (void)unlink(initrd);
}

/* Wait for the monitor's verdict on the sync pipe. */
static int await_created(pid_t monitor, int sync_fd, struct vessel_error **err)
{
    struct proto_reader r;
    static struct proto_msg msg;
    proto_reader_init(&r);
    struct vessel_error *e = NULL;
    if (proto_recv(sync_fd, &r, &msg, &e) == 0 && msg.type == PROTO_CREATED) {
        vessel_error_free(e);
        return 0;
    }
    int status = 0;
    while (waitpid(monitor, &status, 0) < 0 && errno == EINTR)
        ;
    if (e == NULL && msg.type == PROTO_ERROR)
        return vessel_error_set(err, 0, "%s", (const char *)msg.payload);
    vessel_error_free(e);
    return vessel_error_set(err, 0, "micro-VM monitor ended during create (status %d)",
                            WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

int vm_executor_create(const struct create_request *req, pid_t *pid, struct vessel_error **err)
{
    struct vm_options opts;
    if (vm_options_resolve(req->spec, &opts, err) < 0)
        return vessel_error_wrap(err, "VM mode");
    if (req->debug)
        log_debug("VM mode: %s; %llu MiB, %u vCPU(s), kernel %s", opts.backend_reason,
                  (unsigned long long)opts.memory_mib, opts.vcpus, opts.assets.kernel);

    struct vm_launch l = {.req = req, .opts = &opts, .disk_readonly = req->spec->root.readonly,
                          .con = -1, .ctl = -1, .err = -1, .guest_con = -1, .guest_ctl = -1,
                          .guest_err = -1, .sync_fd = -1, .console_conn = req->console_fd};
    _cleanup_free_ char *disk = NULL, *initrd = NULL, *cmdline = NULL;
    int sv[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}}, sync[2] = {-1, -1};
    int rc = -1;
    if (build_cmdline(req, &opts, &cmdline, err) < 0 || make_images(req, &l, &disk, &initrd, err) < 0)
        goto out;
    for (int i = 0; i < 3; i++)
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv[i]) < 0) {
            vessel_error_set(err, errno, "socketpair");
            goto out;
        }
    if (pipe2(sync, O_CLOEXEC) < 0) {
        vessel_error_set(err, errno, "pipe");
        goto out;
    }
    l.disk = disk;
    l.initrd = initrd;
    l.cmdline = cmdline;
    l.con = sv[0][0], l.guest_con = sv[0][1];
    l.ctl = sv[1][0], l.guest_ctl = sv[1][1];
    l.err = sv[2][0], l.guest_err = sv[2][1];
    l.sync_fd = sync[1];
    if (req->debug)
        log_debug("VM mode: kernel command line: %s", cmdline);
    pid_t child = fork();
    if (child < 0) {
        vessel_error_set(err, errno, "fork the micro-VM monitor");
        goto out;
    }
    if (child == 0)
        vm_monitor_run(&l);
    close(sync[1]);
    sync[1] = -1;
    rc = await_created(child, sync[0], err);
    if (rc == 0)
        *pid = child;
out:
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 2; j++)
            if (sv[i][j] >= 0)
                close(sv[i][j]);
    if (sync[0] >= 0)
        close(sync[0]);
    if (sync[1] >= 0)
        close(sync[1]);
    if (rc < 0) {
        remove_images(req, disk, initrd);
        (void)vessel_error_wrap(err, "VM mode");
    }
    vm_options_release(&opts);
    return rc < 0 ? vessel_error_code(*err) : 0;
}
