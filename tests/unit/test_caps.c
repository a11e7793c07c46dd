/* Unit tests for runtime/caps.c: apply capability sets in a forked child and
 * read them back from its /proc/self/status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/caps.h"

struct capsets { uint64_t inh, prm, eff, bnd, amb; };

static int read_capsets(struct capsets *s)
{
    FILE *f = fopen("/proc/self/status", "re");
    if (f == NULL)
        return -1;
    char line[256];
    while (fgets(line, sizeof(line), f)) {
        sscanf(line, "CapInh: %" SCNx64, &s->inh);
        sscanf(line, "CapPrm: %" SCNx64, &s->prm);
        sscanf(line, "CapEff: %" SCNx64, &s->eff);
        sscanf(line, "CapBnd: %" SCNx64, &s->bnd);
        sscanf(line, "CapAmb: %" SCNx64, &s->amb);
    }
    fclose(f);
    return 0;
}

/* Run fn in a child; it sends back its capsets (or an error text) through a pipe. */
static void run_child(int (*fn)(char *msg, size_t len), struct capsets *out)
{
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char msg[512] = "";
        struct capsets s = {0};
        int r = fn(msg, sizeof(msg));
        if (r == 0)
            r = read_capsets(&s);
        if (write(p[1], &r, sizeof(r)) != sizeof(r) || write(p[1], &s, sizeof(s)) != sizeof(s) ||
            write(p[1], msg, sizeof(msg)) != sizeof(msg))
            _exit(2);
        _exit(0);
    }
    close(p[1]);
    int r = -1;
    char msg[512] = "";
    assert_int_equal(read(p[0], &r, sizeof(r)), sizeof(r));
    assert_int_equal(read(p[0], out, sizeof(*out)), sizeof(*out));
    assert_int_equal(read(p[0], msg, sizeof(msg)), sizeof(msg));
    close(p[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (r != 0)
        fail_msg("child: %s", msg);
}

#define BIT(n) (UINT64_C(1) << (n))
/* CAP_CHOWN 0, CAP_KILL 5, CAP_SETPCAP 8, CAP_NET_BIND_SERVICE 10 */
static char *bnd[] = {(char[]){"CAP_CHOWN"}, (char[]){"CAP_KILL"}, (char[]){"CAP_NET_BIND_SERVICE"}};
static char *eff[] = {(char[]){"CAP_CHOWN"}, (char[]){"CAP_KILL"}};
static char *inh[] = {(char[]){"CAP_KILL"}};
static char *unknown[] = {(char[]){"CAP_KILL"}, (char[]){"CAP_FROM_THE_FUTURE"}};

static int apply_all(char *msg, size_t len)
{
    struct oci_capabilities c = {.present = true, .bounding = bnd, .bounding_len = 3,
                                 .effective = eff, .effective_len = 2,
                                 .permitted = eff, .permitted_len = 2,
                                 .inheritable = inh, .inheritable_len = 1,
                                 .ambient = inh, .ambient_len = 1};
    struct vessel_error *err = NULL;
    if (caps_apply(&c, &err) < 0) {
        snprintf(msg, len, "%s", err->msg);
        return -1;
    }
    return 0;
}

static void test_apply_all_sets(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    struct capsets s;
    run_child(apply_all, &s);
    assert_int_equal(s.bnd, BIT(0) | BIT(5) | BIT(10));
    assert_int_equal(s.eff, BIT(0) | BIT(5));
    assert_int_equal(s.prm, BIT(0) | BIT(5));
    assert_int_equal(s.inh, BIT(5));
    assert_int_equal(s.amb, BIT(5));
}

/* The process_setup order: bounding, keepcaps, uid change, then the sets. */
static int apply_as_user(char *msg, size_t len)
{
    struct oci_capabilities c = {.present = true, .bounding = bnd, .bounding_len = 3,
                                 .effective = unknown, .effective_len = 2,
                                 .permitted = unknown, .permitted_len = 2,
                                 .inheritable = inh, .inheritable_len = 1};
    struct vessel_error *err = NULL;
    if (caps_drop_bounding(&c, &err) < 0 || prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 ||
        setresgid(1000, 1000, 1000) < 0 || setresuid(1000, 1000, 1000) < 0 ||
        caps_set(&c, &err) < 0) {
        snprintf(msg, len, "%s", err ? err->msg : strerror(errno));
        return -1;
    }
    return 0;
}

static void test_apply_after_uid_change(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    struct capsets s;
    run_child(apply_as_user, &s);
    assert_int_equal(s.eff, BIT(5));  /* the unknown name is skipped */
    assert_int_equal(s.prm, BIT(5));
    assert_int_equal(s.amb, 0);
    assert_int_equal(s.bnd, BIT(0) | BIT(5) | BIT(10));
}

static int apply_absent(char *msg, size_t len)
{
    (void)msg, (void)len;
    struct oci_capabilities c = {.present = false};
    return caps_apply(&c, NULL);
}

static void test_absent_changes_nothing(void **state)
{
    (void)state;
    struct capsets before = {0}, s;
    assert_int_equal(read_capsets(&before), 0);
    run_child(apply_absent, &s);
    assert_int_equal(s.bnd, before.bnd);
    assert_int_equal(s.eff, before.eff);
}

static void test_names(void **state)
{
    (void)state;
    char **names = NULL;
    size_t n = 0;
    struct vessel_error *err = NULL;
    assert_int_equal(caps_names(&names, &n, &err), 0);
    assert_true(n >= 38);
    assert_string_equal(names[0], "CAP_CHOWN");
    assert_string_equal(names[21], "CAP_SYS_ADMIN");
    caps_names_free(names, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_apply_all_sets),
        cmocka_unit_test(test_apply_after_uid_change),
        cmocka_unit_test(test_absent_changes_nothing),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
