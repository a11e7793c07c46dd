/* Framing, validation and blocking helpers of the vessel.ctl protocol
 * (microvm/protocol.h documents the wire format). Used by the host and the guest init. */
#include "microvm/protocol.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common/fs.h"

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static bool proto_type_known(uint32_t type)
{
    switch (type) {
    case PROTO_HELLO: case PROTO_CREATED: case PROTO_EXIT: case PROTO_ERROR: case PROTO_STARTED:
    case PROTO_START: case PROTO_SIGNAL: case PROTO_STDIN_EOF: case PROTO_EXEC:
        return true;
    default:
        return false;
    }
}

const char *proto_type_name(enum proto_type type)
{
    switch (type) {
    case PROTO_HELLO: return "hello";
    case PROTO_CREATED: return "created";
    case PROTO_EXIT: return "exit";
    case PROTO_ERROR: return "error";
    case PROTO_STARTED: return "started";
    case PROTO_START: return "start";
    case PROTO_SIGNAL: return "signal";
    case PROTO_STDIN_EOF: return "stdin-eof";
    case PROTO_EXEC: return "exec";
    }
    return "unknown";
}

int proto_encode(enum proto_type type, const void *payload, size_t len, void *buf, size_t size)
{
    if (len > PROTO_MAX_PAYLOAD)
        return -EMSGSIZE;
    if (!proto_type_known((uint32_t)type) || (len > 0 && payload == NULL))
        return -EINVAL;
    if (size < PROTO_HEADER_SIZE + len)
        return -ENOBUFS;
    uint8_t *p = buf;
    put_le32(p, PROTO_MAGIC);
    p[4] = (uint8_t)type;
    p[5] = (uint8_t)((unsigned)type >> 8);
    p[6] = 0;
    p[7] = 0;
    put_le32(p + 8, (uint32_t)len);
    if (len > 0)
        memcpy(p + PROTO_HEADER_SIZE, payload, len);
    return (int)(PROTO_HEADER_SIZE + len);
}

void proto_reader_init(struct proto_reader *r)
{
    r->used = 0;
}

size_t proto_reader_feed(struct proto_reader *r, const void *data, size_t len)
{
    size_t room = sizeof(r->buf) - r->used;
    if (len > room)
        len = room;
    memcpy(r->buf + r->used, data, len);
    r->used += len;
    return len;
}

int proto_reader_next(struct proto_reader *r, struct proto_msg *msg, struct vessel_error **err)
{
    if (r->used < PROTO_HEADER_SIZE) {
        /* Reject a bad magic as soon as its bytes are in, not after a full header. */
        for (size_t i = 0; i < r->used && i < 4; i++)
            if (r->buf[i] != (uint8_t)(PROTO_MAGIC >> (8 * i)))
                return vessel_error_set(err, EPROTO, "control channel: bad frame magic");
        return 0;
    }
    if (get_le32(r->buf) != PROTO_MAGIC)
        return vessel_error_set(err, EPROTO, "control channel: bad frame magic");
    uint32_t type = (uint32_t)r->buf[4] | (uint32_t)r->buf[5] << 8;
    uint32_t flags = (uint32_t)r->buf[6] | (uint32_t)r->buf[7] << 8;
    uint32_t len = get_le32(r->buf + 8);
    if (flags != 0)
        return vessel_error_set(err, EPROTO, "control channel: unknown flags 0x%x", flags);
    if (len > PROTO_MAX_PAYLOAD)
        return vessel_error_set(err, EPROTO, "control channel: message of %u bytes exceeds %u",
                                len, PROTO_MAX_PAYLOAD);
    if (!proto_type_known(type))
        return vessel_error_set(err, EPROTO, "control channel: unknown message type %u", type);
    if (r->used < PROTO_HEADER_SIZE + len)
        return 0;
    msg->type = (enum proto_type)type;
    msg->length = len;
    memcpy(msg->payload, r->buf + PROTO_HEADER_SIZE, len);
    msg->payload[len] = '\0';
    size_t frame = PROTO_HEADER_SIZE + len;
    memmove(r->buf, r->buf + frame, r->used - frame);
    r->used -= frame;
    int rc = proto_msg_validate(msg, err);
    return rc < 0 ? rc : 1;
}

uint32_t proto_get_u32(const struct proto_msg *msg, size_t offset)
{
    if (offset + 4 > msg->length)
        return 0;
    return get_le32(msg->payload + offset);
}

uint64_t proto_get_u64(const struct proto_msg *msg, size_t offset)
{
    return (uint64_t)proto_get_u32(msg, offset) | (uint64_t)proto_get_u32(msg, offset + 4) << 32;
}

int proto_msg_validate(const struct proto_msg *msg, struct vessel_error **err)
{
    const char *name = proto_type_name(msg->type);
    size_t want;
    switch (msg->type) {
    case PROTO_HELLO:
    case PROTO_SIGNAL:
        want = 4;
        break;
    case PROTO_EXIT:
    case PROTO_STDIN_EOF:
        want = 8;
        break;
    case PROTO_CREATED: case PROTO_STARTED: case PROTO_START:
        want = 0;
        break;
    case PROTO_ERROR:
    case PROTO_EXEC:
        if (memchr(msg->payload, '\0', msg->length) != NULL)
            return vessel_error_set(err, EPROTO, "control channel: %s message holds a NUL", name);
        return 0;
    default:
        return vessel_error_set(err, EPROTO, "control channel: unknown message type %d",
                                (int)msg->type);
    }
    if (msg->length != want)
        return vessel_error_set(err, EPROTO, "control channel: %s message of %u bytes, expected %zu",
                                name, msg->length, want);
    if (msg->type == PROTO_SIGNAL) {
        uint32_t sig = proto_get_u32(msg, 0);
        if (sig < 1 || sig > 64)
            return vessel_error_set(err, EPROTO, "control channel: signal %u out of range", sig);
    }
    if (msg->type == PROTO_EXIT) {
        uint32_t kind = proto_get_u32(msg, 0), value = proto_get_u32(msg, 4);
        if (kind == PROTO_EXIT_CODE ? value > 255 : kind != PROTO_EXIT_SIGNAL || value < 1 || value > 64)
            return vessel_error_set(err, EPROTO, "control channel: bad exit status (%u, %u)",
                                    kind, value);
    }
    return 0;
}

int proto_send(int fd, enum proto_type type, const void *payload, size_t len,
               struct vessel_error **err)
{
    uint8_t frame[PROTO_MAX_FRAME];
    int n = proto_encode(type, payload, len, frame, sizeof(frame));
    if (n < 0)
        return vessel_error_set(err, -n, "encode %s message", proto_type_name(type));
    /* One write per frame: ports and sockets keep small frames whole. */
    int rc = write_all_fd(fd, frame, (size_t)n);
    if (rc < 0)
        return vessel_error_set(err, -rc, "send %s message", proto_type_name(type));
    return 0;
}

int proto_send_u32(int fd, enum proto_type type, uint32_t value, struct vessel_error **err)
{
    uint8_t b[4];
    put_le32(b, value);
    return proto_send(fd, type, b, sizeof(b), err);
}

int proto_send_u64(int fd, enum proto_type type, uint64_t value, struct vessel_error **err)
{
    uint8_t b[8];
    put_le32(b, (uint32_t)value);
    put_le32(b + 4, (uint32_t)(value >> 32));
    return proto_send(fd, type, b, sizeof(b), err);
}

int proto_send_exit(int fd, enum proto_exit_kind kind, uint32_t value, struct vessel_error **err)
{
    uint8_t b[8];
    put_le32(b, (uint32_t)kind);
    put_le32(b + 4, value);
    return proto_send(fd, PROTO_EXIT, b, sizeof(b), err);
}

int proto_send_text(int fd, enum proto_type type, const char *text, struct vessel_error **err)
{
    size_t len = strlen(text);
    if (len > PROTO_MAX_PAYLOAD)
        len = PROTO_MAX_PAYLOAD;
    return proto_send(fd, type, text, len, err);
}

int proto_recv(int fd, struct proto_reader *r, struct proto_msg *msg, struct vessel_error **err)
{
    for (;;) {
        int rc = proto_reader_next(r, msg, err);
        if (rc != 0)
            return rc < 0 ? rc : 0;
        uint8_t chunk[1024];
        size_t room = sizeof(r->buf) - r->used;
        ssize_t n = read(fd, chunk, room < sizeof(chunk) ? room : sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return vessel_error_set(err, errno, "read control channel");
        if (n == 0)
            return vessel_error_set(err, EPIPE, "control channel closed");
        proto_reader_feed(r, chunk, (size_t)n);
    }
}
