/* Unit tests of virtio-blk (a real image file) and virtio-console (pipes and a socket
 * pair as host ends, multiport control messages) over the fake VM of virtio_fake_vm.h. */
#include "tests/unit/virtio_fake_vm.h"
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
    assert_int_equal(rd(0, VIRTIO_MMIO_CONFIG), SECTORS); /* capacity */
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

    assert_int_equal(blk_req(&q, 4, 0, 0, false, NULL), 0); /* flush */
    memset(ram + DATA, 0, 20);
    assert_int_equal(blk_req(&q, 8, 0, 20, true, NULL), 0); /* get-id */
    assert_memory_equal(ram + DATA, "vessel-test-blk-", 16);
    assert_int_equal(blk_req(&q, 0, SECTORS, 512, true, NULL), 1); /* past the end */
    assert_int_equal(blk_req(&q, 0, UINT64_MAX, 512, true, NULL), 1);
    assert_int_equal(blk_req(&q, 0, 0, 100, true, NULL), 1);  /* not whole sectors */
    assert_int_equal(blk_req(&q, 42, 0, 512, true, NULL), 2); /* unsupported */

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
    tq_desc(&cin)[i] =
        (struct virtq_desc){.addr = 0xa0000 + i * 128, .len = 128, .flags = VIRTQ_DESC_F_WRITE};
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
    assert_int_equal(rd(0, VIRTIO_MMIO_CONFIG + 4), 2); /* max_nr_ports */
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
    ctl_send(0, 0, 1); /* DEVICE_READY */
    assert_true(ctl_recv(&m, NULL));
    assert_int_equal(m.event, 1);
    assert_int_equal(m.id, 0);
    assert_true(ctl_recv(&m, NULL));
    assert_int_equal(m.event, 1);
    assert_int_equal(m.id, 1);
    ctl_send(0, 3, 1); /* PORT_READY 0 */
    assert_true(ctl_recv(&m, NULL));
    assert_int_equal(m.event, 4); /* CONSOLE_PORT */
    assert_true(ctl_recv(&m, NULL));
    assert_int_equal(m.event, 6); /* PORT_OPEN */
    ctl_send(1, 3, 1);            /* PORT_READY 1 */
    assert_true(ctl_recv(&m, name));
    assert_int_equal(m.event, 7); /* PORT_NAME */
    assert_string_equal(name, "vessel.ctl");
    assert_true(ctl_recv(&m, NULL));
    assert_int_equal(m.event, 6);
    assert_int_equal(m.value, 1);

    /* named port: data only flows to the guest once it opened the port */
    assert_int_equal(write(sock[1], "ping", 4), 4);
    tq_submit(0, &crx1, 0, &rx, 1, true);
    assert_false(tq_used_next(&crx1, NULL));
    ctl_send(1, 6, 1); /* PORT_OPEN 1 by the guest */
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
    /* nor does a console whose stdout reader went away */
    close(out[0]);
    tq_submit(0, &ctx0, 0, &tx, 1, true);
    assert_true(tq_used_next(&ctx0, NULL));
    tq_submit(0, &ctx0, 0, &tx, 1, true);
    assert_true(tq_used_next(&ctx0, NULL));
    close(in[0]), close(in[1]), close(out[1]);
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
        cmocka_unit_test_setup_teardown(test_blk, blk_setup, blk_teardown),
        cmocka_unit_test_setup_teardown(test_blk_readonly, blk_setup, blk_teardown),
        cmocka_unit_test_setup(test_blk_missing_file, reset_fake),
        cmocka_unit_test_setup(test_console, reset_fake),
        cmocka_unit_test_setup(test_console_bad_ports, reset_fake),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
