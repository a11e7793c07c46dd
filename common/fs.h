/* Small file helpers with error objects; every fd they open is O_CLOEXEC. */
#ifndef VESSEL_COMMON_FS_H
#define VESSEL_COMMON_FS_H

#include <stddef.h>
#include <sys/types.h>

#include "common/error.h"

/* Read a whole file (at most max_size bytes, else EFBIG) into a NUL-terminated buffer.
 * Never blocks on a FIFO or device: it is opened O_NONBLOCK. */
int read_file_at(int dirfd, const char *path, size_t max_size, char **out, size_t *len,
                 struct vessel_error **err);
/* Write buf to an existing or new file (O_TRUNC). */
int write_file_at(int dirfd, const char *path, const void *buf, size_t len, mode_t mode,
                  struct vessel_error **err);
/* Write to a temporary file in the same directory, fsync, rename into place. */
int write_file_atomic(const char *path, const void *buf, size_t len, mode_t mode,
                      struct vessel_error **err);
/* mkdir -p; existing directories are fine. */
int mkdir_p(const char *path, mode_t mode, struct vessel_error **err);
/* write() all of buf, retrying EINTR and short writes. Returns 0 or -errno. */
int write_all_fd(int fd, const void *buf, size_t len);
/* read() until len bytes or EOF; returns bytes read or -errno. */
ssize_t read_all_fd(int fd, void *buf, size_t len);

#endif
