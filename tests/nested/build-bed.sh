#!/bin/bash
# Builds the nested test bed's outer initramfs (build/nested/outer.cpio): busybox + /init for the
# outer guest, kvm/kvm-amd modules, QEMU and the vessel binary with their libraries, and the inner
# guest (stock kernel, a busybox initramfs, an ext4 disk). Cached: rebuilt only when an input changes.
# Usage: build-bed.sh [OUT_DIR]     (default build/nested; needs `make vm-assets` first;
# NESTED_VESSEL=BIN puts another vessel binary in the bed)
set -euo pipefail

die() { echo "nested: $*" >&2; exit 1; }

cd "$(dirname "$0")/../.."
root=$(pwd)
out=${1:-build/nested}
vm=build/vm pkgroot=build/vm-pkg/root
here=$root/tests/nested
[ -f "$vm/vmlinux" ] && [ -f "$vm/vmlinuz" ] && [ -f "$vm/kernel-release" ] && [ -d "$pkgroot/lib/modules" ] ||
    die "guest assets missing (run \"make vm-assets\")"
busybox=$(command -v busybox) || die "busybox not installed (busybox-static)"
ldd "$busybox" > /dev/null 2>&1 && die "\"$busybox\" is dynamically linked; install busybox-static"
qemu=$(command -v qemu-system-x86_64) || die "qemu-system-x86_64 not installed"
command -v mkfs.ext4 > /dev/null || die "mkfs.ext4 not installed (e2fsprogs)"
rel=$(cat "$vm/kernel-release")
vessel=${NESTED_VESSEL:-build/vessel}   # override: test another vessel binary in the bed
[ -x "$vessel" ] || vessel=

key=$( {
    echo "$rel"
    cat "$vm/.stamp" 2>/dev/null || true
    sha256sum "$here"/*.sh "$root"/rootfs-tools/initramfs.sh "$root"/rootfs-tools/modules.sh "$busybox" "$qemu" ${vessel:+"$vessel"} | cut -d' ' -f1
} | sha256sum | cut -d' ' -f1)
mkdir -p "$out"
if [ -f "$out/outer.cpio" ] && [ "$(cat "$out/.stamp" 2>/dev/null)" = "$key" ]; then
    exit 0
fi

tmp=$(mktemp -d "$out/.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=rootfs-tools/initramfs.sh
. "$root/rootfs-tools/initramfs.sh"

# Inner guest: busybox init that exercises the virtio devices.
inner=$tmp/inner
mkdir -p "$inner"/{bin,proc,sys,dev,tmp,mnt,lib/modules}
cp "$busybox" "$inner/bin/busybox"
install -m 0755 "$here/inner-init.sh" "$inner/init"
"$root/rootfs-tools/modules.sh" "$pkgroot" "$rel" "$inner" virtio_ring virtio virtio_mmio \
    virtio_console virtio_blk virtio-rng crc32c_generic crc16 mbcache jbd2 ext4 > "$inner/lib/modules/load-order.tmp"
mv "$inner/lib/modules/load-order.tmp" "$inner/lib/modules/load-order"

# Outer guest.
tree=$tmp/outer
mkdir -p "$tree"/{bin,proc,sys,dev,tmp,run,guest,usr/share/qemu,lib/modules}
cp "$busybox" "$tree/bin/busybox"
install -m 0755 "$here/outer-init.sh" "$tree/init"
install -m 0755 "$here/nested-vmm.sh" "$tree/bin/nested-vmm"
"$root/rootfs-tools/modules.sh" "$pkgroot" "$rel" "$tree" irqbypass ccp kvm kvm-amd > "$tree/lib/modules/load-order.tmp"
mv "$tree/lib/modules/load-order.tmp" "$tree/lib/modules/load-order"
initramfs_copy_binary "$qemu" "$tree" /usr/bin/qemu-system-x86_64
for f in bios-microvm.bin qboot.rom pvh.bin linuxboot_dma.bin; do
    [ -e "/usr/share/qemu/$f" ] && cp -L "/usr/share/qemu/$f" "$tree/usr/share/qemu/$f"
done
[ -n "$vessel" ] && initramfs_copy_binary "$vessel" "$tree" /usr/bin/vessel
cp "$vm/vmlinux" "$vm/vmlinuz" "$tree/guest/"
initramfs_pack "$inner" "$tree/guest/inner.cpio.gz" gzip
mkdir -p "$tmp/disk"
echo "hello from the nested test bed" > "$tmp/disk/hello.txt"
mkfs.ext4 -q -F -L nested -d "$tmp/disk" "$tree/guest/disk.img" 8M > /dev/null

initramfs_pack "$tree" "$tmp/outer.cpio" none
mv -f "$tmp/outer.cpio" "$out/outer.cpio"
echo "$key" > "$out/.stamp"
echo "nested: built $out/outer.cpio ($(du -h "$out/outer.cpio" | cut -f1), vessel ${vessel:-absent})" >&2
