/* libFuzzer target: a fake guest (RAM a heap buffer of exactly RAM_SIZE bytes, so ASan sees
 * any access outside it) drives the split-virtqueue code directly (mode 0) or a virtio-mmio
 * device through a sequence of register reads/writes and RAM writes (mode 1). Every chain the
 * device accepts must lie inside guest RAM and respect the documented limits. */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "microvm/virtio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM_SIZE 0x4000u
#define VIRTIO_FAKE_VM_MEMORY_ONLY
#include "tests/unit/virtio_fake_vm.h"

static struct vm fake = {NULL};

/* ---- the rest of the device-facing VM interface, for one virtio-mmio device ---- */

static const struct vm_mmio_ops *dev_ops;
static void *dev_opaque;
static struct {
    int fd;
    vm_event_fn fn;
    void *opaque;
} events[VIRTIO_MMIO_MAX_QUEUES];
static unsigned nevents;

int vm_mmio_register(struct vm *vm, uint64_t base, uint64_t size, const struct vm_mmio_ops *ops, void *opaque,
                     struct vessel_error **err)
{
    (void)vm, (void)base, (void)size, (void)err;
    dev_ops = ops;
    dev_opaque = opaque;
    return 0;
}

int vm_virtio_slot_alloc(struct vm *vm, uint64_t *base, uint32_t *gsi, struct vessel_error **err)
{
    (void)vm, (void)err;
    *base = VM_VIRTIO_MMIO_BASE;
    *gsi = VM_VIRTIO_FIRST_GSI;
    return 0;
}

int vm_irqfd_create(struct vm *vm, uint32_t gsi, int *efd, struct vessel_error **err)
{
    (void)vm, (void)gsi;
    *efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    return *efd < 0 ? vessel_error_set(err, errno, "eventfd") : 0;
}

int vm_ioeventfd_create(struct vm *vm, uint64_t addr, uint32_t datamatch, int *efd, struct vessel_error **err)
{
    (void)vm, (void)addr, (void)datamatch, (void)efd;
    return vessel_error_set(err, ENOSYS, "no ioeventfd: notifications come through MMIO writes");
}

int vm_event_add(struct vm *vm, int fd, uint32_t ev, vm_event_fn fn, void *opaque, struct vessel_error **err)
{
    (void)vm, (void)ev;
    if (nevents == VIRTIO_MMIO_MAX_QUEUES)
        return vessel_error_set(err, ENOSPC, "too many events");
    events[nevents].fd = fd;
    events[nevents].fn = fn;
    events[nevents].opaque = opaque;
    nevents++;
    return 0;
}

int vm_event_del(struct vm *vm, int fd)
{
    (void)vm, (void)fd;
    return 0;
}

void vm_request_stop(struct vm *vm, const char *reason)
{
    (void)vm, (void)reason;
}

/* ---- input reader ---- */

struct in {
    const uint8_t *p;
    size_t left;
};

static uint64_t take(struct in *in, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) {
        uint8_t b = 0;
        if (in->left > 0) {
            b = *in->p++;
            in->left--;
        }
        v |= (uint64_t)b << (8 * i);
    }
    return v;
}

/* A RAM write from the input: u16 offset, u8 length, bytes. */
static void ram_write(struct in *in)
{
    uint32_t off = (uint32_t)take(in, 2) % RAM_SIZE;
    size_t len = (size_t)take(in, 1);
    if (len > in->left)
        len = in->left;
    if (len > RAM_SIZE - off)
        len = RAM_SIZE - off;
    memcpy(fake.ram + off, in->p, len);
    in->p += len;
    in->left -= len;
}

static void check_chain(const struct virtq *vq, const struct virtq_chain *c)
{
    if (c->head >= vq->size || c->n_out + c->n_in > VIRTQ_CHAIN_MAX)
        abort();
    uint64_t out = 0, in = 0;
    for (unsigned k = 0; k < c->n_out + c->n_in; k++) {
        const uint8_t *b = c->iov[k].iov_base;
        if (c->iov[k].iov_len == 0 || b < fake.ram || b + c->iov[k].iov_len > fake.ram + RAM_SIZE)
            abort();
        *(k < c->n_out ? &out : &in) += c->iov[k].iov_len;
    }
    if (out != c->out_len || in != c->in_len)
        abort();
}

/* What a device does with a chain: read some of it, write some of it. */
static uint32_t chain_use(const struct virtq_chain *c, uint32_t skip, uint32_t want)
{
    static uint8_t buf[RAM_SIZE + 64];
    if (want > sizeof(buf))
        want = sizeof(buf);
    size_t r = virtq_chain_read(c, skip, buf, want);
    if (r > want || r > c->out_len)
        abort();
    size_t w = virtq_chain_write(c, skip, buf, want);
    if (w > want || w > c->in_len)
        abort();
    return (uint32_t)w;
}

/* ---- mode 0: the virtqueue API directly ---- */

static struct virtq vq;
static struct virtq_chain chain;

static void fuzz_virtq(struct in *in)
{
    uint8_t s = (uint8_t)take(in, 1);
    uint16_t size = s < 0x80 ? (uint16_t)(1u << (s % 16)) : (uint16_t)take(in, 2);
    uint8_t flags = (uint8_t)take(in, 1);
    uint64_t gpa[3];
    for (int i = 0; i < 3; i++) {
        gpa[i] = take(in, 2) % (RAM_SIZE + 0x100);
        if (flags & (8 << i))
            gpa[i] |= 0xffffffffffff0000ULL;  /* wrap-around attempts */
    }
    int r = virtq_enable(&vq, &fake, size, gpa[0], gpa[1], gpa[2], flags & 1, flags & 2);
    if (r != 0 && virtq_enabled(&vq))
        abort();
    bool popped = false; /* a chain is out and not pushed */
    for (unsigned steps = 0; in->left > 0 && steps < 512; steps++) {
        switch (take(in, 1) % 8) {
        case 0:
        case 1:
            ram_write(in);
            break;
        case 2:
            r = virtq_pop(&vq, &chain);
            if (r < 0 || r > 1)
                return; /* the device would go broken: the queue is dead until a reset */
            if (r == 1) {
                check_chain(&vq, &chain);
                popped = true;
            }
            break;
        case 3:
            if (popped) {
                uint32_t skip = (uint32_t)take(in, 2), want = (uint32_t)take(in, 2);
                virtq_push(&vq, chain.head, chain_use(&chain, skip, want));
                popped = false;
            }
            break;
        case 4:
            if (popped) {
                virtq_unpop(&vq);
                popped = false;
            }
            break;
        case 5:
            (void)virtq_should_interrupt(&vq);
            break;
        case 6:
            (void)virtq_has_avail(&vq);
            break;
        case 7:
            if (take(in, 1) & 1) {
                virtq_disable(&vq);
                popped = false;
            }
            break;
        }
    }
}

/* ---- mode 1: a device behind the virtio-mmio registers ---- */

static struct virtio_mmio *dev;
static uint8_t dev_config[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
static uint32_t dev_skip, dev_want; /* how the device uses chains, from the input */

/* An echo device: each chain's readable bytes are copied to its writable part. */
static void dev_queue_notify(void *opaque, unsigned q)
{
    (void)opaque;
    struct virtq *v = virtio_mmio_queue(dev, q);
    if (v == NULL)
        abort(); /* the transport only notifies live, enabled queues */
    for (unsigned n = 0; n < 2 * VIRTIO_MMIO_QUEUE_SIZE_MAX; n++) {
        int r = virtq_pop(v, &chain);
        if (r < 0) {
            virtio_mmio_set_broken(dev, "bad chain");
            return;
        }
        if (r == 0)
            break;
        check_chain(v, &chain);
        virtq_push(v, chain.head, chain_use(&chain, dev_skip, dev_want));
    }
    virtio_mmio_queue_interrupt(dev, q);
}

static const struct virtio_device_ops dev_desc = {
    .name = "fuzz",
    .device_id = VIRTIO_ID_RNG,
    .features = 1ULL << 3,
    .num_queues = 3,
    .queue_notify = dev_queue_notify,
};

static void loop_run(void)
{
    for (unsigned i = 0; i < nevents; i++) {
        struct pollfd p = {.fd = events[i].fd, .events = POLLIN};
        if (poll(&p, 1, 0) == 1)
            events[i].fn(events[i].opaque, POLLIN);
    }
}

static void fuzz_mmio(struct in *in)
{
    static const uint32_t lens[4] = {1, 2, 4, 8};
    if (dev == NULL && virtio_mmio_create(&fake, &dev_desc, NULL, dev_config, sizeof(dev_config), &dev, NULL) < 0)
        abort();
    uint32_t zero = 0;
    dev_ops->write(dev_opaque, VIRTIO_MMIO_STATUS, &zero, 4); /* reset from the last input */
    loop_run();
    dev_skip = (uint32_t)take(in, 1);
    dev_want = (uint32_t)take(in, 2);
    for (unsigned steps = 0; in->left > 0 && steps < 1024; steps++) {
        uint8_t op = (uint8_t)take(in, 1);
        switch (op % 4) {
        case 0: {
            /* Mostly aligned 32-bit register writes; sometimes any offset and width. */
            uint64_t off = (op & 0x80) ? take(in, 2) % VM_VIRTIO_MMIO_SIZE : (take(in, 1) * 4) % 0x100;
            uint32_t len = (op & 0x80) ? lens[(op >> 2) & 3] : 4;
            uint64_t v = take(in, 4);
            dev_ops->write(dev_opaque, off, &v, len);
            break;
        }
        case 1: {
            uint64_t off = (op & 0x80) ? take(in, 2) % VM_VIRTIO_MMIO_SIZE : (take(in, 1) * 4) % 0x120;
            uint32_t len = (op & 0x80) ? lens[(op >> 2) & 3] : 4;
            uint64_t v;
            dev_ops->read(dev_opaque, off, &v, len);
            break;
        }
        case 2:
            ram_write(in);
            break;
        case 3:
            loop_run();
            break;
        }
    }
    loop_run();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fake.ram == NULL)
        fake.ram = malloc(RAM_SIZE);
    memset(fake.ram, 0, RAM_SIZE);
    struct in in = {data, size};
    if (take(&in, 1) & 1)
        fuzz_mmio(&in);
    else
        fuzz_virtq(&in);
    return 0;
}
