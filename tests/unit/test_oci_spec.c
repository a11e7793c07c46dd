/* Unit tests for oci/spec.c: every config.json section parses into the right
 * fields, and every class of mistake is an error naming its JSON path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "oci/spec.h"
#include "oci/vocab.h"

#define HEAD "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"}"
#define PROC_OK "\"process\":{\"cwd\":\"/\",\"args\":[\"sh\"]"
/* A minimal valid document with extra top-level members appended. */
#define DOC(extra) HEAD "," extra "}"
#define WITH_PROC(extra) DOC(PROC_OK "," extra "}")
#define WITH_LINUX(extra) DOC("\"linux\":{" extra "}")

static struct oci_spec *parse_ok(const char *json)
{
    struct oci_spec *spec = NULL;
    struct vessel_error *err = NULL;
    int r = spec_parse(json, strlen(json), &spec, &err);
    if (r < 0)
        fail_msg("unexpected error: %s", err->msg);
    assert_non_null(spec);
    return spec;
}

static const char full_doc[] =
    "{\"ociVersion\":\"1.1.0\","
    " \"process\":{\"terminal\":true,\"consoleSize\":{\"height\":24,\"width\":80},"
    "  \"user\":{\"uid\":1000,\"gid\":100,\"umask\":18,\"additionalGids\":[5,6]},"
    "  \"args\":[\"/bin/sh\",\"-c\",\"true\"],\"env\":[\"PATH=/bin\",\"A=\"],\"cwd\":\"/tmp\","
    "  \"capabilities\":{\"bounding\":[\"CAP_KILL\"],\"effective\":[\"CAP_KILL\"],\"inheritable\":[],"
    "   \"permitted\":[\"CAP_KILL\",\"CAP_CHECKPOINT_RESTORE\"],\"ambient\":[\"CAP_KILL\"]},"
    "  \"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":512},"
    "   {\"type\":\"RLIMIT_CORE\",\"hard\":18446744073709551615,\"soft\":18446744073709551615}],"
    "  \"noNewPrivileges\":true,\"apparmorProfile\":\"p\",\"oomScoreAdj\":-500,\"selinuxLabel\":\"l\","
    "  \"ioPriority\":{\"class\":\"IOPRIO_CLASS_BE\",\"priority\":4},"
    "  \"scheduler\":{\"policy\":\"SCHED_DEADLINE\",\"nice\":-5,\"priority\":0,"
    "   \"flags\":[\"SCHED_FLAG_RESET_ON_FORK\"],\"runtime\":10,\"deadline\":20,\"period\":30},"
    "  \"execCPUAffinity\":{\"initial\":\"0\",\"final\":\"0-1,3\"}},"
    " \"root\":{\"path\":\"rootfs\",\"readonly\":true},"
    " \"hostname\":\"box\",\"domainname\":\"example.org\","
    " \"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
    "  {\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"/srv\",\"options\":[\"rbind\",\"ro\",\"idmap\"],"
    "   \"uidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}],"
    "   \"gidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}]}],"
    " \"hooks\":{\"prestart\":[{\"path\":\"/bin/true\"}],"
    "  \"createRuntime\":[{\"path\":\"/bin/a\",\"args\":[\"a\",\"x\"],\"env\":[\"K=V\"],\"timeout\":5}],"
    "  \"createContainer\":[{\"path\":\"/bin/b\"}],\"startContainer\":[{\"path\":\"/bin/c\"}],"
    "  \"poststart\":[{\"path\":\"/bin/d\"}],\"poststop\":[{\"path\":\"/bin/e\"},{\"path\":\"/bin/f\"}]},"
    " \"annotations\":{\"org.example.key\":\"value\",\"vessel.isolation\":\"vm\"},"
    " \"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\",\"path\":\"/proc/1/ns/net\"},"
    "   {\"type\":\"mount\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},{\"type\":\"user\"},{\"type\":\"cgroup\"},"
    "   {\"type\":\"time\"}],"
    "  \"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1},{\"containerID\":1,\"hostID\":100000,\"size\":65536}],"
    "  \"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}],"
    "  \"timeOffsets\":{\"monotonic\":{\"secs\":-10,\"nanosecs\":5},\"boottime\":{\"secs\":86400}},"
    "  \"devices\":[{\"type\":\"c\",\"path\":\"/dev/fuse\",\"major\":10,\"minor\":229,\"fileMode\":438,\"uid\":0,\"gid\":0},"
    "   {\"type\":\"p\",\"path\":\"/dev/fifo\"}],"
    "  \"cgroupsPath\":\"/mygroup/box\","
    "  \"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"},{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":-1,\"access\":\"rw\"}],"
    "   \"memory\":{\"limit\":268435456,\"reservation\":1000,\"swap\":-1,\"kernel\":0,\"kernelTCP\":0,"
    "    \"swappiness\":60,\"disableOOMKiller\":true,\"useHierarchy\":false,\"checkBeforeUpdate\":true},"
    "   \"cpu\":{\"shares\":1024,\"quota\":50000,\"burst\":1000,\"period\":100000,\"realtimeRuntime\":0,"
    "    \"realtimePeriod\":0,\"cpus\":\"0-1\",\"mems\":\"0\",\"idle\":1},"
    "   \"pids\":{\"limit\":64},"
    "   \"blockIO\":{\"weight\":500,\"leafWeight\":300,\"weightDevice\":[{\"major\":8,\"minor\":0,\"weight\":600}],"
    "    \"throttleReadBpsDevice\":[{\"major\":8,\"minor\":0,\"rate\":1048576}],"
    "    \"throttleWriteBpsDevice\":[{\"major\":8,\"minor\":0,\"rate\":2}],"
    "    \"throttleReadIOPSDevice\":[{\"major\":8,\"minor\":0,\"rate\":3}],"
    "    \"throttleWriteIOPSDevice\":[{\"major\":8,\"minor\":0,\"rate\":4}]},"
    "   \"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":209715200}],"
    "   \"network\":{\"classID\":1048577,\"priorities\":[{\"name\":\"eth0\",\"priority\":500}]},"
    "   \"rdma\":{\"mlx5_1\":{\"hcaHandles\":3,\"hcaObjects\":10000}},"
    "   \"unified\":{\"memory.high\":\"1G\",\"io.weight\":\"100\"}},"
    "  \"sysctl\":{\"net.ipv4.ip_forward\":\"1\",\"kernel/shmmax\":\"1024\"},"
    "  \"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":1,"
    "   \"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\"],\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\"],"
    "   \"listenerPath\":\"/run/notify.sock\",\"listenerMetadata\":\"meta\","
    "   \"syscalls\":[{\"names\":[\"read\",\"write\"],\"action\":\"SCMP_ACT_ALLOW\"},"
    "    {\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":38,"
    "     \"args\":[{\"index\":0,\"value\":8,\"valueTwo\":0,\"op\":\"SCMP_CMP_EQ\"}]},"
    "    {\"names\":[\"mount\"],\"action\":\"SCMP_ACT_NOTIFY\"}]},"
    "  \"rootfsPropagation\":\"rslave\",\"maskedPaths\":[\"/proc/kcore\"],\"readonlyPaths\":[\"/proc/sys\"],"
    "  \"mountLabel\":\"ml\",\"personality\":{\"domain\":\"LINUX32\",\"flags\":[]},"
    "  \"intelRdt\":{\"closID\":\"x\"},\"netDevices\":{}},"
    " \"vm\":{\"hypervisor\":{\"path\":\"/usr/bin/qemu-system-x86_64\",\"parameters\":[\"-m\",\"256\"]},"
    "  \"kernel\":{\"path\":\"/boot/vmlinuz\",\"parameters\":[\"quiet\"],\"initrd\":\"/boot/initrd.img\"},"
    "  \"image\":{\"path\":\"/images/root.qcow2\",\"format\":\"qcow2\"}},"
    " \"windows\":{\"ignored\":true},\"someFutureField\":[1,2,3]}";

static void test_full_process(void **state)
{
    (void)state;
    _cleanup_spec_ struct oci_spec *s = parse_ok(full_doc);
    assert_string_equal(s->oci_version, "1.1.0");
    assert_true(s->has_process);
    const struct oci_process *p = &s->process;
    assert_true(p->terminal);
    assert_true(p->console_size.present);
    assert_int_equal(p->console_size.height, 24);
    assert_int_equal(p->console_size.width, 80);
    assert_int_equal(p->user.uid, 1000);
    assert_int_equal(p->user.gid, 100);
    assert_true(p->user.has_umask);
    assert_int_equal(p->user.umask, 18);
    assert_int_equal(p->user.additional_gids_len, 2);
    assert_int_equal(p->user.additional_gids[1], 6);
    assert_int_equal(p->args_len, 3);
    assert_string_equal(p->args[2], "true");
    assert_int_equal(p->env_len, 2);
    assert_string_equal(p->env[1], "A=");
    assert_string_equal(p->cwd, "/tmp");
    assert_true(p->capabilities.present);
    assert_int_equal(p->capabilities.permitted_len, 2);
    assert_string_equal(p->capabilities.permitted[1], "CAP_CHECKPOINT_RESTORE");
    assert_int_equal(p->capabilities.inheritable_len, 0);
    assert_int_equal(p->capabilities.ambient_len, 1);
    assert_int_equal(p->rlimits_len, 2);
    assert_string_equal(p->rlimits[0].type, "RLIMIT_NOFILE");
    assert_int_equal(p->rlimits[0].hard, 1024);
    assert_int_equal(p->rlimits[0].soft, 512);
    assert_true(p->rlimits[1].hard == UINT64_MAX);
    assert_true(p->no_new_privileges);
    assert_string_equal(p->apparmor_profile, "p");
    assert_true(p->has_oom_score_adj);
    assert_int_equal(p->oom_score_adj, -500);
    assert_string_equal(p->selinux_label, "l");
    assert_true(p->io_priority.present);
    assert_string_equal(p->io_priority.klass, "IOPRIO_CLASS_BE");
    assert_int_equal(p->io_priority.priority, 4);
    assert_true(p->scheduler.present);
    assert_string_equal(p->scheduler.policy, "SCHED_DEADLINE");
    assert_int_equal(p->scheduler.nice, -5);
    assert_int_equal(p->scheduler.flags_len, 1);
    assert_int_equal(p->scheduler.runtime, 10);
    assert_int_equal(p->scheduler.deadline, 20);
    assert_int_equal(p->scheduler.period, 30);
    assert_string_equal(p->exec_cpu_affinity.initial, "0");
    assert_string_equal(p->exec_cpu_affinity.final, "0-1,3");
}

static void test_full_root_mounts_hooks(void **state)
{
    (void)state;
    _cleanup_spec_ struct oci_spec *s = parse_ok(full_doc);
    assert_true(s->has_root);
    assert_string_equal(s->root.path, "rootfs");
    assert_true(s->root.readonly);
    assert_string_equal(s->hostname, "box");
    assert_string_equal(s->domainname, "example.org");
    assert_int_equal(s->mounts_len, 2);
    assert_string_equal(s->mounts[0].destination, "/proc");
    assert_null(s->mounts[0].options);
    assert_string_equal(s->mounts[1].source, "/srv");
    assert_int_equal(s->mounts[1].options_len, 3);
    assert_string_equal(s->mounts[1].options[2], "idmap");
    assert_int_equal(s->mounts[1].uid_mappings_len, 1);
    assert_int_equal(s->mounts[1].uid_mappings[0].host_id, 100000);
    assert_int_equal(s->mounts[1].gid_mappings[0].size, 65536);
    assert_int_equal(s->hooks.prestart_len, 1);
    assert_int_equal(s->hooks.create_runtime_len, 1);
    assert_int_equal(s->hooks.create_runtime[0].args_len, 2);
    assert_string_equal(s->hooks.create_runtime[0].env[0], "K=V");
    assert_true(s->hooks.create_runtime[0].has_timeout);
    assert_int_equal(s->hooks.create_runtime[0].timeout, 5);
    assert_false(s->hooks.prestart[0].has_timeout);
    assert_int_equal(s->hooks.create_container_len, 1);
    assert_int_equal(s->hooks.start_container_len, 1);
    assert_int_equal(s->hooks.poststart_len, 1);
    assert_int_equal(s->hooks.poststop_len, 2);
    assert_string_equal(s->hooks.poststop[1].path, "/bin/f");
    assert_int_equal(s->annotations_len, 2);
    assert_string_equal(spec_annotation(s, "vessel.isolation"), "vm");
    assert_string_equal(spec_annotation(s, "org.example.key"), "value");
    assert_null(spec_annotation(s, "missing"));
}

static void test_full_linux(void **state)
{
    (void)state;
    _cleanup_spec_ struct oci_spec *s = parse_ok(full_doc);
    const struct oci_linux *l = &s->linux_;
    assert_true(l->present);
    assert_int_equal(l->namespaces_len, 8);
    for (int t = 0; t < OCI_NS_COUNT; t++)
        assert_non_null(spec_namespace(s, (enum oci_namespace_type)t));
    assert_string_equal(spec_namespace(s, OCI_NS_NETWORK)->path, "/proc/1/ns/net");
    assert_null(spec_namespace(s, OCI_NS_PID)->path);
    assert_int_equal(l->uid_mappings_len, 2);
    assert_int_equal(l->uid_mappings[1].container_id, 1);
    assert_int_equal(l->uid_mappings[1].size, 65536);
    assert_int_equal(l->gid_mappings_len, 1);
    assert_true(l->time_offset_monotonic.present);
    assert_int_equal(l->time_offset_monotonic.secs, -10);
    assert_int_equal(l->time_offset_monotonic.nanosecs, 5);
    assert_int_equal(l->time_offset_boottime.secs, 86400);
    assert_int_equal(l->devices_len, 2);
    assert_string_equal(l->devices[0].path, "/dev/fuse");
    assert_int_equal(l->devices[0].major, 10);
    assert_int_equal(l->devices[0].minor, 229);
    assert_true(l->devices[0].has_file_mode);
    assert_int_equal(l->devices[0].file_mode, 0666);
    assert_true(l->devices[0].has_uid);
    assert_false(l->devices[1].has_file_mode);
    assert_string_equal(l->cgroups_path, "/mygroup/box");
    assert_int_equal(l->sysctl_len, 2);
    assert_string_equal(l->sysctl[1].key, "kernel/shmmax");
    assert_string_equal(l->rootfs_propagation, "rslave");
    assert_string_equal(l->masked_paths[0], "/proc/kcore");
    assert_string_equal(l->readonly_paths[0], "/proc/sys");
    assert_string_equal(l->mount_label, "ml");
    assert_true(l->personality.present);
    assert_string_equal(l->personality.domain, "LINUX32");
}

static void test_full_resources(void **state)
{
    (void)state;
    _cleanup_spec_ struct oci_spec *s = parse_ok(full_doc);
    const struct oci_resources *r = &s->linux_.resources;
    assert_true(r->present);
    assert_int_equal(r->devices_len, 2);
    assert_false(r->devices[0].allow);
    assert_null(r->devices[0].type);
    assert_true(r->devices[1].has_minor);
    assert_int_equal(r->devices[1].minor, -1);
    assert_true(r->memory.has_limit);
    assert_int_equal(r->memory.limit, 268435456);
    assert_int_equal(r->memory.swap, -1);
    assert_int_equal(r->memory.swappiness, 60);
    assert_true(r->memory.disable_oom_killer);
    assert_true(r->memory.has_use_hierarchy);
    assert_false(r->memory.use_hierarchy);
    assert_int_equal(r->cpu.shares, 1024);
    assert_int_equal(r->cpu.quota, 50000);
    assert_int_equal(r->cpu.period, 100000);
    assert_int_equal(r->cpu.burst, 1000);
    assert_string_equal(r->cpu.cpus, "0-1");
    assert_true(r->cpu.has_idle);
    assert_true(r->has_pids_limit);
    assert_int_equal(r->pids_limit, 64);
    assert_int_equal(r->blkio.weight, 500);
    assert_int_equal(r->blkio.leaf_weight, 300);
    assert_int_equal(r->blkio.weight_device_len, 1);
    assert_int_equal(r->blkio.weight_device[0].weight, 600);
    assert_false(r->blkio.weight_device[0].has_leaf_weight);
    assert_int_equal(r->blkio.throttle_read_bps[0].rate, 1048576);
    assert_int_equal(r->blkio.throttle_write_bps[0].rate, 2);
    assert_int_equal(r->blkio.throttle_read_iops[0].rate, 3);
    assert_int_equal(r->blkio.throttle_write_iops[0].rate, 4);
    assert_string_equal(r->hugepage_limits[0].page_size, "2MB");
    assert_int_equal(r->net_class_id, 1048577);
    assert_string_equal(r->net_priorities[0].name, "eth0");
    assert_int_equal(r->rdma_unused_len, 1);
    assert_string_equal(r->rdma_unused[0].key, "mlx5_1");
    assert_string_equal(r->rdma_unused[0].value, "hcaHandles=3 hcaObjects=10000");
    assert_int_equal(r->unified_len, 2);
    assert_string_equal(r->unified[0].key, "memory.high");
}

static void test_full_seccomp_vm(void **state)
{
    (void)state;
    _cleanup_spec_ struct oci_spec *s = parse_ok(full_doc);
    const struct oci_seccomp *sc = &s->linux_.seccomp;
    assert_true(sc->present);
    assert_string_equal(sc->default_action, "SCMP_ACT_ERRNO");
    assert_true(sc->has_default_errno_ret);
    assert_int_equal(sc->default_errno_ret, 1);
    assert_int_equal(sc->architectures_len, 2);
    assert_string_equal(sc->flags[0], "SECCOMP_FILTER_FLAG_LOG");
    assert_string_equal(sc->listener_path, "/run/notify.sock");
    assert_int_equal(sc->syscalls_len, 3);
    assert_int_equal(sc->syscalls[0].names_len, 2);
    assert_false(sc->syscalls[0].has_errno_ret);
    assert_int_equal(sc->syscalls[1].errno_ret, 38);
    assert_int_equal(sc->syscalls[1].args_len, 1);
    assert_int_equal(sc->syscalls[1].args[0].value, 8);
    assert_string_equal(sc->syscalls[1].args[0].op, "SCMP_CMP_EQ");
    const struct oci_vm *vm = &s->vm;
    assert_true(vm->present);
    assert_string_equal(vm->hypervisor_path, "/usr/bin/qemu-system-x86_64");
    assert_int_equal(vm->hypervisor_parameters_len, 2);
    assert_string_equal(vm->kernel_path, "/boot/vmlinuz");
    assert_string_equal(vm->kernel_parameters[0], "quiet");
    assert_string_equal(vm->kernel_initrd, "/boot/initrd.img");
    assert_string_equal(vm->image_path, "/images/root.qcow2");
    assert_string_equal(vm->image_format, "qcow2");
}

static void test_minimal_and_absent(void **state)
{
    (void)state;
    _cleanup_spec_ struct oci_spec *s = parse_ok(HEAD "}");
    assert_false(s->has_process);
    assert_true(s->has_root);
    assert_false(s->root.readonly);
    assert_null(s->hostname);
    assert_int_equal(s->mounts_len, 0);
    assert_false(s->linux_.present);
    assert_false(s->vm.present);
    assert_null(spec_namespace(s, OCI_NS_PID));
    assert_false(s->process.has_oom_score_adj);
}

static void test_null_is_absent(void **state)
{
    (void)state;
    _cleanup_spec_ struct oci_spec *s =
        parse_ok(DOC("\"hostname\":null,\"mounts\":null,\"linux\":{\"namespaces\":null,\"resources\":null}"));
    assert_null(s->hostname);
    assert_true(s->linux_.present);
    assert_false(s->linux_.resources.present);
}

static void test_vm_image_without_root(void **state)
{
    (void)state;
    _cleanup_spec_ struct oci_spec *s = parse_ok(
        "{\"ociVersion\":\"1.2.0\",\"vm\":{\"kernel\":{\"path\":\"/k\"},\"image\":{\"path\":\"/i\",\"format\":\"raw\"}}}");
    assert_false(s->has_root);
    assert_string_equal(s->vm.image_format, "raw");
}

static void test_namespace_names(void **state)
{
    (void)state;
    assert_string_equal(spec_namespace_name(OCI_NS_PID), "pid");
    assert_string_equal(spec_namespace_name(OCI_NS_NETWORK), "network");
    assert_string_equal(spec_namespace_name(OCI_NS_TIME), "time");
    assert_null(spec_namespace_name(OCI_NS_COUNT));
    assert_int_equal(oci_vocab_find(oci_capability_names, oci_capability_count, "CAP_SYS_ADMIN"), 21);
    assert_int_equal(oci_vocab_find(oci_rlimit_names, oci_rlimit_count, "RLIMIT_NOFILE"), 7);
    assert_int_equal(oci_capability_count, 41);
    assert_int_equal(oci_vocab_find(oci_capability_names, oci_capability_count, "CAP_NOPE"), -1);
}

static void test_free_null(void **state)
{
    (void)state;
    spec_free(NULL);
    struct oci_spec *s = NULL;
    spec_freep(&s);
    assert_null(spec_annotation(NULL, "x"));
}

static void test_load_missing(void **state)
{
    (void)state;
    struct oci_spec *s = NULL;
    struct vessel_error *err = NULL;
    assert_true(spec_load("/nonexistent-bundle", &s, &err) < 0);
    assert_string_equal(err->msg, "open \"/nonexistent-bundle/config.json\": No such file or directory");
    assert_null(s);
    vessel_error_free(err);
}

static void test_load_bundle(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_oci_spec.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof(path), "%s/config.json", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(WITH_PROC("\"terminal\":false"), f);
    fclose(f);
    struct oci_spec *s = NULL;
    struct vessel_error *err = NULL;
    int r = spec_load(dir, &s, &err);
    unlink(path);
    rmdir(dir);
    assert_int_equal(r, 0);
    assert_string_equal(s->process.args[0], "sh");
    spec_free(s);
}

static void test_too_large(void **state)
{
    (void)state;
    size_t len = OCI_SPEC_MAX_FILE + 1;
    char *big = malloc(len);
    assert_non_null(big);
    memset(big, ' ', len);
    struct oci_spec *s = NULL;
    struct vessel_error *err = NULL;
    assert_true(spec_parse(big, len, &s, &err) < 0);
    assert_non_null(strstr(err->msg, "config.json: too large"));
    free(big);
    vessel_error_free(err);
}

static void test_deep_nesting(void **state)
{
    (void)state;
    size_t depth = 100000;
    char *doc = malloc(depth * 2 + 1);
    assert_non_null(doc);
    memset(doc, '[', depth);
    memset(doc + depth, ']', depth);
    doc[2 * depth] = '\0';
    struct oci_spec *s = NULL;
    struct vessel_error *err = NULL;
    assert_true(spec_parse(doc, 2 * depth, &s, &err) < 0);
    assert_string_equal(err->msg, "config.json: invalid JSON: nested too deeply");
    free(doc);
    vessel_error_free(err);
}

static void test_too_many_items(void **state)
{
    (void)state;
    size_t n = OCI_SPEC_MAX_ITEMS + 1;
    size_t cap = n * 6 + 256;
    char *doc = malloc(cap);
    assert_non_null(doc);
    size_t off = (size_t)sprintf(doc, "%s", HEAD ",\"linux\":{\"maskedPaths\":[");
    for (size_t i = 0; i < n; i++)
        off += (size_t)sprintf(doc + off, "%s\"/a\"", i ? "," : "");
    off += (size_t)sprintf(doc + off, "]}}");
    struct oci_spec *s = NULL;
    struct vessel_error *err = NULL;
    assert_true(spec_parse(doc, off, &s, &err) < 0);
    assert_non_null(strstr(err->msg, "linux.maskedPaths: too many entries"));
    free(doc);
    vessel_error_free(err);
}

/* What other runtimes generate (`runc spec`, `crun spec`, rootless too) parses.
 * The files live in the fuzz seed corpus; tests run from the repository root. */
static void test_other_runtimes_specs(void **state)
{
    (void)state;
    static const char *const files[] = {"runc-default.json", "runc-rootless.json", "crun-default.json",
                                        "every-section.json"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char path[128];
        snprintf(path, sizeof(path), "tests/fuzz/corpus/spec/%s", files[i]);
        FILE *f = fopen(path, "r");
        if (f == NULL)
            skip();  /* not run from the repository root */
        static char buf[1 << 16];
        size_t n = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        struct oci_spec *s = NULL;
        struct vessel_error *err = NULL;
        if (spec_parse(buf, n, &s, &err) < 0)
            fail_msg("%s: %s", files[i], err->msg);
        assert_true(s->has_process);
        assert_non_null(spec_namespace(s, OCI_NS_MOUNT));
        spec_free(s);
    }
}

/* Table of documents that must fail, and how their error message starts. */
struct bad_case {
    const char *name;
    const char *json;
    const char *expect;  /* prefix of the error message */
};

static const struct bad_case bad_cases[] = {
    /* document level */
    {"invalid json", "{\"ociVersion\":", "config.json: invalid JSON: "},
    {"trailing garbage", HEAD "} x", "config.json: invalid JSON: "},
    {"not an object", "[1,2]", "config.json: expected a JSON object, got an array"},
    {"nul byte", "{\"a\":1}\0{}", "config.json: invalid JSON: "},
    {"empty", "", "config.json: invalid JSON: "},
    {"comment", "/* ] */ " HEAD "}", "config.json: invalid JSON: comments are not allowed"},
    {"escaped nul", DOC("\"hostname\":\"a\\u0000b\""), "config.json: invalid JSON: contains a NUL character"},
    {"missing ociVersion", "{\"root\":{\"path\":\"r\"}}", "ociVersion: missing required field"},
    {"ociVersion type", "{\"ociVersion\":1}", "ociVersion: expected a string, got a number"},
    {"ociVersion not semver", "{\"ociVersion\":\"one\"}", "ociVersion: \"one\" is not a SemVer version"},
    {"ociVersion major 2", "{\"ociVersion\":\"2.0.0\"}", "ociVersion: unsupported version \"2.0.0\""},
    {"missing root", "{\"ociVersion\":\"1.0.2\"}", "root: missing required field"},
    {"root path missing", "{\"ociVersion\":\"1.0.0\",\"root\":{}}", "root.path: missing required field"},
    {"root path empty", "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"\"}}", "root.path: must not be empty"},
    {"root readonly type", "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\",\"readonly\":\"yes\"}}",
     "root.readonly: expected a boolean, got a string"},
    {"root type", "{\"ociVersion\":\"1.0.0\",\"root\":\"rootfs\"}", "root: expected an object, got a string"},
    {"hostname type", DOC("\"hostname\":[]"), "hostname: expected a string, got an array"},
    {"hostname without uts", DOC("\"hostname\":\"h\",\"linux\":{\"namespaces\":[{\"type\":\"pid\"}]}"),
     "hostname \"h\": a UTS namespace is required"},
    {"domainname without uts", DOC("\"domainname\":\"d\""), "domainname \"d\": a UTS namespace is required"},
    {"hostname too long", DOC("\"hostname\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\""),
     "hostname: longer than 64 bytes"},
    {"annotations type", DOC("\"annotations\":[]"), "annotations: expected an object, got an array"},
    {"annotation value type", DOC("\"annotations\":{\"a\":1}"), "annotations[\"a\"]: expected a string, got a number"},
    {"annotation empty key", DOC("\"annotations\":{\"\":\"x\"}"), "annotations[\"\"]: empty key"},
    {"annotation duplicate key", DOC("\"annotations\":{\"a\":\"x\",\"a\":\"y\"}"), "annotations[\"a\"]: duplicate key"},
    /* process */
    {"process type", DOC("\"process\":true"), "process: expected an object, got a boolean"},
    {"args missing", DOC("\"process\":{\"cwd\":\"/\"}"), "process.args: must be a non-empty array"},
    {"args empty", DOC("\"process\":{\"cwd\":\"/\",\"args\":[]}"), "process.args: must be a non-empty array"},
    {"args type", DOC("\"process\":{\"cwd\":\"/\",\"args\":\"sh\"}"), "process.args: expected an array, got a string"},
    {"args element type", DOC("\"process\":{\"cwd\":\"/\",\"args\":[\"sh\",3]}"),
     "process.args[1]: expected a string, got a number"},
    {"args first empty", DOC("\"process\":{\"cwd\":\"/\",\"args\":[\"\"]}"), "process.args[0]: must not be empty"},
    {"cwd missing", DOC("\"process\":{\"args\":[\"sh\"]}"), "process.cwd: missing required field"},
    {"cwd relative", DOC("\"process\":{\"args\":[\"sh\"],\"cwd\":\"tmp\"}"), "process.cwd: must be an absolute path"},
    {"terminal type", WITH_PROC("\"terminal\":1"), "process.terminal: expected a boolean, got a number"},
    {"env not NAME=VALUE", WITH_PROC("\"env\":[\"A=1\",\"B\"]"), "process.env[1]: \"B\" is not of the form NAME=VALUE"},
    {"env empty name", WITH_PROC("\"env\":[\"=x\"]"), "process.env[0]: \"=x\" is not of the form NAME=VALUE"},
    {"consoleSize missing width", WITH_PROC("\"consoleSize\":{\"height\":1}"), "process.consoleSize.width: missing required field"},
    {"user uid missing", WITH_PROC("\"user\":{\"gid\":0}"), "process.user.uid: missing required field"},
    {"user uid negative", WITH_PROC("\"user\":{\"uid\":-1,\"gid\":0}"), "process.user.uid: must not be negative"},
    {"user uid too big", WITH_PROC("\"user\":{\"uid\":4294967296,\"gid\":0}"), "process.user.uid: 4294967296 is out of range"},
    {"user uid fraction", WITH_PROC("\"user\":{\"uid\":1.5,\"gid\":0}"), "process.user.uid: expected an integer, got 1.5"},
    {"user uid exponent", WITH_PROC("\"user\":{\"uid\":1e3,\"gid\":0}"), "process.user.uid: expected an integer, got 1e3"},
    {"user umask range", WITH_PROC("\"user\":{\"uid\":0,\"gid\":0,\"umask\":512}"), "process.user.umask: 512 is out of range"},
    {"additionalGids element", WITH_PROC("\"user\":{\"uid\":0,\"gid\":0,\"additionalGids\":[1,\"x\"]}"),
     "process.user.additionalGids[1]: expected an integer, got a string"},
    {"capability unknown", WITH_PROC("\"capabilities\":{\"bounding\":[\"CAP_KILL\",\"CAP_FOO\"]}"),
     "process.capabilities.bounding[1]: unknown capability \"CAP_FOO\""},
    {"capability ambient unknown", WITH_PROC("\"capabilities\":{\"ambient\":[\"KILL\"]}"),
     "process.capabilities.ambient[0]: unknown capability \"KILL\""},
    {"rlimit unknown", WITH_PROC("\"rlimits\":[{\"type\":\"RLIMIT_FOO\",\"hard\":1,\"soft\":1}]"),
     "process.rlimits[0].type: unknown rlimit \"RLIMIT_FOO\""},
    {"rlimit soft missing", WITH_PROC("\"rlimits\":[{\"type\":\"RLIMIT_CORE\",\"hard\":1}]"),
     "process.rlimits[0].soft: missing required field"},
    {"rlimit soft over hard", WITH_PROC("\"rlimits\":[{\"type\":\"RLIMIT_CORE\",\"hard\":1,\"soft\":2}]"),
     "process.rlimits[0].soft: must not exceed the hard limit"},
    {"rlimit duplicate",
     WITH_PROC("\"rlimits\":[{\"type\":\"RLIMIT_CORE\",\"hard\":1,\"soft\":1},{\"type\":\"RLIMIT_CORE\",\"hard\":1,\"soft\":1}]"),
     "process.rlimits[1].type: duplicate rlimit \"RLIMIT_CORE\""},
    {"rlimit element type", WITH_PROC("\"rlimits\":[7]"), "process.rlimits[0]: expected an object, got a number"},
    {"rlimit overflow", WITH_PROC("\"rlimits\":[{\"type\":\"RLIMIT_CORE\",\"hard\":18446744073709551616,\"soft\":1}]"),
     "process.rlimits[0].hard: 18446744073709551616 is out of range"},
    {"oomScoreAdj range", WITH_PROC("\"oomScoreAdj\":1001"), "process.oomScoreAdj: 1001 is out of range"},
    {"ioPriority class", WITH_PROC("\"ioPriority\":{\"class\":\"IOPRIO_CLASS_X\"}"),
     "process.ioPriority.class: unknown I/O priority class \"IOPRIO_CLASS_X\""},
    {"ioPriority range", WITH_PROC("\"ioPriority\":{\"class\":\"IOPRIO_CLASS_BE\",\"priority\":8}"),
     "process.ioPriority.priority: 8 is out of range"},
    {"scheduler policy", WITH_PROC("\"scheduler\":{\"policy\":\"SCHED_FAST\"}"),
     "process.scheduler.policy: unknown scheduler policy \"SCHED_FAST\""},
    {"scheduler policy missing", WITH_PROC("\"scheduler\":{\"nice\":1}"), "process.scheduler.policy: missing required field"},
    {"scheduler nice", WITH_PROC("\"scheduler\":{\"policy\":\"SCHED_OTHER\",\"nice\":20}"),
     "process.scheduler.nice: 20 is out of range"},
    {"scheduler flag", WITH_PROC("\"scheduler\":{\"policy\":\"SCHED_OTHER\",\"flags\":[\"SCHED_FLAG_X\"]}"),
     "process.scheduler.flags[0]: unknown scheduler flag \"SCHED_FLAG_X\""},
    {"cpu affinity syntax", WITH_PROC("\"execCPUAffinity\":{\"initial\":\"0-\"}"),
     "process.execCPUAffinity.initial: \"0-\" is not a CPU list"},
    {"cpu affinity reversed", WITH_PROC("\"execCPUAffinity\":{\"final\":\"3-1\"}"),
     "process.execCPUAffinity.final: \"3-1\" is not a CPU list"},
    /* mounts */
    {"mounts type", DOC("\"mounts\":{}"), "mounts: expected an array, got an object"},
    {"mount destination missing", DOC("\"mounts\":[{\"type\":\"tmpfs\"}]"), "mounts[0].destination: missing required field"},
    {"mount destination relative",
     DOC("\"mounts\":[{\"destination\":\"/a\"},{\"destination\":\"/b\"},{\"destination\":\"/c\"},{\"destination\":\"tmp\"}]"),
     "mounts[3].destination: must be an absolute path"},
    {"mount options type", DOC("\"mounts\":[{\"destination\":\"/a\",\"options\":\"ro\"}]"),
     "mounts[0].options: expected an array, got a string"},
    {"mount idmap one side", DOC("\"mounts\":[{\"destination\":\"/a\",\"uidMappings\":[{\"containerID\":0,\"hostID\":1,\"size\":1}]}]"),
     "mounts[0].gidMappings: idmapped mounts need both"},
    /* hooks */
    {"hook path missing", DOC("\"hooks\":{\"prestart\":[{}]}"), "hooks.prestart[0].path: missing required field"},
    {"hook path relative", DOC("\"hooks\":{\"poststop\":[{\"path\":\"x\"}]}"), "hooks.poststop[0].path: must be an absolute path"},
    {"hook timeout zero", DOC("\"hooks\":{\"createRuntime\":[{\"path\":\"/x\",\"timeout\":0}]}"),
     "hooks.createRuntime[0].timeout: 0 is out of range"},
    {"hook args type", DOC("\"hooks\":{\"startContainer\":[{\"path\":\"/x\",\"args\":[1]}]}"),
     "hooks.startContainer[0].args[0]: expected a string, got a number"},
    /* linux */
    {"linux type", DOC("\"linux\":[]"), "linux: expected an object, got an array"},
    {"namespace unknown",
     WITH_LINUX("\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"pidd\"}]"),
     "linux.namespaces[2].type: unknown namespace \"pidd\""},
    {"namespace type missing", WITH_LINUX("\"namespaces\":[{\"path\":\"/proc/1/ns/pid\"}]"),
     "linux.namespaces[0].type: missing required field"},
    {"namespace duplicate", WITH_LINUX("\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"uts\"},{\"type\":\"pid\"}]"),
     "linux.namespaces[2].type: duplicate namespace \"pid\""},
    {"namespace path relative", WITH_LINUX("\"namespaces\":[{\"type\":\"net\",\"path\":\"x\"}]"),
     "linux.namespaces[0].type: unknown namespace \"net\""},
    {"namespace path relative 2", WITH_LINUX("\"namespaces\":[{\"type\":\"network\",\"path\":\"ns/net\"}]"),
     "linux.namespaces[0].path: must be an absolute path"},
    {"mappings without userns",
     WITH_LINUX("\"namespaces\":[{\"type\":\"pid\"}],\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}]"),
     "linux.uidMappings: id mappings need a user namespace"},
    {"gid mappings without userns", WITH_LINUX("\"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}]"),
     "linux.gidMappings: id mappings need a user namespace"},
    {"mapping size zero",
     WITH_LINUX("\"namespaces\":[{\"type\":\"user\"}],\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":0}]"),
     "linux.uidMappings[0].size: must be at least 1"},
    {"mapping overflow",
     WITH_LINUX("\"namespaces\":[{\"type\":\"user\"}],\"uidMappings\":[{\"containerID\":4294967295,\"hostID\":0,\"size\":2}]"),
     "linux.uidMappings[0].size: containerID + size exceeds 2^32"},
    {"mapping overlap",
     WITH_LINUX("\"namespaces\":[{\"type\":\"user\"}],\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":10},"
                "{\"containerID\":5,\"hostID\":5000,\"size\":1}]"),
     "linux.uidMappings[1]: container ids overlap those of entry 0"},
    {"mapping hostID missing", WITH_LINUX("\"namespaces\":[{\"type\":\"user\"}],\"gidMappings\":[{\"containerID\":0,\"size\":1}]"),
     "linux.gidMappings[0].hostID: missing required field"},
    {"time offsets without timens", WITH_LINUX("\"timeOffsets\":{\"monotonic\":{\"secs\":1}}"),
     "linux.timeOffsets: time offsets need a time namespace"},
    {"time offsets unknown clock", WITH_LINUX("\"namespaces\":[{\"type\":\"time\"}],\"timeOffsets\":{\"realtime\":{\"secs\":1}}"),
     "linux.timeOffsets.realtime: unknown clock"},
    {"time offsets nanosecs", WITH_LINUX("\"namespaces\":[{\"type\":\"time\"}],\"timeOffsets\":{\"boottime\":{\"nanosecs\":1000000000}}"),
     "linux.timeOffsets.boottime.nanosecs: 1000000000 is out of range"},
    {"device type unknown", WITH_LINUX("\"devices\":[{\"type\":\"x\",\"path\":\"/dev/x\",\"major\":1,\"minor\":1}]"),
     "linux.devices[0].type: unknown device type \"x\""},
    {"device path relative", WITH_LINUX("\"devices\":[{\"type\":\"c\",\"path\":\"dev/x\",\"major\":1,\"minor\":1}]"),
     "linux.devices[0].path: must be an absolute path"},
    {"device major missing", WITH_LINUX("\"devices\":[{\"type\":\"b\",\"path\":\"/dev/x\",\"minor\":1}]"),
     "linux.devices[0].major: missing required field"},
    {"device major negative", WITH_LINUX("\"devices\":[{\"type\":\"c\",\"path\":\"/dev/x\",\"major\":-1,\"minor\":1}]"),
     "linux.devices[0].major: -1 is out of range"},
    {"device fileMode", WITH_LINUX("\"devices\":[{\"type\":\"p\",\"path\":\"/dev/x\",\"fileMode\":65535}]"),
     "linux.devices[0].fileMode: 65535 is out of range"},
    {"cgroupsPath type", WITH_LINUX("\"cgroupsPath\":5"), "linux.cgroupsPath: expected a string, got a number"},
    {"sysctl value type", WITH_LINUX("\"sysctl\":{\"net.ipv4.ip_forward\":1}"),
     "linux.sysctl[\"net.ipv4.ip_forward\"]: expected a string, got a number"},
    {"sysctl dotdot", WITH_LINUX("\"sysctl\":{\"kernel/../../etc\":\"1\"}"), "linux.sysctl: invalid sysctl name \"kernel/../../etc\""},
    {"propagation unknown", WITH_LINUX("\"rootfsPropagation\":\"sideways\""),
     "linux.rootfsPropagation: unknown propagation \"sideways\""},
    {"masked path relative", WITH_LINUX("\"maskedPaths\":[\"/proc/kcore\",\"proc/keys\"]"),
     "linux.maskedPaths[1]: must be an absolute path"},
    {"readonly path type", WITH_LINUX("\"readonlyPaths\":[null]"), "linux.readonlyPaths[0]: expected a string, got null"},
    {"personality domain", WITH_LINUX("\"personality\":{\"domain\":\"BSD\"}"),
     "linux.personality.domain: unknown personality domain \"BSD\""},
    /* linux.resources */
    {"resources device allow missing", WITH_LINUX("\"resources\":{\"devices\":[{\"access\":\"rwm\"}]}"),
     "linux.resources.devices[0].allow: missing required field"},
    {"resources device access", WITH_LINUX("\"resources\":{\"devices\":[{\"allow\":true,\"access\":\"rwx\"}]}"),
     "linux.resources.devices[0].access: \"rwx\" is not a combination of r, w and m"},
    {"resources device type", WITH_LINUX("\"resources\":{\"devices\":[{\"allow\":true,\"type\":\"p\"}]}"),
     "linux.resources.devices[0].type: unknown device type \"p\""},
    {"memory negative", WITH_LINUX("\"resources\":{\"memory\":{\"limit\":-2}}"),
     "linux.resources.memory.limit: -2 is out of range"},
    {"memory type", WITH_LINUX("\"resources\":{\"memory\":{\"limit\":\"1G\"}}"),
     "linux.resources.memory.limit: expected an integer, got a string"},
    {"swappiness", WITH_LINUX("\"resources\":{\"memory\":{\"swappiness\":101}}"),
     "linux.resources.memory.swappiness: 101 is out of range"},
    {"cpu shares negative", WITH_LINUX("\"resources\":{\"cpu\":{\"shares\":-1}}"),
     "linux.resources.cpu.shares: must not be negative"},
    {"cpu cpus syntax", WITH_LINUX("\"resources\":{\"cpu\":{\"cpus\":\"a-b\"}}"),
     "linux.resources.cpu.cpus: \"a-b\" is not a CPU list"},
    {"cpu idle", WITH_LINUX("\"resources\":{\"cpu\":{\"idle\":2}}"), "linux.resources.cpu.idle: 2 is out of range"},
    {"pids limit missing", WITH_LINUX("\"resources\":{\"pids\":{}}"), "linux.resources.pids.limit: missing required field"},
    {"blkio weight", WITH_LINUX("\"resources\":{\"blockIO\":{\"weight\":5}}"), "linux.resources.blockIO.weight: 5 is out of range"},
    {"blkio throttle rate", WITH_LINUX("\"resources\":{\"blockIO\":{\"throttleReadBpsDevice\":[{\"major\":8,\"minor\":0}]}}"),
     "linux.resources.blockIO.throttleReadBpsDevice[0].rate: missing required field"},
    {"hugepage size", WITH_LINUX("\"resources\":{\"hugepageLimits\":[{\"pageSize\":\"2M\",\"limit\":1}]}"),
     "linux.resources.hugepageLimits[0].pageSize: \"2M\" is not a page size"},
    {"network priority name", WITH_LINUX("\"resources\":{\"network\":{\"priorities\":[{\"priority\":1}]}}"),
     "linux.resources.network.priorities[0].name: missing required field"},
    {"rdma type", WITH_LINUX("\"resources\":{\"rdma\":{\"mlx\":1}}"), "linux.resources.rdma.mlx: expected an object, got a number"},
    {"unified escape", WITH_LINUX("\"resources\":{\"unified\":{\"../../x\":\"1\"}}"),
     "linux.resources.unified: invalid cgroup file name \"../../x\""},
    /* linux.seccomp */
    {"seccomp defaultAction missing", WITH_LINUX("\"seccomp\":{}"), "linux.seccomp.defaultAction: missing required field"},
    {"seccomp action unknown", WITH_LINUX("\"seccomp\":{\"defaultAction\":\"SCMP_ACT_MAYBE\"}"),
     "linux.seccomp.defaultAction: unknown seccomp action \"SCMP_ACT_MAYBE\""},
    {"seccomp arch unknown", WITH_LINUX("\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_Z80\"]}"),
     "linux.seccomp.architectures[0]: unknown seccomp architecture \"SCMP_ARCH_Z80\""},
    {"seccomp flag unknown", WITH_LINUX("\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_X\"]}"),
     "linux.seccomp.flags[0]: unknown seccomp flag \"SECCOMP_FILTER_FLAG_X\""},
    {"seccomp syscall names empty",
     WITH_LINUX("\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[],\"action\":\"SCMP_ACT_KILL\"}]}"),
     "linux.seccomp.syscalls[0].names: must be a non-empty array"},
    {"seccomp syscall action",
     WITH_LINUX("\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"KILL\"}]}"),
     "linux.seccomp.syscalls[0].action: unknown seccomp action \"KILL\""},
    {"seccomp operator",
     WITH_LINUX("\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],"
                "\"action\":\"SCMP_ACT_KILL\",\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_XOR\"}]}]}"),
     "linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator \"SCMP_CMP_XOR\""},
    {"seccomp arg index",
     WITH_LINUX("\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],"
                "\"action\":\"SCMP_ACT_KILL\",\"args\":[{\"index\":6,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}"),
     "linux.seccomp.syscalls[0].args[0].index: 6 is out of range"},
    {"seccomp notify without listener",
     WITH_LINUX("\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mount\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}"),
     "linux.seccomp.listenerPath: required when SCMP_ACT_NOTIFY is used"},
    /* vm */
    {"vm kernel missing", DOC("\"vm\":{\"hypervisor\":{\"path\":\"/usr/bin/qemu\"}}"), "vm.kernel: missing required field"},
    {"vm kernel path relative", DOC("\"vm\":{\"kernel\":{\"path\":\"vmlinuz\"}}"), "vm.kernel.path: must be an absolute path"},
    {"vm initrd relative", DOC("\"vm\":{\"kernel\":{\"path\":\"/k\",\"initrd\":\"i\"}}"), "vm.kernel.initrd: must be an absolute path"},
    {"vm hypervisor path missing", DOC("\"vm\":{\"hypervisor\":{},\"kernel\":{\"path\":\"/k\"}}"),
     "vm.hypervisor.path: missing required field"},
    {"vm image format", DOC("\"vm\":{\"kernel\":{\"path\":\"/k\"},\"image\":{\"path\":\"/i\",\"format\":\"iso\"}}"),
     "vm.image.format: unknown image format \"iso\""},
    {"vm image format missing", DOC("\"vm\":{\"kernel\":{\"path\":\"/k\"},\"image\":{\"path\":\"/i\"}}"),
     "vm.image.format: missing required field"},
};

static void test_bad_case(void **state)
{
    const struct bad_case *bc = *state;
    struct oci_spec *spec = NULL;
    struct vessel_error *err = NULL;
    size_t len = strlen(bc->json);
    if (strcmp(bc->name, "nul byte") == 0)
        len = 10;  /* the NUL is part of the document */
    int r = spec_parse(bc->json, len, &spec, &err);
    if (r >= 0) {
        spec_free(spec);
        fail_msg("%s: parsed, expected error \"%s\"", bc->name, bc->expect);
    }
    assert_null(spec);
    assert_non_null(err);
    if (strncmp(err->msg, bc->expect, strlen(bc->expect)) != 0)
        fail_msg("%s: got \"%s\", expected a message starting \"%s\"", bc->name, err->msg, bc->expect);
    vessel_error_free(err);
}

int main(void)
{
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_full_process),
        cmocka_unit_test(test_full_root_mounts_hooks),
        cmocka_unit_test(test_full_linux),
        cmocka_unit_test(test_full_resources),
        cmocka_unit_test(test_full_seccomp_vm),
        cmocka_unit_test(test_minimal_and_absent),
        cmocka_unit_test(test_null_is_absent),
        cmocka_unit_test(test_vm_image_without_root),
        cmocka_unit_test(test_namespace_names),
        cmocka_unit_test(test_free_null),
        cmocka_unit_test(test_load_missing),
        cmocka_unit_test(test_load_bundle),
        cmocka_unit_test(test_too_large),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_too_many_items),
        cmocka_unit_test(test_other_runtimes_specs),
    };
    size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);
    size_t nbad = sizeof(bad_cases) / sizeof(bad_cases[0]);
    struct CMUnitTest *tests = calloc(nfixed + nbad, sizeof(*tests));
    if (tests == NULL)
        return 1;
    memcpy(tests, fixed, sizeof(fixed));
    for (size_t i = 0; i < nbad; i++) {
        tests[nfixed + i].name = bad_cases[i].name;
        tests[nfixed + i].test_func = test_bad_case;
        tests[nfixed + i].initial_state = (void *)&bad_cases[i];
    }
    int failed = _cmocka_run_group_tests("oci_spec", tests, nfixed + nbad, NULL, NULL);
    free(tests);
    return failed;
}
