/* Virtio devices of the builtin VMM: the constructors `vessel vmm` and the VM executor
 * call, and the virtio-mmio transport interface the device files implement. */
#ifndef VESSEL_MICROVM_VIRTIO_H
#define VESSEL_MICROVM_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "microvm/virtqueue.h"

struct vm;

/* ---- Devices ---- */

/* A named console port (e.g. "vessel.ctl"); fd is the bidirectional host end (a socket),
 * owned by the device from then on. */
struct virtio_console_port {
    const char *name;
    int fd;
};
#define VIRTIO_CONSOLE_MAX_PORTS 16 /* named ports, besides port 0 */

struct virtio_console_config {
    int in_fd;  /* port 0 (the console): guest input from here, -1 for none */
    int out_fd; /* port 0: guest output goes here, -1 to discard */
    const struct virtio_console_port *ports;
    size_t nports;
};

/* virtio-console (device id 3) with VIRTIO_CONSOLE_F_MULTIPORT. The fds stay open for the
 * life of the process (in_fd/out_fd are not closed: they may be the VMM's stdio). */
int virtio_console_create(struct vm *vm, const struct virtio_console_config *cfg, struct vessel_error **err);
/* virtio-blk (device id 2) on a raw image file; readonly offers VIRTIO_BLK_F_RO. */
int virtio_blk_create(struct vm *vm, const char *path, bool readonly, struct vessel_error **err);
/* virtio-rng (device id 4) fed by getrandom(2). */
int virtio_rng_create(struct vm *vm, struct vessel_error **err);

/* ---- Transport (virtio-mmio, version 2) for the device files ---- */

#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG 4

#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED 128

#define VIRTIO_MMIO_MAGIC 0x74726976  /* "virt" */
#define VIRTIO_MMIO_VENDOR 0x4c535356 /* "VSSL" */
#define VIRTIO_MMIO_INT_VRING 1
#define VIRTIO_MMIO_INT_CONFIG 2

/* Register offsets (virtio 1.x, 4.2.2). */
enum {
    VIRTIO_MMIO_MAGIC_VALUE = 0x000,
    VIRTIO_MMIO_VERSION = 0x004,
    VIRTIO_MMIO_DEVICE_ID = 0x008,
    VIRTIO_MMIO_VENDOR_ID = 0x00c,
    VIRTIO_MMIO_DEVICE_FEATURES = 0x010,
    VIRTIO_MMIO_DEVICE_FEATURES_SEL = 0x014,
    VIRTIO_MMIO_DRIVER_FEATURES = 0x020,
    VIRTIO_MMIO_DRIVER_FEATURES_SEL = 0x024,
    VIRTIO_MMIO_QUEUE_SEL = 0x030,
    VIRTIO_MMIO_QUEUE_NUM_MAX = 0x034,
    VIRTIO_MMIO_QUEUE_NUM = 0x038,
    VIRTIO_MMIO_QUEUE_READY = 0x044,
    VIRTIO_MMIO_QUEUE_NOTIFY = 0x050,
    VIRTIO_MMIO_INTERRUPT_STATUS = 0x060,
    VIRTIO_MMIO_INTERRUPT_ACK = 0x064,
    VIRTIO_MMIO_STATUS = 0x070,
    VIRTIO_MMIO_QUEUE_DESC_LOW = 0x080,
    VIRTIO_MMIO_QUEUE_DESC_HIGH = 0x084,
    VIRTIO_MMIO_QUEUE_DRIVER_LOW = 0x090,
    VIRTIO_MMIO_QUEUE_DRIVER_HIGH = 0x094,
    VIRTIO_MMIO_QUEUE_DEVICE_LOW = 0x0a0,
    VIRTIO_MMIO_QUEUE_DEVICE_HIGH = 0x0a4,
    VIRTIO_MMIO_CONFIG_GENERATION = 0x0fc,
    VIRTIO_MMIO_CONFIG = 0x100,
};
#define VIRTIO_MMIO_MAX_QUEUES 64
#define VIRTIO_MMIO_QUEUE_SIZE_MAX 256

struct virtio_mmio;

/* What a device tells the transport. Every callback runs with the device lock held
 * (virtio_mmio_lock); queue_notify and fd callbacks run on the VM's event-loop thread. */
struct virtio_device_ops {
    const char *name;
    uint32_t device_id;
    uint64_t features;   /* device-specific bits; the transport adds VERSION_1 etc. */
    unsigned num_queues; /* <= VIRTIO_MMIO_MAX_QUEUES */
    /* The driver made buffers available on queue q (only while DRIVER_OK and not broken). */
    void (*queue_notify)(void *opaque, unsigned q);
    /* The driver set DRIVER_OK (optional). */
    void (*driver_ok)(void *opaque);
    /* The driver reset the device (optional): drop device-side queue state. */
    void (*reset)(void *opaque);
};

/* Allocate a slot, register the MMIO window, wire interrupt and notifications.
 * config/config_size: the device's config space (read-only for the driver, little-endian);
 * the device may change it under the lock and call virtio_mmio_config_changed. */
int virtio_mmio_create(struct vm *vm, const struct virtio_device_ops *ops, void *opaque, void *config,
                       size_t config_size, struct virtio_mmio **out, struct vessel_error **err);

void virtio_mmio_lock(struct virtio_mmio *t);
void virtio_mmio_unlock(struct virtio_mmio *t);
struct vm *virtio_mmio_vm(struct virtio_mmio *t);

/* With the lock held: queue q when the driver has enabled it and the device is live
 * (DRIVER_OK, not broken); NULL otherwise. */
struct virtq *virtio_mmio_queue(struct virtio_mmio *t, unsigned q);
/* With the lock held: negotiated features. */
uint64_t virtio_mmio_features(struct virtio_mmio *t);
/* With the lock held: raise the used-buffer interrupt for q if the driver wants it. */
void virtio_mmio_queue_interrupt(struct virtio_mmio *t, unsigned q);
/* With the lock held: the driver broke the protocol; set DEVICE_NEEDS_RESET, stop all
 * queues until the next reset, and tell the driver with a config interrupt. */
void virtio_mmio_set_broken(struct virtio_mmio *t, const char *why);
bool virtio_mmio_broken(struct virtio_mmio *t);
/* With the lock held: bump the config generation and raise a config interrupt. */
void virtio_mmio_config_changed(struct virtio_mmio *t);

/* For tests: the register file as vCPUs see it. */
void virtio_mmio_read(void *opaque, uint64_t offset, void *data, uint32_t len);
void virtio_mmio_write(void *opaque, uint64_t offset, const void *data, uint32_t len);
/* For tests: why the device last broke ("" if never). */
const char *virtio_mmio_broken_reason(struct virtio_mmio *t);

#endif
