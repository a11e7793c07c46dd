#!/usr/bin/env bats
# VM mode end to end: the same bundle in a micro-VM (qemu backend with TCG on
# hosts whose /dev/kvm cannot boot a stock kernel). Each test boots a guest, so
# the list is short and the timeouts generous.

bats_require_minimum_version 1.5.0
load helpers
load vm-helpers

@test "vm run: stdout and stderr apart, exit status, the guest's own kernel" {
    spec_set "$BUNDLE" '["process"]["args"]=["sh","-c","echo out; echo err >&2; uname -r; exit 3"]'
    local id; id=$(cid)
    run --separate-stderr vm_vessel --isolation vm run -b "$BUNDLE" "$id"
    assert_equal "$status" 3
    assert_line --index 0 out
    assert_line --index 1 "$(cat "$REPO_ROOT/build/vm/kernel-release")"
    refute_line "$(uname -r)"
    assert_equal "$stderr" err
    vm_assert_gone "$id"
}

@test "vm run: stdin reaches the workload and its end of file too" {
    spec_set "$BUNDLE" '["process"]["args"]=["sh","-c","wc -l; echo done"]'
    run vm_vessel --isolation vm run -b "$BUNDLE" "$(cid)" < <(printf 'a\nb\nc\n')
    assert_success
    assert_line --index 0 3
    assert_line --index 1 done
}

@test "vm run: a workload killed by a signal gives 128+N (rootfs from vm.image.path)" {
    # No pid namespace: the shell is not an init, so its own TERM is delivered.
    spec_set "$BUNDLE" 'c["linux"]["namespaces"]=[n for n in c["linux"]["namespaces"] if n["type"]!="pid"]' \
        '["process"]["args"]=["sh","-c","kill -TERM $$; sleep 5"]'
    # A disk image given by the spec replaces the one vessel would make.
    mkfs.ext4 -q -F -d "$BUNDLE/rootfs" "$TEST_TMP/given.img" 64M >/dev/null
    spec_set "$BUNDLE" "[\"vm\"]={\"kernel\":{\"path\":\"$REPO_ROOT/build/vm/vmlinux\"},\"image\":{\"path\":\"$TEST_TMP/given.img\",\"format\":\"raw\"}}"
    run vm_vessel --isolation vm run -b "$BUNDLE" "$(cid)"
    assert_equal "$status" 143
}

@test "vm lifecycle: create, state, start, kill forwarded, delete removes images and state" {
    spec_set "$BUNDLE" '["process"]["args"]=["sh","-c","trap \"echo got-term; exit 7\" TERM; echo ready; while :; do sleep 0.2; done"]'
    local id; id=$(cid)
    local out="$TEST_TMP/out"
    vm_vessel --isolation vm create -b "$BUNDLE" "$id" </dev/null >"$out" 2>&1
    run state_field "$id" status
    assert_output created
    local pid; pid=$(state_field "$id" pid)
    # The container's pid is the VM's host process; QEMU runs under it.
    run pgrep -P "$pid" -f qemu-system
    assert_success
    local qemu=$output
    # Both are in the container's cgroup.
    run cat "/proc/$qemu/cgroup"
    assert_output --partial "$id"
    assert_equal "$(cat "/proc/$qemu/cgroup")" "$(cat "/proc/$pid/cgroup")"
    [ -f "$ROOT/$id/rootfs.img" ] && [ -f "$ROOT/$id/initrd.img" ]
    vessel start "$id"
    wait_for_text "$out" ready
    run state_field "$id" status
    assert_output running
    vessel kill "$id" TERM
    wait_status "$id" stopped
    run cat "$out"
    assert_line got-term
    vessel delete "$id"
    [ ! -e "$ROOT/$id" ]
    vm_assert_gone "$id"
}

@test "vm kill KILL ends the VM at once" {
    spec_set "$BUNDLE" '["process"]["args"]=["sleep","1000"]'
    local id; id=$(cid)
    vm_vessel --isolation vm create -b "$BUNDLE" "$id" </dev/null >/dev/null 2>&1
    vessel start "$id"
    vessel kill "$id" KILL
    wait_status "$id" stopped
    vm_assert_gone "$id"
    vessel delete "$id"
    [ ! -e "$ROOT/$id" ]
}

@test "vm mode chosen by the annotation vessel.isolation; guest sized by annotations" {
    spec_set "$BUNDLE" '["annotations"]={"vessel.isolation":"vm","vessel.vm.memory":"384M","vessel.vm.vcpus":"2"}' \
        '["process"]["args"]=["sh","-c","uname -r; nproc; sed -n \"s/^MemTotal: *\\([0-9]*\\) kB/\\1/p\" /proc/meminfo"]'
    run vm_vessel run -b "$BUNDLE" "$(cid)"
    assert_success
    assert_line --index 0 "$(cat "$REPO_ROOT/build/vm/kernel-release")"
    assert_line --index 1 2
    local kib=${lines[2]}
    # 384 MiB of RAM less what the guest kernel keeps for itself.
    [ "$kib" -gt 300000 ] && [ "$kib" -le 393216 ] || { echo "MemTotal $kib kB" >&2; return 1; }
}

@test "vm terminal: the guest's pty reaches --console-socket" {
    cat > "$TEST_TMP/recv.py" <<'PY'
import array, os, select, socket, sys
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(1)
c, _ = s.accept()
_, anc, _, _ = c.recvmsg(1, socket.CMSG_SPACE(4))
fds = array.array("i")
for level, typ, data in anc:
    fds.frombytes(data[:4])
m = fds[0]
os.write(m, b"echo typed-$((6*7))\n")
with open(out, "wb") as f:
    while select.select([m], [], [], 300)[0]:
        try:
            d = os.read(m, 4096)
        except OSError:
            break
        if not d:
            break
        f.write(d)
        f.flush()
PY
    python3 "$TEST_TMP/recv.py" "$TEST_TMP/console.sock" "$TEST_TMP/console.out" &
    local recv=$!
    for i in $(seq 1 100); do [ -S "$TEST_TMP/console.sock" ] && break; sleep 0.05; done
    spec_set "$BUNDLE" '["process"]["terminal"]=True' '["process"]["args"]=["sh","-c","tty; read line; eval \"$line\""]'
    local id; id=$(cid)
    vm_vessel --isolation vm create -b "$BUNDLE" --console-socket "$TEST_TMP/console.sock" "$id" </dev/null
    vessel start "$id"
    wait_status "$id" stopped
    wait "$recv"
    run cat "$TEST_TMP/console.out"
    assert_output --partial /dev/pts/
    assert_output --partial typed-42
    vessel delete "$id"
    vm_assert_gone "$id"
}
