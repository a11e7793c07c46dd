/* Finding the mounted cgroup hierarchies (v1 controllers, named v1 hierarchies
 * and the unified cgroup2) from mountinfo, and mapping cgroup paths to dirs. */
#include "cgroups/hierarchy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/fs.h"

#define MOUNTINFO_MAX (16u << 20)
#define HIERARCHIES_MAX 64

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void mountinfo_unescape(char *s)
{
    char *w = s;
    for (char *r = s; *r; ) {
        if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
            r[3] >= '0' && r[3] <= '7') {
            *w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
            r += 4;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
}

/* v1 super options minus the ones that are not controllers. */
static char *controllers_from_superopts(const char *superopts)
{
    static const char *const skip[] = {"rw", "ro", "xattr", "noprefix", "clone_children",
                                       "cpuset_v2_mode", "favordynmods", "none"};
    _cleanup_free_ char *copy = strdup(superopts);
    char *out = calloc(1, strlen(superopts) + 1);
    if (copy == NULL || out == NULL) {
        free(out);
        return NULL;
    }
    char *save = NULL;
    for (char *opt = strtok_r(copy, ",", &save); opt; opt = strtok_r(NULL, ",", &save)) {
        bool drop = false;
        for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
            drop = drop || strcmp(opt, skip[i]) == 0;
        if (strchr(opt, '=') != NULL && strncmp(opt, "name=", 5) != 0)
            drop = true;  /* release_agent=..., etc. */
        if (drop)
            continue;
        if (out[0] != '\0')
            strcat(out, ",");
        strcat(out, opt);
    }
    return out;
}

static void hierarchy_clear(struct cgroup_hierarchy *h)
{
    free(h->mountpoint);
    free(h->root);
    free(h->controllers);
}

void cgroup_hierarchies_free(struct cgroup_hierarchies *h)
{
    if (h == NULL)
        return;
    for (size_t i = 0; i < h->len; i++)
        hierarchy_clear(&h->items[i]);
    free(h->items);
    h->items = NULL;
    h->len = 0;
}

/* One mountinfo line: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SRC SUPEROPTS". */
static int parse_line(char *line, char **dev, char **root, char **mountpoint, char **fstype,
                      char **superopts)
{
    char *fields[6] = {NULL};
    char *save = NULL;
    char *tok = strtok_r(line, " ", &save);
    for (int i = 0; i < 6 && tok; i++, tok = strtok_r(NULL, " ", &save))
        fields[i] = tok;
    if (fields[5] == NULL)
        return -1;
    while (tok && strcmp(tok, "-") != 0)
        tok = strtok_r(NULL, " ", &save);
    if (tok == NULL)
        return -1;
    *fstype = strtok_r(NULL, " ", &save);
    (void)strtok_r(NULL, " ", &save);  /* source */
    *superopts = strtok_r(NULL, " ", &save);
    if (*fstype == NULL || *superopts == NULL)
        return -1;
    *dev = fields[2];
    *root = fields[3];
    *mountpoint = fields[4];
    mountinfo_unescape(*root);
    mountinfo_unescape(*mountpoint);
    return 0;
}

int cgroup_hierarchies_parse(const char *mountinfo, struct cgroup_hierarchies *out,
                             struct vessel_error **err)
{
    _cleanup_free_ char *text = strdup(mountinfo);
    struct cgroup_hierarchy items[HIERARCHIES_MAX];
    char devs[HIERARCHIES_MAX][32];
    size_t n = 0;
    if (text == NULL)
        return vessel_error_set(err, ENOMEM, "parse mountinfo");
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *dev, *root, *mountpoint, *fstype, *superopts;
        if (parse_line(line, &dev, &root, &mountpoint, &fstype, &superopts) < 0)
            continue;
        bool v2 = strcmp(fstype, "cgroup2") == 0;
        if (!v2 && strcmp(fstype, "cgroup") != 0)
            continue;
        size_t i;
        for (i = 0; i < n; i++)
            if (strcmp(devs[i], dev) == 0)
                break;
        if (i < n) {
            /* Same hierarchy mounted again: keep the mount of its real root. */
            if (strcmp(items[i].root, "/") == 0 || strcmp(root, "/") != 0)
                continue;
            hierarchy_clear(&items[i]);
        } else if (n == HIERARCHIES_MAX) {
            continue;
        } else {
            i = n++;
        }
        snprintf(devs[i], sizeof(devs[i]), "%s", dev);
        items[i] = (struct cgroup_hierarchy){
            .mountpoint = strdup(mountpoint),
            .root = strdup(root),
            .controllers = v2 ? strdup("") : controllers_from_superopts(superopts),
            .v2 = v2,
        };
        if (!items[i].mountpoint || !items[i].root || !items[i].controllers) {
            for (size_t j = 0; j < n; j++)
                hierarchy_clear(&items[j]);
            return vessel_error_set(err, ENOMEM, "parse mountinfo");
        }
    }
    out->items = calloc(n ? n : 1, sizeof(*out->items));
    if (out->items == NULL) {
        for (size_t j = 0; j < n; j++)
            hierarchy_clear(&items[j]);
        return vessel_error_set(err, ENOMEM, "parse mountinfo");
    }
    memcpy(out->items, items, n * sizeof(items[0]));
    out->len = n;
    return 0;
}

int cgroup_hierarchies_load(struct cgroup_hierarchies *out, struct vessel_error **err)
{
    _cleanup_free_ char *text = NULL;
    if (read_file_at(AT_FDCWD, "/proc/self/mountinfo", MOUNTINFO_MAX, &text, NULL, err) < 0)
        return vessel_error_wrap(err, "find cgroup hierarchies");
    int r = cgroup_hierarchies_parse(text, out, err);
    if (r < 0)
        return r;
    if (out->len == 0) {
        cgroup_hierarchies_free(out);
        return vessel_error_set(err, ENOENT, "find cgroup hierarchies: no cgroup filesystem mounted");
    }
    return 0;
}

int cgroup_hierarchy_dir(const struct cgroup_hierarchy *h, const char *path, char **out,
                         struct vessel_error **err)
{
    const char *rel = path;
    size_t rootlen = strlen(h->root);
    /* A mount of a subtree (e.g. inside a container) shows only what is below its root. */
    if (strcmp(h->root, "/") != 0 && strncmp(path, h->root, rootlen) == 0 &&
        (path[rootlen] == '/' || path[rootlen] == '\0'))
        rel = path + rootlen;
    while (*rel == '/')
        rel++;
    int r = *rel ? asprintf(out, "%s/%s", h->mountpoint, rel) : asprintf(out, "%s", h->mountpoint);
    if (r < 0)
        return vessel_error_set(err, ENOMEM, "cgroup path \"%s\"", path);
    return 0;
}

bool cgroup_hierarchy_has(const struct cgroup_hierarchy *h, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = h->controllers; p && *p; ) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == len && strncmp(p, name, len) == 0)
            return true;
        p = end ? end + 1 : p + n;
    }
    return false;
}
