#!/usr/bin/env bats
# process.terminal: the pty master travels over --console-socket (SCM_RIGHTS);
# the slave is the container's controlling terminal, stdio and /dev/console.

load helpers

setup() {
    vessel_setup
    command -v python3 >/dev/null || skip "python3 is needed for the console receiver"
    SOCK="$TEST_TMP/console.sock"
    spec_set "$BUNDLE" '["process"]["terminal"]=True'
}
teardown() {
    [ -n "${RECEIVER:-}" ] && kill "$RECEIVER" 2>/dev/null
    vessel_teardown
}

# Receive one pty master on $SOCK; optionally type $1 into it; copy what the
# container writes to $TEST_TMP/console.out until it hangs up.
start_receiver() {
    python3 - "$SOCK" "$TEST_TMP/console.out" "${1:-}" "$TEST_TMP/console.name" <<'PY' &
import os, socket, sys
path, out, typed, namefile = sys.argv[1:5]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
open(path + ".ready", "w").close()
conn, _ = srv.accept()
msg, fds, _, _ = socket.recv_fds(conn, 4096, 1)
open(namefile, "w").write(msg.decode())
master = fds[0]
if typed:
    os.write(master, typed.encode())
with open(out, "wb") as f:
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        f.write(data)
        f.flush()
PY
    RECEIVER=$!
    for i in $(seq 300); do [ -e "$SOCK.ready" ] && return 0; sleep 0.01; done
    return 1
}

wait_receiver() {
    wait "$RECEIVER" || true
    RECEIVER=
}

@test "the container's stdio is a pty received over the console socket" {
    spec_set "$BUNDLE" '["process"]["args"]=["sh","-c","tty; test -t 0 && test -t 1 && test -t 2 && echo all-ttys"]'
    start_receiver
    id=$(cid)
    vessel_detached run -d --console-socket "$SOCK" -b "$BUNDLE" "$id"
    assert_success
    wait_receiver
    run tr -d '\r' < "$TEST_TMP/console.out"
    assert_line --index 0 --regexp '^/dev/pts/[0-9]+$'
    assert_line --index 1 all-ttys
}

@test "the pty is the controlling terminal and /dev/console" {
    spec_set "$BUNDLE" '["process"]["args"]=["sh","-c","echo to-console > /dev/console; cat /proc/self/stat | cut -d\" \" -f7"]'
    start_receiver
    vessel_detached run -d --console-socket "$SOCK" -b "$BUNDLE" "$(cid)"
    assert_success
    wait_receiver
    run tr -d '\r' < "$TEST_TMP/console.out"
    assert_line --index 0 to-console
    # field 7 (tty_nr) is non-zero with a controlling terminal
    refute_line --index 1 0
}

@test "consoleSize sets the window size" {
    spec_set "$BUNDLE" '["process"]["args"]=["stty","size"]' '["process"]["consoleSize"]={"height":33,"width":101}'
    start_receiver
    vessel_detached run -d --console-socket "$SOCK" -b "$BUNDLE" "$(cid)"
    assert_success
    wait_receiver
    run tr -d '\r' < "$TEST_TMP/console.out"
    assert_output "33 101"
}

@test "input typed on the master reaches the workload" {
    spec_set "$BUNDLE" '["process"]["args"]=["sh","-c","read line; echo got:$line"]'
    start_receiver "typed-text
"
    vessel_detached run -d --console-socket "$SOCK" -b "$BUNDLE" "$(cid)"
    assert_success
    wait_receiver
    run grep -c "got:typed-text" "$TEST_TMP/console.out"
    assert_output 1
}

@test "create with a console socket waits; start runs on the pty" {
    spec_set "$BUNDLE" '["process"]["args"]=["echo","after-start"]'
    start_receiver
    id=$(cid)
    vessel_detached create --console-socket "$SOCK" -b "$BUNDLE" "$id"
    assert_success
    assert_equal "$(state_field "$id" status)" created
    vessel_detached start "$id"
    assert_success
    wait_receiver
    run tr -d '\r' < "$TEST_TMP/console.out"
    assert_output after-start
}

@test "--console-socket to a missing socket fails and leaves nothing" {
    id=$(cid)
    run vessel create --console-socket "$TEST_TMP/missing.sock" -b "$BUNDLE" "$id"
    assert_failure
    assert_output --partial "missing.sock"
    [ ! -e "$ROOT/$id" ]
}

@test "--console-socket without process.terminal is refused" {
    spec_set "$BUNDLE" '["process"]["terminal"]=False'
    run vessel create --console-socket "$SOCK" -b "$BUNDLE" "$(cid)"
    assert_failure
    assert_output --partial "terminal is false"
}

@test "foreground run with a terminal and no socket relays the pty" {
    spec_set "$BUNDLE" '["process"]["args"]=["sh","-c","tty >/dev/null && echo on-a-tty; exit 5"]'
    run vessel run -b "$BUNDLE" "$(cid)" </dev/null
    assert_equal "$status" 5
    run echo "$output"
    assert_output --partial on-a-tty
}
