/* The virtio-mmio transport (version 2, modern only): the register file vCPUs access,
 * feature negotiation, queue set-up, interrupts, and notifications routed to the
 * event-loop thread (through ioeventfd where KVM offers it, else from the MMIO write). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "microvm/virtio.h"
#include "microvm/vm.h"

struct mmio_queue {
    struct virtio_mmio *t;
    unsigned index;
    uint32_t num;
    uint64_t desc, driver, device;
    struct virtq vq;
    int notify_fd;   /* eventfd the loop thread waits on */
    bool kvm_notify; /* notify_fd is a KVM ioeventfd (guest writes never reach us) */
};

struct virtio_mmio {
    struct vm *vm;
    const struct virtio_device_ops *ops;
    void *opaque;
    pthread_mutex_t lock;
    uint64_t base;
    uint32_t gsi;
    int irq_fd;
    uint8_t *config;
    size_t config_size;
    uint32_t config_generation;
    uint64_t device_features;
    uint64_t driver_features;
    uint32_t device_features_sel;
    uint32_t driver_features_sel;
    uint32_t queue_sel;
    uint32_t status;
    uint32_t interrupt_status;
    bool broken;
    char broken_reason[128];
    struct mmio_queue queues[];
};

void virtio_mmio_lock(struct virtio_mmio *t)
{
    pthread_mutex_lock(&t->lock);
}

void virtio_mmio_unlock(struct virtio_mmio *t)
{
    pthread_mutex_unlock(&t->lock);
}

struct vm *virtio_mmio_vm(struct virtio_mmio *t)
{
    return t->vm;
}

static bool mmio_live(const struct virtio_mmio *t)
{
    return (t->status & VIRTIO_STATUS_DRIVER_OK) != 0 && !t->broken;
}

struct virtq *virtio_mmio_queue(struct virtio_mmio *t, unsigned q)
{
    if (q >= t->ops->num_queues || !mmio_live(t) || !virtq_enabled(&t->queues[q].vq))
        return NULL;
    return &t->queues[q].vq;
}

uint64_t virtio_mmio_features(struct virtio_mmio *t)
{
    return t->driver_features;
}

bool virtio_mmio_broken(struct virtio_mmio *t)
{
    return t->broken;
}

const char *virtio_mmio_broken_reason(struct virtio_mmio *t)
{
    return t->broken_reason;
}

static void mmio_raise(struct virtio_mmio *t, uint32_t bits)
{
    t->interrupt_status |= bits;
    uint64_t one = 1;
    /* A full eventfd counter still means "pending": nothing to do on EAGAIN. */
    (void)!write(t->irq_fd, &one, sizeof(one));
}

void virtio_mmio_queue_interrupt(struct virtio_mmio *t, unsigned q)
{
    if (q < t->ops->num_queues && virtq_should_interrupt(&t->queues[q].vq))
        mmio_raise(t, VIRTIO_MMIO_INT_VRING);
}

void virtio_mmio_set_broken(struct virtio_mmio *t, const char *why)
{
    if (t->broken)
        return;
    t->broken = true;
    snprintf(t->broken_reason, sizeof(t->broken_reason), "%s", why);
    t->status |= VIRTIO_STATUS_NEEDS_RESET;
    if ((t->status & VIRTIO_STATUS_DRIVER_OK) != 0)
        mmio_raise(t, VIRTIO_MMIO_INT_CONFIG);
}

void virtio_mmio_config_changed(struct virtio_mmio *t)
{
    t->config_generation++;
    if ((t->status & VIRTIO_STATUS_DRIVER_OK) != 0)
        mmio_raise(t, VIRTIO_MMIO_INT_CONFIG);
}

static void mmio_reset(struct virtio_mmio *t)
{
    t->status = 0;
    t->driver_features = 0;
    t->device_features_sel = 0;
    t->driver_features_sel = 0;
    t->queue_sel = 0;
    t->interrupt_status = 0;
    t->broken = false;
    for (unsigned q = 0; q < t->ops->num_queues; q++) {
        struct mmio_queue *mq = &t->queues[q];
        mq->num = 0;
        mq->desc = mq->driver = mq->device = 0;
        virtq_disable(&mq->vq);
    }
    if (t->ops->reset != NULL)
        t->ops->reset(t->opaque);
}

static void mmio_kick(struct mmio_queue *mq)
{
    uint64_t one = 1;
    (void)!write(mq->notify_fd, &one, sizeof(one));
}

static void mmio_status_write(struct virtio_mmio *t, uint32_t v)
{
    if (v == 0) {
        mmio_reset(t);
        return;
    }
    uint32_t old = t->status;
    v &= ~(uint32_t)VIRTIO_STATUS_NEEDS_RESET; /* only the device sets it */
    if ((v & VIRTIO_STATUS_FEATURES_OK) != 0 && (old & VIRTIO_STATUS_FEATURES_OK) == 0) {
        bool subset = (t->driver_features & ~t->device_features) == 0;
        bool modern = (t->driver_features & (1ULL << VIRTIO_F_VERSION_1)) != 0;
        if (!subset || !modern)
            v &= ~(uint32_t)VIRTIO_STATUS_FEATURES_OK; /* refused: the driver reads it back */
    }
    t->status = v | (old & VIRTIO_STATUS_NEEDS_RESET);
    if ((v & VIRTIO_STATUS_DRIVER_OK) != 0 && (old & VIRTIO_STATUS_DRIVER_OK) == 0) {
        if ((v & VIRTIO_STATUS_FEATURES_OK) == 0) {
            virtio_mmio_set_broken(t, "DRIVER_OK without FEATURES_OK");
            return;
        }
        if (t->ops->driver_ok != NULL)
            t->ops->driver_ok(t->opaque);
        /* Drivers often queue buffers (and kick) before DRIVER_OK; look at every queue. */
        for (unsigned q = 0; q < t->ops->num_queues; q++)
            if (virtq_enabled(&t->queues[q].vq))
                mmio_kick(&t->queues[q]);
    }
}

static void mmio_queue_ready_write(struct virtio_mmio *t, struct mmio_queue *mq, uint32_t v)
{
    if (v == 0) {
        virtq_disable(&mq->vq);
        return;
    }
    if (virtq_enabled(&mq->vq) || (t->status & VIRTIO_STATUS_FEATURES_OK) == 0)
        return;
    if (mq->num == 0 || mq->num > VIRTIO_MMIO_QUEUE_SIZE_MAX)
        return; /* stays not ready: the driver sees QueueReady 0 */
    bool event_idx = (t->driver_features & (1ULL << VIRTIO_F_EVENT_IDX)) != 0;
    bool indirect = (t->driver_features & (1ULL << VIRTIO_F_INDIRECT_DESC)) != 0;
    (void)virtq_enable(&mq->vq, t->vm, (uint16_t)mq->num, mq->desc, mq->driver, mq->device, event_idx,
                       indirect);
}

static void set_low(uint64_t *r, uint32_t v)
{
    *r = (*r & 0xffffffff00000000ULL) | v;
}

static void set_high(uint64_t *r, uint32_t v)
{
    *r = (*r & 0xffffffffULL) | ((uint64_t)v << 32);
}

/* One half of a queue's desc/driver/device address (each LOW register is 8-aligned, HIGH at +4). */
static void queue_addr_write(struct mmio_queue *mq, uint64_t off, uint32_t v)
{
    uint64_t *addr = off < VIRTIO_MMIO_QUEUE_DRIVER_LOW   ? &mq->desc
                     : off < VIRTIO_MMIO_QUEUE_DEVICE_LOW ? &mq->driver
                                                          : &mq->device;
    if (off & 4)
        set_high(addr, v);
    else
        set_low(addr, v);
}

static void mmio_register_write(struct virtio_mmio *t, uint64_t offset, uint32_t v)
{
    struct mmio_queue *mq = t->queue_sel < t->ops->num_queues ? &t->queues[t->queue_sel] : NULL;
    /* Queue layout registers only change while the queue is off. */
    struct mmio_queue *mq_off = mq != NULL && !virtq_enabled(&mq->vq) ? mq : NULL;
    bool features_open = (t->status & VIRTIO_STATUS_FEATURES_OK) == 0;

    switch (offset) {
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
        t->device_features_sel = v;
        break;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
        t->driver_features_sel = v;
        break;
    case VIRTIO_MMIO_DRIVER_FEATURES:
        if (!features_open)
            break;
        if (t->driver_features_sel == 0)
            set_low(&t->driver_features, v);
        else if (t->driver_features_sel == 1)
            set_high(&t->driver_features, v);
        break;
    case VIRTIO_MMIO_QUEUE_SEL:
        t->queue_sel = v;
        break;
    case VIRTIO_MMIO_QUEUE_NUM:
        if (mq_off != NULL)
            mq_off->num = v;
        break;
    case VIRTIO_MMIO_QUEUE_READY:
        if (mq != NULL)
            mmio_queue_ready_write(t, mq, v);
        break;
    case VIRTIO_MMIO_QUEUE_NOTIFY:
        /* Reached only without a KVM ioeventfd for this index; others are ignored. */
        if (v < t->ops->num_queues && !t->queues[v].kvm_notify)
            mmio_kick(&t->queues[v]);
        break;
    case VIRTIO_MMIO_INTERRUPT_ACK:
        t->interrupt_status &= ~v;
        break;
    case VIRTIO_MMIO_STATUS:
        mmio_status_write(t, v);
        break;
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
    case VIRTIO_MMIO_QUEUE_DESC_HIGH:
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
    case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
    case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
    case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
        if (mq_off)
            queue_addr_write(mq_off, offset, v);
        break;
    default:
        break; /* read-only or unknown: ignored */
    }
}

static uint32_t mmio_register_read(struct virtio_mmio *t, uint64_t offset)
{
    struct mmio_queue *mq = t->queue_sel < t->ops->num_queues ? &t->queues[t->queue_sel] : NULL;
    switch (offset) {
    case VIRTIO_MMIO_MAGIC_VALUE:
        return VIRTIO_MMIO_MAGIC;
    case VIRTIO_MMIO_VERSION:
        return 2;
    case VIRTIO_MMIO_DEVICE_ID:
        return t->ops->device_id;
    case VIRTIO_MMIO_VENDOR_ID:
        return VIRTIO_MMIO_VENDOR;
    case VIRTIO_MMIO_DEVICE_FEATURES:
        if (t->device_features_sel == 0)
            return (uint32_t)t->device_features;
        if (t->device_features_sel == 1)
            return (uint32_t)(t->device_features >> 32);
        return 0;
    case VIRTIO_MMIO_QUEUE_NUM_MAX:
        return mq != NULL ? VIRTIO_MMIO_QUEUE_SIZE_MAX : 0;
    case VIRTIO_MMIO_QUEUE_READY:
        return mq != NULL && virtq_enabled(&mq->vq);
    case VIRTIO_MMIO_INTERRUPT_STATUS:
        return t->interrupt_status;
    case VIRTIO_MMIO_STATUS:
        return t->status;
    case VIRTIO_MMIO_CONFIG_GENERATION:
        return t->config_generation;
    default:
        return 0;
    }
}

void virtio_mmio_read(void *opaque, uint64_t offset, void *data, uint32_t len)
{
    struct virtio_mmio *t = opaque;
    memset(data, 0, len);
    pthread_mutex_lock(&t->lock);
    if (offset >= VIRTIO_MMIO_CONFIG) {
        uint64_t off = offset - VIRTIO_MMIO_CONFIG;
        if (off < t->config_size && len <= t->config_size - off)
            memcpy(data, t->config + off, len);
    } else if (len == 4 && (offset & 3) == 0) {
        uint32_t v = mmio_register_read(t, offset);
        memcpy(data, &v, 4);
    }
    pthread_mutex_unlock(&t->lock);
}

void virtio_mmio_write(void *opaque, uint64_t offset, const void *data, uint32_t len)
{
    struct virtio_mmio *t = opaque;
    /* The config space is read-only here; registers take aligned 32-bit writes only. */
    if (offset >= VIRTIO_MMIO_CONFIG || len != 4 || (offset & 3) != 0)
        return;
    uint32_t v;
    memcpy(&v, data, 4);
    pthread_mutex_lock(&t->lock);
    mmio_register_write(t, offset, v);
    pthread_mutex_unlock(&t->lock);
}

/* Event-loop side of a queue notification. */
static void mmio_queue_event(void *opaque, uint32_t events)
{
    struct mmio_queue *mq = opaque;
    struct virtio_mmio *t = mq->t;
    uint64_t count;
    (void)events;
    (void)!read(mq->notify_fd, &count, sizeof(count));
    pthread_mutex_lock(&t->lock);
    if (mmio_live(t) && virtq_enabled(&mq->vq))
        t->ops->queue_notify(t->opaque, mq->index);
    pthread_mutex_unlock(&t->lock);
}

static const struct vm_mmio_ops mmio_ops = {
    .read = virtio_mmio_read,
    .write = virtio_mmio_write,
};

int virtio_mmio_create(struct vm *vm, const struct virtio_device_ops *ops, void *opaque, void *config,
                       size_t config_size, struct virtio_mmio **out, struct vessel_error **err)
{
    if (ops->num_queues == 0 || ops->num_queues > VIRTIO_MMIO_MAX_QUEUES)
        return vessel_error_set(err, EINVAL, "virtio %s: %u queues", ops->name, ops->num_queues);
    if (config_size > VM_VIRTIO_MMIO_SIZE - VIRTIO_MMIO_CONFIG)
        return vessel_error_set(err, EINVAL, "virtio %s: config space too large", ops->name);
    struct virtio_mmio *t = calloc(1, sizeof(*t) + ops->num_queues * sizeof(struct mmio_queue));
    if (t == NULL)
        return vessel_error_set(err, ENOMEM, "virtio %s", ops->name);
    t->vm = vm;
    t->ops = ops;
    t->opaque = opaque;
    t->config = config;
    t->config_size = config_size;
    t->device_features = ops->features | (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_F_INDIRECT_DESC) |
                         (1ULL << VIRTIO_F_EVENT_IDX);
    pthread_mutex_init(&t->lock, NULL);
    int r = vm_virtio_slot_alloc(vm, &t->base, &t->gsi, err);
    if (r >= 0)
        r = vm_irqfd_create(vm, t->gsi, &t->irq_fd, err);
    for (unsigned q = 0; r >= 0 && q < ops->num_queues; q++) {
        struct mmio_queue *mq = &t->queues[q];
        mq->t = t;
        mq->index = q;
        mq->notify_fd = -1;
        if (vm_ioeventfd_create(vm, t->base + VIRTIO_MMIO_QUEUE_NOTIFY, q, &mq->notify_fd, NULL) >= 0) {
            mq->kvm_notify = true;
        } else {
            mq->notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
            if (mq->notify_fd < 0)
                r = vessel_error_set(err, errno, "virtio %s: eventfd", ops->name);
        }
        if (r >= 0)
            r = vm_event_add(vm, mq->notify_fd, EPOLLIN, mmio_queue_event, mq, err);
    }
    if (r >= 0)
        r = vm_mmio_register(vm, t->base, VM_VIRTIO_MMIO_SIZE, &mmio_ops, t, err);
    if (r < 0) {
        /* t stays allocated: event callbacks registered above point into it, and the
         * VM (being torn down by the caller) owns the slot and KVM eventfds. */
        return vessel_error_wrap(err, "virtio %s device", ops->name);
    }
    *out = t;
    return 0;
}
