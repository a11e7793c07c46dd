/* The cgroupfs driver: create, enter, list and destroy one cgroup path in
 * every mounted hierarchy, so v1, cgroup2-only and hybrid hosts all work. */
#include "cgroups/cgroups.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroups/hierarchy.h"
#include "common/cleanup.h"
#include "common/fs.h"

#define CGROUP_DEPTH_MAX 64
#define CGROUP_PIDS_MAX (1u << 22)
#define DESTROY_ATTEMPTS 500  /* x 10 ms */

static void hierarchies_cleanup(struct cgroup_hierarchies *h)
{
    cgroup_hierarchies_free(h);
}
#define _cleanup_hierarchies_ __attribute__((cleanup(hierarchies_cleanup)))

static int read_small(const char *dir, const char *file, char **out)
{
    _cleanup_free_ char *p = NULL;
    if (asprintf(&p, "%s/%s", dir, file) < 0)
        return -ENOMEM;
    struct vessel_error *e = NULL;
    int r = read_file_at(AT_FDCWD, p, 1u << 20, out, NULL, &e);
    vessel_error_free(e);
    return r;
}

static int write_small(const char *dir, const char *file, const char *value)
{
    _cleanup_free_ char *p = NULL;
    if (asprintf(&p, "%s/%s", dir, file) < 0)
        return -ENOMEM;
    _cleanup_close_ int fd = open(p, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    return write_all_fd(fd, value, strlen(value));
}

/* A new v1 cpuset level starts with empty cpus/mems and refuses tasks. */
static int cpuset_inherit(const char *parent, const char *dir)
{
    static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
    for (size_t i = 0; i < 2; i++) {
        _cleanup_free_ char *mine = NULL, *theirs = NULL;
        if (read_small(dir, files[i], &mine) < 0)
            return 0;  /* not a cpuset hierarchy with these files */
        if (strspn(mine, " \n") != strlen(mine))
            continue;
        int r = read_small(parent, files[i], &theirs);
        if (r == 0)
            r = write_small(dir, files[i], theirs);
        if (r < 0)
            return r;
    }
    return 0;
}

/* Offer every controller of dir's parent to dir's level (v2), best effort:
 * a controller can be refused (e.g. threaded, or processes in the parent). */
static void v2_enable_controllers(const char *parent)
{
    _cleanup_free_ char *avail = NULL, *enabled = NULL;
    if (read_small(parent, "cgroup.controllers", &avail) < 0)
        return;
    (void)read_small(parent, "cgroup.subtree_control", &enabled);
    char *save = NULL;
    for (char *c = strtok_r(avail, " \n", &save); c; c = strtok_r(NULL, " \n", &save)) {
        if (enabled != NULL) {
            bool on = false;
            _cleanup_free_ char *copy = strdup(enabled);
            char *s2 = NULL;
            for (char *e = copy ? strtok_r(copy, " \n", &s2) : NULL; e; e = strtok_r(NULL, " \n", &s2))
                on = on || strcmp(e, c) == 0;
            if (on)
                continue;
        }
        char buf[64];
        snprintf(buf, sizeof(buf), "+%s", c);
        (void)write_small(parent, "cgroup.subtree_control", buf);
    }
}

static int hierarchy_create(const struct cgroup_hierarchy *h, const char *path,
                            struct vessel_error **err)
{
    _cleanup_free_ char *dir = NULL;
    if (cgroup_hierarchy_dir(h, path, &dir, err) < 0)
        return vessel_error_code(*err);
    size_t base = strlen(h->mountpoint);
    if (strlen(dir) <= base)
        return 0;  /* the hierarchy's root always exists */
    bool cpuset = !h->v2 && cgroup_hierarchy_has(h, "cpuset");
    /* Walk down one level at a time from the mount point. */
    for (char *p = dir + base + 1; p <= dir + strlen(dir); p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        char *slash = strrchr(dir, '/');
        *slash = '\0';
        _cleanup_free_ char *parent = strdup(dir);
        *slash = '/';
        if (parent == NULL)
            return vessel_error_set(err, ENOMEM, "create cgroup");
        if (h->v2)
            v2_enable_controllers(parent);
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
            return vessel_error_set(err, errno, "mkdir \"%s\"", dir);
        if (cpuset) {
            int r = cpuset_inherit(parent, dir);
            if (r < 0)
                return vessel_error_set(err, -r, "copy cpuset.cpus/mems to \"%s\"", dir);
        }
        *p = saved;
        if (saved == '\0')
            break;
    }
    return 0;
}

int cgroup_create_open(const char *path, const struct oci_resources *res, struct cgroup_entry *e,
                       struct vessel_error **err)
{
    (void)res;  /* resource limits come with the resources issue */
    if (e != NULL)
        cgroup_entry_init(e);
    _cleanup_hierarchies_ struct cgroup_hierarchies hs = {0};
    if (cgroup_hierarchies_load(&hs, err) < 0)
        return vessel_error_wrap(err, "create cgroup \"%s\"", path);
    for (size_t i = 0; i < hs.len; i++) {
        if (hierarchy_create(&hs.items[i], path, err) < 0)
            return vessel_error_wrap(err, "create cgroup \"%s\"", path);
    }
    if (e != NULL && cgroup_entry_open_in(&hs, path, e, err) < 0)
        return vessel_error_wrap(err, "enter cgroup \"%s\"", path);
    return 0;
}

int cgroup_create(const char *path, const struct oci_resources *res, struct vessel_error **err)
{
    return cgroup_create_open(path, res, NULL, err);
}

int cgroup_enter(const char *path, pid_t pid, struct vessel_error **err)
{
    _cleanup_hierarchies_ struct cgroup_hierarchies hs = {0};
    if (cgroup_hierarchies_load(&hs, err) < 0)
        return vessel_error_wrap(err, "enter cgroup \"%s\"", path);
    bool self = pid == 0 || pid == getpid();
    char buf[32];
    snprintf(buf, sizeof(buf), "%d", self ? 0 : (int)pid);
    for (size_t i = 0; i < hs.len; i++) {
        _cleanup_free_ char *dir = NULL;
        if (cgroup_hierarchy_dir(&hs.items[i], path, &dir, err) < 0)
            return vessel_error_code(*err);
        int r = -1;
        /* Moving one's own (single) thread through v1 "tasks" skips the global
         * threadgroup lock, whose write side waits for an RCU grace period
         * (milliseconds) on every cgroup.procs write. */
        if (self && !hs.items[i].v2)
            r = write_small(dir, "tasks", buf);
        if (r < 0)
            r = write_small(dir, "cgroup.procs", buf);
        if (r < 0)
            return vessel_error_set(err, -r, "enter cgroup: write %s to \"%s/cgroup.procs\"", buf, dir);
    }
    return 0;
}

struct pid_set {
    pid_t *v;
    size_t n, cap;
};

static int pid_set_add(struct pid_set *s, pid_t pid)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i] == pid)
            return 0;
    if (s->n == s->cap) {
        if (s->cap >= CGROUP_PIDS_MAX)
            return -E2BIG;
        size_t cap = s->cap ? s->cap * 2 : 64;
        pid_t *nv = realloc(s->v, cap * sizeof(*nv));
        if (nv == NULL)
            return -ENOMEM;
        s->v = nv;
        s->cap = cap;
    }
    s->v[s->n++] = pid;
    return 0;
}

/* Pids of dir and every descendant. A missing dir adds nothing. */
static int collect_pids(const char *dir, int depth, struct pid_set *s)
{
    _cleanup_free_ char *procs = NULL;
    int r = read_small(dir, "cgroup.procs", &procs);
    if (r == -ENOENT || r == -ENODEV)
        return 0;
    if (r < 0)
        return r;
    for (char *p = procs; *p; ) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p)
            break;
        if (v > 0 && (r = pid_set_add(s, (pid_t)v)) < 0)
            return r;
        p = end;
    }
    if (depth >= CGROUP_DEPTH_MAX)
        return 0;
    _cleanup_closedir_ DIR *d = opendir(dir);
    if (d == NULL)
        return errno == ENOENT ? 0 : -errno;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_type != DT_DIR || de->d_name[0] == '.')
            continue;
        _cleanup_free_ char *child = NULL;
        if (asprintf(&child, "%s/%s", dir, de->d_name) < 0)
            return -ENOMEM;
        if ((r = collect_pids(child, depth + 1, s)) < 0)
            return r;
    }
    return 0;
}

int cgroup_pids(const char *path, pid_t **pids, size_t *n, struct vessel_error **err)
{
    _cleanup_hierarchies_ struct cgroup_hierarchies hs = {0};
    if (cgroup_hierarchies_load(&hs, err) < 0)
        return vessel_error_wrap(err, "list cgroup \"%s\"", path);
    struct pid_set s = {0};
    for (size_t i = 0; i < hs.len; i++) {
        _cleanup_free_ char *dir = NULL;
        if (cgroup_hierarchy_dir(&hs.items[i], path, &dir, err) < 0) {
            free(s.v);
            return vessel_error_code(*err);
        }
        int r = collect_pids(dir, 0, &s);
        if (r < 0) {
            free(s.v);
            return vessel_error_set(err, -r, "list processes of cgroup \"%s\"", dir);
        }
    }
    *pids = s.v;
    *n = s.n;
    return 0;
}

/* rmdir dir's descendants, then dir. Returns 0, or -errno of the first failure. */
static int remove_tree(const char *dir, int depth)
{
    if (depth < CGROUP_DEPTH_MAX) {
        _cleanup_closedir_ DIR *d = opendir(dir);
        if (d == NULL)
            return errno == ENOENT ? 0 : -errno;
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (de->d_type != DT_DIR || de->d_name[0] == '.')
                continue;
            _cleanup_free_ char *child = NULL;
            if (asprintf(&child, "%s/%s", dir, de->d_name) < 0)
                return -ENOMEM;
            int r = remove_tree(child, depth + 1);
            if (r < 0)
                return r;
        }
    }
    if (rmdir(dir) < 0 && errno != ENOENT)
        return -errno;
    return 0;
}

/* A frozen task never handles SIGKILL: thaw before killing (v1 freezer, v2 cgroup.freeze). */
static void thaw(const struct cgroup_hierarchy *h, const char *dir)
{
    if (h->v2)
        (void)write_small(dir, "cgroup.freeze", "0");
    else if (cgroup_hierarchy_has(h, "freezer"))
        (void)write_small(dir, "freezer.state", "THAWED");
}

static int hierarchy_destroy(const struct cgroup_hierarchy *h, const char *path,
                             struct vessel_error **err)
{
    _cleanup_free_ char *dir = NULL;
    if (cgroup_hierarchy_dir(h, path, &dir, err) < 0)
        return vessel_error_code(*err);
    /* Usual case (the init was reaped, no sub-cgroups): one rmdir. It only
     * succeeds on an empty leaf; anything else takes the careful path. */
    if (rmdir(dir) == 0 || errno == ENOENT)
        return 0;
    int r = 0;
    for (int attempt = 0; attempt < DESTROY_ATTEMPTS; attempt++) {
        struct stat st;
        if (stat(dir, &st) < 0 && errno == ENOENT)
            return 0;
        struct pid_set s = {0};
        r = collect_pids(dir, 0, &s);
        if (r == 0 && s.n == 0) {
            r = remove_tree(dir, 0);
            if (r == 0)
                return 0;
        }
        if (s.n > 0) {
            thaw(h, dir);
            if (!h->v2 || write_small(dir, "cgroup.kill", "1") < 0) {
                for (size_t i = 0; i < s.n; i++)
                    (void)kill(s.v[i], SIGKILL);
            }
            r = -EBUSY;
        }
        free(s.v);
        struct timespec ts = {.tv_sec = 0, .tv_nsec = attempt < 10 ? 1000000 : 10000000};
        (void)nanosleep(&ts, NULL);
    }
    return vessel_error_set(err, r < 0 ? -r : EBUSY, "remove cgroup \"%s\"", dir);
}

int cgroup_destroy(const char *path, struct vessel_error **err)
{
    if (path == NULL || strcmp(path, "/") == 0 || path[0] != '/')
        return vessel_error_set(err, EINVAL, "destroy cgroup \"%s\": refusing this path",
                                path ? path : "(null)");
    _cleanup_hierarchies_ struct cgroup_hierarchies hs = {0};
    if (cgroup_hierarchies_load(&hs, err) < 0)
        return vessel_error_wrap(err, "destroy cgroup \"%s\"", path);
    int first = 0;
    for (size_t i = 0; i < hs.len; i++) {
        struct vessel_error *e = NULL;
        if (hierarchy_destroy(&hs.items[i], path, &e) < 0) {
            /* Go on with the other hierarchies; report the first failure. */
            if (first == 0) {
                first = vessel_error_code(e);
                if (err != NULL) {
                    vessel_error_free(*err);
                    *err = steal_pointer(&e);
                }
            }
            vessel_error_free(e);
        }
    }
    return first;
}
