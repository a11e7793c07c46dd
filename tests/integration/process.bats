#!/usr/bin/env bats
# Process setup as the workload sees it: user and groups, umask, env, cwd,
# rlimits, capabilities, no_new_privs, oom score, scheduler, I/O priority,
# personality, and the errors for a bad cwd or command.

load helpers

setup() { vessel_setup; }
teardown() { vessel_teardown; }

# Run the bundle with args "sh -c SCRIPT" and the given spec edits.
run_sh() {
    local script="$1"
    shift
    spec_set "$BUNDLE" "[\"process\"][\"args\"]=[\"sh\",\"-c\",$(printf '%s' "$script" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')]" "$@"
    run vessel run -b "$BUNDLE" "$(cid)"
}

@test "process: uid, gid and additionalGids are applied" {
    run_sh 'grep -E "^(Uid|Gid|Groups):" /proc/self/status' \
        '["process"]["user"]={"uid":1000,"gid":1001,"additionalGids":[10,20]}'
    assert_success
    assert_line --regexp $'^Uid:\t1000\t1000\t1000\t1000$'
    assert_line --regexp $'^Gid:\t1001\t1001\t1001\t1001$'
    assert_line --regexp $'^Groups:\t10 20 ?$'
}

@test "process: supplementary groups are cleared without additionalGids" {
    run_sh 'grep "^Groups:" /proc/self/status' '["process"]["user"]={"uid":0,"gid":0}'
    assert_success
    assert_output --regexp $'^Groups:\t? *$'
}

@test "process: umask from the spec, 0022 by default" {
    run_sh 'umask' '["process"]["user"]["umask"]=0o077'
    assert_success
    assert_output "0077"
    run_sh 'umask' 'c["process"]["user"].pop("umask", None)'
    assert_success
    assert_output "0022"
}

@test "process: env is passed, HOME comes from the container's /etc/passwd" {
    run_sh 'echo "FOO=$FOO HOME=$HOME PATH=$PATH"' \
        '["process"]["env"]=["FOO=bar baz","PATH=/bin"]' '["process"]["user"]={"uid":1,"gid":1}'
    assert_success
    assert_output "FOO=bar baz HOME=/usr/sbin PATH=/bin"
}

@test "process: PATH defaults when the spec has none; HOME is / for an unknown uid" {
    spec_set "$BUNDLE" '["process"]["args"]=["env"]' '["process"]["env"]=["A=1"]' \
        '["process"]["user"]={"uid":4242,"gid":4242}'
    run vessel run -b "$BUNDLE" "$(cid)"
    assert_success
    assert_line "A=1"
    assert_line "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    assert_line "HOME=/"
}

@test "process: an /etc/passwd that is a FIFO does not hang create; HOME is /" {
    rm -f "$BUNDLE/rootfs/etc/passwd"
    mkfifo "$BUNDLE/rootfs/etc/passwd"
    spec_set "$BUNDLE" '["process"]["args"]=["sh","-c","echo HOME=$HOME"]' '["process"]["env"]=["PATH=/bin"]' \
        '["process"]["user"]={"uid":1,"gid":1}'
    # timeout only guards against the hang this test is about.
    run timeout 60 "$VESSEL_BIN" --root "$ROOT" run -b "$BUNDLE" "$(cid)"
    assert_success
    assert_output "HOME=/"
}

@test "process: an explicit HOME is kept" {
    run_sh 'echo $HOME' '["process"]["env"]=["PATH=/bin","HOME=/somewhere"]'
    assert_success
    assert_output "/somewhere"
}

@test "process: cwd is entered" {
    run_sh 'pwd' '["process"]["cwd"]="/tmp"'
    assert_success
    assert_output "/tmp"
}

@test "process: a missing cwd fails with the path and the error" {
    run_sh 'pwd' '["process"]["cwd"]="/does/not/exist"'
    assert_failure
    assert_output --partial 'process.cwd "/does/not/exist": No such file or directory'
}

@test "process: an unknown command fails with the name and the error" {
    spec_set "$BUNDLE" '["process"]["args"]=["no-such-command"]'
    run vessel run -b "$BUNDLE" "$(cid)"
    assert_failure
    # runc says "executable file not found in $PATH" here; the name must be in it.
    assert_output --regexp 'exec "no-such-command": (No such file or directory|executable file not found)'
}

@test "process: rlimits are set (soft and hard)" {
    run_sh 'ulimit -S -n; ulimit -H -n; ulimit -S -c' \
        '["process"]["rlimits"]=[{"type":"RLIMIT_NOFILE","soft":512,"hard":1000},{"type":"RLIMIT_CORE","soft":0,"hard":0}]'
    assert_success
    assert_output $'512\n1000\n0'
}

@test "process: the capability sets are exactly the spec's" {
    # CAP_KILL 5, CAP_NET_BIND_SERVICE 10, CAP_AUDIT_WRITE 29 (the bundle default)
    run_sh 'grep ^Cap /proc/self/status'
    assert_success
    assert_line $'CapInh:\t0000000000000000'
    assert_line $'CapPrm:\t0000000020000420'
    assert_line $'CapEff:\t0000000020000420'
    assert_line $'CapBnd:\t0000000020000420'
    assert_line $'CapAmb:\t0000000000000000'
}

@test "process: a non-root user keeps the listed caps, including ambient" {
    run_sh 'grep ^Cap /proc/self/status' \
        '["process"]["user"]={"uid":1000,"gid":1000}' \
        '["process"]["capabilities"]={"bounding":["CAP_KILL","CAP_CHOWN"],"effective":["CAP_KILL"],"permitted":["CAP_KILL"],"inheritable":["CAP_KILL"],"ambient":["CAP_KILL"]}'
    assert_success
    assert_line $'CapInh:\t0000000000000020'
    assert_line $'CapPrm:\t0000000000000020'
    assert_line $'CapEff:\t0000000000000020'
    assert_line $'CapBnd:\t0000000000000021'
    assert_line $'CapAmb:\t0000000000000020'
}

@test "process: without a capabilities object a non-root user has none" {
    run_sh 'grep -E "^Cap(Prm|Eff)" /proc/self/status' \
        '["process"]["user"]={"uid":1000,"gid":1000}' 'del c["process"]["capabilities"]'
    assert_success
    assert_line $'CapPrm:\t0000000000000000'
    assert_line $'CapEff:\t0000000000000000'
}

@test "process: noNewPrivileges is visible in /proc/self/status" {
    run_sh 'grep ^NoNewPrivs /proc/self/status' '["process"]["noNewPrivileges"]=True'
    assert_success
    assert_output $'NoNewPrivs:\t1'
    run_sh 'grep ^NoNewPrivs /proc/self/status' '["process"]["noNewPrivileges"]=False'
    assert_success
    assert_output $'NoNewPrivs:\t0'
}

@test "process: oomScoreAdj is applied" {
    run_sh 'cat /proc/self/oom_score_adj' '["process"]["oomScoreAdj"]=500'
    assert_success
    assert_output "500"
}

@test "process: scheduler policy and nice" {
    # /proc/PID/stat: field 19 is nice, field 41 the policy (SCHED_BATCH = 3).
    run_sh 'awk "{ print \$19, \$41 }" /proc/self/stat' \
        '["process"]["scheduler"]={"policy":"SCHED_BATCH","nice":7}'
    assert_success
    assert_output "7 3"
}

@test "process: ioPriority is applied" {
    run_sh 'ionice -p $$' '["process"]["ioPriority"]={"class":"IOPRIO_CLASS_IDLE","priority":0}'
    assert_success
    assert_output --partial "idle"
}

@test "process: personality LINUX32 changes uname -m" {
    [ "$(uname -m)" = x86_64 ] || skip "x86_64 host only"
    run_sh 'uname -m' '["linux"]["personality"]={"domain":"LINUX32"}'
    assert_success
    assert_output "i686"
}

@test "process: the workload's exit status is run's exit status" {
    run_sh 'exit 7'
    assert_failure 7
}
