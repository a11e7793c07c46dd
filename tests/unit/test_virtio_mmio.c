/* Unit tests of the virtio-mmio transport and the rng, blk and console devices, driven
 * through their registers by a test "driver" over a fake VM: guest RAM is a buffer, the
 * event loop is poll(2) over the registered fds, KVM's ioeventfd is modelled by routing
 * QueueNotify writes to the eventfd. Real files, pipes and sockets are the host ends. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "microvm/virtio.h"
#include "microvm/vm.h"

/* ---- the fake VM ---- */

#define RAM_SIZE (1u << 20)
#define MAX_DEVS 4
#define MAX_EVENTS 64

struct vm {
    uint8_t *ram;
};
static _Alignas(4096) uint8_t ram[RAM_SIZE];
static struct vm fake_vm = {.ram = ram};

static struct {
    const struct vm_mmio_ops *ops;
    void *opaque;
    uint64_t base;
} mmio[MAX_DEVS];
static unsigned nslots, nmmio;
static int irq_fds[MAX_DEVS];
static bool kvm_ioeventfd = true;  /* whether the fake "KVM" offers ioeventfds */
static struct {
    uint64_t addr;
    uint32_t datamatch;
    int fd;
} ioevents[MAX_EVENTS];
static unsigned nioevents;
static struct {
    int fd;
    vm_event_fn fn;
    void *opaque;
    bool live;
} events[MAX_EVENTS];
static unsigned nevents;

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

int vm_mmio_register(struct vm *vm, uint64_t base, uint64_t size, const struct vm_mmio_ops *ops,
                     void *opaque, struct vessel_error **err)
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

int vm_ioeventfd_create(struct vm *vm, uint64_t addr, uint32_t datamatch, int *efd,
                        struct vessel_error **err)
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

int vm_event_add(struct vm *vm, int fd, uint32_t ev, vm_event_fn fn, void *opaque,
                 struct vessel_error **err)
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
static void loop_run(void)
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

static uint32_t rd(unsigned dev, uint64_t off)
{
    uint32_t v;
    mmio[dev].ops->read(mmio[dev].opaque, off, &v, 4);
    return v;
}

/* A vCPU's 4-byte write; KVM takes QueueNotify writes matching an ioeventfd itself. */
static void wr(unsigned dev, uint64_t off, uint32_t v)
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
    uint64_t desc, avail, used;  /* guest-physical */
    uint16_t last_used;
    unsigned index;
};

static struct virtq_desc *tq_desc(struct tq *q)
{
    return (struct virtq_desc *)(ram + q->desc);
}
static struct virtq_avail *tq_avail(struct tq *q)
{
    return (struct virtq_avail *)(ram + q->avail);
}
static struct virtq_used *tq_used(struct tq *q)
{
    return (struct virtq_used *)(ram + q->used);
}

static bool dev_begin(unsigned dev, uint64_t want)
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
    wr(dev, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                                    VIRTIO_STATUS_FEATURES_OK);
    return (rd(dev, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK) != 0;
}

static void driver_ok(unsigned dev)
{
    wr(dev, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                                    VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

/* Queue rings at region (0x1000 apart per queue and device). */
static bool tq_setup(unsigned dev, struct tq *q, unsigned index)
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
static void tq_submit(unsigned dev, struct tq *q, unsigned first, const struct tbuf *b, unsigned n,
                      bool notify)
{
    for (unsigned i = 0; i < n; i++)
        tq_desc(q)[first + i] = (struct virtq_desc){
            .addr = b[i].gpa, .len = b[i].len,
            .flags = (uint16_t)((b[i].write ? VIRTQ_DESC_F_WRITE : 0) | (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
            .next = (uint16_t)(first + i + 1)};
    struct virtq_avail *a = tq_avail(q);
    a->ring[a->idx % QN] = (uint16_t)first;
    a->idx++;
    if (notify)
        wr(dev, VIRTIO_MMIO_QUEUE_NOTIFY, q->index);
}

/* Next used entry after running the loop: true with its length. */
static bool tq_used_next(struct tq *q, uint32_t *len)
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

static uint64_t irq_count(unsigned dev)
{
    uint64_t v = 0;
    if (read(irq_fds[dev], &v, 8) != 8)
        return 0;
    return v;
}

static int reset_fake(void **state)
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

/* ---- transport ---- */

static void test_registers(void **state)
{
    (void)state;
    assert_int_equal(virtio_rng_create(&fake_vm, NULL), 0);
    assert_int_equal(rd(0, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
    assert_int_equal(rd(0, VIRTIO_MMIO_VERSION), 2);
    assert_int_equal(rd(0, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_RNG);
    assert_int_equal(rd(0, VIRTIO_MMIO_VENDOR_ID), VIRTIO_MMIO_VENDOR);
    wr(0, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    assert_true(rd(0, VIRTIO_MMIO_DEVICE_FEATURES) & 1);  /* VERSION_1 */
    /* a 1-byte read of a register and any config read past the space read as 0 */
    uint8_t b = 0xaa;
    mmio[0].ops->read(mmio[0].opaque, VIRTIO_MMIO_MAGIC_VALUE, &b, 1);
    assert_int_equal(b, 0);
    assert_int_equal(rd(0, VIRTIO_MMIO_CONFIG), 0);
    assert_int_equal(rd(0, VIRTIO_MMIO_QUEUE_NUM_MAX), 256);
    wr(0, VIRTIO_MMIO_QUEUE_SEL, 7);
    assert_int_equal(rd(0, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
}

static void test_feature_negotiation(void **state)
{
    (void)state;
    assert_int_equal(virtio_rng_create(&fake_vm, NULL), 0);
    /* legacy driver (no VERSION_1): FEATURES_OK does not stick */
    wr(0, VIRTIO_MMIO_STATUS, 3);
    wr(0, VIRTIO_MMIO_STATUS, 3 | VIRTIO_STATUS_FEATURES_OK);
    assert_int_equal(rd(0, VIRTIO_MMIO_STATUS), 3);
    /* bits the device never offered */
    wr(0, VIRTIO_MMIO_STATUS, 0);
    wr(0, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    wr(0, VIRTIO_MMIO_DRIVER_FEATURES, 1 | 0x100);
    wr(0, VIRTIO_MMIO_STATUS, 3 | VIRTIO_STATUS_FEATURES_OK);
    assert_int_equal(rd(0, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK, 0);
    /* DRIVER_OK without FEATURES_OK breaks the device */
    wr(0, VIRTIO_MMIO_STATUS, 3 | VIRTIO_STATUS_DRIVER_OK);
    assert_true(rd(0, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
    assert_true(dev_begin(0, 0));
    assert_int_equal(rd(0, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET, 0);
}

static void test_queue_setup_refusals(void **state)
{
    struct tq q;
    (void)state;
    assert_int_equal(virtio_rng_create(&fake_vm, NULL), 0);
    /* before FEATURES_OK a queue cannot go live */
    wr(0, VIRTIO_MMIO_STATUS, 3);
    assert_false(tq_setup(0, &q, 0));
    assert_true(dev_begin(0, 0));
    static const uint32_t bad_nums[] = {0, 3, 512};
    for (unsigned i = 0; i < 3; i++) {
        wr(0, VIRTIO_MMIO_QUEUE_SEL, 0);
        wr(0, VIRTIO_MMIO_QUEUE_NUM, bad_nums[i]);
        wr(0, VIRTIO_MMIO_QUEUE_READY, 1);
        assert_int_equal(rd(0, VIRTIO_MMIO_QUEUE_READY), 0);
    }
    /* rings outside RAM */
    wr(0, VIRTIO_MMIO_QUEUE_NUM, 8);
    wr(0, VIRTIO_MMIO_QUEUE_DESC_HIGH, 1);
    wr(0, VIRTIO_MMIO_QUEUE_READY, 1);
    assert_int_equal(rd(0, VIRTIO_MMIO_QUEUE_READY), 0);
    wr(0, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
    /* queue index out of range */
    wr(0, VIRTIO_MMIO_QUEUE_SEL, 1);
    wr(0, VIRTIO_MMIO_QUEUE_READY, 1);
    assert_int_equal(rd(0, VIRTIO_MMIO_QUEUE_READY), 0);
    wr(0, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
    wr(0, VIRTIO_MMIO_QUEUE_NOTIFY, 0xffffffff);
    loop_run();
    assert_true(tq_setup(0, &q, 0));
    /* layout registers do not change under a live queue */
    wr(0, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x12340);
    wr(0, VIRTIO_MMIO_STATUS, 0);
    assert_int_equal(rd(0, VIRTIO_MMIO_QUEUE_READY), 0);  /* reset turns queues off */
}

static void rng_roundtrip(bool ioeventfd)
{
    struct tq q;
    uint32_t len;
    kvm_ioeventfd = ioeventfd;
    assert_int_equal(virtio_rng_create(&fake_vm, NULL), 0);
    assert_int_equal(nioevents, ioeventfd ? 1 : 0);
    assert_true(dev_begin(0, 0));
    assert_true(tq_setup(0, &q, 0));
    struct tbuf b = {DATA, 64, true};
    /* notify before DRIVER_OK: ignored ... */
    tq_submit(0, &q, 0, &b, 1, true);
    assert_false(tq_used_next(&q, NULL));
    /* ... until DRIVER_OK, which looks at every live queue */
    driver_ok(0);
    assert_true(tq_used_next(&q, &len));
    assert_int_equal(len, 64);
    assert_int_equal(rd(0, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
    assert_true(irq_count(0) >= 1);
    wr(0, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
    assert_int_equal(rd(0, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
    uint8_t first[64];
    memcpy(first, ram + DATA, 64);
    tq_submit(0, &q, 0, &b, 1, true);
    assert_true(tq_used_next(&q, &len));
    assert_memory_not_equal(first, ram + DATA, 64);
}

static void test_rng_ioeventfd(void **state)
{
    (void)state;
    rng_roundtrip(true);
}

static void test_rng_mmio_notify(void **state)
{
    (void)state;
    rng_roundtrip(false);
}

static void test_broken_device(void **state)
{
    struct tq q;
    (void)state;
    assert_int_equal(virtio_rng_create(&fake_vm, NULL), 0);
    assert_true(dev_begin(0, 0));
    assert_true(tq_setup(0, &q, 0));
    driver_ok(0);
    struct tbuf loop[2] = {{DATA, 8, true}, {DATA, 8, true}};
    tq_submit(0, &q, 0, loop, 2, false);
    tq_desc(&q)[1].flags |= VIRTQ_DESC_F_NEXT;
    tq_desc(&q)[1].next = 0;
    wr(0, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    assert_false(tq_used_next(&q, NULL));
    assert_true(rd(0, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
    assert_true(rd(0, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
    /* a broken device ignores the queue until reset */
    struct tbuf good = {DATA, 8, true};
    tq_submit(0, &q, 0, &good, 1, true);
    assert_false(tq_used_next(&q, NULL));
    assert_true(dev_begin(0, 0));
    assert_true(tq_setup(0, &q, 0));
    driver_ok(0);
    tq_submit(0, &q, 0, &good, 1, true);
    assert_true(tq_used_next(&q, NULL));
}

/* ---- blk ---- */

#define HDR 0x90000
#define STATUS 0x90100
#define SECTORS 64

struct blk_hdr {
    uint32_t type, reserved;
    uint64_t sector;
};

static char img_path[] = "/tmp/vessel-test-blk-XXXXXX";

static int blk_setup(void **state)
{
    reset_fake(state);
    int fd = mkstemp(img_path);
    assert_true(fd >= 0);
    char sector[512];
    for (int s = 0; s < SECTORS; s++) {
        memset(sector, 'a' + s % 26, sizeof(sector));
        assert_int_equal(write(fd, sector, sizeof(sector)), 512);
    }
    close(fd);
    return 0;
}

static int blk_teardown(void **state)
{
    (void)state;
    unlink(img_path);
    strcpy(img_path + strlen(img_path) - 6, "XXXXXX");
    return 0;
}

static uint8_t blk_req(struct tq *q, uint32_t type, uint64_t sector, uint32_t len, bool in,
                       uint32_t *used_len)
{
    *(struct blk_hdr *)(ram + HDR) = (struct blk_hdr){type, 0, sector};
    ram[STATUS] = 0xee;
    struct tbuf b[3] = {{HDR, 16, false}, {DATA, len, in}, {STATUS, 1, true}};
    if (len == 0) {
        b[1] = b[2];
        tq_submit(0, q, 0, b, 2, true);
    } else {
        tq_submit(0, q, 0, b, 3, true);
    }
    uint32_t l = 0;
    if (!tq_used_next(q, &l))
        return 0xff;
    if (used_len != NULL)
        *used_len = l;
    return ram[STATUS];
}

static void test_blk(void **state)
{
    struct tq q;
    uint32_t len;
    (void)state;
    assert_int_equal(virtio_blk_create(&fake_vm, img_path, false, NULL), 0);
    assert_int_equal(rd(0, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BLOCK);
    assert_int_equal(rd(0, VIRTIO_MMIO_CONFIG), SECTORS);  /* capacity */
    assert_true(dev_begin(0, ~0ULL));
    assert_true(tq_setup(0, &q, 0));
    driver_ok(0);

    assert_int_equal(blk_req(&q, 0, 2, 1024, true, &len), 0);
    assert_int_equal(len, 1025);
    assert_int_equal(ram[DATA], 'c');
    assert_int_equal(ram[DATA + 1023], 'd');

    memset(ram + DATA, 'Z', 512);
    assert_int_equal(blk_req(&q, 1, 3, 512, false, &len), 0);
    assert_int_equal(len, 1);
    int fd = open(img_path, O_RDONLY | O_CLOEXEC);
    char c;
    assert_int_equal(pread(fd, &c, 1, 3 * 512 + 100), 1);
    assert_int_equal(c, 'Z');

    assert_int_equal(blk_req(&q, 4, 0, 0, false, NULL), 0);        /* flush */
    memset(ram + DATA, 0, 20);
    assert_int_equal(blk_req(&q, 8, 0, 20, true, NULL), 0);        /* get-id */
    assert_memory_equal(ram + DATA, "vessel-test-blk-", 16);
    assert_int_equal(blk_req(&q, 0, SECTORS, 512, true, NULL), 1); /* past the end */
    assert_int_equal(blk_req(&q, 0, UINT64_MAX, 512, true, NULL), 1);
    assert_int_equal(blk_req(&q, 0, 0, 100, true, NULL), 1);       /* not whole sectors */
    assert_int_equal(blk_req(&q, 42, 0, 512, true, NULL), 2);      /* unsupported */

    /* write-zeroes and discard ranges */
    struct {
        uint64_t sector;
        uint32_t num, flags;
    } range = {4, 2, 0};
    memcpy(ram + DATA, &range, sizeof(range));
    assert_int_equal(blk_req(&q, 13, 0, sizeof(range), false, NULL), 0);
    assert_int_equal(pread(fd, &c, 1, 5 * 512 + 7), 1);
    assert_int_equal(c, 0);
    range = (typeof(range)){SECTORS - 1, 2, 0};
    memcpy(ram + DATA, &range, sizeof(range));
    assert_int_equal(blk_req(&q, 11, 0, sizeof(range), false, NULL), 1);
    range = (typeof(range)){8, 1, 0};
    memcpy(ram + DATA, &range, sizeof(range));
    assert_int_equal(blk_req(&q, 11, 0, sizeof(range), false, NULL), 0);
    close(fd);

    /* no writable status byte: the request comes back empty, the device lives on */
    struct tbuf b = {HDR, 16, false};
    tq_submit(0, &q, 0, &b, 1, true);
    assert_true(tq_used_next(&q, &len));
    assert_int_equal(len, 0);
    /* a short header fails with IOERR */
    struct tbuf shorth[2] = {{HDR, 8, false}, {STATUS, 1, true}};
    tq_submit(0, &q, 0, shorth, 2, true);
    assert_true(tq_used_next(&q, NULL));
    assert_int_equal(ram[STATUS], 1);
    assert_int_equal(rd(0, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET, 0);
}

static void test_blk_readonly(void **state)
{
    struct tq q;
    (void)state;
    assert_int_equal(virtio_blk_create(&fake_vm, img_path, true, NULL), 0);
    wr(0, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    assert_true(rd(0, VIRTIO_MMIO_DEVICE_FEATURES) & (1u << 5));
    assert_true(dev_begin(0, ~0ULL));
    assert_true(tq_setup(0, &q, 0));
    driver_ok(0);
    assert_int_equal(blk_req(&q, 0, 0, 512, true, NULL), 0);
    assert_int_equal(blk_req(&q, 1, 0, 512, false, NULL), 1);
    assert_int_equal(blk_req(&q, 13, 0, 16, false, NULL), 1);
    /* a second writer on the same image is refused; another reader is fine */
    struct vessel_error *err = NULL;
    assert_int_equal(virtio_blk_create(&fake_vm, img_path, true, NULL), 0);
    assert_true(virtio_blk_create(&fake_vm, img_path, false, &err) < 0);
    assert_non_null(err);
    vessel_error_free(err);
}

static void test_blk_missing_file(void **state)
{
    struct vessel_error *err = NULL;
    (void)state;
    assert_true(virtio_blk_create(&fake_vm, "/nonexistent/disk.img", false, &err) < 0);
    assert_non_null(strstr(err->msg, "/nonexistent/disk.img"));
    vessel_error_free(err);
}

/* ---- console ---- */

struct ctl {
    uint32_t id;
    uint16_t event, value;
};

static struct tq crx0, ctx0, cin, cout, crx1, ctx1;

static void ctl_post(unsigned i)
{
    tq_desc(&cin)[i] = (struct virtq_desc){.addr = 0xa0000 + i * 128, .len = 128, .flags = VIRTQ_DESC_F_WRITE};
    struct virtq_avail *a = tq_avail(&cin);
    a->ring[a->idx % QN] = (uint16_t)i;
    a->idx++;
}

static void ctl_send(uint32_t id, uint16_t event, uint16_t value)
{
    *(struct ctl *)(ram + 0xb0000) = (struct ctl){id, event, value};
    struct tbuf b = {0xb0000, sizeof(struct ctl), false};
    tq_submit(0, &cout, 0, &b, 1, true);
    assert_true(tq_used_next(&cout, NULL));
}

/* Next control message from the device, its buffer given back. */
static bool ctl_recv(struct ctl *m, char *name)
{
    uint32_t len;
    struct virtq_used *u = tq_used(&cin);
    loop_run();
    if (u->idx == cin.last_used)
        return false;
    uint32_t id = u->ring[cin.last_used % QN].id;
    len = u->ring[cin.last_used % QN].len;
    cin.last_used++;
    memcpy(m, ram + 0xa0000 + id * 128, sizeof(*m));
    if (name != NULL) {
        memcpy(name, ram + 0xa0000 + id * 128 + sizeof(*m), len - sizeof(*m));
        name[len - sizeof(*m)] = 0;
    }
    ctl_post(id);
    wr(0, VIRTIO_MMIO_QUEUE_NOTIFY, 2);
    return true;
}

static void test_console(void **state)
{
    int in[2], out[2], sock[2];
    (void)state;
    assert_int_equal(pipe2(in, O_CLOEXEC), 0);
    assert_int_equal(pipe2(out, O_CLOEXEC | O_NONBLOCK), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock), 0);
    struct virtio_console_port port = {.name = "vessel.ctl", .fd = sock[0]};
    struct virtio_console_config cfg = {.in_fd = in[0], .out_fd = out[1], .ports = &port, .nports = 1};
    assert_int_equal(virtio_console_create(&fake_vm, &cfg, NULL), 0);
    assert_int_equal(rd(0, VIRTIO_MMIO_CONFIG + 4), 2);  /* max_nr_ports */
    assert_true(dev_begin(0, 1ULL << 1));
    assert_true(tq_setup(0, &crx0, 0) && tq_setup(0, &ctx0, 1) && tq_setup(0, &cin, 2) &&
                tq_setup(0, &cout, 3) && tq_setup(0, &crx1, 4) && tq_setup(0, &ctx1, 5));
    for (unsigned i = 0; i < QN; i++)
        ctl_post(i);
    driver_ok(0);

    /* host input waiting before the guest has buffers is delivered once it has */
    assert_int_equal(write(in[1], "typed", 5), 5);
    loop_run();
    struct tbuf rx = {DATA, 64, true};
    tq_submit(0, &crx0, 0, &rx, 1, true);
    uint32_t len;
    assert_true(tq_used_next(&crx0, &len));
    assert_int_equal(len, 5);
    assert_memory_equal(ram + DATA, "typed", 5);

    /* output on port 0 */
    memcpy(ram + DATA + 0x1000, "hello\n", 6);
    struct tbuf tx = {DATA + 0x1000, 6, false};
    tq_submit(0, &ctx0, 0, &tx, 1, true);
    assert_true(tq_used_next(&ctx0, NULL));
    char buf[64];
    assert_int_equal(read(out[0], buf, sizeof(buf)), 6);
    assert_memory_equal(buf, "hello\n", 6);

    /* multiport handshake */
    struct ctl m;
    char name[128];
    ctl_send(0, 0, 1);  /* DEVICE_READY */
    assert_true(ctl_recv(&m, NULL));
    assert_int_equal(m.event, 1);
    assert_int_equal(m.id, 0);
    assert_true(ctl_recv(&m, NULL));
    assert_int_equal(m.event, 1);
    assert_int_equal(m.id, 1);
    ctl_send(0, 3, 1);  /* PORT_READY 0 */
    assert_true(ctl_recv(&m, NULL));
    assert_int_equal(m.event, 4);  /* CONSOLE_PORT */
    assert_true(ctl_recv(&m, NULL));
    assert_int_equal(m.event, 6);  /* PORT_OPEN */
    ctl_send(1, 3, 1);  /* PORT_READY 1 */
    assert_true(ctl_recv(&m, name));
    assert_int_equal(m.event, 7);  /* PORT_NAME */
    assert_string_equal(name, "vessel.ctl");
    assert_true(ctl_recv(&m, NULL));
    assert_int_equal(m.event, 6);
    assert_int_equal(m.value, 1);

    /* named port: data only flows to the guest once it opened the port */
    assert_int_equal(write(sock[1], "ping", 4), 4);
    tq_submit(0, &crx1, 0, &rx, 1, true);
    assert_false(tq_used_next(&crx1, NULL));
    ctl_send(1, 6, 1);  /* PORT_OPEN 1 by the guest */
    assert_true(tq_used_next(&crx1, &len));
    assert_int_equal(len, 4);
    assert_memory_equal(ram + DATA, "ping", 4);
    tq_submit(0, &ctx1, 0, &tx, 1, true);
    assert_true(tq_used_next(&ctx1, NULL));
    assert_int_equal(read(sock[1], buf, sizeof(buf)), 6);

    /* the host end closing is announced with PORT_OPEN 0 */
    close(sock[1]);
    tq_submit(0, &crx1, 0, &rx, 1, true);
    loop_run();
    assert_true(ctl_recv(&m, NULL));
    assert_int_equal(m.event, 6);
    assert_int_equal(m.id, 1);
    assert_int_equal(m.value, 0);
    /* and writing to it does not kill the VMM (no SIGPIPE) */
    tq_submit(0, &ctx1, 0, &tx, 1, true);
    assert_true(tq_used_next(&ctx1, NULL));
    close(in[0]), close(in[1]), close(out[0]), close(out[1]);
}

static void test_console_bad_ports(void **state)
{
    struct vessel_error *err = NULL;
    struct virtio_console_port port = {.name = "", .fd = -1};
    struct virtio_console_config cfg = {.in_fd = -1, .out_fd = -1, .ports = &port, .nports = 1};
    (void)state;
    assert_true(virtio_console_create(&fake_vm, &cfg, &err) < 0);
    vessel_error_free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_registers, reset_fake),
        cmocka_unit_test_setup(test_feature_negotiation, reset_fake),
        cmocka_unit_test_setup(test_queue_setup_refusals, reset_fake),
        cmocka_unit_test_setup(test_rng_ioeventfd, reset_fake),
        cmocka_unit_test_setup(test_rng_mmio_notify, reset_fake),
        cmocka_unit_test_setup(test_broken_device, reset_fake),
        cmocka_unit_test_setup_teardown(test_blk, blk_setup, blk_teardown),
        cmocka_unit_test_setup_teardown(test_blk_readonly, blk_setup, blk_teardown),
        cmocka_unit_test_setup(test_blk_missing_file, reset_fake),
        cmocka_unit_test_setup(test_console, reset_fake),
        cmocka_unit_test_setup(test_console_bad_ports, reset_fake),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
