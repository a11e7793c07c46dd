/* Framed messages between the runtime and the container's init on a
 * SOCK_STREAM socketpair: {u32 type, u32 len} + payload (+ fds on the header). */
#ifndef VESSEL_RUNTIME_LINUX_SYNC_H
#define VESSEL_RUNTIME_LINUX_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

enum sync_type {
    SYNC_CHILD_READY = 1,  /* init -> runtime: cloned, ready for id maps and cgroup */
    SYNC_GO,               /* runtime -> init: maps, offsets, cgroup done */
    SYNC_REQUEST,          /* runtime -> init: struct sync_request + strings, fds attached */
    SYNC_HOOKS,            /* init -> runtime: run prestart/createRuntime now */
    SYNC_HOOKS_DONE,       /* runtime -> init */
    SYNC_READY,            /* init -> runtime: set up, waiting on the exec fifo */
    SYNC_ERROR,            /* init -> runtime: int32 errno + message */
};

#define SYNC_MAX_PAYLOAD (8u << 20)
#define SYNC_MAX_FDS 2

enum sync_request_flags {
    SYNC_F_NO_PIVOT = 1, SYNC_F_NO_NEW_KEYRING = 2, SYNC_F_CONSOLE = 4, SYNC_F_RUNTIME_HOOKS = 8,
};

/* Payload of SYNC_REQUEST: then config, rootfs, id, state_json bytes. fds:
 * [0] the exec fifo (O_PATH), [1] the console socket when SYNC_F_CONSOLE. */
struct sync_request {
    uint32_t flags;
    int32_t listen_fds, preserve_fds;
    int32_t pid;  /* the init's pid as the host sees it */
    uint32_t config_len, rootfs_len, id_len, state_len;
};

int sync_send(int fd, uint32_t type, const void *payload, size_t len, const int *fds, size_t nfds);
/* Receives one message; *payload malloc'ed (NUL-terminated) or NULL when len is 0.
 * fds received get -1 when absent. Returns 0, -EPIPE on EOF, or -errno. */
int sync_recv(int fd, uint32_t *type, char **payload, size_t *len, int *fds, size_t nfds);
/* Send err (or a plain message) as SYNC_ERROR. */
void sync_send_error(int fd, const struct vessel_error *err);

#endif
