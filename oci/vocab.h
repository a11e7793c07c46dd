/* The fixed vocabularies of config.json (capabilities, rlimits, seccomp names, ...),
 * shared by the parser, runtime/, namespaces/ and `vessel features`: one list each. */
#ifndef VESSEL_OCI_VOCAB_H
#define VESSEL_OCI_VOCAB_H

#include <stddef.h>

/* Capability names "CAP_CHOWN".."CAP_CHECKPOINT_RESTORE": index == Linux capability number. */
extern const char *const oci_capability_names[];
extern const size_t oci_capability_count;
/* "RLIMIT_CPU".."RLIMIT_RTTIME": index == Linux resource number (RLIMIT_CPU == 0, ...). */
extern const char *const oci_rlimit_names[];
extern const size_t oci_rlimit_count;
/* Namespace type names in enum oci_namespace_type order ("pid", "network", ...). */
extern const char *const oci_namespace_names[];
extern const size_t oci_namespace_count;
/* linux.devices[].type: "c", "b", "u", "p". */
extern const char *const oci_device_type_names[];
extern const size_t oci_device_type_count;
/* linux.rootfsPropagation: private shared slave unbindable and the r* forms. */
extern const char *const oci_propagation_names[];
extern const size_t oci_propagation_count;
/* Seccomp: "SCMP_ACT_*", "SCMP_CMP_*", "SCMP_ARCH_*", "SECCOMP_FILTER_FLAG_*". */
extern const char *const oci_seccomp_action_names[];
extern const size_t oci_seccomp_action_count;
extern const char *const oci_seccomp_operator_names[];
extern const size_t oci_seccomp_operator_count;
extern const char *const oci_seccomp_arch_names[];
extern const size_t oci_seccomp_arch_count;
extern const char *const oci_seccomp_flag_names[];
extern const size_t oci_seccomp_flag_count;
/* process.scheduler.policy ("SCHED_OTHER", ...) and .flags ("SCHED_FLAG_RESET_ON_FORK", ...). */
extern const char *const oci_sched_policy_names[];
extern const size_t oci_sched_policy_count;
extern const char *const oci_sched_flag_names[];
extern const size_t oci_sched_flag_count;
/* process.ioPriority.class: "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE". */
extern const char *const oci_ioprio_class_names[];
extern const size_t oci_ioprio_class_count;
/* linux.personality.domain: "LINUX", "LINUX32". */
extern const char *const oci_personality_domain_names[];
extern const size_t oci_personality_domain_count;
/* vm.image.format: raw qcow2 vdi vmdk vhd. */
extern const char *const oci_vm_image_format_names[];
extern const size_t oci_vm_image_format_count;
/* Hook names as in config.json ("prestart", "createRuntime", ...). */
extern const char *const oci_hook_names[];
extern const size_t oci_hook_count;
/* Mount options vessel understands as flags (everything else is passed to the
 * filesystem as data): defaults ro rw ..., propagation, recursive r* forms, idmap. */
extern const char *const oci_mount_option_names[];
extern const size_t oci_mount_option_count;

/* Index of name in names[0..count), or -1 when absent (or name is NULL). */
int oci_vocab_find(const char *const *names, size_t count, const char *name);

#endif
