/* process.capabilities: the five capability sets of the container process,
 * applied with libcap. */
#ifndef VESSEL_RUNTIME_CAPS_H
#define VESSEL_RUNTIME_CAPS_H

#include <stddef.h>

#include "common/error.h"
#include "oci/spec.h"

/* Drop from the bounding set every capability not listed in c->bounding
 * (needs CAP_SETPCAP, so call it before changing uid). Names the kernel does
 * not know (newer than it) are skipped, as runc does. */
int caps_drop_bounding(const struct oci_capabilities *c, struct vessel_error **err);
/* Set effective, permitted and inheritable exactly as listed, then the
 * ambient set (cleared first; each ambient cap must be permitted and
 * inheritable). Call after the uid change (with PR_SET_KEEPCAPS set). */
int caps_set(const struct oci_capabilities *c, struct vessel_error **err);
/* Both, in that order (for a process that keeps its uid). Does nothing when
 * c->present is false. */
int caps_apply(const struct oci_capabilities *c, struct vessel_error **err);

/* Names ("CAP_CHOWN", ...) of the capabilities the running kernel knows, in
 * number order, for `features`. *names and each string are malloc'ed; free
 * with caps_names_free. */
int caps_names(char ***names, size_t *n, struct vessel_error **err);
void caps_names_free(char **names, size_t n);

#endif
