# Helpers for the VM-mode bats files (vm-*.bats): skip without a backend or guest
# assets, bound each VM run, and check that nothing of a VM stays behind.

# Every VM test: a fresh root and bundle (helpers.bash), skipped without a backend or assets.
setup() {
    vessel_setup
    vm_require
}

teardown() {
    vessel_teardown
}

# Generous: TCG boots of a stock kernel on a busy 2-core host take seconds each.
VM_TIMEOUT=${VM_TIMEOUT:-300}

vm_require() {
    [ -f "$REPO_ROOT/build/vm/vmlinux" ] && [ -f "$REPO_ROOT/build/vm/initramfs.cpio.gz" ] ||
        skip "no guest assets (run make vm-assets)"
    if [ -e /sys/module/kvm_pvm ] || [ ! -w /dev/kvm ]; then
        command -v qemu-system-x86_64 >/dev/null ||
            skip "no usable micro-VM backend (no hardware KVM and no qemu-system-x86_64)"
    fi
}

# vessel with the test's root, bounded in time.
vm_vessel() {
    timeout --kill-after=10 "$VM_TIMEOUT" "$VESSEL_BIN" --root "$ROOT" "$@"
}

# No QEMU (or other process) of this container's VM is left.
vm_assert_gone() {
    local i
    for i in $(seq 1 100); do
        pgrep -f "vessel.id=$1( |\$)" >/dev/null || return 0
        sleep 0.1
    done
    echo "a VM process of $1 is still running: $(pgrep -af "vessel.id=$1")" >&2
    return 1
}

# Wait (bounded) until FILE contains TEXT.
wait_for_text() {
    local i
    for i in $(seq 1 600); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.2
    done
    echo "\"$2\" never appeared in $1: $(cat "$1")" >&2
    return 1
}
