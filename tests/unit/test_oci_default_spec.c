/* Unit tests for oci/default_spec.c: `vessel spec` output parses back with
 * spec_parse and carries what `runc spec` (and --rootless) would. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "oci/spec.h"

static struct oci_spec *default_spec(bool rootless, char **json_out)
{
    char *json = NULL;
    struct vessel_error *err = NULL;
    if (spec_default_json(rootless, &json, &err) < 0)
        fail_msg("spec_default_json: %s", err->msg);
    struct oci_spec *spec = NULL;
    if (spec_parse(json, strlen(json), &spec, &err) < 0)
        fail_msg("default spec does not parse: %s\n%s", err->msg, json);
    if (json_out != NULL)
        *json_out = json;
    else
        free(json);
    return spec;
}

static const struct oci_mount *find_mount(const struct oci_spec *s, const char *dest)
{
    for (size_t i = 0; i < s->mounts_len; i++)
        if (strcmp(s->mounts[i].destination, dest) == 0)
            return &s->mounts[i];
    return NULL;
}

static bool has_option(const struct oci_mount *m, const char *opt)
{
    for (size_t i = 0; i < m->options_len; i++)
        if (strcmp(m->options[i], opt) == 0)
            return true;
    return false;
}

static void test_default_process_root(void **state)
{
    (void)state;
    char *json = NULL;
    _cleanup_spec_ struct oci_spec *s = default_spec(false, &json);
    assert_non_null(strchr(json, '\n'));  /* pretty-printed for people to edit */
    free(json);
    assert_string_equal(s->oci_version, "1.2.0");
    assert_true(s->has_process);
    assert_true(s->process.terminal);
    assert_int_equal(s->process.args_len, 1);
    assert_string_equal(s->process.args[0], "sh");
    assert_int_equal(s->process.env_len, 2);
    assert_int_equal(strncmp(s->process.env[0], "PATH=", 5), 0);
    assert_string_equal(s->process.env[1], "TERM=xterm");
    assert_string_equal(s->process.cwd, "/");
    assert_int_equal(s->process.user.uid, 0);
    assert_int_equal(s->process.capabilities.bounding_len, 3);
    assert_string_equal(s->process.capabilities.bounding[0], "CAP_AUDIT_WRITE");
    assert_string_equal(s->process.capabilities.effective[1], "CAP_KILL");
    assert_string_equal(s->process.capabilities.permitted[2], "CAP_NET_BIND_SERVICE");
    assert_int_equal(s->process.rlimits_len, 1);
    assert_string_equal(s->process.rlimits[0].type, "RLIMIT_NOFILE");
    assert_int_equal(s->process.rlimits[0].hard, 1024);
    assert_int_equal(s->process.rlimits[0].soft, 1024);
    assert_true(s->process.no_new_privileges);
    assert_string_equal(s->root.path, "rootfs");
    assert_true(s->root.readonly);
    assert_string_equal(s->hostname, "vessel");
}

static void test_default_mounts_linux(void **state)
{
    (void)state;
    _cleanup_spec_ struct oci_spec *s = default_spec(false, NULL);
    static const char *const dests[] = {"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup"};
    assert_int_equal(s->mounts_len, 7);
    for (size_t i = 0; i < 7; i++)
        assert_string_equal(s->mounts[i].destination, dests[i]);
    assert_string_equal(find_mount(s, "/sys")->type, "sysfs");
    assert_true(has_option(find_mount(s, "/dev/pts"), "gid=5"));
    assert_true(has_option(find_mount(s, "/sys/fs/cgroup"), "ro"));
    static const enum oci_namespace_type want[] = {OCI_NS_PID, OCI_NS_NETWORK, OCI_NS_IPC, OCI_NS_UTS, OCI_NS_MOUNT,
                                                   OCI_NS_CGROUP};
    assert_int_equal(s->linux_.namespaces_len, 6);
    for (size_t i = 0; i < 6; i++) {
        assert_non_null(spec_namespace(s, want[i]));
        assert_null(spec_namespace(s, want[i])->path);
    }
    assert_null(spec_namespace(s, OCI_NS_USER));
    assert_int_equal(s->linux_.uid_mappings_len, 0);
    assert_true(s->linux_.resources.present);
    assert_int_equal(s->linux_.resources.devices_len, 1);
    assert_false(s->linux_.resources.devices[0].allow);
    assert_string_equal(s->linux_.resources.devices[0].access, "rwm");
    assert_int_equal(s->linux_.masked_paths_len, 10);
    assert_string_equal(s->linux_.masked_paths[2], "/proc/kcore");
    assert_int_equal(s->linux_.readonly_paths_len, 5);
    assert_string_equal(s->linux_.readonly_paths[3], "/proc/sys");
}

static void test_rootless(void **state)
{
    (void)state;
    _cleanup_spec_ struct oci_spec *s = default_spec(true, NULL);
    assert_non_null(spec_namespace(s, OCI_NS_USER));
    assert_null(spec_namespace(s, OCI_NS_NETWORK));
    assert_non_null(spec_namespace(s, OCI_NS_PID));
    assert_non_null(spec_namespace(s, OCI_NS_MOUNT));
    assert_int_equal(s->linux_.uid_mappings_len, 1);
    assert_int_equal(s->linux_.uid_mappings[0].container_id, 0);
    assert_int_equal(s->linux_.uid_mappings[0].host_id, geteuid());
    assert_int_equal(s->linux_.uid_mappings[0].size, 1);
    assert_int_equal(s->linux_.gid_mappings_len, 1);
    assert_int_equal(s->linux_.gid_mappings[0].host_id, getegid());
    const struct oci_mount *sys = find_mount(s, "/sys");
    assert_non_null(sys);
    assert_string_equal(sys->type, "none");
    assert_string_equal(sys->source, "/sys");
    assert_true(has_option(sys, "rbind"));
    assert_true(has_option(sys, "ro"));
    const struct oci_mount *pts = find_mount(s, "/dev/pts");
    assert_false(has_option(pts, "gid=5"));
    assert_true(has_option(pts, "newinstance"));
    assert_false(s->linux_.resources.present);
    assert_int_equal(s->mounts_len, 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_process_root),
        cmocka_unit_test(test_default_mounts_linux),
        cmocka_unit_test(test_rootless),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
