/* Unit tests for runtime/seccomp.c: filters loaded in forked children, checked
 * by the errno (or signal) a real syscall gets; the notify listener handshake. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/seccomp.h"

/* Child exit codes: 0 ok, 10 load failed, 11.. check failed. */
static int run_child(const struct oci_seccomp *sc, bool nnp, int (*check)(void))
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct vessel_error *err = NULL;
        if (seccomp_load_spec(sc, nnp, &err) < 0) {
            fprintf(stderr, "load: %s\n", err->msg);
            _exit(10);
        }
        _exit(check());
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status))
        return 1000 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

static char *getppid_names[] = {(char[]){"not_a_real_syscall"}, (char[]){"getppid"}};

static int check_getppid_errno42(void)
{
    errno = 0;
    long r = syscall(SYS_getppid);
    if (r != -1 || errno != 42)
        return 11;
    return getpid() > 0 ? 0 : 12;  /* other syscalls still allowed */
}

static void test_errno_rule_and_unknown_name(void **state)
{
    (void)state;
    struct oci_seccomp_syscall sys = {.names = getppid_names, .names_len = 2,
                                      .action = (char[]){"SCMP_ACT_ERRNO"}, .has_errno_ret = true,
                                      .errno_ret = 42};
    char *archs[] = {(char[]){"SCMP_ARCH_X86_64"}, (char[]){"SCMP_ARCH_X86"}, (char[]){"SCMP_ARCH_X32"}};
    struct oci_seccomp sc = {.present = true, .default_action = (char[]){"SCMP_ACT_ALLOW"},
                             .architectures = archs, .architectures_len = 3,
                             .syscalls = &sys, .syscalls_len = 1};
    assert_int_equal(run_child(&sc, true, check_getppid_errno42), 0);
}

static int check_default_errno(void)
{
    errno = 0;
    if (syscall(SYS_getuid) != -1 || errno != ENOSYS)
        return 11;
    errno = 0;
    if (syscall(SYS_getppid) != -1 || errno != EPERM)  /* ERRNO without errnoRet: EPERM */
        return 12;
    return 0;
}

static void test_default_errno_with_allow_list(void **state)
{
    (void)state;
    char *allowed[] = {(char[]){"exit_group"}, (char[]){"exit"}, (char[]){"write"}};
    char *denied[] = {(char[]){"getppid"}};
    struct oci_seccomp_syscall sys[] = {
        {.names = allowed, .names_len = 3, .action = (char[]){"SCMP_ACT_ALLOW"}},
        {.names = denied, .names_len = 1, .action = (char[]){"SCMP_ACT_ERRNO"}},
    };
    struct oci_seccomp sc = {.present = true, .default_action = (char[]){"SCMP_ACT_ERRNO"},
                             .has_default_errno_ret = true, .default_errno_ret = ENOSYS,
                             .syscalls = sys, .syscalls_len = 2};
    assert_int_equal(run_child(&sc, true, check_default_errno), 0);
}

static int check_args(void)
{
    /* dup(1000) is denied with 77 by the EQ rule; dup(0) is allowed. */
    errno = 0;
    if (syscall(SYS_dup, 1000) != -1 || errno != 77)
        return 11;
    int fd = (int)syscall(SYS_dup, 0);
    if (fd < 0)
        return 12;
    /* MASKED_EQ: umask values with bit 0o100 set are denied with 78. */
    errno = 0;
    if (syscall(SYS_umask, 0177) != -1 || errno != 78)
        return 13;
    if (syscall(SYS_umask, 022) < 0)
        return 14;
    /* Two checks of one argument are alternatives: 5 or 7 denied, 6 allowed. */
    errno = 0;
    if (syscall(SYS_close, 500) != -1 || errno != 79)
        return 15;
    errno = 0;
    if (syscall(SYS_close, 501) != -1 || errno != 79)
        return 16;
    errno = 0;
    if (syscall(SYS_close, 502) != -1 || errno != EBADF)
        return 17;
    return 0;
}

static void test_args_operators(void **state)
{
    (void)state;
    char *dup_n[] = {(char[]){"dup"}}, *umask_n[] = {(char[]){"umask"}}, *close_n[] = {(char[]){"close"}};
    struct oci_seccomp_arg dup_a[] = {{.index = 0, .value = 1000, .op = (char[]){"SCMP_CMP_EQ"}}};
    struct oci_seccomp_arg umask_a[] = {{.index = 0, .value = 0100, .value_two = 0100,
                                         .op = (char[]){"SCMP_CMP_MASKED_EQ"}}};
    struct oci_seccomp_arg close_a[] = {{.index = 0, .value = 500, .op = (char[]){"SCMP_CMP_EQ"}},
                                        {.index = 0, .value = 501, .op = (char[]){"SCMP_CMP_EQ"}}};
    struct oci_seccomp_syscall sys[] = {
        {.names = dup_n, .names_len = 1, .action = (char[]){"SCMP_ACT_ERRNO"}, .has_errno_ret = true,
         .errno_ret = 77, .args = dup_a, .args_len = 1},
        {.names = umask_n, .names_len = 1, .action = (char[]){"SCMP_ACT_ERRNO"}, .has_errno_ret = true,
         .errno_ret = 78, .args = umask_a, .args_len = 1},
        {.names = close_n, .names_len = 1, .action = (char[]){"SCMP_ACT_ERRNO"}, .has_errno_ret = true,
         .errno_ret = 79, .args = close_a, .args_len = 2},
    };
    struct oci_seccomp sc = {.present = true, .default_action = (char[]){"SCMP_ACT_ALLOW"},
                             .syscalls = sys, .syscalls_len = 3};
    assert_int_equal(run_child(&sc, true, check_args), 0);
}

static int check_killed(void)
{
    (void)syscall(SYS_getppid);
    return 11;
}

static void test_kill_process(void **state)
{
    (void)state;
    struct oci_seccomp_syscall sys = {.names = getppid_names + 1, .names_len = 1,
                                      .action = (char[]){"SCMP_ACT_KILL_PROCESS"}};
    char *flags[] = {(char[]){"SECCOMP_FILTER_FLAG_LOG"}, (char[]){"SECCOMP_FILTER_FLAG_SPEC_ALLOW"}};
    struct oci_seccomp sc = {.present = true, .default_action = (char[]){"SCMP_ACT_ALLOW"},
                             .flags = flags, .flags_len = 2, .syscalls = &sys, .syscalls_len = 1};
    assert_int_equal(run_child(&sc, true, check_killed), 1000 + SIGSYS);
}

/* Without no_new_privs, root (CAP_SYS_ADMIN) may still load a filter. */
static void test_without_nnp_as_root(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    struct oci_seccomp_syscall sys = {.names = getppid_names, .names_len = 2,
                                      .action = (char[]){"SCMP_ACT_ERRNO"}, .has_errno_ret = true,
                                      .errno_ret = 42};
    struct oci_seccomp sc = {.present = true, .default_action = (char[]){"SCMP_ACT_ALLOW"},
                             .syscalls = &sys, .syscalls_len = 1};
    assert_int_equal(run_child(&sc, false, check_getppid_errno42), 0);
}

static void test_bad_flag(void **state)
{
    (void)state;
    char *flags[] = {(char[]){"SECCOMP_FILTER_FLAG_BOGUS"}};
    struct oci_seccomp sc = {.present = true, .default_action = (char[]){"SCMP_ACT_ALLOW"},
                             .flags = flags, .flags_len = 1};
    struct vessel_error *err = NULL;
    assert_int_equal(seccomp_load_spec(&sc, true, &err), -EINVAL);
    assert_string_equal(err->msg,
                        "linux.seccomp.flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_BOGUS\": Invalid argument");
    vessel_error_free(err);
}

static int check_notified(void)
{
    /* The listener answers getppid with 4242. */
    return syscall(SYS_getppid) == 4242 ? 0 : 11;
}

static void test_notify_listener(void **state)
{
    (void)state;
    char path[64];
    snprintf(path, sizeof(path), "/tmp/vessel-seccomp-%d.sock", (int)getpid());
    int srv = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
    unlink(path);
    assert_int_equal(bind(srv, (struct sockaddr *)&addr, sizeof(addr)), 0);
    assert_int_equal(listen(srv, 1), 0);
    struct oci_seccomp_syscall sys = {.names = getppid_names + 1, .names_len = 1,
                                      .action = (char[]){"SCMP_ACT_NOTIFY"}};
    char *flags[] = {(char[]){"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"}};
    struct oci_seccomp sc = {.present = true, .default_action = (char[]){"SCMP_ACT_ALLOW"},
                             .flags = flags, .flags_len = 1, .listener_path = path, .listener_metadata = (char[]){"meta \"q\""},
                             .syscalls = &sys, .syscalls_len = 1};
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct vessel_error *err = NULL;
        if (seccomp_listener_prepare(&sc, "{\"id\":\"c1\",\"status\":\"creating\"}", 1234, &err) < 0 ||
            seccomp_load_spec(&sc, true, &err) < 0) {
            fprintf(stderr, "child: %s\n", err->msg);
            _exit(10);
        }
        _exit(check_notified());
    }
    int conn = accept4(srv, NULL, NULL, SOCK_CLOEXEC);
    assert_true(conn >= 0);
    char buf[4096] = "";
    union { char b[CMSG_SPACE(sizeof(int))]; struct cmsghdr a; } u;
    struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf) - 1};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof(u.b)};
    assert_true(recvmsg(conn, &mh, MSG_CMSG_CLOEXEC) > 0);
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    assert_non_null(c);
    assert_int_equal(c->cmsg_type, SCM_RIGHTS);
    int nfd;
    memcpy(&nfd, CMSG_DATA(c), sizeof(int));
    assert_string_equal(buf, "{\"ociVersion\":\"1.2.0\",\"fds\":[\"seccompFd\"],\"pid\":1234,"
                             "\"metadata\":\"meta \\\"q\\\"\",\"state\":{\"id\":\"c1\",\"status\":\"creating\"}}");
    struct seccomp_notif *req = NULL;
    struct seccomp_notif_resp *resp = NULL;
    assert_int_equal(seccomp_notify_alloc(&req, &resp), 0);
    assert_int_equal(seccomp_notify_receive(nfd, req), 0);
    assert_int_equal(req->data.nr, SYS_getppid);
    resp->id = req->id;
    resp->val = 4242;
    resp->error = 0;
    resp->flags = 0;
    assert_int_equal(seccomp_notify_respond(nfd, resp), 0);
    seccomp_notify_free(req, resp);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    close(nfd);
    close(conn);
    close(srv);
    unlink(path);
}

static void test_features(void **state)
{
    (void)state;
    char **archs = NULL, **flags = NULL;
    size_t na = 0, nf = 0;
    assert_int_equal(seccomp_features(&archs, &na, &flags, &nf), 0);
    bool x86_64 = false, log = false, killable = false;
    for (size_t i = 0; i < na; i++)
        x86_64 = x86_64 || strcmp(archs[i], "SCMP_ARCH_X86_64") == 0;
    for (size_t i = 0; i < nf; i++)
    {
        log = log || strcmp(flags[i], "SECCOMP_FILTER_FLAG_LOG") == 0;
        killable = killable || strcmp(flags[i], "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") == 0;
    }
    assert_true(x86_64);
    assert_true(log);
    assert_true(killable);  /* Linux >= 6.0, as on this host */
    seccomp_strv_free(archs, na);
    seccomp_strv_free(flags, nf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errno_rule_and_unknown_name),
        cmocka_unit_test(test_default_errno_with_allow_list),
        cmocka_unit_test(test_args_operators),
        cmocka_unit_test(test_kill_process),
        cmocka_unit_test(test_without_nnp_as_root),
        cmocka_unit_test(test_bad_flag),
        cmocka_unit_test(test_notify_listener),
        cmocka_unit_test(test_features),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
