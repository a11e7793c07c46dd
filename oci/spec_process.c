/* config.json "process": args, env, user, capabilities, rlimits, scheduler, ... */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "oci/spec_internal.h"
#include "oci/vocab.h"

static int parse_console_size(struct json_cursor *c, yajl_val v, struct oci_console_size *cs)
{
    TRY(json_read_u32(c, v, "height", true, &cs->height, NULL));
    TRY(json_read_u32(c, v, "width", true, &cs->width, NULL));
    cs->present = true;
    return 0;
}

static int parse_user(struct json_cursor *c, yajl_val v, struct oci_user *u)
{
    TRY(json_read_u32(c, v, "uid", true, &u->uid, NULL));
    TRY(json_read_u32(c, v, "gid", true, &u->gid, NULL));
    uint64_t umask = 0;
    TRY(json_read_u64(c, v, "umask", false, 0777, &umask, &u->has_umask));
    u->umask = (uint32_t)umask;
    TRY(json_read_string(c, v, "username", false, &u->username));

    TRY(json_read_u32_array(c, v, "additionalGids", false, &u->additional_gids, &u->additional_gids_len));
    return 0;
}

static int parse_capabilities(struct json_cursor *c, yajl_val v, struct oci_capabilities *caps)
{
    static const char what[] = "capability";
    const char *const *names = oci_capability_names;
    size_t count = oci_capability_count;
    TRY(json_read_string_array(c, v, "bounding", false, names, count, what, &caps->bounding, &caps->bounding_len));
    TRY(json_read_string_array(c, v, "effective", false, names, count, what, &caps->effective,
                               &caps->effective_len));
    TRY(json_read_string_array(c, v, "inheritable", false, names, count, what, &caps->inheritable,
                               &caps->inheritable_len));
    TRY(json_read_string_array(c, v, "permitted", false, names, count, what, &caps->permitted,
                               &caps->permitted_len));
    TRY(json_read_string_array(c, v, "ambient", false, names, count, what, &caps->ambient, &caps->ambient_len));
    caps->present = true;
    return 0;
}

static int parse_rlimit(struct json_cursor *c, yajl_val v, void *out)
{
    struct oci_rlimit *rl = out;
    TRY(json_read_string(c, v, "type", true, &rl->type));
    TRY(json_check_vocab(c, "type", rl->type, oci_rlimit_names, oci_rlimit_count, "rlimit"));
    TRY(json_read_u64(c, v, "hard", true, UINT64_MAX, &rl->hard, NULL));
    TRY(json_read_u64(c, v, "soft", true, UINT64_MAX, &rl->soft, NULL));
    if (rl->soft > rl->hard)
        return json_cursor_key_error(c, "soft", "must not exceed the hard limit");
    return 0;
}

static int parse_io_priority(struct json_cursor *c, yajl_val v, struct oci_io_priority *io)
{
    TRY(json_read_string(c, v, "class", true, &io->klass));
    TRY(json_check_vocab(c, "class", io->klass, oci_ioprio_class_names, oci_ioprio_class_count,
                         "I/O priority class"));
    TRY(json_read_i32(c, v, "priority", false, 0, 7, &io->priority, NULL));
    io->present = true;
    return 0;
}

static int parse_scheduler(struct json_cursor *c, yajl_val v, struct oci_scheduler *s)
{
    TRY(json_read_string(c, v, "policy", true, &s->policy));
    TRY(json_check_vocab(c, "policy", s->policy, oci_sched_policy_names, oci_sched_policy_count,
                         "scheduler policy"));
    TRY(json_read_i32(c, v, "nice", false, -20, 19, &s->nice, NULL));
    TRY(json_read_i32(c, v, "priority", false, 0, 99, &s->priority, NULL));
    TRY(json_read_string_array(c, v, "flags", false, oci_sched_flag_names, oci_sched_flag_count,
                               "scheduler flag", &s->flags, &s->flags_len));
    TRY(json_read_u64(c, v, "runtime", false, UINT64_MAX, &s->runtime, NULL));
    TRY(json_read_u64(c, v, "deadline", false, UINT64_MAX, &s->deadline, NULL));
    TRY(json_read_u64(c, v, "period", false, UINT64_MAX, &s->period, NULL));
    s->present = true;
    return 0;
}

static int parse_cpu_affinity(struct json_cursor *c, yajl_val v, struct oci_exec_cpu_affinity *a)
{
    int r = json_read_string(c, v, "initial", false, &a->initial);
    TRY(r);
    if (r > 0)
        TRY(spec_check_cpu_list(c, "initial", a->initial));
    r = json_read_string(c, v, "final", false, &a->final);
    TRY(r);
    if (r > 0)
        TRY(spec_check_cpu_list(c, "final", a->final));
    return 0;
}

static int check_env(struct json_cursor *c, char **env, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(env[i], '=');
        if (eq == NULL || eq == env[i]) {
            size_t saved = json_cursor_enter_key(c, "env");
            json_cursor_enter_index(c, i);
            int r = json_cursor_error(c, "\"%s\" is not of the form NAME=VALUE", env[i]);
            json_cursor_leave(c, saved);
            return r;
        }
    }
    return 0;
}

static int check_unique_rlimits(struct json_cursor *c, const struct oci_rlimit *rl, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < i; j++) {
            if (strcmp(rl[i].type, rl[j].type) == 0) {
                size_t saved = json_cursor_enter_key(c, "rlimits");
                json_cursor_enter_index(c, i);
                int r = json_cursor_key_error(c, "type", "duplicate rlimit \"%s\"", rl[i].type);
                json_cursor_leave(c, saved);
                return r;
            }
        }
    }
    return 0;
}

int spec_parse_process(struct json_cursor *c, yajl_val v, struct oci_process *p)
{
    TRY(json_read_bool(c, v, "terminal", &p->terminal, NULL));
    TRY_SECTION(c, v, "consoleSize", false, parse_console_size, &p->console_size);
    TRY_SECTION(c, v, "user", false, parse_user, &p->user);

    yajl_val args = json_member(v, "args");
    if (args != NULL && YAJL_IS_ARRAY(args) && args->u.array.len == 0)
        args = NULL;
    if (args == NULL)
        return json_cursor_key_error(c, "args", "must be a non-empty array");
    TRY(json_read_string_array(c, v, "args", true, NULL, 0, NULL, &p->args, &p->args_len));
    if (p->args[0][0] == '\0')
        return json_cursor_key_error(c, "args[0]", "must not be empty");
    TRY(json_read_string(c, v, "commandLine", false, &p->command_line));
    TRY(json_read_string_array(c, v, "env", false, NULL, 0, NULL, &p->env, &p->env_len));
    TRY(check_env(c, p->env, p->env_len));
    TRY(json_read_string(c, v, "cwd", true, &p->cwd));
    TRY(spec_check_absolute(c, "cwd", p->cwd));

    TRY_SECTION(c, v, "capabilities", false, parse_capabilities, &p->capabilities);
    TRY(json_read_object_array(c, v, "rlimits", false, sizeof(*p->rlimits), parse_rlimit,
                               (void **)&p->rlimits, &p->rlimits_len));
    TRY(check_unique_rlimits(c, p->rlimits, p->rlimits_len));
    TRY(json_read_bool(c, v, "noNewPrivileges", &p->no_new_privileges, NULL));
    TRY(json_read_string(c, v, "apparmorProfile", false, &p->apparmor_profile));
    TRY(json_read_i32(c, v, "oomScoreAdj", false, -1000, 1000, &p->oom_score_adj, &p->has_oom_score_adj));
    TRY(json_read_string(c, v, "selinuxLabel", false, &p->selinux_label));
    TRY_SECTION(c, v, "ioPriority", false, parse_io_priority, &p->io_priority);
    TRY_SECTION(c, v, "scheduler", false, parse_scheduler, &p->scheduler);
    TRY_SECTION(c, v, "execCPUAffinity", false, parse_cpu_affinity, &p->exec_cpu_affinity);
    return 0;
}

void spec_free_process(struct oci_process *p)
{
    free(p->user.additional_gids);
    free(p->user.username);
    json_free_strv(p->args, p->args_len);
    free(p->command_line);
    json_free_strv(p->env, p->env_len);
    free(p->cwd);
    json_free_strv(p->capabilities.bounding, p->capabilities.bounding_len);
    json_free_strv(p->capabilities.effective, p->capabilities.effective_len);
    json_free_strv(p->capabilities.inheritable, p->capabilities.inheritable_len);
    json_free_strv(p->capabilities.permitted, p->capabilities.permitted_len);
    json_free_strv(p->capabilities.ambient, p->capabilities.ambient_len);
    for (size_t i = 0; i < p->rlimits_len; i++)
        free(p->rlimits[i].type);
    free(p->rlimits);
    free(p->apparmor_profile);
    free(p->selinux_label);
    free(p->io_priority.klass);
    free(p->scheduler.policy);
    json_free_strv(p->scheduler.flags, p->scheduler.flags_len);
    free(p->exec_cpu_affinity.initial);
    free(p->exec_cpu_affinity.final);
}
