/* Guest RAM: one sealable memfd mapped shared, registered with KVM as up to two
 * slots (below the 3 GiB MMIO hole and above 4 GiB), and bounds-checked access. */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "microvm/vm_internal.h"

uint64_t vm_host_ram_bytes(void)
{
    long pages = sysconf(_SC_PHYS_PAGES);
    long page_size = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page_size <= 0)
        return 0;
    return (uint64_t)pages * (uint64_t)page_size;
}

static int memory_slot_set(struct vm *vm, uint32_t slot, uint64_t gpa, uint64_t size,
                           uint8_t *host, struct vessel_error **err)
{
    struct kvm_userspace_memory_region region = {
        .slot = slot,
        .guest_phys_addr = gpa,
        .memory_size = size,
        .userspace_addr = (uint64_t)(uintptr_t)host,
    };
    if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
        return vessel_error_set(err, errno, "KVM_SET_USER_MEMORY_REGION slot %u (0x%llx bytes at 0x%llx)",
                                slot, (unsigned long long)size, (unsigned long long)gpa);
    return 0;
}

int vm_memory_create(struct vm *vm, uint64_t bytes, struct vessel_error **err)
{
    int fd = memfd_create("vessel-guest-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return vessel_error_set(err, errno, "memfd_create for guest RAM");
    if (ftruncate(fd, (off_t)bytes) < 0) {
        int saved = errno;
        close(fd);
        return vessel_error_set(err, saved, "sizing guest RAM to %llu bytes", (unsigned long long)bytes);
    }
    /* The size is fixed for the VM's life: seal it so no one can shrink it under us. */
    (void)fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW);
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
    if (p == MAP_FAILED) {
        int saved = errno;
        close(fd);
        return vessel_error_set(err, saved, "mapping %llu bytes of guest RAM", (unsigned long long)bytes);
    }
    (void)madvise(p, bytes, MADV_DONTDUMP);
    vm->mem_fd = fd;
    vm->mem = p;
    vm->mem_size = bytes;
    vm->low_size = bytes < VM_MMIO_HOLE_START ? bytes : VM_MMIO_HOLE_START;
    vm->high_size = bytes - vm->low_size;

    int r = memory_slot_set(vm, 0, 0, vm->low_size, vm->mem, err);
    if (r == 0 && vm->high_size > 0)
        r = memory_slot_set(vm, 1, VM_4G, vm->high_size, vm->mem + vm->low_size, err);
    return r;
}

void vm_memory_destroy(struct vm *vm)
{
    if (vm->mem != NULL)
        (void)munmap(vm->mem, vm->mem_size);
    vm->mem = NULL;
    if (vm->mem_fd >= 0)
        (void)close(vm->mem_fd);
    vm->mem_fd = -1;
}

void *vm_guest_ptr(struct vm *vm, uint64_t gpa, uint64_t len)
{
    if (vm == NULL || vm->mem == NULL || len == 0)
        return NULL;
    /* Each check is written so that no addition can wrap. */
    if (gpa < vm->low_size) {
        if (len > vm->low_size - gpa)
            return NULL;
        return vm->mem + gpa;
    }
    if (gpa >= VM_4G && gpa - VM_4G < vm->high_size) {
        uint64_t off = gpa - VM_4G;
        if (len > vm->high_size - off)
            return NULL;
        return vm->mem + vm->low_size + off;
    }
    return NULL;
}

uint64_t vm_ram_size(const struct vm *vm)
{
    return vm->mem_size;
}

uint64_t vm_guest_resident(struct vm *vm)
{
    if (vm == NULL || vm->mem == NULL)
        return 0;
    long page_size = sysconf(_SC_PAGESIZE);
    if (page_size <= 0)
        return 0;
    uint64_t pages = (vm->mem_size + (uint64_t)page_size - 1) / (uint64_t)page_size;
    uint64_t resident = 0;
    unsigned char vec[4096];
    for (uint64_t first = 0; first < pages; first += sizeof(vec)) {
        uint64_t n = pages - first < sizeof(vec) ? pages - first : sizeof(vec);
        if (mincore(vm->mem + first * (uint64_t)page_size, n * (uint64_t)page_size, vec) < 0)
            return 0;
        for (uint64_t i = 0; i < n; i++)
            resident += vec[i] & 1;
    }
    return resident * (uint64_t)page_size;
}
