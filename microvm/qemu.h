/* The qemu backend: a `qemu-system-x86_64 -M microvm` command line for a vessel
 * guest, and spawning it as a child that dies with its parent. */
#ifndef VESSEL_MICROVM_QEMU_H
#define VESSEL_MICROVM_QEMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

/* Inside the QEMU process the three sockets sit at these fds. */
#define QEMU_FD_CONSOLE 3
#define QEMU_FD_CTL 4
#define QEMU_FD_ERR 5

struct qemu_config {
    const char *qemu_path;
    bool kvm;                       /* -accel kvm -cpu host, else -accel tcg -cpu max */
    uint64_t memory_mib;
    uint32_t vcpus;
    const char *kernel;             /* ELF vmlinux (PVH) or bzImage */
    const char *initrd;
    const char *cmdline;
    const char *disk;               /* rootfs image */
    const char *disk_format;        /* "raw" unless vm.image.format says otherwise */
    bool disk_readonly;
    int console_fd;                 /* host ends (sockets) of: virtconsole port 0, */
    int ctl_fd;                     /* the vessel.ctl port, */
    int err_fd;                     /* the vessel.err port (workload stderr) */
    int serial_fd;                  /* -1: no serial port; else the guest's ttyS0 goes here */
    char *const *extra_args;        /* vm.hypervisor.parameters, appended verbatim */
    size_t extra_len;
};

/* The argument vector (NULL-terminated, heap-allocated) with the sockets named by
 * their in-child fd numbers (QEMU_FD_*). Free with qemu_argv_free. */
int qemu_build_argv(const struct qemu_config *cfg, char ***argv, struct vessel_error **err);
void qemu_argv_free(char **argv);

/* Fork and exec QEMU: stdin /dev/null, stdout the serial sink (or /dev/null), stderr
 * stderr_fd, exactly fds 0-5 open, signal mask cleared, PR_SET_PDEATHSIG(SIGKILL) so
 * QEMU never outlives the calling process. */
int qemu_spawn(const struct qemu_config *cfg, int stderr_fd, pid_t *pid, struct vessel_error **err);

#endif
