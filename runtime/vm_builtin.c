/* The builtin backend for VM mode: our own VMM (microvm/vm.h) run in the
 * monitor process, with the same three console sockets as the qemu backend. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "microvm/protocol.h"
#include "microvm/virtio.h"
#include "microvm/vm.h"
#include "runtime/vm_monitor.h"

struct builtin_run {
    struct vm *vm;
    int done_fd;
    char *detail;
    size_t size;
};

static void *builtin_thread(void *arg)
{
    struct builtin_run *b = arg;
    struct vm_exit ex = {0};
    struct vessel_error *e = NULL;
    if (vm_run(b->vm, &ex, &e) < 0)
        snprintf(b->detail, b->size, "%s", e->msg);
    else if (ex.reason != VM_EXIT_POWEROFF)
        snprintf(b->detail, b->size, "%s%s%.200s", vm_exit_reason_name(ex.reason), ex.detail[0] ? ": " : "",
                 ex.detail);
    vessel_error_free(e);
    (void)!write(b->done_fd, "x", 1);
    return NULL;
}

int vm_builtin_start(const struct vm_launch *l, int done_fd, char *exit_detail, size_t size,
                     struct vessel_error **err)
{
    static struct builtin_run b;  /* one VM per monitor process, alive until it exits */
    struct vm_config cfg = {
        .kernel_path = l->opts->assets.kernel, .initrd_path = l->initrd, .cmdline = l->cmdline,
        .memory_mib = l->opts->memory_mib, .vcpus = l->opts->vcpus, .serial_fd = l->req->debug ? 2 : -1,
    };
    if (vm_create(&cfg, &b.vm, err) < 0)
        return vessel_error_code(*err);
    const struct virtio_console_port ports[] = {{PROTO_NAME, l->guest_ctl}, {PROTO_STDERR_NAME, l->guest_err}};
    const struct virtio_console_config con = {.in_fd = l->guest_con, .out_fd = l->guest_con, .ports = ports,
                                              .nports = 2};
    if (virtio_blk_create(b.vm, l->disk, l->disk_readonly, err) < 0 ||
        virtio_console_create(b.vm, &con, err) < 0 || virtio_rng_create(b.vm, err) < 0)
        goto fail;
    b.done_fd = done_fd;
    b.detail = exit_detail;
    b.size = size;
    pthread_t t;
    int r = pthread_create(&t, NULL, builtin_thread, &b);
    if (r != 0) {
        vessel_error_set(err, r, "start the VM thread");
        goto fail;
    }
    pthread_detach(t);
    return 0;
fail:
    vm_destroy(b.vm);
    b.vm = NULL;
    return vessel_error_code(*err);
}
