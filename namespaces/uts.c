/* UTS namespace: hostname and domainname from the spec. */
#include "namespaces/namespaces.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static int uts_set(const struct oci_spec *spec, const char *field, const char *value,
                   int (*set)(const char *, size_t), struct vessel_error **err)
{
    if (value == NULL)
        return 0;
    if (spec_namespace(spec, OCI_NS_UTS) == NULL) {
        if (*value == '\0')
            return 0;
        return vessel_error_set(err, EINVAL, "%s \"%s\": a UTS namespace is required", field, value);
    }
    if (set(value, strlen(value)) < 0)
        return vessel_error_set(err, errno, "%s \"%s\"", field, value);
    return 0;
}

int uts_apply(const struct oci_spec *spec, struct vessel_error **err)
{
    int r = uts_set(spec, "hostname", spec->hostname, sethostname, err);
    if (r < 0)
        return r;
    return uts_set(spec, "domainname", spec->domainname, setdomainname, err);
}
