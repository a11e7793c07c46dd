/* Array and map readers on top of json_read.c: strings, integers, objects,
 * string maps, each bounded by OCI_SPEC_MAX_ITEMS and named by JSON path. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "oci/json_read.h"

static int array_get(struct json_cursor *c, yajl_val obj, const char *key, bool required, yajl_val *v)
{
    int r = json_member_get(c, obj, key, required, v);
    if (r <= 0)
        return r;
    if (!YAJL_IS_ARRAY(*v))
        return json_cursor_key_error(c, key, "expected an array, got %s", json_type_name(*v));
    if ((*v)->u.array.len > OCI_SPEC_MAX_ITEMS)
        return json_cursor_key_error(c, key, "too many entries (%zu, at most %d)", (*v)->u.array.len,
                                     OCI_SPEC_MAX_ITEMS);
    return 1;
}

int json_read_string_array(struct json_cursor *c, yajl_val obj, const char *key, bool required,
                           const char *const *vocab, size_t vocab_len, const char *what,
                           char ***out, size_t *out_len)
{
    yajl_val v;
    int r = array_get(c, obj, key, required, &v);
    if (r <= 0)
        return r;
    size_t n = v->u.array.len;
    char **strv = calloc(n + 1, sizeof(*strv));
    if (strv == NULL)
        return vessel_error_set(c->err, ENOMEM, "%s", c->path);
    size_t saved = json_cursor_enter_key(c, key);
    for (size_t i = 0; i < n; i++) {
        yajl_val e = v->u.array.values[i];
        size_t saved_i = json_cursor_enter_index(c, i);
        if (!YAJL_IS_STRING(e))
            r = json_cursor_error(c, "expected a string, got %s", json_type_name(e));
        else if (vocab != NULL)
            r = json_check_vocab(c, NULL, e->u.string, vocab, vocab_len, what);
        if (r >= 0 && (strv[i] = strdup(e->u.string)) == NULL)
            r = vessel_error_set(c->err, ENOMEM, "%s", c->path);
        json_cursor_leave(c, saved_i);
        if (r < 0) {
            json_cursor_leave(c, saved);
            json_free_strv(strv, i);
            return r;
        }
    }
    json_cursor_leave(c, saved);
    json_free_strv(*out, *out_len);
    *out = strv;
    *out_len = n;
    return 1;
}

static int compare_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Duplicate keys in O(n log n): maps may hold OCI_SPEC_MAX_ITEMS entries. */
static const char *find_duplicate_key(yajl_val obj)
{
    size_t n = obj->u.object.len;
    if (n < 2)
        return NULL;
    _cleanup_free_ const char **keys = malloc(n * sizeof(*keys));
    if (keys == NULL)
        return NULL;
    memcpy(keys, obj->u.object.keys, n * sizeof(*keys));
    qsort(keys, n, sizeof(*keys), compare_keys);
    for (size_t i = 1; i < n; i++)
        if (strcmp(keys[i - 1], keys[i]) == 0)
            return keys[i];
    return NULL;
}

int json_read_string_map(struct json_cursor *c, yajl_val obj, const char *key, struct oci_kv **out,
                         size_t *out_len)
{
    yajl_val v;
    int r = json_read_object(c, obj, key, false, &v);
    if (r <= 0)
        return r;
    size_t n = v->u.object.len;
    if (n > OCI_SPEC_MAX_ITEMS)
        return json_cursor_key_error(c, key, "too many entries (%zu, at most %d)", n, OCI_SPEC_MAX_ITEMS);
    struct oci_kv *kv = calloc(n + 1, sizeof(*kv));
    if (kv == NULL)
        return vessel_error_set(c->err, ENOMEM, "%s", c->path);
    size_t saved = json_cursor_enter_key(c, key);
    size_t done = 0;
    for (size_t i = 0; i < n && r >= 0; i++) {
        const char *k = v->u.object.keys[i];
        yajl_val e = v->u.object.values[i];
        size_t saved_k = json_cursor_enter_map_key(c, k);
        if (k[0] == '\0') {
            r = json_cursor_error(c, "empty key");
        } else if (!YAJL_IS_STRING(e)) {
            r = json_cursor_error(c, "expected a string, got %s", json_type_name(e));
        } else {
            kv[i].key = strdup(k);
            kv[i].value = strdup(e->u.string);
            done = i + 1;
            if (kv[i].key == NULL || kv[i].value == NULL)
                r = vessel_error_set(c->err, ENOMEM, "%s", c->path);
        }
        json_cursor_leave(c, saved_k);
    }
    const char *dup = r >= 0 ? find_duplicate_key(v) : NULL;
    if (dup != NULL) {
        size_t saved_k = json_cursor_enter_map_key(c, dup);
        r = json_cursor_error(c, "duplicate key");
        json_cursor_leave(c, saved_k);
    }
    json_cursor_leave(c, saved);
    if (r < 0) {
        json_free_kv(kv, done);
        return r;
    }
    json_free_kv(*out, *out_len);
    *out = kv;
    *out_len = n;
    return 1;
}

int json_read_object_array(struct json_cursor *c, yajl_val obj, const char *key, bool required,
                           size_t elem_size, json_element_fn parse, void **out, size_t *out_len)
{
    yajl_val v;
    int r = array_get(c, obj, key, required, &v);
    if (r <= 0)
        return r;
    size_t n = v->u.array.len;
    char *elems = calloc(n + 1, elem_size);
    if (elems == NULL)
        return vessel_error_set(c->err, ENOMEM, "%s", c->path);
    *out = elems;
    *out_len = 0;
    size_t saved = json_cursor_enter_key(c, key);
    for (size_t i = 0; i < n; i++) {
        yajl_val e = v->u.array.values[i];
        size_t saved_i = json_cursor_enter_index(c, i);
        *out_len = i + 1;  /* the element may hold partial allocations: let the caller free it */
        if (!YAJL_IS_OBJECT(e))
            r = json_cursor_error(c, "expected an object, got %s", json_type_name(e));
        else
            r = parse(c, e, elems + i * elem_size);
        json_cursor_leave(c, saved_i);
        if (r < 0)
            break;
    }
    json_cursor_leave(c, saved);
    return r < 0 ? r : 1;
}

int json_read_u32_array(struct json_cursor *c, yajl_val obj, const char *key, bool required,
                        uint32_t **out, size_t *out_len)
{
    yajl_val v;
    int r = array_get(c, obj, key, required, &v);
    if (r <= 0)
        return r;
    size_t n = v->u.array.len;
    uint32_t *vals = calloc(n + 1, sizeof(*vals));
    if (vals == NULL)
        return vessel_error_set(c->err, ENOMEM, "%s", c->path);
    size_t saved = json_cursor_enter_key(c, key);
    for (size_t i = 0; i < n && r >= 0; i++) {
        uint64_t val = 0;
        size_t saved_i = json_cursor_enter_index(c, i);
        r = json_value_u64(c, v->u.array.values[i], UINT32_MAX, &val);
        vals[i] = (uint32_t)val;
        json_cursor_leave(c, saved_i);
    }
    json_cursor_leave(c, saved);
    if (r < 0) {
        free(vals);
        return r;
    }
    free(*out);
    *out = vals;
    *out_len = n;
    return 1;
}

void json_free_strv(char **v, size_t n)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void json_free_kv(struct oci_kv *kv, size_t n)
{
    if (kv == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        free(kv[i].key);
        free(kv[i].value);
    }
    free(kv);
}
