/* `vessel features`: the runtime-spec features document, true to this build and host. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "cgroups/cgroups.h"
#include "common/log.h"
#include "oci/features.h"
#include "runtime/commands.h"
#include "runtime/seccomp.h"

int cmd_features(struct vessel_globals *g, int argc, char **argv)
{
    (void)g;
    (void)argv;
    if (argc != 1) {
        log_error("features: takes no arguments");
        return 1;
    }
    struct vessel_error *err = NULL;
    int v1 = 0, v2 = 0;
    if (cgroup_versions(&v1, &v2, &err) < 0) {
        vessel_error_free(err);
        err = NULL;
    }
    char **archs = NULL, **flags = NULL;
    size_t narchs = 0, nflags = 0;
    bool seccomp = seccomp_features(&archs, &narchs, &flags, &nflags) == 0;
    struct stat st;
    struct oci_kv ann[] = {{(char *)"io.github.vessel.version", (char *)VESSEL_VERSION},
                           {(char *)"io.github.vessel.isolation", (char *)"container,vm"}};
    struct features_info info = {
        .cgroup_v1 = v1, .cgroup_v2 = v2,
        .seccomp_enabled = seccomp,
        .seccomp_archs = (const char *const *)archs, .seccomp_archs_len = narchs,
        .seccomp_supported_flags = (const char *const *)flags, .seccomp_supported_flags_len = nflags,
        .apparmor_enabled = false, .selinux_enabled = false, .intel_rdt_enabled = false,
        .idmap_mounts_enabled = stat("/proc/self/ns/user", &st) == 0,
        .annotations = ann, .annotations_len = sizeof(ann) / sizeof(ann[0]),
    };
    char *json = NULL;
    int r = features_to_json(&info, &json, &err);
    seccomp_strv_free(archs, narchs);
    seccomp_strv_free(flags, nflags);
    if (r < 0) {
        log_error_object(err);
        return 1;
    }
    puts(json);
    free(json);
    return 0;
}
