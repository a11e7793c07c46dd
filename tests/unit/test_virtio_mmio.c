/* Unit tests of the virtio-mmio transport (registers, feature negotiation, queue set-up,
 * notifications by ioeventfd and by MMIO write, interrupts, DEVICE_NEEDS_RESET), driven
 * through virtio-rng over the fake VM of virtio_fake_vm.h. */
#include "tests/unit/virtio_fake_vm.h"
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
    assert_true(rd(0, VIRTIO_MMIO_DEVICE_FEATURES) & 1); /* VERSION_1 */
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
    assert_int_equal(rd(0, VIRTIO_MMIO_QUEUE_READY), 0); /* reset turns queues off */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_registers, reset_fake),
        cmocka_unit_test_setup(test_feature_negotiation, reset_fake),
        cmocka_unit_test_setup(test_queue_setup_refusals, reset_fake),
        cmocka_unit_test_setup(test_rng_ioeventfd, reset_fake),
        cmocka_unit_test_setup(test_rng_mmio_notify, reset_fake),
        cmocka_unit_test_setup(test_broken_device, reset_fake),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
