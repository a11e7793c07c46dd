#!/bin/bash
# The nested stock-kernel test bed, host side: builds the bed (tests/nested/build-bed.sh), boots the
# outer guest under QEMU TCG with emulated AMD SVM, and turns its "NESTED ..." serial lines into TAP.
# Env: NESTED_CASES (default "qemu vmm-bzimage vmm-elf"), NESTED_INNER_TIMEOUT (s, default 100),
# NESTED_VERBOSE=1 prints every inner serial line as a TAP comment.
set -u
cd "$(dirname "$0")/../.." || exit 1

cases=${NESTED_CASES:-qemu vmm-bzimage vmm-elf}
inner_timeout=${NESTED_INNER_TIMEOUT:-100}
n=0
tap() { n=$((n + 1)); echo "$1 $n - $2"; }

if ! command -v qemu-system-x86_64 > /dev/null; then
    echo "ok 1 # skip nested test bed: qemu-system-x86_64 not installed"
    exit 0
fi
if [ ! -f build/vm/vmlinux ]; then
    echo "ok 1 # skip nested test bed: no guest assets in build/vm (make vm-assets)"
    exit 0
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! tests/nested/build-bed.sh > "$log" 2>&1; then
    tap "not ok" "nested test bed builds"
    sed 's/^/# /' "$log"
    exit 0
fi

# One outer boot; all cases run inside it. Each case may run twice (retry after a TCG timing hang).
outer_timeout=$((90 + $(echo "$cases" | wc -w) * (2 * inner_timeout + 15)))
boot_outer() {
    timeout -s KILL "$outer_timeout" qemu-system-x86_64 -M microvm -accel tcg -cpu max,+svm \
        -m 2048 -smp 1 -nodefaults -no-user-config -nographic -no-reboot -serial stdio \
        -kernel build/vm/vmlinux -initrd build/nested/outer.cpio \
        -append "console=ttyS0 loglevel=1 panic=-1 tsc_early_khz=2000000 nested.cases=$(echo $cases | tr ' ' ,) nested.timeout=$inner_timeout ${NESTED_VERBOSE:+nested.verbose=1}" \
        < /dev/null 2>&1 | tr -d '\r' > "$log"
}
boot_outer
if ! grep -q "^NESTED bed-ready" "$log"; then
    echo "# outer guest did not come up; retrying once (TCG timing)"
    boot_outer
fi

while IFS= read -r line; do
    case "$line" in
        "NESTED ok "*)       tap "ok" "nested ${line#NESTED ok }" ;;
        "NESTED not ok "*)   tap "not ok" "nested ${line#NESTED not ok }" ;;
        "NESTED skip "*)     n=$((n + 1)); echo "ok $n # skip nested ${line#NESTED skip }" ;;
        "NESTED bed-error "*) tap "not ok" "nested bed: ${line#NESTED bed-error }" ;;
        "NESTED # "*)        echo "# ${line#NESTED # }" ;;
        "NESTED bed-ready "*) echo "# outer guest up: ${line#NESTED bed-ready }" ;;
    esac
done < "$log"
if ! grep -q "^NESTED done" "$log"; then
    tap "not ok" "nested outer guest finished (timeout ${outer_timeout}s)"
    tail -n 15 "$log" | sed 's/^/# /'
fi
