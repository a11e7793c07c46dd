/* config.json "mounts", "hooks" and the config-vm.md "vm" section. */
#include <stdlib.h>

#include "oci/spec_internal.h"
#include "oci/vocab.h"

static int parse_mount(struct json_cursor *c, yajl_val v, void *out)
{
    struct oci_mount *m = out;
    /* runtime-spec 1.1+ requires absolute destinations; older bundles with
     * relative ones are rejected rather than guessed at. */
    TRY(json_read_string(c, v, "destination", true, &m->destination));
    TRY(spec_check_absolute(c, "destination", m->destination));
    TRY(json_read_string(c, v, "type", false, &m->type));
    TRY(json_read_string(c, v, "source", false, &m->source));
    TRY(json_read_string_array(c, v, "options", false, NULL, 0, NULL, &m->options, &m->options_len));
    TRY(json_read_object_array(c, v, "uidMappings", false, sizeof(*m->uid_mappings), spec_parse_id_mapping,
                               (void **)&m->uid_mappings, &m->uid_mappings_len));
    TRY(json_read_object_array(c, v, "gidMappings", false, sizeof(*m->gid_mappings), spec_parse_id_mapping,
                               (void **)&m->gid_mappings, &m->gid_mappings_len));
    TRY(spec_check_id_mappings(c, "uidMappings", m->uid_mappings, m->uid_mappings_len));
    TRY(spec_check_id_mappings(c, "gidMappings", m->gid_mappings, m->gid_mappings_len));
    if ((m->uid_mappings_len == 0) != (m->gid_mappings_len == 0))
        return json_cursor_key_error(c, m->uid_mappings_len ? "gidMappings" : "uidMappings",
                                     "idmapped mounts need both uidMappings and gidMappings");
    return 0;
}

int spec_parse_mounts(struct json_cursor *c, yajl_val root, struct oci_spec *spec)
{
    return json_read_object_array(c, root, "mounts", false, sizeof(*spec->mounts), parse_mount,
                                  (void **)&spec->mounts, &spec->mounts_len);
}

void spec_free_mounts(struct oci_mount *m, size_t n)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        free(m[i].destination);
        free(m[i].type);
        free(m[i].source);
        json_free_strv(m[i].options, m[i].options_len);
        free(m[i].uid_mappings);
        free(m[i].gid_mappings);
    }
    free(m);
}

static int parse_hook(struct json_cursor *c, yajl_val v, void *out)
{
    struct oci_hook *h = out;
    TRY(json_read_string(c, v, "path", true, &h->path));
    TRY(spec_check_absolute(c, "path", h->path));
    TRY(json_read_string_array(c, v, "args", false, NULL, 0, NULL, &h->args, &h->args_len));
    TRY(json_read_string_array(c, v, "env", false, NULL, 0, NULL, &h->env, &h->env_len));
    TRY(json_read_i32(c, v, "timeout", false, 1, INT32_MAX, &h->timeout, &h->has_timeout));
    return 0;
}

static int parse_hook_list(struct json_cursor *c, yajl_val v, const char *key, struct oci_hook **out,
                           size_t *len)
{
    return json_read_object_array(c, v, key, false, sizeof(**out), parse_hook, (void **)out, len);
}

int spec_parse_hooks(struct json_cursor *c, yajl_val v, struct oci_hooks *hooks)
{
    TRY(parse_hook_list(c, v, "prestart", &hooks->prestart, &hooks->prestart_len));
    TRY(parse_hook_list(c, v, "createRuntime", &hooks->create_runtime, &hooks->create_runtime_len));
    TRY(parse_hook_list(c, v, "createContainer", &hooks->create_container, &hooks->create_container_len));
    TRY(parse_hook_list(c, v, "startContainer", &hooks->start_container, &hooks->start_container_len));
    TRY(parse_hook_list(c, v, "poststart", &hooks->poststart, &hooks->poststart_len));
    TRY(parse_hook_list(c, v, "poststop", &hooks->poststop, &hooks->poststop_len));
    return 0;
}

static void free_hook_list(struct oci_hook *h, size_t n)
{
    if (h == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        free(h[i].path);
        json_free_strv(h[i].args, h[i].args_len);
        json_free_strv(h[i].env, h[i].env_len);
    }
    free(h);
}

void spec_free_hooks(struct oci_hooks *hooks)
{
    free_hook_list(hooks->prestart, hooks->prestart_len);
    free_hook_list(hooks->create_runtime, hooks->create_runtime_len);
    free_hook_list(hooks->create_container, hooks->create_container_len);
    free_hook_list(hooks->start_container, hooks->start_container_len);
    free_hook_list(hooks->poststart, hooks->poststart_len);
    free_hook_list(hooks->poststop, hooks->poststop_len);
}

static int parse_vm_hypervisor(struct json_cursor *c, yajl_val v, struct oci_vm *vm)
{
    TRY(json_read_string(c, v, "path", true, &vm->hypervisor_path));
    TRY(spec_check_absolute(c, "path", vm->hypervisor_path));
    TRY(json_read_string_array(c, v, "parameters", false, NULL, 0, NULL, &vm->hypervisor_parameters,
                               &vm->hypervisor_parameters_len));
    return 0;
}

static int parse_vm_kernel(struct json_cursor *c, yajl_val v, struct oci_vm *vm)
{
    TRY(json_read_string(c, v, "path", true, &vm->kernel_path));
    TRY(spec_check_absolute(c, "path", vm->kernel_path));
    TRY(json_read_string_array(c, v, "parameters", false, NULL, 0, NULL, &vm->kernel_parameters,
                               &vm->kernel_parameters_len));
    int r = json_read_string(c, v, "initrd", false, &vm->kernel_initrd);
    TRY(r);
    if (r > 0)
        TRY(spec_check_absolute(c, "initrd", vm->kernel_initrd));
    return 0;
}

static int parse_vm_image(struct json_cursor *c, yajl_val v, struct oci_vm *vm)
{
    TRY(json_read_string(c, v, "path", true, &vm->image_path));
    TRY(spec_check_absolute(c, "path", vm->image_path));
    TRY(json_read_string(c, v, "format", true, &vm->image_format));
    TRY(json_check_vocab(c, "format", vm->image_format, oci_vm_image_format_names, oci_vm_image_format_count,
                         "image format"));
    return 0;
}

int spec_parse_vm(struct json_cursor *c, yajl_val v, struct oci_vm *vm)
{
    TRY_SECTION(c, v, "hypervisor", false, parse_vm_hypervisor, vm);
    /* config-vm.md: kernel is REQUIRED in a vm section. */
    TRY_SECTION(c, v, "kernel", true, parse_vm_kernel, vm);
    TRY_SECTION(c, v, "image", false, parse_vm_image, vm);
    vm->present = true;
    return 0;
}

void spec_free_vm(struct oci_vm *vm)
{
    free(vm->hypervisor_path);
    json_free_strv(vm->hypervisor_parameters, vm->hypervisor_parameters_len);
    free(vm->kernel_path);
    json_free_strv(vm->kernel_parameters, vm->kernel_parameters_len);
    free(vm->kernel_initrd);
    free(vm->image_path);
    free(vm->image_format);
}
