/* Internals shared by the VMM core files (vm.c, vcpu.c, memory.c, cpuid.c, serial.c,
 * event_loop.c, boot*.c, acpi*.c); devices use only microvm/vm.h. */
#ifndef VESSEL_MICROVM_VM_INTERNAL_H
#define VESSEL_MICROVM_VM_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <linux/kvm.h>

#include "microvm/vm.h"

/* Guest-physical layout (below 1 MiB: boot structures; 0xe0000: ACPI tables). */
#define VM_GDT_ADDR 0x500ULL
#define VM_ZERO_PAGE_ADDR 0x7000ULL
#define VM_BOOT_STACK 0x8ff0ULL
#define VM_PML4_ADDR 0x9000ULL
#define VM_PDPT_ADDR 0xa000ULL
#define VM_PD_ADDR 0xb000ULL          /* 4 page directories: 0xb000..0xefff */
#define VM_SETUP_DATA_ADDR 0x10000ULL
#define VM_CMDLINE_ADDR 0x20000ULL
#define VM_CMDLINE_MAX 0x10000ULL
#define VM_EBDA_START 0x9fc00ULL
#define VM_ACPI_ADDR 0xe0000ULL       /* RSDP first, then the other tables, up to 0xfffff */
#define VM_ACPI_SIZE 0x20000ULL
#define VM_HIGH_MEMORY 0x100000ULL    /* kernels load at or above 1 MiB */
#define VM_MMIO_HOLE_START 0xc0000000ULL
#define VM_4G 0x100000000ULL
#define VM_IOAPIC_ADDR 0xfec00000ULL
#define VM_LAPIC_ADDR 0xfee00000ULL
#define VM_TSS_ADDR 0xfffbd000ULL
#define VM_IDENTITY_MAP_ADDR 0xfffbc000ULL
#define VM_SERIAL_IRQ 4

#define VM_MAX_MMIO_REGIONS 32

struct vm_mmio_region {
    uint64_t base, size;
    const struct vm_mmio_ops *ops;
    void *opaque;
};

struct vm_event_entry;  /* event_loop.c */

struct vcpu {
    struct vm *vm;
    uint32_t index;           /* also its APIC ID */
    int fd;
    struct kvm_run *run;
    size_t run_size;
    pthread_t thread;
    bool thread_started;
    bool parked;              /* halted with interrupts off (own thread writes it, under vm->lock) */
};

struct serial;                /* serial.c */

/* What the host's KVM can do beyond its supported-CPUID list (cpuid.c). */
struct cpuid_caps {
    bool tsc_deadline;        /* KVM_CAP_TSC_DEADLINE_TIMER */
};

struct vm {
    struct vm_config cfg;
    int kvm_fd, vm_fd;
    int kvm_run_size;
    /* guest RAM: one memfd mapping; [0, low_size) at gpa 0, the rest at gpa 4 GiB */
    int mem_fd;
    uint8_t *mem;
    uint64_t mem_size, low_size, high_size;

    struct vcpu *vcpus;
    uint32_t nvcpus;
    struct kvm_cpuid2 *supported_cpuid;
    struct cpuid_caps cpuid_caps;

    struct vm_mmio_region mmio[VM_MAX_MMIO_REGIONS];
    uint32_t nmmio;
    uint32_t nslots;          /* virtio-mmio slots handed out */

    int *owned_fds;           /* irqfds / ioeventfds, closed in vm_destroy */
    size_t nowned;

    /* boot */
    uint64_t entry;           /* 64-bit entry point (guest-physical) */
    uint64_t kernel_end;      /* first byte after the loaded kernel image (its init size) */
    uint64_t initrd_addr, initrd_size;
    bool is_bzimage;
    uint8_t bz_setup_header[0x290 - 0x1f1];  /* copied into the zero page (bzImage only) */
    uint32_t cmdline_limit;   /* longest command line (without NUL) the kernel accepts */
    bool has_pvh_note;

    struct serial *serial;

    /* event loop */
    int epoll_fd;
    int stop_fd;              /* eventfd: a stop was requested */
    struct vm_event_entry *events;
    pthread_mutex_t events_lock;

    /* run state */
    pthread_mutex_t lock;
    atomic_bool stopping;
    bool running;
    bool exit_set;
    struct vm_exit exit;
    uint32_t nparked;
};

/* memory.c */
int vm_memory_create(struct vm *vm, uint64_t bytes, struct vessel_error **err);
void vm_memory_destroy(struct vm *vm);
uint64_t vm_host_ram_bytes(void);

/* cpuid.c: the CPUID table of vCPU `index` of `count` built from KVM's supported set
 * (hypervisor bit, topology, host vendor/brand, TSC-deadline per caps); *out is the
 * caller's to free. cpuid_setup builds it for the host's KVM and sets it on the vCPU. */
int cpuid_table_build(const struct kvm_cpuid2 *supported, uint32_t index, uint32_t count,
                      const struct cpuid_caps *caps, struct kvm_cpuid2 **out, struct vessel_error **err);
int cpuid_setup(struct vm *vm, int vcpu_fd, uint32_t index, struct vessel_error **err);

/* vcpu.c */
int vcpu_create(struct vm *vm, struct vcpu *vcpu, uint32_t index, struct vessel_error **err);
int vcpu_setup_boot_state(struct vcpu *vcpu, struct vessel_error **err);
int vcpu_start(struct vcpu *vcpu, struct vessel_error **err);
void vcpu_kick(struct vcpu *vcpu);   /* make it leave KVM_RUN for good (stop) */
void vcpu_poke(struct vcpu *vcpu);   /* interrupt KVM_RUN once (halt watchdog) */
void vcpu_destroy(struct vcpu *vcpu);

/* vm.c: record how the VM ended (first caller wins) and wake the event loop. */
void vm_stop_with(struct vm *vm, enum vm_exit_reason reason, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Port I/O and MMIO dispatch from vCPU threads. */
void vm_handle_io(struct vm *vm, uint16_t port, bool is_write, void *data, uint32_t size);
void vm_handle_mmio(struct vm *vm, uint64_t addr, bool is_write, void *data, uint32_t len);

/* event_loop.c */
int event_loop_init(struct vm *vm, struct vessel_error **err);
/* Runs callbacks until a stop is requested. */
int event_loop_run(struct vm *vm, struct vessel_error **err);
void event_loop_destroy(struct vm *vm);

/* serial.c: a minimal 8250 on COM1; output to out_fd (-1: discarded). */
int serial_create(struct vm *vm, int out_fd, struct serial **out, struct vessel_error **err);
void serial_io(struct serial *s, uint16_t offset, bool is_write, uint8_t *data);
void serial_destroy(struct serial *s);

#endif
