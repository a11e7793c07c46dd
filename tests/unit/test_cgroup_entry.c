/* Unit tests for cgroups/entry.c: a forked child moves itself into a cgroup
 * through fds its parent opened, in every mounted hierarchy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroups/cgroups.h"
#include "cgroups/hierarchy.h"

static void test_entry_child_enters_itself(void **state)
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
    char path[80];
    snprintf(path, sizeof(path), "/vessel-unit-test/entry-%d", (int)getpid());
    if (cgroup_create(path, NULL, &err) < 0)
        fail_msg("create: %s", err->msg);
    struct cgroup_entry e;
    if (cgroup_entry_open(path, &e, &err) < 0)
        fail_msg("open: %s", err->msg);
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char c = cgroup_entry_self(&e, false) == 0 ? 'y' : 'n';
        if (write(ready[1], &c, 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    cgroup_entry_close(&e);
    assert_int_equal(e.v2_dirfd, -1);
    char c = 0;
    assert_int_equal(read(ready[0], &c, 1), 1);
    close(ready[0]);
    close(ready[1]);
    assert_int_equal(c, 'y');
    char procfile[64], buf[8192];
    snprintf(procfile, sizeof(procfile), "/proc/%d/cgroup", (int)pid);
    FILE *f = fopen(procfile, "re");
    assert_non_null(f);
    size_t matching = 0;
    while (fgets(buf, sizeof(buf), f))
        matching += strstr(buf, path) != NULL;
    fclose(f);
    assert_true(matching >= hs.len);
    if (cgroup_destroy(path, &err) < 0)
        fail_msg("destroy: %s", err->msg);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    cgroup_hierarchies_free(&hs);
}

static void test_entry_missing_cgroup(void **state)
{
    (void)state;
    struct cgroup_hierarchies hs = {0};
    struct vessel_error *err = NULL;
    if (cgroup_hierarchies_load(&hs, &err) < 0) {
        vessel_error_free(err);
        skip();
    }
    cgroup_hierarchies_free(&hs);
    struct cgroup_entry e;
    assert_true(cgroup_entry_open("/vessel-unit-test/does-not-exist", &e, &err) < 0);
    assert_non_null(err);
    assert_non_null(strstr(err->msg, "does-not-exist"));
    assert_int_equal(e.n, 0);
    assert_int_equal(e.v2_dirfd, -1);
    vessel_error_free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entry_child_enters_itself),
        cmocka_unit_test(test_entry_missing_cgroup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
