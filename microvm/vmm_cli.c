/* `vessel vmm --kernel FILE ...`: parse flags, create the VM and its devices (console,
 * disks, rng, named console ports), run it, and map how it ended to an exit status. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "microvm/virtio.h"
#include "microvm/vmm_cli.h"

#define VMM_DEFAULT_MEMORY_MIB 256
#define VMM_MAX_PORT_NAME 64

struct vmm_disk {
    const char *path;
    bool readonly;
};

struct vmm_opts {
    struct vm_config cfg;
    const char *console;       /* "stdio", "none" or a file */
    const char *serial;        /* NULL (default), "stderr", "stdout", "none" or a file */
    const char *dump_acpi;
    struct vmm_disk disks[VM_VIRTIO_MAX_SLOTS];
    size_t ndisks;
    struct virtio_console_port ports[VIRTIO_CONSOLE_MAX_PORTS];
    size_t nports;
    bool rng, debug;
};

static void vmm_usage(FILE *out)
{
    fprintf(out,
            "usage: vessel vmm --kernel FILE [options]\n"
            "  --kernel FILE         ELF vmlinux (64-bit entry) or bzImage\n"
            "  --initrd FILE         initial ramdisk\n"
            "  --cmdline STRING      kernel command line\n"
            "  --memory MiB          guest RAM (default %d, at least %d)\n"
            "  --vcpus N             virtual CPUs (default 1, at most %d)\n"
            "  --disk FILE[,ro]      virtio-blk on a raw image (repeatable)\n"
            "  --console stdio|none|FILE  virtio-console port 0 (default stdio)\n"
            "  --port NAME=PATH|fd:N named console port, host end a unix socket (repeatable)\n"
            "  --rng                 virtio-rng\n"
            "  --serial stderr|stdout|none|FILE  8250 output (default: stderr with --debug, else none)\n"
            "  --debug               report exit reason, timing and memory overhead\n"
            "exit status: 0 power-off, 1 VMM error, 2 halted, 3 reset, 4 triple fault, 5 entry failure,\n"
            "             6 KVM internal error, 7 stopped by the host, 8 crash, or the code written to port 0x501\n",
            VMM_DEFAULT_MEMORY_MIB, VM_MIN_MEMORY_MIB, VM_MAX_VCPUS);
}

static int parse_u64(const char *flag, const char *s, uint64_t max, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (s[0] == '\0' || s[0] == '-' || *end != '\0' || errno != 0 || v > max) {
        log_error("%s: \"%s\" is not a number in range (at most %llu)", flag, s, (unsigned long long)max);
        return -1;
    }
    *out = v;
    return 0;
}

static int port_connect(const char *name, const char *path)
{
    if (strncmp(path, "fd:", 3) == 0) {
        uint64_t fd;
        if (parse_u64("--port", path + 3, INT_MAX, &fd) < 0)
            return -1;
        if (fcntl((int)fd, F_GETFD) < 0) {
            log_error("--port %s: fd %llu is not open", name, (unsigned long long)fd);
            return -1;
        }
        (void)fcntl((int)fd, F_SETFD, FD_CLOEXEC);
        return (int)fd;
    }
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(addr.sun_path)) {
        log_error("--port %s: socket path \"%s\" is too long", name, path);
        return -1;
    }
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        log_error("--port %s: connecting to \"%s\": %s", name, path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static int parse_port(struct vmm_opts *o, char *arg)
{
    char *eq = strchr(arg, '=');
    if (eq == NULL || eq == arg || eq[1] == '\0' || (size_t)(eq - arg) > VMM_MAX_PORT_NAME) {
        log_error("--port: expected NAME=PATH (name 1..%d characters), got \"%s\"", VMM_MAX_PORT_NAME, arg);
        return -1;
    }
    if (o->nports >= VIRTIO_CONSOLE_MAX_PORTS) {
        log_error("--port: at most %d named ports", VIRTIO_CONSOLE_MAX_PORTS);
        return -1;
    }
    *eq = '\0';
    for (size_t i = 0; i < o->nports; i++) {
        if (strcmp(o->ports[i].name, arg) == 0) {
            log_error("--port: port \"%s\" given twice", arg);
            return -1;
        }
    }
    int fd = port_connect(arg, eq + 1);
    if (fd < 0)
        return -1;
    o->ports[o->nports++] = (struct virtio_console_port){.name = arg, .fd = fd};
    return 0;
}

static int parse_disk(struct vmm_opts *o, char *arg)
{
    if (o->ndisks >= VM_VIRTIO_MAX_SLOTS - 2) {
        log_error("--disk: at most %d disks", VM_VIRTIO_MAX_SLOTS - 2);
        return -1;
    }
    bool ro = false;
    char *comma = strrchr(arg, ',');
    if (comma != NULL && (strcmp(comma, ",ro") == 0 || strcmp(comma, ",rw") == 0)) {
        ro = comma[1] == 'r' && comma[2] == 'o';
        *comma = '\0';
    }
    if (arg[0] == '\0') {
        log_error("--disk: missing file name");
        return -1;
    }
    o->disks[o->ndisks++] = (struct vmm_disk){.path = arg, .readonly = ro};
    return 0;
}

static int vmm_parse(struct vmm_opts *o, int argc, char **argv)
{
    enum { OPT_KERNEL = 1000, OPT_INITRD, OPT_CMDLINE, OPT_MEMORY, OPT_VCPUS, OPT_DISK, OPT_CONSOLE,
           OPT_PORT, OPT_RNG, OPT_SERIAL, OPT_DEBUG, OPT_DUMP_ACPI, OPT_HELP };
    static const struct option opts[] = {
        {"kernel", required_argument, NULL, OPT_KERNEL}, {"initrd", required_argument, NULL, OPT_INITRD},
        {"cmdline", required_argument, NULL, OPT_CMDLINE}, {"memory", required_argument, NULL, OPT_MEMORY},
        {"vcpus", required_argument, NULL, OPT_VCPUS}, {"disk", required_argument, NULL, OPT_DISK},
        {"console", required_argument, NULL, OPT_CONSOLE}, {"port", required_argument, NULL, OPT_PORT},
        {"rng", no_argument, NULL, OPT_RNG}, {"serial", required_argument, NULL, OPT_SERIAL},
        {"debug", no_argument, NULL, OPT_DEBUG}, {"dump-acpi", required_argument, NULL, OPT_DUMP_ACPI},
        {"help", no_argument, NULL, OPT_HELP}, {NULL, 0, NULL, 0},
    };
    uint64_t v;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_KERNEL: o->cfg.kernel_path = optarg; break;
        case OPT_INITRD: o->cfg.initrd_path = optarg; break;
        case OPT_CMDLINE: o->cfg.cmdline = optarg; break;
        case OPT_MEMORY:
            if (parse_u64("--memory", optarg, UINT64_MAX >> 20, &v) < 0)
                return -1;
            o->cfg.memory_mib = v;
            break;
        case OPT_VCPUS:
            if (parse_u64("--vcpus", optarg, UINT32_MAX, &v) < 0)
                return -1;
            o->cfg.vcpus = (uint32_t)v;
            break;
        case OPT_DISK:
            if (parse_disk(o, optarg) < 0)
                return -1;
            break;
        case OPT_CONSOLE: o->console = optarg; break;
        case OPT_PORT:
            if (parse_port(o, optarg) < 0)
                return -1;
            break;
        case OPT_RNG: o->rng = true; break;
        case OPT_SERIAL: o->serial = optarg; break;
        case OPT_DEBUG: o->debug = true; break;
        case OPT_DUMP_ACPI: o->dump_acpi = optarg; break;
        case 'h':
        case OPT_HELP: vmm_usage(stdout); exit(0);
        default: vmm_usage(stderr); return -1;
        }
    }
    if (optind < argc) {
        log_error("vmm: unexpected argument \"%s\"", argv[optind]);
        return -1;
    }
    if (o->cfg.kernel_path == NULL && o->dump_acpi == NULL) {
        log_error("vmm: --kernel is required");
        vmm_usage(stderr);
        return -1;
    }
    return 0;
}

/* Where an output flag points: stdio names or a file we create. -1 with errno on failure. */
static int output_open(const char *spec, int *fd, bool *owned)
{
    *owned = false;
    if (spec == NULL || strcmp(spec, "none") == 0) {
        *fd = -1;
        return 0;
    }
    if (strcmp(spec, "stdio") == 0 || strcmp(spec, "stdout") == 0) {
        *fd = STDOUT_FILENO;
        return 0;
    }
    if (strcmp(spec, "stderr") == 0) {
        *fd = STDERR_FILENO;
        return 0;
    }
    *fd = open(spec, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0644);
    *owned = *fd >= 0;
    return *fd < 0 ? -1 : 0;
}

static int vmm_devices_create(struct vm *vm, struct vmm_opts *o, int console_out, struct vessel_error **err)
{
    if (o->console == NULL || strcmp(o->console, "none") != 0 || o->nports > 0) {
        bool stdio = o->console == NULL || strcmp(o->console, "stdio") == 0;
        struct virtio_console_config cc = {
            .in_fd = stdio ? STDIN_FILENO : -1,
            .out_fd = console_out,
            .ports = o->ports,
            .nports = o->nports,
        };
        int r = virtio_console_create(vm, &cc, err);
        o->nports = 0;  /* the device owns the port fds now, even on failure */
        if (r < 0)
            return vessel_error_wrap(err, "virtio-console");
    }
    for (size_t i = 0; i < o->ndisks; i++) {
        int r = virtio_blk_create(vm, o->disks[i].path, o->disks[i].readonly, err);
        if (r < 0)
            return vessel_error_wrap(err, "virtio-blk \"%s\"", o->disks[i].path);
    }
    if (o->rng) {
        int r = virtio_rng_create(vm, err);
        if (r < 0)
            return vessel_error_wrap(err, "virtio-rng");
    }
    return 0;
}

int vmm_exit_status(const struct vm_exit *exit)
{
    switch (exit->reason) {
    case VM_EXIT_POWEROFF: return VMM_STATUS_POWEROFF;
    case VM_EXIT_EXIT_CODE: return exit->code & 0xff;
    case VM_EXIT_HLT: return VMM_STATUS_HLT;
    case VM_EXIT_RESET: return VMM_STATUS_RESET;
    case VM_EXIT_TRIPLE_FAULT: return VMM_STATUS_TRIPLE_FAULT;
    case VM_EXIT_FAIL_ENTRY: return VMM_STATUS_FAIL_ENTRY;
    case VM_EXIT_INTERNAL_ERROR: return VMM_STATUS_INTERNAL_ERROR;
    case VM_EXIT_STOP_REQUESTED: return VMM_STATUS_STOP_REQUESTED;
    case VM_EXIT_CRASH: return VMM_STATUS_CRASH;
    case VM_EXIT_VMM_ERROR: return VMM_STATUS_VMM_ERROR;
    }
    return VMM_STATUS_VMM_ERROR;
}

struct vmm_signals {
    struct vm *vm;
    int fd;
    int signo;
};

static void vmm_on_signal(void *opaque, uint32_t events)
{
    struct vmm_signals *s = opaque;
    struct signalfd_siginfo si;
    (void)events;
    if (read(s->fd, &si, sizeof(si)) == (ssize_t)sizeof(si) && s->signo == 0) {
        s->signo = (int)si.ssi_signo;
        vm_request_stop(s->vm, strsignal(s->signo));
    }
}

static long status_kib(const char *key)
{
    _cleanup_fclose_ FILE *f = fopen("/proc/self/status", "re");
    char line[256];
    size_t n = strlen(key);
    while (f != NULL && fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, key, n) == 0 && line[n] == ':')
            return strtol(line + n + 1, NULL, 10);
    return -1;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void vmm_report(const struct vm_exit *exit, struct vm *vm, double ms)
{
    long rss = status_kib("VmRSS"), hwm = status_kib("VmHWM");
    long guest = (long)(vm_guest_resident(vm) >> 10);
    fprintf(stderr, "vessel vmm: exit reason %s (%s), status %d\n", vm_exit_reason_name(exit->reason),
            exit->detail, vmm_exit_status(exit));
    fprintf(stderr, "vessel vmm: ran %.1f ms; RSS %ld KiB (peak %ld KiB), guest memory touched %ld KiB, "
            "VMM overhead %ld KiB\n", ms, rss, hwm, guest, rss - guest);
}

static void ports_close(struct vmm_opts *o)
{
    for (size_t i = 0; i < o->nports; i++)
        close(o->ports[i].fd);
    o->nports = 0;
}

int vmm_cli_main(bool debug, int argc, char **argv)
{
    double start = now_ms();
    struct vmm_opts o = {.cfg = {.memory_mib = VMM_DEFAULT_MEMORY_MIB, .vcpus = 1}};
    o.debug = debug;
    if (vmm_parse(&o, argc, argv) < 0) {
        ports_close(&o);
        return VMM_STATUS_VMM_ERROR;
    }
    int serial_fd = -1, console_fd = -1;
    bool serial_owned = false, console_owned = false;
    const char *serial = o.serial ? o.serial : (o.debug ? "stderr" : "none");
    const char *console = o.console ? o.console : "stdio";
    if (output_open(serial, &serial_fd, &serial_owned) < 0 || output_open(console, &console_fd, &console_owned) < 0) {
        log_error("vmm: opening output \"%s\": %s", serial_fd < 0 && o.serial ? serial : console, strerror(errno));
        ports_close(&o);
        return VMM_STATUS_VMM_ERROR;
    }
    o.cfg.serial_fd = serial_fd;

    struct vessel_error *err = NULL;
    struct vm *vm = NULL;
    int status = VMM_STATUS_VMM_ERROR;
    struct vmm_signals sigs = {.fd = -1};
    if (vm_create(&o.cfg, &vm, &err) < 0 || vmm_devices_create(vm, &o, console_fd, &err) < 0)
        goto out;
    if (o.dump_acpi != NULL) {
        if (vm_dump_acpi(vm, o.dump_acpi, &err) == 0)
            status = 0;
        goto out;
    }
    /* Ctrl-C and kill end the VM cleanly and exit with 128+signal. */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGHUP);
    sigs.vm = vm;
    sigs.fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sigs.fd >= 0) {
        /* Without it the default actions still end the process: not fatal. */
        struct vessel_error *sig_err = NULL;
        if (vm_event_add(vm, sigs.fd, EPOLLIN, vmm_on_signal, &sigs, &sig_err) == 0)
            (void)sigprocmask(SIG_BLOCK, &mask, NULL);
        vessel_error_free(sig_err);
    }

    struct vm_exit exit_info;
    if (vm_run(vm, &exit_info, &err) < 0)
        goto out;
    status = sigs.signo != 0 ? 128 + sigs.signo : vmm_exit_status(&exit_info);
    if (o.debug)
        vmm_report(&exit_info, vm, now_ms() - start);
    else if (exit_info.reason != VM_EXIT_POWEROFF && exit_info.reason != VM_EXIT_EXIT_CODE && sigs.signo == 0)
        log_error("vmm: guest ended: %s (%s)", vm_exit_reason_name(exit_info.reason), exit_info.detail);
out:
    if (err != NULL)
        log_error_object(err);
    vm_destroy(vm);
    ports_close(&o);
    if (sigs.fd >= 0)
        close(sigs.fd);
    if (serial_owned)
        close(serial_fd);
    if (console_owned)
        close(console_fd);
    return status;
}
