/* Unit tests for namespaces/mount_options.c: every option name maps to the
 * right mount(2) flag, propagation, recursive attribute or data string. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include <cmocka.h>

#include "namespaces/namespaces.h"
#include "oci/vocab.h"

#ifndef MS_LAZYTIME
#define MS_LAZYTIME (1 << 25)
#endif

static struct mount_flags parse(const char *first, ...)
{
    char *opts[64];
    size_t n = 0;
    va_list ap;
    va_start(ap, first);
    for (const char *o = first; o != NULL; o = va_arg(ap, const char *))
        opts[n++] = (char *)o;
    va_end(ap);
    struct mount_flags f;
    struct vessel_error *err = NULL;
    assert_int_equal(mount_options_parse(opts, n, &f, &err), 0);
    assert_null(err);
    return f;
}

struct flag_case {
    const char *name;
    unsigned long set, clear;
};

static void test_every_flag_option(void **state)
{
    (void)state;
    static const struct flag_case cases[] = {
        {"defaults", 0, 0},
        {"ro", MS_RDONLY, 0}, {"rw", 0, MS_RDONLY},
        {"suid", 0, MS_NOSUID}, {"nosuid", MS_NOSUID, 0},
        {"dev", 0, MS_NODEV}, {"nodev", MS_NODEV, 0},
        {"exec", 0, MS_NOEXEC}, {"noexec", MS_NOEXEC, 0},
        {"sync", MS_SYNCHRONOUS, 0}, {"async", 0, MS_SYNCHRONOUS},
        {"dirsync", MS_DIRSYNC, 0}, {"remount", MS_REMOUNT, 0},
        {"mand", MS_MANDLOCK, 0}, {"nomand", 0, MS_MANDLOCK},
        {"atime", 0, MS_NOATIME}, {"noatime", MS_NOATIME, 0},
        {"diratime", 0, MS_NODIRATIME}, {"nodiratime", MS_NODIRATIME, 0},
        {"relatime", MS_RELATIME, 0}, {"norelatime", 0, MS_RELATIME},
        {"strictatime", MS_STRICTATIME, 0}, {"nostrictatime", 0, MS_STRICTATIME},
        {"lazytime", MS_LAZYTIME, 0}, {"nolazytime", 0, MS_LAZYTIME},
        {"silent", MS_SILENT, 0}, {"loud", 0, MS_SILENT},
        {"iversion", MS_I_VERSION, 0}, {"noiversion", 0, MS_I_VERSION},
        {"bind", MS_BIND, 0}, {"rbind", MS_BIND | MS_REC, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct mount_flags f = parse(cases[i].name, NULL);
        if (f.flags != cases[i].set || f.clear != cases[i].clear)
            fail_msg("%s: flags %#lx clear %#lx", cases[i].name, f.flags, f.clear);
        assert_null(f.data);
        assert_int_equal(f.propagation, 0);
        assert_false(f.recursive_attrs);
        mount_flags_free(&f);
    }
}

static void test_later_option_wins(void **state)
{
    (void)state;
    struct mount_flags f = parse("ro", "rw", NULL);
    assert_int_equal(f.flags & MS_RDONLY, 0);
    assert_true(f.clear & MS_RDONLY);
    f = parse("rw", "ro", "nosuid", "suid", "nodev", NULL);
    assert_int_equal(f.flags, MS_RDONLY | MS_NODEV);
    assert_int_equal(f.clear, MS_NOSUID);
    /* Atime modes replace each other. */
    f = parse("noatime", "strictatime", NULL);
    assert_int_equal(f.flags, MS_STRICTATIME);
    f = parse("strictatime", "relatime", NULL);
    assert_int_equal(f.flags, MS_RELATIME);
}

static void test_propagation(void **state)
{
    (void)state;
    static const struct flag_case cases[] = {
        {"private", MS_PRIVATE, 0}, {"rprivate", MS_PRIVATE | MS_REC, 0},
        {"shared", MS_SHARED, 0}, {"rshared", MS_SHARED | MS_REC, 0},
        {"slave", MS_SLAVE, 0}, {"rslave", MS_SLAVE | MS_REC, 0},
        {"unbindable", MS_UNBINDABLE, 0}, {"runbindable", MS_UNBINDABLE | MS_REC, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct mount_flags f = parse(cases[i].name, NULL);
        assert_int_equal(f.propagation, cases[i].set);
        assert_int_equal(f.flags, 0);
    }
    struct mount_flags f = parse("rbind", "rprivate", "shared", NULL);
    assert_int_equal(f.propagation, MS_SHARED);
    assert_int_equal(f.flags, MS_BIND | MS_REC);
}

struct attr_case {
    const char *name;
    uint64_t set, clr;
};

static void test_recursive_attributes(void **state)
{
    (void)state;
    static const struct attr_case cases[] = {
        {"rro", MOUNT_ATTR_RDONLY, 0}, {"rrw", 0, MOUNT_ATTR_RDONLY},
        {"rnosuid", MOUNT_ATTR_NOSUID, 0}, {"rsuid", 0, MOUNT_ATTR_NOSUID},
        {"rnodev", MOUNT_ATTR_NODEV, 0}, {"rdev", 0, MOUNT_ATTR_NODEV},
        {"rnoexec", MOUNT_ATTR_NOEXEC, 0}, {"rexec", 0, MOUNT_ATTR_NOEXEC},
        {"rnodiratime", MOUNT_ATTR_NODIRATIME, 0}, {"rdiratime", 0, MOUNT_ATTR_NODIRATIME},
        {"rnoatime", MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME},
        {"rstrictatime", MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME},
        {"rrelatime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME},
        {"ratime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME},
        {"rnorelatime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME},
        {"rnostrictatime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct mount_flags f = parse(cases[i].name, NULL);
        if (f.attr_set != cases[i].set || f.attr_clr != cases[i].clr || !f.recursive_attrs)
            fail_msg("%s: set %#llx clr %#llx", cases[i].name, (unsigned long long)f.attr_set,
                     (unsigned long long)f.attr_clr);
        assert_int_equal(f.flags, 0);
    }
    struct mount_flags f = parse("rro", "rrw", "rnoatime", "rstrictatime", NULL);
    assert_int_equal(f.attr_set, MOUNT_ATTR_STRICTATIME);
    assert_int_equal(f.attr_clr, MOUNT_ATTR_RDONLY | MOUNT_ATTR__ATIME);
}

static void test_idmap_and_tmpcopyup(void **state)
{
    (void)state;
    struct mount_flags f = parse("idmap", NULL);
    assert_true(f.idmap);
    assert_false(f.idmap_recursive);
    f = parse("ridmap", NULL);
    assert_true(f.idmap);
    assert_true(f.idmap_recursive);
    f = parse("tmpcopyup", NULL);
    assert_true(f.tmpcopyup);
    assert_null(f.data);
}

static void test_data_string(void **state)
{
    (void)state;
    struct mount_flags f = parse("nosuid", "mode=755", "", "size=65536k", "x-systemd.automount",
                                 "strictatime", "lowerdir=/a:/b", NULL);
    assert_int_equal(f.flags, MS_NOSUID | MS_STRICTATIME);
    assert_string_equal(f.data, "mode=755,size=65536k,lowerdir=/a:/b");
    mount_flags_free(&f);
    assert_null(f.data);
    mount_flags_free(NULL);

    f = parse("defaults", NULL);
    assert_null(f.data);
}

static void test_data_too_long(void **state)
{
    (void)state;
    char big[3000];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    char *opts[] = {big, big};
    struct mount_flags f;
    struct vessel_error *err = NULL;
    assert_int_equal(mount_options_parse(opts, 2, &f, &err), -E2BIG);
    assert_non_null(err);
    assert_non_null(strstr(err->msg, "mount options"));
    vessel_error_free(err);
}

/* oci/vocab.h and the parser share one vocabulary: everything the spec layer
 * (and `features`) calls an option is a flag here, never passed on as data. */
static void test_same_vocabulary_as_oci(void **state)
{
    (void)state;
    size_t n = 0;
    const char *const *names = namespaces_supported_mount_options(&n);
    assert_int_equal(n, oci_mount_option_count);
    for (size_t i = 0; i < oci_mount_option_count; i++) {
        assert_true(oci_vocab_find(names, n, oci_mount_option_names[i]) >= 0);
        char *opt = (char *)oci_mount_option_names[i];
        struct mount_flags f;
        assert_int_equal(mount_options_parse(&opt, 1, &f, NULL), 0);
        if (f.data != NULL)
            fail_msg("%s passed on as data", opt);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_flag_option),
        cmocka_unit_test(test_later_option_wins),
        cmocka_unit_test(test_propagation),
        cmocka_unit_test(test_recursive_attributes),
        cmocka_unit_test(test_idmap_and_tmpcopyup),
        cmocka_unit_test(test_data_string),
        cmocka_unit_test(test_data_too_long),
        cmocka_unit_test(test_same_vocabulary_as_oci),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
