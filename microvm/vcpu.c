/* vCPUs: creation, the 64-bit boot state (GDT, identity page tables, control
 * registers, MSRs, LAPIC virtual wire), and one thread per vCPU running KVM_RUN
 * and dispatching its exits. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "microvm/vm_internal.h"

#define VCPU_KICK_SIGNAL (SIGRTMIN + 4)

#define CR0_PE 0x1ULL
#define CR0_MP 0x2ULL
#define CR0_ET 0x10ULL
#define CR0_NE 0x20ULL
#define CR0_WP 0x10000ULL
#define CR0_AM 0x40000ULL
#define CR0_PG 0x80000000ULL
#define CR4_PAE 0x20ULL
#define EFER_LME 0x100ULL
#define EFER_LMA 0x400ULL
#define RFLAGS_IF 0x200ULL

#define MSR_IA32_TSC 0x10
#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SYSCALL_MASK 0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102

#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_MODE_NMI 0x4
#define APIC_MODE_EXTINT 0x7

/* Boot GDT selectors as the x86 64-bit boot protocol wants them. */
#define GDT_CODE_SEL 0x10
#define GDT_DATA_SEL 0x18
#define GDT_TSS_SEL 0x20

static void vcpu_kick_handler(int sig)
{
    (void)sig;  /* only interrupts KVM_RUN */
}

static int vcpu_kick_signal_install(struct vessel_error **err)
{
    struct sigaction sa = {.sa_handler = vcpu_kick_handler};
    sigemptyset(&sa.sa_mask);
    /* No SA_RESTART: KVM_RUN must return EINTR. Installing it again is harmless. */
    if (sigaction(VCPU_KICK_SIGNAL, &sa, NULL) < 0)
        return vessel_error_set(err, errno, "installing the vCPU kick signal handler");
    return 0;
}

int vcpu_create(struct vm *vm, struct vcpu *vcpu, uint32_t index, struct vessel_error **err)
{
    vcpu->vm = vm;
    vcpu->index = index;
    vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)index);
    if (vcpu->fd < 0)
        return vessel_error_set(err, errno, "KVM_CREATE_VCPU %u", index);
    vcpu->run_size = (size_t)vm->kvm_run_size;
    void *run = mmap(NULL, vcpu->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
    if (run == MAP_FAILED)
        return vessel_error_set(err, errno, "mapping kvm_run of vCPU %u", index);
    vcpu->run = run;
    int r = cpuid_setup(vm, vcpu->fd, index, err);
    if (r < 0)
        return r;
    return vcpu_kick_signal_install(err);
}

static void gdt_entry_write(uint64_t *gdt, unsigned i, uint16_t flags, uint32_t base, uint32_t limit)
{
    gdt[i] = ((uint64_t)(base & 0xff000000u) << 32) | ((uint64_t)(flags & 0xf0ffu) << 40) |
             ((uint64_t)(limit & 0x000f0000u) << 32) | ((uint64_t)(base & 0x00ffffffu) << 16) |
             (uint64_t)(limit & 0x0000ffffu);
}

static struct kvm_segment segment_from_flags(uint16_t selector, uint16_t flags)
{
    struct kvm_segment s = {
        .base = 0,
        .limit = 0xffffffff,  /* 0xfffff pages, granularity set */
        .selector = selector,
        .type = flags & 0xf,
        .present = (flags >> 7) & 1,
        .dpl = (flags >> 5) & 3,
        .db = (flags >> 14) & 1,
        .s = (flags >> 4) & 1,
        .l = (flags >> 13) & 1,
        .g = (flags >> 15) & 1,
        .avl = (flags >> 12) & 1,
        .unusable = !((flags >> 7) & 1),
    };
    return s;
}

/* Identity-map the first 4 GiB with 2 MiB pages: kernel, boot data and the MMIO
 * windows below 4 GiB are all reachable before the kernel sets up its own tables. */
static int page_tables_write(struct vm *vm, struct vessel_error **err)
{
    uint64_t *pml4 = vm_guest_ptr(vm, VM_PML4_ADDR, 0x1000);
    uint64_t *pdpt = vm_guest_ptr(vm, VM_PDPT_ADDR, 0x1000);
    uint64_t *pd = vm_guest_ptr(vm, VM_PD_ADDR, 4 * 0x1000);
    if (pml4 == NULL || pdpt == NULL || pd == NULL)
        return vessel_error_set(err, EINVAL, "guest RAM too small for the boot page tables");
    memset(pml4, 0, 0x1000);
    memset(pdpt, 0, 0x1000);
    pml4[0] = VM_PDPT_ADDR | 0x3;  /* present, writable */
    for (uint64_t i = 0; i < 4; i++)
        pdpt[i] = (VM_PD_ADDR + i * 0x1000) | 0x3;
    for (uint64_t i = 0; i < 4 * 512; i++)
        pd[i] = (i << 21) | 0x83;  /* present, writable, 2 MiB page */
    return 0;
}

static int vcpu_msrs_set(struct vcpu *vcpu)
{
    static const struct {
        uint32_t index;
        uint64_t value;
    } boot_msrs[] = {
        {MSR_IA32_SYSENTER_CS, 0}, {MSR_IA32_SYSENTER_ESP, 0}, {MSR_IA32_SYSENTER_EIP, 0},
        {MSR_STAR, 0}, {MSR_CSTAR, 0}, {MSR_KERNEL_GS_BASE, 0}, {MSR_SYSCALL_MASK, 0},
        {MSR_LSTAR, 0}, {MSR_IA32_TSC, 0},
        {MSR_IA32_MISC_ENABLE, 1},                 /* fast string operations */
        {MSR_MTRR_DEF_TYPE, (1u << 11) | 6},       /* MTRRs on, default write-back */
    };
    int set = 0;
    /* One at a time: a host that refuses one (PVM lacks some) still gets the rest. */
    for (size_t i = 0; i < sizeof(boot_msrs) / sizeof(boot_msrs[0]); i++) {
        /* struct kvm_msrs ends in a flexible array: lay out one entry by hand. */
        union {
            struct kvm_msrs msrs;
            uint8_t bytes[sizeof(struct kvm_msrs) + sizeof(struct kvm_msr_entry)];
        } m;
        memset(&m, 0, sizeof(m));
        m.msrs.nmsrs = 1;
        m.msrs.entries[0].index = boot_msrs[i].index;
        m.msrs.entries[0].data = boot_msrs[i].value;
        if (ioctl(vcpu->fd, KVM_SET_MSRS, &m) == 1)
            set++;
    }
    return set;
}

/* Virtual wire mode, as firmware leaves it: LINT0 takes the PIC's ExtINT, LINT1 is NMI. */
static int vcpu_lapic_setup(struct vcpu *vcpu, struct vessel_error **err)
{
    struct kvm_lapic_state lapic;
    if (ioctl(vcpu->fd, KVM_GET_LAPIC, &lapic) < 0)
        return vessel_error_set(err, errno, "KVM_GET_LAPIC on vCPU %u", vcpu->index);
    uint32_t lint0, lint1;
    memcpy(&lint0, &lapic.regs[APIC_LVT_LINT0], 4);
    memcpy(&lint1, &lapic.regs[APIC_LVT_LINT1], 4);
    lint0 = (lint0 & ~0x700u) | (APIC_MODE_EXTINT << 8);
    lint1 = (lint1 & ~0x700u) | (APIC_MODE_NMI << 8);
    memcpy(&lapic.regs[APIC_LVT_LINT0], &lint0, 4);
    memcpy(&lapic.regs[APIC_LVT_LINT1], &lint1, 4);
    if (ioctl(vcpu->fd, KVM_SET_LAPIC, &lapic) < 0)
        return vessel_error_set(err, errno, "KVM_SET_LAPIC on vCPU %u", vcpu->index);
    return 0;
}

int vcpu_setup_boot_state(struct vcpu *vcpu, struct vessel_error **err)
{
    struct vm *vm = vcpu->vm;
    (void)vcpu_msrs_set(vcpu);
    int r = vcpu_lapic_setup(vcpu, err);
    if (r < 0)
        return r;
    struct kvm_fpu fpu = {.fcw = 0x37f, .mxcsr = 0x1f80};
    if (ioctl(vcpu->fd, KVM_SET_FPU, &fpu) < 0)
        return vessel_error_set(err, errno, "KVM_SET_FPU on vCPU %u", vcpu->index);

    if (vcpu->index != 0) {
        /* Application processors wait for INIT/SIPI from the boot CPU. */
        struct kvm_mp_state mp = {.mp_state = KVM_MP_STATE_UNINITIALIZED};
        if (ioctl(vcpu->fd, KVM_SET_MP_STATE, &mp) < 0)
            return vessel_error_set(err, errno, "KVM_SET_MP_STATE on vCPU %u", vcpu->index);
        return 0;
    }

    uint64_t *gdt = vm_guest_ptr(vm, VM_GDT_ADDR, 8 * 8);
    uint64_t *idt = vm_guest_ptr(vm, VM_GDT_ADDR + 0x40, 8);
    if (gdt == NULL || idt == NULL)
        return vessel_error_set(err, EINVAL, "guest RAM too small for the boot GDT");
    const uint16_t code_flags = 0xa09b, data_flags = 0xc093, tss_flags = 0x808b;
    memset(gdt, 0, 8 * 8);
    gdt_entry_write(gdt, GDT_CODE_SEL >> 3, code_flags, 0, 0xfffff);
    gdt_entry_write(gdt, GDT_DATA_SEL >> 3, data_flags, 0, 0xfffff);
    gdt_entry_write(gdt, GDT_TSS_SEL >> 3, tss_flags, 0, 0xfffff);
    *idt = 0;
    r = page_tables_write(vm, err);
    if (r < 0)
        return r;

    struct kvm_sregs sregs;
    if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
        return vessel_error_set(err, errno, "KVM_GET_SREGS on vCPU %u", vcpu->index);
    sregs.gdt.base = VM_GDT_ADDR;
    sregs.gdt.limit = 8 * 8 - 1;
    sregs.idt.base = VM_GDT_ADDR + 0x40;
    sregs.idt.limit = 7;
    sregs.cs = segment_from_flags(GDT_CODE_SEL, code_flags);
    struct kvm_segment data = segment_from_flags(GDT_DATA_SEL, data_flags);
    sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
    sregs.tr = segment_from_flags(GDT_TSS_SEL, tss_flags);
    sregs.tr.s = 0;
    sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_PG;
    sregs.cr3 = VM_PML4_ADDR;
    sregs.cr4 = CR4_PAE;
    sregs.efer = EFER_LME | EFER_LMA;
    if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0)
        return vessel_error_set(err, errno, "KVM_SET_SREGS on vCPU %u", vcpu->index);

    struct kvm_regs regs = {
        .rflags = 0x2,  /* interrupts off, as the boot protocol requires */
        .rip = vm->entry,
        .rsp = VM_BOOT_STACK,
        .rbp = VM_BOOT_STACK,
        .rsi = VM_ZERO_PAGE_ADDR,
    };
    if (ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0)
        return vessel_error_set(err, errno, "KVM_SET_REGS on vCPU %u", vcpu->index);
    return 0;
}

/* A vCPU is "parked" when it cannot run again on its own: halted with interrupts
 * off, or an AP still waiting for INIT/SIPI. The VM ends (reason "hlt") when every
 * vCPU is parked at once; any real exit unparks. Only the vCPU's own thread writes
 * its flag, under vm->lock. */
static void vcpu_set_parked(struct vcpu *vcpu, bool parked, uint64_t rip)
{
    struct vm *vm = vcpu->vm;
    /* Only a change can complete "every vCPU parked": skip the lock on each watchdog tick. */
    if (vcpu->parked == parked)
        return;
    pthread_mutex_lock(&vm->lock);
    vcpu->parked = parked;
    if (parked)
        vm->nparked++;
    else
        vm->nparked--;
    bool all = vm->nparked == vm->nvcpus;
    pthread_mutex_unlock(&vm->lock);
    if (all)
        vm_stop_with(vm, VM_EXIT_HLT, 0, "every vCPU halted with interrupts disabled (vCPU %u at rip 0x%llx)",
                     vcpu->index, (unsigned long long)rip);
}

static bool vcpu_interrupts_off(struct vcpu *vcpu, uint64_t *rip)
{
    struct kvm_regs regs;
    if (ioctl(vcpu->fd, KVM_GET_REGS, &regs) < 0)
        return false;
    *rip = regs.rip;
    if (regs.rflags & RFLAGS_IF)
        return false;
    struct kvm_vcpu_events events;
    if (ioctl(vcpu->fd, KVM_GET_VCPU_EVENTS, &events) == 0 && (events.nmi.pending || events.nmi.injected))
        return false;
    return true;
}

/* After the halt watchdog interrupted KVM_RUN: with an in-kernel irqchip a HLT stays
 * in the kernel, so look at the vCPU's state instead. */
static void vcpu_idle_check(struct vcpu *vcpu)
{
    struct kvm_mp_state mp;
    uint64_t rip = 0;
    if (ioctl(vcpu->fd, KVM_GET_MP_STATE, &mp) < 0)
        return;
    bool dead = mp.mp_state == KVM_MP_STATE_UNINITIALIZED || mp.mp_state == KVM_MP_STATE_INIT_RECEIVED ||
                (mp.mp_state == KVM_MP_STATE_HALTED && vcpu_interrupts_off(vcpu, &rip));
    vcpu_set_parked(vcpu, dead, rip);
}

/* HLT reached user space (no in-kernel HLT handling): sleep in the kernel until an
 * interrupt arrives (if that is refused, re-entering just resumes after the HLT). */
static void vcpu_handle_hlt(struct vcpu *vcpu)
{
    uint64_t rip = 0;
    struct kvm_mp_state mp = {.mp_state = KVM_MP_STATE_HALTED};
    (void)ioctl(vcpu->fd, KVM_SET_MP_STATE, &mp);
    if (vcpu_interrupts_off(vcpu, &rip))
        vcpu_set_parked(vcpu, true, rip);
}

static void vcpu_handle_io(struct vcpu *vcpu)
{
    struct kvm_run *run = vcpu->run;
    uint32_t size = run->io.size;
    uint64_t count = run->io.count;
    uint64_t off = run->io.data_offset;
    if ((size != 1 && size != 2 && size != 4) || off > vcpu->run_size ||
        count > (vcpu->run_size - off) / size)
        return;
    uint8_t *data = (uint8_t *)run + off;
    for (uint64_t i = 0; i < count; i++, data += size)
        vm_handle_io(vcpu->vm, run->io.port, run->io.direction == KVM_EXIT_IO_OUT, data, size);
}

static const char *system_event_name(uint32_t type)
{
    switch (type) {
    case KVM_SYSTEM_EVENT_SHUTDOWN: return "shutdown";
    case KVM_SYSTEM_EVENT_RESET: return "reset";
    case KVM_SYSTEM_EVENT_CRASH: return "crash";
    default: return "other";
    }
}

/* Returns true when the vCPU thread should end. */
static bool vcpu_handle_exit(struct vcpu *vcpu)
{
    struct vm *vm = vcpu->vm;
    struct kvm_run *run = vcpu->run;
    switch (run->exit_reason) {
    case KVM_EXIT_IO:
        vcpu_handle_io(vcpu);
        return false;
    case KVM_EXIT_MMIO:
        if (run->mmio.len == 0 || run->mmio.len > 8)
            return false;
        vm_handle_mmio(vm, run->mmio.phys_addr, run->mmio.is_write, run->mmio.data, run->mmio.len);
        return false;
    case KVM_EXIT_HLT:
        vcpu_handle_hlt(vcpu);
        return false;
    case KVM_EXIT_INTR:
        return false;
    case KVM_EXIT_SHUTDOWN:
        vm_stop_with(vm, VM_EXIT_TRIPLE_FAULT, 0, "vCPU %u: triple fault (KVM_EXIT_SHUTDOWN)", vcpu->index);
        return true;
    case KVM_EXIT_SYSTEM_EVENT: {
        uint32_t type = run->system_event.type;
        enum vm_exit_reason reason = type == KVM_SYSTEM_EVENT_SHUTDOWN ? VM_EXIT_POWEROFF
                                     : type == KVM_SYSTEM_EVENT_RESET  ? VM_EXIT_RESET
                                                                       : VM_EXIT_CRASH;
        vm_stop_with(vm, reason, 0, "vCPU %u: system event %s (%u)", vcpu->index, system_event_name(type), type);
        return true;
    }
    case KVM_EXIT_FAIL_ENTRY:
        vm_stop_with(vm, VM_EXIT_FAIL_ENTRY, 0, "vCPU %u: VM entry failed, hardware reason 0x%llx on cpu %u",
                     vcpu->index, (unsigned long long)run->fail_entry.hardware_entry_failure_reason,
                     run->fail_entry.cpu);
        return true;
    case KVM_EXIT_INTERNAL_ERROR:
        vm_stop_with(vm, VM_EXIT_INTERNAL_ERROR, 0, "vCPU %u: KVM internal error, suberror %u%s", vcpu->index,
                     run->internal.suberror,
                     run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ? " (instruction emulation failed)" : "");
        return true;
    default:
        vm_stop_with(vm, VM_EXIT_CRASH, 0, "vCPU %u: unhandled KVM exit reason %u", vcpu->index, run->exit_reason);
        return true;
    }
}

static void *vcpu_thread(void *arg)
{
    struct vcpu *vcpu = arg;
    struct vm *vm = vcpu->vm;
    sigset_t kick;
    sigemptyset(&kick);
    sigaddset(&kick, VCPU_KICK_SIGNAL);
    (void)pthread_sigmask(SIG_UNBLOCK, &kick, NULL);

    while (!atomic_load(&vm->stopping)) {
        if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                /* Clear before re-checking `stopping`: a stop sets `stopping` first. */
                __atomic_store_n(&vcpu->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
                if (!atomic_load(&vm->stopping))
                    vcpu_idle_check(vcpu);
                continue;
            }
            vm_stop_with(vm, VM_EXIT_VMM_ERROR, 0, "KVM_RUN on vCPU %u: %s", vcpu->index, strerror(errno));
            break;
        }
        if (vcpu->parked && vcpu->run->exit_reason != KVM_EXIT_HLT)
            vcpu_set_parked(vcpu, false, 0);
        if (vcpu_handle_exit(vcpu))
            break;
    }
    return NULL;
}

int vcpu_start(struct vcpu *vcpu, struct vessel_error **err)
{
    char name[16];
    /* Block every signal in the new thread except the kick: signals meant for the
     * process (SIGTERM, SIGCHLD...) belong to the caller's thread. */
    sigset_t all, old;
    sigfillset(&all);
    (void)pthread_sigmask(SIG_BLOCK, &all, &old);
    int r = pthread_create(&vcpu->thread, NULL, vcpu_thread, vcpu);
    (void)pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (r != 0)
        return vessel_error_set(err, r, "starting the thread of vCPU %u", vcpu->index);
    vcpu->thread_started = true;
    snprintf(name, sizeof(name), "vcpu%u", vcpu->index);
    (void)pthread_setname_np(vcpu->thread, name);
    return 0;
}

void vcpu_poke(struct vcpu *vcpu)
{
    if (vcpu->thread_started)
        (void)pthread_kill(vcpu->thread, VCPU_KICK_SIGNAL);
}

void vcpu_kick(struct vcpu *vcpu)
{
    if (vcpu->run != NULL)
        __atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
    vcpu_poke(vcpu);
}

void vcpu_destroy(struct vcpu *vcpu)
{
    if (vcpu->thread_started) {
        vcpu_kick(vcpu);
        (void)pthread_join(vcpu->thread, NULL);
        vcpu->thread_started = false;
    }
    if (vcpu->run != NULL)
        (void)munmap(vcpu->run, vcpu->run_size);
    vcpu->run = NULL;
    if (vcpu->fd >= 0)
        (void)close(vcpu->fd);
    vcpu->fd = -1;
}
