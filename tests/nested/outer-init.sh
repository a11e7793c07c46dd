#!/bin/busybox sh
# /init of the outer guest in the nested test bed (a QEMU TCG guest with emulated AMD SVM):
# loads kvm-amd, then boots the stock kernel as an inner guest under QEMU -accel kvm and under
# `vessel vmm`, and reports on ttyS0 as "NESTED ..." lines that tests/nested/run.sh turns into TAP.
# shellcheck shell=dash
/bin/busybox mkdir -p /bin /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /tmp /run && mount -t tmpfs tmpfs /tmp && mount -t tmpfs tmpfs /run

out() { echo "$*" > /dev/ttyS0; }
finish() { out "NESTED done"; sync; poweroff -f; sleep 10; }

arg() {  # value of nested.$1= on the kernel command line
    local w
    for w in $(cat /proc/cmdline); do
        case "$w" in "nested.$1="*) echo "${w#*=}"; return ;; esac
    done
}
cases=$(arg cases | tr ',' ' ')
mode=$(arg mode)
runs=$(arg runs)
timeout_s=$(arg timeout)
verbose=$(arg verbose)
: "${cases:=qemu}" "${mode:=test}" "${runs:=3}" "${timeout_s:=40}"

for m in $(cat /lib/modules/load-order); do
    insmod "$m" 2> /tmp/insmod.err || out "NESTED # insmod $m: $(cat /tmp/insmod.err)"
done
if [ ! -c /dev/kvm ]; then
    out "NESTED bed-error no /dev/kvm in the outer guest (kvm-amd did not load)"
    dmesg | tail -n 15 | while IFS= read -r l; do out "NESTED # $l"; done
    finish
fi

# Quiet unless verbose: every serial byte is a port-I/O exit, which is slow two levels down. Errors,
# warnings and panics still reach the serial port; a retry runs verbose to show where boot stopped.
VERBOSE_CMDLINE="console=ttyS0 panic=-1 reboot=t"
INNER_CMDLINE=$VERBOSE_CMDLINE
[ -n "$verbose" ] || INNER_CMDLINE="$INNER_CMDLINE quiet"

have_vmm() {
    case "$1" in
        vmm-*) command -v vessel > /dev/null ;;
        *) true ;;
    esac
}

# Runs CASE once into DIR with kernel command line CMDLINE; DIR/rc gets the VMM's exit status
# (137 after the timeout's KILL).
attempt() {
    local c=$1 dir=$2 cmdline=$3
    rm -rf "$dir"; mkdir -p "$dir"
    : > "$dir/console.out"
    INNER_CMDLINE=$cmdline timeout -s KILL "$timeout_s" nested-vmm "$c" "$dir" \
        > "$dir/serial.log" 2>&1 < /dev/null
    echo $? > "$dir/rc"
}

diag_shown=
report() {  # report CASE CHECK OK(0/1) DIAG-FILE; the case's diagnostics are shown once
    if [ "$3" = 0 ]; then
        out "NESTED ok $1: $2"
    else
        out "NESTED not ok $1: $2"
        if [ "$diag_shown" != "$1" ]; then
            diag_shown=$1
            tr -d '\r' < "$4" | tail -n 25 | while IFS= read -r l; do out "NESTED # $l"; done
        fi
    fi
}

test_case() {
    local c=$1 dir=/tmp/case-$1 rc all
    if ! have_vmm "$c"; then
        out "NESTED skip $c: vessel binary not in the bed (build/vessel missing)"
        return
    fi
    local t0 t1
    read t0 _ < /proc/uptime
    attempt "$c" "$dir" "$INNER_CMDLINE"
    if ! grep -q INNER-INIT "$dir/serial.log"; then
        # A TCG timing hang passes on a retry; a real failure shows its full kernel log.
        out "NESTED # $c: no inner /init (VMM status $(cat "$dir/rc")), retrying once without quiet"
        attempt "$c" "$dir" "$VERBOSE_CMDLINE"
    fi
    rc=$(cat "$dir/rc")
    read t1 _ < /proc/uptime
    out "NESTED # $c: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s in the outer guest"
    # The VMM's own report (exit reason, run time, memory overhead) with --debug.
    tr -d '\r' < "$dir/serial.log" | grep "^vessel vmm: " | while IFS= read -r l; do out "NESTED # $l"; done
    [ -n "$verbose" ] && tr -d '\r' < "$dir/serial.log" | while IFS= read -r l; do out "NESTED # | $l"; done
    all="$dir/all.log"
    cat "$dir/serial.log" "$dir/console.out" | tr -d '\r' > "$all"
    grep -q INNER-INIT "$all"; report "$c" "stock kernel reaches the inner /init" $? "$all"
    grep -q "console-marker 7c3e9f" "$dir/console.out"; report "$c" "virtio-console carries the inner marker" $? "$all"
    grep -q "INNER blk file: hello from the nested test bed" "$all"; report "$c" "virtio-blk: inner reads a file from ext4" $? "$all"
    grep -Eq "INNER rng current=virtio_rng[^ ]* bytes=[0-9a-f]{64}" "$all" &&
        ! grep -q "bytes=0000000000000000000000000000000000000000000000000000000000000000" "$all"
    report "$c" "virtio-rng: /dev/hwrng gives bytes" $? "$all"
    [ "$rc" = 0 ] && grep -q "INNER done" "$all"; report "$c" "inner guest powers off, VMM exits 0 (rc=$rc)" $? "$all"
}

# Bench: seconds from the VMM's start to the inner /init's first serial line.
bench_case() {
    local c=$1 dir=/tmp/bench-$1 start
    have_vmm "$c" || { out "NESTED # bench $c: no vessel binary"; return; }
    rm -rf "$dir"; mkdir -p "$dir"; : > "$dir/console.out"
    read start _ < /proc/uptime
    INNER_CMDLINE=$INNER_CMDLINE timeout -s KILL "$timeout_s" nested-vmm "$c" "$dir" \
        2>&1 < /dev/null | while IFS= read -r l; do
            case "$l" in
                *INNER-INIT*) read now _ < /proc/uptime
                    out "NESTED time $c $(awk -v a="$start" -v b="$now" 'BEGIN { printf "%.2f", b - a }')" ;;
            esac
        done
}

out "NESTED bed-ready kernel $(uname -r), cases: $cases"
if [ "$mode" = bench ]; then
    # Interleaved, and the order rotates each run so that no VMM always goes first.
    i=0 order=$cases
    while [ "$i" -lt "$runs" ]; do
        for c in $order; do bench_case "$c"; done
        set -- $order; shift; order="$* ${order%% *}"
        i=$((i + 1))
    done
else
    for c in $cases; do test_case "$c"; done
fi
finish
