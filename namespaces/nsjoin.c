/* Namespaces to create (clone flags) and to join (open by path, check type, setns). */
#include "namespaces/namespaces.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static int namespace_clone_flag(enum oci_namespace_type type)
{
    switch (type) {
    case OCI_NS_PID: return CLONE_NEWPID;
    case OCI_NS_NETWORK: return CLONE_NEWNET;
    case OCI_NS_MOUNT: return CLONE_NEWNS;
    case OCI_NS_IPC: return CLONE_NEWIPC;
    case OCI_NS_UTS: return CLONE_NEWUTS;
    case OCI_NS_USER: return CLONE_NEWUSER;
    case OCI_NS_CGROUP: return CLONE_NEWCGROUP;
    case OCI_NS_TIME: return CLONE_NEWTIME;
    case OCI_NS_COUNT: break;
    }
    return 0;
}

int namespaces_clone_flags(const struct oci_spec *spec, int *flags, struct vessel_error **err)
{
    int out = 0;
    for (size_t i = 0; i < spec->linux_.namespaces_len; i++) {
        const struct oci_namespace *ns = &spec->linux_.namespaces[i];
        int flag = namespace_clone_flag(ns->type);
        if (flag == 0)
            return vessel_error_set(err, EINVAL, "linux.namespaces[%zu].type: unknown namespace", i);
        if (ns->path == NULL)
            out |= flag;
    }
    *flags = out;
    return 0;
}

void namespaces_close(int fds[OCI_NS_COUNT])
{
    for (int i = 0; i < OCI_NS_COUNT; i++) {
        if (fds[i] >= 0)
            (void)close(fds[i]);
        fds[i] = -1;
    }
}

int namespaces_open_paths(const struct oci_spec *spec, int fds[OCI_NS_COUNT],
                          struct vessel_error **err)
{
    for (int i = 0; i < OCI_NS_COUNT; i++)
        fds[i] = -1;
    for (size_t i = 0; i < spec->linux_.namespaces_len; i++) {
        const struct oci_namespace *ns = &spec->linux_.namespaces[i];
        if (ns->path == NULL)
            continue;
        int flag = namespace_clone_flag(ns->type);
        if (flag == 0 || fds[ns->type] >= 0) {
            namespaces_close(fds);
            return vessel_error_set(err, EINVAL, "linux.namespaces[%zu].path \"%s\": %s", i,
                                    ns->path, flag == 0 ? "unknown namespace type" : "duplicate type");
        }
        int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            int e = errno;
            namespaces_close(fds);
            return vessel_error_set(err, e, "linux.namespaces[%zu].path \"%s\"", i, ns->path);
        }
        int type = ioctl(fd, NS_GET_NSTYPE);
        if (type != flag) {
            int e = type < 0 ? errno : 0;
            (void)close(fd);
            namespaces_close(fds);
            if (type < 0 && e != ENOTTY)
                return vessel_error_set(err, e, "linux.namespaces[%zu].path \"%s\"", i, ns->path);
            return vessel_error_set(err, EINVAL, "linux.namespaces[%zu].path \"%s\": not a %s namespace",
                                    i, ns->path, spec_namespace_name(ns->type));
        }
        fds[ns->type] = fd;
    }
    return 0;
}

static int join_one(const int fds[OCI_NS_COUNT], enum oci_namespace_type type,
                    struct vessel_error **err)
{
    if (fds[type] < 0)
        return 0;
    if (setns(fds[type], namespace_clone_flag(type)) < 0)
        return vessel_error_set(err, errno, "join %s namespace", spec_namespace_name(type));
    return 0;
}

int namespaces_join(const int fds[OCI_NS_COUNT], enum oci_namespace_type which,
                    struct vessel_error **err)
{
    if (which != OCI_NS_COUNT)
        return (int)which < 0 || which > OCI_NS_COUNT
                   ? vessel_error_set(err, EINVAL, "join namespace: bad type %d", (int)which)
                   : join_one(fds, which, err);
    static const enum oci_namespace_type order[] = {
        OCI_NS_IPC, OCI_NS_UTS, OCI_NS_NETWORK, OCI_NS_PID, OCI_NS_CGROUP, OCI_NS_TIME,
    };
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        int r = join_one(fds, order[i], err);
        if (r < 0)
            return r;
    }
    return 0;
}
