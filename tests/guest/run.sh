#!/bin/bash
# Runs the test guest (build/test-guest.elf) under `vessel vmm` on /dev/kvm and prints TAP:
# the guest's own cases (from its serial port) followed by what the host checks: console
# output and input on the VMM's stdio, data over the "vessel.ctl" port, the disk images,
# the exit status, and the `exit` command line. VESSEL overrides the binary under test.
set -u
cd "$(dirname "$0")/../.."
B=build
VESSEL=${VESSEL:-$B/vessel}
GUEST=$B/test-guest.elf
PEER=$B/tests/guest-ctl-peer

n=0
result() {  # result 0|1 DESCRIPTION
    n=$((n + 1))
    if [ "$1" -eq 0 ]; then echo "ok $n - guest: $2"; else echo "not ok $n - guest: $2"; fi
}
skip_all() { echo "ok 1 # skip $1"; exit 0; }

[ -e /dev/kvm ] || skip_all "no /dev/kvm"
[ -r /dev/kvm ] && [ -w /dev/kvm ] || skip_all "/dev/kvm not accessible"
for f in "$VESSEL" "$GUEST" "$PEER"; do
    [ -x "$f" ] || [ -f "$f" ] || skip_all "$f not built (make all test-guest)"
done

tmp=$(mktemp -d)
peer_pid=
cleanup() {
    [ -n "$peer_pid" ] && kill "$peer_pid" 2>/dev/null && wait "$peer_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

# Disks: 1 MiB (2048 sectors) starting with "vessel-test-disk"; the guest checks both.
for d in rw ro; do
    truncate -s 1M "$tmp/$d.img"
    printf 'vessel-test-disk' | dd of="$tmp/$d.img" conv=notrunc status=none
done
cp "$tmp/ro.img" "$tmp/ro.orig"

"$PEER" --listen "$tmp/ctl.sock" "$tmp/ctl.log" > "$tmp/peer.out" 2>&1 &
peer_pid=$!
for _ in $(seq 200); do
    grep -q listening "$tmp/peer.out" 2>/dev/null && break
    kill -0 "$peer_pid" 2>/dev/null || break
    sleep 0.05
done

printf 'vessel-stdin-ping\n' > "$tmp/stdin"
timeout 120 "$VESSEL" vmm --kernel "$GUEST" --memory 64 \
    --disk "$tmp/rw.img" --disk "$tmp/ro.img,ro" --rng \
    --port vessel.ctl="$tmp/ctl.sock" --console stdio --serial "$tmp/serial.log" \
    < "$tmp/stdin" > "$tmp/stdout" 2> "$tmp/stderr"
status=$?

# The guest's TAP lines, renumbered into this run's sequence.
while IFS= read -r line; do
    case "$line" in
        "ok "*|"not ok "*)
            n=$((n + 1))
            verdict=${line%% [0-9]*}
            echo "$verdict $n - guest: ${line#* - }" ;;
        "#"*) echo "$line" ;;
    esac
done < <(tr -d '\r' < "$tmp/serial.log" 2>/dev/null)

grep -qE '^1\.\.[0-9]+' "$tmp/serial.log" 2>/dev/null
result $? "the guest ran every case to the end"

[ "$status" -eq 0 ]
result $? "vessel vmm exited 0 after the guest powered off (got $status)"
if [ "$status" -ne 0 ]; then
    sed 's/^/# stderr: /' "$tmp/stderr" | tail -n 5
fi

grep -q 'vessel-guest: hello from virtio-console' "$tmp/stdout"
result $? "console port 0 output reached the VMM's stdout"
grep -q 'vessel-guest: echo vessel-stdin-ping' "$tmp/stdout"
result $? "console port 0 input from the VMM's stdin echoed back"
grep -q 'vessel-guest: hello over vessel.ctl' "$tmp/ctl.log" 2>/dev/null
result $? "data on the vessel.ctl port reached the host's unix socket"

od -An -tu1 -v -j 2560 -N 512 "$tmp/rw.img" | tr -s ' ' '\n' | grep -v '^$' |
    awk '{ if ($1 != (((NR - 1) * 7 + 3) % 256)) bad = 1 } END { exit (NR == 512 && !bad) ? 0 : 1 }'
result $? "the guest's write to sector 5 is in the image file"
cmp -s "$tmp/ro.img" "$tmp/ro.orig"
result $? "the read-only image is unchanged"

# `exit` on the command line: power off at once (what the benchmark boots).
timeout 60 "$VESSEL" vmm --kernel "$GUEST" --memory 64 --cmdline exit --console none \
    < /dev/null > /dev/null 2> "$tmp/stderr-exit"
status=$?
[ "$status" -eq 0 ]
result $? "command line \"exit\" powers off at once with status 0 (got $status)"

# The same guest under QEMU's microvm (PVH entry, QEMU's own virtio devices): proves the
# guest is a faithful driver, so its verdicts above are about vessel's devices.
QEMU=$(command -v qemu-system-x86_64 || true)
if [ -z "$QEMU" ]; then
    echo "ok $((n + 1)) - guest: device cases under QEMU microvm # skip qemu-system-x86_64 not installed"
    n=$((n + 1))
else
    for d in rw ro; do
        truncate -s 0 "$tmp/$d.img"
        truncate -s 1M "$tmp/$d.img"
        printf 'vessel-test-disk' | dd of="$tmp/$d.img" conv=notrunc status=none
    done
    : > "$tmp/ctl.log"
    "$PEER" --connect "$tmp/qctl.sock" "$tmp/ctl.log" > /dev/null 2>&1 &
    qpeer=$!
    timeout 120 "$QEMU" -M microvm -accel kvm -accel tcg -m 64 -nodefaults -no-user-config \
        -nographic -serial "file:$tmp/qserial.log" -kernel "$GUEST" -append nohostile \
        -global virtio-mmio.force-legacy=false \
        -drive "id=d0,file=$tmp/rw.img,format=raw,if=none" -device virtio-blk-device,drive=d0,serial=rw.img \
        -drive "id=d1,file=$tmp/ro.img,format=raw,if=none,readonly=on" \
        -device virtio-blk-device,drive=d1,serial=ro.img -device virtio-rng-device \
        -device virtio-serial-device,max_ports=2 -chardev stdio,id=c0 -device virtconsole,chardev=c0 \
        -chardev "socket,id=c1,path=$tmp/qctl.sock,server=on,wait=off" \
        -device virtserialport,chardev=c1,name=vessel.ctl \
        < "$tmp/stdin" > "$tmp/qstdout" 2> "$tmp/qstderr"
    kill "$qpeer" 2>/dev/null
    wait "$qpeer" 2>/dev/null
    passed=$(grep -c '^ok ' "$tmp/qserial.log" 2>/dev/null)
    failed=$(grep -c '^not ok ' "$tmp/qserial.log" 2>/dev/null)
    [ "${passed:-0}" -gt 20 ] && [ "${failed:-0}" -eq 0 ] && grep -qE '^1\.\.' "$tmp/qserial.log"
    result $? "device cases under QEMU microvm as a reference ($passed passed, $failed failed)"
    grep '^not ok ' "$tmp/qserial.log" 2>/dev/null | sed 's/^/# qemu: /'
fi
