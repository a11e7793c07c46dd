/* The host-guest control protocol spoken on the virtio-console port named
 * "vessel.ctl": framed, versioned messages, length-checked on both sides. */
#ifndef VESSEL_MICROVM_PROTOCOL_H
#define VESSEL_MICROVM_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* Wire format (all integers little-endian):
 *   u32 magic  "VSL\x01" = PROTO_MAGIC
 *   u16 type   enum proto_type
 *   u16 flags  0 (receivers reject anything else)
 *   u32 length payload bytes that follow, <= PROTO_MAX_PAYLOAD
 *   payload
 * Any framing error is fatal for the connection: neither side tries to resync. */
#define PROTO_MAGIC 0x014c5356u
#define PROTO_VERSION 1u
#define PROTO_HEADER_SIZE 12u
#define PROTO_MAX_PAYLOAD 4096u
#define PROTO_MAX_FRAME (PROTO_HEADER_SIZE + PROTO_MAX_PAYLOAD)
#define PROTO_NAME "vessel.ctl"        /* control port name */
#define PROTO_STDERR_NAME "vessel.err" /* port carrying the workload's stderr */

enum proto_type {
    /* guest -> host */
    PROTO_HELLO = 1,     /* u32 version: the guest init is up and speaks this version */
    PROTO_CREATED = 2,   /* empty: the container exists in the guest, waiting for START */
    PROTO_EXIT = 3,      /* u32 kind (0 exited, 1 signaled), u32 value (code or signal) */
    PROTO_ERROR = 4,     /* UTF-8 text (no NUL): why the guest cannot go on */
    PROTO_STARTED = 5,   /* empty: the workload was released */
    /* host -> guest */
    PROTO_START = 16,    /* empty: release the workload */
    PROTO_SIGNAL = 17,   /* u32 signal number (1..64) for the workload */
    PROTO_STDIN_EOF = 18,/* u64 bytes: the host's stdin ended after this many bytes on port 0
                          * (ports are not ordered with each other, so the guest closes the
                          * workload's stdin once it has passed on that many) */
    PROTO_EXEC = 19,     /* reserved for `vessel exec`; guests answer PROTO_ERROR */
};

enum proto_exit_kind { PROTO_EXIT_CODE = 0, PROTO_EXIT_SIGNAL = 1 };

struct proto_msg {
    enum proto_type type;
    uint32_t length;
    uint8_t payload[PROTO_MAX_PAYLOAD + 1];  /* +1: text payloads get a NUL */
};

/* Encode one frame into buf (at least PROTO_HEADER_SIZE + len bytes).
 * Returns the frame size, or -EMSGSIZE / -EINVAL / -ENOBUFS. */
int proto_encode(enum proto_type type, const void *payload, size_t len, void *buf, size_t size);

/* Stream reassembly: feed bytes as they arrive, take whole messages out. */
struct proto_reader {
    uint8_t buf[PROTO_MAX_FRAME];
    size_t used;
};

void proto_reader_init(struct proto_reader *r);
/* Append up to len bytes; returns how many were taken (fewer when the buffer is full:
 * take messages out with proto_reader_next, then feed the rest). */
size_t proto_reader_feed(struct proto_reader *r, const void *data, size_t len);
/* 1: a message was stored in *msg; 0: need more bytes; < 0: protocol error (*err set). */
int proto_reader_next(struct proto_reader *r, struct proto_msg *msg, struct vessel_error **err);

/* Check a decoded message's payload against its type (sizes, values). */
int proto_msg_validate(const struct proto_msg *msg, struct vessel_error **err);

/* Write a whole frame to fd (retries EINTR and short writes). */
int proto_send(int fd, enum proto_type type, const void *payload, size_t len,
               struct vessel_error **err);
int proto_send_u32(int fd, enum proto_type type, uint32_t value, struct vessel_error **err);
int proto_send_exit(int fd, enum proto_exit_kind kind, uint32_t value, struct vessel_error **err);
/* Text is truncated to PROTO_MAX_PAYLOAD bytes. */
int proto_send_text(int fd, enum proto_type type, const char *text, struct vessel_error **err);

/* Read from fd until one message is complete (blocking). 0: got one; -EPIPE on EOF. */
int proto_recv(int fd, struct proto_reader *r, struct proto_msg *msg, struct vessel_error **err);

uint32_t proto_get_u32(const struct proto_msg *msg, size_t offset);
uint64_t proto_get_u64(const struct proto_msg *msg, size_t offset);
int proto_send_u64(int fd, enum proto_type type, uint64_t value, struct vessel_error **err);
const char *proto_type_name(enum proto_type type);

#endif
