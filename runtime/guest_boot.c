/* Bringing up the guest side of a vessel micro-VM (for runtime/guest_init.c):
 * base mounts, kernel modules, virtio ports, the rootfs disk. */
#include "runtime/guest_boot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"

bool guest_debug;
bool guest_autostart;

void guest_log(const char *fmt, ...)
{
    if (!guest_debug)
        return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        (void)!write(fd, buf, n < (int)sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
        close(fd);
    }
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

_Noreturn void guest_power_off(void)
{
    sync();
    reboot(RB_POWER_OFF);
    for (;;)
        pause();
}

void guest_mount_base(void)
{
    static const struct { const char *src, *dst, *type; unsigned long flags; const char *data; } m[] = {
        {"proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL},
        {"sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL},
        {"devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755"},
        {"tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"},
        {"tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"},
        {"cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL},
    };
    for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
        (void)mkdir(m[i].dst, 0755);
        (void)mount(m[i].src, m[i].dst, m[i].type, m[i].flags, m[i].data);
    }
    (void)mkdir("/dev/pts", 0755);
    (void)mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666");
    /* The kernel found no console for us at boot: make sure 0-2 are taken. */
    int fd;
    while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
        ;
    if (fd > 2)
        close(fd);
}

void guest_cmdline(char *id, size_t size, bool *poweroff)
{
    char *buf = NULL;
    size_t len = 0;
    struct vessel_error *e = NULL;
    id[0] = '\0';
    if (read_file_at(AT_FDCWD, "/proc/cmdline", 65536, &buf, &len, &e) < 0) {
        vessel_error_free(e);
        return;
    }
    char *save = NULL;
    for (char *w = strtok_r(buf, " \n", &save); w; w = strtok_r(NULL, " \n", &save)) {
        if (strncmp(w, "vessel.id=", 10) == 0)
            snprintf(id, size, "%s", w + 10);
        else if (strcmp(w, "vessel.debug=1") == 0)
            guest_debug = true;
        else if (strcmp(w, "vessel.autostart=1") == 0)
            guest_autostart = true;
        else if (strcmp(w, "vessel.poweroff=1") == 0)
            *poweroff = true;
    }
    free(buf);
}

int guest_load_modules(char *msg, size_t size)
{
    struct utsname u;
    uname(&u);
    char path[256];
    snprintf(path, sizeof(path), "/lib/modules/%s/load-order", u.release);
    _cleanup_fclose_ FILE *f = fopen(path, "re");
    if (f == NULL) {
        snprintf(msg, size, "open \"%s\": %s (guest assets do not match the kernel %s)", path,
                 strerror(errno), u.release);
        return -1;
    }
    char line[512];
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0' || line[0] == '#')
            continue;
        _cleanup_close_ int fd = open(line, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST)) {
            snprintf(msg, size, "load module \"%s\": %s", line, strerror(errno));
            return -1;
        }
        guest_log("vessel guest init: loaded %s\n", line);
    }
    return 0;
}

/* The /dev node of the virtio-console port with this name, waiting for it to appear. */
int guest_open_port(const char *name, int flags)
{
    for (int waited = 0; waited < GUEST_WAIT_MS; waited += 5) {
        _cleanup_closedir_ DIR *d = opendir("/sys/class/virtio-ports");
        struct dirent *de;
        while (d && (de = readdir(d)) != NULL) {
            if (de->d_name[0] == '.')
                continue;
            char p[300], got[64] = "";
            snprintf(p, sizeof(p), "/sys/class/virtio-ports/%s/name", de->d_name);
            _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
            ssize_t n = fd >= 0 ? read(fd, got, sizeof(got) - 1) : -1;
            got[n > 0 ? n : 0] = '\0';
            got[strcspn(got, "\n")] = '\0';
            if (strcmp(got, name) != 0)
                continue;
            snprintf(p, sizeof(p), "/dev/%s", de->d_name);
            int port = open(p, flags | O_CLOEXEC);
            if (port >= 0)
                return port;
        }
        sleep_ms(5);
    }
    return -1;
}

int guest_open_wait(const char *path, int flags)
{
    for (int waited = 0; waited < GUEST_WAIT_MS; waited += 5) {
        int fd = open(path, flags | O_CLOEXEC);
        if (fd >= 0 || errno != ENOENT)
            return fd;
        sleep_ms(5);
    }
    return -1;
}

void guest_set_raw(int fd)
{
    struct termios t;
    if (tcgetattr(fd, &t) == 0) {
        cfmakeraw(&t);
        (void)tcsetattr(fd, TCSANOW, &t);
    }
}

int guest_mount_rootfs(const struct oci_spec *spec, char *msg, size_t size)
{
    const char *rp = spec->has_root && spec->root.path ? spec->root.path : "rootfs";
    char target[4096];
    snprintf(target, sizeof(target), rp[0] == '/' ? "%s" : GUEST_BUNDLE "/%s", rp);
    struct vessel_error *e = NULL;
    if (mkdir_p(target, 0755, &e) < 0) {
        snprintf(msg, size, "rootfs mount point: %s", e->msg);
        vessel_error_free(e);
        return -1;
    }
    unsigned long flags = MS_NOATIME | (spec->root.readonly ? MS_RDONLY : 0);
    for (int waited = 0; waited < GUEST_WAIT_MS; waited += 5) {
        if (mount("/dev/vda", target, "ext4", flags, NULL) == 0)
            return 0;
        if (errno != ENOENT && errno != ENXIO)
            break;
        sleep_ms(5);
    }
    (void)!snprintf(msg, size, "mount rootfs disk /dev/vda on \"%.512s\": %s", target, strerror(errno));
    return -1;
}
