/* Building JSON documents with yajl_gen without checking every call: the first
 * failure sticks and json_writer_finish() reports it. Internal to oci/. */
#ifndef VESSEL_OCI_JSON_WRITE_H
#define VESSEL_OCI_JSON_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_gen.h>

#include "common/error.h"
#include "oci/spec.h"

struct json_writer {
    yajl_gen gen;
    yajl_gen_status status;
};

/* pretty: two-space indentation like runc's output. Returns -ENOMEM on failure. */
int json_writer_init(struct json_writer *w, bool pretty);
/* Hand out the document (malloc'ed, no trailing newline) and release the generator. */
int json_writer_finish(struct json_writer *w, const char *what, char **out, struct vessel_error **err);
void json_writer_discard(struct json_writer *w);

void json_write_map_open(struct json_writer *w);
void json_write_map_close(struct json_writer *w);
void json_write_array_open(struct json_writer *w);
void json_write_array_close(struct json_writer *w);
void json_write_string(struct json_writer *w, const char *s);
void json_write_key(struct json_writer *w, const char *key);
/* "key": value members; kstring skips NULL strings. */
void json_write_kstring(struct json_writer *w, const char *key, const char *s);
void json_write_kint(struct json_writer *w, const char *key, int64_t v);
void json_write_kuint(struct json_writer *w, const char *key, uint64_t v);
void json_write_kbool(struct json_writer *w, const char *key, bool v);
void json_write_kstrv(struct json_writer *w, const char *key, const char *const *v, size_t n);
void json_write_kmap(struct json_writer *w, const char *key, const struct oci_kv *kv, size_t n);

#endif
