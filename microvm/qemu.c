/* qemu-system-x86_64 -M microvm as a VM backend (microvm/qemu.h). */
#include "microvm/qemu.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "common/cleanup.h"

#define QEMU_MAX_ARGS 128

struct argv_builder {
    char **v;
    size_t n;
    bool failed;
};

static void add(struct argv_builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct argv_builder *b, const char *fmt, ...)
{
    if (b->failed)
        return;
    if (b->n + 1 >= QEMU_MAX_ARGS) {
        b->failed = true;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&b->v[b->n], fmt, ap) < 0)
        b->failed = true;
    else
        b->n++;
    va_end(ap);
}

/* QEMU option values separate by commas; a path holding one must double it. */
static int escape_commas(const char *s, char **out)
{
    size_t extra = 0;
    for (const char *p = s; *p; p++)
        extra += *p == ',';
    char *o = malloc(strlen(s) + extra + 1);
    if (o == NULL)
        return -ENOMEM;
    char *q = o;
    for (const char *p = s; *p; p++) {
        *q++ = *p;
        if (*p == ',')
            *q++ = ',';
    }
    *q = '\0';
    *out = o;
    return 0;
}

int qemu_build_argv(const struct qemu_config *c, char ***argv, struct vessel_error **err)
{
    if (c->extra_len > QEMU_MAX_ARGS / 2)
        return vessel_error_set(err, E2BIG, "vm.hypervisor.parameters: more than %d", QEMU_MAX_ARGS / 2);
    _cleanup_free_ char *disk = NULL;
    if (escape_commas(c->disk, &disk) < 0)
        return vessel_error_set(err, ENOMEM, "qemu arguments");
    struct argv_builder b = {.v = calloc(QEMU_MAX_ARGS, sizeof(char *))};
    if (b.v == NULL)
        return vessel_error_set(err, ENOMEM, "qemu arguments");
    add(&b, "%s", c->qemu_path);
    /* microvm: ACPI on (its default) describes the virtio-mmio devices to the guest;
     * no option ROMs (PVH entry), no legacy serial unless asked for. */
    add(&b, "-M");
    add(&b, "microvm,x-option-roms=off,isa-serial=%s,rtc=on", c->serial_fd >= 0 ? "on" : "off");
    add(&b, "-accel");
    add(&b, "%s", c->kvm ? "kvm" : "tcg");
    add(&b, "-cpu");
    add(&b, "%s", c->kvm ? "host" : "max");
    add(&b, "-m");
    add(&b, "%llu", (unsigned long long)c->memory_mib);
    add(&b, "-smp");
    add(&b, "%u", c->vcpus);
    add(&b, "-nodefaults");
    add(&b, "-no-user-config");
    add(&b, "-nographic");
    add(&b, "-no-reboot");  /* a guest reboot (panic=-1) ends QEMU */
    add(&b, "-kernel");
    add(&b, "%s", c->kernel);
    add(&b, "-initrd");
    add(&b, "%s", c->initrd);
    add(&b, "-append");
    add(&b, "%s", c->cmdline);
    add(&b, "-drive");
    add(&b, "id=root,if=none,file=%s,format=%s,cache=unsafe%s", disk, c->disk_format ? c->disk_format : "raw",
        c->disk_readonly ? ",readonly=on" : "");
    add(&b, "-device");
    add(&b, "virtio-blk-device,drive=root");
    add(&b, "-device");
    add(&b, "virtio-serial-device,max_ports=4");
    static const struct {
        const char *id, *device;
        int fd;
    } ports[] = {{"con", "virtconsole,chardev=con", QEMU_FD_CONSOLE},
                 {"ctl", "virtserialport,chardev=ctl,name=vessel.ctl", QEMU_FD_CTL},
                 {"err", "virtserialport,chardev=err,name=vessel.err", QEMU_FD_ERR}};
    for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
        add(&b, "-chardev");
        add(&b, "socket,id=%s,fd=%d", ports[i].id, ports[i].fd);
        add(&b, "-device");
        add(&b, "%s", ports[i].device);
    }
    add(&b, "-device");
    add(&b, "virtio-rng-device");
    if (c->serial_fd >= 0) {
        add(&b, "-chardev");
        add(&b, "stdio,id=ser,signal=off");
        add(&b, "-serial");
        add(&b, "chardev:ser");
    }
    for (size_t i = 0; i < c->extra_len; i++)
        add(&b, "%s", c->extra_args[i]);
    if (b.failed) {
        qemu_argv_free(b.v);
        return vessel_error_set(err, ENOMEM, "qemu arguments");
    }
    *argv = b.v;
    return 0;
}

void qemu_argv_free(char **argv)
{
    if (argv == NULL)
        return;
    for (size_t i = 0; argv[i]; i++)
        free(argv[i]);
    free(argv);
}

/* Runs in the child between fork and exec: async-signal-safe calls only. */
static void child_exec(const struct qemu_config *c, char **argv, int stderr_fd, pid_t parent)
{
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
        _exit(127);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    /* Park every fd we keep above the target range first, then lay them out. */
    int src[5] = {stderr_fd, c->serial_fd, c->console_fd, c->ctl_fd, c->err_fd};
    int tmp[5];
    for (int i = 0; i < 5; i++) {
        tmp[i] = src[i] >= 0 ? fcntl(src[i], F_DUPFD, 64) : -1;
        if (src[i] >= 0 && tmp[i] < 0)
            _exit(127);
    }
    int null = open("/dev/null", O_RDWR);
    if (null < 0 || dup2(null, 0) < 0)
        _exit(127);
    if (dup2(tmp[1] >= 0 ? tmp[1] : null, 1) < 0 || dup2(tmp[0] >= 0 ? tmp[0] : null, 2) < 0 ||
        dup2(tmp[2], QEMU_FD_CONSOLE) < 0 || dup2(tmp[3], QEMU_FD_CTL) < 0 || dup2(tmp[4], QEMU_FD_ERR) < 0)
        _exit(127);
    if (close_range(QEMU_FD_ERR + 1, ~0U, 0) < 0)
        for (int fd = QEMU_FD_ERR + 1; fd < 1024; fd++)
            close(fd);
    execv(argv[0], argv);
    dprintf(2, "exec \"%s\": %s", argv[0], strerror(errno));
    _exit(127);
}

int qemu_spawn(const struct qemu_config *c, int stderr_fd, pid_t *pid, struct vessel_error **err)
{
    char **argv = NULL;
    if (qemu_build_argv(c, &argv, err) < 0)
        return vessel_error_code(*err);
    pid_t parent = getpid();
    pid_t child = fork();
    if (child < 0) {
        qemu_argv_free(argv);
        return vessel_error_set(err, errno, "fork qemu");
    }
    if (child == 0)
        child_exec(c, argv, stderr_fd, parent);
    qemu_argv_free(argv);
    *pid = child;
    return 0;
}
