/* Unit tests for common/path.c: resolution inside a root never escapes it,
 * checked for both openat2 and the component-walk fallback, in temp dirs. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/cleanup.h"
#include "common/path.h"

struct fixture {
    char top[64];   /* temp dir holding root/ and outside/ */
    char root[128];
    int rootfd;
};

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "we");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state, int fallback)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    assert_non_null(fx);
    strcpy(fx->top, "/tmp/vessel-test-path.XXXXXX");
    assert_non_null(mkdtemp(fx->top));
    snprintf(fx->root, sizeof(fx->root), "%s/root", fx->top);
    char p[PATH_MAX];
    assert_int_equal(mkdir(fx->root, 0755), 0);
    snprintf(p, sizeof(p), "%s/outside", fx->top);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof(p), "%s/outside/secret", fx->top);
    write_text(p, "outside");
    snprintf(p, sizeof(p), "%s/etc", fx->root);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof(p), "%s/etc/file", fx->root);
    write_text(p, "inside");
    fx->rootfd = open(fx->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    assert_true(fx->rootfd >= 0);
    path_force_fallback(fallback);
    *state = fx;
    return 0;
}

static int setup_openat2(void **state) { return setup(state, 0); }
static int setup_walk(void **state) { return setup(state, 1); }

static int teardown(void **state)
{
    struct fixture *fx = *state;
    char cmd[PATH_MAX];
    close(fx->rootfd);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->top);
    assert_int_equal(system(cmd), 0);
    path_force_fallback(0);
    free(fx);
    return 0;
}

static void in_root(const struct fixture *fx, const char *rel, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", fx->root, rel);
}

static void make_link(const struct fixture *fx, const char *target, const char *rel)
{
    char p[PATH_MAX];
    in_root(fx, rel, p, sizeof(p));
    assert_int_equal(symlink(target, p), 0);
}

/* Open PATH in the root and return its text (or NULL with errno-ish code in *rc). */
static char *read_in_root(const struct fixture *fx, const char *path, int *rc)
{
    struct vessel_error *err = NULL;
    int fd = path_open_in_root(fx->rootfd, path, O_RDONLY, 0, &err);
    *rc = fd;
    if (fd < 0) {
        assert_non_null(err);
        assert_non_null(strstr(err->msg, path));
        vessel_error_free(err);
        return NULL;
    }
    static char buf[256];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    assert_true(n >= 0);
    buf[n] = '\0';
    return buf;
}

static void test_plain_open(void **state)
{
    struct fixture *fx = *state;
    int rc;
    assert_string_equal(read_in_root(fx, "/etc/file", &rc), "inside");
    assert_string_equal(read_in_root(fx, "etc//./file", &rc), "inside");
    assert_null(read_in_root(fx, "/etc/missing", &rc));
    assert_int_equal(rc, -ENOENT);
}

static void test_dotdot_stays_inside(void **state)
{
    struct fixture *fx = *state;
    int rc;
    /* ../outside/secret from the root would be the real file outside. */
    assert_null(read_in_root(fx, "../outside/secret", &rc));
    assert_int_equal(rc, -ENOENT);
    assert_string_equal(read_in_root(fx, "/../../../../etc/file", &rc), "inside");
    assert_string_equal(read_in_root(fx, "etc/../../etc/file", &rc), "inside");
}

static void test_absolute_symlink_is_rerooted(void **state)
{
    struct fixture *fx = *state;
    char outside[PATH_MAX];
    int rc;
    snprintf(outside, sizeof(outside), "%s/outside/secret", fx->top);
    make_link(fx, outside, "esc");
    assert_null(read_in_root(fx, "/esc", &rc));
    assert_int_equal(rc, -ENOENT);
    make_link(fx, "/etc/file", "good");
    assert_string_equal(read_in_root(fx, "good", &rc), "inside");
    /* A directory symlink in the middle of the path. */
    make_link(fx, "/etc", "etclink");
    assert_string_equal(read_in_root(fx, "etclink/file", &rc), "inside");
}

static void test_relative_symlink_with_dotdot(void **state)
{
    struct fixture *fx = *state;
    int rc;
    make_link(fx, "../../../../outside/secret", "etc/rel");
    assert_null(read_in_root(fx, "etc/rel", &rc));
    assert_int_equal(rc, -ENOENT);
    make_link(fx, "../../../etc/file", "etc/rel2");
    assert_string_equal(read_in_root(fx, "etc/rel2", &rc), "inside");
}

static void test_magic_link_refused(void **state)
{
    struct fixture *fx = *state;
    int rc;
    /* /proc/self/root inside the rootfs would be the host's / if followed. */
    make_link(fx, "/proc/self/root/etc/passwd", "magic");
    assert_null(read_in_root(fx, "magic", &rc));
    assert_true(rc == -ENOENT || rc == -ELOOP || rc == -EXDEV);
}

static void test_symlink_loops(void **state)
{
    struct fixture *fx = *state;
    int rc;
    make_link(fx, "b", "a");
    make_link(fx, "a", "b");
    assert_null(read_in_root(fx, "a", &rc));
    assert_int_equal(rc, -ELOOP);
    make_link(fx, "self/x", "self");
    assert_null(read_in_root(fx, "self", &rc));
    assert_int_equal(rc, -ELOOP);
    /* A chain of 45 links is longer than any resolver allows. */
    char name[32], target[32];
    for (int i = 0; i < 45; i++) {
        snprintf(name, sizeof(name), "chain%d", i);
        if (i == 44)
            snprintf(target, sizeof(target), "etc/file");
        else
            snprintf(target, sizeof(target), "chain%d", i + 1);
        make_link(fx, target, name);
    }
    assert_null(read_in_root(fx, "chain0", &rc));
    assert_int_equal(rc, -ELOOP);
    assert_string_equal(read_in_root(fx, "chain20", &rc), "inside");
}

static void test_nofollow_last_component(void **state)
{
    struct fixture *fx = *state;
    make_link(fx, "/etc/file", "lnk");
    int fd = path_open_in_root(fx->rootfd, "lnk", O_PATH | O_NOFOLLOW, 0, NULL);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW), 0);
    assert_true(S_ISLNK(st.st_mode));
    close(fd);
    /* O_CLOEXEC is always added. */
    fd = path_open_in_root(fx->rootfd, "etc/file", O_RDONLY, 0, NULL);
    assert_true(fd >= 0);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    close(fd);
}

static void test_root_itself(void **state)
{
    struct fixture *fx = *state;
    struct stat a, b;
    int fd = path_open_in_root(fx->rootfd, "/", O_PATH | O_DIRECTORY, 0, NULL);
    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &a), 0);
    assert_int_equal(fstat(fx->rootfd, &b), 0);
    assert_int_equal(a.st_ino, b.st_ino);
    close(fd);
    fd = path_open_in_root(fx->rootfd, "", O_PATH | O_DIRECTORY, 0, NULL);
    assert_true(fd >= 0);
    close(fd);
}

static void test_create_with_o_creat_through_symlink(void **state)
{
    struct fixture *fx = *state;
    char outside_new[PATH_MAX];
    snprintf(outside_new, sizeof(outside_new), "%s/outside/new", fx->top);
    make_link(fx, outside_new, "dangling");
    int fd = path_open_in_root(fx->rootfd, "dangling", O_WRONLY | O_CREAT, 0644, NULL);
    if (fd >= 0)
        close(fd);
    assert_int_equal(access(outside_new, F_OK), -1);
}

static void test_mkdir_in_root(void **state)
{
    struct fixture *fx = *state;
    char p[PATH_MAX];
    struct vessel_error *err = NULL;
    int fd = path_mkdir_in_root(fx->rootfd, "/a/b/c", 0755, &err);
    assert_true(fd >= 0);
    close(fd);
    in_root(fx, "a/b/c", p, sizeof(p));
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    /* Existing is fine and returns the directory. */
    fd = path_mkdir_in_root(fx->rootfd, "a/b", 0755, NULL);
    assert_true(fd >= 0);
    assert_int_equal(fstatat(fd, "c", &st, 0), 0);
    close(fd);

    /* An absolute symlink to outside: the new dirs land inside the root. */
    char outside[256];
    snprintf(outside, sizeof(outside), "%s/outside", fx->top);
    make_link(fx, outside, "mnt");
    fd = path_mkdir_in_root(fx->rootfd, "mnt/x/y", 0755, NULL);
    assert_true(fd >= 0);
    close(fd);
    snprintf(p, sizeof(p), "%s/outside/x", fx->top);
    assert_int_equal(access(p, F_OK), -1);
    snprintf(p, sizeof(p), "%s%s/x/y", fx->root, outside);
    assert_int_equal(stat(p, &st), 0);

    /* ../ at the top of the root. */
    fd = path_mkdir_in_root(fx->rootfd, "../../up", 0755, NULL);
    assert_true(fd >= 0);
    close(fd);
    in_root(fx, "up", p, sizeof(p));
    assert_int_equal(access(p, F_OK), 0);
    snprintf(p, sizeof(p), "%s/up", fx->top);
    assert_int_equal(access(p, F_OK), -1);

    /* A file in the way. */
    fd = path_mkdir_in_root(fx->rootfd, "etc/file/sub", 0755, &err);
    assert_int_equal(fd, -ENOTDIR);
    assert_non_null(err);
    assert_non_null(strstr(err->msg, "Not a directory"));
    vessel_error_free(err);
}

static void test_create_file_in_root(void **state)
{
    struct fixture *fx = *state;
    char p[PATH_MAX];
    struct stat st;
    int fd = path_create_file_in_root(fx->rootfd, "/new/dir/file", 0600, NULL);
    assert_true(fd >= 0);
    assert_int_equal(fstatat(fd, "", &st, AT_EMPTY_PATH), 0);
    assert_true(S_ISREG(st.st_mode));
    close(fd);
    in_root(fx, "new/dir/file", p, sizeof(p));
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600 & ~0);

    /* Existing entries are kept as they are (a directory stays a directory). */
    fd = path_create_file_in_root(fx->rootfd, "etc", 0644, NULL);
    assert_true(fd >= 0);
    assert_int_equal(fstatat(fd, "", &st, AT_EMPTY_PATH), 0);
    assert_true(S_ISDIR(st.st_mode));
    close(fd);
    assert_string_equal(read_in_root(fx, "etc/file", &fd), "inside");

    /* Parent through an escaping symlink: created inside. */
    make_link(fx, "../../outside", "out");
    fd = path_create_file_in_root(fx->rootfd, "out/created", 0644, NULL);
    assert_true(fd >= 0);
    close(fd);
    snprintf(p, sizeof(p), "%s/outside/created", fx->top);
    assert_int_equal(access(p, F_OK), -1);
    in_root(fx, "outside/created", p, sizeof(p));
    assert_int_equal(access(p, F_OK), 0);

    struct vessel_error *err = NULL;
    assert_true(path_create_file_in_root(fx->rootfd, "etc/file/x", 0644, &err) < 0);
    vessel_error_free(err);
}

static void test_fd_to_proc(void **state)
{
    (void)state;
    char buf[32];
    assert_int_equal(path_fd_to_proc(7, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "/proc/self/fd/7");
    char tiny[8];
    assert_int_equal(path_fd_to_proc(7, tiny, sizeof(tiny)), -ENAMETOOLONG);
}

#define BOTH(t) \
    cmocka_unit_test_setup_teardown(t, setup_openat2, teardown), \
    cmocka_unit_test_setup_teardown(t, setup_walk, teardown)

int main(void)
{
    umask(022);
    const struct CMUnitTest tests[] = {
        BOTH(test_plain_open),
        BOTH(test_dotdot_stays_inside),
        BOTH(test_absolute_symlink_is_rerooted),
        BOTH(test_relative_symlink_with_dotdot),
        BOTH(test_magic_link_refused),
        BOTH(test_symlink_loops),
        BOTH(test_nofollow_last_component),
        BOTH(test_root_itself),
        BOTH(test_create_with_o_creat_through_symlink),
        BOTH(test_mkdir_in_root),
        BOTH(test_create_file_in_root),
        cmocka_unit_test(test_fd_to_proc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
