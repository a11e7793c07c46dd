/* libFuzzer target: the vessel.ctl stream reader fed one byte stream in a fuzzer-chosen
 * chunking must decode the same messages (or fail at the same point) as when fed whole,
 * every message it accepts must be valid and re-encode to the bytes it came from. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "microvm/protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_MSGS 64

struct outcome {
    unsigned nmsgs;
    int final;                 /* 0: stream ended cleanly, < 0: protocol error */
    struct proto_msg msgs[MAX_MSGS];
    size_t consumed_at_error;  /* bytes taken out as whole frames before the error */
};

static void check_msg(const struct proto_msg *m, const uint8_t *frame)
{
    if (m->length > PROTO_MAX_PAYLOAD || m->payload[m->length] != '\0')
        abort();
    if (proto_msg_validate(m, NULL) != 0)
        abort();
    uint8_t buf[PROTO_MAX_FRAME];
    int n = proto_encode(m->type, m->payload, m->length, buf, sizeof(buf));
    if (n != (int)(PROTO_HEADER_SIZE + m->length) || memcmp(buf, frame, (size_t)n) != 0)
        abort();
    /* Out-of-range reads are zero, never past the payload. */
    for (size_t off = 0; off < m->length + 9; off++)
        (void)proto_get_u64(m, off);
    (void)proto_type_name(m->type);
}

/* Feed `stream` in chunks from the schedule (a byte string of chunk lengths, 0 = 1). */
static void run(const uint8_t *stream, size_t len, const uint8_t *sched, size_t nsched, struct outcome *o)
{
    static struct proto_reader r;
    proto_reader_init(&r);
    o->nmsgs = 0;
    o->final = 0;
    size_t pos = 0, k = 0, frames = 0;
    while (pos < len) {
        size_t chunk = nsched ? (size_t)sched[k++ % nsched] * 37 % 5000 + 1 : len - pos;
        if (chunk > len - pos)
            chunk = len - pos;
        size_t fed = proto_reader_feed(&r, stream + pos, chunk);
        if (fed > chunk || r.used > sizeof(r.buf))
            abort();
        pos += fed;
        for (;;) {
            struct vessel_error *err = NULL;
            const uint8_t *frame = stream + frames;
            int rc = proto_reader_next(&r, &o->msgs[o->nmsgs % MAX_MSGS], &err);
            if (rc < 0) {
                if (err == NULL)
                    abort();
                vessel_error_free(err);
                o->final = rc;
                o->consumed_at_error = frames;
                return;
            }
            if (err != NULL)
                abort();
            if (rc == 0)
                break;
            struct proto_msg *m = &o->msgs[o->nmsgs % MAX_MSGS];
            /* A frame rejected by validation is not "accepted"; the reader still reports it. */
            check_msg(m, frame);
            frames += PROTO_HEADER_SIZE + m->length;
            o->nmsgs++;
        }
        /* Any frame fits the buffer: once whole frames are out it cannot be full. */
        if (r.used == sizeof(r.buf))
            abort();
    }
}

/* proto_recv over a pipe must agree with the in-memory reader. */
static void run_pipe(const uint8_t *stream, size_t len, const struct outcome *want)
{
    if (len > 60000)
        return;
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return;
    if (fcntl(p[1], F_SETPIPE_SZ, 65536) < 0 || write(p[1], stream, len) != (ssize_t)len) {
        close(p[0]);
        close(p[1]);
        return;
    }
    close(p[1]);
    static struct proto_reader r;
    proto_reader_init(&r);
    unsigned n = 0;
    for (;;) {
        struct proto_msg m;
        struct vessel_error *err = NULL;
        int rc = proto_recv(p[0], &r, &m, &err);
        if (rc < 0) {
            vessel_error_free(err);
            /* EOF after the last whole frame, or the same protocol error. */
            if (n != want->nmsgs || (rc != -EPIPE && rc != want->final))
                abort();
            if (want->final < 0 && rc == -EPIPE)
                abort();
            break;
        }
        if (n >= want->nmsgs)
            abort();
        n++;
    }
    close(p[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    /* byte 0: schedule length; then the schedule; the rest is the stream. */
    size_t nsched = data[0] % 16;
    if (nsched + 1 > size)
        return 0;
    const uint8_t *sched = data + 1, *stream = data + 1 + nsched;
    size_t len = size - 1 - nsched;

    static struct outcome whole, chunked;
    run(stream, len, NULL, 0, &whole);
    run(stream, len, sched, nsched, &chunked);
    if (whole.nmsgs != chunked.nmsgs || whole.final != chunked.final)
        abort();
    unsigned keep = whole.nmsgs < MAX_MSGS ? whole.nmsgs : MAX_MSGS;
    for (unsigned i = 0; i < keep; i++)
        if (whole.msgs[i].type != chunked.msgs[i].type || whole.msgs[i].length != chunked.msgs[i].length ||
            memcmp(whole.msgs[i].payload, chunked.msgs[i].payload, whole.msgs[i].length) != 0)
            abort();
    run_pipe(stream, len, &whole);
    return 0;
}
