/* config.json "linux.seccomp": actions, architectures, flags and syscall rules,
 * checked against oci/vocab.h (libseccomp itself is runtime/'s business). */
#include <stdlib.h>
#include <string.h>

#include "oci/spec_internal.h"
#include "oci/vocab.h"

#define SECCOMP_MAX_ARGS 6  /* a syscall has at most six arguments */

static int parse_arg(struct json_cursor *c, yajl_val v, void *out)
{
    struct oci_seccomp_arg *a = out;
    uint64_t index = 0;
    TRY(json_read_u64(c, v, "index", true, SECCOMP_MAX_ARGS - 1, &index, NULL));
    a->index = (uint32_t)index;
    TRY(json_read_u64(c, v, "value", true, UINT64_MAX, &a->value, NULL));
    TRY(json_read_u64(c, v, "valueTwo", false, UINT64_MAX, &a->value_two, NULL));
    TRY(json_read_string(c, v, "op", true, &a->op));
    TRY(json_check_vocab(c, "op", a->op, oci_seccomp_operator_names, oci_seccomp_operator_count,
                         "seccomp operator"));
    return 0;
}

static int parse_syscall(struct json_cursor *c, yajl_val v, void *out)
{
    struct oci_seccomp_syscall *s = out;
    TRY(json_read_string_array(c, v, "names", true, NULL, 0, NULL, &s->names, &s->names_len));
    if (s->names_len == 0)
        return json_cursor_key_error(c, "names", "must be a non-empty array");
    for (size_t i = 0; i < s->names_len; i++) {
        if (s->names[i][0] == '\0') {
            size_t saved = json_cursor_enter_key(c, "names");
            json_cursor_enter_index(c, i);
            int r = json_cursor_error(c, "must not be empty");
            json_cursor_leave(c, saved);
            return r;
        }
    }
    TRY(json_read_string(c, v, "action", true, &s->action));
    TRY(json_check_vocab(c, "action", s->action, oci_seccomp_action_names, oci_seccomp_action_count,
                         "seccomp action"));
    TRY(json_read_u32(c, v, "errnoRet", false, &s->errno_ret, &s->has_errno_ret));
    TRY(json_read_object_array(c, v, "args", false, sizeof(*s->args), parse_arg, (void **)&s->args,
                               &s->args_len));
    return 0;
}

static bool uses_notify(const struct oci_seccomp *s)
{
    if (strcmp(s->default_action, "SCMP_ACT_NOTIFY") == 0)
        return true;
    for (size_t i = 0; i < s->syscalls_len; i++)
        if (strcmp(s->syscalls[i].action, "SCMP_ACT_NOTIFY") == 0)
            return true;
    return false;
}

int spec_parse_seccomp(struct json_cursor *c, yajl_val v, struct oci_seccomp *s)
{
    TRY(json_read_string(c, v, "defaultAction", true, &s->default_action));
    TRY(json_check_vocab(c, "defaultAction", s->default_action, oci_seccomp_action_names,
                         oci_seccomp_action_count, "seccomp action"));
    TRY(json_read_u32(c, v, "defaultErrnoRet", false, &s->default_errno_ret, &s->has_default_errno_ret));
    TRY(json_read_string_array(c, v, "architectures", false, oci_seccomp_arch_names, oci_seccomp_arch_count,
                               "seccomp architecture", &s->architectures, &s->architectures_len));
    TRY(json_read_string_array(c, v, "flags", false, oci_seccomp_flag_names, oci_seccomp_flag_count,
                               "seccomp flag", &s->flags, &s->flags_len));
    int r = json_read_string(c, v, "listenerPath", false, &s->listener_path);
    TRY(r);
    if (r > 0)
        TRY(spec_check_absolute(c, "listenerPath", s->listener_path));
    TRY(json_read_string(c, v, "listenerMetadata", false, &s->listener_metadata));
    TRY(json_read_object_array(c, v, "syscalls", false, sizeof(*s->syscalls), parse_syscall,
                               (void **)&s->syscalls, &s->syscalls_len));
    if (s->listener_path == NULL && uses_notify(s))
        return json_cursor_key_error(c, "listenerPath", "required when SCMP_ACT_NOTIFY is used");
    s->present = true;
    return 0;
}

void spec_free_seccomp(struct oci_seccomp *s)
{
    free(s->default_action);
    json_free_strv(s->architectures, s->architectures_len);
    json_free_strv(s->flags, s->flags_len);
    free(s->listener_path);
    free(s->listener_metadata);
    for (size_t i = 0; s->syscalls != NULL && i < s->syscalls_len; i++) {
        json_free_strv(s->syscalls[i].names, s->syscalls[i].names_len);
        free(s->syscalls[i].action);
        for (size_t j = 0; s->syscalls[i].args != NULL && j < s->syscalls[i].args_len; j++)
            free(s->syscalls[i].args[j].op);
        free(s->syscalls[i].args);
    }
    free(s->syscalls);
}
