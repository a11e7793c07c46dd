/* Where the micro-VM guest assets (kernel, base initramfs) come from: beside the
 * binary, the install prefix, or the spec (annotations, the config.json vm section). */
#ifndef VESSEL_RUNTIME_VM_ASSETS_H
#define VESSEL_RUNTIME_VM_ASSETS_H

#include "common/error.h"
#include "oci/spec.h"

struct vm_assets {
    char *kernel;   /* absolute path of the guest kernel (ELF vmlinux preferred: PVH entry) */
    char *initrd;   /* absolute path of the base initramfs (its /init is vessel) */
};

/* Default asset directories, in search order: DIR_OF_BINARY/../lib/vessel,
 * DIR_OF_BINARY/vm (the build tree: build/vessel -> build/vm), VESSEL_LIBDIR,
 * /usr/local/lib/vessel, /usr/lib/vessel. */
#define VM_ASSETS_KERNEL_FILE "vmlinux"
#define VM_ASSETS_KERNEL_FALLBACK "vmlinuz"
#define VM_ASSETS_INITRD_FILE "initramfs.cpio.gz"

/* Resolve both assets. Overrides, strongest first: annotations vessel.vm.kernel /
 * vessel.vm.initrd, then vm.kernel.path / vm.kernel.initrd. Every path is checked to
 * be a readable regular file; a missing default names `make vm-assets`. */
int vm_assets_find(const struct oci_spec *spec, struct vm_assets *out, struct vessel_error **err);
void vm_assets_release(struct vm_assets *a);

#endif
