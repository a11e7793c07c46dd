/* libFuzzer target: state_from_json on arbitrary bytes; what parses must
 * serialise again (both documents) and parse back. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oci/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct container_state *st = NULL;
    struct vessel_error *err = NULL;
    if (state_from_json((const char *)data, size, &st, &err) < 0) {
        vessel_error_free(err);
        return 0;
    }
    char *json = NULL, *oci = NULL;
    if (state_to_json(st, &json, &err) < 0)
        abort();
    if (state_to_oci_json(st, &oci, &err) < 0)
        abort();
    struct container_state *again = NULL;
    if (state_from_json(json, strlen(json), &again, &err) < 0)
        abort();
    if (strcmp(again->id, st->id) != 0 || again->status != st->status || again->pid != st->pid)
        abort();
    state_free(again);
    free(json);
    free(oci);
    state_free(st);
    return 0;
}
