#!/bin/bash
# Container start-up benchmark: N sequential `run` of /bin/true with vessel,
# runc and crun, interleaved, plus a bare `unshare` of the same namespaces as
# the floor. Prints the median wall time per run, the ratios to vessel, and
# each runtime's peak RSS (GNU time's %M over a few extra runs).
#
# usage: bench/container.sh [N]      (default 50; VESSEL=path overrides build/vessel)
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

# One run: prints elapsed microseconds; fails loudly if the runtime fails.
run_once() {
    local rt=$1 id=$2 t0 t1
    t0=$EPOCHREALTIME
    if [ "$rt" = floor ]; then
        "${floor_cmd[@]}"
    else
        "${bin[$rt]}" --root "$work/root-$rt" run -b "$work/bundle" "$id" </dev/null >/dev/null
    fi 2>>"$work/stderr-$rt"
    t1=$EPOCHREALTIME
    echo $(( (${t1/./} - ${t0/./}) ))
}

# Warm caches (binaries, the bundle) and check that every runtime works here.
for rt in "${runtimes[@]}" floor; do
    if ! run_once "$rt" "warm-$rt" >/dev/null; then
        echo "bench: $rt cannot run the bundle here:" >&2
        cat "$work/stderr-$rt" >&2
        exit 1
    fi
done

declare -A samples
all=("${runtimes[@]}" floor)
for ((i = 0; i < N; i++)); do
    # Rotate the order each round so no runtime always goes first.
    for ((k = 0; k < ${#all[@]}; k++)); do
        rt=${all[$(( (i + k) % ${#all[@]} ))]}
        samples[$rt]+="$(run_once "$rt" "b$i-$rt") "
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
            -b "$work/bundle" "rss$i-$rt" </dev/null >/dev/null 2>>"$work/stderr-$rt"
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
printf '%d runs each, interleaved, private mount ns without cgroup2 (kernel %s)\n' "$N" "$(uname -r)"
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
