/* Isolation mode selection for create/run. */
#include "runtime/isolation.h"

#include <string.h>

int isolation_select(const struct vessel_globals *g, const struct oci_spec *spec,
                     enum isolation_mode *out, struct vessel_error **err)
{
    if (g->isolation != ISOLATION_DEFAULT) {
        *out = g->isolation;
        return 0;
    }
    if (spec->vm.present) {
        *out = ISOLATION_VM;
        return 0;
    }
    const char *a = spec_annotation(spec, "vessel.isolation");
    if (a != NULL) {
        if (strcmp(a, "vm") == 0)
            *out = ISOLATION_VM;
        else if (strcmp(a, "container") == 0)
            *out = ISOLATION_CONTAINER;
        else
            return vessel_error_set(err, 0,
                                    "annotations[\"vessel.isolation\"]: unknown mode \"%s\" (container or vm)", a);
        return 0;
    }
    *out = g->invoked_as_vm ? ISOLATION_VM : ISOLATION_CONTAINER;
    return 0;
}

const char *isolation_name(enum isolation_mode mode)
{
    return mode == ISOLATION_VM ? "vm" : "container";
}
