/* Written from the parent into a child's /proc entries: user namespace id
 * maps (uid_map, gid_map, setgroups) and time namespace offsets. */
#include "namespaces/namespaces.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "namespaces/rootfs_internal.h"

#define MAX_MAP_LINES 340  /* the kernel's limit per map */

static int proc_write(pid_t pid, const char *name, const char *text, struct vessel_error **err)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return vessel_error_set(err, errno, "open \"%s\"", path);
    /* One write: the kernel accepts a map only as a single write. */
    ssize_t n = write(fd, text, strlen(text));
    if (n < 0)
        return vessel_error_set(err, errno, "write \"%s\"", path);
    if ((size_t)n != strlen(text))
        return vessel_error_set(err, EIO, "write \"%s\": short write", path);
    return 0;
}

static int map_format(const struct oci_id_mapping *m, size_t n, const char *what, char **out,
                      struct vessel_error **err)
{
    if (n > MAX_MAP_LINES)
        return vessel_error_set(err, EINVAL, "linux.%s: more than %d mappings", what, MAX_MAP_LINES);
    size_t cap = n * 33 + 1, used = 0;
    char *buf = malloc(cap);
    if (buf == NULL)
        return vessel_error_set(err, ENOMEM, "linux.%s", what);
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (m[i].size == 0) {
            free(buf);
            return vessel_error_set(err, EINVAL, "linux.%s[%zu].size: must be positive", what, i);
        }
        used += (size_t)snprintf(buf + used, cap - used, "%" PRIu32 " %" PRIu32 " %" PRIu32 "\n",
                                 m[i].container_id, m[i].host_id, m[i].size);
    }
    *out = buf;
    return 0;
}

int userns_write_id_maps(pid_t pid, const struct oci_id_mapping *uids, size_t nuids,
                         const struct oci_id_mapping *gids, size_t ngids, struct vessel_error **err)
{
    _cleanup_free_ char *uid_map = NULL;
    _cleanup_free_ char *gid_map = NULL;
    int r;
    if (nuids > 0 && (r = map_format(uids, nuids, "uidMappings", &uid_map, err)) < 0)
        return r;
    if (ngids > 0 && (r = map_format(gids, ngids, "gidMappings", &gid_map, err)) < 0)
        return r;
    if (uid_map != NULL && (r = proc_write(pid, "uid_map", uid_map, err)) < 0)
        return vessel_error_wrap(err, "writing uid mappings");
    if (gid_map != NULL) {
        /* Without CAP_SETGID in the parent namespace (rootless) the kernel only
         * takes a gid map once setgroups is denied. */
        if (geteuid() != 0 && (r = proc_write(pid, "setgroups", "deny", err)) < 0)
            return vessel_error_wrap(err, "writing gid mappings");
        if ((r = proc_write(pid, "gid_map", gid_map, err)) < 0)
            return vessel_error_wrap(err, "writing gid mappings");
    }
    return 0;
}

int userns_write_mappings(pid_t pid, const struct oci_spec *spec, struct vessel_error **err)
{
    const struct oci_linux *l = &spec->linux_;
    return userns_write_id_maps(pid, l->uid_mappings, l->uid_mappings_len, l->gid_mappings,
                                l->gid_mappings_len, err);
}

int timens_write_offsets(pid_t pid, const struct oci_spec *spec, struct vessel_error **err)
{
    const struct oci_time_offset *mono = &spec->linux_.time_offset_monotonic;
    const struct oci_time_offset *boot = &spec->linux_.time_offset_boottime;
    char text[160];
    size_t used = 0;
    if (mono->present)
        used += (size_t)snprintf(text + used, sizeof(text) - used, "monotonic %" PRId64 " %" PRIu32 "\n",
                                 mono->secs, mono->nanosecs);
    if (boot->present)
        used += (size_t)snprintf(text + used, sizeof(text) - used, "boottime %" PRId64 " %" PRIu32 "\n",
                                 boot->secs, boot->nanosecs);
    if (used == 0)
        return 0;
    if (proc_write(pid, "timens_offsets", text, err) < 0)
        return vessel_error_wrap(err, "linux.timeOffsets");
    return 0;
}
