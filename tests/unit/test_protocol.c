/* Unit tests of the vessel.ctl framing: round trips, partial and merged
 * frames, and hostile input (bad magic, flags, types, sizes, values). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "microvm/protocol.h"

static int feed_and_next(struct proto_reader *r, const void *buf, size_t len, struct proto_msg *msg,
                         struct vessel_error **err)
{
    assert_int_equal(proto_reader_feed(r, buf, len), len);
    return proto_reader_next(r, msg, err);
}

static void test_round_trip_each_type(void **state)
{
    (void)state;
    uint8_t frame[PROTO_MAX_FRAME];
    static struct proto_msg msg;
    struct proto_reader r;
    uint8_t u32[4] = {9, 0, 0, 0};
    uint8_t exitp[8] = {1, 0, 0, 0, 15, 0, 0, 0};
    struct { enum proto_type t; const void *p; size_t n; } cases[] = {
        {PROTO_HELLO, u32, 4}, {PROTO_CREATED, NULL, 0}, {PROTO_EXIT, exitp, 8},
        {PROTO_ERROR, "boom", 4}, {PROTO_STARTED, NULL, 0}, {PROTO_START, NULL, 0},
        {PROTO_SIGNAL, u32, 4}, {PROTO_STDIN_EOF, exitp, 8}, {PROTO_EXEC, "x", 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int n = proto_encode(cases[i].t, cases[i].p, cases[i].n, frame, sizeof(frame));
        assert_int_equal(n, PROTO_HEADER_SIZE + cases[i].n);
        proto_reader_init(&r);
        struct vessel_error *err = NULL;
        assert_int_equal(feed_and_next(&r, frame, (size_t)n, &msg, &err), 1);
        assert_int_equal(msg.type, cases[i].t);
        assert_int_equal(msg.length, cases[i].n);
        if (cases[i].n)
            assert_memory_equal(msg.payload, cases[i].p, cases[i].n);
        assert_int_equal(r.used, 0);
    }
}

static void test_byte_by_byte_and_merged(void **state)
{
    (void)state;
    uint8_t frames[64];
    int a = proto_encode(PROTO_ERROR, "hello", 5, frames, sizeof(frames));
    int b = proto_encode(PROTO_START, NULL, 0, frames + a, sizeof(frames) - (size_t)a);
    assert_true(a > 0 && b > 0);
    struct proto_reader r;
    static struct proto_msg msg;
    struct vessel_error *err = NULL;
    proto_reader_init(&r);
    int got = 0;
    for (int i = 0; i < a + b; i++) {
        proto_reader_feed(&r, frames + i, 1);
        int rc;
        while ((rc = proto_reader_next(&r, &msg, &err)) == 1)
            got++;
        assert_int_equal(rc, 0);
    }
    assert_int_equal(got, 2);
    assert_int_equal(msg.type, PROTO_START);
    /* Both frames in one read. */
    proto_reader_init(&r);
    proto_reader_feed(&r, frames, (size_t)(a + b));
    assert_int_equal(proto_reader_next(&r, &msg, &err), 1);
    assert_string_equal((char *)msg.payload, "hello");
    assert_int_equal(proto_reader_next(&r, &msg, &err), 1);
    assert_int_equal(msg.type, PROTO_START);
    assert_int_equal(proto_reader_next(&r, &msg, &err), 0);
}

static void expect_error(const uint8_t *buf, size_t len, const char *substr)
{
    struct proto_reader r;
    static struct proto_msg msg;
    struct vessel_error *err = NULL;
    proto_reader_init(&r);
    proto_reader_feed(&r, buf, len);
    assert_true(proto_reader_next(&r, &msg, &err) < 0);
    assert_non_null(err);
    if (strstr(err->msg, substr) == NULL)
        fail_msg("error \"%s\" lacks \"%s\"", err->msg, substr);
    vessel_error_free(err);
}

static void test_hostile_headers(void **state)
{
    (void)state;
    uint8_t f[PROTO_HEADER_SIZE + 8];
    /* bad magic, detected from its first byte */
    uint8_t junk[1] = {'x'};
    expect_error(junk, 1, "bad frame magic");
    /* unknown flags */
    proto_encode(PROTO_START, NULL, 0, f, sizeof(f));
    f[6] = 1;
    expect_error(f, PROTO_HEADER_SIZE, "unknown flags");
    /* unknown type */
    proto_encode(PROTO_START, NULL, 0, f, sizeof(f));
    f[4] = 200;
    expect_error(f, PROTO_HEADER_SIZE, "unknown message type");
    /* oversized length is refused from the header alone */
    proto_encode(PROTO_ERROR, NULL, 0, f, sizeof(f));
    f[8] = 0xff; f[9] = 0xff; f[10] = 0xff; f[11] = 0xff;
    expect_error(f, PROTO_HEADER_SIZE, "exceeds");
    f[8] = (PROTO_MAX_PAYLOAD + 1) & 0xff; f[9] = (PROTO_MAX_PAYLOAD + 1) >> 8; f[10] = 0; f[11] = 0;
    expect_error(f, PROTO_HEADER_SIZE, "exceeds");
}

static void test_hostile_payloads(void **state)
{
    (void)state;
    uint8_t f[PROTO_HEADER_SIZE + 8];
    uint8_t p[8] = {0};
    /* wrong sizes */
    proto_encode(PROTO_SIGNAL, p, 3, f, sizeof(f));
    expect_error(f, PROTO_HEADER_SIZE + 3, "expected 4");
    proto_encode(PROTO_START, p, 1, f, sizeof(f));
    expect_error(f, PROTO_HEADER_SIZE + 1, "expected 0");
    proto_encode(PROTO_EXIT, p, 4, f, sizeof(f));
    expect_error(f, PROTO_HEADER_SIZE + 4, "expected 8");
    /* signal 0 and 65 */
    proto_encode(PROTO_SIGNAL, p, 4, f, sizeof(f));
    expect_error(f, PROTO_HEADER_SIZE + 4, "out of range");
    p[0] = 65;
    proto_encode(PROTO_SIGNAL, p, 4, f, sizeof(f));
    expect_error(f, PROTO_HEADER_SIZE + 4, "out of range");
    /* exit code 256, unknown kind, signal 0 */
    uint8_t e[8] = {0, 0, 0, 0, 0, 1, 0, 0};
    proto_encode(PROTO_EXIT, e, 8, f, sizeof(f));
    expect_error(f, PROTO_HEADER_SIZE + 8, "bad exit status");
    uint8_t e2[8] = {7, 0, 0, 0, 1, 0, 0, 0};
    proto_encode(PROTO_EXIT, e2, 8, f, sizeof(f));
    expect_error(f, PROTO_HEADER_SIZE + 8, "bad exit status");
    uint8_t e3[8] = {1, 0, 0, 0, 0, 0, 0, 0};
    proto_encode(PROTO_EXIT, e3, 8, f, sizeof(f));
    expect_error(f, PROTO_HEADER_SIZE + 8, "bad exit status");
    /* text with a NUL inside */
    proto_encode(PROTO_ERROR, "a\0b", 3, f, sizeof(f));
    expect_error(f, PROTO_HEADER_SIZE + 3, "NUL");
}

static void test_encode_limits(void **state)
{
    (void)state;
    static uint8_t big[PROTO_MAX_PAYLOAD + 1];
    static uint8_t frame[PROTO_MAX_FRAME + 16];
    memset(big, 'a', sizeof(big));
    assert_int_equal(proto_encode(PROTO_ERROR, big, PROTO_MAX_PAYLOAD + 1, frame, sizeof(frame)),
                     -EMSGSIZE);
    assert_int_equal(proto_encode(PROTO_ERROR, big, PROTO_MAX_PAYLOAD, frame, sizeof(frame)),
                     PROTO_MAX_FRAME);
    assert_int_equal(proto_encode(PROTO_ERROR, big, 10, frame, 15), -ENOBUFS);
    assert_int_equal(proto_encode((enum proto_type)99, NULL, 0, frame, sizeof(frame)), -EINVAL);
    /* A maximal frame fits the reader exactly. */
    struct proto_reader r;
    static struct proto_msg msg;
    struct vessel_error *err = NULL;
    proto_reader_init(&r);
    assert_int_equal(proto_reader_feed(&r, frame, PROTO_MAX_FRAME + 16), PROTO_MAX_FRAME);
    assert_int_equal(proto_reader_next(&r, &msg, &err), 1);
    assert_int_equal(msg.length, PROTO_MAX_PAYLOAD);
}

static void test_send_recv_over_socket(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    struct vessel_error *err = NULL;
    static char text[PROTO_MAX_PAYLOAD + 100];
    memset(text, 'z', sizeof(text) - 1);
    assert_int_equal(proto_send_u32(sv[0], PROTO_HELLO, PROTO_VERSION, &err), 0);
    assert_int_equal(proto_send_exit(sv[0], PROTO_EXIT_SIGNAL, 9, &err), 0);
    assert_int_equal(proto_send_text(sv[0], PROTO_ERROR, text, &err), 0);
    assert_int_equal(proto_send_u64(sv[0], PROTO_STDIN_EOF, 0x123456789aULL, &err), 0);
    close(sv[0]);
    struct proto_reader r;
    static struct proto_msg msg;
    proto_reader_init(&r);
    assert_int_equal(proto_recv(sv[1], &r, &msg, &err), 0);
    assert_int_equal(msg.type, PROTO_HELLO);
    assert_int_equal(proto_get_u32(&msg, 0), PROTO_VERSION);
    assert_int_equal(proto_recv(sv[1], &r, &msg, &err), 0);
    assert_int_equal(msg.type, PROTO_EXIT);
    assert_int_equal(proto_get_u32(&msg, 0), PROTO_EXIT_SIGNAL);
    assert_int_equal(proto_get_u32(&msg, 4), 9);
    assert_int_equal(proto_recv(sv[1], &r, &msg, &err), 0);
    assert_int_equal(msg.length, PROTO_MAX_PAYLOAD);  /* truncated, not refused */
    assert_int_equal(proto_recv(sv[1], &r, &msg, &err), 0);
    assert_int_equal(msg.type, PROTO_STDIN_EOF);
    assert_true(proto_get_u64(&msg, 0) == 0x123456789aULL);
    assert_int_equal(proto_recv(sv[1], &r, &msg, &err), -EPIPE);
    vessel_error_free(err);
    close(sv[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_each_type),
        cmocka_unit_test(test_byte_by_byte_and_merged),
        cmocka_unit_test(test_hostile_headers),
        cmocka_unit_test(test_hostile_payloads),
        cmocka_unit_test(test_encode_limits),
        cmocka_unit_test(test_send_recv_over_socket),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
