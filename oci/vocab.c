/* The fixed vocabularies of config.json; see oci/vocab.h for the index contracts. */
#include "oci/vocab.h"

#include <string.h>

#define VOCAB(name, ...)                                                     \
    const char *const name##_names[] = {__VA_ARGS__};                        \
    const size_t name##_count = sizeof(name##_names) / sizeof(name##_names[0])

VOCAB(oci_capability,
      "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
      "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
      "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
      "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
      "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
      "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
      "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
      "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
      "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE");

VOCAB(oci_rlimit,
      "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE",
      "RLIMIT_RSS", "RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS",
      "RLIMIT_LOCKS", "RLIMIT_SIGPENDING", "RLIMIT_MSGQUEUE", "RLIMIT_NICE",
      "RLIMIT_RTPRIO", "RLIMIT_RTTIME");

/* Must follow enum oci_namespace_type. */
VOCAB(oci_namespace, "pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time");

VOCAB(oci_device_type, "c", "b", "u", "p");

VOCAB(oci_propagation, "private", "shared", "slave", "unbindable",
      "rprivate", "rshared", "rslave", "runbindable");

VOCAB(oci_seccomp_action,
      "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
      "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY");

VOCAB(oci_seccomp_operator,
      "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE",
      "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ");

VOCAB(oci_seccomp_arch,
      "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM",
      "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32",
      "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
      "SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X",
      "SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64", "SCMP_ARCH_LOONGARCH64",
      "SCMP_ARCH_M68K", "SCMP_ARCH_SH", "SCMP_ARCH_SHEB");

VOCAB(oci_seccomp_flag,
      "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
      "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV");

VOCAB(oci_sched_policy,
      "SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH", "SCHED_ISO", "SCHED_IDLE",
      "SCHED_DEADLINE");

VOCAB(oci_sched_flag,
      "SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM", "SCHED_FLAG_DL_OVERRUN",
      "SCHED_FLAG_KEEP_POLICY", "SCHED_FLAG_KEEP_PARAMS", "SCHED_FLAG_UTIL_CLAMP_MIN",
      "SCHED_FLAG_UTIL_CLAMP_MAX");

VOCAB(oci_ioprio_class, "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE");

VOCAB(oci_personality_domain, "LINUX", "LINUX32");

VOCAB(oci_vm_image_format, "raw", "qcow2", "vdi", "vmdk", "vhd");

VOCAB(oci_hook, "prestart", "createRuntime", "createContainer", "startContainer",
      "poststart", "poststop");

VOCAB(oci_mount_option,
      "defaults", "ro", "rw", "suid", "nosuid", "dev", "nodev", "exec", "noexec",
      "sync", "async", "dirsync", "remount", "mand", "nomand", "atime", "noatime",
      "diratime", "nodiratime", "relatime", "norelatime", "strictatime", "nostrictatime",
      "lazytime", "nolazytime", "silent", "loud", "iversion", "noiversion",
      "bind", "rbind",
      "private", "rprivate", "shared", "rshared", "slave", "rslave",
      "unbindable", "runbindable",
      "rro", "rrw", "rsuid", "rnosuid", "rdev", "rnodev", "rexec", "rnoexec",
      "ratime", "rnoatime", "rdiratime", "rnodiratime", "rrelatime", "rnorelatime",
      "rstrictatime", "rnostrictatime",
      "idmap", "ridmap", "tmpcopyup");

int oci_vocab_find(const char *const *names, size_t count, const char *name)
{
    if (name == NULL)
        return -1;
    for (size_t i = 0; i < count; i++)
        if (strcmp(names[i], name) == 0)
            return (int)i;
    return -1;
}
