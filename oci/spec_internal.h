/* Section parsers and destructors shared by the oci/spec*.c files. Internal to oci/.
 * Each parser fills its struct from a yajl object with the cursor at that object. */
#ifndef VESSEL_OCI_SPEC_INTERNAL_H
#define VESSEL_OCI_SPEC_INTERNAL_H

#include "oci/json_read.h"
#include "oci/spec.h"

/* Run a section parser on member KEY of obj with the cursor moved into it. */
#define TRY_SECTION(c, obj, key, required, fn, out)                           \
    do {                                                                      \
        yajl_val section_ = NULL;                                             \
        int section_r_ = json_read_object((c), (obj), (key), (required), &section_); \
        if (section_r_ < 0)                                                   \
            return section_r_;                                                \
        if (section_r_ > 0) {                                                 \
            size_t section_saved_ = json_cursor_enter_key((c), (key));        \
            section_r_ = fn((c), section_, (out));                            \
            json_cursor_leave((c), section_saved_);                           \
            if (section_r_ < 0)                                               \
                return section_r_;                                            \
        }                                                                     \
    } while (0)

/* "KEY: must be an absolute path" unless path starts with '/'. */
int spec_check_absolute(struct json_cursor *c, const char *key, const char *path);
/* Linux cpu list syntax: "0-3,7,9-10". */
int spec_check_cpu_list(struct json_cursor *c, const char *key, const char *list);

int spec_parse_process(struct json_cursor *c, yajl_val v, struct oci_process *p);
void spec_free_process(struct oci_process *p);

int spec_parse_mounts(struct json_cursor *c, yajl_val root, struct oci_spec *spec);
void spec_free_mounts(struct oci_mount *m, size_t n);
int spec_parse_hooks(struct json_cursor *c, yajl_val v, struct oci_hooks *hooks);
void spec_free_hooks(struct oci_hooks *hooks);
int spec_parse_vm(struct json_cursor *c, yajl_val v, struct oci_vm *vm);
void spec_free_vm(struct oci_vm *vm);

/* One {containerID, hostID, size} element (json_element_fn). */
int spec_parse_id_mapping(struct json_cursor *c, yajl_val v, void *out);
int spec_check_id_mappings(struct json_cursor *c, const char *key, const struct oci_id_mapping *m, size_t n);

int spec_parse_linux(struct json_cursor *c, yajl_val v, struct oci_linux *l);
void spec_free_linux(struct oci_linux *l);
int spec_parse_resources(struct json_cursor *c, yajl_val v, struct oci_resources *r);
void spec_free_resources(struct oci_resources *r);
int spec_parse_seccomp(struct json_cursor *c, yajl_val v, struct oci_seccomp *s);
void spec_free_seccomp(struct oci_seccomp *s);

#endif
