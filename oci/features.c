/* `vessel features`: the runtime-spec features document (features.md) from the
 * shared vocabularies plus what the caller reports about the running system. */
#include "oci/features.h"

#include <errno.h>

#include "oci/json_write.h"
#include "oci/vocab.h"

static void write_enabled(struct json_writer *w, const char *key, bool enabled)
{
    json_write_key(w, key);
    json_write_map_open(w);
    json_write_kbool(w, "enabled", enabled);
    json_write_map_close(w);
}

/* An override list when given, else the full vocabulary. */
static void write_list(struct json_writer *w, const char *key, const char *const *list, size_t len,
                       const char *const *vocab, size_t vocab_len)
{
    if (list != NULL)
        json_write_kstrv(w, key, list, len);
    else
        json_write_kstrv(w, key, vocab, vocab_len);
}

static void write_seccomp(struct json_writer *w, const struct features_info *info)
{
    json_write_key(w, "seccomp");
    json_write_map_open(w);
    json_write_kbool(w, "enabled", info->seccomp_enabled);
    if (info->seccomp_enabled) {
        json_write_kstrv(w, "actions", oci_seccomp_action_names, oci_seccomp_action_count);
        json_write_kstrv(w, "operators", oci_seccomp_operator_names, oci_seccomp_operator_count);
        json_write_kstrv(w, "archs", info->seccomp_archs, info->seccomp_archs != NULL ? info->seccomp_archs_len : 0);
        json_write_kstrv(w, "knownFlags", oci_seccomp_flag_names, oci_seccomp_flag_count);
        json_write_kstrv(w, "supportedFlags", info->seccomp_supported_flags,
                         info->seccomp_supported_flags != NULL ? info->seccomp_supported_flags_len : 0);
    }
    json_write_map_close(w);
}

static void write_linux(struct json_writer *w, const struct features_info *info)
{
    json_write_key(w, "linux");
    json_write_map_open(w);
    write_list(w, "namespaces", info->namespaces, info->namespaces_len, oci_namespace_names, oci_namespace_count);
    write_list(w, "capabilities", info->capabilities, info->capabilities_len, oci_capability_names,
               oci_capability_count);
    json_write_key(w, "cgroup");
    json_write_map_open(w);
    json_write_kbool(w, "v1", info->cgroup_v1);
    json_write_kbool(w, "v2", info->cgroup_v2);
    json_write_kbool(w, "systemd", info->cgroup_systemd);
    json_write_kbool(w, "systemdUser", info->cgroup_systemd_user);
    json_write_kbool(w, "rdma", info->cgroup_rdma);
    json_write_map_close(w);
    write_seccomp(w, info);
    write_enabled(w, "apparmor", info->apparmor_enabled);
    write_enabled(w, "selinux", info->selinux_enabled);
    write_enabled(w, "intelRdt", info->intel_rdt_enabled);
    json_write_key(w, "mountExtensions");
    json_write_map_open(w);
    write_enabled(w, "idmap", info->idmap_mounts_enabled);
    json_write_map_close(w);
    json_write_map_close(w);
}

int features_to_json(const struct features_info *info, char **out, struct vessel_error **err)
{
    static const struct features_info none = {0};
    if (info == NULL)
        info = &none;
    struct json_writer w;
    if (json_writer_init(&w, true) < 0)
        return vessel_error_set(err, ENOMEM, "features");
    json_write_map_open(&w);
    json_write_kstring(&w, "ociVersionMin", "1.0.0");
    json_write_kstring(&w, "ociVersionMax", "1.2.0");
    json_write_kstrv(&w, "hooks", oci_hook_names, oci_hook_count);
    write_list(&w, "mountOptions", info->mount_options, info->mount_options_len, oci_mount_option_names,
               oci_mount_option_count);
    write_linux(&w, info);
    json_write_kmap(&w, "annotations", info->annotations, info->annotations != NULL ? info->annotations_len : 0);
    json_write_kstrv(&w, "potentiallyUnsafeConfigAnnotations", (const char *const[]){"vessel."}, 1);
    json_write_map_close(&w);
    return json_writer_finish(&w, "features", out, err);
}
