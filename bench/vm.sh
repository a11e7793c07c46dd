#!/bin/bash
# VM mode end to end against its backend alone: `vessel --isolation vm run` of
# /bin/true, and plain QEMU microvm booting the same kernel and initramfs with
# the same devices to the same /init, told to power off at once
# (vessel.poweroff=1). Interleaved runs, medians, ratio.
# usage: bench/vm.sh [RUNS]   (default 5; each run boots two guests)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
vessel=$PWD/build/vessel
assets=$PWD/build/vm
[ -x "$vessel" ] || { echo "bench/vm.sh: build/vessel missing (make)" >&2; exit 1; }
[ -f "$assets/vmlinux" ] || { echo "bench/vm.sh: guest assets missing (make vm-assets)" >&2; exit 1; }
qemu=$(command -v qemu-system-x86_64) || { echo "bench/vm.sh: qemu-system-x86_64 missing" >&2; exit 1; }

work=$(mktemp -d /tmp/vessel-bench-vm.XXXXXX)
trap '"$vessel" --root "$work/root" delete --force bench >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
rootfs-tools/mkbundle.sh "$work/bundle" /bin/true >/dev/null

# The backend alone: what runtime/vm_executor.c and microvm/qemu.c give QEMU, with the
# console ports on null chardevs and a copy of the rootfs image vessel would use.
"$vessel" --root "$work/root" --isolation vm run -b "$work/bundle" bench  # warms the image cache
img=$(ls -t /var/cache/vessel/vm-images/*.img 2>/dev/null | head -1)
[ -n "$img" ] || { echo "bench/vm.sh: no cached rootfs image found" >&2; exit 1; }
cp --sparse=always "$img" "$work/rootfs.img"
if [ -e /sys/module/kvm_pvm ] || [ ! -w /dev/kvm ]; then
    accel=(-accel tcg -cpu max)
    tsc=" tsc_early_khz=$(awk -F: '/^cpu MHz/ {printf "%d", $2 * 1000; exit}' /proc/cpuinfo)"
else
    accel=(-accel kvm -cpu host)
    tsc=
fi
plain=("$qemu" -M microvm,x-option-roms=off,isa-serial=off,rtc=on "${accel[@]}" -m 256 -smp 1
    -nodefaults -no-user-config -nographic -no-reboot
    -kernel "$assets/vmlinux" -initrd "$assets/initramfs.cpio.gz"
    -append "console=hvc0 quiet loglevel=1 panic=-1 vessel.poweroff=1$tsc"
    -drive "id=root,if=none,file=$work/rootfs.img,format=raw,cache=unsafe,readonly=on"
    -device virtio-blk-device,drive=root -device virtio-serial-device,max_ports=4
    -chardev null,id=con -device virtconsole,chardev=con
    -chardev null,id=ctl -device virtserialport,chardev=ctl,name=vessel.ctl
    -chardev null,id=err -device virtserialport,chardev=err,name=vessel.err
    -device virtio-rng-device)

ms() { echo $(( $(date +%s%N) / 1000000 )); }
: > "$work/vessel.ms"
: > "$work/qemu.ms"
for i in $(seq 1 "$runs"); do
    t0=$(ms)
    "$vessel" --root "$work/root" --isolation vm run -b "$work/bundle" bench </dev/null
    t1=$(ms)
    "${plain[@]}" </dev/null >/dev/null
    t2=$(ms)
    echo $((t1 - t0)) >> "$work/vessel.ms"
    echo $((t2 - t1)) >> "$work/qemu.ms"
    echo "run $i: vessel vm run $((t1 - t0)) ms, plain qemu boot+poweroff $((t2 - t1)) ms" >&2
done
median() { sort -n "$1" | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }
v=$(median "$work/vessel.ms")
q=$(median "$work/qemu.ms")
echo "vessel --isolation vm run /bin/true: median $v ms over $runs runs"
echo "plain qemu microvm, same kernel+initramfs, init powers off at once: median $q ms"
awk -v v="$v" -v q="$q" 'BEGIN {printf "ratio vessel/plain: %.2f (vessel adds %d ms, %.0f%%)\n", v/q, v-q, (v-q)*100/q}'
