/* The runtime-spec features document (`vessel features`, features.md). The
 * static vocabularies come from oci/vocab.h; what depends on the running
 * system or on what runtime/ implements is given by the caller. */
#ifndef VESSEL_OCI_FEATURES_H
#define VESSEL_OCI_FEATURES_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "oci/spec.h"

struct features_info {
    /* linux.cgroup */
    bool cgroup_v1, cgroup_v2, cgroup_systemd, cgroup_systemd_user, cgroup_rdma;
    /* linux.seccomp: archs from libseccomp, supportedFlags from the kernel;
     * when enabled is false, the seccomp lists are omitted. NULL lists -> []. */
    bool seccomp_enabled;
    const char *const *seccomp_archs; size_t seccomp_archs_len;
    const char *const *seccomp_supported_flags; size_t seccomp_supported_flags_len;
    bool apparmor_enabled, selinux_enabled, intel_rdt_enabled;
    bool idmap_mounts_enabled;  /* linux.mountExtensions.idmap.enabled */
    /* Optional overrides; NULL means "the whole oci/vocab.h list". */
    const char *const *namespaces; size_t namespaces_len;
    const char *const *capabilities; size_t capabilities_len;
    const char *const *mount_options; size_t mount_options_len;
    /* "annotations" object, e.g. {"io.github.vessel.version": "0.1.0"}. */
    const struct oci_kv *annotations; size_t annotations_len;
};

/* Pretty-printed JSON: ociVersionMin "1.0.0", ociVersionMax "1.2.0", hooks,
 * mountOptions, linux{namespaces, capabilities, cgroup, seccomp, apparmor,
 * selinux, intelRdt, mountExtensions}, annotations,
 * potentiallyUnsafeConfigAnnotations ["vessel."]. *out is malloc'ed. */
int features_to_json(const struct features_info *info, char **out, struct vessel_error **err);

#endif
