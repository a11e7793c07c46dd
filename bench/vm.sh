#!/bin/bash
# VM mode end to end against its backend alone. Three kinds of run, interleaved:
#   vessel  `vessel --isolation vm run` of /bin/true (host side + QEMU + guest);
#   plain   QEMU alone, the very command line vessel gave it, but the guest's /init
#           powers off at once (vessel.poweroff=1): the issue's baseline;
#   guest   QEMU alone, same command line and images, the guest init doing all of its
#           work (modules, rootfs, create, start, /bin/true, exit status) without the
#           host side (vessel.autostart=1: no start message awaited, stdin empty).
# vessel/plain is the issue's figure; vessel - guest is what vessel's host side adds.
# The QEMU command line is read from the running QEMU of a `vessel create`, so all three
# boot the same kernel, initramfs (with the container's config), rootfs image, devices
# and kernel command line; the console ports write to /dev/null instead of sockets (a file
# chardev: guest writes to a port whose host side is not open, like a null chardev's, block).
# usage: bench/vm.sh [RUNS]   (default 5; each run boots three guests)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
vessel=$PWD/build/vessel
[ -x "$vessel" ] || { echo "bench/vm.sh: build/vessel missing (make)" >&2; exit 1; }
[ -f build/vm/vmlinux ] || { echo "bench/vm.sh: guest assets missing (make vm-assets)" >&2; exit 1; }

work=$(mktemp -d /tmp/vessel-bench-vm.XXXXXX)
root=$work/root
trap '"$vessel" --root "$root" delete --force bench >/dev/null 2>&1 || true;
      "$vessel" --root "$root" delete --force probe >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
rootfs-tools/mkbundle.sh "$work/bundle" /bin/true >/dev/null

# Capture QEMU's argv and the container's images from a created (not started) container.
"$vessel" --root "$root" --isolation vm create -b "$work/bundle" probe </dev/null
monitor=$("$vessel" --root "$root" state probe | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
qpid=$(cat "/proc/$monitor/task/$monitor/children" 2>/dev/null | awk '{print $1}')
[ -n "$qpid" ] || { echo "bench/vm.sh: no QEMU child of the monitor $monitor" >&2; exit 1; }
mapfile -d '' -t qargv < "/proc/$qpid/cmdline"
cp --sparse=always "$root/probe/rootfs.img" "$work/rootfs.img"
cp "$root/probe/initrd.img" "$work/initrd.img"
"$vessel" --root "$root" delete --force probe

# The same argv with our copies of the images, /dev/null chardevs, and a changed -append.
qemu_with() {  # qemu_with EXTRA_KERNEL_PARAMS CTL_OUT: prints the argv, NUL-separated
    local i a prev=
    for ((i = 0; i < ${#qargv[@]}; i++)); do
        a=${qargv[i]}
        case "$prev" in
            -initrd) a=$work/initrd.img ;;
            -append) a="$a $1" ;;
            -drive) a=$(sed "s|file=[^,]*\(,\)|file=$work/rootfs.img\1|" <<< "$a") ;;
            -chardev) a=$(sed 's|^socket,id=\([a-z]*\),fd=[0-9]*$|file,id=\1,path=/dev/null|' <<< "$a") ;;
        esac
        [ "$a" = file,id=ctl,path=/dev/null ] && a=file,id=ctl,path=$2
        printf '%s\0' "$a"
        prev=${qargv[i]}
    done
}
mapfile -d '' -t plain < <(qemu_with vessel.poweroff=1 /dev/null)
mapfile -d '' -t guest < <(qemu_with vessel.autostart=1 "$work/ctl.out")
# The guest alone must really run the workload: its control port output must hold an
# exit message (magic "VSL\1", type 3 "exit", flags 0, length 8, kind 0, status 0).
"${guest[@]}" </dev/null >/dev/null
od -An -tx1 -v "$work/ctl.out" | tr -d ' \n' | grep -q 56534c0103000000080000000000000000000000 ||
    { echo "bench/vm.sh: the guest alone did not report /bin/true's exit 0" >&2; exit 1; }

ms() { echo $(( $(date +%s%N) / 1000000 )); }
: > "$work/vessel.ms"; : > "$work/plain.ms"; : > "$work/guest.ms"
for i in $(seq 1 "$runs"); do
    # Rotate the order so that no kind always runs right after another.
    for kind in $(case $((i % 3)) in 1) echo vessel plain guest ;; 2) echo plain guest vessel ;;
                  0) echo guest vessel plain ;; esac); do
        t0=$(ms)
        case $kind in
            vessel) "$vessel" --root "$root" --isolation vm run -b "$work/bundle" bench </dev/null ;;
            plain) "${plain[@]}" </dev/null >/dev/null ;;
            guest) "${guest[@]}" </dev/null >/dev/null ;;
        esac
        echo $(( $(ms) - t0 )) >> "$work/$kind.ms"
    done
    echo "run $i: vessel $(tail -1 "$work/vessel.ms") ms, plain $(tail -1 "$work/plain.ms") ms," \
        "guest alone $(tail -1 "$work/guest.ms") ms" >&2
done
median() { sort -n "$1" | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }
v=$(median "$work/vessel.ms"); p=$(median "$work/plain.ms"); g=$(median "$work/guest.ms")
echo "medians over $runs interleaved runs:"
echo "  vessel --isolation vm run /bin/true:                      $v ms"
echo "  plain qemu, same command line, init powers off at once:   $p ms"
echo "  qemu + guest doing the same work, no vessel host side:    $g ms"
awk -v v="$v" -v p="$p" -v g="$g" 'BEGIN {
    printf "(a) vessel/plain: %.2f (+%d ms, %.0f%%): guest work plus host side, against a bare boot\n", v/p, v-p, (v-p)*100/p
    printf "(b) vessel/guest: %.2f (+%d ms, %.1f%%): vessel'"'"'s host side alone\n", v/g, v-g, (v-g)*100/g
    printf "    guest work over a bare boot: +%d ms (%.0f%%)\n", g-p, (g-p)*100/p }'
