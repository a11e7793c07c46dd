/* Guest CPUID: KVM's supported set, with the hypervisor bit, the host's vendor and
 * brand string, TSC-deadline when KVM emulates it, and topology leaves (0x1, 0x4, 0xb,
 * 0x1f, AMD 0x80000008) describing N single-threaded cores whose APIC IDs are 0..N-1. */
#include <cpuid.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "common/cleanup.h"
#include "microvm/vm_internal.h"

#define CPUID_MAX_ENTRIES 256
#define CPUID_EXTRA_ENTRIES 8   /* room for host leaves KVM left out */

#define LEAF_BRAND_FIRST 0x80000002u
#define LEAF_L1_CACHE_TLB 0x80000005u
#define CPUID1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID1_ECX_HYPERVISOR (1u << 31)

static int cpuid_supported_get(struct vm *vm, struct vessel_error **err)
{
    if (vm->supported_cpuid != NULL)
        return 0;
    size_t size = sizeof(struct kvm_cpuid2) + CPUID_MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2);
    struct kvm_cpuid2 *c = calloc(1, size);
    if (c == NULL)
        return vessel_error_set(err, ENOMEM, "allocating the CPUID table");
    c->nent = CPUID_MAX_ENTRIES;
    if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
        int saved = errno;
        free(c);
        return vessel_error_set(err, saved, "KVM_GET_SUPPORTED_CPUID");
    }
    vm->supported_cpuid = c;
    /* KVM emulates the TSC-deadline timer on top of its in-kernel LAPIC but does not
     * list the bit in its supported set: the VMM adds it (as QEMU and Firecracker do). */
    vm->cpuid_caps.tsc_deadline = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
    return 0;
}

/* Bits needed to number `count` items (0 for 1). */
static uint32_t bits_for(uint32_t count)
{
    uint32_t bits = 0;
    while ((1u << bits) < count)
        bits++;
    return bits;
}

static bool vendor_is_amd(const struct kvm_cpuid2 *c)
{
    for (uint32_t i = 0; i < c->nent; i++) {
        const struct kvm_cpuid_entry2 *e = &c->entries[i];
        if (e->function == 0)
            return e->ebx == 0x68747541 || e->ebx == 0x68747948;  /* "Auth", "Hygo" */
    }
    return false;
}

static struct kvm_cpuid_entry2 *entry_find(struct kvm_cpuid2 *c, uint32_t function, uint32_t index)
{
    for (uint32_t i = 0; i < c->nent; i++)
        if (c->entries[i].function == function && c->entries[i].index == index)
            return &c->entries[i];
    return NULL;
}

static uint32_t guest_max_leaf(struct kvm_cpuid2 *c, uint32_t base)
{
    const struct kvm_cpuid_entry2 *e = entry_find(c, base, 0);
    return e != NULL ? e->eax : 0;
}

/* The host's vendor (leaf 0) and, where KVM reports them empty, the host's brand string
 * (0x80000002..4) and L1 cache/TLB leaf (0x80000005): KVM zeroes those, and a guest
 * would otherwise print a made-up CPU name and size its TLBs from nothing. */
static void host_leaves_copy(struct kvm_cpuid2 *c, uint32_t capacity)
{
    unsigned a, b, cx, d;
    struct kvm_cpuid_entry2 *e = entry_find(c, 0, 0);
    if (e != NULL && __get_cpuid(0, &a, &b, &cx, &d)) {
        e->ebx = b;
        e->ecx = cx;
        e->edx = d;
    }
    uint32_t host_max = __get_cpuid_max(0x80000000u, NULL);
    uint32_t guest_max = guest_max_leaf(c, 0x80000000u);
    for (uint32_t leaf = LEAF_BRAND_FIRST; leaf <= LEAF_L1_CACHE_TLB; leaf++) {
        if (leaf > host_max || leaf > guest_max)
            break;
        e = entry_find(c, leaf, 0);
        if (e == NULL) {
            if (c->nent >= capacity)
                break;
            e = &c->entries[c->nent++];
            memset(e, 0, sizeof(*e));
            e->function = leaf;
        }
        if (e->eax | e->ebx | e->ecx | e->edx)
            continue;  /* KVM (or a newer one) already says something: keep it */
        __cpuid(leaf, a, b, cx, d);
        e->eax = a;
        e->ebx = b;
        e->ecx = cx;
        e->edx = d;
    }
}

static void cpuid_entry_adjust(struct kvm_cpuid_entry2 *e, uint32_t index, uint32_t count, bool amd,
                               const struct cpuid_caps *caps)
{
    uint32_t core_bits = bits_for(count);
    switch (e->function) {
    case 0x1:
        /* EBX: initial APIC ID, logical processors per package, CLFLUSH size 8 qwords */
        e->ebx = (index << 24) | ((count & 0xff) << 16) | (8 << 8) | (e->ebx & 0xff);
        e->ecx |= CPUID1_ECX_HYPERVISOR;
        if (caps->tsc_deadline)
            e->ecx |= CPUID1_ECX_TSC_DEADLINE;
        else
            e->ecx &= ~CPUID1_ECX_TSC_DEADLINE;
        if (count > 1)
            e->edx |= 1u << 28;  /* HTT: the package field above is valid */
        else
            e->edx &= ~(1u << 28);
        break;
    case 0x4: {
        /* Deterministic cache parameters: each core has private L1/L2, shares L3. */
        uint32_t level = (e->eax >> 5) & 7;
        uint32_t sharing = level >= 3 ? count - 1 : 0;
        if ((e->eax & 0x1f) == 0)
            break;  /* no more caches */
        e->eax = (e->eax & 0x3fff) | ((sharing & 0xfff) << 14) | (((count - 1) & 0x3f) << 26);
        break;
    }
    case 0x6:
        e->ecx &= ~1u;  /* no APERF/MPERF: the host's counters would be meaningless */
        break;
    case 0xa:
        /* No guest PMU: a stock kernel must not program counters we do not virtualize. */
        e->eax = e->ebx = e->ecx = e->edx = 0;
        break;
    case 0xb:
    case 0x1f:
        e->edx = index;  /* x2APIC ID */
        if (e->index == 0) {          /* SMT level: one thread per core */
            e->eax = 0;
            e->ebx = 1;
            e->ecx = (1u << 8) | 0;
        } else if (e->index == 1) {   /* core level */
            e->eax = core_bits;
            e->ebx = count;
            e->ecx = (2u << 8) | 1;
        } else {
            e->eax = 0;
            e->ebx = 0;
            e->ecx = e->index & 0xff;
        }
        break;
    case 0x80000001:
        if (amd && count > 1)
            e->ecx |= 1u << 1;  /* CmpLegacy: cores are not hyperthreads */
        break;
    case 0x80000008:
        if (amd)
            e->ecx = (core_bits << 12) | ((count - 1) & 0xff);
        break;
    default:
        break;
    }
}

int cpuid_table_build(const struct kvm_cpuid2 *sup, uint32_t index, uint32_t count,
                      const struct cpuid_caps *caps, struct kvm_cpuid2 **out, struct vessel_error **err)
{
    uint32_t capacity = sup->nent + CPUID_EXTRA_ENTRIES;
    struct kvm_cpuid2 *c = calloc(1, sizeof(struct kvm_cpuid2) + capacity * sizeof(struct kvm_cpuid_entry2));
    if (c == NULL)
        return vessel_error_set(err, ENOMEM, "allocating the CPUID table");
    c->nent = sup->nent;
    memcpy(c->entries, sup->entries, sup->nent * sizeof(struct kvm_cpuid_entry2));
    host_leaves_copy(c, capacity);
    bool amd = vendor_is_amd(c);
    for (uint32_t i = 0; i < c->nent; i++)
        cpuid_entry_adjust(&c->entries[i], index, count, amd, caps);
    *out = c;
    return 0;
}

int cpuid_setup(struct vm *vm, int vcpu_fd, uint32_t index, struct vessel_error **err)
{
    int r = cpuid_supported_get(vm, err);
    if (r < 0)
        return r;
    _cleanup_free_ struct kvm_cpuid2 *c = NULL;
    r = cpuid_table_build(vm->supported_cpuid, index, vm->nvcpus, &vm->cpuid_caps, &c, err);
    if (r < 0)
        return r;
    if (ioctl(vcpu_fd, KVM_SET_CPUID2, c) < 0)
        return vessel_error_set(err, errno, "KVM_SET_CPUID2 on vCPU %u", index);
    return 0;
}
