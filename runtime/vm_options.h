/* Everything VM mode decides from the spec before touching the system: backend
 * and accelerator, guest size, boot timeout, guest assets. */
#ifndef VESSEL_RUNTIME_VM_OPTIONS_H
#define VESSEL_RUNTIME_VM_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "oci/spec.h"
#include "runtime/vm_assets.h"

enum vm_backend { VM_BACKEND_QEMU, VM_BACKEND_BUILTIN };

#define VM_DEFAULT_MEMORY_MIB 256
#define VM_DEFAULT_VCPUS 1
#define VM_MIN_GUEST_MIB 64
#define VM_MAX_GUEST_VCPUS 64
#define VM_BOOT_TIMEOUT_KVM 30   /* seconds */
#define VM_BOOT_TIMEOUT_TCG 120  /* seconds: binary translation on a busy host is slow */

struct vm_options {
    enum vm_backend backend;
    char backend_reason[256];   /* why this backend (for --debug) */
    char *qemu_path;            /* qemu backend: the binary */
    bool kvm;                   /* qemu backend: -accel kvm (else tcg) */
    uint64_t memory_mib;
    uint32_t vcpus;
    unsigned boot_timeout;      /* seconds until the guest must report the container created */
    struct vm_assets assets;
};

/* Resolve and validate. Annotations: vessel.vm.hypervisor (builtin|qemu),
 * vessel.vm.memory (MiB, or with a K/M/G suffix), vessel.vm.vcpus, vessel.vm.boot-timeout
 * (seconds); config.json: vm.hypervisor.path (a QEMU binary), linux.resources
 * (memory.limit -> RAM, cpu.quota/period -> vCPUs rounded up). */
int vm_options_resolve(const struct oci_spec *spec, struct vm_options *out, struct vessel_error **err);
void vm_options_release(struct vm_options *o);

const char *vm_backend_name(enum vm_backend backend);  /* "qemu" or "builtin" */

/* Only the guest's size (memory_mib, vcpus) from annotations and linux.resources. */
int vm_options_size(const struct oci_spec *spec, struct vm_options *o, struct vessel_error **err);

/* Parse a memory size: "512" (MiB), "512M", "512MiB", "1G", "1GiB", "524288K". */
int vm_parse_memory(const char *text, uint64_t *mib);

#endif
