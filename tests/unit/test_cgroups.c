/* Unit tests for cgroups/: path resolution, hierarchy discovery from
 * mountinfo, and a real create/enter/pids/destroy round trip on this host. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroups/cgroups.h"
#include "cgroups/hierarchy.h"

static char *resolve_ok(const char *in, const char *id)
{
    struct vessel_error *err = NULL;
    char *out = NULL;
    int r = cgroup_resolve_path(in, id, &out, &err);
    if (r < 0)
        fail_msg("resolve \"%s\": %s", in ? in : "(null)", err->msg);
    return out;
}

static void test_resolve_default(void **state)
{
    (void)state;
    char *p = resolve_ok(NULL, "abc");
    assert_string_equal(p, "/vessel/abc");
    free(p);
    p = resolve_ok("", "x.y");
    assert_string_equal(p, "/vessel/x.y");
    free(p);
}

static void test_resolve_absolute(void **state)
{
    (void)state;
    char *p = resolve_ok("/a//b/./c/", "id");
    assert_string_equal(p, "/a/b/c");
    free(p);
}

static void test_resolve_systemd(void **state)
{
    (void)state;
    char *p = resolve_ok("system.slice:docker:abc", "id");
    assert_string_equal(p, "/system.slice/docker-abc.scope");
    free(p);
    p = resolve_ok("machine-a-b.slice:vessel:x", "id");
    assert_string_equal(p, "/machine.slice/machine-a.slice/machine-a-b.slice/vessel-x.scope");
    free(p);
    p = resolve_ok(":p:n", "id");
    assert_string_equal(p, "/system.slice/p-n.scope");
    free(p);
    p = resolve_ok("-.slice::n", "id");
    assert_string_equal(p, "/n.scope");
    free(p);
}

static void test_resolve_relative(void **state)
{
    (void)state;
    struct vessel_error *err = NULL;
    char *self = NULL;
    assert_int_equal(cgroup_self_path(&self, &err), 0);
    char *p = resolve_ok("sub/x", "id");
    char want[4096];
    snprintf(want, sizeof(want), "%s/sub/x", strcmp(self, "/") == 0 ? "" : self);
    assert_string_equal(p, want);
    free(p);
    free(self);
}

static void test_resolve_errors(void **state)
{
    (void)state;
    static const char *const bad[] = {"/a/../b", "/", "//", "a:b", "bad:p:n", "x.slice:p:a/b",
                                      "-x.slice:p:n", "a:b:c:d"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct vessel_error *err = NULL;
        char *out = NULL;
        assert_int_equal(cgroup_resolve_path(bad[i], "id", &out, &err), -EINVAL);
        assert_non_null(err);
        assert_non_null(strstr(err->msg, "linux.cgroupsPath"));
        assert_null(out);
        vessel_error_free(err);
    }
}

/* A hybrid host like this one: v1 controllers, name=systemd and cgroup2 at unified. */
static const char hybrid_mountinfo[] =
    "25 30 0:23 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "26 25 0:24 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:9 - cgroup cgroup rw,cpu,cpuacct\n"
    "27 25 0:25 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd,release_agent=/x\n"
    "28 25 0:26 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate\n"
    "29 25 0:27 / /sys/fs/cgroup/with\\040space rw - cgroup cgroup rw,cpuset,clone_children\n"
    "40 30 0:24 /sub /mnt/cpu rw - cgroup cgroup rw,cpu,cpuacct\n"
    "41 30 0:99 / /mnt/other rw - ext4 /dev/sda rw\n";

static void test_hierarchies_parse(void **state)
{
    (void)state;
    struct cgroup_hierarchies hs = {0};
    struct vessel_error *err = NULL;
    assert_int_equal(cgroup_hierarchies_parse(hybrid_mountinfo, &hs, &err), 0);
    assert_int_equal(hs.len, 4);
    assert_string_equal(hs.items[0].mountpoint, "/sys/fs/cgroup/cpu,cpuacct");
    assert_string_equal(hs.items[0].controllers, "cpu,cpuacct");
    assert_true(cgroup_hierarchy_has(&hs.items[0], "cpuacct"));
    assert_false(cgroup_hierarchy_has(&hs.items[0], "cpuset"));
    assert_string_equal(hs.items[1].controllers, "name=systemd");
    assert_true(hs.items[2].v2);
    assert_string_equal(hs.items[3].mountpoint, "/sys/fs/cgroup/with space");
    assert_string_equal(hs.items[3].controllers, "cpuset");
    char *dir = NULL;
    assert_int_equal(cgroup_hierarchy_dir(&hs.items[2], "/vessel/x", &dir, &err), 0);
    assert_string_equal(dir, "/sys/fs/cgroup/unified/vessel/x");
    free(dir);
    cgroup_hierarchies_free(&hs);
}

static void test_hierarchy_subtree_root(void **state)
{
    (void)state;
    struct cgroup_hierarchy h = {.mountpoint = (char[]){"/sys/fs/cgroup"}, .root = (char[]){"/kube/pod"},
                                 .controllers = (char[]){""}, .v2 = true};
    struct vessel_error *err = NULL;
    char *dir = NULL;
    assert_int_equal(cgroup_hierarchy_dir(&h, "/kube/pod/c1", &dir, &err), 0);
    assert_string_equal(dir, "/sys/fs/cgroup/c1");
    free(dir);
}

static bool dir_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Real round trip: a child in a fresh cgroup (nested, to test recursion),
 * listed, then destroy kills it and removes the directories everywhere. */
static void test_create_enter_destroy(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    struct cgroup_hierarchies hs = {0};
    struct vessel_error *err = NULL;
    if (cgroup_hierarchies_load(&hs, &err) < 0) {
        vessel_error_free(err);
        skip();
    }
    char path[64], child_path[80];
    snprintf(path, sizeof(path), "/vessel-unit-test/%d", (int)getpid());
    snprintf(child_path, sizeof(child_path), "%s/inner", path);
    if (cgroup_create(child_path, NULL, &err) < 0)
        fail_msg("create: %s", err->msg);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        for (;;)
            pause();
    }
    if (cgroup_enter(child_path, pid, &err) < 0) {
        kill(pid, SIGKILL);
        fail_msg("enter: %s", err->msg);
    }
    pid_t *pids = NULL;
    size_t n = 0;
    assert_int_equal(cgroup_pids(path, &pids, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(pids[0], pid);
    free(pids);
    /* /proc/PID/cgroup shows the path in every hierarchy. */
    char procfile[64], buf[8192];
    snprintf(procfile, sizeof(procfile), "/proc/%d/cgroup", (int)pid);
    FILE *f = fopen(procfile, "re");
    assert_non_null(f);
    size_t lines = 0, matching = 0;
    while (fgets(buf, sizeof(buf), f)) {
        lines++;
        matching += strstr(buf, child_path) != NULL;
    }
    fclose(f);
    assert_true(matching >= hs.len);
    if (cgroup_destroy(path, &err) < 0)
        fail_msg("destroy: %s", err->msg);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    for (size_t i = 0; i < hs.len; i++) {
        char *dir = NULL;
        assert_int_equal(cgroup_hierarchy_dir(&hs.items[i], path, &dir, &err), 0);
        assert_false(dir_exists(dir));
        free(dir);
    }
    /* Destroying what is gone is fine (delete --force after a crash). */
    assert_int_equal(cgroup_destroy(path, &err), 0);
    assert_int_equal(cgroup_pids(path, &pids, &n, &err), 0);
    assert_int_equal(n, 0);
    free(pids);
    (void)cgroup_destroy("/vessel-unit-test", &err);
    vessel_error_free(err);
    cgroup_hierarchies_free(&hs);
}

/* A (single-threaded) process moves itself with pid 0, in every hierarchy. */
static void test_enter_self(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    struct vessel_error *err = NULL;
    char path[64];
    snprintf(path, sizeof(path), "/vessel-unit-test/self-%d", (int)getpid());
    if (cgroup_create(path, NULL, &err) < 0)
        fail_msg("create: %s", err->msg);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (cgroup_enter(path, 0, &err) < 0)
            _exit(10);
        FILE *f = fopen("/proc/self/cgroup", "re");
        char line[4096];
        int bad = 0;
        while (f && fgets(line, sizeof(line), f))
            bad += strstr(line, path) == NULL;
        _exit(f == NULL ? 11 : bad ? 12 : 0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(cgroup_destroy(path, &err), 0);
    (void)cgroup_destroy("/vessel-unit-test", &err);
    vessel_error_free(err);
}

static void test_destroy_refuses_root(void **state)
{
    (void)state;
    struct vessel_error *err = NULL;
    assert_int_equal(cgroup_destroy("/", &err), -EINVAL);
    vessel_error_free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resolve_default),
        cmocka_unit_test(test_resolve_absolute),
        cmocka_unit_test(test_resolve_systemd),
        cmocka_unit_test(test_resolve_relative),
        cmocka_unit_test(test_resolve_errors),
        cmocka_unit_test(test_hierarchies_parse),
        cmocka_unit_test(test_hierarchy_subtree_root),
        cmocka_unit_test(test_create_enter_destroy),
        cmocka_unit_test(test_enter_self),
        cmocka_unit_test(test_destroy_refuses_root),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
