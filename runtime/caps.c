/* Capability sets with libcap: bounding drop, effective/permitted/inheritable,
 * ambient. Names are the OCI ones ("CAP_SYS_ADMIN"). */
#include "runtime/caps.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

/* Capability number for an OCI name; -1 when the kernel does not know it. */
static int cap_number(const char *name)
{
    cap_value_t v;
    if (cap_from_name(name, &v) < 0)
        return -1;
    if ((int)v < 0 || (int)v >= cap_max_bits())
        return -1;
    return (int)v;
}

static bool cap_listed(char **list, size_t len, int cap)
{
    for (size_t i = 0; i < len; i++)
        if (cap_number(list[i]) == cap)
            return true;
    return false;
}

int caps_drop_bounding(const struct oci_capabilities *c, struct vessel_error **err)
{
    if (!c->present)
        return 0;
    int last = cap_max_bits();
    for (int cap = 0; cap < last; cap++) {
        if (cap_listed(c->bounding, c->bounding_len, cap))
            continue;
        if (!CAP_IS_SUPPORTED(cap))
            continue;
        if (cap_drop_bound((cap_value_t)cap) < 0) {
            int e = errno;
            char *n = cap_to_name((cap_value_t)cap);
            int r = vessel_error_set(err, e, "drop capability %s from the bounding set", n ? n : "?");
            cap_free(n);
            return r;
        }
    }
    return 0;
}

static int flag_set(cap_t caps, cap_flag_t flag, char **list, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        int cap = cap_number(list[i]);
        if (cap < 0)
            continue;
        cap_value_t v = (cap_value_t)cap;
        if (cap_set_flag(caps, flag, 1, &v, CAP_SET) < 0)
            return -errno;
    }
    return 0;
}

int caps_set(const struct oci_capabilities *c, struct vessel_error **err)
{
    if (!c->present)
        return 0;
    cap_t caps = cap_init();
    if (caps == NULL)
        return vessel_error_set(err, errno, "capabilities");
    int r = flag_set(caps, CAP_EFFECTIVE, c->effective, c->effective_len);
    if (r == 0)
        r = flag_set(caps, CAP_PERMITTED, c->permitted, c->permitted_len);
    if (r == 0)
        r = flag_set(caps, CAP_INHERITABLE, c->inheritable, c->inheritable_len);
    if (r == 0 && cap_set_proc(caps) < 0)
        r = -errno;
    cap_free(caps);
    if (r < 0)
        return vessel_error_set(err, -r, "set capabilities (effective, permitted, inheritable)");
    /* Ambient is not touched by cap_set_proc: reset, then raise each one. */
    if (CAP_AMBIENT_SUPPORTED() && cap_reset_ambient() < 0 && c->ambient_len > 0)
        return vessel_error_set(err, errno, "reset ambient capabilities");
    for (size_t i = 0; i < c->ambient_len; i++) {
        int cap = cap_number(c->ambient[i]);
        if (cap < 0)
            continue;
        if (cap_set_ambient((cap_value_t)cap, CAP_SET) < 0)
            return vessel_error_set(err, errno, "raise ambient capability %s", c->ambient[i]);
    }
    return 0;
}

int caps_apply(const struct oci_capabilities *c, struct vessel_error **err)
{
    int r = caps_drop_bounding(c, err);
    return r < 0 ? r : caps_set(c, err);
}

void caps_names_free(char **names, size_t n)
{
    for (size_t i = 0; names != NULL && i < n; i++)
        free(names[i]);
    free(names);
}

int caps_names(char ***names, size_t *n, struct vessel_error **err)
{
    int last = cap_max_bits();
    char **v = calloc((size_t)(last > 0 ? last : 1), sizeof(*v));
    if (v == NULL)
        return vessel_error_set(err, ENOMEM, "capability names");
    size_t count = 0;
    for (int cap = 0; cap < last; cap++) {
        char *lib = cap_to_name((cap_value_t)cap);
        if (lib == NULL)
            continue;
        /* libcap says "cap_chown"; OCI says "CAP_CHOWN". Unnamed ones are numbers. */
        if (isdigit((unsigned char)lib[0])) {
            cap_free(lib);
            continue;
        }
        char *up = strdup(lib);
        cap_free(lib);
        if (up == NULL) {
            caps_names_free(v, count);
            return vessel_error_set(err, ENOMEM, "capability names");
        }
        for (char *p = up; *p; p++)
            *p = (char)toupper((unsigned char)*p);
        v[count++] = up;
    }
    *names = v;
    *n = count;
    return 0;
}
