/* Container state documents: the private ROOT/ID/state.json and the OCI
 * state JSON printed by `vessel state`. Plain data, no file I/O. */
#include "oci/state.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "oci/json_read.h"
#include "oci/json_write.h"

#define STATE_MAX_DOC (OCI_SPEC_MAX_FILE + (1u << 20))  /* annotations come from config.json */

static const char *const status_names[] = {"creating", "created", "running", "stopped", "paused"};

const char *container_status_name(enum container_status status)
{
    if ((size_t)status >= sizeof(status_names) / sizeof(status_names[0]))
        return "unknown";
    return status_names[status];
}

int container_status_parse(const char *name, enum container_status *out)
{
    for (size_t i = 0; name != NULL && i < sizeof(status_names) / sizeof(status_names[0]); i++) {
        if (strcmp(status_names[i], name) == 0) {
            *out = (enum container_status)i;
            return 0;
        }
    }
    return -EINVAL;
}

/* The members both documents share, in the order runc prints them. */
static void write_oci_members(struct json_writer *w, const struct container_state *st, bool omit_empty)
{
    json_write_kstring(w, "ociVersion", st->oci_version != NULL ? st->oci_version : "1.2.0");
    json_write_kstring(w, "id", st->id != NULL ? st->id : "");
    json_write_kstring(w, "status", container_status_name(st->status));
    json_write_kint(w, "pid", st->pid);
    json_write_kstring(w, "bundle", st->bundle != NULL ? st->bundle : "");
    json_write_kstring(w, "rootfs", st->rootfs);
    json_write_kstring(w, "created", st->created);
    json_write_kstring(w, "owner", st->owner != NULL ? st->owner : "");
    if (!omit_empty || st->annotations_len > 0)
        json_write_kmap(w, "annotations", st->annotations, st->annotations_len);
}

int state_to_json(const struct container_state *st, char **out, struct vessel_error **err)
{
    struct json_writer w;
    if (json_writer_init(&w, false) < 0)
        return vessel_error_set(err, ENOMEM, "state.json");
    json_write_map_open(&w);
    write_oci_members(&w, st, false);
    json_write_kuint(&w, "pidStartTime", st->pid_start_time);
    json_write_kstring(&w, "cgroupPath", st->cgroup_path);
    json_write_kstring(&w, "isolation", st->isolation);
    json_write_kstring(&w, "vmBackend", st->vm_backend);
    json_write_kbool(&w, "started", st->started);
    json_write_kbool(&w, "systemdCgroup", st->systemd_cgroup);
    json_write_map_close(&w);
    return json_writer_finish(&w, "state.json", out, err);
}

int state_to_oci_json(const struct container_state *st, char **out, struct vessel_error **err)
{
    struct json_writer w;
    if (json_writer_init(&w, true) < 0)
        return vessel_error_set(err, ENOMEM, "state");
    json_write_map_open(&w);
    write_oci_members(&w, st, true);
    json_write_map_close(&w);
    return json_writer_finish(&w, "state", out, err);
}

static int state_parse_tree(struct json_cursor *c, yajl_val top, struct container_state *st)
{
    if (!YAJL_IS_OBJECT(top))
        return json_cursor_error(c, "expected a JSON object, got %s", json_type_name(top));
    int r = json_read_string(c, top, "ociVersion", true, &st->oci_version);
    if (r >= 0)
        r = json_read_string(c, top, "id", true, &st->id);
    char *status = NULL;
    if (r >= 0)
        r = json_read_string(c, top, "status", true, &status);
    if (r >= 0 && container_status_parse(status, &st->status) < 0)
        r = json_cursor_key_error(c, "status", "unknown status \"%s\"", status);
    free(status);
    if (r < 0)
        return r;
    int32_t pid = 0;
    if ((r = json_read_i32(c, top, "pid", false, 0, INT32_MAX, &pid, NULL)) < 0)
        return r;
    st->pid = pid;
    if ((r = json_read_u64(c, top, "pidStartTime", false, UINT64_MAX, &st->pid_start_time, NULL)) < 0 ||
        (r = json_read_string(c, top, "bundle", false, &st->bundle)) < 0 ||
        (r = json_read_string(c, top, "rootfs", false, &st->rootfs)) < 0 ||
        (r = json_read_string(c, top, "created", false, &st->created)) < 0 ||
        (r = json_read_string(c, top, "owner", false, &st->owner)) < 0 ||
        (r = json_read_string_map(c, top, "annotations", &st->annotations, &st->annotations_len)) < 0 ||
        (r = json_read_string(c, top, "cgroupPath", false, &st->cgroup_path)) < 0 ||
        (r = json_read_string(c, top, "isolation", false, &st->isolation)) < 0 ||
        (r = json_read_string(c, top, "vmBackend", false, &st->vm_backend)) < 0 ||
        (r = json_read_bool(c, top, "started", &st->started, NULL)) < 0 ||
        (r = json_read_bool(c, top, "systemdCgroup", &st->systemd_cgroup, NULL)) < 0)
        return r;
    return 0;
}

int state_from_json(const char *json, size_t len, struct container_state **out, struct vessel_error **err)
{
    if (len > STATE_MAX_DOC)
        return vessel_error_set(err, 0, "state.json: too large (%zu bytes)", len);
    yajl_val tree = NULL;
    int r = json_tree_parse("state.json", json, len, &tree, err);
    if (r < 0)
        return r;
    struct container_state *st = calloc(1, sizeof(*st));
    if (st == NULL) {
        yajl_tree_free(tree);
        return vessel_error_set(err, ENOMEM, "state.json");
    }
    struct json_cursor c;
    json_cursor_init(&c, err);
    r = state_parse_tree(&c, tree, st);
    yajl_tree_free(tree);
    if (r < 0) {
        state_free(st);
        return vessel_error_wrap(err, "state.json");
    }
    *out = st;
    return 0;
}

void state_free(struct container_state *st)
{
    if (st == NULL)
        return;
    free(st->oci_version);
    free(st->id);
    free(st->bundle);
    free(st->rootfs);
    free(st->created);
    free(st->owner);
    json_free_kv(st->annotations, st->annotations_len);
    free(st->cgroup_path);
    free(st->isolation);
    free(st->vm_backend);
    free(st);
}

void state_freep(struct container_state **st)
{
    if (st != NULL) {
        state_free(*st);
        *st = NULL;
    }
}
