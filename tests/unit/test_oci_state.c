/* Unit tests for oci/state.c: private state.json round trip, the OCI subset
 * printed by `vessel state`, status names, and rejected documents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <yajl/yajl_tree.h>

#include "oci/state.h"

/* A fully populated state, owned (freed with state_free). */
static struct container_state *sample_new(void)
{
    struct container_state *st = calloc(1, sizeof(*st));
    assert_non_null(st);
    st->oci_version = strdup("1.2.0");
    st->id = strdup("box-1");
    st->status = STATUS_RUNNING;
    st->pid = 4242;
    st->pid_start_time = UINT64_MAX;
    st->bundle = strdup("/srv/bundles/box \"quoted\"");
    st->rootfs = strdup("/srv/bundles/box/rootfs");
    st->created = strdup("2026-11-22T00:00:00.123456789Z");
    st->owner = strdup("root");
    st->annotations = calloc(2, sizeof(*st->annotations));
    assert_non_null(st->annotations);
    st->annotations[0].key = strdup("org.example");
    st->annotations[0].value = strdup("1");
    st->annotations[1].key = strdup("vessel.isolation");
    st->annotations[1].value = strdup("vm");
    st->annotations_len = 2;
    st->cgroup_path = strdup("/vessel/box-1");
    st->isolation = strdup("vm");
    st->vm_backend = strdup("qemu");
    st->started = true;
    st->systemd_cgroup = true;
    return st;
}

static struct container_state *parse_ok(const char *json)
{
    struct container_state *st = NULL;
    struct vessel_error *err = NULL;
    if (state_from_json(json, strlen(json), &st, &err) < 0)
        fail_msg("unexpected error: %s", err->msg);
    return st;
}

static void test_round_trip(void **state)
{
    (void)state;
    _cleanup_state_ struct container_state *sample = sample_new();
    char *json = NULL;
    struct vessel_error *err = NULL;
    assert_int_equal(state_to_json(sample, &json, &err), 0);
    _cleanup_state_ struct container_state *st = parse_ok(json);
    free(json);
    assert_string_equal(st->oci_version, "1.2.0");
    assert_string_equal(st->id, "box-1");
    assert_int_equal(st->status, STATUS_RUNNING);
    assert_int_equal(st->pid, 4242);
    assert_true(st->pid_start_time == UINT64_MAX);
    assert_string_equal(st->bundle, sample->bundle);
    assert_string_equal(st->rootfs, sample->rootfs);
    assert_string_equal(st->created, sample->created);
    assert_string_equal(st->owner, "root");
    assert_int_equal(st->annotations_len, 2);
    assert_string_equal(st->annotations[1].key, "vessel.isolation");
    assert_string_equal(st->annotations[1].value, "vm");
    assert_string_equal(st->cgroup_path, "/vessel/box-1");
    assert_string_equal(st->isolation, "vm");
    assert_string_equal(st->vm_backend, "qemu");
    assert_true(st->started);
    assert_true(st->systemd_cgroup);
}

static void test_round_trip_sparse(void **state)
{
    (void)state;
    char version[] = "1.2.0", id[] = "x";
    struct container_state sparse = {.oci_version = version, .id = id, .status = STATUS_CREATING};
    char *json = NULL;
    struct vessel_error *err = NULL;
    assert_int_equal(state_to_json(&sparse, &json, &err), 0);
    _cleanup_state_ struct container_state *st = parse_ok(json);
    free(json);
    assert_int_equal(st->status, STATUS_CREATING);
    assert_int_equal(st->pid, 0);
    assert_null(st->vm_backend);
    assert_null(st->cgroup_path);
    assert_false(st->started);
    assert_int_equal(st->annotations_len, 0);
}

static void test_oci_subset(void **state)
{
    (void)state;
    _cleanup_state_ struct container_state *sample = sample_new();
    char *json = NULL;
    struct vessel_error *err = NULL;
    assert_int_equal(state_to_oci_json(sample, &json, &err), 0);
    assert_non_null(strchr(json, '\n'));  /* pretty-printed */
    assert_int_not_equal(json[strlen(json) - 1], '\n');
    char errbuf[128];
    yajl_val tree = yajl_tree_parse(json, errbuf, sizeof(errbuf));
    assert_non_null(tree);
    static const char *const want[] = {"ociVersion", "id", "status", "pid", "bundle",
                                       "rootfs", "created", "owner", "annotations"};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const char *path[] = {want[i], NULL};
        if (yajl_tree_get(tree, path, yajl_t_any) == NULL)
            fail_msg("missing %s in %s", want[i], json);
    }
    static const char *const hidden[] = {"pidStartTime", "cgroupPath", "isolation", "vmBackend",
                                         "started", "systemdCgroup"};
    for (size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++) {
        const char *path[] = {hidden[i], NULL};
        if (yajl_tree_get(tree, path, yajl_t_any) != NULL)
            fail_msg("private %s leaked into the OCI state", hidden[i]);
    }
    const char *status_path[] = {"status", NULL};
    assert_string_equal(YAJL_GET_STRING(yajl_tree_get(tree, status_path, yajl_t_string)), "running");
    const char *pid_path[] = {"pid", NULL};
    assert_int_equal(YAJL_GET_INTEGER(yajl_tree_get(tree, pid_path, yajl_t_number)), 4242);
    const char *ann_path[] = {"annotations", "vessel.isolation", NULL};
    assert_string_equal(YAJL_GET_STRING(yajl_tree_get(tree, ann_path, yajl_t_string)), "vm");
    yajl_tree_free(tree);
    free(json);
}

static void test_oci_subset_no_annotations(void **state)
{
    (void)state;
    char id[] = "x", bundle[] = "/b";
    struct container_state st = {.id = id, .status = STATUS_STOPPED, .bundle = bundle};
    char *json = NULL;
    struct vessel_error *err = NULL;
    assert_int_equal(state_to_oci_json(&st, &json, &err), 0);
    assert_null(strstr(json, "annotations"));
    assert_non_null(strstr(json, "\"stopped\""));
    assert_non_null(strstr(json, "\"pid\": 0"));
    free(json);
}

static void test_status_names(void **state)
{
    (void)state;
    static const char *const names[] = {"creating", "created", "running", "stopped", "paused"};
    for (int i = 0; i < 5; i++) {
        enum container_status s;
        assert_string_equal(container_status_name((enum container_status)i), names[i]);
        assert_int_equal(container_status_parse(names[i], &s), 0);
        assert_int_equal(s, i);
    }
    enum container_status s = STATUS_CREATED;
    assert_true(container_status_parse("zombie", &s) < 0);
    assert_true(container_status_parse(NULL, &s) < 0);
    assert_int_equal(s, STATUS_CREATED);
}

static void test_unknown_keys_tolerated(void **state)
{
    (void)state;
    _cleanup_state_ struct container_state *st =
        parse_ok("{\"ociVersion\":\"1.0.2\",\"id\":\"a\",\"status\":\"paused\",\"pid\":7,\"future\":{\"x\":[1]}}");
    assert_int_equal(st->status, STATUS_PAUSED);
    assert_int_equal(st->pid, 7);
}

struct bad_state { const char *json; const char *expect; };

static void test_bad_documents(void **state)
{
    (void)state;
    static const struct bad_state bad[] = {
        {"{", "state.json: invalid JSON: "},
        {"[]", "state.json: expected a JSON object"},
        {"{\"id\":\"a\",\"status\":\"running\"}", "state.json: ociVersion: missing required field"},
        {"{\"ociVersion\":\"1\",\"status\":\"running\"}", "state.json: id: missing required field"},
        {"{\"ociVersion\":\"1\",\"id\":\"a\",\"status\":\"zombie\"}", "state.json: status: unknown status \"zombie\""},
        {"{\"ociVersion\":\"1\",\"id\":\"a\",\"status\":\"running\",\"pid\":\"12\"}",
         "state.json: pid: expected an integer, got a string"},
        {"{\"ociVersion\":\"1\",\"id\":\"a\",\"status\":\"running\",\"pid\":-3}", "state.json: pid: -3 is out of range"},
        {"{\"ociVersion\":\"1\",\"id\":\"a\",\"status\":\"running\",\"started\":1}",
         "state.json: started: expected a boolean, got a number"},
        {"{\"ociVersion\":\"1\",\"id\":\"a\",\"status\":\"running\",\"annotations\":{\"k\":false}}",
         "state.json: annotations[\"k\"]: expected a string, got a boolean"},
        {"{\"ociVersion\":\"1\",\"id\":\"a\",\"status\":\"running\",\"pidStartTime\":1.5}",
         "state.json: pidStartTime: expected an integer, got 1.5"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct container_state *st = NULL;
        struct vessel_error *err = NULL;
        if (state_from_json(bad[i].json, strlen(bad[i].json), &st, &err) >= 0) {
            state_free(st);
            fail_msg("accepted %s", bad[i].json);
        }
        assert_null(st);
        if (strncmp(err->msg, bad[i].expect, strlen(bad[i].expect)) != 0)
            fail_msg("%s: got \"%s\", expected \"%s...\"", bad[i].json, err->msg, bad[i].expect);
        vessel_error_free(err);
    }
}

static void test_free_null(void **state)
{
    (void)state;
    state_free(NULL);
    struct container_state *st = NULL;
    state_freep(&st);
    assert_null(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_round_trip_sparse),
        cmocka_unit_test(test_oci_subset),
        cmocka_unit_test(test_oci_subset_no_annotations),
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_unknown_keys_tolerated),
        cmocka_unit_test(test_bad_documents),
        cmocka_unit_test(test_free_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
