#!/bin/bash
# Container start-up benchmark: N sequential `run` of /bin/true with vessel,
# runc and crun, interleaved, plus a bare `unshare` of the same namespaces as
# the floor. Prints the median wall time per run, the ratios to vessel, and
# each runtime's peak RSS (GNU time's %M over a few extra runs).
# Every run starts "cold": a short pause (not timed) separates runs, because on
# cgroup v1 the first cgroup.procs write after a quiet period costs an RCU grace
# period and a run right after another runtime's run would skip it.
#
# usage: bench/container.sh [N]      (default 50; VESSEL=path overrides build/vessel,
#                                    PAUSE=seconds between runs, default 0.1)
#
# Debian's crun 1.8 refuses hybrid cgroup hosts ("cgroups in hybrid mode not
# supported"), so everything runs in a private mount namespace where
# /sys/fs/cgroup/unified is unmounted: the same conditions for all three.
set -euo pipefail
N=${1:-${N:-50}}
here=$(cd "$(dirname "$0")/.." && pwd)
VESSEL=${VESSEL:-$here/build/vessel}

if [ "${_BENCH_INSIDE:-}" != 1 ]; then
    [ "$(id -u)" -eq 0 ] || { echo "bench: needs root" >&2; exit 1; }
    [ -x "$VESSEL" ] || { echo "bench: $VESSEL not built (run make)" >&2; exit 1; }
    [ -x /usr/bin/time ] || { echo "bench: needs GNU time (apt-get install time)" >&2; exit 1; }
    export _BENCH_INSIDE=1 VESSEL N
    exec unshare -m --propagation private "$0" "$@"
fi

if mountpoint -q /sys/fs/cgroup/unified 2>/dev/null; then
    umount /sys/fs/cgroup/unified
fi

work=$(mktemp -d /tmp/vessel-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$here/rootfs-tools/mkbundle.sh" "$work/bundle" /bin/true >/dev/null
# Debian's crun 1.8 rejects newer spec versions ("unknown version specified").
sed -i 's/"ociVersion": *"[^"]*"/"ociVersion": "1.0.2"/' "$work/bundle/config.json"
PAUSE=${PAUSE:-0.1}

runtimes=(vessel)
declare -A bin=([vessel]=$VESSEL)
for r in runc crun; do
    if command -v "$r" >/dev/null; then
        runtimes+=("$r")
        bin[$r]=$(command -v "$r")
    else
        echo "bench: $r not installed, skipped" >&2
    fi
done
floor_cmd=(unshare --pid --fork --net --ipc --uts --mount --cgroup /bin/true)

# One run: stores the elapsed microseconds in $us; returns the runtime's status.
run_once() {
    local rt=$1 id=$2 t0 t1 rc=0
    t0=$EPOCHREALTIME
    if [ "$rt" = floor ]; then
        "${floor_cmd[@]}" || rc=$?
    else
        "${bin[$rt]}" --root "$work/root-$rt" run -b "$work/bundle" "$id" </dev/null >/dev/null \
            2>>"$work/stderr-$rt" || rc=$?
    fi
    t1=$EPOCHREALTIME
    us=$(( (${t1/./} - ${t0/./}) ))
    return "$rc"
}

fail() {
    echo "bench: $1 failed (exit $2):" >&2
    cat "$work/stderr-$1" >&2 2>/dev/null || true
    exit 1
}

# Warm caches (binaries, the bundle) and check that every runtime works here.
for rt in "${runtimes[@]}" floor; do
    rc=0
    run_once "$rt" "warm-$rt" || rc=$?
    [ "$rc" -eq 0 ] || fail "$rt" "$rc"
done

declare -A samples
all=("${runtimes[@]}" floor)
for ((i = 0; i < N; i++)); do
    # Rotate the order each round so no runtime always goes first.
    for ((k = 0; k < ${#all[@]}; k++)); do
        rt=${all[$(( (i + k) % ${#all[@]} ))]}
        sleep "$PAUSE"
        rc=0
        run_once "$rt" "b$i-$rt" || rc=$?
        [ "$rc" -eq 0 ] || fail "$rt" "$rc"
        samples[$rt]+="$us "
    done
done

median_us() {
    tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{ v[NR] = $1 } END {
        if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

peak_rss_kib() {
    local rt=$1 max=0 i kib
    for i in 1 2 3; do
        /usr/bin/time -f %M -o "$work/rss" "${bin[$rt]}" --root "$work/root-$rt" run \
            -b "$work/bundle" "rss$i-$rt" </dev/null >/dev/null 2>>"$work/stderr-$rt" ||
            fail "$rt" "$?"
        kib=$(tail -1 "$work/rss")
        [ "$kib" -gt "$max" ] && max=$kib
    done
    echo "$max"
}

declare -A med
for rt in "${all[@]}"; do
    med[$rt]=$(median_us "${samples[$rt]}")
done
base=${med[vessel]}
printf '%d runs each, interleaved, %ss apart, private mount ns without cgroup2 (kernel %s)\n' \
    "$N" "$PAUSE" "$(uname -r)"
printf '%-8s %12s %14s %14s\n' runtime "median ms" "x vessel time" "peak RSS MiB"
for rt in "${all[@]}"; do
    if [ "$rt" = floor ]; then
        rss="-"
        name="unshare"
    else
        rss=$(awk -v k="$(peak_rss_kib "$rt")" 'BEGIN { printf "%.1f", k / 1024 }')
        name=$rt
    fi
    printf '%-8s %12s %14s %14s\n' "$name" \
        "$(awk -v u="${med[$rt]}" 'BEGIN { printf "%.2f", u / 1000 }')" \
        "$(awk -v u="${med[$rt]}" -v b="$base" 'BEGIN { printf "%.2f", u / b }')" "$rss"
done
