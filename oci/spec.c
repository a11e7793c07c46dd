/* config.json entry points: parse (top level, root, annotations), load from a
 * bundle, free, and lookups. Sections are parsed in oci/spec_*.c.
 *
 * Decisions where the runtime-spec leaves room (errors name the JSON path):
 * - Unknown properties are ignored; JSON null counts as absent.
 * - Strict JSON like Go's decoder: no comments, no NUL (raw or \u0000), nesting
 *   at most 64 deep, OCI_SPEC_MAX_FILE bytes, OCI_SPEC_MAX_ITEMS per array/map.
 * - ociVersion must be SemVer 1.x. root is required unless vm.image is given.
 * - Mount destinations, process.cwd, hook/device/namespace paths, masked and
 *   readonly paths must be absolute (runtime-spec 1.1+); relative ones are
 *   rejected, not resolved against "/".
 * - Vocabularies (capabilities, rlimits, seccomp names, ...) are closed lists
 *   from oci/vocab.h: an unknown name is an error, never silently dropped.
 * - hostname/domainname need a UTS namespace; id mappings a user namespace;
 *   time offsets a time namespace. vm.kernel is required in a vm section
 *   (config-vm.md). Sizes are >= -1 (-1 = unlimited). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "oci/spec_internal.h"
#include "oci/vocab.h"

#define HOSTNAME_MAX 64  /* sethostname(2)/setdomainname(2) limit */

int spec_check_absolute(struct json_cursor *c, const char *key, const char *path)
{
    if (path[0] != '/')
        return json_cursor_key_error(c, key, "must be an absolute path");
    return 0;
}

/* "N" or "N-M" (N <= M) separated by commas. */
int spec_check_cpu_list(struct json_cursor *c, const char *key, const char *list)
{
    const char *p = list;
    for (;;) {
        char *end = NULL;
        if (*p < '0' || *p > '9')
            break;
        unsigned long lo = strtoul(p, &end, 10), hi = lo;
        p = end;
        if (*p == '-') {
            p++;
            if (*p < '0' || *p > '9')
                break;
            hi = strtoul(p, &end, 10);
            p = end;
            if (hi < lo)
                break;
        }
        if (*p == '\0')
            return 0;
        if (*p != ',')
            break;
        p++;
    }
    return json_cursor_key_error(c, key, "\"%s\" is not a CPU list like \"0-3,7\"", list);
}

/* SemVer with major version 1 (what runtime-spec 1.x documents carry). */
static int check_oci_version(struct json_cursor *c, const char *v)
{
    const char *p = v;
    for (int part = 0; part < 3; part++) {
        size_t digits = strspn(p, "0123456789");
        if (digits == 0)
            return json_cursor_key_error(c, "ociVersion", "\"%s\" is not a SemVer version", v);
        p += digits;
        if (part < 2) {
            if (*p != '.')
                return json_cursor_key_error(c, "ociVersion", "\"%s\" is not a SemVer version", v);
            p++;
        }
    }
    if (*p != '\0' && *p != '-' && *p != '+')
        return json_cursor_key_error(c, "ociVersion", "\"%s\" is not a SemVer version", v);
    if (strncmp(v, "1.", 2) != 0)
        return json_cursor_key_error(c, "ociVersion", "unsupported version \"%s\" (vessel supports 1.x)", v);
    return 0;
}

static int parse_root(struct json_cursor *c, yajl_val v, struct oci_root *root)
{
    TRY(json_read_string(c, v, "path", true, &root->path));
    if (root->path[0] == '\0')
        return json_cursor_key_error(c, "path", "must not be empty");
    TRY(json_read_bool(c, v, "readonly", &root->readonly, NULL));
    return 0;
}

static int read_name(struct json_cursor *c, yajl_val v, const char *key, char **out)
{
    int r = json_read_string(c, v, key, false, out);
    TRY(r);
    if (r > 0 && strlen(*out) > HOSTNAME_MAX)
        return json_cursor_key_error(c, key, "longer than %d bytes", HOSTNAME_MAX);
    return 0;
}

/* process and root are optional objects whose presence the spec records. */
static int parse_process_section(struct json_cursor *c, yajl_val v, struct oci_spec *spec)
{
    spec->has_process = true;
    return spec_parse_process(c, v, &spec->process);
}

static int parse_root_section(struct json_cursor *c, yajl_val v, struct oci_spec *spec)
{
    spec->has_root = true;
    return parse_root(c, v, &spec->root);
}

static int spec_parse_tree(struct json_cursor *c, yajl_val top, struct oci_spec *spec)
{
    if (!YAJL_IS_OBJECT(top))
        return vessel_error_set(c->err, 0, "config.json: expected a JSON object, got %s", json_type_name(top));
    TRY(json_read_string(c, top, "ociVersion", true, &spec->oci_version));
    TRY(check_oci_version(c, spec->oci_version));

    TRY_SECTION(c, top, "process", false, parse_process_section, spec);
    TRY_SECTION(c, top, "root", false, parse_root_section, spec);
    TRY(read_name(c, top, "hostname", &spec->hostname));
    TRY(read_name(c, top, "domainname", &spec->domainname));
    TRY(spec_parse_mounts(c, top, spec));
    TRY_SECTION(c, top, "hooks", false, spec_parse_hooks, &spec->hooks);
    TRY(json_read_string_map(c, top, "annotations", &spec->annotations, &spec->annotations_len));
    TRY_SECTION(c, top, "linux", false, spec_parse_linux, &spec->linux_);
    TRY_SECTION(c, top, "vm", false, spec_parse_vm, &spec->vm);
    /* Without a UTS namespace of its own, setting these would rename the host. */
    if (spec_namespace(spec, OCI_NS_UTS) == NULL) {
        /* wording shared with namespaces/ (which checks again before sethostname) */
        if (spec->hostname != NULL && spec->hostname[0] != '\0')
            return vessel_error_set(c->err, 0, "hostname \"%s\": a UTS namespace is required", spec->hostname);
        if (spec->domainname != NULL && spec->domainname[0] != '\0')
            return vessel_error_set(c->err, 0, "domainname \"%s\": a UTS namespace is required", spec->domainname);
    }
    /* root is REQUIRED on Linux; a VM given a disk image (vm.image) boots that instead. */
    if (!spec->has_root && spec->vm.image_path == NULL)
        return json_cursor_key_error(c, "root", "missing required field");
    return 0;
}

int spec_parse(const char *json, size_t len, struct oci_spec **out, struct vessel_error **err)
{
    if (len > OCI_SPEC_MAX_FILE)
        return vessel_error_set(err, 0, "config.json: too large (%zu bytes, at most %u)", len, OCI_SPEC_MAX_FILE);
    yajl_val tree = NULL;
    TRY(json_tree_parse("config.json", json, len, &tree, err));
    struct oci_spec *spec = calloc(1, sizeof(*spec));
    if (spec == NULL) {
        yajl_tree_free(tree);
        return vessel_error_set(err, ENOMEM, "config.json");
    }
    struct json_cursor c;
    json_cursor_init(&c, err);
    int r = spec_parse_tree(&c, tree, spec);
    yajl_tree_free(tree);
    if (r < 0) {
        spec_free(spec);
        return r;
    }
    *out = spec;
    return 0;
}

int spec_load(const char *bundle_dir, struct oci_spec **out, struct vessel_error **err)
{
    _cleanup_free_ char *path = NULL;
    if (asprintf(&path, "%s/config.json", bundle_dir) < 0)
        return vessel_error_set(err, ENOMEM, "config.json");
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    int r = read_file_at(AT_FDCWD, path, OCI_SPEC_MAX_FILE, &text, &len, err);
    if (r < 0)
        return r;
    /* Parse errors keep the JSON path first ("process.args: ..."), as users expect. */
    return spec_parse(text, len, out, err);
}

void spec_free(struct oci_spec *spec)
{
    if (spec == NULL)
        return;
    free(spec->oci_version);
    spec_free_process(&spec->process);
    free(spec->root.path);
    free(spec->hostname);
    free(spec->domainname);
    spec_free_mounts(spec->mounts, spec->mounts_len);
    spec_free_hooks(&spec->hooks);
    json_free_kv(spec->annotations, spec->annotations_len);
    spec_free_linux(&spec->linux_);
    spec_free_vm(&spec->vm);
    free(spec);
}

void spec_freep(struct oci_spec **spec)
{
    if (spec != NULL) {
        spec_free(*spec);
        *spec = NULL;
    }
}

const char *spec_annotation(const struct oci_spec *spec, const char *key)
{
    if (spec == NULL || key == NULL)
        return NULL;
    for (size_t i = 0; i < spec->annotations_len; i++)
        if (strcmp(spec->annotations[i].key, key) == 0)
            return spec->annotations[i].value;
    return NULL;
}

const struct oci_namespace *spec_namespace(const struct oci_spec *spec, enum oci_namespace_type type)
{
    if (spec == NULL)
        return NULL;
    for (size_t i = 0; i < spec->linux_.namespaces_len; i++)
        if (spec->linux_.namespaces[i].type == type)
            return &spec->linux_.namespaces[i];
    return NULL;
}

const char *spec_namespace_name(enum oci_namespace_type type)
{
    if ((size_t)type >= oci_namespace_count)
        return NULL;
    return oci_namespace_names[type];
}
