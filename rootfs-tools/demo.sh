#!/bin/bash
# `make demo`: build an example busybox bundle, run it as a container and as a
# micro-VM, and print what the workload saw.
set -euo pipefail
cd "$(dirname "$0")/.."
vessel=$PWD/build/vessel
work=$PWD/build/demo
root=$work/state
rm -rf "$work" && mkdir -p "$work"
trap '"$vessel" --root "$root" delete --force demo-ctr >/dev/null 2>&1 || true;
      "$vessel" --root "$root" delete --force demo-vm >/dev/null 2>&1 || true' EXIT

show='echo "hostname:   $(hostname)"; echo "pid 1:      $(cat /proc/1/cmdline | tr "\0" " ")";
echo "kernel:     $(uname -r)"; grep -E "^Cap(Eff|Bnd)" /proc/self/status | sed "s/^/caps:       /";
echo "mounts:"; sed "s/^/  /" /proc/self/mounts'
rootfs-tools/mkbundle.sh "$work/bundle" sh -c "$show"

echo "== host kernel: $(uname -r)"
echo "== container (vessel run)"
"$vessel" --root "$root" run -b "$work/bundle" demo-ctr

echo
echo "== micro-VM (vessel --isolation vm run)"
if make -s vm-assets; then
    "$vessel" --root "$root" --isolation vm run -b "$work/bundle" demo-vm \
        || echo "micro-VM run failed (status $?)"
else
    echo "guest assets could not be built; skipping the micro-VM part"
fi
