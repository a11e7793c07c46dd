/* The guest init's bring-up steps (runtime/guest_boot.c), used by runtime/guest_init.c. */
#ifndef VESSEL_RUNTIME_GUEST_BOOT_H
#define VESSEL_RUNTIME_GUEST_BOOT_H

#include <stdbool.h>
#include <stddef.h>

#include "oci/spec.h"

#define GUEST_BUNDLE "/bundle"
#define GUEST_WAIT_MS 15000  /* for devices to appear after the modules load */

extern bool guest_debug;  /* vessel.debug=1 on the kernel command line */
/* vessel.autostart=1: start the workload once created and take its stdin as empty,
 * without waiting for the host (bench/vm.sh boots the guest alone with it). */
extern bool guest_autostart;

/* With vessel.debug=1: a line in the kernel log (the serial console under --debug). */
void guest_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void guest_power_off(void);
/* /proc, /sys, /dev (devtmpfs), /dev/pts, /run, /tmp, cgroup2; fds 0-2 on /dev/null. */
void guest_mount_base(void);
/* vessel.id=ID, vessel.debug=1 (sets guest_debug), vessel.autostart=1 (sets
 * guest_autostart), vessel.poweroff=1. */
void guest_cmdline(char *id, size_t size, bool *poweroff);
/* finit_module every path in /lib/modules/$(uname -r)/load-order. On failure msg says why. */
int guest_load_modules(char *msg, size_t size);
/* The /dev node of the virtio-console port with this name, waiting for it; -1 if none. */
int guest_open_port(const char *name, int flags);
/* open(), waiting for the path to appear. */
int guest_open_wait(const char *path, int flags);
void guest_set_raw(int fd);
/* /dev/vda (ext4) on the spec's root.path below /bundle, read-only for root.readonly. */
int guest_mount_rootfs(const struct oci_spec *spec, char *msg, size_t size);

#endif
