/* config.json "linux": namespaces, id mappings, time offsets, devices, sysctl,
 * propagation, masked/readonly paths, personality (resources and seccomp
 * live in their own files). */
#include <stdlib.h>
#include <string.h>

#include "oci/spec_internal.h"
#include "oci/vocab.h"

#define ID_MAPPINGS_MAX 340    /* the kernel's limit on uid_map/gid_map lines */
#define DEVICE_MAJOR_MAX 4095  /* 12-bit major */
#define DEVICE_MINOR_MAX 1048575

static int parse_namespace(struct json_cursor *c, yajl_val v, void *out)
{
    struct oci_namespace *ns = out;
    char *type = NULL;
    int r = json_read_string(c, v, "type", true, &type);
    if (r >= 0) {
        int idx = oci_vocab_find(oci_namespace_names, oci_namespace_count, type);
        if (idx < 0)
            r = json_cursor_key_error(c, "type", "unknown namespace \"%s\"", type);
        else
            ns->type = (enum oci_namespace_type)idx;
    }
    free(type);
    TRY(r);
    r = json_read_string(c, v, "path", false, &ns->path);
    TRY(r);
    if (r > 0)
        TRY(spec_check_absolute(c, "path", ns->path));
    return 0;
}

static int check_unique_namespaces(struct json_cursor *c, const struct oci_namespace *ns, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < i; j++) {
            if (ns[i].type == ns[j].type) {
                size_t saved = json_cursor_enter_key(c, "namespaces");
                json_cursor_enter_index(c, i);
                int r = json_cursor_key_error(c, "type", "duplicate namespace \"%s\"",
                                              oci_namespace_names[ns[i].type]);
                json_cursor_leave(c, saved);
                return r;
            }
        }
    }
    return 0;
}

int spec_parse_id_mapping(struct json_cursor *c, yajl_val v, void *out)
{
    struct oci_id_mapping *m = out;
    TRY(json_read_u32(c, v, "containerID", true, &m->container_id, NULL));
    TRY(json_read_u32(c, v, "hostID", true, &m->host_id, NULL));
    TRY(json_read_u32(c, v, "size", true, &m->size, NULL));
    if (m->size == 0)
        return json_cursor_key_error(c, "size", "must be at least 1");
    if ((uint64_t)m->container_id + m->size > (uint64_t)UINT32_MAX + 1)
        return json_cursor_key_error(c, "size", "containerID + size exceeds 2^32");
    if ((uint64_t)m->host_id + m->size > (uint64_t)UINT32_MAX + 1)
        return json_cursor_key_error(c, "size", "hostID + size exceeds 2^32");
    return 0;
}

static bool ranges_overlap(uint32_t a, uint32_t alen, uint32_t b, uint32_t blen)
{
    return (uint64_t)a < (uint64_t)b + blen && (uint64_t)b < (uint64_t)a + alen;
}

int spec_check_id_mappings(struct json_cursor *c, const char *key, const struct oci_id_mapping *m, size_t n)
{
    if (n > ID_MAPPINGS_MAX)
        return json_cursor_key_error(c, key, "too many mappings (%zu, the kernel allows %d)", n, ID_MAPPINGS_MAX);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < i; j++) {
            const char *side = NULL;
            if (ranges_overlap(m[i].container_id, m[i].size, m[j].container_id, m[j].size))
                side = "container";
            else if (ranges_overlap(m[i].host_id, m[i].size, m[j].host_id, m[j].size))
                side = "host";
            if (side != NULL) {
                size_t saved = json_cursor_enter_key(c, key);
                json_cursor_enter_index(c, i);
                int r = json_cursor_error(c, "%s ids overlap those of entry %zu", side, j);
                json_cursor_leave(c, saved);
                return r;
            }
        }
    }
    return 0;
}

static int parse_time_offset(struct json_cursor *c, yajl_val v, struct oci_time_offset *t)
{
    TRY(json_read_i64(c, v, "secs", false, INT64_MIN, INT64_MAX, &t->secs, NULL));
    uint64_t ns = 0;
    TRY(json_read_u64(c, v, "nanosecs", false, 999999999, &ns, NULL));
    t->nanosecs = (uint32_t)ns;
    t->present = true;
    return 0;
}

static int parse_time_offsets(struct json_cursor *c, yajl_val v, struct oci_linux *l)
{
    for (size_t i = 0; i < v->u.object.len; i++) {
        const char *clock = v->u.object.keys[i];
        if (strcmp(clock, "monotonic") != 0 && strcmp(clock, "boottime") != 0)
            return json_cursor_key_error(c, clock, "unknown clock (expected monotonic or boottime)");
    }
    TRY_SECTION(c, v, "monotonic", false, parse_time_offset, &l->time_offset_monotonic);
    TRY_SECTION(c, v, "boottime", false, parse_time_offset, &l->time_offset_boottime);
    return 0;
}

static int parse_device(struct json_cursor *c, yajl_val v, void *out)
{
    struct oci_device *d = out;
    TRY(json_read_string(c, v, "type", true, &d->type));
    TRY(json_check_vocab(c, "type", d->type, oci_device_type_names, oci_device_type_count, "device type"));
    TRY(json_read_string(c, v, "path", true, &d->path));
    TRY(spec_check_absolute(c, "path", d->path));
    bool fifo = strcmp(d->type, "p") == 0;
    TRY(json_read_i64(c, v, "major", !fifo, 0, DEVICE_MAJOR_MAX, &d->major, NULL));
    TRY(json_read_i64(c, v, "minor", !fifo, 0, DEVICE_MINOR_MAX, &d->minor, NULL));
    uint64_t mode = 0;
    TRY(json_read_u64(c, v, "fileMode", false, 07777, &mode, &d->has_file_mode));
    d->file_mode = (uint32_t)mode;
    TRY(json_read_u32(c, v, "uid", false, &d->uid, &d->has_uid));
    TRY(json_read_u32(c, v, "gid", false, &d->gid, &d->has_gid));
    return 0;
}

static int parse_personality(struct json_cursor *c, yajl_val v, struct oci_personality *p)
{
    TRY(json_read_string(c, v, "domain", true, &p->domain));
    TRY(json_check_vocab(c, "domain", p->domain, oci_personality_domain_names, oci_personality_domain_count,
                         "personality domain"));
    TRY(json_read_string_array(c, v, "flags", false, NULL, 0, NULL, &p->flags, &p->flags_len));
    p->present = true;
    return 0;
}

static int check_absolute_list(struct json_cursor *c, const char *key, char **paths, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (paths[i][0] != '/') {
            size_t saved = json_cursor_enter_key(c, key);
            json_cursor_enter_index(c, i);
            int r = json_cursor_error(c, "must be an absolute path");
            json_cursor_leave(c, saved);
            return r;
        }
    }
    return 0;
}

/* A sysctl name becomes a path under /proc/sys: every component separated by
 * '.' or '/' must be non-empty, which also rules out "." and ".." tricks. */
static int check_sysctl_keys(struct json_cursor *c, const struct oci_kv *kv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *k = kv[i].key;
        bool bad = false;
        size_t run = 0;
        for (const char *p = k; *p != '\0' && !bad; p++) {
            if (*p == '.' || *p == '/') {
                bad = run == 0;
                run = 0;
            } else {
                run++;
            }
        }
        if (bad || run == 0)
            return json_cursor_key_error(c, "sysctl", "invalid sysctl name \"%s\"", k);
    }
    return 0;
}

static bool has_new_or_joined_namespace(const struct oci_linux *l, enum oci_namespace_type type)
{
    for (size_t i = 0; i < l->namespaces_len; i++)
        if (l->namespaces[i].type == type)
            return true;
    return false;
}

int spec_parse_linux(struct json_cursor *c, yajl_val v, struct oci_linux *l)
{
    TRY(json_read_object_array(c, v, "namespaces", false, sizeof(*l->namespaces), parse_namespace,
                               (void **)&l->namespaces, &l->namespaces_len));
    TRY(check_unique_namespaces(c, l->namespaces, l->namespaces_len));
    TRY(json_read_object_array(c, v, "uidMappings", false, sizeof(*l->uid_mappings), spec_parse_id_mapping,
                               (void **)&l->uid_mappings, &l->uid_mappings_len));
    TRY(json_read_object_array(c, v, "gidMappings", false, sizeof(*l->gid_mappings), spec_parse_id_mapping,
                               (void **)&l->gid_mappings, &l->gid_mappings_len));
    TRY(spec_check_id_mappings(c, "uidMappings", l->uid_mappings, l->uid_mappings_len));
    TRY(spec_check_id_mappings(c, "gidMappings", l->gid_mappings, l->gid_mappings_len));
    if ((l->uid_mappings_len > 0 || l->gid_mappings_len > 0) && !has_new_or_joined_namespace(l, OCI_NS_USER))
        return json_cursor_key_error(c, l->uid_mappings_len ? "uidMappings" : "gidMappings",
                                     "id mappings need a user namespace in linux.namespaces");

    TRY_SECTION(c, v, "timeOffsets", false, parse_time_offsets, l);
    if ((l->time_offset_monotonic.present || l->time_offset_boottime.present) &&
        !has_new_or_joined_namespace(l, OCI_NS_TIME))
        return json_cursor_key_error(c, "timeOffsets", "time offsets need a time namespace in linux.namespaces");

    TRY(json_read_object_array(c, v, "devices", false, sizeof(*l->devices), parse_device,
                               (void **)&l->devices, &l->devices_len));
    TRY(json_read_string(c, v, "cgroupsPath", false, &l->cgroups_path));
    TRY_SECTION(c, v, "resources", false, spec_parse_resources, &l->resources);
    TRY(json_read_string_map(c, v, "sysctl", &l->sysctl, &l->sysctl_len));
    TRY(check_sysctl_keys(c, l->sysctl, l->sysctl_len));
    TRY_SECTION(c, v, "seccomp", false, spec_parse_seccomp, &l->seccomp);
    int r = json_read_string(c, v, "rootfsPropagation", false, &l->rootfs_propagation);
    TRY(r);
    if (r > 0)
        TRY(json_check_vocab(c, "rootfsPropagation", l->rootfs_propagation, oci_propagation_names,
                             oci_propagation_count, "propagation"));
    TRY(json_read_string_array(c, v, "maskedPaths", false, NULL, 0, NULL, &l->masked_paths, &l->masked_paths_len));
    TRY(check_absolute_list(c, "maskedPaths", l->masked_paths, l->masked_paths_len));
    TRY(json_read_string_array(c, v, "readonlyPaths", false, NULL, 0, NULL, &l->readonly_paths,
                               &l->readonly_paths_len));
    TRY(check_absolute_list(c, "readonlyPaths", l->readonly_paths, l->readonly_paths_len));
    TRY(json_read_string(c, v, "mountLabel", false, &l->mount_label));
    TRY_SECTION(c, v, "personality", false, parse_personality, &l->personality);
    l->present = true;
    return 0;
}

void spec_free_linux(struct oci_linux *l)
{
    for (size_t i = 0; l->namespaces != NULL && i < l->namespaces_len; i++)
        free(l->namespaces[i].path);
    free(l->namespaces);
    free(l->uid_mappings);
    free(l->gid_mappings);
    for (size_t i = 0; l->devices != NULL && i < l->devices_len; i++) {
        free(l->devices[i].type);
        free(l->devices[i].path);
    }
    free(l->devices);
    free(l->cgroups_path);
    spec_free_resources(&l->resources);
    json_free_kv(l->sysctl, l->sysctl_len);
    spec_free_seccomp(&l->seccomp);
    free(l->rootfs_propagation);
    json_free_strv(l->masked_paths, l->masked_paths_len);
    json_free_strv(l->readonly_paths, l->readonly_paths_len);
    free(l->mount_label);
    free(l->personality.domain);
    json_free_strv(l->personality.flags, l->personality.flags_len);
}
