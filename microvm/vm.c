/* The VM object: KVM set-up (irqchip, PIT, memory, vCPUs), the device-facing
 * interface (MMIO regions, virtio slots, irqfd/ioeventfd), port I/O of the
 * platform (serial, ACPI sleep/reset registers, debug exit port), run and stop. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "microvm/acpi.h"
#include "microvm/boot.h"
#include "microvm/vm_internal.h"

#define PORT_I8042_COMMAND 0x64
#define I8042_CMD_RESET 0xfe
#define PORT_PCI_RESET 0xcf9
#define PORT_RTC_INDEX 0x70
#define PORT_RTC_DATA 0x71
#define PORT_PCI_CONFIG_FIRST 0xcf8
#define PORT_PCI_CONFIG_LAST 0xcff

const char *vm_exit_reason_name(enum vm_exit_reason reason)
{
    switch (reason) {
    case VM_EXIT_POWEROFF: return "poweroff";
    case VM_EXIT_EXIT_CODE: return "exit-code";
    case VM_EXIT_HLT: return "hlt";
    case VM_EXIT_RESET: return "reset";
    case VM_EXIT_TRIPLE_FAULT: return "triple-fault";
    case VM_EXIT_FAIL_ENTRY: return "fail-entry";
    case VM_EXIT_INTERNAL_ERROR: return "internal-error";
    case VM_EXIT_STOP_REQUESTED: return "stop-requested";
    case VM_EXIT_CRASH: return "crash";
    case VM_EXIT_VMM_ERROR: return "vmm-error";
    }
    return "unknown";
}

void vm_stop_with(struct vm *vm, enum vm_exit_reason reason, int code, const char *fmt, ...)
{
    pthread_mutex_lock(&vm->lock);
    if (!vm->exit_set) {
        vm->exit_set = true;
        vm->exit.reason = reason;
        vm->exit.code = code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(vm->exit.detail, sizeof(vm->exit.detail), fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&vm->lock);
    atomic_store(&vm->stopping, true);
    uint64_t one = 1;
    if (vm->stop_fd >= 0)
        (void)!write(vm->stop_fd, &one, sizeof(one));
}

void vm_request_stop(struct vm *vm, const char *reason)
{
    vm_stop_with(vm, VM_EXIT_STOP_REQUESTED, 0, "%s", reason ? reason : "stop requested");
}

static uint32_t io_value(const void *data, uint32_t size)
{
    const uint8_t *p = data;
    uint32_t v = 0;
    for (uint32_t i = 0; i < size && i < 4; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static void io_write_platform(struct vm *vm, uint16_t port, uint32_t v, uint32_t size)
{
    switch (port) {
    case VM_PORT_EXIT_CODE:
        vm_stop_with(vm, VM_EXIT_EXIT_CODE, (int)(v & 0xff), "guest wrote exit code %u to port 0x%x", v & 0xff, port);
        break;
    case VM_PORT_SLEEP_CONTROL:
        /* Hardware-reduced sleep control: SLP_EN bit 5, SLP_TYP bits 2-4. A 16-bit
         * PM1-style write (SLP_EN bit 13, SLP_TYP bits 10-12) is accepted too. */
        if ((size == 1 && (v & 0x20) && ((v >> 2) & 7) == VM_ACPI_SLP_TYP_S5) ||
            (size >= 2 && (v & 0x2000) && ((v >> 10) & 7) == VM_ACPI_SLP_TYP_S5))
            vm_stop_with(vm, VM_EXIT_POWEROFF, 0, "guest entered ACPI S5 (power off)");
        break;
    case VM_PORT_RESET:
        if ((v & 0xff) == 1)
            vm_stop_with(vm, VM_EXIT_RESET, 0, "guest wrote the ACPI reset register");
        break;
    case PORT_I8042_COMMAND:
        if ((v & 0xff) == I8042_CMD_RESET)
            vm_stop_with(vm, VM_EXIT_RESET, 0, "guest pulsed the i8042 reset line");
        break;
    case PORT_PCI_RESET:
        if (v & 0x04)
            vm_stop_with(vm, VM_EXIT_RESET, 0, "guest wrote the 0xcf9 reset register");
        break;
    default:
        break;  /* POST codes, PIC/PIT leftovers, PCI config probes: ignored */
    }
}

void vm_handle_io(struct vm *vm, uint16_t port, bool is_write, void *data, uint32_t size)
{
    if (port >= VM_PORT_SERIAL_COM1 && port < VM_PORT_SERIAL_COM1 + 8) {
        uint8_t *p = data;
        if (vm->serial != NULL)
            serial_io(vm->serial, (uint16_t)(port - VM_PORT_SERIAL_COM1), is_write, p);
        else if (!is_write)
            memset(data, 0xff, size);
        return;
    }
    if (is_write) {
        io_write_platform(vm, port, io_value(data, size), size);
        return;
    }
    switch (port) {
    case VM_PORT_SLEEP_CONTROL:
    case VM_PORT_SLEEP_STATUS:
    case PORT_RTC_DATA:
        memset(data, 0, size);  /* RTC reads as 0 so a probing guest never waits on "update in progress" */
        return;
    default:
        memset(data, 0xff, size);  /* nothing there (including PCI config space) */
    }
}

void vm_handle_mmio(struct vm *vm, uint64_t addr, bool is_write, void *data, uint32_t len)
{
    for (uint32_t i = 0; i < vm->nmmio; i++) {
        const struct vm_mmio_region *r = &vm->mmio[i];
        if (addr < r->base || addr - r->base >= r->size)
            continue;
        uint64_t off = addr - r->base;
        if (len > r->size - off)
            break;  /* straddles the end of the region */
        if (is_write) {
            if (r->ops->write != NULL)
                r->ops->write(r->opaque, off, data, len);
        } else if (r->ops->read != NULL) {
            r->ops->read(r->opaque, off, data, len);
        } else {
            memset(data, 0xff, len);
        }
        return;
    }
    if (!is_write)
        memset(data, 0xff, len);
}

int vm_mmio_register(struct vm *vm, uint64_t base, uint64_t size, const struct vm_mmio_ops *ops, void *opaque,
                     struct vessel_error **err)
{
    if (vm->running)
        return vessel_error_set(err, EBUSY, "registering MMIO at 0x%llx: the VM is already running",
                                (unsigned long long)base);
    if (ops == NULL || size == 0 || base + size < base)
        return vessel_error_set(err, EINVAL, "registering MMIO at 0x%llx: bad region", (unsigned long long)base);
    if (vm->nmmio >= VM_MAX_MMIO_REGIONS)
        return vessel_error_set(err, ENOSPC, "registering MMIO at 0x%llx: too many regions", (unsigned long long)base);
    for (uint32_t i = 0; i < vm->nmmio; i++) {
        const struct vm_mmio_region *r = &vm->mmio[i];
        if (base < r->base + r->size && r->base < base + size)
            return vessel_error_set(err, EEXIST, "registering MMIO at 0x%llx: overlaps another device",
                                    (unsigned long long)base);
    }
    vm->mmio[vm->nmmio++] = (struct vm_mmio_region){.base = base, .size = size, .ops = ops, .opaque = opaque};
    return 0;
}

int vm_virtio_slot_alloc(struct vm *vm, uint64_t *base, uint32_t *gsi, struct vessel_error **err)
{
    if (vm->running)
        return vessel_error_set(err, EBUSY, "allocating a virtio-mmio slot: the VM is already running");
    if (vm->nslots >= VM_VIRTIO_MAX_SLOTS)
        return vessel_error_set(err, ENOSPC, "allocating a virtio-mmio slot: all %d are in use", VM_VIRTIO_MAX_SLOTS);
    *base = VM_VIRTIO_MMIO_BASE + vm->nslots * VM_VIRTIO_MMIO_STRIDE;
    *gsi = VM_VIRTIO_FIRST_GSI + vm->nslots;
    vm->nslots++;
    return 0;
}

static int vm_fd_own(struct vm *vm, int fd, struct vessel_error **err)
{
    int *fds = realloc(vm->owned_fds, (vm->nowned + 1) * sizeof(int));
    if (fds == NULL)
        return vessel_error_set(err, ENOMEM, "tracking an eventfd");
    vm->owned_fds = fds;
    fds[vm->nowned++] = fd;
    return 0;
}

int vm_irqfd_create(struct vm *vm, uint32_t gsi, int *efd, struct vessel_error **err)
{
    _cleanup_close_ int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0)
        return vessel_error_set(err, errno, "eventfd for GSI %u", gsi);
    struct kvm_irqfd irqfd = {.fd = (uint32_t)fd, .gsi = gsi};
    if (ioctl(vm->vm_fd, KVM_IRQFD, &irqfd) < 0)
        return vessel_error_set(err, errno, "KVM_IRQFD for GSI %u", gsi);
    int r = vm_fd_own(vm, fd, err);
    if (r < 0)
        return r;
    *efd = steal_fd(&fd);
    return 0;
}

int vm_ioeventfd_create(struct vm *vm, uint64_t addr, uint32_t datamatch, int *efd, struct vessel_error **err)
{
    _cleanup_close_ int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0)
        return vessel_error_set(err, errno, "eventfd for MMIO 0x%llx", (unsigned long long)addr);
    struct kvm_ioeventfd io = {
        .datamatch = datamatch,
        .addr = addr,
        .len = 4,
        .fd = fd,
        .flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
    };
    if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) < 0)
        return vessel_error_set(err, errno, "KVM_IOEVENTFD at 0x%llx", (unsigned long long)addr);
    int r = vm_fd_own(vm, fd, err);
    if (r < 0)
        return r;
    *efd = steal_fd(&fd);
    return 0;
}

static uint32_t kvm_max_vcpus(int kvm_fd)
{
    int n = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
    if (n <= 0)
        n = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
    if (n <= 0)
        n = 4;
    return n > VM_MAX_VCPUS ? VM_MAX_VCPUS : (uint32_t)n;
}

static int vm_kvm_open(struct vm *vm, struct vessel_error **err)
{
    vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (vm->kvm_fd < 0)
        return vessel_error_set(err, errno, "opening /dev/kvm");
    int api = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
    if (api != KVM_API_VERSION)
        return vessel_error_set(err, ENOTSUP, "/dev/kvm speaks API version %d, not %d", api, KVM_API_VERSION);
    uint32_t max = kvm_max_vcpus(vm->kvm_fd);
    if (vm->cfg.vcpus > max)
        return vessel_error_set(err, EINVAL, "%u vCPUs requested; this host allows 1..%u", vm->cfg.vcpus, max);
    vm->kvm_run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (vm->kvm_run_size < (int)sizeof(struct kvm_run))
        return vessel_error_set(err, errno, "KVM_GET_VCPU_MMAP_SIZE");
    int type = 0;
    do
        vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, type);
    while (vm->vm_fd < 0 && errno == EINTR);
    if (vm->vm_fd < 0)
        return vessel_error_set(err, errno, "KVM_CREATE_VM");
    if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)VM_TSS_ADDR) < 0)
        return vessel_error_set(err, errno, "KVM_SET_TSS_ADDR");
    uint64_t identity = VM_IDENTITY_MAP_ADDR;
    (void)ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &identity);  /* Intel without unrestricted guest only */
    if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
        return vessel_error_set(err, errno, "KVM_CREATE_IRQCHIP");
    /* The speaker port 0x61 stays in the kernel: PIT calibration loops poll it. */
    struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};
    if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
        return vessel_error_set(err, errno, "KVM_CREATE_PIT2");
    return 0;
}

static int vm_config_check(const struct vm_config *cfg, struct vessel_error **err)
{
    uint64_t host = vm_host_ram_bytes() >> 20;
    if (cfg->memory_mib < VM_MIN_MEMORY_MIB || (host > 0 && cfg->memory_mib > host))
        return vessel_error_set(err, EINVAL, "guest memory of %llu MiB is out of range (%d..%llu MiB)",
                                (unsigned long long)cfg->memory_mib, VM_MIN_MEMORY_MIB, (unsigned long long)host);
    if (cfg->vcpus < 1 || cfg->vcpus > VM_MAX_VCPUS)
        return vessel_error_set(err, EINVAL, "%u vCPUs requested; allowed 1..%d", cfg->vcpus, VM_MAX_VCPUS);
    return 0;
}

int vm_create(const struct vm_config *cfg, struct vm **out, struct vessel_error **err)
{
    int r = vm_config_check(cfg, err);
    if (r < 0)
        return r;
    struct vm *vm = calloc(1, sizeof(*vm));
    if (vm == NULL)
        return vessel_error_set(err, ENOMEM, "allocating the VM");
    vm->cfg = *cfg;
    vm->kvm_fd = vm->vm_fd = vm->mem_fd = vm->epoll_fd = vm->stop_fd = -1;
    pthread_mutex_init(&vm->lock, NULL);
    pthread_mutex_init(&vm->events_lock, NULL);
    vm->nvcpus = cfg->vcpus;

    r = event_loop_init(vm, err);
    if (r == 0)
        r = vm_kvm_open(vm, err);
    if (r == 0)
        r = vm_memory_create(vm, cfg->memory_mib << 20, err);
    if (r == 0) {
        vm->vcpus = calloc(vm->nvcpus, sizeof(*vm->vcpus));
        if (vm->vcpus == NULL)
            r = vessel_error_set(err, ENOMEM, "allocating vCPUs");
        for (uint32_t i = 0; vm->vcpus != NULL && i < vm->nvcpus; i++)
            vm->vcpus[i].fd = -1;
        for (uint32_t i = 0; r == 0 && i < vm->nvcpus; i++)
            r = vcpu_create(vm, &vm->vcpus[i], i, err);
    }
    if (r == 0 && cfg->kernel_path != NULL) {
        r = boot_kernel_load(vm, cfg->kernel_path, err);
        if (r == 0 && cfg->initrd_path != NULL)
            r = boot_initrd_load(vm, cfg->initrd_path, err);
        if (r == 0)
            r = boot_cmdline_check(vm, cfg->cmdline, err);
    }
    if (r == 0)
        r = serial_create(vm, cfg->serial_fd, &vm->serial, err);
    if (r < 0) {
        vm_destroy(vm);
        return r;
    }
    *out = vm;
    return 0;
}

static int vm_acpi_install(struct vm *vm, struct vessel_error **err)
{
    uint8_t *dst = vm_guest_ptr(vm, VM_ACPI_ADDR, VM_ACPI_SIZE);
    if (dst == NULL)
        return vessel_error_set(err, EINVAL, "guest RAM too small for the ACPI tables");
    struct acpi_config cfg = {.ncpus = vm->nvcpus, .nslots = vm->nslots};
    struct acpi_layout layout;
    return acpi_build(&cfg, VM_ACPI_ADDR, dst, VM_ACPI_SIZE, &layout, err);
}

int vm_dump_acpi(struct vm *vm, const char *dir, struct vessel_error **err)
{
    _cleanup_free_ uint8_t *buf = malloc(VM_ACPI_SIZE);
    if (buf == NULL)
        return vessel_error_set(err, ENOMEM, "allocating the ACPI tables");
    struct acpi_config cfg = {.ncpus = vm->nvcpus, .nslots = vm->nslots};
    struct acpi_layout layout;
    int r = acpi_build(&cfg, VM_ACPI_ADDR, buf, VM_ACPI_SIZE, &layout, err);
    if (r < 0)
        return r;
    r = mkdir_p(dir, 0755, err);
    if (r < 0)
        return r;
    for (int i = 0; i < ACPI_NTABLES; i++) {
        char path[4096];
        const struct acpi_table_ref *t = &layout.tables[i];
        /* iasl reads every table but the RSDP (it has no standard header): .bin for that one. */
        const char *ext = i == ACPI_RSDP ? "bin" : "dat";
        if ((size_t)snprintf(path, sizeof(path), "%s/%s.%s", dir, t->name, ext) >= sizeof(path))
            return vessel_error_set(err, ENAMETOOLONG, "ACPI dump directory \"%s\"", dir);
        r = write_file_at(AT_FDCWD, path, buf + t->offset, t->len, 0644, err);
        if (r < 0)
            return r;
    }
    return 0;
}

#define HALT_WATCHDOG_NS 200000000L

static void halt_watchdog_close(void *p);

struct halt_watchdog {
    struct vm *vm;
    int fd;
};

/* Interrupt every running vCPU now and then so a vCPU halted with interrupts off
 * (HLT stays in the kernel with an in-kernel irqchip) is noticed. */
static void halt_watchdog_fire(void *opaque, uint32_t events)
{
    struct halt_watchdog *w = opaque;
    uint64_t ticks;
    (void)events;
    if (read(w->fd, &ticks, sizeof(ticks)) != (ssize_t)sizeof(ticks))
        return;
    /* Parked ones too: an AP parked while waiting for SIPI may be running by now. */
    for (uint32_t i = 0; i < w->vm->nvcpus; i++)
        vcpu_poke(&w->vm->vcpus[i]);
}

static void halt_watchdog_close(void *p)
{
    struct halt_watchdog *w = p;
    if (w->fd >= 0) {
        (void)vm_event_del(w->vm, w->fd);
        (void)close(w->fd);
    }
}

static int halt_watchdog_start(struct vm *vm, struct halt_watchdog *w, struct vessel_error **err)
{
    w->vm = vm;
    w->fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (w->fd < 0)
        return vessel_error_set(err, errno, "timerfd_create");
    struct itimerspec its = {.it_interval = {0, HALT_WATCHDOG_NS}, .it_value = {0, HALT_WATCHDOG_NS}};
    if (timerfd_settime(w->fd, 0, &its, NULL) < 0)
        return vessel_error_set(err, errno, "timerfd_settime");
    return vm_event_add(vm, w->fd, EPOLLIN, halt_watchdog_fire, w, err);
}

/* Where the boot CPU was when an abnormal end happened: the first clue for a hang. */
static void vm_exit_add_cpu_state(struct vm *vm, struct vm_exit *exit)
{
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    if (ioctl(vm->vcpus[0].fd, KVM_GET_REGS, &regs) < 0 || ioctl(vm->vcpus[0].fd, KVM_GET_SREGS, &sregs) < 0)
        return;
    size_t n = strlen(exit->detail);
    snprintf(exit->detail + n, sizeof(exit->detail) - n, "; vCPU 0 at rip 0x%llx rsp 0x%llx cr0 0x%llx cr3 0x%llx",
             (unsigned long long)regs.rip, (unsigned long long)regs.rsp, (unsigned long long)sregs.cr0,
             (unsigned long long)sregs.cr3);
}

int vm_run(struct vm *vm, struct vm_exit *exit, struct vessel_error **err)
{
    struct halt_watchdog watchdog __attribute__((cleanup(halt_watchdog_close))) = {.fd = -1};
    if (vm->running || vm->cfg.kernel_path == NULL)
        return vessel_error_set(err, EINVAL, "running the VM: %s", vm->running ? "already running" : "no kernel");
    int r = vm_acpi_install(vm, err);
    if (r == 0)
        r = boot_params_write(vm, vm->cfg.cmdline, VM_ACPI_ADDR, err);
    for (uint32_t i = 0; r == 0 && i < vm->nvcpus; i++)
        r = vcpu_setup_boot_state(&vm->vcpus[i], err);
    if (r == 0)
        r = halt_watchdog_start(vm, &watchdog, err);
    if (r < 0)
        return r;
    vm->running = true;
    for (uint32_t i = 0; r == 0 && i < vm->nvcpus; i++)
        r = vcpu_start(&vm->vcpus[i], err);
    if (r < 0) {
        vm_stop_with(vm, VM_EXIT_VMM_ERROR, 0, "starting vCPUs");
    } else {
        struct vessel_error *loop_err = NULL;
        if (event_loop_run(vm, &loop_err) < 0) {
            vm_stop_with(vm, VM_EXIT_VMM_ERROR, 0, "%s", loop_err->msg);
            vessel_error_free(loop_err);
        }
    }
    atomic_store(&vm->stopping, true);
    for (uint32_t i = 0; i < vm->nvcpus; i++)
        vcpu_kick(&vm->vcpus[i]);
    for (uint32_t i = 0; i < vm->nvcpus; i++) {
        if (vm->vcpus[i].thread_started) {
            (void)pthread_join(vm->vcpus[i].thread, NULL);
            vm->vcpus[i].thread_started = false;
        }
    }
    if (r < 0)
        return r;
    pthread_mutex_lock(&vm->lock);
    *exit = vm->exit;
    pthread_mutex_unlock(&vm->lock);
    if (exit->reason != VM_EXIT_POWEROFF && exit->reason != VM_EXIT_EXIT_CODE)
        vm_exit_add_cpu_state(vm, exit);
    return 0;
}

void vm_destroy(struct vm *vm)
{
    if (vm == NULL)
        return;
    if (vm->vcpus != NULL) {
        atomic_store(&vm->stopping, true);
        for (uint32_t i = 0; i < vm->nvcpus; i++)
            vcpu_destroy(&vm->vcpus[i]);
        free(vm->vcpus);
    }
    serial_destroy(vm->serial);
    for (size_t i = 0; i < vm->nowned; i++)
        (void)close(vm->owned_fds[i]);
    free(vm->owned_fds);
    event_loop_destroy(vm);
    vm_memory_destroy(vm);
    if (vm->vm_fd >= 0)
        (void)close(vm->vm_fd);
    if (vm->kvm_fd >= 0)
        (void)close(vm->kvm_fd);
    free(vm->supported_cpuid);
    pthread_mutex_destroy(&vm->lock);
    pthread_mutex_destroy(&vm->events_lock);
    free(vm);
}
