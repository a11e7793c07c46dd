/* The builtin KVM VMM: one VM (guest RAM, vCPU threads, in-kernel irqchip, event
 * loop) that boots an ELF vmlinux or a bzImage, and the interface devices use. */
#ifndef VESSEL_MICROVM_VM_H
#define VESSEL_MICROVM_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

struct vm;  /* opaque */

/* Fixed guest I/O ports the VMM traps (documented in man/vessel-vmm.8). */
#define VM_PORT_SERIAL_COM1 0x3f8    /* 8250 UART (only with --debug or a serial sink) */
#define VM_PORT_SLEEP_CONTROL 0x600  /* FADT sleep control register: write SLP_EN (0x20) |
                                      * SLP_TYP << 2 with SLP_TYP 5 (from \_S5) to power off */
#define VM_PORT_SLEEP_STATUS 0x601   /* FADT sleep status register (reads 0) */
#define VM_PORT_RESET 0x604          /* FADT reset register: write 1 to reset */
#define VM_PORT_EXIT_CODE 0x501      /* debug exit: a write of N ends the VM with exit code N & 0xff */
#define VM_ACPI_SLP_TYP_S5 5

/* Virtio-mmio windows and their interrupts. */
#define VM_VIRTIO_MMIO_BASE 0xd0000000ULL
#define VM_VIRTIO_MMIO_STRIDE 0x1000ULL
#define VM_VIRTIO_MMIO_SIZE 0x200ULL
#define VM_VIRTIO_FIRST_GSI 5
#define VM_VIRTIO_MAX_SLOTS 16

/* Limits. */
#define VM_MIN_MEMORY_MIB 16
#define VM_MAX_VCPUS 64

/* ---- Interface for devices (shared with microvm/virtio*.c) ---- */

/* Guest memory: a pointer to guest-physical [gpa, gpa+len) only when the whole range
 * (len >= 1) lies inside guest RAM (overflow-safe); NULL otherwise. Devices must use it
 * for every guest-supplied address. */
void *vm_guest_ptr(struct vm *vm, uint64_t gpa, uint64_t len);
uint64_t vm_ram_size(const struct vm *vm);

/* MMIO dispatch: vCPU threads call read/write for accesses inside [base, base+size);
 * len is 1,2,4 or 8; data little-endian. Handlers run on vCPU threads; a device
 * protects its own state with its own mutex. */
struct vm_mmio_ops {
    void (*read)(void *opaque, uint64_t offset, void *data, uint32_t len);
    void (*write)(void *opaque, uint64_t offset, const void *data, uint32_t len);
};
int vm_mmio_register(struct vm *vm, uint64_t base, uint64_t size, const struct vm_mmio_ops *ops,
                     void *opaque, struct vessel_error **err);

/* A virtio-mmio slot: the next free 0x1000-byte window at 0xd0000000 + i*0x1000 and its
 * GSI (5, 6, 7, ...; edge-triggered, active high). The ACPI DSDT (built by vm_run) lists
 * one LNRO0005 device per allocated slot with Memory32Fixed(base, 0x200) and its Interrupt. */
int vm_virtio_slot_alloc(struct vm *vm, uint64_t *base, uint32_t *gsi, struct vessel_error **err);

/* Interrupts: an eventfd wired with KVM_IRQFD to gsi (write 1 to it to raise an edge).
 * The VM owns the eventfd and closes it in vm_destroy. */
int vm_irqfd_create(struct vm *vm, uint32_t gsi, int *efd, struct vessel_error **err);

/* Optional fast notify path: an eventfd wired with KVM_IOEVENTFD to a 4-byte MMIO write of
 * `datamatch` at addr (used for QueueNotify). May fail on some hosts: devices then fall back
 * to the MMIO write handler. The VM owns the eventfd and closes it in vm_destroy. */
int vm_ioeventfd_create(struct vm *vm, uint64_t addr, uint32_t datamatch, int *efd,
                        struct vessel_error **err);

/* Event loop (epoll, one thread, started by vm_run): callback runs on the loop thread.
 * May be called before vm_run or from any thread while it runs. */
typedef void (*vm_event_fn)(void *opaque, uint32_t events);
int vm_event_add(struct vm *vm, int fd, uint32_t events, vm_event_fn fn, void *opaque,
                 struct vessel_error **err);
int vm_event_del(struct vm *vm, int fd);

/* Ask the VM to stop (e.g. a device finds the host side closed); reason text is reported
 * as the exit reason. Thread-safe; the first request wins. */
void vm_request_stop(struct vm *vm, const char *reason);

/* ---- Life cycle (for runtime/ and the `vessel vmm` command) ---- */

struct vm_config {
    const char *kernel_path;   /* ELF vmlinux (64-bit entry / PVH note) or bzImage */
    const char *initrd_path;   /* NULL: none */
    const char *cmdline;       /* NULL: empty */
    uint64_t memory_mib;       /* VM_MIN_MEMORY_MIB .. host RAM */
    uint32_t vcpus;            /* 1 .. min(KVM_CAP_MAX_VCPUS, VM_MAX_VCPUS) */
    int serial_fd;             /* -1: no 8250 output (reads/writes still trapped); else output
                                * of COM1 goes there (not owned by the VM) */
};

/* How the guest ended; each has its own `vessel vmm` exit status. */
enum vm_exit_reason {
    VM_EXIT_POWEROFF = 0,      /* ACPI S5 via the sleep control register, or SYSTEM_EVENT shutdown */
    VM_EXIT_EXIT_CODE,         /* the guest wrote a code to VM_PORT_EXIT_CODE */
    VM_EXIT_HLT,               /* HLT with interrupts disabled / nothing pending (halted forever) */
    VM_EXIT_RESET,             /* i8042 0xfe to port 0x64, ACPI reset register, SYSTEM_EVENT reset */
    VM_EXIT_TRIPLE_FAULT,      /* KVM_EXIT_SHUTDOWN */
    VM_EXIT_FAIL_ENTRY,        /* KVM_EXIT_FAIL_ENTRY */
    VM_EXIT_INTERNAL_ERROR,    /* KVM_EXIT_INTERNAL_ERROR (e.g. emulation failure) */
    VM_EXIT_STOP_REQUESTED,    /* vm_request_stop() */
    VM_EXIT_CRASH,             /* SYSTEM_EVENT crash or an exit reason the VMM does not handle */
    VM_EXIT_VMM_ERROR,         /* the VMM itself failed (KVM_RUN error, ...) */
};

struct vm_exit {
    enum vm_exit_reason reason;
    int code;                  /* VM_EXIT_EXIT_CODE: the value written (0..255) */
    char detail[256];          /* human-readable detail (stop reason, KVM error codes, ...) */
};

/* Short stable name of a reason ("poweroff", "exit-code", "hlt", "reset", "triple-fault",
 * "fail-entry", "internal-error", "stop-requested", "crash", "vmm-error"). */
const char *vm_exit_reason_name(enum vm_exit_reason reason);

/* Create the VM: open /dev/kvm, guest RAM (memfd), irqchip, PIT, vCPUs, and load the kernel
 * (and initrd). Devices are created after this and before vm_run. */
int vm_create(const struct vm_config *cfg, struct vm **out, struct vessel_error **err);

/* Build the ACPI tables and boot parameters, start the vCPU threads and the event loop,
 * and wait until the guest ends. Returns 0 with *exit filled, or a negative error. */
int vm_run(struct vm *vm, struct vm_exit *exit, struct vessel_error **err);

/* Write the ACPI tables the VM would give its guest as DIR/XSDT.dat, FACP.dat, APIC.dat,
 * DSDT.dat (for `iasl -d`) and DIR/RSDP.bin. Valid after vm_create and device creation. */
int vm_dump_acpi(struct vm *vm, const char *dir, struct vessel_error **err);

/* Bytes of guest RAM the guest has touched (resident pages of the memfd). */
uint64_t vm_guest_resident(struct vm *vm);

void vm_destroy(struct vm *vm);

#endif
