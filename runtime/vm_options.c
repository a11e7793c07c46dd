/* VM mode's decisions from the spec and the host (runtime/vm_options.h). */
#include "runtime/vm_options.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "common/cleanup.h"

const char *vm_backend_name(enum vm_backend backend)
{
    return backend == VM_BACKEND_BUILTIN ? "builtin" : "qemu";
}

int vm_parse_memory(const char *text, uint64_t *mib)
{
    if (text == NULL || text[0] < '0' || text[0] > '9')
        return -EINVAL;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || v > (1ULL << 40))
        return -ERANGE;
    unsigned long long kib;
    if (strcmp(end, "") == 0 || strcasecmp(end, "M") == 0 || strcasecmp(end, "MiB") == 0 ||
        strcasecmp(end, "MB") == 0)
        kib = v * 1024;
    else if (strcasecmp(end, "G") == 0 || strcasecmp(end, "GiB") == 0 || strcasecmp(end, "GB") == 0)
        kib = v * 1024 * 1024;
    else if (strcasecmp(end, "K") == 0 || strcasecmp(end, "KiB") == 0 || strcasecmp(end, "KB") == 0)
        kib = v;
    else
        return -EINVAL;
    if (kib > (1ULL << 40))
        return -ERANGE;
    *mib = (kib + 1023) / 1024;
    return 0;
}

static uint64_t host_memory_mib(void)
{
    struct sysinfo si;
    if (sysinfo(&si) < 0)
        return UINT64_MAX;
    return (uint64_t)si.totalram * si.mem_unit / (1024 * 1024);
}

static int parse_uint(const char *text, unsigned long max, unsigned long *out)
{
    if (text == NULL || text[0] < '0' || text[0] > '9')
        return -EINVAL;
    errno = 0;
    char *end = NULL;
    unsigned long v = strtoul(text, &end, 10);
    if (errno != 0 || *end != '\0' || v > max)
        return -ERANGE;
    *out = v;
    return 0;
}

int vm_options_size(const struct oci_spec *spec, struct vm_options *o, struct vessel_error **err)
{
    const struct oci_resources *res = &spec->linux_.resources;
    o->memory_mib = VM_DEFAULT_MEMORY_MIB;
    o->vcpus = VM_DEFAULT_VCPUS;
    const char *mem = spec_annotation(spec, "vessel.vm.memory");
    uint64_t host = host_memory_mib();
    if (mem != NULL) {
        if (vm_parse_memory(mem, &o->memory_mib) < 0)
            return vessel_error_set(err, EINVAL, "annotation vessel.vm.memory \"%s\": not a size "
                                                 "(MiB, or with a suffix: 512M, 1G)", mem);
        if (o->memory_mib < VM_MIN_GUEST_MIB || o->memory_mib > host)
            return vessel_error_set(err, ERANGE, "annotation vessel.vm.memory \"%s\": must be between "
                                                 "%u MiB and the host's %llu MiB", mem, VM_MIN_GUEST_MIB,
                                    (unsigned long long)host);
    } else if (res->memory.has_limit && res->memory.limit > 0) {
        uint64_t mib = ((uint64_t)res->memory.limit + (1 << 20) - 1) >> 20;
        if (mib < VM_MIN_GUEST_MIB)
            return vessel_error_set(err, ERANGE, "linux.resources.memory.limit: %lld bytes is below the "
                                                 "%u MiB a micro-VM guest needs",
                                    (long long)res->memory.limit, VM_MIN_GUEST_MIB);
        o->memory_mib = mib < host ? mib : host;
    }
    const char *cpus = spec_annotation(spec, "vessel.vm.vcpus");
    if (cpus != NULL) {
        unsigned long v;
        if (parse_uint(cpus, VM_MAX_GUEST_VCPUS, &v) < 0 || v < 1)
            return vessel_error_set(err, EINVAL, "annotation vessel.vm.vcpus \"%s\": must be 1..%d",
                                    cpus, VM_MAX_GUEST_VCPUS);
        o->vcpus = (uint32_t)v;
    } else if (res->cpu.has_quota && res->cpu.quota > 0) {
        uint64_t period = res->cpu.has_period && res->cpu.period > 0 ? res->cpu.period : 100000;
        uint64_t n = ((uint64_t)res->cpu.quota + period - 1) / period;
        o->vcpus = n > VM_MAX_GUEST_VCPUS ? VM_MAX_GUEST_VCPUS : (uint32_t)n;
    }
    return 0;
}

/* A /dev/kvm that can run a stock kernel: present, openable, and not PVM (which only
 * runs PVM-built guest kernels). */
static bool kvm_runs_stock_kernels(char *why, size_t size)
{
    if (access("/sys/module/kvm_pvm", F_OK) == 0) {
        snprintf(why, size, "/dev/kvm is PVM (/sys/module/kvm_pvm), which cannot run a stock kernel");
        return false;
    }
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, size, "no usable /dev/kvm (%s)", strerror(errno));
        return false;
    }
    close(fd);
    snprintf(why, size, "/dev/kvm is hardware-assisted");
    return true;
}

static int find_in_path(const char *name, char **out)
{
    const char *path = getenv("PATH");
    if (path == NULL || *path == '\0')
        path = "/usr/local/bin:/usr/bin:/bin";
    _cleanup_free_ char *copy = strdup(path);
    if (copy == NULL)
        return -ENOMEM;
    char *save = NULL;
    for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
        char buf[PATH_MAX];
        if ((size_t)snprintf(buf, sizeof(buf), "%s/%s", dir, name) >= sizeof(buf))
            continue;
        if (access(buf, X_OK) == 0) {
            *out = strdup(buf);
            return *out ? 0 : -ENOMEM;
        }
    }
    return -ENOENT;
}

static int pick_backend(const struct oci_spec *spec, struct vm_options *o, struct vessel_error **err)
{
    char why[128];
    bool kvm = kvm_runs_stock_kernels(why, sizeof(why));
    const char *want = spec_annotation(spec, "vessel.vm.hypervisor");
    if (want != NULL && strcmp(want, "builtin") != 0 && strcmp(want, "qemu") != 0)
        return vessel_error_set(err, EINVAL, "annotation vessel.vm.hypervisor \"%s\": must be builtin or qemu",
                                want);
    if (want != NULL && strcmp(want, "builtin") == 0) {
        o->backend = VM_BACKEND_BUILTIN;
        snprintf(o->backend_reason, sizeof(o->backend_reason), "builtin VMM (annotation vessel.vm.hypervisor)");
        return 0;
    }
    if (want == NULL && spec->vm.hypervisor_path == NULL && kvm) {
        o->backend = VM_BACKEND_BUILTIN;
        snprintf(o->backend_reason, sizeof(o->backend_reason), "builtin VMM: %s", why);
        return 0;
    }
    o->backend = VM_BACKEND_QEMU;
    o->kvm = kvm;
    if (spec->vm.hypervisor_path != NULL) {
        if (access(spec->vm.hypervisor_path, X_OK) < 0)
            return vessel_error_set(err, errno, "vm.hypervisor.path \"%s\"", spec->vm.hypervisor_path);
        if (strstr(spec->vm.hypervisor_path, "qemu") == NULL)
            return vessel_error_set(err, EINVAL, "vm.hypervisor.path \"%s\": only QEMU is supported as an "
                                                 "external hypervisor", spec->vm.hypervisor_path);
        o->qemu_path = strdup(spec->vm.hypervisor_path);
    } else if (find_in_path("qemu-system-x86_64", &o->qemu_path) < 0) {
        return vessel_error_set(err, ENOENT, "no usable micro-VM backend: %s and qemu-system-x86_64 is not "
                                             "in PATH (apt-get install qemu-system-x86)", why);
    }
    if (o->qemu_path == NULL)
        return vessel_error_set(err, ENOMEM, "qemu path");
    (void)!snprintf(o->backend_reason, sizeof(o->backend_reason), "qemu with %s: %s%s", kvm ? "KVM" : "TCG", why,
             want ? " (annotation vessel.vm.hypervisor)" : spec->vm.hypervisor_path ? " (vm.hypervisor.path)" : "");
    return 0;
}

int vm_options_resolve(const struct oci_spec *spec, struct vm_options *out, struct vessel_error **err)
{
    *out = (struct vm_options){0};
    if (vm_options_size(spec, out, err) < 0 || pick_backend(spec, out, err) < 0)
        goto fail;
    out->boot_timeout = out->backend == VM_BACKEND_QEMU && !out->kvm ? VM_BOOT_TIMEOUT_TCG : VM_BOOT_TIMEOUT_KVM;
    const char *t = spec_annotation(spec, "vessel.vm.boot-timeout");
    if (t != NULL) {
        unsigned long v;
        if (parse_uint(t, 3600, &v) < 0 || v < 1) {
            vessel_error_set(err, EINVAL, "annotation vessel.vm.boot-timeout \"%s\": must be 1..3600 seconds", t);
            goto fail;
        }
        out->boot_timeout = (unsigned)v;
    }
    if (vm_assets_find(spec, &out->assets, err) < 0)
        goto fail;
    return 0;
fail:
    vm_options_release(out);
    return vessel_error_code(*err);
}

void vm_options_release(struct vm_options *o)
{
    free(o->qemu_path);
    o->qemu_path = NULL;
    vm_assets_release(&o->assets);
}
