/* Test guest cases for virtio-console (port 0 and multiport), virtio-blk and virtio-rng.
 * The host side (tests/guest/run.sh) provides: stdin "vessel-stdin-ping\n", disks rw.img
 * and ro.img of 1 MiB starting with "vessel-test-disk", and a peer on vessel.ctl that
 * answers "vessel-ctl-pong\n" to the guest's hello. */
#include "cases.h"

#define CONSOLE_F_MULTIPORT (1ULL << 1)
#define CTL_DEVICE_READY 0
#define CTL_DEVICE_ADD 1
#define CTL_PORT_READY 3
#define CTL_CONSOLE_PORT 4
#define CTL_PORT_OPEN 6
#define CTL_PORT_NAME 7

struct ctl_msg {
    uint32_t id;
    uint16_t event;
    uint16_t value;
};

static struct gvq rx0, tx0, cin, cout, rx1, tx1;
static char rx0_buf[256], rx1_buf[256];
static char ctl_bufs[VQ_SIZE][128];

static bool tx(struct vdev *d, struct gvq *q, const void *data, uint32_t len)
{
    struct gbuf b = {data, len, false};
    vq_submit(d, q, &b, 1);
    return vq_wait(d, q, 0, 0) == WAIT_USED;
}

static void post_rx(struct vdev *d, struct gvq *q, char *buf, uint32_t len)
{
    struct gbuf b = {buf, len, true};
    vq_submit(d, q, &b, 1);
}

/* Receive one message (bounded wait); returns its length or -1. */
static int rx(struct vdev *d, struct gvq *q)
{
    uint32_t len;
    return vq_wait(d, q, 0, &len) == WAIT_USED ? (int)len : -1;
}

static void ctl_send(struct vdev *d, uint32_t id, uint16_t event, uint16_t value)
{
    static struct ctl_msg m;
    m = (struct ctl_msg){id, event, value};
    (void)tx(d, &cout, &m, sizeof(m));
}

static void console_multiport(struct vdev *d)
{
    bool added0 = false, added1 = false, console0 = false, named = false, open1 = false;
    ctl_send(d, 0, CTL_DEVICE_READY, 1);
    for (int n = 0; n < 32 && !(added0 && added1 && console0 && named && open1); n++) {
        uint32_t id, len;
        if (vq_wait(d, &cin, &id, &len) != WAIT_USED || id >= VQ_SIZE)
            break;
        struct ctl_msg m;
        memcpy(&m, ctl_bufs[id], sizeof(m));
        if (m.event == CTL_DEVICE_ADD && m.id <= 1) {
            if (m.id == 0)
                added0 = true;
            else
                added1 = true;
            ctl_send(d, m.id, CTL_PORT_READY, 1);
        } else if (m.event == CTL_CONSOLE_PORT && m.id == 0) {
            console0 = true;
        } else if (m.event == CTL_PORT_NAME && m.id == 1) {
            /* the name may come with or without a terminating NUL */
            named = len >= sizeof(m) + 10 && memcmp(ctl_bufs[id] + sizeof(m), "vessel.ctl", 10) == 0 &&
                    (len == sizeof(m) + 10 || ctl_bufs[id][sizeof(m) + 10] == 0);
        } else if (m.event == CTL_PORT_OPEN && m.id == 1) {
            open1 = m.value == 1;
        }
        /* give the buffer back */
        cin.desc[id].len = sizeof(ctl_bufs[id]);
        vq_post(d, &cin, (uint16_t)id, true);
    }
    tap_result(added0 && added1, "console multiport: ports 0 and 1 added (DEVICE_ADD)");
    tap_result(console0, "console multiport: port 0 is the console (CONSOLE_PORT)");
    tap_result(named, "console multiport: port 1 named vessel.ctl (PORT_NAME)");
    tap_result(open1, "console multiport: host end of vessel.ctl open (PORT_OPEN)");

    ctl_send(d, 0, CTL_PORT_OPEN, 1);
    ctl_send(d, 1, CTL_PORT_OPEN, 1);
    post_rx(d, &rx1, rx1_buf, sizeof(rx1_buf) - 1);
    static const char hello[] = "vessel-guest: hello over vessel.ctl\n";
    tap_result(tx(d, &tx1, hello, sizeof(hello) - 1), "console multiport: data sent on vessel.ctl");
    int n = rx(d, &rx1);
    bool pong = n >= 15 && memcmp(rx1_buf, "vessel-ctl-pong", 15) == 0;
    tap_result(pong, "console multiport: reply received on vessel.ctl (%d bytes)", n);
}

void cases_console(struct vdev *d)
{
    if (!vdev_begin(d, CONSOLE_F_MULTIPORT)) {
        tap_result(false, "console: feature negotiation");
        return;
    }
    bool multiport = (d->features & CONSOLE_F_MULTIPORT) != 0;
    uint32_t max_ports = mmio_read32(d->base + R_CONFIG + 4);
    bool ok = vq_setup(d, &rx0, 0) && vq_setup(d, &tx0, 1);
    if (multiport && max_ports >= 2)
        ok = ok && vq_setup(d, &cin, 2) && vq_setup(d, &cout, 3) && vq_setup(d, &rx1, 4) &&
             vq_setup(d, &tx1, 5);
    tap_result(ok, "console: queues set up (multiport %s, %u ports)", multiport ? "on" : "off", max_ports);
    if (!ok)
        return;
    if (multiport)
        for (unsigned i = 0; i < VQ_SIZE; i++)
            cin.desc[i] = (struct vdesc){(uintptr_t)ctl_bufs[i], sizeof(ctl_bufs[i]), D_WRITE, 0};
    /* Buffers go in before DRIVER_OK, as Linux's driver does. */
    post_rx(d, &rx0, rx0_buf, sizeof(rx0_buf) - 1);
    if (multiport)
        for (uint16_t i = 0; i < 8; i++)
            vq_post(d, &cin, i, false);
    vdev_driver_ok(d);

    if (multiport && max_ports >= 2)
        console_multiport(d);
    else
        tap_result(false, "console multiport negotiated");
    static const char hello[] = "vessel-guest: hello from virtio-console\n";
    tap_result(tx(d, &tx0, hello, sizeof(hello) - 1), "console: output on port 0");

    int n = rx(d, &rx0);
    bool ping = n >= 17 && memcmp(rx0_buf, "vessel-stdin-ping", 17) == 0;
    tap_result(ping, "console: input on port 0 (%d bytes)", n);
    if (ping) {
        static const char echo[] = "vessel-guest: echo vessel-stdin-ping\n";
        (void)tx(d, &tx0, echo, sizeof(echo) - 1);
    }
}

/* ---- virtio-blk ---- */

#define BLK_F_RO (1ULL << 5)
#define BLK_F_FLUSH (1ULL << 9)
#define BLK_F_WRITE_ZEROES (1ULL << 14)
#define BLK_T_IN 0
#define BLK_T_OUT 1
#define BLK_T_FLUSH 4
#define BLK_T_GET_ID 8
#define BLK_T_WRITE_ZEROES 13

struct blk_hdr {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};

static struct gvq blkq;
static uint8_t sector_buf[512] __attribute__((aligned(512)));

uint8_t blk_request(struct vdev *d, struct gvq *q, uint32_t type, uint64_t sector, void *data, uint32_t len,
                    bool device_writes)
{
    static struct blk_hdr hdr;
    static volatile uint8_t status;
    hdr = (struct blk_hdr){type, 0, sector};
    status = 0xee;
    struct gbuf b[3] = {
        {&hdr, sizeof(hdr), false}, {data, len, device_writes}, {(const void *)&status, 1, true}};
    if (len == 0) {
        b[1] = b[2];
        vq_submit(d, q, b, 2);
    } else {
        vq_submit(d, q, b, 3);
    }
    enum wait_result r = vq_wait(d, q, 0, 0);
    if (r == WAIT_BROKEN)
        return 0xfe;
    return r == WAIT_USED ? status : 0xff;
}

static bool blk_start(struct vdev *d)
{
    return vdev_begin(d, BLK_F_RO | BLK_F_FLUSH | BLK_F_WRITE_ZEROES) && vq_setup(d, &blkq, 0);
}

void cases_blk(struct vdev *d)
{
    bool ok = blk_start(d);
    bool ro = (d->features & BLK_F_RO) != 0;
    const char *name = ro ? "blk ro" : "blk";
    tap_result(ok, "%s: features negotiated, queue set up", name);
    if (!ok)
        return;
    vdev_driver_ok(d);
    uint64_t capacity =
        mmio_read32(d->base + R_CONFIG) | ((uint64_t)mmio_read32(d->base + R_CONFIG + 4) << 32);
    tap_result(capacity == 2048, "%s: capacity %lu sectors", name, (unsigned long)capacity);

    memset(sector_buf, 0, sizeof(sector_buf));
    uint8_t s = blk_request(d, &blkq, BLK_T_IN, 0, sector_buf, 512, true);
    tap_result(s == BLK_S_OK && memcmp(sector_buf, "vessel-test-disk", 16) == 0,
               "%s: read sector 0 (status %u)", name, s);

    static char id[21];
    memset(id, 0, sizeof(id));
    s = blk_request(d, &blkq, BLK_T_GET_ID, 0, id, 20, true);
    const char *want_id = ro ? "ro.img" : "rw.img";
    tap_result(s == BLK_S_OK && strncmp(id, want_id, 20) == 0, "%s: get-id \"%s\"", name, id);

    s = blk_request(d, &blkq, BLK_T_IN, capacity, sector_buf, 512, true);
    tap_result(s == BLK_S_IOERR, "%s: read past the end fails with IOERR (status %u)", name, s);
    s = blk_request(d, &blkq, 99, 0, sector_buf, 512, true);
    tap_result(s == BLK_S_UNSUPP, "%s: unknown request type gets UNSUPP (status %u)", name, s);

    for (unsigned i = 0; i < 512; i++)
        sector_buf[i] = (uint8_t)(i * 7 + 3);
    s = blk_request(d, &blkq, BLK_T_OUT, 5, sector_buf, 512, false);
    if (ro) {
        tap_result(s == BLK_S_IOERR, "blk ro: VIRTIO_BLK_F_RO offered, write refused with IOERR (status %u)",
                   s);
        return;
    }
    bool wrote = s == BLK_S_OK;
    memset(sector_buf, 0, sizeof(sector_buf));
    s = blk_request(d, &blkq, BLK_T_IN, 5, sector_buf, 512, true);
    bool same = s == BLK_S_OK;
    for (unsigned i = 0; i < 512 && same; i++)
        same = sector_buf[i] == (uint8_t)(i * 7 + 3);
    tap_result(wrote && same, "blk: write then read back sector 5");

    s = blk_request(d, &blkq, BLK_T_FLUSH, 0, 0, 0, false);
    tap_result((d->features & BLK_F_FLUSH) && s == BLK_S_OK, "blk: flush (status %u)", s);

    if (d->features & BLK_F_WRITE_ZEROES) {
        memset(sector_buf, 0xab, sizeof(sector_buf));
        (void)blk_request(d, &blkq, BLK_T_OUT, 6, sector_buf, 512, false);
        static struct {
            uint64_t sector;
            uint32_t num, flags;
        } range = {6, 1, 0};
        s = blk_request(d, &blkq, BLK_T_WRITE_ZEROES, 0, &range, sizeof(range), false);
        (void)blk_request(d, &blkq, BLK_T_IN, 6, sector_buf, 512, true);
        bool zero = true;
        for (unsigned i = 0; i < 512; i++)
            zero = zero && sector_buf[i] == 0;
        tap_result(s == BLK_S_OK && zero, "blk: write-zeroes (status %u)", s);
    } else {
        tap_result(false, "blk: write-zeroes offered");
    }
}

/* ---- virtio-rng ---- */

static struct gvq rngq;

void cases_rng(struct vdev *d)
{
    bool ok = vdev_begin(d, 0) && vq_setup(d, &rngq, 0);
    tap_result(ok, "rng: queue set up");
    if (!ok)
        return;
    vdev_driver_ok(d);
    static uint8_t a[64], b[64];
    struct gbuf ba = {a, sizeof(a), true}, bb = {b, sizeof(b), true};
    uint32_t la = 0, lb = 0;
    vq_submit(d, &rngq, &ba, 1);
    bool got = vq_wait(d, &rngq, 0, &la) == WAIT_USED;
    uint32_t isr = vd_r(d, R_INT_STATUS);
    vd_w(d, R_INT_ACK, isr);
    tap_result((isr & 1) && vd_r(d, R_INT_STATUS) == 0,
               "rng: used-buffer interrupt status raised, then acknowledged");
    vq_submit(d, &rngq, &bb, 1);
    got = got && vq_wait(d, &rngq, 0, &lb) == WAIT_USED;
    bool constant = true;
    for (unsigned i = 1; i < sizeof(a); i++)
        constant = constant && a[i] == a[0];
    tap_result(got && la == 64 && lb == 64 && !constant && memcmp(a, b, sizeof(a)) != 0,
               "rng: returns non-constant bytes (%u and %u bytes)", la, lb);
}
