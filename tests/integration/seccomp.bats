#!/usr/bin/env bats
# linux.seccomp as the workload sees it: errno rules, kill actions, the
# default action, both load points (with and without noNewPrivileges),
# unknown syscall names, flags, and the SCMP_ACT_NOTIFY listener.

load helpers

setup() { vessel_setup; }
teardown() {
    [ -n "${LISTENER_PID:-}" ] && kill "$LISTENER_PID" 2>/dev/null
    vessel_teardown
}

# seccomp object as JSON (python literal) for spec_set.
set_seccomp() {
    spec_set "$BUNDLE" "[\"linux\"][\"seccomp\"]=$1" "${@:2}"
}

@test "seccomp: an ERRNO rule makes the syscall fail with EPERM" {
    set_seccomp '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}' \
        '["process"]["args"]=["sh","-c","mkdir /tmp/x; echo rc=$?"]'
    run vessel run -b "$BUNDLE" "$(cid)"
    assert_success
    assert_output --partial "Operation not permitted"
    assert_output --partial "rc=1"
}

@test "seccomp: errnoRet picks the errno" {
    set_seccomp '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":28}]}' \
        '["process"]["args"]=["mkdir","/tmp/x"]'
    run vessel run -b "$BUNDLE" "$(cid)"
    assert_failure
    assert_output --partial "No space left on device"
}

@test "seccomp: the filter also works without noNewPrivileges (loaded before caps drop)" {
    set_seccomp '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":28}]}' \
        '["process"]["noNewPrivileges"]=False' \
        '["process"]["args"]=["sh","-c","grep ^NoNewPrivs /proc/self/status; grep ^Seccomp: /proc/self/status; mkdir /tmp/x"]'
    run vessel run -b "$BUNDLE" "$(cid)"
    assert_failure
    assert_line $'NoNewPrivs:\t0'
    assert_line $'Seccomp:\t2'
    assert_output --partial "No space left on device"
}

@test "seccomp: arguments are compared (EQ on an argument)" {
    # kill(pid, SIGUSR1) is denied; kill(pid, 0) is not.
    set_seccomp '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["kill"],"action":"SCMP_ACT_ERRNO","args":[{"index":1,"value":10,"op":"SCMP_CMP_EQ"}]}]}' \
        '["process"]["args"]=["sh","-c","kill -0 $$ && echo zero-ok; kill -USR1 $$ 2>&1; echo rc=$?"]'
    run vessel run -b "$BUNDLE" "$(cid)"
    assert_success
    assert_line "zero-ok"
    assert_output --partial "Operation not permitted"
    assert_line "rc=1"
}

@test "seccomp: SCMP_ACT_KILL_PROCESS kills the workload with SIGSYS" {
    set_seccomp '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_KILL_PROCESS"}]}' \
        '["process"]["args"]=["mkdir","/tmp/x"]'
    run vessel run -b "$BUNDLE" "$(cid)"
    assert_failure 159  # 128 + SIGSYS (31)
}

@test "seccomp: defaultAction ERRNO with defaultErrnoRet and an allow list" {
    # Enough for busybox to start and write; opening files is left to the default.
    local allow='"execve","arch_prctl","set_tid_address","set_robust_list","rseq","brk","mmap","munmap","mprotect","exit_group","exit","write","writev","getpid","getuid","geteuid","getgid","getegid","getppid","prlimit64","readlink","uname","rt_sigaction","rt_sigprocmask","rt_sigreturn","ioctl","fstat","newfstatat","fcntl","close","read","lseek"'
    set_seccomp "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,\"syscalls\":[{\"names\":[$allow],\"action\":\"SCMP_ACT_ALLOW\"}]}" \
        '["process"]["args"]=["cat","/etc/hostname"]'
    run vessel run -b "$BUNDLE" "$(cid)"
    assert_failure
    assert_output --partial "Function not implemented"
}

@test "seccomp: unknown syscall names are skipped, other architectures accepted" {
    set_seccomp '{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"],"syscalls":[{"names":["no_such_syscall_at_all","mkdirat","mkdir"],"action":"SCMP_ACT_ERRNO"}]}' \
        '["process"]["args"]=["sh","-c","mkdir /tmp/x 2>&1; echo done"]'
    run vessel run -b "$BUNDLE" "$(cid)"
    assert_success
    assert_output --partial "Operation not permitted"
    assert_line "done"
}

@test "seccomp: flags LOG and SPEC_ALLOW are accepted" {
    set_seccomp '{"defaultAction":"SCMP_ACT_ALLOW","flags":["SECCOMP_FILTER_FLAG_LOG","SECCOMP_FILTER_FLAG_SPEC_ALLOW"],"syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}' \
        '["process"]["args"]=["sh","-c","grep ^Seccomp: /proc/self/status"]'
    run vessel run -b "$BUNDLE" "$(cid)"
    assert_success
    assert_output $'Seccomp:\t2'
}

@test "seccomp: SCMP_ACT_NOTIFY sends the fd and the state to listenerPath" {
    local sock="$TEST_TMP/listener.sock" out="$TEST_TMP/listener.json"
    # A listener that records what it got, then closes the notify fd: the
    # notified syscall then fails with ENOSYS instead of blocking.
    python3 - "$sock" "$out" <<'PY' &
import array, json, os, socket, sys
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(1)
open(out + ".ready", "w").close()
c, _ = s.accept()
fds = array.array("i")
msg, anc, _, _ = c.recvmsg(65536, socket.CMSG_SPACE(4))
for level, typ, data in anc:
    if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
        fds.frombytes(data[:4])
doc = json.loads(msg)
doc["received_fds"] = len(fds)
with open(out, "w") as f:
    json.dump(doc, f)
for fd in fds:
    os.close(fd)
PY
    LISTENER_PID=$!
    for _ in $(seq 1 500); do [ -e "$out.ready" ] && break; sleep 0.01; done
    set_seccomp "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"$sock\",\"listenerMetadata\":\"hello\",\"syscalls\":[{\"names\":[\"mkdir\",\"mkdirat\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}" \
        '["process"]["args"]=["sh","-c","mkdir /tmp/x 2>&1; echo rc=$?"]'
    run vessel run -b "$BUNDLE" "$(cid)"
    assert_success
    assert_output --partial "Function not implemented"
    wait "$LISTENER_PID"
    LISTENER_PID=
    run python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["fds"], d["metadata"], d["received_fds"], d["pid"] > 0, d["state"]["id"])' "$out"
    assert_output "['seccompFd'] hello 1 True $(cid)"
}
