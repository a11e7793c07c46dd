/* Unit tests of microvm/virtqueue.c: descriptor chains built by a hostile "guest" in a
 * fake guest memory buffer (loops, overlong chains, out-of-bounds, zero lengths,
 * indirect tables, index wraparound), used ring updates and interrupt suppression. */
#include "microvm/virtqueue.h"
#include "tests/unit/virtio_fake_vm.h"

#define QSIZE 8
#define DESC_GPA 0x1000
#define AVAIL_GPA 0x2000
#define USED_GPA 0x3000
#define DATA_GPA 0x10000

static struct virtq vq;
static struct virtq_desc *desc;
static struct virtq_avail *avail;
static struct virtq_used *used;

static int setup(void **state)
{
    (void)state;
    memset(ram, 0, sizeof(ram));
    desc = (struct virtq_desc *)(ram + DESC_GPA);
    avail = (struct virtq_avail *)(ram + AVAIL_GPA);
    used = (struct virtq_used *)(ram + USED_GPA);
    assert_int_equal(virtq_enable(&vq, &fake_vm, QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA, false, true), 0);
    return 0;
}

static void set_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
    desc[i] = (struct virtq_desc){.addr = addr, .len = len, .flags = flags, .next = next};
}

/* Publish head as the next available chain. */
static void offer(uint16_t head)
{
    avail->ring[avail->idx % QSIZE] = head;
    avail->idx++;
}

static void test_enable_checks(void **state)
{
    struct virtq q;
    (void)state;
    assert_int_equal(virtq_enable(&q, &fake_vm, 0, DESC_GPA, AVAIL_GPA, USED_GPA, false, false), -EINVAL);
    assert_int_equal(virtq_enable(&q, &fake_vm, 6, DESC_GPA, AVAIL_GPA, USED_GPA, false, false), -EINVAL);
    assert_false(virtq_enabled(&q));
    /* misaligned rings */
    assert_int_equal(virtq_enable(&q, &fake_vm, 8, DESC_GPA + 8, AVAIL_GPA, USED_GPA, false, false), -EINVAL);
    assert_int_equal(virtq_enable(&q, &fake_vm, 8, DESC_GPA, AVAIL_GPA + 1, USED_GPA, false, false), -EINVAL);
    assert_int_equal(virtq_enable(&q, &fake_vm, 8, DESC_GPA, AVAIL_GPA, USED_GPA + 2, false, false), -EINVAL);
    /* rings leaving guest RAM, including through address wraparound */
    assert_int_equal(virtq_enable(&q, &fake_vm, 8, RAM_SIZE - 64, AVAIL_GPA, USED_GPA, false, false),
                     -EFAULT);
    assert_int_equal(virtq_enable(&q, &fake_vm, 8, DESC_GPA, AVAIL_GPA, UINT64_MAX - 3, false, false),
                     -EFAULT);
    assert_int_equal(virtq_enable(&q, &fake_vm, 32768, 0xc0000, AVAIL_GPA, USED_GPA, false, false), -EFAULT);
    assert_false(virtq_enabled(&q));
    assert_int_equal(virtq_enable(&q, &fake_vm, 8, DESC_GPA, AVAIL_GPA, USED_GPA, false, false), 0);
    assert_true(virtq_enabled(&q));
}

static void test_simple_chain(void **state)
{
    struct virtq_chain c;
    (void)state;
    assert_int_equal(virtq_pop(&vq, &c), 0); /* empty */
    set_desc(3, DATA_GPA, 16, VIRTQ_DESC_F_NEXT, 5);
    set_desc(5, DATA_GPA + 0x100, 100, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
    set_desc(1, DATA_GPA + 0x200, 1, VIRTQ_DESC_F_WRITE, 0);
    memcpy(ram + DATA_GPA, "0123456789abcdef", 16);
    offer(3);
    assert_int_equal(virtq_pop(&vq, &c), 1);
    assert_int_equal(c.head, 3);
    assert_int_equal(c.n_out, 1);
    assert_int_equal(c.n_in, 2);
    assert_int_equal(c.out_len, 16);
    assert_int_equal(c.in_len, 101);
    assert_ptr_equal(c.iov[0].iov_base, ram + DATA_GPA);
    char buf[8];
    assert_int_equal(virtq_chain_read(&c, 10, buf, sizeof(buf)), 6);
    assert_memory_equal(buf, "abcdef", 6);
    /* a write spanning both writable buffers */
    uint8_t pattern[101];
    memset(pattern, 0x5a, sizeof(pattern));
    assert_int_equal(virtq_chain_write(&c, 0, pattern, sizeof(pattern)), 101);
    assert_int_equal(ram[DATA_GPA + 0x200], 0x5a);
    virtq_push(&vq, c.head, 101);
    assert_int_equal(used->idx, 1);
    assert_int_equal(used->ring[0].id, 3);
    assert_int_equal(used->ring[0].len, 101);
    assert_int_equal(virtq_pop(&vq, &c), 0);
}

static void test_loop_detected(void **state)
{
    struct virtq_chain c;
    (void)state;
    set_desc(0, DATA_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
    set_desc(1, DATA_GPA, 16, VIRTQ_DESC_F_NEXT, 0); /* next points back */
    offer(0);
    assert_int_equal(virtq_pop(&vq, &c), -ELOOP);
    /* a descriptor pointing at itself */
    set_desc(2, DATA_GPA, 16, VIRTQ_DESC_F_NEXT, 2);
    offer(2);
    assert_int_equal(virtq_pop(&vq, &c), -ELOOP);
}

static void test_chain_longer_than_queue(void **state)
{
    struct virtq_chain c;
    (void)state;
    /* All QSIZE descriptors chained, the last one claims a successor: QSIZE + 1 long. */
    for (unsigned i = 0; i < QSIZE; i++)
        set_desc(i, DATA_GPA + i * 16, 16, VIRTQ_DESC_F_NEXT, (uint16_t)((i + 1) % QSIZE));
    offer(0);
    assert_int_equal(virtq_pop(&vq, &c), -ELOOP);
    /* exactly QSIZE long is fine */
    desc[QSIZE - 1].flags = 0;
    offer(0);
    assert_int_equal(virtq_pop(&vq, &c), 1);
    assert_int_equal(c.n_out, QSIZE);
}

static void test_out_of_bounds(void **state)
{
    struct virtq_chain c;
    (void)state;
    set_desc(0, RAM_SIZE, 16, 0, 0); /* just past RAM */
    offer(0);
    assert_int_equal(virtq_pop(&vq, &c), -EFAULT);
    set_desc(0, RAM_SIZE - 8, 16, 0, 0); /* straddles the end */
    offer(0);
    assert_int_equal(virtq_pop(&vq, &c), -EFAULT);
    set_desc(0, UINT64_MAX - 7, 16, VIRTQ_DESC_F_WRITE, 0); /* addr + len overflows */
    offer(0);
    assert_int_equal(virtq_pop(&vq, &c), -EFAULT);
    set_desc(0, DATA_GPA, UINT32_MAX, 0, 0); /* huge length */
    offer(0);
    assert_int_equal(virtq_pop(&vq, &c), -EFAULT);
    /* bad indexes: head and next beyond the queue */
    offer(QSIZE);
    assert_int_equal(virtq_pop(&vq, &c), -EINVAL);
    set_desc(0, DATA_GPA, 16, VIRTQ_DESC_F_NEXT, 200);
    offer(0);
    assert_int_equal(virtq_pop(&vq, &c), -EINVAL);
}

static void test_avail_index_jump(void **state)
{
    struct virtq_chain c;
    (void)state;
    avail->idx = QSIZE + 1; /* claims more chains than the queue holds */
    assert_int_equal(virtq_pop(&vq, &c), -EINVAL);
}

static void test_zero_length_buffers(void **state)
{
    struct virtq_chain c;
    (void)state;
    /* Zero-length descriptors carry nothing; even a bogus address is never touched. */
    set_desc(0, UINT64_MAX, 0, VIRTQ_DESC_F_NEXT, 1);
    set_desc(1, DATA_GPA, 4, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
    set_desc(2, RAM_SIZE * 4, 0, VIRTQ_DESC_F_WRITE, 0);
    offer(0);
    assert_int_equal(virtq_pop(&vq, &c), 1);
    assert_int_equal(c.n_out, 0);
    assert_int_equal(c.n_in, 1);
    assert_int_equal(c.in_len, 4);
    assert_int_equal(virtq_chain_read(&c, 0, (char[4]){0}, 4), 0);
}

static void test_writable_before_readable(void **state)
{
    struct virtq_chain c;
    (void)state;
    set_desc(0, DATA_GPA, 4, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
    set_desc(1, DATA_GPA, 4, 0, 0);
    offer(0);
    assert_int_equal(virtq_pop(&vq, &c), -EINVAL);
}

#define TABLE_GPA 0x8000
static void test_indirect(void **state)
{
    struct virtq_chain c;
    struct virtq_desc *table = (struct virtq_desc *)(ram + TABLE_GPA);
    (void)state;
    table[0] = (struct virtq_desc){DATA_GPA, 16, VIRTQ_DESC_F_NEXT, 2};
    table[2] = (struct virtq_desc){DATA_GPA + 0x100, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1};
    table[1] = (struct virtq_desc){DATA_GPA + 0x400, 1, VIRTQ_DESC_F_WRITE, 0};
    set_desc(4, TABLE_GPA, 3 * sizeof(struct virtq_desc), VIRTQ_DESC_F_INDIRECT, 0);
    offer(4);
    assert_int_equal(virtq_pop(&vq, &c), 1);
    assert_int_equal(c.head, 4);
    assert_int_equal(c.n_out, 1);
    assert_int_equal(c.n_in, 2);
    assert_int_equal(c.in_len, 513);

    /* a loop inside the table */
    table[1].flags = VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE;
    table[1].next = 0;
    offer(4);
    assert_int_equal(virtq_pop(&vq, &c), -ELOOP);
    /* next beyond the table */
    table[1].next = 3;
    offer(4);
    assert_int_equal(virtq_pop(&vq, &c), -EINVAL);
    table[1].flags = VIRTQ_DESC_F_WRITE;
    /* nested indirect */
    table[2].flags |= VIRTQ_DESC_F_INDIRECT;
    offer(4);
    assert_int_equal(virtq_pop(&vq, &c), -EINVAL);
    table[2].flags &= (uint16_t)~VIRTQ_DESC_F_INDIRECT;
    /* table length not a multiple of a descriptor, zero, or outside RAM */
    desc[4].len = 20;
    offer(4);
    assert_int_equal(virtq_pop(&vq, &c), -EINVAL);
    desc[4].len = 0;
    offer(4);
    assert_int_equal(virtq_pop(&vq, &c), -EINVAL);
    desc[4] = (struct virtq_desc){RAM_SIZE - 16, 32, VIRTQ_DESC_F_INDIRECT, 0};
    offer(4);
    assert_int_equal(virtq_pop(&vq, &c), -EFAULT);
    /* INDIRECT together with NEXT */
    desc[4] = (struct virtq_desc){TABLE_GPA, 48, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 0};
    offer(4);
    assert_int_equal(virtq_pop(&vq, &c), -EINVAL);
    /* a table longer than the queue is fine (drivers size it by segments) */
    for (unsigned i = 0; i < 20; i++)
        table[i] = (struct virtq_desc){DATA_GPA + i * 16, 16, (uint16_t)(i < 19 ? VIRTQ_DESC_F_NEXT : 0),
                                       (uint16_t)(i + 1)};
    desc[4] = (struct virtq_desc){TABLE_GPA, 20 * 16, VIRTQ_DESC_F_INDIRECT, 0};
    offer(4);
    assert_int_equal(virtq_pop(&vq, &c), 1);
    assert_int_equal(c.n_out, 20);
    /* a table bigger than a chain may be */
    desc[4] = (struct virtq_desc){TABLE_GPA, (VIRTQ_CHAIN_MAX + 1) * 16, VIRTQ_DESC_F_INDIRECT, 0};
    offer(4);
    assert_int_equal(virtq_pop(&vq, &c), -E2BIG);
}

static void test_indirect_not_negotiated(void **state)
{
    struct virtq_chain c;
    struct virtq_desc *table = (struct virtq_desc *)(ram + TABLE_GPA);
    (void)state;
    assert_int_equal(virtq_enable(&vq, &fake_vm, QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA, false, false), 0);
    table[0] = (struct virtq_desc){DATA_GPA, 16, 0, 0};
    set_desc(0, TABLE_GPA, 16, VIRTQ_DESC_F_INDIRECT, 0);
    offer(0);
    assert_int_equal(virtq_pop(&vq, &c), -EINVAL);
}

static void test_index_wraparound(void **state)
{
    struct virtq_chain c;
    (void)state;
    /* Device and driver both near the 16-bit wrap of the free-running indexes. */
    vq.last_avail = 65534;
    vq.used_idx = 65534;
    used->idx = 65534;
    avail->idx = 65534;
    for (uint16_t i = 0; i < 4; i++) {
        set_desc(i, DATA_GPA + i * 64, 64, VIRTQ_DESC_F_WRITE, 0);
        avail->ring[(uint16_t)(avail->idx) % QSIZE] = i;
        avail->idx++;
    }
    assert_int_equal(avail->idx, 2);
    for (uint16_t i = 0; i < 4; i++) {
        assert_int_equal(virtq_pop(&vq, &c), 1);
        assert_int_equal(c.head, i);
        virtq_push(&vq, c.head, 64);
    }
    assert_int_equal(virtq_pop(&vq, &c), 0);
    assert_int_equal(used->idx, 2);
    assert_int_equal(used->ring[65534 % QSIZE].id, 0);
    assert_int_equal(used->ring[1].id, 3);
}

static void test_interrupt_suppression(void **state)
{
    (void)state;
    assert_false(virtq_should_interrupt(&vq)); /* nothing used yet */
    virtq_push(&vq, 0, 0);
    assert_true(virtq_should_interrupt(&vq));
    assert_false(virtq_should_interrupt(&vq)); /* nothing new since */
    avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
    virtq_push(&vq, 0, 0);
    assert_false(virtq_should_interrupt(&vq));

    /* event index: interrupt only when used idx passes used_event */
    assert_int_equal(virtq_enable(&vq, &fake_vm, QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA, true, false), 0);
    used->idx = 0;
    uint16_t *used_event = &avail->ring[QSIZE];
    *used_event = 2;
    virtq_push(&vq, 0, 0);
    assert_true(virtq_should_interrupt(&vq)); /* the first one always goes */
    virtq_push(&vq, 0, 0);                    /* used idx 2: event 2 not yet passed */
    assert_false(virtq_should_interrupt(&vq));
    virtq_push(&vq, 0, 0); /* used idx 3 passes 2 */
    assert_true(virtq_should_interrupt(&vq));
}

static void test_event_idx_avail_event(void **state)
{
    struct virtq_chain c;
    (void)state;
    assert_int_equal(virtq_enable(&vq, &fake_vm, QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA, true, false), 0);
    uint16_t *avail_event = (uint16_t *)&used->ring[QSIZE];
    set_desc(0, DATA_GPA, 8, 0, 0);
    offer(0);
    offer(0);
    assert_int_equal(virtq_pop(&vq, &c), 1);
    assert_int_equal(virtq_pop(&vq, &c), 1);
    assert_int_equal(virtq_pop(&vq, &c), 0);
    /* once drained, the device asks to be notified at the next new buffer */
    assert_int_equal(*avail_event, 2);
    /* so does a device that only looks (a receive queue waiting for host data) */
    *avail_event = 0;
    assert_false(virtq_has_avail(&vq));
    assert_int_equal(*avail_event, 2);
    offer(0);
    assert_true(virtq_has_avail(&vq));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_enable_checks, setup),
        cmocka_unit_test_setup(test_simple_chain, setup),
        cmocka_unit_test_setup(test_loop_detected, setup),
        cmocka_unit_test_setup(test_chain_longer_than_queue, setup),
        cmocka_unit_test_setup(test_out_of_bounds, setup),
        cmocka_unit_test_setup(test_avail_index_jump, setup),
        cmocka_unit_test_setup(test_zero_length_buffers, setup),
        cmocka_unit_test_setup(test_writable_before_readable, setup),
        cmocka_unit_test_setup(test_indirect, setup),
        cmocka_unit_test_setup(test_indirect_not_negotiated, setup),
        cmocka_unit_test_setup(test_index_wraparound, setup),
        cmocka_unit_test_setup(test_interrupt_suppression, setup),
        cmocka_unit_test_setup(test_event_idx_avail_event, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
