/* libFuzzer target: any file as a kernel image (ELF vmlinux or bzImage) into a fake VM
 * (guest RAM a heap buffer, no KVM): the loader either refuses it or leaves an entry point,
 * kernel end and command-line limit inside guest RAM; then initrd placement and the zero
 * page run on what it loaded. */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "microvm/boot.h"
#include "microvm/vm_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LOW (4ULL << 20)
#define HIGH (64ULL << 10)

static int file_fd = -1;
static char file_path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (file_fd < 0) {
        file_fd = memfd_create("fuzz-kernel", MFD_CLOEXEC);
        if (file_fd < 0)
            abort();
        snprintf(file_path, sizeof(file_path), "/proc/self/fd/%d", file_fd);
    }
    if (ftruncate(file_fd, 0) < 0 || pwrite(file_fd, data, size, 0) != (ssize_t)size)
        abort();

    struct vm *vm = calloc(1, sizeof(*vm));
    vm->mem = calloc(1, LOW + HIGH);
    if (vm->mem == NULL)
        abort();
    vm->mem_size = LOW + HIGH;
    vm->low_size = LOW;
    vm->high_size = HIGH;
    vm->mem_fd = -1;
    vm->nvcpus = 1;

    struct vessel_error *err = NULL;
    if (boot_kernel_load(vm, file_path, &err) < 0) {
        if (err == NULL)
            abort();
        vessel_error_free(err);
        goto out;
    }
    if (vm->entry < VM_HIGH_MEMORY || vm->entry >= LOW || vm->kernel_end > LOW || vm->kernel_end <= vm->entry ||
        vm->cmdline_limit >= VM_CMDLINE_MAX)
        abort();
    if (boot_cmdline_check(vm, "console=hvc0 quiet", NULL) == 0 &&
        boot_initrd_load(vm, file_path, NULL) == 0 &&
        (vm->initrd_addr < vm->kernel_end || vm->initrd_addr + vm->initrd_size > LOW ||
         vm->initrd_size != size || (vm->initrd_addr & 0xfff) != 0))
        abort();
    if (boot_params_write(vm, "console=hvc0 quiet", 0xe0000, &err) < 0)
        vessel_error_free(err);
out:
    free(vm->mem);
    free(vm);
    return 0;
}
