/* Split virtqueues (virtio 1.x) on the device side: ring set-up, descriptor chains
 * walked with every guest address checked, used ring updates, interrupt suppression. */
#ifndef VESSEL_MICROVM_VIRTQUEUE_H
#define VESSEL_MICROVM_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct vm;

#define VIRTQ_MAX_SIZE 32768
/* Most buffers one chain may carry (direct and indirect descriptors counted together). */
#define VIRTQ_CHAIN_MAX 256

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY 1

/* Guest-visible layouts (little-endian; this VMM only runs on x86_64). */
struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};
struct virtq_avail {
    uint16_t flags;
    uint16_t idx;
    uint16_t ring[]; /* then uint16_t used_event */
};
struct virtq_used_elem {
    uint32_t id;
    uint32_t len;
};
struct virtq_used {
    uint16_t flags;
    uint16_t idx;
    struct virtq_used_elem ring[]; /* then uint16_t avail_event */
};

struct virtq {
    struct vm *vm;
    uint16_t size;  /* 0 while the queue is not enabled */
    bool event_idx; /* VIRTIO_F_EVENT_IDX negotiated */
    bool indirect;  /* VIRTIO_F_INDIRECT_DESC negotiated */
    volatile struct virtq_desc *desc;
    volatile struct virtq_avail *avail;
    volatile struct virtq_used *used;
    volatile uint16_t *avail_event; /* trailer of the used ring */
    uint16_t last_avail;            /* next avail ring slot the device reads */
    uint16_t used_idx;              /* device's copy of used->idx */
    uint16_t signalled_used;        /* used idx at the last interrupt decision */
    bool signalled_used_valid;
    bool pushed; /* used entries added since the last decision */
};

/* One popped descriptor chain: device-readable buffers first (iov[0..n_out)), then
 * device-writable ones (iov[n_out..n_out+n_in)). Zero-length descriptors are skipped. */
struct virtq_chain {
    uint16_t head;
    unsigned n_out, n_in;
    uint64_t out_len, in_len;
    struct iovec iov[VIRTQ_CHAIN_MAX];
};

/* Check and map the three rings (sizes, alignment, inside guest RAM) and start at index 0.
 * size must be a power of two in 1..VIRTQ_MAX_SIZE. Returns 0 or -EINVAL / -EFAULT;
 * vq is left disabled on failure. */
int virtq_enable(struct virtq *vq, struct vm *vm, uint16_t size, uint64_t desc_gpa, uint64_t avail_gpa,
                 uint64_t used_gpa, bool event_idx, bool indirect);
void virtq_disable(struct virtq *vq);
static inline bool virtq_enabled(const struct virtq *vq)
{
    return vq->size != 0;
}

/* Take the next available chain. Returns 1 with *chain filled, 0 when the ring is empty,
 * or a negative errno when the guest broke the ring or the chain (the device should then
 * mark itself broken): -EINVAL (bad index, flags or indirect table), -EFAULT (buffer
 * outside guest RAM or length overflow), -ELOOP (loop or chain longer than allowed),
 * -E2BIG (more than VIRTQ_CHAIN_MAX buffers). */
int virtq_pop(struct virtq *vq, struct virtq_chain *chain);

/* Whether the driver has made buffers available that were not popped yet. When not (and
 * VIRTIO_F_EVENT_IDX is on) it asks the driver to notify at the next buffer. */
bool virtq_has_avail(struct virtq *vq);
/* Give back the chain popped last (not yet pushed): it is popped again next time. */
void virtq_unpop(struct virtq *vq);

/* Put a chain back in the used ring with `written` bytes written to its writable part. */
void virtq_push(struct virtq *vq, uint16_t head, uint32_t written);

/* Whether the driver wants an interrupt for what was pushed since the last one
 * (VIRTQ_AVAIL_F_NO_INTERRUPT or used_event). Call after a batch of virtq_push. */
bool virtq_should_interrupt(struct virtq *vq);

/* Copy helpers over a chain's readable / writable buffers. Return bytes copied. */
size_t virtq_chain_read(const struct virtq_chain *chain, size_t offset, void *dst, size_t len);
size_t virtq_chain_write(const struct virtq_chain *chain, size_t offset, const void *src, size_t len);

/* Drop the first `done` bytes of iov[0..*n) after a short readv/writev: whole entries
 * are skipped, a partly done one is trimmed in place. */
void virtq_iov_advance(struct iovec **iov, unsigned *n, size_t done);

#endif
