/* config.json as typed C structs (runtime-spec v1.0-v1.2 plus config-vm.md's `vm`).
 * oci/ knows nothing of Linux: these are plain data, validated by spec_parse().
 * Optional scalars carry a has_ flag; absent arrays have count 0; absent
 * strings are NULL. */
#ifndef VESSEL_OCI_SPEC_H
#define VESSEL_OCI_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* Limits on user-controlled sizes (STYLE: every resource a user controls has a limit). */
#define OCI_SPEC_MAX_FILE (4u << 20)  /* config.json bytes */
#define OCI_SPEC_MAX_ITEMS 65536      /* any array */

struct oci_kv { char *key; char *value; };  /* annotations, sysctl */

struct oci_rlimit { char *type; uint64_t hard, soft; };  /* type: "RLIMIT_NOFILE", ... */

struct oci_capabilities {
    char **bounding; size_t bounding_len;
    char **effective; size_t effective_len;
    char **inheritable; size_t inheritable_len;
    char **permitted; size_t permitted_len;
    char **ambient; size_t ambient_len;
    bool present;
};

struct oci_user {
    uint32_t uid, gid;
    bool has_umask; uint32_t umask;
    uint32_t *additional_gids; size_t additional_gids_len;
    char *username;  /* windows only; kept for completeness */
};

struct oci_console_size { bool present; uint32_t height, width; };

struct oci_scheduler {
    bool present;
    char *policy;  /* SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_ISO, SCHED_IDLE, SCHED_DEADLINE */
    int32_t nice, priority;
    char **flags; size_t flags_len;
    uint64_t runtime, deadline, period;
};

struct oci_io_priority { bool present; char *klass; /* IOPRIO_CLASS_RT|BE|IDLE */ int32_t priority; };

struct oci_exec_cpu_affinity { char *initial; char *final; };

struct oci_process {
    bool terminal;
    struct oci_console_size console_size;
    struct oci_user user;
    char **args; size_t args_len;
    char *command_line;  /* windows only */
    char **env; size_t env_len;
    char *cwd;
    struct oci_capabilities capabilities;
    struct oci_rlimit *rlimits; size_t rlimits_len;
    bool no_new_privileges;
    char *apparmor_profile;
    bool has_oom_score_adj; int32_t oom_score_adj;
    char *selinux_label;
    struct oci_io_priority io_priority;
    struct oci_scheduler scheduler;
    struct oci_exec_cpu_affinity exec_cpu_affinity;
};

struct oci_root { char *path; bool readonly; };

struct oci_mount {
    char *destination;
    char *type;
    char *source;
    char **options; size_t options_len;
    /* idmapped mounts (v1.1+) */
    struct oci_id_mapping *uid_mappings; size_t uid_mappings_len;
    struct oci_id_mapping *gid_mappings; size_t gid_mappings_len;
};

struct oci_hook {
    char *path;
    char **args; size_t args_len;
    char **env; size_t env_len;
    bool has_timeout; int32_t timeout;  /* seconds, > 0 */
};

struct oci_hooks {
    struct oci_hook *prestart; size_t prestart_len;
    struct oci_hook *create_runtime; size_t create_runtime_len;
    struct oci_hook *create_container; size_t create_container_len;
    struct oci_hook *start_container; size_t start_container_len;
    struct oci_hook *poststart; size_t poststart_len;
    struct oci_hook *poststop; size_t poststop_len;
};

enum oci_namespace_type {
    OCI_NS_PID, OCI_NS_NETWORK, OCI_NS_MOUNT, OCI_NS_IPC, OCI_NS_UTS,
    OCI_NS_USER, OCI_NS_CGROUP, OCI_NS_TIME, OCI_NS_COUNT
};

struct oci_namespace { enum oci_namespace_type type; char *path; /* NULL: create new */ };

struct oci_id_mapping { uint32_t container_id, host_id, size; };

struct oci_time_offset { bool present; int64_t secs; uint32_t nanosecs; };

struct oci_device {
    char *type;  /* "c", "b", "u", "p" */
    char *path;
    int64_t major, minor;
    bool has_file_mode; uint32_t file_mode;
    bool has_uid; uint32_t uid;
    bool has_gid; uint32_t gid;
};

/* linux.resources: parsed fully so `update` and cgroup drivers share one type. */
struct oci_device_cgroup {
    bool allow; char *type; bool has_major; int64_t major; bool has_minor; int64_t minor; char *access;
};
struct oci_memory {
    bool has_limit; int64_t limit;
    bool has_reservation; int64_t reservation;
    bool has_swap; int64_t swap;
    bool has_kernel; int64_t kernel;
    bool has_kernel_tcp; int64_t kernel_tcp;
    bool has_swappiness; uint64_t swappiness;
    bool has_disable_oom_killer; bool disable_oom_killer;
    bool has_use_hierarchy; bool use_hierarchy;
    bool has_check_before_update; bool check_before_update;
};
struct oci_cpu {
    bool has_shares; uint64_t shares;
    bool has_quota; int64_t quota;
    bool has_burst; uint64_t burst;
    bool has_period; uint64_t period;
    bool has_realtime_runtime; int64_t realtime_runtime;
    bool has_realtime_period; uint64_t realtime_period;
    char *cpus; char *mems;
    bool has_idle; int64_t idle;
};
struct oci_weight_device { int64_t major, minor; bool has_weight; uint16_t weight; bool has_leaf_weight; uint16_t leaf_weight; };
struct oci_throttle_device { int64_t major, minor; uint64_t rate; };
struct oci_blkio {
    bool has_weight; uint16_t weight;
    bool has_leaf_weight; uint16_t leaf_weight;
    struct oci_weight_device *weight_device; size_t weight_device_len;
    struct oci_throttle_device *throttle_read_bps; size_t throttle_read_bps_len;
    struct oci_throttle_device *throttle_write_bps; size_t throttle_write_bps_len;
    struct oci_throttle_device *throttle_read_iops; size_t throttle_read_iops_len;
    struct oci_throttle_device *throttle_write_iops; size_t throttle_write_iops_len;
};
struct oci_hugepage_limit { char *page_size; uint64_t limit; };
struct oci_net_priority { char *name; uint32_t priority; };
struct oci_resources {
    bool present;
    struct oci_device_cgroup *devices; size_t devices_len;
    struct oci_memory memory;
    struct oci_cpu cpu;
    bool has_pids_limit; int64_t pids_limit;
    struct oci_blkio blkio;
    struct oci_hugepage_limit *hugepage_limits; size_t hugepage_limits_len;
    bool has_net_class_id; uint32_t net_class_id;
    struct oci_net_priority *net_priorities; size_t net_priorities_len;
    struct oci_kv *rdma_unused; size_t rdma_unused_len;  /* rdma: accepted, not applied */
    struct oci_kv *unified; size_t unified_len;
};

struct oci_seccomp_arg { uint32_t index; uint64_t value, value_two; char *op; };
struct oci_seccomp_syscall {
    char **names; size_t names_len;
    char *action;
    bool has_errno_ret; uint32_t errno_ret;
    struct oci_seccomp_arg *args; size_t args_len;
};
struct oci_seccomp {
    bool present;
    char *default_action;
    bool has_default_errno_ret; uint32_t default_errno_ret;
    char **architectures; size_t architectures_len;
    char **flags; size_t flags_len;
    char *listener_path;
    char *listener_metadata;
    struct oci_seccomp_syscall *syscalls; size_t syscalls_len;
};

struct oci_personality { bool present; char *domain; /* LINUX, LINUX32 */ char **flags; size_t flags_len; };

struct oci_linux {
    bool present;
    struct oci_namespace *namespaces; size_t namespaces_len;
    struct oci_id_mapping *uid_mappings; size_t uid_mappings_len;
    struct oci_id_mapping *gid_mappings; size_t gid_mappings_len;
    struct oci_time_offset time_offset_monotonic;
    struct oci_time_offset time_offset_boottime;
    struct oci_device *devices; size_t devices_len;
    char *cgroups_path;
    struct oci_resources resources;
    struct oci_kv *sysctl; size_t sysctl_len;
    struct oci_seccomp seccomp;
    char *rootfs_propagation;  /* shared, slave, private, unbindable (+ r* forms) */
    char **masked_paths; size_t masked_paths_len;
    char **readonly_paths; size_t readonly_paths_len;
    char *mount_label;
    struct oci_personality personality;
};

/* config-vm.md */
struct oci_vm {
    bool present;
    char *hypervisor_path; char **hypervisor_parameters; size_t hypervisor_parameters_len;
    char *kernel_path; char **kernel_parameters; size_t kernel_parameters_len; char *kernel_initrd;
    char *image_path; char *image_format;  /* raw, qcow2, vdi, vmdk, vhd */
};

struct oci_spec {
    char *oci_version;
    struct oci_process process;
    bool has_process;
    struct oci_root root;
    bool has_root;
    char *hostname;
    char *domainname;
    struct oci_mount *mounts; size_t mounts_len;
    struct oci_hooks hooks;
    struct oci_kv *annotations; size_t annotations_len;
    struct oci_linux linux_;  /* "linux" is a predefined macro under gnu11 */
    struct oci_vm vm;
};

/* Parse and validate a config.json document. On error *err names the JSON
 * path ("linux.namespaces[2].type: unknown namespace \"pidd\""). */
int spec_parse(const char *json, size_t len, struct oci_spec **out, struct vessel_error **err);
/* Read BUNDLE/config.json and parse it. */
int spec_load(const char *bundle_dir, struct oci_spec **out, struct vessel_error **err);
void spec_free(struct oci_spec *spec);
void spec_freep(struct oci_spec **spec);
#define _cleanup_spec_ __attribute__((cleanup(spec_freep)))

/* Annotation lookup; NULL when absent. */
const char *spec_annotation(const struct oci_spec *spec, const char *key);
/* Namespace entry of a type, or NULL. */
const struct oci_namespace *spec_namespace(const struct oci_spec *spec, enum oci_namespace_type type);
const char *spec_namespace_name(enum oci_namespace_type type);  /* "pid", "network", ... */

/* Default config.json (like `runc spec`), as a newly allocated JSON string. */
int spec_default_json(bool rootless, char **out, struct vessel_error **err);

#endif
