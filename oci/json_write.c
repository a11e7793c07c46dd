/* yajl_gen wrapper with a sticky error status (see json_write.h). */
#include "oci/json_write.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int json_writer_init(struct json_writer *w, bool pretty)
{
    w->status = yajl_gen_status_ok;
    w->gen = yajl_gen_alloc(NULL);
    if (w->gen == NULL)
        return -ENOMEM;
    if (pretty) {
        yajl_gen_config(w->gen, yajl_gen_beautify, 1);
        yajl_gen_config(w->gen, yajl_gen_indent_string, "  ");
    }
    return 0;
}

void json_writer_discard(struct json_writer *w)
{
    if (w->gen != NULL)
        yajl_gen_free(w->gen);
    w->gen = NULL;
}

int json_writer_finish(struct json_writer *w, const char *what, char **out, struct vessel_error **err)
{
    const unsigned char *buf = NULL;
    size_t len = 0;
    if (w->status == yajl_gen_status_ok)
        w->status = yajl_gen_get_buf(w->gen, &buf, &len);
    if (w->status != yajl_gen_status_ok) {
        int st = (int)w->status;
        json_writer_discard(w);
        return vessel_error_set(err, 0, "%s: generating JSON failed (yajl status %d)", what, st);
    }
    while (len > 0 && buf[len - 1] == '\n')
        len--;
    char *doc = strndup((const char *)buf, len);
    json_writer_discard(w);
    if (doc == NULL)
        return vessel_error_set(err, ENOMEM, "%s", what);
    *out = doc;
    return 0;
}

static void keep(struct json_writer *w, yajl_gen_status st)
{
    if (w->status == yajl_gen_status_ok)
        w->status = st;
}

void json_write_map_open(struct json_writer *w)
{
    keep(w, yajl_gen_map_open(w->gen));
}

void json_write_map_close(struct json_writer *w)
{
    keep(w, yajl_gen_map_close(w->gen));
}

void json_write_array_open(struct json_writer *w)
{
    keep(w, yajl_gen_array_open(w->gen));
}

void json_write_array_close(struct json_writer *w)
{
    keep(w, yajl_gen_array_close(w->gen));
}

void json_write_string(struct json_writer *w, const char *s)
{
    keep(w, yajl_gen_string(w->gen, (const unsigned char *)s, strlen(s)));
}

void json_write_key(struct json_writer *w, const char *key)
{
    json_write_string(w, key);
}

void json_write_kstring(struct json_writer *w, const char *key, const char *s)
{
    if (s == NULL)
        return;
    json_write_key(w, key);
    json_write_string(w, s);
}

void json_write_kint(struct json_writer *w, const char *key, int64_t v)
{
    json_write_key(w, key);
    keep(w, yajl_gen_integer(w->gen, v));
}

void json_write_kuint(struct json_writer *w, const char *key, uint64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof(num), "%" PRIu64, v);
    json_write_key(w, key);
    keep(w, yajl_gen_number(w->gen, num, (size_t)n));
}

void json_write_kbool(struct json_writer *w, const char *key, bool v)
{
    json_write_key(w, key);
    keep(w, yajl_gen_bool(w->gen, v));
}

void json_write_kstrv(struct json_writer *w, const char *key, const char *const *v, size_t n)
{
    json_write_key(w, key);
    json_write_array_open(w);
    for (size_t i = 0; i < n; i++)
        json_write_string(w, v[i]);
    json_write_array_close(w);
}

void json_write_kmap(struct json_writer *w, const char *key, const struct oci_kv *kv, size_t n)
{
    json_write_key(w, key);
    json_write_map_open(w);
    for (size_t i = 0; i < n; i++)
        json_write_kstring(w, kv[i].key, kv[i].value != NULL ? kv[i].value : "");
    json_write_map_close(w);
}
