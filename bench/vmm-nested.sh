#!/bin/bash
# Benchmark in the nested test bed (tests/nested/): seconds from VMM start to the inner /init's
# first serial line, Debian's stock kernel booted by `vessel vmm` (ELF vmlinux and bzImage) and by
# QEMU -M microvm -accel kvm (vmlinux via PVH) in the same outer TCG guest; runs interleaved,
# medians and ratios. Usage: bench/vmm-nested.sh [RUNS]   (default 3; needs make vm-assets)
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-3}
cases="qemu vmm-elf vmm-bzimage"
command -v qemu-system-x86_64 > /dev/null || { echo "vmm-nested: qemu-system-x86_64 not installed" >&2; exit 1; }
[ -x "${NESTED_VESSEL:-build/vessel}" ] || { echo "vmm-nested: no vessel binary (make)" >&2; exit 1; }
tests/nested/build-bed.sh
log=$(mktemp)
trap 'rm -f "$log"' EXIT

timeout -s KILL $((120 + runs * 3 * 120)) qemu-system-x86_64 -M microvm -accel tcg -cpu max,+svm \
    -m 2048 -smp 1 -nodefaults -no-user-config -nographic -no-reboot -serial stdio \
    -kernel build/vm/vmlinux -initrd build/nested/outer.cpio \
    -append "console=ttyS0 loglevel=1 panic=-1 tsc_early_khz=2000000 nested.mode=bench nested.runs=$runs nested.cases=${cases// /,} nested.timeout=120" \
    < /dev/null 2>&1 | tr -d '\r' > "$log" || true
grep -q "^NESTED done" "$log" || { echo "vmm-nested: the outer guest did not finish" >&2; tail -n 20 "$log" >&2; exit 1; }

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
declare -A med
echo "stock Debian kernel $(cat build/vm/kernel-release), VMM start -> inner /init, nested TCG+SVM bed, $runs runs:"
for c in $cases; do
    vals=$(awk -v c="$c" '$1 == "NESTED" && $2 == "time" && $3 == c { print $4 }' "$log")
    med[$c]=$(echo "$vals" | median)
    printf '  %-12s median %6s s   (runs: %s)\n' "$c" "${med[$c]}" "$(echo $vals)"
done
for c in vmm-elf vmm-bzimage; do
    awk -v a="${med[$c]}" -v q="${med[qemu]}" -v c="$c" \
        'BEGIN { if (a > 0 && q > 0) printf "  ratio %s / qemu-kvm: %.2f\n", c, a / q }'
done
