/* Unit tests for runtime/exe_clone.c: the sealed copy of the running binary
 * is sealed, smaller than the file (no section headers or debug info), runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/exe_clone.h"

static void test_copy_is_sealed_and_runs(void **state)
{
    (void)state;
    struct vessel_error *err = NULL;
    int fd = exe_clone_sealed(&err);
    if (fd < 0)
        fail_msg("exe_clone_sealed: %s", err->msg);
    assert_true(exe_is_sealed(fd));
    assert_int_equal(write(fd, "x", 1), -1);
    struct stat copy, orig;
    assert_int_equal(fstat(fd, &copy), 0);
    assert_int_equal(stat("/proc/self/exe", &orig), 0);
    assert_true(copy.st_size > 0 && copy.st_size < orig.st_size);
    char magic[4];
    assert_int_equal(pread(fd, magic, 4, 0), 4);
    assert_memory_equal(magic, "\177ELF", 4);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char *const argv[] = {(char *)"test_exe_clone", NULL};
        char *const envp[] = {(char *)"EXE_CLONE_CHILD=1", NULL};
        syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
        _exit(99);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 42);
    close(fd);
}

int main(void)
{
    /* The copy, executed by the test above, only proves that it runs. */
    if (getenv("EXE_CLONE_CHILD") != NULL)
        return 42;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copy_is_sealed_and_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
