/* Test guest hostile cases: a driver that breaks the rules. The device must refuse
 * (fail the request, or set DEVICE_NEEDS_RESET) and keep working after a reset; the VMM
 * must stay alive. */
#include "cases.h"

static struct gvq q;
static uint8_t buf[64];

/* Fresh rng device with its queue, DRIVER_OK set. */
static bool rng_start(struct vdev *d)
{
    if (!vdev_begin(d, 0) || !vq_setup(d, &q, 0))
        return false;
    vdev_driver_ok(d);
    return true;
}

/* A good request after a reset works: the device recovered. */
static bool rng_recovers(struct vdev *d)
{
    if (!rng_start(d))
        return false;
    struct gbuf b = {buf, sizeof(buf), true};
    uint32_t len = 0;
    vq_submit(d, &q, &b, 1);
    return vq_wait(d, &q, 0, &len) == WAIT_USED && len == sizeof(buf);
}

/* Post the chain at head 0 as written in q.desc; expect the device to refuse it. */
static void expect_refused(struct vdev *d, const char *what)
{
    vq_post(d, &q, 0, true);
    uint32_t len = 0;
    enum wait_result r = vq_wait(d, &q, 0, &len);
    bool refused = r == WAIT_BROKEN || (r == WAIT_USED && len == 0);
    bool recovered = rng_recovers(d);
    tap_result(refused && recovered, "hostile: %s refused (%s), device works after reset", what,
               r == WAIT_BROKEN ? "DEVICE_NEEDS_RESET"
               : r == WAIT_USED ? "empty completion"
                                : "no answer");
}

static void hostile_chains(struct vdev *d)
{
    rng_start(d);
    q.desc[0] = (struct vdesc){0x7f00000000ULL, 64, D_WRITE, 0};
    expect_refused(d, "descriptor address outside guest RAM");

    q.desc[0] = (struct vdesc){0xd0000000ULL, 64, D_WRITE, 0};
    expect_refused(d, "descriptor address in the MMIO hole");

    q.desc[0] = (struct vdesc){0xfffffffffffff000ULL, 0x2000, D_WRITE, 0};
    expect_refused(d, "descriptor length overflowing the address space");

    q.desc[0] = (struct vdesc){(uintptr_t)buf, 0xffffffffu, D_WRITE, 0};
    expect_refused(d, "descriptor length beyond guest RAM");

    q.desc[0] = (struct vdesc){(uintptr_t)buf, 8, D_WRITE | D_NEXT, 1};
    q.desc[1] = (struct vdesc){(uintptr_t)buf + 8, 8, D_WRITE | D_NEXT, 0};
    expect_refused(d, "descriptor loop (next points back)");

    for (unsigned i = 0; i < VQ_SIZE; i++)
        q.desc[i] = (struct vdesc){(uintptr_t)buf, 4, D_WRITE | D_NEXT, (uint16_t)((i + 1) % VQ_SIZE)};
    expect_refused(d, "chain longer than the queue size");

    q.desc[0] = (struct vdesc){(uintptr_t)buf, 8, D_WRITE | D_NEXT, 200};
    expect_refused(d, "next index beyond the queue");

    static struct vdesc table[2];
    table[0] = (struct vdesc){(uintptr_t)buf, 8, D_WRITE | D_NEXT, 1};
    table[1] = (struct vdesc){0x7f00000000ULL, 8, D_WRITE, 0};
    q.desc[0] = (struct vdesc){(uintptr_t)table, sizeof(table), D_INDIRECT, 0};
    expect_refused(d, "indirect table with a buffer outside guest RAM");

    rng_start(d);
    q.desc[0] = (struct vdesc){(uintptr_t)buf, 0, D_WRITE, 0};
    vq_post(d, &q, 0, true);
    uint32_t len = 99;
    enum wait_result r = vq_wait(d, &q, 0, &len);
    tap_result(r == WAIT_USED && len == 0, "hostile: zero-length buffer completes empty");
}

static void hostile_registers(struct vdev *d)
{
    /* queue index out of range: no size, cannot be enabled, notify ignored */
    bool ok = vdev_begin(d, 0);
    vd_w(d, R_QUEUE_SEL, 200);
    ok = ok && vd_r(d, R_QUEUE_NUM_MAX) == 0;
    vd_w(d, R_QUEUE_NUM, 16);
    vd_w(d, R_QUEUE_READY, 1);
    ok = ok && vd_r(d, R_QUEUE_READY) == 0;
    vd_w(d, R_QUEUE_NOTIFY, 200);
    vd_w(d, R_QUEUE_NOTIFY, 0xffffffffu);
    tap_result(ok && rng_recovers(d), "hostile: queue index out of range refused");

    /* bad QueueNum: not a power of two, above QueueNumMax, zero */
    ok = vdev_begin(d, 0);
    static struct gvq bad;
    static const uint32_t nums[] = {3, 4096, 0};
    for (unsigned i = 0; i < 3; i++) {
        vd_w(d, R_QUEUE_SEL, 0);
        vd_w(d, R_QUEUE_NUM, nums[i]);
        vd_w(d, R_DESC_LO, (uint32_t)(uintptr_t)bad.desc);
        vd_w(d, R_DRIVER_LO, (uint32_t)(uintptr_t)&bad.avail);
        vd_w(d, R_DEVICE_LO, (uint32_t)(uintptr_t)&bad.used);
        vd_w(d, R_QUEUE_READY, 1);
        ok = ok && vd_r(d, R_QUEUE_READY) == 0;
    }
    tap_result(ok && rng_recovers(d), "hostile: bad QueueNum (3, 4096, 0) refused");

    /* ring outside guest RAM */
    ok = vdev_begin(d, 0);
    vd_w(d, R_QUEUE_SEL, 0);
    vd_w(d, R_QUEUE_NUM, VQ_SIZE);
    vd_w(d, R_DESC_LO, 0);
    vd_w(d, R_DESC_HI, 0x7f);
    vd_w(d, R_QUEUE_READY, 1);
    ok = ok && vd_r(d, R_QUEUE_READY) == 0;
    vd_w(d, R_DESC_HI, 0);
    tap_result(ok && rng_recovers(d), "hostile: ring outside guest RAM refused");

    /* notify before DRIVER_OK: nothing happens */
    ok = vdev_begin(d, 0) && vq_setup(d, &q, 0);
    struct gbuf b = {buf, sizeof(buf), true};
    vq_submit(d, &q, &b, 1);
    vdev_spin(d, 2000);
    ok = ok && q.used.idx == 0;
    tap_result(ok && rng_recovers(d), "hostile: notify before DRIVER_OK ignored");

    /* modern only: FEATURES_OK without VERSION_1 is refused */
    vd_w(d, R_STATUS, 0);
    vd_w(d, R_STATUS, S_ACK | S_DRIVER);
    vd_w(d, R_DRV_FEATURES_SEL, 1);
    vd_w(d, R_DRV_FEATURES, 0);
    vd_w(d, R_DRV_FEATURES_SEL, 0);
    vd_w(d, R_DRV_FEATURES, 0);
    vd_w(d, R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
    ok = (vd_r(d, R_STATUS) & S_FEATURES_OK) == 0;
    tap_result(ok && rng_recovers(d), "hostile: FEATURES_OK without VERSION_1 refused");

    /* features the device did not offer */
    vd_w(d, R_STATUS, 0);
    vd_w(d, R_STATUS, S_ACK | S_DRIVER);
    vd_w(d, R_DRV_FEATURES_SEL, 1);
    vd_w(d, R_DRV_FEATURES, 1 | (1u << 30));
    vd_w(d, R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
    ok = (vd_r(d, R_STATUS) & S_FEATURES_OK) == 0;
    tap_result(ok && rng_recovers(d), "hostile: unoffered feature bits refused");
}

static struct gvq blkq2;
static uint8_t sector[512];

static void hostile_blk(struct vdev *d)
{
    bool ok = vdev_begin(d, 0) && vq_setup(d, &blkq2, 0);
    vdev_driver_ok(d);
    /* a zero-length request header: the request fails, the device lives on */
    static struct {
        uint32_t type, reserved;
        uint64_t sector;
    } hdr;
    static volatile uint8_t status;
    status = 0xee;
    struct gbuf b[2] = {{&hdr, 0, false}, {(const void *)&status, 1, true}};
    vq_submit(d, &blkq2, b, 2);
    enum wait_result r = vq_wait(d, &blkq2, 0, 0);
    tap_result(ok && r == WAIT_USED && status == BLK_S_IOERR,
               "hostile: blk request with a zero-length header fails with IOERR");

    /* a data buffer outside RAM */
    hdr.type = 0;
    hdr.sector = 0;
    struct gbuf c[3] = {
        {&hdr, 16, false}, {(const void *)0x7f00000000ULL, 512, true}, {(const void *)&status, 1, true}};
    vq_submit(d, &blkq2, c, 3);
    r = vq_wait(d, &blkq2, 0, 0);
    bool recovered = vdev_begin(d, 0) && vq_setup(d, &blkq2, 0);
    vdev_driver_ok(d);
    uint8_t s = recovered ? blk_request(d, &blkq2, 0, 0, sector, 512, true) : 0xff;
    tap_result(r == WAIT_BROKEN && s == BLK_S_OK && memcmp(sector, "vessel-test-disk", 16) == 0,
               "hostile: blk data buffer outside RAM refused, disk readable after reset");
}

void cases_hostile(struct vdev *rng, struct vdev *blk)
{
    hostile_chains(rng);
    hostile_registers(rng);
    hostile_blk(blk);
}
