/* Typed reads from a yajl tree with the JSON path in every error message. */
#include "oci/json_read.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"

void json_cursor_init(struct json_cursor *c, struct vessel_error **err)
{
    c->path[0] = '\0';
    c->len = 0;
    c->err = err;
}

static size_t cursor_append(struct json_cursor *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static size_t cursor_append(struct json_cursor *c, const char *fmt, ...)
{
    size_t saved = c->len;
    size_t room = sizeof(c->path) - c->len;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(c->path + c->len, room, fmt, ap);
    va_end(ap);
    if (n < 0)
        c->path[c->len] = '\0';
    else if ((size_t)n >= room)
        c->len = sizeof(c->path) - 1;  /* truncated: still a useful prefix */
    else
        c->len += (size_t)n;
    return saved;
}

size_t json_cursor_enter_key(struct json_cursor *c, const char *key)
{
    return c->len == 0 ? cursor_append(c, "%s", key) : cursor_append(c, ".%s", key);
}

size_t json_cursor_enter_index(struct json_cursor *c, size_t index)
{
    return cursor_append(c, "[%zu]", index);
}

size_t json_cursor_enter_map_key(struct json_cursor *c, const char *key)
{
    return cursor_append(c, "[\"%s\"]", key);
}

void json_cursor_leave(struct json_cursor *c, size_t saved)
{
    c->len = saved;
    c->path[saved] = '\0';
}

static int cursor_verror(struct json_cursor *c, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static int cursor_verror(struct json_cursor *c, const char *fmt, va_list ap)
{
    _cleanup_free_ char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        return vessel_error_set(c->err, ENOMEM, "%s", c->path);
    if (c->len == 0)
        vessel_error_set(c->err, 0, "%s", msg);
    else
        vessel_error_set(c->err, 0, "%s: %s", c->path, msg);
    return -EINVAL;
}

int json_cursor_error(struct json_cursor *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = cursor_verror(c, fmt, ap);
    va_end(ap);
    return r;
}

int json_cursor_key_error(struct json_cursor *c, const char *key, const char *fmt, ...)
{
    size_t saved = json_cursor_enter_key(c, key);
    va_list ap;
    va_start(ap, fmt);
    int r = cursor_verror(c, fmt, ap);
    va_end(ap);
    json_cursor_leave(c, saved);
    return r;
}

/* yajl frees its trees recursively: bound the depth before handing it the text.
 * Also refuse what yajl would accept but JSON (and runc) does not: comments
 * (they could also hide brackets from this scan) and NUL characters, raw or
 * escaped as \u0000 (C strings would silently end there). */
static int json_check_text(const char *json, size_t len, const char **why)
{
    size_t depth = 0;
    bool in_string = false, escaped = false;
    for (size_t i = 0; i < len; i++) {
        char ch = json[i];
        if (ch == '\0') {
            *why = "contains a NUL byte";
            return -1;
        }
        if (in_string) {
            if (escaped) {
                escaped = false;
                if (ch == 'u' && len - i > 4 && memcmp(json + i + 1, "0000", 4) == 0) {
                    *why = "contains a NUL character (\\u0000)";
                    return -1;
                }
            } else if (ch == '\\') {
                escaped = true;
            } else if (ch == '"') {
                in_string = false;
            }
            continue;
        }
        if (ch == '"') {
            in_string = true;
        } else if (ch == '/') {
            *why = "comments are not allowed";
            return -1;
        } else if (ch == '[' || ch == '{') {
            if (++depth > JSON_MAX_DEPTH) {
                *why = "nested too deeply";
                return -1;
            }
        } else if ((ch == ']' || ch == '}') && depth > 0) {
            depth--;
        }
    }
    return 0;
}

int json_tree_parse(const char *what, const char *json, size_t len, yajl_val *out,
                    struct vessel_error **err)
{
    const char *why = NULL;
    if (json_check_text(json, len, &why) < 0)
        return vessel_error_set(err, 0, "%s: invalid JSON: %s", what, why);
    _cleanup_free_ char *text = malloc(len + 1);
    if (text == NULL)
        return vessel_error_set(err, ENOMEM, "%s", what);
    memcpy(text, json, len);
    text[len] = '\0';
    char errbuf[256] = "";
    yajl_val tree = yajl_tree_parse(text, errbuf, sizeof(errbuf));
    if (tree == NULL) {
        /* yajl's message spans lines (it draws an arrow); the first line is the reason. */
        errbuf[strcspn(errbuf, "\n")] = '\0';
        size_t n = strlen(errbuf);
        while (n > 0 && (errbuf[n - 1] == ' ' || errbuf[n - 1] == '\r'))
            errbuf[--n] = '\0';
        return vessel_error_set(err, 0, "%s: invalid JSON: %s", what, n ? errbuf : "parse error");
    }
    *out = tree;
    return 0;
}

yajl_val json_member(yajl_val obj, const char *key)
{
    if (!YAJL_IS_OBJECT(obj))
        return NULL;
    for (size_t i = 0; i < obj->u.object.len; i++) {
        if (strcmp(obj->u.object.keys[i], key) == 0) {
            yajl_val v = obj->u.object.values[i];
            return YAJL_IS_NULL(v) ? NULL : v;
        }
    }
    return NULL;
}

const char *json_type_name(yajl_val v)
{
    if (v == NULL)
        return "nothing";
    switch (v->type) {
    case yajl_t_string: return "a string";
    case yajl_t_number: return "a number";
    case yajl_t_object: return "an object";
    case yajl_t_array: return "an array";
    case yajl_t_true:
    case yajl_t_false: return "a boolean";
    case yajl_t_null: return "null";
    default: return "an unknown value";
    }
}

int json_member_get(struct json_cursor *c, yajl_val obj, const char *key, bool required, yajl_val *v)
{
    *v = json_member(obj, key);
    if (*v != NULL)
        return 1;
    if (required)
        return json_cursor_key_error(c, key, "missing required field");
    return 0;
}

int json_read_object(struct json_cursor *c, yajl_val obj, const char *key, bool required, yajl_val *out)
{
    yajl_val v;
    int r = json_member_get(c, obj, key, required, &v);
    if (r <= 0)
        return r;
    if (!YAJL_IS_OBJECT(v))
        return json_cursor_key_error(c, key, "expected an object, got %s", json_type_name(v));
    *out = v;
    return 1;
}

int json_read_string(struct json_cursor *c, yajl_val obj, const char *key, bool required, char **out)
{
    yajl_val v;
    int r = json_member_get(c, obj, key, required, &v);
    if (r <= 0)
        return r;
    if (!YAJL_IS_STRING(v))
        return json_cursor_key_error(c, key, "expected a string, got %s", json_type_name(v));
    char *s = strdup(v->u.string);
    if (s == NULL)
        return vessel_error_set(c->err, ENOMEM, "%s", c->path);
    free(*out);
    *out = s;
    return 1;
}

int json_read_bool(struct json_cursor *c, yajl_val obj, const char *key, bool *out, bool *present)
{
    yajl_val v;
    int r = json_member_get(c, obj, key, false, &v);
    if (r <= 0)
        return r;
    if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v))
        return json_cursor_key_error(c, key, "expected a boolean, got %s", json_type_name(v));
    *out = YAJL_IS_TRUE(v);
    if (present != NULL)
        *present = true;
    return 1;
}

/* An integer literal: optional '-', digits, nothing else (no fraction, no exponent). */
static bool number_is_integer(const char *raw)
{
    const char *p = raw;
    if (*p == '-')
        p++;
    if (*p == '\0')
        return false;
    for (; *p != '\0'; p++)
        if (*p < '0' || *p > '9')
            return false;
    return true;
}

/* Number readers work on a value with the cursor already at it. */
static int value_integer(struct json_cursor *c, yajl_val v, const char **raw)
{
    if (!YAJL_IS_NUMBER(v))
        return json_cursor_error(c, "expected an integer, got %s", json_type_name(v));
    if (!number_is_integer(v->u.number.r))
        return json_cursor_error(c, "expected an integer, got %s", v->u.number.r);
    *raw = v->u.number.r;
    return 0;
}

int json_value_u64(struct json_cursor *c, yajl_val v, uint64_t max, uint64_t *out)
{
    const char *raw = NULL;
    TRY(value_integer(c, v, &raw));
    if (raw[0] == '-')
        return json_cursor_error(c, "must not be negative (got %s)", raw);
    errno = 0;
    unsigned long long val = strtoull(raw, NULL, 10);
    if (errno == ERANGE || val > max)
        return json_cursor_error(c, "%s is out of range (maximum %" PRIu64 ")", raw, max);
    *out = val;
    return 0;
}

static int value_i64(struct json_cursor *c, yajl_val v, int64_t min, int64_t max, int64_t *out)
{
    const char *raw = NULL;
    TRY(value_integer(c, v, &raw));
    errno = 0;
    long long val = strtoll(raw, NULL, 10);
    if (errno == ERANGE || val < min || val > max)
        return json_cursor_error(c, "%s is out of range (%" PRId64 "..%" PRId64 ")", raw, min, max);
    *out = val;
    return 0;
}

int json_read_u64(struct json_cursor *c, yajl_val obj, const char *key, bool required, uint64_t max,
                  uint64_t *out, bool *present)
{
    yajl_val v;
    int r = json_member_get(c, obj, key, required, &v);
    if (r <= 0)
        return r;
    size_t saved = json_cursor_enter_key(c, key);
    r = json_value_u64(c, v, max, out);
    json_cursor_leave(c, saved);
    if (r < 0)
        return r;
    if (present != NULL)
        *present = true;
    return 1;
}

int json_read_i64(struct json_cursor *c, yajl_val obj, const char *key, bool required, int64_t min,
                  int64_t max, int64_t *out, bool *present)
{
    yajl_val v;
    int r = json_member_get(c, obj, key, required, &v);
    if (r <= 0)
        return r;
    size_t saved = json_cursor_enter_key(c, key);
    r = value_i64(c, v, min, max, out);
    json_cursor_leave(c, saved);
    if (r < 0)
        return r;
    if (present != NULL)
        *present = true;
    return 1;
}

int json_read_u32(struct json_cursor *c, yajl_val obj, const char *key, bool required, uint32_t *out,
                  bool *present)
{
    uint64_t v = 0;
    int r = json_read_u64(c, obj, key, required, UINT32_MAX, &v, present);
    if (r > 0)
        *out = (uint32_t)v;
    return r;
}

int json_read_i32(struct json_cursor *c, yajl_val obj, const char *key, bool required, int32_t min,
                  int32_t max, int32_t *out, bool *present)
{
    int64_t v = 0;
    int r = json_read_i64(c, obj, key, required, min, max, &v, present);
    if (r > 0)
        *out = (int32_t)v;
    return r;
}

int json_check_vocab(struct json_cursor *c, const char *key, const char *value,
                     const char *const *vocab, size_t vocab_len, const char *what)
{
    for (size_t i = 0; i < vocab_len; i++)
        if (strcmp(vocab[i], value) == 0)
            return 0;
    if (key == NULL)
        return json_cursor_error(c, "unknown %s \"%s\"", what, value);
    return json_cursor_key_error(c, key, "unknown %s \"%s\"", what, value);
}
