/* cgroup paths: linux.cgroupsPath (absolute, relative or systemd
 * "slice:prefix:name") to the cgroupfs path, and our own cgroup. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroups/cgroups.h"
#include "cgroups/hierarchy.h"
#include "common/cleanup.h"
#include "common/fs.h"

#define CGROUP_PATH_MAX 4096

/* "/a//b/./c/" -> "/a/b/c"; ".." refused; the root itself refused (a
 * container in "/" would make delete kill every process on the host). */
static int path_normalize(const char *in, const char *what, char **out, struct vessel_error **err)
{
    if (strlen(in) > CGROUP_PATH_MAX)
        return vessel_error_set(err, ENAMETOOLONG, "%s \"%.64s...\"", what, in);
    _cleanup_free_ char *copy = strdup(in);
    _cleanup_free_ char *res = calloc(1, strlen(in) + 2);
    if (copy == NULL || res == NULL)
        return vessel_error_set(err, ENOMEM, "%s", what);
    char *save = NULL;
    for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        if (strcmp(c, ".") == 0)
            continue;
        if (strcmp(c, "..") == 0)
            return vessel_error_set(err, EINVAL, "%s \"%s\": must not contain \"..\"", what, in);
        strcat(res, "/");
        strcat(res, c);
    }
    if (res[0] == '\0')
        return vessel_error_set(err, EINVAL, "%s \"%s\": the root cgroup cannot be used", what, in);
    *out = steal_pointer(&res);
    return 0;
}

/* "a-b-c.slice" -> "/a.slice/a-b.slice/a-b-c.slice"; "-.slice" -> "". */
static int slice_expand(const char *slice, char **out, struct vessel_error **err)
{
    size_t len = strlen(slice);
    if (strcmp(slice, "-.slice") == 0) {
        *out = strdup("");
        return *out ? 0 : vessel_error_set(err, ENOMEM, "systemd slice");
    }
    if (len < 7 || strcmp(slice + len - 6, ".slice") != 0 || strchr(slice, '/') != NULL)
        return vessel_error_set(err, EINVAL, "linux.cgroupsPath: invalid systemd slice \"%s\"", slice);
    size_t base = len - 6;
    if (slice[0] == '-' || slice[base - 1] == '-' || strstr(slice, "--") != NULL)
        return vessel_error_set(err, EINVAL, "linux.cgroupsPath: invalid systemd slice \"%s\"", slice);
    /* Each "-" starts a nested slice: at most len levels of at most len+7 bytes. */
    _cleanup_free_ char *res = calloc(1, (len + 8) * (len + 1));
    if (res == NULL)
        return vessel_error_set(err, ENOMEM, "systemd slice");
    for (size_t i = 0; i <= base; i++) {
        if (i == base || slice[i] == '-') {
            size_t used = strlen(res);
            snprintf(res + used, len + 8, "/%.*s.slice", (int)i, slice);
        }
    }
    *out = steal_pointer(&res);
    return 0;
}

static int systemd_path(const char *spec_path, char **out, struct vessel_error **err)
{
    _cleanup_free_ char *copy = strdup(spec_path);
    if (copy == NULL)
        return vessel_error_set(err, ENOMEM, "linux.cgroupsPath");
    char *slice = copy;
    char *prefix = strchr(slice, ':');
    char *name = prefix ? strchr(prefix + 1, ':') : NULL;
    if (name == NULL || strchr(name + 1, ':') != NULL)
        return vessel_error_set(err, EINVAL,
                                "linux.cgroupsPath \"%s\": expected \"slice:prefix:name\"", spec_path);
    *prefix++ = '\0';
    *name++ = '\0';
    if (name[0] == '\0' || strchr(name, '/') || strchr(prefix, '/'))
        return vessel_error_set(err, EINVAL, "linux.cgroupsPath \"%s\": invalid unit name", spec_path);
    _cleanup_free_ char *slice_dir = NULL;
    if (slice_expand(slice[0] ? slice : "system.slice", &slice_dir, err) < 0)
        return vessel_error_code(*err);
    size_t nlen = strlen(name);
    int r;
    if (nlen > 6 && strcmp(name + nlen - 6, ".slice") == 0)
        r = asprintf(out, "%s/%s", slice_dir, name);
    else if (prefix[0] != '\0')
        r = asprintf(out, "%s/%s-%s.scope", slice_dir, prefix, name);
    else
        r = asprintf(out, "%s/%s.scope", slice_dir, name);
    return r < 0 ? vessel_error_set(err, ENOMEM, "linux.cgroupsPath") : 0;
}

int cgroup_resolve_path(const char *cgroups_path, const char *id, char **out,
                        struct vessel_error **err)
{
    _cleanup_free_ char *raw = NULL;
    if (cgroups_path == NULL || cgroups_path[0] == '\0') {
        if (id == NULL || id[0] == '\0' || strchr(id, '/') != NULL)
            return vessel_error_set(err, EINVAL, "cgroup path: invalid container id");
        if (asprintf(&raw, "/vessel/%s", id) < 0)
            return vessel_error_set(err, ENOMEM, "cgroup path");
    } else if (cgroups_path[0] == '/') {
        raw = strdup(cgroups_path);
    } else if (strchr(cgroups_path, ':') != NULL) {
        if (systemd_path(cgroups_path, &raw, err) < 0)
            return vessel_error_code(*err);
    } else {
        _cleanup_free_ char *self = NULL;
        if (cgroup_self_path(&self, err) < 0)
            return vessel_error_wrap(err, "linux.cgroupsPath \"%s\"", cgroups_path);
        if (asprintf(&raw, "%s/%s", self, cgroups_path) < 0)
            raw = NULL;
    }
    if (raw == NULL)
        return vessel_error_set(err, ENOMEM, "cgroup path");
    char *res = NULL;
    if (path_normalize(raw, "linux.cgroupsPath", &res, err) < 0)
        return vessel_error_code(*err);
    *out = res;
    return 0;
}

/* Path field of the /proc/self/cgroup line whose controller list is want
 * ("" for the unified hierarchy, "name=systemd", or NULL for the first line). */
static char *self_line_path(const char *text, const char *want)
{
    for (const char *line = text; line && *line; ) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        const char *c1 = memchr(line, ':', len);
        const char *c2 = c1 ? memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - line)) : NULL;
        if (c2 != NULL) {
            size_t clen = (size_t)(c2 - c1 - 1);
            if (want == NULL || (strlen(want) == clen && strncmp(c1 + 1, want, clen) == 0))
                return strndup(c2 + 1, len - (size_t)(c2 + 1 - line));
        }
        line = end ? end + 1 : NULL;
    }
    return NULL;
}

int cgroup_self_path(char **out, struct vessel_error **err)
{
    _cleanup_free_ char *text = NULL;
    if (read_file_at(AT_FDCWD, "/proc/self/cgroup", 1u << 20, &text, NULL, err) < 0)
        return vessel_error_wrap(err, "own cgroup");
    struct cgroup_hierarchies hs = {0};
    bool has_v2 = false;
    struct vessel_error *ignored = NULL;
    if (cgroup_hierarchies_load(&hs, &ignored) == 0) {
        for (size_t i = 0; i < hs.len; i++)
            has_v2 = has_v2 || hs.items[i].v2;
    }
    vessel_error_free(ignored);
    cgroup_hierarchies_free(&hs);
    char *p = NULL;
    if (has_v2)
        p = self_line_path(text, "");
    if (p == NULL)
        p = self_line_path(text, "name=systemd");
    if (p == NULL)
        p = self_line_path(text, NULL);
    if (p == NULL)
        return vessel_error_set(err, ENOENT, "own cgroup: no entry in /proc/self/cgroup");
    *out = p;
    return 0;
}

int cgroup_versions(int *has_v1, int *has_v2, struct vessel_error **err)
{
    struct cgroup_hierarchies hs = {0};
    *has_v1 = *has_v2 = 0;
    if (cgroup_hierarchies_load(&hs, err) < 0)
        return vessel_error_code(*err);
    for (size_t i = 0; i < hs.len; i++) {
        if (hs.items[i].v2)
            *has_v2 = 1;
        else
            *has_v1 = 1;
    }
    cgroup_hierarchies_free(&hs);
    return 0;
}
