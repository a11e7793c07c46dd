/* Finding the guest kernel and base initramfs for VM mode (runtime/vm_assets.h). */
#include "runtime/vm_assets.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"

#ifndef VESSEL_LIBDIR
#define VESSEL_LIBDIR "/usr/local/lib/vessel"
#endif

static int check_file(const char *path, const char *what, const char *origin, struct vessel_error **err)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return vessel_error_set(err, errno, "%s \"%s\" (%s)", what, path, origin);
    if (!S_ISREG(st.st_mode))
        return vessel_error_set(err, EINVAL, "%s \"%s\" (%s): not a regular file", what, path, origin);
    if (access(path, R_OK) < 0)
        return vessel_error_set(err, errno, "%s \"%s\" (%s)", what, path, origin);
    return 0;
}

static int absolutize(const char *path, char **out, struct vessel_error **err)
{
    char buf[PATH_MAX];
    if (realpath(path, buf) == NULL)
        return vessel_error_set(err, errno, "\"%s\"", path);
    *out = strdup(buf);
    return *out ? 0 : vessel_error_set(err, ENOMEM, "asset path");
}

/* The directory holding the running binary, or "" when it is not a plain file
 * (a sealed memfd copy, for instance). */
static void exe_dir(char *buf, size_t size)
{
    ssize_t n = readlink("/proc/self/exe", buf, size - 1);
    if (n <= 0 || buf[0] != '/') {
        buf[0] = '\0';
        return;
    }
    buf[n] = '\0';
    char *slash = strrchr(buf, '/');
    *slash = '\0';
}

static bool file_exists(const char *dir, const char *name)
{
    char path[PATH_MAX];
    struct stat st;
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
        return false;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The first default directory holding an initramfs and a kernel. */
static int default_dir(char *out, size_t size, char *searched, size_t searched_size)
{
    char self[PATH_MAX];
    exe_dir(self, sizeof(self));
    const char *dirs[5];
    char up[PATH_MAX], beside[PATH_MAX];
    size_t n = 0;
    if (self[0] != '\0') {
        if ((size_t)snprintf(up, sizeof(up), "%s/../lib/vessel", self) < sizeof(up))
            dirs[n++] = up;
        if ((size_t)snprintf(beside, sizeof(beside), "%s/vm", self) < sizeof(beside))
            dirs[n++] = beside;
    }
    dirs[n++] = VESSEL_LIBDIR;
    dirs[n++] = "/usr/lib/vessel";
    searched[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (file_exists(dirs[i], VM_ASSETS_INITRD_FILE) &&
            (file_exists(dirs[i], VM_ASSETS_KERNEL_FILE) || file_exists(dirs[i], VM_ASSETS_KERNEL_FALLBACK))) {
            if (realpath(dirs[i], out) == NULL || strlen(out) >= size)
                continue;
            return 0;
        }
        size_t used = strlen(searched);
        if (used + strlen(dirs[i]) + 3 < searched_size)
            (void)!snprintf(searched + used, searched_size - used, "%s%s", used ? ", " : "", dirs[i]);
    }
    return -1;
}

int vm_assets_find(const struct oci_spec *spec, struct vm_assets *out, struct vessel_error **err)
{
    *out = (struct vm_assets){0};
    const char *kernel = spec_annotation(spec, "vessel.vm.kernel");
    const char *kernel_origin = "annotation vessel.vm.kernel";
    if (kernel == NULL && spec->vm.kernel_path) {
        kernel = spec->vm.kernel_path;
        kernel_origin = "vm.kernel.path";
    }
    const char *initrd = spec_annotation(spec, "vessel.vm.initrd");
    const char *initrd_origin = "annotation vessel.vm.initrd";
    if (initrd == NULL && spec->vm.kernel_initrd) {
        initrd = spec->vm.kernel_initrd;
        initrd_origin = "vm.kernel.initrd";
    }

    char dir[PATH_MAX] = "", searched[4 * PATH_MAX];
    _cleanup_free_ char *kbuf = NULL, *ibuf = NULL;
    if (kernel == NULL || initrd == NULL) {
        if (default_dir(dir, sizeof(dir), searched, sizeof(searched)) < 0)
            return vessel_error_set(err, ENOENT,
                                    "micro-VM guest assets not found (looked in %s): run `make vm-assets`",
                                    searched);
        if (kernel == NULL) {
            const char *name = file_exists(dir, VM_ASSETS_KERNEL_FILE) ? VM_ASSETS_KERNEL_FILE
                                                                       : VM_ASSETS_KERNEL_FALLBACK;
            if (asprintf(&kbuf, "%s/%s", dir, name) < 0)
                return vessel_error_set(err, ENOMEM, "asset path");
            kernel = kbuf;
            kernel_origin = "guest assets; rebuild with `make vm-assets`";
        }
        if (initrd == NULL) {
            if (asprintf(&ibuf, "%s/%s", dir, VM_ASSETS_INITRD_FILE) < 0)
                return vessel_error_set(err, ENOMEM, "asset path");
            initrd = ibuf;
            initrd_origin = "guest assets; rebuild with `make vm-assets`";
        }
    }
    if (check_file(kernel, "guest kernel", kernel_origin, err) < 0 ||
        check_file(initrd, "guest initramfs", initrd_origin, err) < 0)
        return vessel_error_code(*err);
    if (absolutize(kernel, &out->kernel, err) < 0 || absolutize(initrd, &out->initrd, err) < 0) {
        vm_assets_release(out);
        return vessel_error_code(*err);
    }
    return 0;
}

void vm_assets_release(struct vm_assets *a)
{
    free(a->kernel);
    free(a->initrd);
    a->kernel = a->initrd = NULL;
}
