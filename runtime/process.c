/* Process setup inside the container's init: rlimits, oom score, personality,
 * scheduler, I/O priority, umask, cwd, user and groups, capabilities,
 * no_new_privs, environment, and the execve that ends it. */
#include "runtime/process.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "oci/vocab.h"
#include "runtime/caps.h"
#include "runtime/seccomp.h"

#define DEFAULT_PATH_VALUE "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define DEFAULT_PATH "PATH=" DEFAULT_PATH_VALUE
#define PASSWD_MAX (4u << 20)

/* Set by process_setup when it had to load seccomp early (noNewPrivileges false). */
static bool seccomp_loaded;

struct sched_attr_v1 {  /* struct sched_attr (SCHED_ATTR_SIZE_VER1); glibc 2.36 lacks it */
    uint32_t size, sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime, sched_deadline, sched_period;
    uint32_t sched_util_min, sched_util_max;
};

struct name_value { const char *name; unsigned long value; };

static const struct name_value sched_policies[] = {
    {"SCHED_OTHER", 0}, {"SCHED_FIFO", 1}, {"SCHED_RR", 2}, {"SCHED_BATCH", 3},
    {"SCHED_ISO", 4}, {"SCHED_IDLE", 5}, {"SCHED_DEADLINE", 6},
};
static const struct name_value sched_flags[] = {
    {"SCHED_FLAG_RESET_ON_FORK", 0x01}, {"SCHED_FLAG_RECLAIM", 0x02},
    {"SCHED_FLAG_DL_OVERRUN", 0x04}, {"SCHED_FLAG_KEEP_POLICY", 0x08},
    {"SCHED_FLAG_KEEP_PARAMS", 0x10}, {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
    {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40},
};
static const struct name_value ioprio_classes[] = {
    {"IOPRIO_CLASS_RT", 1}, {"IOPRIO_CLASS_BE", 2}, {"IOPRIO_CLASS_IDLE", 3},
};

static int lookup(const struct name_value *t, size_t n, const char *name, unsigned long *out)
{
    for (size_t i = 0; name != NULL && i < n; i++) {
        if (strcmp(t[i].name, name) == 0) {
            *out = t[i].value;
            return 0;
        }
    }
    return -1;
}
#define LOOKUP(t, name, out) lookup(t, sizeof(t) / sizeof(t[0]), name, out)

static int apply_rlimits(const struct oci_process *p, struct vessel_error **err)
{
    for (size_t i = 0; i < p->rlimits_len; i++) {
        const struct oci_rlimit *rl = &p->rlimits[i];
        int res = oci_vocab_find(oci_rlimit_names, oci_rlimit_count, rl->type);
        if (res < 0)
            return vessel_error_set(err, EINVAL, "process.rlimits[%zu].type: unknown rlimit \"%s\"", i,
                                    rl->type);
        struct rlimit lim = {.rlim_cur = rl->soft, .rlim_max = rl->hard};
        if (setrlimit(res, &lim) < 0)
            return vessel_error_set(err, errno, "process.rlimits[%zu]: setrlimit %s (soft %llu, hard %llu)",
                                    i, rl->type, (unsigned long long)rl->soft,
                                    (unsigned long long)rl->hard);
    }
    return 0;
}

static int apply_oom_score_adj(const struct oci_process *p, struct vessel_error **err)
{
    if (!p->has_oom_score_adj)
        return 0;
    char buf[16];
    int n = snprintf(buf, sizeof(buf), "%d", (int)p->oom_score_adj);
    _cleanup_close_ int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    int r = fd < 0 ? -errno : write_all_fd(fd, buf, (size_t)n);
    if (r < 0)
        return vessel_error_set(err, -r, "process.oomScoreAdj %d: write /proc/self/oom_score_adj",
                                (int)p->oom_score_adj);
    return 0;
}

static int apply_personality(const struct oci_personality *pe, struct vessel_error **err)
{
    if (!pe->present)
        return 0;
    unsigned long dom;
    if (pe->domain != NULL && strcmp(pe->domain, "LINUX") == 0)
        dom = PER_LINUX;
    else if (pe->domain != NULL && strcmp(pe->domain, "LINUX32") == 0)
        dom = PER_LINUX32;
    else
        return vessel_error_set(err, EINVAL, "linux.personality.domain: unknown domain \"%s\"",
                                pe->domain ? pe->domain : "");
    /* runtime-spec defines no personality flags yet; the parser vets them. */
    if (personality(dom) < 0)
        return vessel_error_set(err, errno, "linux.personality: personality(%s)", pe->domain);
    return 0;
}

static int apply_scheduler(const struct oci_scheduler *s, struct vessel_error **err)
{
    if (!s->present)
        return 0;
    unsigned long policy, flags = 0;
    if (LOOKUP(sched_policies, s->policy, &policy) < 0)
        return vessel_error_set(err, EINVAL, "process.scheduler.policy: unknown policy \"%s\"",
                                s->policy ? s->policy : "");
    for (size_t i = 0; i < s->flags_len; i++) {
        unsigned long f;
        if (LOOKUP(sched_flags, s->flags[i], &f) < 0)
            return vessel_error_set(err, EINVAL, "process.scheduler.flags[%zu]: unknown flag \"%s\"", i,
                                    s->flags[i]);
        flags |= f;
    }
    struct sched_attr_v1 attr = {
        .size = sizeof(attr), .sched_policy = (uint32_t)policy, .sched_flags = flags,
        .sched_nice = s->nice, .sched_priority = (uint32_t)s->priority,
        .sched_runtime = s->runtime, .sched_deadline = s->deadline, .sched_period = s->period,
    };
    if (syscall(SYS_sched_setattr, 0, &attr, 0) < 0)
        return vessel_error_set(err, errno, "process.scheduler: sched_setattr(%s)", s->policy);
    return 0;
}

static int apply_io_priority(const struct oci_io_priority *io, struct vessel_error **err)
{
    if (!io->present)
        return 0;
    unsigned long klass;
    if (LOOKUP(ioprio_classes, io->klass, &klass) < 0)
        return vessel_error_set(err, EINVAL, "process.ioPriority.class: unknown class \"%s\"",
                                io->klass ? io->klass : "");
    if (io->priority < 0 || io->priority > 7)
        return vessel_error_set(err, EINVAL, "process.ioPriority.priority: %d is not in 0..7",
                                (int)io->priority);
    int value = (int)(klass << 13) | io->priority;
    if (syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, value) < 0)
        return vessel_error_set(err, errno, "process.ioPriority: ioprio_set(%s, %d)", io->klass,
                                (int)io->priority);
    return 0;
}

/* setgroups is refused in a user namespace whose /proc/self/setgroups says "deny". */
static bool setgroups_denied(void)
{
    _cleanup_free_ char *s = NULL;
    struct vessel_error *e = NULL;
    bool deny = read_file_at(AT_FDCWD, "/proc/self/setgroups", 64, &s, NULL, &e) == 0 &&
                strncmp(s, "deny", 4) == 0;
    vessel_error_free(e);
    return deny;
}

static int apply_user(const struct oci_process *p, struct vessel_error **err)
{
    const struct oci_user *u = &p->user;
    const struct oci_capabilities *c = &p->capabilities;
    if (caps_drop_bounding(c, err) < 0)
        return vessel_error_wrap(err, "process.capabilities.bounding");
    if (c->present && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
        return vessel_error_set(err, errno, "prctl(PR_SET_KEEPCAPS)");
    if (u->additional_gids_len > 0 || !setgroups_denied()) {
        gid_t *gids = (gid_t *)u->additional_gids;  /* uint32_t and gid_t agree on Linux */
        if (setgroups(u->additional_gids_len, gids) < 0)
            return vessel_error_set(err, errno, "process.user.additionalGids: setgroups");
    }
    if (setresgid(u->gid, u->gid, u->gid) < 0)
        return vessel_error_set(err, errno, "process.user.gid %u: setresgid", u->gid);
    if (setresuid(u->uid, u->uid, u->uid) < 0)
        return vessel_error_set(err, errno, "process.user.uid %u: setresuid", u->uid);
    if (c->present) {
        if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
            return vessel_error_set(err, errno, "prctl(PR_SET_KEEPCAPS)");
        if (caps_set(c, err) < 0)
            return vessel_error_wrap(err, "process.capabilities");
    }
    return 0;
}

int process_setup(const struct oci_spec *spec, struct vessel_error **err)
{
    const struct oci_process *p = &spec->process;
    int r;
    if ((r = apply_rlimits(p, err)) < 0 || (r = apply_oom_score_adj(p, err)) < 0 ||
        (r = apply_personality(&spec->linux_.personality, err)) < 0 ||
        (r = apply_scheduler(&p->scheduler, err)) < 0 || (r = apply_io_priority(&p->io_priority, err)) < 0)
        return r;
    umask(p->user.has_umask ? (mode_t)p->user.umask : 022);
    const char *cwd = p->cwd && p->cwd[0] ? p->cwd : "/";
    bool cwd_later = false;
    if (chdir(cwd) < 0) {
        if (errno != EACCES && errno != EPERM)
            return vessel_error_set(err, errno, "process.cwd \"%s\"", cwd);
        cwd_later = true;  /* maybe only the container's user may enter it */
    }
    const struct oci_seccomp *sc = &spec->linux_.seccomp;
    if (sc->present && !p->no_new_privileges) {
        if ((r = seccomp_load_spec(sc, false, err)) < 0)
            return vessel_error_wrap(err, "linux.seccomp");
        seccomp_loaded = true;
    }
    if ((r = apply_user(p, err)) < 0)
        return r;
    if (cwd_later && chdir(cwd) < 0)
        return vessel_error_set(err, errno, "process.cwd \"%s\"", cwd);
    if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return vessel_error_set(err, errno, "process.noNewPrivileges: prctl(PR_SET_NO_NEW_PRIVS)");
    return 0;
}

void process_env_free(char **envp)
{
    for (size_t i = 0; envp != NULL && envp[i] != NULL; i++)
        free(envp[i]);
    free(envp);
}

static bool env_has(char **env, size_t n, const char *key)
{
    size_t k = strlen(key);
    for (size_t i = 0; i < n; i++)
        if (env[i] != NULL && strncmp(env[i], key, k) == 0 && env[i][k] == '=')
            return true;
    return false;
}

/* Home directory of uid in /etc/passwd (the container's, after pivot_root). */
static char *passwd_home(uint32_t uid)
{
    _cleanup_free_ char *text = NULL;
    struct vessel_error *e = NULL;
    if (read_file_at(AT_FDCWD, "/etc/passwd", PASSWD_MAX, &text, NULL, &e) < 0) {
        vessel_error_free(e);
        return NULL;
    }
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        /* name:password:uid:gid:gecos:home:shell */
        char *f[7] = {NULL};
        char *rest = line;
        for (int i = 0; i < 7 && rest != NULL; i++) {
            f[i] = rest;
            rest = strchr(rest, ':');
            if (rest != NULL)
                *rest++ = '\0';
        }
        if (f[5] == NULL || f[2] == NULL || f[2][0] == '\0')
            continue;
        char *end;
        unsigned long v = strtoul(f[2], &end, 10);
        if (*end == '\0' && v == uid && f[5][0] != '\0')
            return strdup(f[5]);
    }
    return NULL;
}

int process_build_env(const struct oci_spec *spec, char ***envp, struct vessel_error **err)
{
    const struct oci_process *p = &spec->process;
    char **env = calloc(p->env_len + 3, sizeof(*env));
    if (env == NULL)
        return vessel_error_set(err, ENOMEM, "process.env");
    size_t n = 0;
    for (size_t i = 0; i < p->env_len; i++) {
        if ((env[n] = strdup(p->env[i])) == NULL)
            goto oom;
        n++;
    }
    if (!env_has(env, n, "PATH")) {
        if ((env[n] = strdup(DEFAULT_PATH)) == NULL)
            goto oom;
        n++;
    }
    if (!env_has(env, n, "HOME")) {
        _cleanup_free_ char *home = passwd_home(p->user.uid);
        if (asprintf(&env[n], "HOME=%s", home ? home : "/") < 0) {
            env[n] = NULL;
            goto oom;
        }
        n++;
    }
    *envp = env;
    return 0;
oom:
    process_env_free(env);
    return vessel_error_set(err, ENOMEM, "process.env");
}

static const char *env_get(char **envp, const char *key)
{
    size_t k = strlen(key);
    for (size_t i = 0; envp != NULL && envp[i] != NULL; i++)
        if (strncmp(envp[i], key, k) == 0 && envp[i][k] == '=')
            return envp[i] + k + 1;
    return NULL;
}

/* args[0] through PATH, like execvp but with the container's PATH. */
static int resolve_command(const char *name, char **envp, char **out)
{
    if (strchr(name, '/') != NULL) {
        *out = strdup(name);
        return *out ? 0 : -ENOMEM;
    }
    const char *path = env_get(envp, "PATH");
    if (path == NULL)
        path = DEFAULT_PATH_VALUE;
    int found_err = -ENOENT;
    for (const char *d = path; ; ) {
        const char *end = strchr(d, ':');
        size_t len = end ? (size_t)(end - d) : strlen(d);
        char *cand = NULL;
        if (asprintf(&cand, "%.*s%s%s", (int)len, d, len ? "/" : "", name) < 0)
            return -ENOMEM;
        struct stat st;
        if (stat(cand, &st) == 0 && S_ISREG(st.st_mode)) {
            if (access(cand, X_OK) == 0) {
                *out = cand;
                return 0;
            }
            found_err = -EACCES;
        }
        free(cand);
        if (end == NULL)
            break;
        d = end + 1;
    }
    return found_err;
}

int process_exec(const struct oci_spec *spec, char **envp, struct vessel_error **err)
{
    const struct oci_process *p = &spec->process;
    if (p->args_len == 0 || p->args[0] == NULL)
        return vessel_error_set(err, EINVAL, "process.args: must be a non-empty array");
    _cleanup_free_ char *path = NULL;
    int r = resolve_command(p->args[0], envp, &path);
    if (r < 0)
        return vessel_error_set(err, -r, "exec \"%s\"", p->args[0]);
    const struct oci_seccomp *sc = &spec->linux_.seccomp;
    if (sc->present && !seccomp_loaded) {
        if ((r = seccomp_load_spec(sc, p->no_new_privileges, err)) < 0)
            return vessel_error_wrap(err, "linux.seccomp");
        seccomp_loaded = true;
    }
    /* The spec's arrays are counted; execve wants a NULL at the end. */
    _cleanup_free_ char **argv = calloc(p->args_len + 1, sizeof(*argv));
    if (argv == NULL)
        return vessel_error_set(err, ENOMEM, "exec \"%s\"", p->args[0]);
    memcpy(argv, p->args, p->args_len * sizeof(*argv));
    execve(path, argv, envp);
    return vessel_error_set(err, errno, "exec \"%s\"", p->args[0]);
}
