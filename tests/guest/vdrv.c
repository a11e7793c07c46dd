/* Test guest virtio-mmio driver (see vdrv.h). */
#include "vdrv.h"

#define WAIT_READS 400000u

bool vdev_begin(struct vdev *d, uint64_t want)
{
    vd_w(d, R_STATUS, 0);
    if (vd_r(d, R_STATUS) != 0)
        return false;
    vd_w(d, R_STATUS, S_ACK);
    vd_w(d, R_STATUS, S_ACK | S_DRIVER);
    vd_w(d, R_DEV_FEATURES_SEL, 0);
    uint64_t dev = vd_r(d, R_DEV_FEATURES);
    vd_w(d, R_DEV_FEATURES_SEL, 1);
    dev |= (uint64_t)vd_r(d, R_DEV_FEATURES) << 32;
    if ((dev & F_VERSION_1) == 0)
        return false;
    d->features = (dev & want) | F_VERSION_1;
    vd_w(d, R_DRV_FEATURES_SEL, 0);
    vd_w(d, R_DRV_FEATURES, (uint32_t)d->features);
    vd_w(d, R_DRV_FEATURES_SEL, 1);
    vd_w(d, R_DRV_FEATURES, (uint32_t)(d->features >> 32));
    vd_w(d, R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
    return (vd_r(d, R_STATUS) & S_FEATURES_OK) != 0;
}

bool vq_setup(struct vdev *d, struct gvq *q, unsigned index)
{
    memset(q, 0, sizeof(*q));
    q->index = index;
    vd_w(d, R_QUEUE_SEL, index);
    if (vd_r(d, R_QUEUE_READY) != 0 || vd_r(d, R_QUEUE_NUM_MAX) < VQ_SIZE)
        return false;
    vd_w(d, R_QUEUE_NUM, VQ_SIZE);
    uint64_t desc = (uintptr_t)q->desc, avail = (uintptr_t)&q->avail, used = (uintptr_t)&q->used;
    vd_w(d, R_DESC_LO, (uint32_t)desc);
    vd_w(d, R_DESC_HI, (uint32_t)(desc >> 32));
    vd_w(d, R_DRIVER_LO, (uint32_t)avail);
    vd_w(d, R_DRIVER_HI, (uint32_t)(avail >> 32));
    vd_w(d, R_DEVICE_LO, (uint32_t)used);
    vd_w(d, R_DEVICE_HI, (uint32_t)(used >> 32));
    vd_w(d, R_QUEUE_READY, 1);
    return vd_r(d, R_QUEUE_READY) == 1;
}

void vdev_driver_ok(struct vdev *d)
{
    vd_w(d, R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
}

void vq_post(struct vdev *d, struct gvq *q, uint16_t head, bool notify)
{
    volatile uint16_t *idx = &q->avail.idx;
    q->avail.ring[*idx % VQ_SIZE] = head;
    barrier_full();
    *idx = (uint16_t)(*idx + 1);
    barrier_full();
    if (notify)
        vd_w(d, R_QUEUE_NOTIFY, q->index);
}

void vq_submit_at(struct vdev *d, struct gvq *q, unsigned first, const struct gbuf *b, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        struct vdesc *e = &q->desc[first + i];
        e->addr = (uintptr_t)b[i].addr;
        e->len = b[i].len;
        e->flags = (uint16_t)((b[i].write ? D_WRITE : 0) | (i + 1 < n ? D_NEXT : 0));
        e->next = (uint16_t)(first + i + 1);
    }
    vq_post(d, q, (uint16_t)first, true);
}

enum wait_result vq_wait(struct vdev *d, struct gvq *q, uint32_t *id, uint32_t *len)
{
    volatile uint16_t *used_idx = &q->used.idx;
    for (unsigned i = 0; i < WAIT_READS; i++) {
        if (*used_idx != q->last_used) {
            barrier_full();
            unsigned slot = q->last_used % VQ_SIZE;
            if (id != 0)
                *id = q->used.ring[slot].id;
            if (len != 0)
                *len = q->used.ring[slot].len;
            q->last_used++;
            return WAIT_USED;
        }
        if (vd_r(d, R_STATUS) & S_NEEDS_RESET)
            return WAIT_BROKEN;
        cpu_relax();
    }
    return WAIT_TIMEOUT;
}

void vdev_spin(struct vdev *d, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        (void)vd_r(d, R_MAGIC);
}
