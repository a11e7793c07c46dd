#!/usr/bin/env bats
# VM mode failures: each is a clear `vessel:` error with a non-zero status and
# leaves nothing behind (no state directory, no QEMU, no image). Also which
# inputs pick VM mode, checked cheaply through a failure only VM mode can have.

bats_require_minimum_version 1.5.0
load helpers
load vm-helpers

# Nothing of container $1 left: no state dir, no VM process.
assert_nothing_left() {
    [ ! -e "$ROOT/$1" ] || { echo "state dir $ROOT/$1 left behind: $(ls "$ROOT/$1")" >&2; return 1; }
    vm_assert_gone "$1"
}

# `run` of BUNDLE as a new container fails with TEXT in its output and leaves nothing.
assert_vm_run_fails() {
    local id; id=$(cid)
    run vm_vessel --isolation vm run -b "$BUNDLE" "$id"
    assert_failure
    assert_output --partial "$1"
    assert_nothing_left "$id"
}

@test "vm: a missing guest kernel (annotation) names it and leaves nothing" {
    spec_set "$BUNDLE" '["annotations"]={"vessel.vm.kernel":"/nonexistent/vmlinux"}'
    local id; id=$(cid)
    run vm_vessel --isolation vm run -b "$BUNDLE" "$id"
    assert_failure
    assert_output --partial 'vessel: '
    assert_output --partial 'guest kernel "/nonexistent/vmlinux" (annotation vessel.vm.kernel): No such file or directory'
    assert_nothing_left "$id"
}

@test "vm: missing guest assets name make vm-assets" {
    for d in /usr/local/lib/vessel /usr/lib/vessel; do
        [ ! -e "$d/initramfs.cpio.gz" ] || skip "guest assets installed in $d"
    done
    mkdir -p "$TEST_TMP/bin"
    cp "$VESSEL_BIN" "$TEST_TMP/bin/vessel"
    local id; id=$(cid)
    run "$TEST_TMP/bin/vessel" --root "$ROOT" --isolation vm run -b "$BUNDLE" "$id"
    assert_failure
    assert_output --partial 'guest assets not found'
    assert_output --partial 'make vm-assets'
    assert_nothing_left "$id"
}

@test "vm: bad size and backend annotations are refused before anything starts" {
    local id; id=$(cid)
    spec_set "$BUNDLE" '["annotations"]={"vessel.vm.memory":"lots"}'
    run vm_vessel --isolation vm run -b "$BUNDLE" "$id"
    assert_failure
    assert_output --partial 'annotation vessel.vm.memory "lots": not a size'
    assert_nothing_left "$id"
    spec_set "$BUNDLE" '["annotations"]={"vessel.vm.memory":"1M"}'
    run vm_vessel --isolation vm run -b "$BUNDLE" "$id"
    assert_failure
    assert_output --partial 'must be between 64 MiB'
    spec_set "$BUNDLE" '["annotations"]={"vessel.vm.vcpus":"0"}'
    run vm_vessel --isolation vm run -b "$BUNDLE" "$id"
    assert_failure
    assert_output --partial 'vessel.vm.vcpus "0"'
    spec_set "$BUNDLE" '["annotations"]={"vessel.vm.hypervisor":"xen"}'
    run vm_vessel --isolation vm run -b "$BUNDLE" "$id"
    assert_failure
    assert_output --partial 'must be builtin or qemu'
    spec_set "$BUNDLE" '["annotations"]={"vessel.vm.boot-timeout":"-1"}'
    run vm_vessel --isolation vm run -b "$BUNDLE" "$id"
    assert_failure
    assert_output --partial 'vessel.vm.boot-timeout'
    assert_nothing_left "$id"
}

@test "vm: a guest that does not come up in time is stopped and cleaned up" {
    spec_set "$BUNDLE" '["annotations"]={"vessel.vm.boot-timeout":"1"}'
    assert_vm_run_fails 'the guest did not come up within 1 s'
}

@test "vm: a guest kernel that dies during boot is reported and cleaned up" {
    # Garbage instead of an initramfs: the kernel finds no init and panics (panic=-1 reboots, QEMU exits).
    head -c 65536 /dev/urandom > "$TEST_TMP/garbage.img"
    spec_set "$BUNDLE" "[\"annotations\"]={\"vessel.vm.initrd\":\"$TEST_TMP/garbage.img\"}"
    assert_vm_run_fails 'the guest ended before the container was created'
}

@test "vm: QEMU refusing its arguments is reported with its own words and cleaned up" {
    local qemu; qemu=$(command -v qemu-system-x86_64) || skip "no qemu-system-x86_64"
    spec_set "$BUNDLE" '["annotations"]={"vessel.vm.hypervisor":"qemu"}' \
        "[\"vm\"]={\"kernel\":{\"path\":\"$REPO_ROOT/build/vm/vmlinux\"},\"hypervisor\":{\"path\":\"$qemu\",\"parameters\":[\"-no-such-option\"]}}"
    assert_vm_run_fails '-no-such-option: invalid option'
}

@test "vm: a workload missing in the guest fails with its name and leaves nothing" {
    spec_set "$BUNDLE" '["process"]["args"]=["/no/such/program"]'
    assert_vm_run_fails '/no/such/program'
}

@test "vm mode chosen by the config.json vm section" {
    spec_set "$BUNDLE" '["vm"]={"kernel":{"path":"/nonexistent/kernel"}}'
    run vm_vessel run -b "$BUNDLE" "$(cid)"
    assert_failure
    assert_output --partial 'guest kernel "/nonexistent/kernel" (vm.kernel.path)'
}

@test "vm mode chosen by the vessel-vm binary name; --isolation container overrides" {
    spec_set "$BUNDLE" '["annotations"]={"vessel.vm.kernel":"/nonexistent/vmlinux"}' '["process"]["args"]=["true"]'
    mkdir -p "$TEST_TMP/bin"
    ln -s "$VESSEL_BIN" "$TEST_TMP/bin/vessel-vm"
    run "$TEST_TMP/bin/vessel-vm" --root "$ROOT" run -b "$BUNDLE" "$(cid a)"
    assert_failure
    assert_output --partial 'annotation vessel.vm.kernel'
    run vm_vessel run -b "$BUNDLE" "$(cid b)"
    assert_success
    spec_set "$BUNDLE" '["annotations"]["vessel.isolation"]="vm"'
    run vm_vessel --isolation container run -b "$BUNDLE" "$(cid c)"
    assert_success
}
