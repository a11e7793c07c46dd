/* `vessel spec`: the default config.json, equivalent in meaning to `runc spec`
 * (and `runc spec --rootless`), with hostname "vessel" and a cgroup namespace. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "oci/json_write.h"
#include "oci/spec.h"

struct default_mount {
    const char *destination, *type, *source;
    const char *const *options;
};

#define OPTS(...) ((const char *const[]){__VA_ARGS__, NULL})

static const struct default_mount default_mounts[] = {
    {"/proc", "proc", "proc", NULL},
    {"/dev", "tmpfs", "tmpfs", OPTS("nosuid", "strictatime", "mode=755", "size=65536k")},
    {"/dev/pts", "devpts", "devpts", OPTS("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5")},
    {"/dev/shm", "tmpfs", "shm", OPTS("nosuid", "noexec", "nodev", "mode=1777", "size=65536k")},
    {"/dev/mqueue", "mqueue", "mqueue", OPTS("nosuid", "noexec", "nodev")},
    {"/sys", "sysfs", "sysfs", OPTS("nosuid", "noexec", "nodev", "ro")},
    {"/sys/fs/cgroup", "cgroup", "cgroup", OPTS("nosuid", "noexec", "nodev", "relatime", "ro")},
};

/* Without a network namespace of its own a rootless container cannot mount a
 * fresh sysfs: bind the host's read-only instead, as runc does. */
static const struct default_mount rootless_sys = {
    "/sys", "none", "/sys", OPTS("rbind", "nosuid", "noexec", "nodev", "ro")};

static const char *const default_caps[] = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
static const char *const default_env[] = {
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"};
static const char *const masked_paths[] = {
    "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
    "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"};
static const char *const readonly_paths[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void write_process(struct json_writer *w)
{
    json_write_key(w, "process");
    json_write_map_open(w);
    json_write_kbool(w, "terminal", true);
    json_write_key(w, "user");
    json_write_map_open(w);
    json_write_kint(w, "uid", 0);
    json_write_kint(w, "gid", 0);
    json_write_map_close(w);
    json_write_kstrv(w, "args", (const char *const[]){"sh"}, 1);
    json_write_kstrv(w, "env", default_env, COUNT(default_env));
    json_write_kstring(w, "cwd", "/");
    json_write_key(w, "capabilities");
    json_write_map_open(w);
    json_write_kstrv(w, "bounding", default_caps, COUNT(default_caps));
    json_write_kstrv(w, "effective", default_caps, COUNT(default_caps));
    json_write_kstrv(w, "permitted", default_caps, COUNT(default_caps));
    json_write_map_close(w);
    json_write_key(w, "rlimits");
    json_write_array_open(w);
    json_write_map_open(w);
    json_write_kstring(w, "type", "RLIMIT_NOFILE");
    json_write_kuint(w, "hard", 1024);
    json_write_kuint(w, "soft", 1024);
    json_write_map_close(w);
    json_write_array_close(w);
    json_write_kbool(w, "noNewPrivileges", true);
    json_write_map_close(w);
}

static void write_mount(struct json_writer *w, const struct default_mount *m, bool rootless)
{
    json_write_map_open(w);
    json_write_kstring(w, "destination", m->destination);
    json_write_kstring(w, "type", m->type);
    json_write_kstring(w, "source", m->source);
    if (m->options != NULL) {
        json_write_key(w, "options");
        json_write_array_open(w);
        for (const char *const *o = m->options; *o != NULL; o++) {
            /* the ids named in gid=/uid= may not be mapped in a rootless user namespace */
            if (rootless && (strncmp(*o, "gid=", 4) == 0 || strncmp(*o, "uid=", 4) == 0))
                continue;
            json_write_string(w, *o);
        }
        json_write_array_close(w);
    }
    json_write_map_close(w);
}

static void write_mounts(struct json_writer *w, bool rootless)
{
    json_write_key(w, "mounts");
    json_write_array_open(w);
    for (size_t i = 0; i < COUNT(default_mounts); i++) {
        const struct default_mount *m = &default_mounts[i];
        if (rootless && strcmp(m->destination, "/sys") == 0)
            m = &rootless_sys;
        write_mount(w, m, rootless);
    }
    json_write_array_close(w);
}

static void write_mapping(struct json_writer *w, const char *key, unsigned host_id)
{
    json_write_key(w, key);
    json_write_array_open(w);
    json_write_map_open(w);
    json_write_kuint(w, "containerID", 0);
    json_write_kuint(w, "hostID", host_id);
    json_write_kuint(w, "size", 1);
    json_write_map_close(w);
    json_write_array_close(w);
}

static void write_linux(struct json_writer *w, bool rootless)
{
    json_write_key(w, "linux");
    json_write_map_open(w);
    if (rootless) {
        write_mapping(w, "uidMappings", (unsigned)geteuid());
        write_mapping(w, "gidMappings", (unsigned)getegid());
    } else {
        /* deny all device access; the runtime adds the default devices back */
        json_write_key(w, "resources");
        json_write_map_open(w);
        json_write_key(w, "devices");
        json_write_array_open(w);
        json_write_map_open(w);
        json_write_kbool(w, "allow", false);
        json_write_kstring(w, "access", "rwm");
        json_write_map_close(w);
        json_write_array_close(w);
        json_write_map_close(w);
    }
    json_write_key(w, "namespaces");
    json_write_array_open(w);
    static const char *const ns_default[] = {"pid", "network", "ipc", "uts", "mount", "cgroup"};
    static const char *const ns_rootless[] = {"pid", "ipc", "uts", "mount", "cgroup", "user"};
    const char *const *ns = rootless ? ns_rootless : ns_default;
    for (size_t i = 0; i < COUNT(ns_default); i++) {
        json_write_map_open(w);
        json_write_kstring(w, "type", ns[i]);
        json_write_map_close(w);
    }
    json_write_array_close(w);
    json_write_kstrv(w, "maskedPaths", masked_paths, COUNT(masked_paths));
    json_write_kstrv(w, "readonlyPaths", readonly_paths, COUNT(readonly_paths));
    json_write_map_close(w);
}

int spec_default_json(bool rootless, char **out, struct vessel_error **err)
{
    struct json_writer w;
    if (json_writer_init(&w, true) < 0)
        return vessel_error_set(err, ENOMEM, "default config.json");
    json_write_map_open(&w);
    json_write_kstring(&w, "ociVersion", "1.2.0");
    write_process(&w);
    json_write_key(&w, "root");
    json_write_map_open(&w);
    json_write_kstring(&w, "path", "rootfs");
    json_write_kbool(&w, "readonly", true);
    json_write_map_close(&w);
    json_write_kstring(&w, "hostname", "vessel");
    write_mounts(&w, rootless);
    write_linux(&w, rootless);
    json_write_map_close(&w);
    return json_writer_finish(&w, "default config.json", out, err);
}
