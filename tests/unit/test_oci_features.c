/* Unit tests for oci/features.c: the features document is valid JSON with the
 * keys features.md defines, and reflects what the caller reports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <yajl/yajl_tree.h>

#include "oci/features.h"
#include "oci/vocab.h"

static yajl_val features_tree(const struct features_info *info)
{
    char *json = NULL;
    struct vessel_error *err = NULL;
    if (features_to_json(info, &json, &err) < 0)
        fail_msg("features_to_json: %s", err->msg);
    char errbuf[256];
    yajl_val tree = yajl_tree_parse(json, errbuf, sizeof(errbuf));
    if (tree == NULL)
        fail_msg("invalid JSON (%s): %s", errbuf, json);
    free(json);
    return tree;
}

static yajl_val get(yajl_val tree, const char *a, const char *b, const char *c)
{
    const char *path[] = {a, b, c, NULL};
    return yajl_tree_get(tree, path, yajl_t_any);
}

static bool array_has(yajl_val arr, const char *s)
{
    if (!YAJL_IS_ARRAY(arr))
        return false;
    for (size_t i = 0; i < arr->u.array.len; i++)
        if (YAJL_IS_STRING(arr->u.array.values[i]) && strcmp(arr->u.array.values[i]->u.string, s) == 0)
            return true;
    return false;
}

static void test_static_parts(void **state)
{
    (void)state;
    struct features_info info = {.cgroup_v1 = true, .cgroup_v2 = true};
    yajl_val t = features_tree(&info);
    assert_string_equal(YAJL_GET_STRING(get(t, "ociVersionMin", NULL, NULL)), "1.0.0");
    assert_string_equal(YAJL_GET_STRING(get(t, "ociVersionMax", NULL, NULL)), "1.2.0");
    yajl_val hooks = get(t, "hooks", NULL, NULL);
    assert_int_equal(hooks->u.array.len, 6);
    assert_true(array_has(hooks, "createRuntime"));
    assert_true(array_has(hooks, "poststop"));
    yajl_val opts = get(t, "mountOptions", NULL, NULL);
    assert_int_equal(opts->u.array.len, oci_mount_option_count);
    assert_true(array_has(opts, "rbind"));
    assert_true(array_has(opts, "rro"));
    assert_true(array_has(opts, "idmap"));
    yajl_val ns = get(t, "linux", "namespaces", NULL);
    assert_int_equal(ns->u.array.len, 8);
    assert_true(array_has(ns, "time"));
    yajl_val caps = get(t, "linux", "capabilities", NULL);
    assert_int_equal(caps->u.array.len, 41);
    assert_true(array_has(caps, "CAP_BPF"));
    assert_true(YAJL_IS_TRUE(get(t, "linux", "cgroup", "v1")));
    assert_true(YAJL_IS_TRUE(get(t, "linux", "cgroup", "v2")));
    assert_true(YAJL_IS_FALSE(get(t, "linux", "cgroup", "systemd")));
    assert_true(YAJL_IS_FALSE(get(t, "linux", "cgroup", "systemdUser")));
    assert_true(YAJL_IS_FALSE(get(t, "linux", "cgroup", "rdma")));
    assert_true(YAJL_IS_FALSE(get(t, "linux", "apparmor", "enabled")));
    assert_true(YAJL_IS_FALSE(get(t, "linux", "selinux", "enabled")));
    assert_true(YAJL_IS_FALSE(get(t, "linux", "intelRdt", "enabled")));
    const char *idmap[] = {"linux", "mountExtensions", "idmap", "enabled", NULL};
    assert_true(YAJL_IS_FALSE(yajl_tree_get(t, idmap, yajl_t_any)));
    /* seccomp disabled: only "enabled" */
    assert_true(YAJL_IS_FALSE(get(t, "linux", "seccomp", "enabled")));
    assert_null(get(t, "linux", "seccomp", "actions"));
    yajl_val unsafe = get(t, "potentiallyUnsafeConfigAnnotations", NULL, NULL);
    assert_int_equal(unsafe->u.array.len, 1);
    assert_true(array_has(unsafe, "vessel."));
    assert_true(YAJL_IS_OBJECT(get(t, "annotations", NULL, NULL)));
    yajl_tree_free(t);
}

static void test_reported_parts(void **state)
{
    (void)state;
    static const char *const archs[] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
    static const char *const flags[] = {"SECCOMP_FILTER_FLAG_LOG"};
    static const char *const ns[] = {"pid", "mount"};
    char key[] = "io.github.vessel.version", value[] = "0.1.0";
    struct oci_kv ann[] = {{key, value}};
    struct features_info info = {
        .cgroup_v2 = true, .cgroup_systemd = true, .seccomp_enabled = true,
        .seccomp_archs = archs, .seccomp_archs_len = 3,
        .seccomp_supported_flags = flags, .seccomp_supported_flags_len = 1,
        .idmap_mounts_enabled = true, .namespaces = ns, .namespaces_len = 2,
        .annotations = ann, .annotations_len = 1,
    };
    yajl_val t = features_tree(&info);
    assert_true(YAJL_IS_TRUE(get(t, "linux", "seccomp", "enabled")));
    yajl_val actions = get(t, "linux", "seccomp", "actions");
    assert_int_equal(actions->u.array.len, oci_seccomp_action_count);
    assert_true(array_has(actions, "SCMP_ACT_NOTIFY"));
    assert_true(array_has(get(t, "linux", "seccomp", "operators"), "SCMP_CMP_MASKED_EQ"));
    assert_int_equal(get(t, "linux", "seccomp", "archs")->u.array.len, 3);
    assert_true(array_has(get(t, "linux", "seccomp", "archs"), "SCMP_ARCH_X32"));
    assert_int_equal(get(t, "linux", "seccomp", "knownFlags")->u.array.len, oci_seccomp_flag_count);
    assert_int_equal(get(t, "linux", "seccomp", "supportedFlags")->u.array.len, 1);
    assert_int_equal(get(t, "linux", "namespaces", NULL)->u.array.len, 2);
    assert_true(YAJL_IS_TRUE(get(t, "linux", "cgroup", "systemd")));
    const char *idmap[] = {"linux", "mountExtensions", "idmap", "enabled", NULL};
    assert_true(YAJL_IS_TRUE(yajl_tree_get(t, idmap, yajl_t_any)));
    const char *ann_path[] = {"annotations", "io.github.vessel.version", NULL};
    assert_string_equal(YAJL_GET_STRING(yajl_tree_get(t, ann_path, yajl_t_string)), "0.1.0");
    yajl_tree_free(t);
}

static void test_null_info(void **state)
{
    (void)state;
    yajl_val t = features_tree(NULL);
    assert_non_null(get(t, "linux", "cgroup", "v2"));
    yajl_tree_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_static_parts),
        cmocka_unit_test(test_reported_parts),
        cmocka_unit_test(test_null_info),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
