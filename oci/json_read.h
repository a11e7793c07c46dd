/* Typed, validating reads from a yajl tree that name the JSON path in every
 * error ("linux.namespaces[2].type: ..."). Internal to oci/. */
#ifndef VESSEL_OCI_JSON_READ_H
#define VESSEL_OCI_JSON_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

#include "common/error.h"
#include "oci/spec.h"

#define JSON_PATH_MAX 512
#define JSON_MAX_DEPTH 64  /* nesting depth accepted before yajl sees the text */

/* Return from the enclosing function when expr fails (is negative). */
#define TRY(expr)                 \
    do {                          \
        int try_r_ = (expr);      \
        if (try_r_ < 0)           \
            return try_r_;        \
    } while (0)

/* Where we are in the document while reading it. */
struct json_cursor {
    char path[JSON_PATH_MAX];
    size_t len;
    struct vessel_error **err;
};

void json_cursor_init(struct json_cursor *c, struct vessel_error **err);
/* Descend into a key or an index; returns what json_cursor_leave() needs. */
size_t json_cursor_enter_key(struct json_cursor *c, const char *key);
size_t json_cursor_enter_index(struct json_cursor *c, size_t index);
/* Map entries: KEY["name"]. */
size_t json_cursor_enter_map_key(struct json_cursor *c, const char *key);
void json_cursor_leave(struct json_cursor *c, size_t saved);
/* "PATH: message" (or just the message at the root); returns -EINVAL. */
int json_cursor_error(struct json_cursor *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Same, for the child key of the current path. */
int json_cursor_key_error(struct json_cursor *c, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Check nesting depth and NUL bytes, then yajl_tree_parse with "config.json: invalid JSON: ..."
 * style errors (what names the document). */
int json_tree_parse(const char *what, const char *json, size_t len, yajl_val *out,
                    struct vessel_error **err);

/* Member of an object; JSON null counts as absent. NULL when absent. */
yajl_val json_member(yajl_val obj, const char *key);
const char *json_type_name(yajl_val v);
/* Member lookup for readers: 1 present, 0 absent, error ("KEY: missing
 * required field") when absent and required. */
int json_member_get(struct json_cursor *c, yajl_val obj, const char *key, bool required, yajl_val *v);
/* An unsigned integer value (cursor already at it), at most max. */
int json_value_u64(struct json_cursor *c, yajl_val v, uint64_t max, uint64_t *out);

/* Each reader: absent member -> 0 and output untouched (unless required, then
 * "KEY: missing required field"); wrong type or range -> error. Readers that
 * take a `bool *present` set it only when the member is there. */
int json_read_object(struct json_cursor *c, yajl_val obj, const char *key, bool required, yajl_val *out);
int json_read_string(struct json_cursor *c, yajl_val obj, const char *key, bool required, char **out);
int json_read_bool(struct json_cursor *c, yajl_val obj, const char *key, bool *out, bool *present);
int json_read_u64(struct json_cursor *c, yajl_val obj, const char *key, bool required, uint64_t max,
                  uint64_t *out, bool *present);
int json_read_i64(struct json_cursor *c, yajl_val obj, const char *key, bool required, int64_t min,
                  int64_t max, int64_t *out, bool *present);
int json_read_u32(struct json_cursor *c, yajl_val obj, const char *key, bool required, uint32_t *out,
                  bool *present);
int json_read_i32(struct json_cursor *c, yajl_val obj, const char *key, bool required, int32_t min,
                  int32_t max, int32_t *out, bool *present);
/* Array of unsigned 32-bit integers. */
int json_read_u32_array(struct json_cursor *c, yajl_val obj, const char *key, bool required,
                        uint32_t **out, size_t *out_len);
/* Array of strings; every element non-NULL. vocab (may be NULL) restricts the
 * values and `what` names them in "unknown WHAT \"x\"". */
int json_read_string_array(struct json_cursor *c, yajl_val obj, const char *key, bool required,
                           const char *const *vocab, size_t vocab_len, const char *what,
                           char ***out, size_t *out_len);
/* Object of string values -> key/value pairs (keys non-empty). */
int json_read_string_map(struct json_cursor *c, yajl_val obj, const char *key, struct oci_kv **out,
                         size_t *out_len);
/* Array of objects: allocates count * elem_size zeroed bytes and calls parse on each
 * element with the cursor at KEY[i]. On error the elements parsed so far stay in *out
 * (with *out_len set) so the caller's free function releases them. */
typedef int (*json_element_fn)(struct json_cursor *c, yajl_val elem, void *out);
int json_read_object_array(struct json_cursor *c, yajl_val obj, const char *key, bool required,
                           size_t elem_size, json_element_fn parse, void **out, size_t *out_len);
/* Check a string against a vocabulary: "KEY: unknown WHAT \"x\"". */
int json_check_vocab(struct json_cursor *c, const char *key, const char *value,
                     const char *const *vocab, size_t vocab_len, const char *what);

void json_free_strv(char **v, size_t n);
void json_free_kv(struct oci_kv *kv, size_t n);

#endif
