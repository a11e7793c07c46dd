/* Which executor runs a container: the container executor (namespaces on the
 * host kernel) or the micro-VM executor. */
#ifndef VESSEL_RUNTIME_ISOLATION_H
#define VESSEL_RUNTIME_ISOLATION_H

#include "common/error.h"
#include "oci/spec.h"
#include "runtime/commands.h"

/* Precedence (DESIGN.md): --isolation flag, then config.json's `vm` section,
 * then the annotation vessel.isolation ("vm" | "container"), then the binary
 * name vessel-vm; container otherwise. *out is ISOLATION_CONTAINER or _VM. */
int isolation_select(const struct vessel_globals *g, const struct oci_spec *spec,
                     enum isolation_mode *out, struct vessel_error **err);

const char *isolation_name(enum isolation_mode mode);  /* "container" or "vm" */

#endif
