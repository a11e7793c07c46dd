/* Test guest virtio-mmio driver: device init and feature negotiation, split queues with
 * 16 entries in static memory (identity-mapped: addresses are guest-physical), requests
 * submitted one at a time and polled. */
#ifndef GUEST_VDRV_H
#define GUEST_VDRV_H

#include "lib.h"

#define VQ_SIZE 16

enum {
    R_MAGIC = 0x000,
    R_VERSION = 0x004,
    R_DEVICE_ID = 0x008,
    R_DEV_FEATURES = 0x010,
    R_DEV_FEATURES_SEL = 0x014,
    R_DRV_FEATURES = 0x020,
    R_DRV_FEATURES_SEL = 0x024,
    R_QUEUE_SEL = 0x030,
    R_QUEUE_NUM_MAX = 0x034,
    R_QUEUE_NUM = 0x038,
    R_QUEUE_READY = 0x044,
    R_QUEUE_NOTIFY = 0x050,
    R_INT_STATUS = 0x060,
    R_INT_ACK = 0x064,
    R_STATUS = 0x070,
    R_DESC_LO = 0x080,
    R_DESC_HI = 0x084,
    R_DRIVER_LO = 0x090,
    R_DRIVER_HI = 0x094,
    R_DEVICE_LO = 0x0a0,
    R_DEVICE_HI = 0x0a4,
    R_CONFIG = 0x100,
};
#define S_ACK 1
#define S_DRIVER 2
#define S_DRIVER_OK 4
#define S_FEATURES_OK 8
#define S_NEEDS_RESET 64
#define F_VERSION_1 (1ULL << 32)
#define D_NEXT 1
#define D_WRITE 2
#define D_INDIRECT 4

struct vdesc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

struct gvq {
    struct vdesc desc[VQ_SIZE] __attribute__((aligned(16)));
    struct {
        uint16_t flags, idx, ring[VQ_SIZE], used_event;
    } avail __attribute__((aligned(4)));
    struct {
        uint16_t flags, idx;
        struct {
            uint32_t id, len;
        } ring[VQ_SIZE];
        uint16_t avail_event;
    } used __attribute__((aligned(4)));
    uint16_t last_used;
    unsigned index;
};

struct vdev {
    uint64_t base;
    uint32_t irq;
    uint32_t id;
    uint32_t version;
    uint64_t features; /* negotiated */
};

struct gbuf {
    const void *addr;
    uint32_t len;
    bool write; /* device writes it */
};

enum wait_result { WAIT_USED, WAIT_BROKEN, WAIT_TIMEOUT };

static inline uint32_t vd_r(struct vdev *d, uint32_t off)
{
    return mmio_read32(d->base + off);
}
static inline void vd_w(struct vdev *d, uint32_t off, uint32_t v)
{
    mmio_write32(d->base + off, v);
}

/* Reset, ACKNOWLEDGE, DRIVER, offer (want & device features) | VERSION_1, FEATURES_OK.
 * False when the device refused. */
bool vdev_begin(struct vdev *d, uint64_t want);
/* Set up queue index with VQ_SIZE entries (zeroing q). False when the device refused. */
bool vq_setup(struct vdev *d, struct gvq *q, unsigned index);
void vdev_driver_ok(struct vdev *d);
/* Write a chain into descriptors [first, first+n) and make it available; notify. */
void vq_submit_at(struct vdev *d, struct gvq *q, unsigned first, const struct gbuf *b, unsigned n);
static inline void vq_submit(struct vdev *d, struct gvq *q, const struct gbuf *b, unsigned n)
{
    vq_submit_at(d, q, 0, b, n);
}
/* Make head available as it is in q->desc (hostile tests write descriptors directly). */
void vq_post(struct vdev *d, struct gvq *q, uint16_t head, bool notify);
/* Wait for the next used entry (bounded, by counting MMIO reads); sets *id, *len. */
enum wait_result vq_wait(struct vdev *d, struct gvq *q, uint32_t *id, uint32_t *len);
/* Spin for about n device register reads (gives the host time to act). */
void vdev_spin(struct vdev *d, unsigned n);

#endif
