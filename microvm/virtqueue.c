/* Split virtqueues on the device side. The guest may rewrite its rings at any moment,
 * so every field is read once into a local and checked before use. */
#include <errno.h>
#include <string.h>

#include "microvm/virtqueue.h"
#include "microvm/vm.h"

int virtq_enable(struct virtq *vq, struct vm *vm, uint16_t size, uint64_t desc_gpa, uint64_t avail_gpa,
                 uint64_t used_gpa, bool event_idx, bool indirect)
{
    virtq_disable(vq);
    if (size == 0 || (size & (size - 1)) != 0)
        return -EINVAL;
    if ((desc_gpa & 15) != 0 || (avail_gpa & 1) != 0 || (used_gpa & 3) != 0)
        return -EINVAL;
    /* The event-index trailers are mapped whether or not they are used. */
    void *desc = vm_guest_ptr(vm, desc_gpa, (uint64_t)size * sizeof(struct virtq_desc));
    void *avail = vm_guest_ptr(vm, avail_gpa, 6 + 2 * (uint64_t)size);
    void *used = vm_guest_ptr(vm, used_gpa, 6 + 8 * (uint64_t)size);
    if (desc == NULL || avail == NULL || used == NULL)
        return -EFAULT;
    vq->vm = vm;
    vq->desc = desc;
    vq->avail = avail;
    vq->used = used;
    vq->avail_event = (volatile uint16_t *)((char *)used + 4 + 8 * (size_t)size);
    vq->event_idx = event_idx;
    vq->indirect = indirect;
    vq->last_avail = 0;
    vq->used_idx = 0;
    vq->signalled_used = 0;
    vq->signalled_used_valid = false;
    vq->size = size;
    return 0;
}

void virtq_disable(struct virtq *vq)
{
    memset(vq, 0, sizeof(*vq));
}

static void desc_load(const volatile struct virtq_desc *table, uint32_t i, struct virtq_desc *d)
{
    d->addr = table[i].addr;
    d->len = table[i].len;
    d->flags = table[i].flags;
    d->next = table[i].next;
}

/* Add one non-indirect descriptor's buffer to the chain. */
static int chain_add(struct virtq *vq, struct virtq_chain *chain, const struct virtq_desc *d)
{
    bool writable = (d->flags & VIRTQ_DESC_F_WRITE) != 0;
    if (!writable && chain->n_in > 0)
        return -EINVAL; /* readable buffers must all come before writable ones */
    if (d->len == 0)
        return 0;
    if (chain->n_out + chain->n_in >= VIRTQ_CHAIN_MAX)
        return -E2BIG;
    void *p = vm_guest_ptr(vq->vm, d->addr, d->len);
    if (p == NULL)
        return -EFAULT;
    struct iovec *iov = &chain->iov[chain->n_out + chain->n_in];
    iov->iov_base = p;
    iov->iov_len = d->len;
    if (writable) {
        chain->n_in++;
        chain->in_len += d->len;
    } else {
        chain->n_out++;
        chain->out_len += d->len;
    }
    return 0;
}

/* Walk an indirect table; its entries may not be indirect themselves. A table may hold
 * more entries than the queue has (drivers size it by segments), so a loop is caught by
 * counting against the table's own length. */
static int chain_add_indirect(struct virtq *vq, struct virtq_chain *chain, const struct virtq_desc *d)
{
    if (!vq->indirect || (d->flags & VIRTQ_DESC_F_NEXT) != 0)
        return -EINVAL;
    if (d->len == 0 || d->len % sizeof(struct virtq_desc) != 0)
        return -EINVAL;
    uint32_t count = d->len / sizeof(struct virtq_desc);
    if (count > VIRTQ_CHAIN_MAX)
        return -E2BIG;
    const volatile struct virtq_desc *table = vm_guest_ptr(vq->vm, d->addr, d->len);
    if (table == NULL)
        return -EFAULT;
    uint32_t i = 0;
    for (uint32_t seen = 0;; seen++) {
        if (seen >= count)
            return -ELOOP;
        struct virtq_desc e;
        desc_load(table, i, &e);
        if ((e.flags & VIRTQ_DESC_F_INDIRECT) != 0)
            return -EINVAL;
        int r = chain_add(vq, chain, &e);
        if (r < 0)
            return r;
        if ((e.flags & VIRTQ_DESC_F_NEXT) == 0)
            return 0;
        if (e.next >= count)
            return -EINVAL;
        i = e.next;
    }
}

int virtq_pop(struct virtq *vq, struct virtq_chain *chain)
{
    if (!virtq_enabled(vq))
        return 0;
    uint16_t pending = (uint16_t)(vq->avail->idx - vq->last_avail);
    if (pending == 0 && vq->event_idx) {
        /* Ask for a notification at the next buffer (avail_event), then look again
         * in case the driver added one before it could see the request. */
        *vq->avail_event = vq->last_avail;
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        pending = (uint16_t)(vq->avail->idx - vq->last_avail);
    }
    if (pending == 0)
        return 0;
    if (pending > vq->size)
        return -EINVAL;
    /* Read the ring entry only after seeing the index that published it. */
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    uint16_t head = vq->avail->ring[vq->last_avail % vq->size];
    vq->last_avail++;

    chain->head = head;
    chain->n_out = chain->n_in = 0;
    chain->out_len = chain->in_len = 0;
    if (head >= vq->size)
        return -EINVAL;

    /* A chain of direct descriptors is never longer than the queue: a loop ends here
     * instead of spinning. */
    unsigned budget = vq->size;
    uint16_t i = head;
    for (;;) {
        if (budget == 0)
            return -ELOOP;
        budget--;
        struct virtq_desc d;
        desc_load(vq->desc, i, &d);
        int r;
        if ((d.flags & VIRTQ_DESC_F_INDIRECT) != 0) {
            r = chain_add_indirect(vq, chain, &d);
            return r < 0 ? r : 1;
        }
        r = chain_add(vq, chain, &d);
        if (r < 0)
            return r;
        if ((d.flags & VIRTQ_DESC_F_NEXT) == 0)
            return 1;
        if (d.next >= vq->size)
            return -EINVAL;
        i = d.next;
    }
}

bool virtq_has_avail(struct virtq *vq)
{
    if (!virtq_enabled(vq))
        return false;
    if (vq->avail->idx != vq->last_avail)
        return true;
    if (!vq->event_idx)
        return false;
    /* Nothing there: with event indexes the driver kicks only when asked to, so ask for
     * a kick at the next buffer, then look again in case it came in meanwhile. */
    *vq->avail_event = vq->last_avail;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return vq->avail->idx != vq->last_avail;
}

void virtq_unpop(struct virtq *vq)
{
    vq->last_avail--;
}

void virtq_push(struct virtq *vq, uint16_t head, uint32_t written)
{
    if (!virtq_enabled(vq))
        return;
    volatile struct virtq_used_elem *e = &vq->used->ring[vq->used_idx % vq->size];
    e->id = head;
    e->len = written;
    /* The element must be visible before the index that publishes it. */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    vq->used_idx++;
    vq->used->idx = vq->used_idx;
    vq->pushed = true;
}

bool virtq_should_interrupt(struct virtq *vq)
{
    if (!virtq_enabled(vq))
        return false;
    /* Our used->idx store must be ordered before reading the driver's flags/event. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (!vq->pushed)
        return false; /* nothing new since the last decision */
    vq->pushed = false;
    uint16_t old = vq->signalled_used;
    uint16_t now = vq->used_idx;
    bool valid = vq->signalled_used_valid;
    vq->signalled_used = now;
    vq->signalled_used_valid = true;
    if (!vq->event_idx)
        return (vq->avail->flags & VIRTQ_AVAIL_F_NO_INTERRUPT) == 0;
    if (!valid)
        return true;
    uint16_t used_event = vq->avail->ring[vq->size];
    /* vring_need_event: did used idx step past used_event since the last interrupt? */
    return (uint16_t)(now - used_event - 1) < (uint16_t)(now - old);
}

/* Copy between `buf` and iov[0..n) starting `offset` bytes in; to_iov picks the direction. */
static size_t iov_copy(const struct iovec *iov, unsigned n, size_t offset, void *buf, size_t len, bool to_iov)
{
    size_t done = 0;
    for (unsigned k = 0; k < n && done < len; k++) {
        if (offset >= iov[k].iov_len) {
            offset -= iov[k].iov_len;
            continue;
        }
        size_t c = iov[k].iov_len - offset;
        if (c > len - done)
            c = len - done;
        char *g = (char *)iov[k].iov_base + offset;
        if (to_iov)
            memcpy(g, (char *)buf + done, c);
        else
            memcpy((char *)buf + done, g, c);
        done += c;
        offset = 0;
    }
    return done;
}

size_t virtq_chain_read(const struct virtq_chain *chain, size_t offset, void *dst, size_t len)
{
    return iov_copy(chain->iov, chain->n_out, offset, dst, len, false);
}

size_t virtq_chain_write(const struct virtq_chain *chain, size_t offset, const void *src, size_t len)
{
    return iov_copy(&chain->iov[chain->n_out], chain->n_in, offset, (void *)src, len, true);
}

void virtq_iov_advance(struct iovec **iov, unsigned *n, size_t done)
{
    while (*n > 0 && done >= (*iov)->iov_len) {
        done -= (*iov)->iov_len;
        (*iov)++, (*n)--;
    }
    if (*n > 0) {
        (*iov)->iov_base = (char *)(*iov)->iov_base + done;
        (*iov)->iov_len -= done;
    }
}
