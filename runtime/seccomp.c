/* linux.seccomp with libseccomp: the filter is built by libseccomp, exported
 * as BPF and loaded with seccomp(2) directly, so every OCI flag (including
 * WAIT_KILLABLE_RECV, which this libseccomp lacks) and the listener work. */
#include "runtime/seccomp.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif
#define BPF_MAX_BYTES (1u << 20)

/* Connection and message made by seccomp_listener_prepare. */
static int listener_fd = -1;
static char *listener_msg;

struct name_value { const char *name; unsigned long value; };

static const struct name_value filter_flags[] = {
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
};

static const struct name_value operators[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT}, {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ}, {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

static const char *const oci_archs[] = {
    "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64",
    "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",
    "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64",
    "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_PARISC",
    "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64", "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K",
    "SCMP_ARCH_SH", "SCMP_ARCH_SHEB",
};

/* "SCMP_ARCH_X86_64" -> libseccomp token, 0 when this libseccomp lacks it. */
static uint32_t arch_token(const char *oci_name)
{
    if (strncmp(oci_name, "SCMP_ARCH_", 10) != 0)
        return 0;
    char lower[32];
    size_t i = 0;
    for (const char *p = oci_name + 10; *p && i < sizeof(lower) - 1; p++)
        lower[i++] = (char)tolower((unsigned char)*p);
    lower[i] = '\0';
    return seccomp_arch_resolve_name(lower);
}

/* OCI action name -> libseccomp action; errno_ret when has_errno. */
static int action_value(const char *name, bool has_errno, uint32_t errno_ret, uint32_t *out)
{
    uint32_t e = has_errno ? errno_ret : EPERM;
    if (strcmp(name, "SCMP_ACT_KILL") == 0 || strcmp(name, "SCMP_ACT_KILL_THREAD") == 0)
        *out = SCMP_ACT_KILL_THREAD;
    else if (strcmp(name, "SCMP_ACT_KILL_PROCESS") == 0)
        *out = SCMP_ACT_KILL_PROCESS;
    else if (strcmp(name, "SCMP_ACT_TRAP") == 0)
        *out = SCMP_ACT_TRAP;
    else if (strcmp(name, "SCMP_ACT_ERRNO") == 0)
        *out = SCMP_ACT_ERRNO(e & 0xffff);
    else if (strcmp(name, "SCMP_ACT_TRACE") == 0)
        *out = SCMP_ACT_TRACE(e & 0xffff);
    else if (strcmp(name, "SCMP_ACT_ALLOW") == 0)
        *out = SCMP_ACT_ALLOW;
    else if (strcmp(name, "SCMP_ACT_LOG") == 0)
        *out = SCMP_ACT_LOG;
    else if (strcmp(name, "SCMP_ACT_NOTIFY") == 0)
        *out = SCMP_ACT_NOTIFY;
    else
        return -EINVAL;
    return 0;
}

static int add_syscall_rules(scmp_filter_ctx ctx, const struct oci_seccomp_syscall *s, size_t idx,
                             uint32_t default_action, struct vessel_error **err)
{
    uint32_t action;
    if (action_value(s->action, s->has_errno_ret, s->errno_ret, &action) < 0)
        return vessel_error_set(err, EINVAL, "linux.seccomp.syscalls[%zu].action: unknown action \"%s\"",
                                idx, s->action);
    if (action == default_action)
        return 0;  /* libseccomp refuses rules equal to the default; they change nothing */
    if (s->args_len > 6 * 8)
        return vessel_error_set(err, E2BIG, "linux.seccomp.syscalls[%zu].args: too many", idx);
    struct scmp_arg_cmp cmps[6 * 8];
    bool repeated = false;
    for (size_t i = 0; i < s->args_len; i++) {
        const struct oci_seccomp_arg *a = &s->args[i];
        size_t op;
        for (op = 0; op < sizeof(operators) / sizeof(operators[0]); op++)
            if (a->op != NULL && strcmp(a->op, operators[op].name) == 0)
                break;
        if (op == sizeof(operators) / sizeof(operators[0]) || a->index > 5)
            return vessel_error_set(err, EINVAL, "linux.seccomp.syscalls[%zu].args[%zu]: invalid", idx, i);
        cmps[i] = (struct scmp_arg_cmp){.arg = a->index, .op = (enum scmp_compare)operators[op].value,
                                        .datum_a = a->value, .datum_b = a->value_two};
        for (size_t j = 0; j < i; j++)
            repeated = repeated || cmps[j].arg == cmps[i].arg;
    }
    for (size_t n = 0; n < s->names_len; n++) {
        int nr = seccomp_syscall_resolve_name(s->names[n]);
        if (nr == __NR_SCMP_ERROR)
            continue;  /* unknown on this architecture or to this libseccomp */
        int r = 0;
        if (repeated) {
            /* libseccomp cannot AND two checks of one argument: runc makes them alternatives. */
            for (size_t i = 0; i < s->args_len && r == 0; i++)
                r = seccomp_rule_add_array(ctx, action, nr, 1, &cmps[i]);
        } else {
            r = seccomp_rule_add_array(ctx, action, nr, (unsigned)s->args_len, cmps);
        }
        if (r < 0)
            return vessel_error_set(err, -r, "linux.seccomp.syscalls[%zu]: add rule for \"%s\"", idx,
                                    s->names[n]);
    }
    return 0;
}

static int build_filter(const struct oci_seccomp *sc, scmp_filter_ctx *out, bool *notify,
                        struct vessel_error **err)
{
    uint32_t def;
    if (sc->default_action == NULL ||
        action_value(sc->default_action, sc->has_default_errno_ret, sc->default_errno_ret, &def) < 0)
        return vessel_error_set(err, EINVAL, "linux.seccomp.defaultAction: unknown action \"%s\"",
                                sc->default_action ? sc->default_action : "");
    *notify = def == SCMP_ACT_NOTIFY;
    scmp_filter_ctx ctx = seccomp_init(def);
    if (ctx == NULL)
        return vessel_error_set(err, EINVAL, "linux.seccomp: create filter");
    /* We set no_new_privs ourselves and load the filter with seccomp(2). */
    int r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
    if (r < 0)
        r = vessel_error_set(err, -r, "linux.seccomp: filter attributes");
    for (size_t i = 0; r == 0 && i < sc->architectures_len; i++) {
        uint32_t tok = arch_token(sc->architectures[i]);
        if (tok == 0)
            continue;
        r = seccomp_arch_add(ctx, tok);
        if (r == -EEXIST)
            r = 0;
        if (r < 0)
            r = vessel_error_set(err, -r, "linux.seccomp.architectures[%zu]: add \"%s\"", i,
                                 sc->architectures[i]);
    }
    for (size_t i = 0; r == 0 && i < sc->syscalls_len; i++) {
        uint32_t act = 0;
        if (action_value(sc->syscalls[i].action, false, 0, &act) == 0 && act == SCMP_ACT_NOTIFY)
            *notify = true;
        r = add_syscall_rules(ctx, &sc->syscalls[i], i, def, err);
    }
    if (r < 0) {
        seccomp_release(ctx);
        return r;
    }
    *out = ctx;
    return 0;
}

/* The filter as BPF, via a memfd (this libseccomp has no in-memory export). */
static int export_bpf(scmp_filter_ctx ctx, struct sock_filter **prog, size_t *len,
                      struct vessel_error **err)
{
    _cleanup_close_ int fd = memfd_create("vessel-seccomp", MFD_CLOEXEC);
    if (fd < 0)
        return vessel_error_set(err, errno, "linux.seccomp: memfd");
    int r = seccomp_export_bpf(ctx, fd);
    if (r < 0)
        return vessel_error_set(err, -r, "linux.seccomp: export filter");
    off_t size = lseek(fd, 0, SEEK_END);
    if (size <= 0 || size > BPF_MAX_BYTES || size % (off_t)sizeof(struct sock_filter) != 0 ||
        lseek(fd, 0, SEEK_SET) < 0)
        return vessel_error_set(err, EINVAL, "linux.seccomp: exported filter has a bad size");
    struct sock_filter *buf = malloc((size_t)size);
    if (buf == NULL)
        return vessel_error_set(err, ENOMEM, "linux.seccomp: export filter");
    if (read_all_fd(fd, buf, (size_t)size) != (ssize_t)size) {
        free(buf);
        return vessel_error_set(err, EIO, "linux.seccomp: read exported filter");
    }
    *prog = buf;
    *len = (size_t)size / sizeof(struct sock_filter);
    return 0;
}

static int filter_flags_of(const struct oci_seccomp *sc, unsigned long *flags, struct vessel_error **err)
{
    *flags = 0;
    for (size_t i = 0; i < sc->flags_len; i++) {
        if (strcmp(sc->flags[i], "SECCOMP_FILTER_FLAG_TSYNC") == 0)
            continue;
        size_t k;
        for (k = 0; k < sizeof(filter_flags) / sizeof(filter_flags[0]); k++)
            if (strcmp(sc->flags[i], filter_flags[k].name) == 0)
                break;
        if (k == sizeof(filter_flags) / sizeof(filter_flags[0]))
            return vessel_error_set(err, EINVAL, "linux.seccomp.flags[%zu]: unknown flag \"%s\"", i,
                                    sc->flags[i]);
        *flags |= filter_flags[k].value;
    }
    return 0;
}

static int json_append_escaped(char **buf, const char *s)
{
    size_t old = strlen(*buf), add = 2;
    for (const char *p = s; *p; p++)
        add += 6;
    char *nb = realloc(*buf, old + add + 1);
    if (nb == NULL)
        return -ENOMEM;
    char *w = nb + old;
    *w++ = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            *w++ = '\\';
            *w++ = (char)*p;
        } else if (*p < 0x20) {
            w += sprintf(w, "\\u%04x", *p);
        } else {
            *w++ = (char)*p;
        }
    }
    *w++ = '"';
    *w = '\0';
    *buf = nb;
    return 0;
}

static int listener_connect(const char *path, struct vessel_error **err)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(addr.sun_path))
        return vessel_error_set(err, ENAMETOOLONG, "linux.seccomp.listenerPath \"%s\"", path);
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return vessel_error_set(err, errno, "linux.seccomp.listenerPath: socket");
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        int e = errno;
        close(fd);
        return vessel_error_set(err, e, "linux.seccomp.listenerPath: connect to \"%s\"", path);
    }
    return fd;
}

int seccomp_listener_prepare(const struct oci_seccomp *sc, const char *state_json, pid_t pid,
                             struct vessel_error **err)
{
    if (!sc->present || sc->listener_path == NULL)
        return 0;
    char *msg = NULL;
    if (asprintf(&msg, "{\"ociVersion\":\"1.2.0\",\"fds\":[\"seccompFd\"],\"pid\":%d,\"metadata\":",
                 (int)pid) < 0)
        return vessel_error_set(err, ENOMEM, "seccomp listener message");
    if (json_append_escaped(&msg, sc->listener_metadata ? sc->listener_metadata : "") < 0) {
        free(msg);
        return vessel_error_set(err, ENOMEM, "seccomp listener message");
    }
    size_t len = strlen(msg), slen = state_json ? strlen(state_json) : 0;
    char *nb = realloc(msg, len + slen + 16);
    if (nb == NULL) {
        free(msg);
        return vessel_error_set(err, ENOMEM, "seccomp listener message");
    }
    msg = nb;
    if (state_json != NULL)
        sprintf(msg + len, ",\"state\":%s}", state_json);
    else
        strcpy(msg + len, "}");
    int fd = listener_connect(sc->listener_path, err);
    if (fd < 0) {
        free(msg);
        return fd;
    }
    if (listener_fd >= 0)
        close(listener_fd);
    free(listener_msg);
    listener_fd = fd;
    listener_msg = msg;
    return 0;
}

static int listener_send(int notify_fd)
{
    struct iovec iov = {.iov_base = listener_msg, .iov_len = strlen(listener_msg)};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof(u));
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                        .msg_controllen = sizeof(u.buf)};
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &notify_fd, sizeof(int));
    ssize_t n;
    do {
        n = sendmsg(listener_fd, &mh, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : 0;
}

int seccomp_load_spec(const struct oci_seccomp *sc, bool no_new_privs, struct vessel_error **err)
{
    if (!sc->present)
        return 0;
    unsigned long flags;
    int r = filter_flags_of(sc, &flags, err);
    if (r < 0)
        return r;
    scmp_filter_ctx ctx = NULL;
    bool notify = false;
    r = build_filter(sc, &ctx, &notify, err);
    if (r < 0)
        return r;
    struct sock_filter *insns = NULL;
    size_t n = 0;
    r = export_bpf(ctx, &insns, &n, err);
    seccomp_release(ctx);
    if (r < 0)
        return r;
    if (notify) {
        if (listener_fd < 0 && sc->listener_path != NULL) {
            r = seccomp_listener_prepare(sc, NULL, getpid(), err);
            if (r < 0) {
                free(insns);
                return r;
            }
        }
        if (listener_fd < 0) {
            free(insns);
            return vessel_error_set(err, EINVAL, "linux.seccomp: SCMP_ACT_NOTIFY needs listenerPath");
        }
        flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    } else {
        flags &= ~SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;  /* the kernel wants a listener with it */
    }
    if (no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        free(insns);
        return vessel_error_set(err, errno, "prctl(PR_SET_NO_NEW_PRIVS)");
    }
    struct sock_fprog prog = {.len = (unsigned short)n, .filter = insns};
    long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
    int e = errno;
    free(insns);
    if (fd < 0)
        return vessel_error_set(err, e, "load seccomp filter");
    if (notify) {
        r = listener_send((int)fd);
        close((int)fd);
        close(listener_fd);
        listener_fd = -1;
        free(listener_msg);
        listener_msg = NULL;
        if (r < 0)
            return vessel_error_set(err, -r, "send seccomp notify fd to \"%s\"", sc->listener_path);
    }
    return 0;
}

void seccomp_strv_free(char **v, size_t n)
{
    for (size_t i = 0; v != NULL && i < n; i++)
        free(v[i]);
    free(v);
}

int seccomp_features(char ***archs, size_t *narchs, char ***flags, size_t *nflags)
{
    size_t na = sizeof(oci_archs) / sizeof(oci_archs[0]);
    size_t nf = sizeof(filter_flags) / sizeof(filter_flags[0]);
    char **a = calloc(na, sizeof(*a));
    char **f = calloc(nf, sizeof(*f));
    size_t ia = 0, jf = 0;
    if (a == NULL || f == NULL)
        goto oom;
    for (size_t i = 0; i < na; i++) {
        if (arch_token(oci_archs[i]) == 0)
            continue;
        if ((a[ia] = strdup(oci_archs[i])) == NULL)
            goto oom;
        ia++;
    }
    for (size_t i = 0; i < nf; i++) {
        /* A known flag with a NULL program fails with EFAULT; an unknown one with EINVAL. */
        unsigned long probe = filter_flags[i].value;
        if (probe == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
            probe |= SECCOMP_FILTER_FLAG_NEW_LISTENER;  /* only valid together */
        errno = 0;
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, probe, NULL) < 0 &&
            errno == EFAULT) {
            if ((f[jf] = strdup(filter_flags[i].name)) == NULL)
                goto oom;
            jf++;
        }
    }
    *archs = a;
    *narchs = ia;
    *flags = f;
    *nflags = jf;
    return 0;
oom:
    seccomp_strv_free(a, ia);
    seccomp_strv_free(f, jf);
    return -ENOMEM;
}
