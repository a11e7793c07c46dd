/* Unit tests for namespaces/sysctl.c key validation and namespaces/nsjoin.c
 * clone flags: which sysctls a spec may set, and the /proc/sys path they map to. */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "namespaces/namespaces.h"

static struct oci_spec spec_with(const enum oci_namespace_type *types, size_t n,
                                 struct oci_namespace *storage)
{
    struct oci_spec s;
    memset(&s, 0, sizeof(s));
    for (size_t i = 0; i < n; i++)
        storage[i] = (struct oci_namespace){.type = types[i], .path = NULL};
    s.linux_.namespaces = storage;
    s.linux_.namespaces_len = n;
    s.linux_.present = true;
    return s;
}

static int validate(const struct oci_spec *s, const char *key, char *path, char **msg)
{
    struct vessel_error *err = NULL;
    int r = sysctl_key_validate(s, key, path, 256, &err);
    static char buf[256];
    buf[0] = '\0';
    if (err != NULL) {
        snprintf(buf, sizeof(buf), "%s", err->msg);
        vessel_error_free(err);
    }
    if (msg)
        *msg = buf;
    return r;
}

static void test_namespaced_keys_allowed(void **state)
{
    (void)state;
    static const enum oci_namespace_type all[] = {OCI_NS_IPC, OCI_NS_NETWORK, OCI_NS_UTS};
    struct oci_namespace ns[3];
    struct oci_spec s = spec_with(all, 3, ns);
    char path[256];
    assert_int_equal(validate(&s, "net.ipv4.ip_forward", path, NULL), 0);
    assert_string_equal(path, "net/ipv4/ip_forward");
    assert_int_equal(validate(&s, "kernel.shmmax", path, NULL), 0);
    assert_string_equal(path, "kernel/shmmax");
    assert_int_equal(validate(&s, "kernel.sem", path, NULL), 0);
    assert_int_equal(validate(&s, "kernel.msgmnb", path, NULL), 0);
    assert_int_equal(validate(&s, "kernel.shm_rmid_forced", path, NULL), 0);
    assert_int_equal(validate(&s, "fs.mqueue.msg_max", path, NULL), 0);
    assert_string_equal(path, "fs/mqueue/msg_max");
    assert_int_equal(validate(&s, "kernel.hostname", path, NULL), 0);
    assert_int_equal(validate(&s, "kernel.domainname", path, NULL), 0);
    /* Slash form keeps dots inside components (interface names like eth0.100). */
    assert_int_equal(validate(&s, "net/ipv4/conf/eth0.100/forwarding", path, NULL), 0);
    assert_string_equal(path, "net/ipv4/conf/eth0.100/forwarding");
}

static void test_keys_need_their_namespace(void **state)
{
    (void)state;
    struct oci_namespace ns[1];
    static const enum oci_namespace_type pid_only[] = {OCI_NS_PID};
    struct oci_spec s = spec_with(pid_only, 1, ns);
    char path[256];
    char *msg;
    assert_int_equal(validate(&s, "net.ipv4.ip_forward", path, &msg), -EPERM);
    assert_non_null(strstr(msg, "linux.sysctl \"net.ipv4.ip_forward\""));
    assert_non_null(strstr(msg, "network namespace"));
    assert_int_equal(validate(&s, "kernel.shmmax", path, &msg), -EPERM);
    assert_non_null(strstr(msg, "ipc namespace"));
    assert_int_equal(validate(&s, "fs.mqueue.queues_max", path, &msg), -EPERM);
    assert_int_equal(validate(&s, "kernel.hostname", path, &msg), -EPERM);
    assert_non_null(strstr(msg, "uts namespace"));
}

static void test_host_wide_keys_refused(void **state)
{
    (void)state;
    static const enum oci_namespace_type all[] = {OCI_NS_IPC, OCI_NS_NETWORK, OCI_NS_UTS,
                                                  OCI_NS_PID, OCI_NS_MOUNT, OCI_NS_USER};
    struct oci_namespace ns[6];
    struct oci_spec s = spec_with(all, 6, ns);
    char path[256];
    char *msg;
    assert_int_equal(validate(&s, "kernel.panic", path, &msg), -EPERM);
    assert_non_null(strstr(msg, "not in a separate kernel namespace"));
    assert_int_equal(validate(&s, "vm.swappiness", path, NULL), -EPERM);
    assert_int_equal(validate(&s, "fs.file-max", path, NULL), -EPERM);
    assert_int_equal(validate(&s, "kernel.shmmaxx", path, NULL), -EPERM);
}

static void test_malformed_keys(void **state)
{
    (void)state;
    static const enum oci_namespace_type all[] = {OCI_NS_IPC, OCI_NS_NETWORK, OCI_NS_UTS};
    struct oci_namespace ns[3];
    struct oci_spec s = spec_with(all, 3, ns);
    char path[256];
    char *msg;
    static const char *const bad[] = {
        "", "net..ipv4", "net.ipv4.", ".net.ipv4", "net/../../etc/x", "net/ipv4/../../../x",
        "/net/ipv4/ip_forward", "net.ipv4.ip forward", "net/./ipv4", "net/ipv4//x",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int r = validate(&s, bad[i], path, &msg);
        if (r != -EINVAL)
            fail_msg("key \"%s\" accepted (%d)", bad[i], r);
        assert_non_null(strstr(msg, "invalid key"));
    }
    char longkey[400];
    memset(longkey, 'a', sizeof(longkey) - 1);
    memcpy(longkey, "net.", 4);
    longkey[sizeof(longkey) - 1] = '\0';
    assert_int_equal(validate(&s, longkey, path, NULL), -EINVAL);
}

static void test_clone_flags(void **state)
{
    (void)state;
    static const enum oci_namespace_type types[] = {OCI_NS_PID, OCI_NS_NETWORK, OCI_NS_MOUNT,
                                                    OCI_NS_IPC, OCI_NS_UTS, OCI_NS_USER,
                                                    OCI_NS_CGROUP, OCI_NS_TIME};
    struct oci_namespace ns[8];
    struct oci_spec s = spec_with(types, 8, ns);
    int flags = 0;
    assert_int_equal(namespaces_clone_flags(&s, &flags, NULL), 0);
    assert_int_equal(flags, CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS |
                                CLONE_NEWUSER | CLONE_NEWCGROUP | 0x80 /* CLONE_NEWTIME */);
    /* A namespace given by path is joined, not created. */
    ns[1].path = (char *)"/proc/self/ns/net";
    assert_int_equal(namespaces_clone_flags(&s, &flags, NULL), 0);
    assert_int_equal(flags & CLONE_NEWNET, 0);
    assert_true(flags & CLONE_NEWPID);
}

static void test_open_paths_checks_type(void **state)
{
    (void)state;
    static const enum oci_namespace_type types[] = {OCI_NS_NETWORK, OCI_NS_UTS};
    struct oci_namespace ns[2];
    struct oci_spec s = spec_with(types, 2, ns);
    ns[0].path = (char *)"/proc/self/ns/net";
    ns[1].path = (char *)"/proc/self/ns/uts";
    int fds[OCI_NS_COUNT];
    assert_int_equal(namespaces_open_paths(&s, fds, NULL), 0);
    assert_true(fds[OCI_NS_NETWORK] >= 0);
    assert_true(fds[OCI_NS_UTS] >= 0);
    assert_int_equal(fds[OCI_NS_PID], -1);
    namespaces_close(fds);
    assert_int_equal(fds[OCI_NS_NETWORK], -1);

    /* The wrong kind of namespace, and not a namespace at all. */
    ns[1].path = (char *)"/proc/self/ns/ipc";
    struct vessel_error *err = NULL;
    assert_true(namespaces_open_paths(&s, fds, &err) < 0);
    assert_non_null(err);
    assert_non_null(strstr(err->msg, "linux.namespaces[1].path \"/proc/self/ns/ipc\": not a uts namespace"));
    vessel_error_free(err);
    err = NULL;
    for (int i = 0; i < OCI_NS_COUNT; i++)
        assert_int_equal(fds[i], -1);
    ns[1].path = (char *)"/etc/hostname";
    assert_true(namespaces_open_paths(&s, fds, &err) < 0);
    assert_non_null(strstr(err->msg, "not a uts namespace"));
    vessel_error_free(err);
    err = NULL;
    ns[1].path = (char *)"/nonexistent/ns";
    assert_int_equal(namespaces_open_paths(&s, fds, &err), -ENOENT);
    assert_non_null(strstr(err->msg, "linux.namespaces[1].path \"/nonexistent/ns\": No such file"));
    vessel_error_free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_namespaced_keys_allowed),
        cmocka_unit_test(test_keys_need_their_namespace),
        cmocka_unit_test(test_host_wide_keys_refused),
        cmocka_unit_test(test_malformed_keys),
        cmocka_unit_test(test_clone_flags),
        cmocka_unit_test(test_open_paths_checks_type),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
