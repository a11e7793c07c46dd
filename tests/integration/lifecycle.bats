#!/usr/bin/env bats
# Container lifecycle: create, start, state, kill, delete, run and their statuses.

load helpers

setup() { vessel_setup; }
teardown() { vessel_teardown; }

@test "run prints the workload's output and exits 0" {
    spec_set "$BUNDLE" '["process"]["args"]=["echo","hello from vessel"]'
    run vessel run -b "$BUNDLE" "$(cid)"
    assert_success
    assert_output "hello from vessel"
}

@test "run exits with the workload's exit status" {
    spec_set "$BUNDLE" '["process"]["args"]=["sh","-c","exit 42"]'
    run vessel run -b "$BUNDLE" "$(cid)"
    assert_equal "$status" 42
}

@test "run exits 128+N when the workload is killed by signal N" {
    spec_set "$BUNDLE" '["process"]["args"]=["sleep","1000"]'
    id=$(cid)
    "$VESSEL_BIN" --root "$ROOT" run -b "$BUNDLE" "$id" </dev/null >/dev/null 2>&1 3>&- &
    runner=$!
    wait_status "$id" running
    vessel kill "$id" KILL
    rc=0
    wait "$runner" || rc=$?
    assert_equal "$rc" 137
}

@test "run removes the container when the workload exits" {
    spec_set "$BUNDLE" '["process"]["args"]=["true"]'
    id=$(cid)
    run vessel run -b "$BUNDLE" "$id"
    assert_success
    run vessel state "$id"
    assert_failure
    assert_output --partial "does not exist"
}

@test "run in the foreground forwards SIGTERM to the workload" {
    spec_set "$BUNDLE" '["process"]["args"]=["sh","-c","trap \"echo got-term; exit 7\" TERM; while :; do sleep 0.1; done"]'
    id=$(cid)
    "$VESSEL_BIN" --root "$ROOT" run -b "$BUNDLE" "$id" </dev/null >"$TEST_TMP/out" 2>&1 3>&- &
    runner=$!
    wait_status "$id" running
    sleep 0.3  # let the shell install its trap (it is the container's pid 1)
    kill -TERM "$runner"
    rc=0
    wait "$runner" || rc=$?
    assert_equal "$rc" 7
    run cat "$TEST_TMP/out"
    assert_output "got-term"
}

@test "create stops before the user process; start releases it" {
    spec_set "$BUNDLE" '["process"]["args"]=["sh","-c","echo started > /tmp/marker; sleep 1000"]'
    spec_set "$BUNDLE" '["root"]["readonly"]=False'
    id=$(cid)
    vessel_detached create -b "$BUNDLE" "$id"
    assert_success
    assert_equal "$(state_field "$id" status)" created
    [ ! -e "$BUNDLE/rootfs/tmp/marker" ]
    vessel_detached start "$id"
    assert_success
    assert_equal "$(state_field "$id" status)" running
    for i in $(seq 100); do [ -e "$BUNDLE/rootfs/tmp/marker" ] && break; sleep 0.05; done
    run cat "$BUNDLE/rootfs/tmp/marker"
    assert_output started
}

@test "state shows the OCI fields and the init pid" {
    spec_set "$BUNDLE" '["process"]["args"]=["sleep","1000"]' '["annotations"]={"org.example.k":"v"}'
    id=$(cid)
    vessel_detached create -b "$BUNDLE" "$id"
    run vessel state "$id"
    assert_success
    echo "$output" | python3 -c '
import json, sys
s = json.load(sys.stdin)
for k in ("ociVersion", "id", "status", "pid", "bundle", "created", "owner", "rootfs"):
    assert k in s, k
assert s["annotations"] == {"org.example.k": "v"}, s
assert s["bundle"] == sys.argv[1], s["bundle"]
' "$BUNDLE"
    pid=$(state_field "$id" pid)
    [ -d "/proc/$pid" ]
}

@test "kill sends a signal by name, SIG-name and number; stopped after" {
    spec_set "$BUNDLE" '["process"]["args"]=["sh","-c","trap \"exit 0\" USR1; while :; do sleep 0.1; done"]'
    for sig in USR1 SIGUSR1 10; do
        id=$(cid "$sig")
        vessel_detached run -d -b "$BUNDLE" "$id"
        wait_status "$id" running
        sleep 0.3
        run vessel kill "$id" "$sig"
        assert_success
        wait_status "$id" stopped
        vessel delete "$id"
    done
}

@test "kill --all signals every process of the container" {
    spec_set "$BUNDLE" '["process"]["args"]=["sh","-c","sleep 1000 & sleep 1000 & wait"]'
    id=$(cid)
    vessel_detached run -d -b "$BUNDLE" "$id"
    wait_status "$id" running
    run vessel kill --all "$id" KILL
    assert_success
    wait_status "$id" stopped
}

@test "kill of a stopped container fails" {
    spec_set "$BUNDLE" '["process"]["args"]=["true"]'
    id=$(cid)
    vessel_detached run -d -b "$BUNDLE" "$id"
    wait_status "$id" stopped
    run vessel kill "$id" TERM
    assert_failure
    assert_output --partial "is not running"
}

@test "delete refuses a running container, --force removes it and its cgroup" {
    spec_set "$BUNDLE" '["process"]["args"]=["sleep","1000"]'
    id=$(cid)
    vessel_detached run -d -b "$BUNDLE" "$id"
    pid=$(state_field "$id" pid)
    run vessel delete "$id"
    assert_failure
    assert_output --partial "not stopped: running"
    run vessel delete --force "$id"
    assert_success
    [ ! -d "$ROOT/$id" ]
    pid_gone "$pid"
    run vessel state "$id"
    assert_failure
    for d in /sys/fs/cgroup/*/vessel/"$id" /sys/fs/cgroup/vessel/"$id"; do
        [ ! -e "$d" ]
    done
}

@test "delete of a created container kills its init" {
    spec_set "$BUNDLE" '["process"]["args"]=["sleep","1000"]'
    id=$(cid)
    vessel_detached create -b "$BUNDLE" "$id"
    pid=$(state_field "$id" pid)
    run vessel delete "$id"
    assert_success
    pid_gone "$pid"
}

@test "start of a running container fails; start of a stopped one fails" {
    spec_set "$BUNDLE" '["process"]["args"]=["sleep","1000"]'
    id=$(cid)
    vessel_detached run -d -b "$BUNDLE" "$id"
    run vessel start "$id"
    assert_failure
    assert_output --partial "running"
    vessel kill "$id" KILL
    wait_status "$id" stopped
    run vessel start "$id"
    assert_failure
    assert_output --partial "stopped"
}

@test "status is stopped after the workload exits (pid not reused)" {
    spec_set "$BUNDLE" '["process"]["args"]=["true"]'
    id=$(cid)
    vessel_detached run -d -b "$BUNDLE" "$id"
    wait_status "$id" stopped
    assert_equal "$(state_field "$id" pid)" 0
}

@test "a recorded pid taken by another process reads as stopped" {
    spec_set "$BUNDLE" '["process"]["args"]=["sleep","1000"]'
    id=$(cid)
    vessel_detached run -d -b "$BUNDLE" "$id"
    # Point the state at a live process with a different start time (our shell).
    python3 - "$ROOT/$id/state.json" "$$" <<'PY'
import json, sys
p, pid = sys.argv[1], int(sys.argv[2])
s = json.load(open(p)); real = s["pid"]; s["pid"] = pid
json.dump(s, open(p, "w"))
open(p + ".real", "w").write(str(real))
PY
    assert_equal "$(state_field "$id" status)" stopped
    kill -9 "$(cat "$ROOT/$id/state.json.real")"
}

@test "pid-file holds the init pid" {
    spec_set "$BUNDLE" '["process"]["args"]=["sleep","1000"]'
    id=$(cid)
    vessel_detached create --pid-file "$TEST_TMP/pid" -b "$BUNDLE" "$id"
    assert_equal "$(cat "$TEST_TMP/pid")" "$(state_field "$id" pid)"
}

@test "the container init runs from a sealed copy, not the host binary" {
    spec_set "$BUNDLE" '["process"]["args"]=["sleep","1000"]'
    id=$(cid)
    vessel_detached create -b "$BUNDLE" "$id"
    pid=$(state_field "$id" pid)
    run readlink "/proc/$pid/exe"
    assert_output --partial "memfd:vessel"
    # Writing through the exe link must fail: the copy is sealed.
    run sh -c "echo x >> /proc/$pid/exe"
    assert_failure
}

@test "the waiting init's /proc/1/exe cannot be opened for writing from inside the container" {
    command -v nsenter >/dev/null || skip "nsenter not installed"
    spec_set "$BUNDLE" '["process"]["args"]=["sleep","1000"]'
    id=$(cid)
    vessel_detached create -b "$BUNDLE" "$id"
    pid=$(state_field "$id" pid)
    run nsenter -t "$pid" -m -p -- sh -c 'readlink /proc/1/exe; echo x >> /proc/1/exe && echo WROTE'
    assert_output --partial "memfd:vessel"
    refute_output --partial WROTE
}

@test "only fds 0-2 reach the workload; --preserve-fds passes more" {
    spec_set "$BUNDLE" '["process"]["args"]=["ls","/proc/self/fd"]'
    # The caller's extra fds 3-5 must not leak in without --preserve-fds.
    run sh -c 'exec 3>/dev/null 4>/dev/null 5>/dev/null; exec "$0" --root "$1" run -b "$2" "$3"' \
        "$VESSEL_BIN" "$ROOT" "$BUNDLE" "$(cid a)"
    assert_success
    assert_output "$(printf '0\n1\n2\n3')"  # 3 is ls's own directory fd
    spec_set "$BUNDLE" '["process"]["args"]=["sh","-c","echo via-fd4 >&4; ls /proc/self/fd"]'
    run sh -c 'exec 3>/dev/null 4>"$4" 5>/dev/null; exec "$0" --root "$1" run --preserve-fds 2 -b "$2" "$3"' \
        "$VESSEL_BIN" "$ROOT" "$BUNDLE" "$(cid b)" "$TEST_TMP/four"
    assert_success
    assert_output "$(printf '0\n1\n2\n3\n4\n5')"  # 5 is ls's own directory fd
    run cat "$TEST_TMP/four"
    assert_output via-fd4
}

@test "the waiting init holds none of the caller's extra fds, only 0-2 and the exec fifo" {
    spec_set "$BUNDLE" '["process"]["args"]=["sleep","1000"]'
    id=$(cid)
    # A caller's pipe kept open by the init would also block a reader until start.
    "$VESSEL_BIN" --root "$ROOT" create -b "$BUNDLE" "$id" </dev/null >/dev/null 2>&1 3>&- 5>/dev/null 7>"$TEST_TMP/seven"
    pid=$(state_field "$id" pid)
    run sh -c 'for f in /proc/$1/fd/*; do echo "${f##*/} $(readlink "$f")"; done' sh "$pid"
    assert_success
    assert_output "$(printf '0 /dev/null\n1 /dev/null\n2 /dev/null\n3 %s' "$ROOT/$id/exec.fifo")"
}

@test "LISTEN_FDS are passed through with LISTEN_PID=1" {
    spec_set "$BUNDLE" '["process"]["args"]=["sh","-c","echo $LISTEN_FDS $LISTEN_PID; echo sock >&3"]'
    run sh -c 'exec 3>"$4"; LISTEN_FDS=1 exec "$0" --root "$1" run -b "$2" "$3"' \
        "$VESSEL_BIN" "$ROOT" "$BUNDLE" "$(cid)" "$TEST_TMP/listen"
    assert_success
    assert_output "1 1"
    run cat "$TEST_TMP/listen"
    assert_output sock
}

@test "--no-pivot runs the container with MS_MOVE + chroot" {
    spec_set "$BUNDLE" '["process"]["args"]=["cat","/etc/hostname"]'
    run vessel run --no-pivot -b "$BUNDLE" "$(cid)"
    assert_success
    assert_output vessel
}

@test "the container gets a new session keyring unless --no-new-keyring" {
    [ -r /proc/keys ] || skip "no /proc/keys on this host"
    spec_set "$BUNDLE" '["process"]["args"]=["sleep","1000"]'
    id=$(cid a)
    vessel_detached run -d -b "$BUNDLE" "$id"
    assert_success
    run grep -c "_ses.$id:" /proc/keys
    assert_output 1
    id=$(cid b)
    vessel_detached run -d --no-new-keyring -b "$BUNDLE" "$id"
    assert_success
    run grep -c "_ses.$id:" /proc/keys
    assert_output 0
}

@test "run --detach returns at once and leaves the container running" {
    spec_set "$BUNDLE" '["process"]["args"]=["sleep","1000"]'
    id=$(cid)
    vessel_detached run -d -b "$BUNDLE" "$id"
    assert_success
    assert_equal "$(state_field "$id" status)" running
}
