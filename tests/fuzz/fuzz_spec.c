/* libFuzzer target: any byte string through spec_parse must either parse or
 * fail with an error, without crashes, leaks or undefined behaviour. */
#include <stddef.h>
#include <stdint.h>

#include "oci/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct oci_spec *spec = NULL;
    struct vessel_error *err = NULL;
    if (spec_parse((const char *)data, size, &spec, &err) == 0) {
        (void)spec_annotation(spec, "vessel.isolation");
        (void)spec_namespace(spec, OCI_NS_USER);
        spec_free(spec);
    } else {
        vessel_error_free(err);
    }
    return 0;
}
