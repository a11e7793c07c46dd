/* Opening paths inside a directory tree (a container's rootfs) so that neither
 * "..", absolute symlinks nor magic links can ever resolve outside of it. */
#ifndef VESSEL_COMMON_PATH_H
#define VESSEL_COMMON_PATH_H

#include <stddef.h>
#include <sys/types.h>

#include "common/error.h"

/* Most symlinks followed while resolving one path (like the kernel's MAXSYMLINKS). */
#define PATH_MAX_SYMLINKS 40

/* Open PATH as if rootfd were "/": absolute symlinks and ".." stop at rootfd,
 * magic links (/proc/PID/fd/N, ...) are refused. Uses openat2(RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS); where openat2 is unavailable, a component walk that keeps
 * every step below rootfd and re-resolves each symlink relative to it (at most
 * PATH_MAX_SYMLINKS, else ELOOP). O_CLOEXEC is always added; O_NOFOLLOW applies to
 * the last component only. "", "/" and "." open rootfd itself.
 * Returns the new fd, or a negative errno with *err set ("open \"PATH\" in root"). */
int path_open_in_root(int rootfd, const char *path, int flags, mode_t mode,
                      struct vessel_error **err);

/* mkdir -p of PATH inside rootfd (symlinks resolved inside it; existing
 * directories are fine). Returns an O_PATH|O_DIRECTORY fd of the final directory. */
int path_mkdir_in_root(int rootfd, const char *path, mode_t mode, struct vessel_error **err);

/* Make sure PATH exists inside rootfd: when missing, create its parents (0755)
 * and then an empty regular file with MODE (a bind-mount target for a file).
 * An existing entry of any type is kept. Returns an O_PATH fd of it. */
int path_create_file_in_root(int rootfd, const char *path, mode_t mode,
                             struct vessel_error **err);

/* Write "/proc/self/fd/N" into buf, a path mount(2) and friends accept for fd.
 * Returns 0, or -ENAMETOOLONG when size is too small. */
int path_fd_to_proc(int fd, char *buf, size_t size);

/* For tests: non-zero makes path_open_in_root use the component walk even where
 * openat2 works, so both resolvers can be checked on this machine. */
void path_force_fallback(int on);

#endif
