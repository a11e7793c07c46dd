/* linux.sysctl: validate keys (only namespaced ones, as runc allows) and write
 * them under /proc/sys of the container's namespaces. */
#include "namespaces/namespaces.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"

#define SYSCTL_VALUE_MAX 4096

static const char *const ipc_sysctls[] = {
    "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
    "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
};

static bool has_namespace(const struct oci_spec *spec, enum oci_namespace_type type)
{
    return spec_namespace(spec, type) != NULL;
}

int sysctl_key_validate(const struct oci_spec *spec, const char *key, char *path, size_t size,
                        struct vessel_error **err)
{
    size_t len = key != NULL ? strlen(key) : 0;
    if (len == 0 || len >= size)
        return vessel_error_set(err, EINVAL, "linux.sysctl \"%s\": invalid key", key ? key : "");
    bool slashes = strchr(key, '/') != NULL;
    char sep = slashes ? '/' : '.';
    /* Components: non-empty, not "." or "..", printable without spaces. */
    for (const char *c = key;;) {
        const char *end = strchr(c, sep);
        size_t clen = end ? (size_t)(end - c) : strlen(c);
        if (clen == 0 || (clen == 1 && c[0] == '.') || (clen == 2 && c[0] == '.' && c[1] == '.'))
            return vessel_error_set(err, EINVAL, "linux.sysctl \"%s\": invalid key", key);
        for (size_t i = 0; i < clen; i++)
            if (!isgraph((unsigned char)c[i]))
                return vessel_error_set(err, EINVAL, "linux.sysctl \"%s\": invalid key", key);
        if (end == NULL)
            break;
        c = end + 1;
    }
    if (strstr(key, "..") != NULL)
        return vessel_error_set(err, EINVAL, "linux.sysctl \"%s\": invalid key", key);

    /* The dotted name decides what is allowed; the path keeps slashes as given. */
    char dotted[256];
    if (len >= sizeof(dotted))
        return vessel_error_set(err, EINVAL, "linux.sysctl \"%s\": invalid key", key);
    for (size_t i = 0; i <= len; i++) {
        dotted[i] = key[i] == '/' ? '.' : key[i];
        path[i] = slashes ? key[i] : (key[i] == '.' ? '/' : key[i]);
    }

    bool ipc = strncmp(dotted, "fs.mqueue.", 10) == 0;
    for (size_t i = 0; !ipc && i < sizeof(ipc_sysctls) / sizeof(ipc_sysctls[0]); i++)
        ipc = strcmp(dotted, ipc_sysctls[i]) == 0;
    if (ipc) {
        if (!has_namespace(spec, OCI_NS_IPC))
            return vessel_error_set(err, EPERM, "linux.sysctl \"%s\": not allowed in the host's ipc namespace", key);
        return 0;
    }
    if (strncmp(dotted, "net.", 4) == 0) {
        if (!has_namespace(spec, OCI_NS_NETWORK))
            return vessel_error_set(err, EPERM, "linux.sysctl \"%s\": not allowed in the host's network namespace", key);
        return 0;
    }
    if (strcmp(dotted, "kernel.hostname") == 0 || strcmp(dotted, "kernel.domainname") == 0) {
        if (!has_namespace(spec, OCI_NS_UTS))
            return vessel_error_set(err, EPERM, "linux.sysctl \"%s\": not allowed in the host's uts namespace", key);
        return 0;
    }
    return vessel_error_set(err, EPERM, "linux.sysctl \"%s\": not in a separate kernel namespace", key);
}

/* Whitespace-insensitive comparison: "32768\t60999\n" equals "32768 60999". */
static bool values_equal(const char *a, const char *b)
{
    for (;;) {
        while (isspace((unsigned char)*a))
            a++;
        while (isspace((unsigned char)*b))
            b++;
        if (*a == '\0' || *b == '\0')
            return *a == *b;
        bool sa = false, sb = false;
        while (*a != '\0' && !isspace((unsigned char)*a) && *a == *b) {
            a++;
            b++;
        }
        sa = *a == '\0' || isspace((unsigned char)*a);
        sb = *b == '\0' || isspace((unsigned char)*b);
        if (!sa || !sb)
            return false;
    }
}

static int sysctl_write_one(int sysfd, const char *key, const char *path, const char *value,
                            struct vessel_error **err)
{
    _cleanup_close_ int fd = openat(sysfd, path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && (errno == EACCES || errno == EROFS))
        fd = openat(sysfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return vessel_error_set(err, errno, "linux.sysctl \"%s\"", key);
    char cur[SYSCTL_VALUE_MAX];
    ssize_t n = read_all_fd(fd, cur, sizeof(cur) - 1);
    if (n >= 0) {
        cur[n] = '\0';
        if (values_equal(cur, value))
            return 0;
    }
    (void)close(fd);
    fd = openat(sysfd, path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return vessel_error_set(err, errno, "linux.sysctl \"%s\"", key);
    int r = write_all_fd(fd, value, strlen(value));
    if (r < 0)
        return vessel_error_set(err, -r, "linux.sysctl \"%s\" = \"%s\"", key, value);
    return 0;
}

int sysctl_apply(const struct oci_spec *spec, struct vessel_error **err)
{
    const struct oci_linux *l = &spec->linux_;
    if (l->sysctl_len == 0)
        return 0;
    char path[256];
    for (size_t i = 0; i < l->sysctl_len; i++) {
        int r = sysctl_key_validate(spec, l->sysctl[i].key, path, sizeof(path), err);
        if (r < 0)
            return r;
    }
    _cleanup_close_ int sysfd = open("/proc/sys", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (sysfd < 0)
        return vessel_error_set(err, errno, "linux.sysctl: open \"/proc/sys\"");
    struct statfs sfs;
    if (fstatfs(sysfd, &sfs) < 0)
        return vessel_error_set(err, errno, "linux.sysctl: statfs \"/proc/sys\"");
    if (sfs.f_type != PROC_SUPER_MAGIC)
        return vessel_error_set(err, EINVAL, "linux.sysctl: \"/proc/sys\" is not on procfs");
    for (size_t i = 0; i < l->sysctl_len; i++) {
        const struct oci_kv *kv = &l->sysctl[i];
        (void)sysctl_key_validate(spec, kv->key, path, sizeof(path), NULL);
        int r = sysctl_write_one(sysfd, kv->key, path, kv->value ? kv->value : "", err);
        if (r < 0)
            return r;
    }
    return 0;
}
