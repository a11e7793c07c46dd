/* Shared by the virtio unit tests and fuzz_virtqueue: a fake VM (guest RAM is a buffer, the
 * event loop is poll(2) over the registered fds, KVM's ioeventfd is modelled by routing
 * QueueNotify writes to the eventfd) and a test "driver" that speaks to devices through their
 * registers. Include it from exactly one file per binary: it defines the vm_* functions.
 * Define VIRTIO_FAKE_VM_MEMORY_ONLY (and RAM_SIZE, with struct vm's `ram` pointing at that
 * many bytes) for just the guest memory model, without cmocka. */
#ifndef TESTS_UNIT_VIRTIO_FAKE_VM_H
#define TESTS_UNIT_VIRTIO_FAKE_VM_H

#include <stdint.h>

#include "microvm/vm.h"

/* ---- guest memory: RAM is [0, RAM_SIZE), and vm_guest_ptr is the only way in, exactly as
 * microvm/memory.c implements it for a real VM ---- */

#ifndef RAM_SIZE
#define RAM_SIZE (1u << 20)
#endif

struct vm {
    uint8_t *ram;
};

void *vm_guest_ptr(struct vm *vm, uint64_t gpa, uint64_t len)
{
    if (len == 0 || gpa >= RAM_SIZE || len > RAM_SIZE - gpa)
        return NULL;
    return vm->ram + gpa;
}

uint64_t vm_ram_size(const struct vm *vm)
{
    (void)vm;
    return RAM_SIZE;
}

#ifndef VIRTIO_FAKE_VM_MEMORY_ONLY

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "microvm/virtio.h"

/* Everything below is used by one test file or the other. */
#define FAKE_SHARED static __attribute__((unused))

/* ---- the fake VM ---- */

#define MAX_DEVS 4
#define MAX_EVENTS 64

FAKE_SHARED _Alignas(4096) uint8_t ram[RAM_SIZE];
FAKE_SHARED struct vm fake_vm = {.ram = ram};

FAKE_SHARED struct {
    const struct vm_mmio_ops *ops;
    void *opaque;
    uint64_t base;
} mmio[MAX_DEVS];
FAKE_SHARED unsigned nslots, nmmio;
FAKE_SHARED int irq_fds[MAX_DEVS];
FAKE_SHARED bool kvm_ioeventfd = true; /* whether the fake "KVM" offers ioeventfds */
FAKE_SHARED struct {
    uint64_t addr;
    uint32_t datamatch;
    int fd;
} ioevents[MAX_EVENTS];
FAKE_SHARED unsigned nioevents;
FAKE_SHARED struct {
    int fd;
    vm_event_fn fn;
    void *opaque;
    bool live;
} events[MAX_EVENTS];
FAKE_SHARED unsigned nevents;

int vm_mmio_register(struct vm *vm, uint64_t base, uint64_t size, const struct vm_mmio_ops *ops, void *opaque,
                     struct vessel_error **err)
{
    (void)vm, (void)size, (void)err;
    mmio[nmmio].ops = ops;
    mmio[nmmio].opaque = opaque;
    mmio[nmmio].base = base;
    nmmio++;
    return 0;
}

int vm_virtio_slot_alloc(struct vm *vm, uint64_t *base, uint32_t *gsi, struct vessel_error **err)
{
    (void)vm;
    if (nslots == MAX_DEVS)
        return vessel_error_set(err, ENOSPC, "no slot");
    *base = VM_VIRTIO_MMIO_BASE + nslots * VM_VIRTIO_MMIO_STRIDE;
    *gsi = VM_VIRTIO_FIRST_GSI + nslots;
    nslots++;
    return 0;
}

int vm_irqfd_create(struct vm *vm, uint32_t gsi, int *efd, struct vessel_error **err)
{
    (void)vm, (void)err;
    *efd = irq_fds[gsi - VM_VIRTIO_FIRST_GSI] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    return 0;
}

int vm_ioeventfd_create(struct vm *vm, uint64_t addr, uint32_t datamatch, int *efd, struct vessel_error **err)
{
    (void)vm;
    if (!kvm_ioeventfd)
        return vessel_error_set(err, ENOSYS, "no ioeventfd here");
    *efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    ioevents[nioevents].addr = addr;
    ioevents[nioevents].datamatch = datamatch;
    ioevents[nioevents].fd = *efd;
    nioevents++;
    return 0;
}

int vm_event_add(struct vm *vm, int fd, uint32_t ev, vm_event_fn fn, void *opaque, struct vessel_error **err)
{
    (void)vm, (void)ev, (void)err;
    assert_true(nevents < MAX_EVENTS);
    events[nevents].fd = fd;
    events[nevents].fn = fn;
    events[nevents].opaque = opaque;
    events[nevents].live = true;
    nevents++;
    return 0;
}

int vm_event_del(struct vm *vm, int fd)
{
    (void)vm;
    for (unsigned i = 0; i < nevents; i++)
        if (events[i].live && events[i].fd == fd) {
            events[i].live = false;
            return 0;
        }
    return -ENOENT;
}

void vm_request_stop(struct vm *vm, const char *reason)
{
    (void)vm, (void)reason;
}

/* One pass of the event loop per round, until nothing is ready. */
FAKE_SHARED void loop_run(void)
{
    for (int round = 0; round < 50; round++) {
        bool fired = false;
        for (unsigned i = 0; i < nevents; i++) {
            if (!events[i].live)
                continue;
            struct pollfd p = {.fd = events[i].fd, .events = POLLIN};
            if (poll(&p, 1, 0) == 1) {
                events[i].fn(events[i].opaque, EPOLLIN);
                fired = true;
            }
        }
        if (!fired)
            return;
    }
}

/* ---- the test driver ---- */

FAKE_SHARED uint32_t rd(unsigned dev, uint64_t off)
{
    uint32_t v;
    mmio[dev].ops->read(mmio[dev].opaque, off, &v, 4);
    return v;
}

/* A vCPU's 4-byte write; KVM takes QueueNotify writes matching an ioeventfd itself. */
FAKE_SHARED void wr(unsigned dev, uint64_t off, uint32_t v)
{
    for (unsigned i = 0; i < nioevents; i++)
        if (ioevents[i].addr == mmio[dev].base + off && ioevents[i].datamatch == v) {
            uint64_t one = 1;
            assert_int_equal(write(ioevents[i].fd, &one, 8), 8);
            return;
        }
    mmio[dev].ops->write(mmio[dev].opaque, off, &v, 4);
}

#define QN 8
struct tq {
    uint64_t desc, avail, used; /* guest-physical */
    uint16_t last_used;
    unsigned index;
};

FAKE_SHARED struct virtq_desc *tq_desc(struct tq *q)
{
    return (struct virtq_desc *)(ram + q->desc);
}
FAKE_SHARED struct virtq_avail *tq_avail(struct tq *q)
{
    return (struct virtq_avail *)(ram + q->avail);
}
FAKE_SHARED struct virtq_used *tq_used(struct tq *q)
{
    return (struct virtq_used *)(ram + q->used);
}

FAKE_SHARED bool dev_begin(unsigned dev, uint64_t want)
{
    wr(dev, VIRTIO_MMIO_STATUS, 0);
    wr(dev, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    wr(dev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    uint64_t f = rd(dev, VIRTIO_MMIO_DEVICE_FEATURES);
    wr(dev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    f |= (uint64_t)rd(dev, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
    uint64_t drv = (f & want) | (1ULL << VIRTIO_F_VERSION_1);
    wr(dev, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    wr(dev, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)drv);
    wr(dev, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    wr(dev, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(drv >> 32));
    wr(dev, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    return (rd(dev, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK) != 0;
}

FAKE_SHARED void driver_ok(unsigned dev)
{
    wr(dev, VIRTIO_MMIO_STATUS,
       VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
           VIRTIO_STATUS_DRIVER_OK);
}

/* Queue rings at region (0x1000 apart per queue and device). */
FAKE_SHARED bool tq_setup(unsigned dev, struct tq *q, unsigned index)
{
    uint64_t region = 0x10000 + dev * 0x10000 + index * 0x1000;
    memset(ram + region, 0, 0x1000);
    *q = (struct tq){.desc = region, .avail = region + 0x400, .used = region + 0x800, .index = index};
    wr(dev, VIRTIO_MMIO_QUEUE_SEL, index);
    wr(dev, VIRTIO_MMIO_QUEUE_NUM, QN);
    wr(dev, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)q->desc);
    wr(dev, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)q->avail);
    wr(dev, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)q->used);
    wr(dev, VIRTIO_MMIO_QUEUE_READY, 1);
    return rd(dev, VIRTIO_MMIO_QUEUE_READY) == 1;
}

struct tbuf {
    uint64_t gpa;
    uint32_t len;
    bool write;
};

/* Chain at descriptor `first`, made available; notify when asked. */
FAKE_SHARED void tq_submit(unsigned dev, struct tq *q, unsigned first, const struct tbuf *b, unsigned n,
                           bool notify)
{
    for (unsigned i = 0; i < n; i++)
        tq_desc(q)[first + i] = (struct virtq_desc){
            .addr = b[i].gpa,
            .len = b[i].len,
            .flags = (uint16_t)((b[i].write ? VIRTQ_DESC_F_WRITE : 0) | (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
            .next = (uint16_t)(first + i + 1)};
    struct virtq_avail *a = tq_avail(q);
    a->ring[a->idx % QN] = (uint16_t)first;
    a->idx++;
    if (notify)
        wr(dev, VIRTIO_MMIO_QUEUE_NOTIFY, q->index);
}

/* Next used entry after running the loop: true with its length. */
FAKE_SHARED bool tq_used_next(struct tq *q, uint32_t *len)
{
    loop_run();
    struct virtq_used *u = tq_used(q);
    if (u->idx == q->last_used)
        return false;
    if (len != NULL)
        *len = u->ring[q->last_used % QN].len;
    q->last_used++;
    return true;
}

FAKE_SHARED uint64_t irq_count(unsigned dev)
{
    uint64_t v = 0;
    if (read(irq_fds[dev], &v, 8) != 8)
        return 0;
    return v;
}

FAKE_SHARED int reset_fake(void **state)
{
    (void)state;
    memset(ram, 0, sizeof(ram));
    for (unsigned i = 0; i < nevents; i++)
        events[i].live = false;
    nslots = nmmio = nioevents = nevents = 0;
    kvm_ioeventfd = true;
    return 0;
}

#define DATA 0x80000

#endif /* VIRTIO_FAKE_VM_MEMORY_ONLY */

#endif
