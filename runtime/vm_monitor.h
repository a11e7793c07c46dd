/* The host side of a running micro-VM container: the process that is the
 * container's pid. It runs the backend (QEMU as a child, or the builtin VMM in
 * its own threads), relays stdio, forwards signals, releases the workload on
 * `start`, and exits with the workload's status. */
#ifndef VESSEL_RUNTIME_VM_MONITOR_H
#define VESSEL_RUNTIME_VM_MONITOR_H

#include <stdbool.h>

#include "common/error.h"
#include "runtime/executor.h"
#include "runtime/vm_options.h"

struct vm_launch {
    const struct create_request *req;
    const struct vm_options *opts;
    const char *disk;            /* rootfs image */
    const char *disk_format;     /* "raw", or vm.image.format */
    bool disk_readonly;
    const char *initrd;          /* per-container initramfs */
    const char *cmdline;         /* guest kernel command line */
    int con, ctl, err;           /* monitor ends of: console port 0, vessel.ctl, vessel.err */
    int guest_con, guest_ctl, guest_err;  /* backend ends of the same sockets */
    int sync_fd;                 /* to the creating process: PROTO_CREATED or PROTO_ERROR */
    int console_conn;            /* a connection to --console-socket the caller already made, or -1 */
};

/* Runs in the freshly forked monitor; never returns. */
_Noreturn void vm_monitor_run(struct vm_launch *l);

/* Builtin backend: create the VM with its devices and run it on a thread of this
 * process; when the guest ends a byte is written to done_fd and *exit_detail holds why. */
int vm_builtin_start(const struct vm_launch *l, int done_fd, char *exit_detail, size_t size,
                     struct vessel_error **err);

#endif
