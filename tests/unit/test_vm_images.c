/* Unit tests of VM mode's pure helpers: the newc cpio writer (checked by cpio(1)
 * itself when present, and by its fixed layout), memory size parsing, and the
 * per-container initramfs layout (base + 4-byte padding + archive). */
#include <errno.h>
#include <fcntl.h>
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

#include "common/fs.h"
#include "oci/spec.h"
#include "runtime/vm_images.h"
#include "runtime/vm_options.h"

static void test_cpio_layout(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    const char data[] = "{\"ociVersion\":\"1.2.0\"}";
    assert_true(cpio_newc_single("bundle", "bundle/config.json", data, sizeof(data) - 1, 0600, &buf, &len) > 0);
    assert_int_equal(len % 4, 0);
    assert_memory_equal(buf, "070701", 6);
    /* The file's data follows its padded name. */
    assert_non_null(memmem(buf, len, data, sizeof(data) - 1));
    assert_non_null(memmem(buf, len, "TRAILER!!!", 10));
    /* Every header starts 4-byte aligned. */
    for (char *p = buf; (p = memmem(p, len - (size_t)(p - buf), "070701", 6)) != NULL; p += 6)
        assert_int_equal((p - buf) % 4, 0);
    free(buf);
}

static void test_cpio_extracts(void **state)
{
    (void)state;
    if (system("command -v cpio >/dev/null 2>&1") != 0)
        skip();
    char dir[] = "/tmp/vessel-cpio-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *buf = NULL;
    size_t len = 0;
    assert_true(cpio_newc_single("bundle", "bundle/config.json", "abc", 3, 0600, &buf, &len) > 0);
    char path[256], cmd[512];
    snprintf(path, sizeof(path), "%s/a.cpio", dir);
    struct vessel_error *err = NULL;
    assert_int_equal(write_file_at(AT_FDCWD, path, buf, len, 0600, &err), 0);
    snprintf(cmd, sizeof(cmd), "cd %s && cpio -i --quiet < a.cpio 2>/dev/null && test \"$(cat bundle/config.json)\" = abc", dir);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    free(buf);
}

static void test_initrd_padding(void **state)
{
    (void)state;
    char dir[] = "/tmp/vessel-initrd-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char base[256];
    snprintf(base, sizeof(base), "%s/base", dir);
    struct vessel_error *err = NULL;
    assert_int_equal(write_file_at(AT_FDCWD, base, "12345", 5, 0600, &err), 0);  /* odd size */
    char *out = NULL;
    assert_int_equal(vm_image_initrd(base, "{}", 2, dir, &out, &err), 0);
    char *got = NULL;
    size_t len = 0;
    assert_int_equal(read_file_at(AT_FDCWD, out, 1 << 20, &got, &len, &err), 0);
    assert_memory_equal(got, "12345\0\0\0", 8);
    assert_memory_equal(got + 8, "070701", 6);
    free(got);
    unlink(out);
    free(out);
    unlink(base);
    rmdir(dir);
}

static void test_parse_memory(void **state)
{
    (void)state;
    struct { const char *text; int rc; uint64_t mib; } cases[] = {
        {"512", 0, 512}, {"512M", 0, 512}, {"512MiB", 0, 512}, {"1G", 0, 1024}, {"2GiB", 0, 2048},
        {"1048576K", 0, 1024}, {"1500K", 0, 2}, {"0", 0, 0},
        {"", -EINVAL, 0}, {"lots", -EINVAL, 0}, {"-1", -EINVAL, 0}, {"12X", -EINVAL, 0}, {" 5", -EINVAL, 0},
        {"99999999999999999999", -ERANGE, 0}, {"2000000000G", -ERANGE, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t mib = 12345;
        int rc = vm_parse_memory(cases[i].text, &mib);
        if (rc != cases[i].rc)
            fail_msg("\"%s\": rc %d, expected %d", cases[i].text, rc, cases[i].rc);
        if (rc == 0 && mib != cases[i].mib)
            fail_msg("\"%s\": %llu MiB, expected %llu", cases[i].text, (unsigned long long)mib,
                     (unsigned long long)cases[i].mib);
    }
}

static void expect_size(const char *json, int rc, uint64_t mib, uint32_t vcpus, const char *msg)
{
    struct oci_spec *spec = NULL;
    struct vessel_error *err = NULL;
    if (spec_parse(json, strlen(json), &spec, &err) < 0)
        fail_msg("spec_parse: %s", err->msg);
    struct vm_options o = {0};
    int r = vm_options_size(spec, &o, &err);
    if ((r < 0) != (rc < 0))
        fail_msg("%s: rc %d (%s)", json, r, err ? err->msg : "");
    if (r == 0 && (o.memory_mib != mib || o.vcpus != vcpus))
        fail_msg("%s: %llu MiB %u vCPUs, expected %llu %u", json, (unsigned long long)o.memory_mib, o.vcpus,
                 (unsigned long long)mib, vcpus);
    if (r < 0 && strstr(err->msg, msg) == NULL)
        fail_msg("%s: error \"%s\" lacks \"%s\"", json, err->msg, msg);
    vessel_error_free(err);
    spec_free(spec);
}

static void test_guest_size(void **state)
{
    (void)state;
#define SPEC(extra) "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"}" extra "}"
    expect_size(SPEC(""), 0, 256, 1, NULL);
    expect_size(SPEC(",\"linux\":{\"resources\":{\"memory\":{\"limit\":536870912},"
                     "\"cpu\":{\"quota\":150000,\"period\":100000}}}"), 0, 512, 2, NULL);
    expect_size(SPEC(",\"linux\":{\"resources\":{\"memory\":{\"limit\":1000000000}}}"), 0, 954, 1, NULL);
    expect_size(SPEC(",\"linux\":{\"resources\":{\"cpu\":{\"quota\":-1}}}"), 0, 256, 1, NULL);
    expect_size(SPEC(",\"linux\":{\"resources\":{\"memory\":{\"limit\":1048576}}}"), -1, 0, 0, "below the 64 MiB");
    /* Annotations win over resources. */
    expect_size(SPEC(",\"annotations\":{\"vessel.vm.memory\":\"1G\",\"vessel.vm.vcpus\":\"3\"},"
                     "\"linux\":{\"resources\":{\"memory\":{\"limit\":536870912}}}"), 0, 1024, 3, NULL);
    expect_size(SPEC(",\"annotations\":{\"vessel.vm.vcpus\":\"65\"}"), -1, 0, 0, "vessel.vm.vcpus");
    expect_size(SPEC(",\"annotations\":{\"vessel.vm.vcpus\":\"2x\"}"), -1, 0, 0, "vessel.vm.vcpus");
    expect_size(SPEC(",\"annotations\":{\"vessel.vm.memory\":\"32M\"}"), -1, 0, 0, "between 64 MiB");
#undef SPEC
}

static int count_images(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "ls %s/*.img 2>/dev/null | wc -l", dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p && fscanf(p, "%d", &n) != 1)
        n = -1;
    if (p)
        pclose(p);
    return n;
}

static void test_rootfs_image_cache(void **state)
{
    (void)state;
    if (system("command -v mkfs.ext4 >/dev/null 2>&1") != 0)
        skip();
    char dir[] = "/tmp/vessel-images-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char tree[64], cache[64], s1[64], s2[64], s3[64], cmd[1024];
    snprintf(tree, sizeof(tree), "%s/rootfs", dir);
    snprintf(cache, sizeof(cache), "%s/cache", dir);
    snprintf(s1, sizeof(s1), "%s/s1", dir);
    snprintf(s2, sizeof(s2), "%s/s2", dir);
    snprintf(s3, sizeof(s3), "%s/s3", dir);
    snprintf(cmd, sizeof(cmd), "mkdir -p %s/etc %s %s %s && echo one > %s/etc/file", tree, s1, s2, s3, tree);
    assert_int_equal(system(cmd), 0);
    setenv("VESSEL_VM_CACHE", cache, 1);
    struct vessel_error *err = NULL;
    char *img = NULL;
    assert_int_equal(vm_image_rootfs(tree, s1, true, &img, &err), 0);
    assert_int_equal(count_images(cache), 1);
    free(img);
    /* Same tree: a cache hit; a writable root gets its own copy, not the cached file. */
    assert_int_equal(vm_image_rootfs(tree, s2, false, &img, &err), 0);
    assert_int_equal(count_images(cache), 1);
    struct stat a, b;
    snprintf(cmd, sizeof(cmd), "%s", img);
    assert_int_equal(stat(cmd, &a), 0);
    snprintf(cmd, sizeof(cmd), "%s/rootfs.img", s1);
    assert_int_equal(stat(cmd, &b), 0);
    assert_true(a.st_ino != b.st_ino);
    assert_int_equal(a.st_size, b.st_size);
    free(img);
    /* A changed file is a different tree: a new image. */
    snprintf(cmd, sizeof(cmd), "sleep 0.01; echo two > %s/etc/file", tree);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(vm_image_rootfs(tree, s3, true, &img, &err), 0);
    assert_int_equal(count_images(cache), 2);
    free(img);
    /* A missing rootfs is an error naming it. */
    assert_true(vm_image_rootfs("/nonexistent/rootfs", s3, true, &img, &err) < 0);
    assert_non_null(strstr(err->msg, "/nonexistent/rootfs"));
    vessel_error_free(err);
    unsetenv("VESSEL_VM_CACHE");
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cpio_layout),
        cmocka_unit_test(test_cpio_extracts),
        cmocka_unit_test(test_initrd_padding),
        cmocka_unit_test(test_parse_memory),
        cmocka_unit_test(test_rootfs_image_cache),
        cmocka_unit_test(test_guest_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
