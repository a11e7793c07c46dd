#!/bin/bash
# Builds the micro-VM guest assets (layout in rootfs-tools/README.md): Debian's stock kernel as
# bzImage and ELF vmlinux, its release name, and the base initramfs (/init = vessel + libs + modules).
# Usage: vm-assets.sh [--out DIR] [--vessel BIN] [--cache DIR]   (defaults build/vm, build/vessel,
# build/vm-pkg). Idempotent: does nothing when the vessel binary, the package and these scripts
# are unchanged.
set -euo pipefail

die() { echo "vm-assets: $*" >&2; exit 1; }

here=$(cd "$(dirname "$0")" && pwd)
out=build/vm vessel=build/vessel cache=build/vm-pkg
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out=$2; shift 2 ;;
        --vessel) vessel=$2; shift 2 ;;
        --cache) cache=$2; shift 2 ;;
        *) die "unknown argument \"$1\"" ;;
    esac
done
[ -x "$vessel" ] || die "vessel binary \"$vessel\" not found (run \"make\" first)"
for tool in apt-get apt-cache dpkg-deb cpio gzip readelf ldd xz flock strip truncate od; do
    command -v "$tool" >/dev/null || die "\"$tool\" is not installed (make deps)"
done

# The modules the guest init loads, in this order (dependencies are added before their users).
GUEST_MODULES=(virtio_ring virtio virtio_mmio virtio_blk virtio_console virtio-rng
    crc32c_generic crc16 mbcache jbd2 ext4)

# One build at a time (make check and a user's make vm-assets may overlap).
mkdir -p "$cache"
exec 9> "$cache/.lock"
flock 9
pkgroot=$("$here/kernel-pkg.sh" "$cache")
mkdir -p "$out"

key=$( {
    cat "$cache/stamp"
    sha256sum "$vessel" "$here/vm-assets.sh" "$here/modules.sh" "$here/initramfs.sh" \
        "$here/extract-vmlinux.sh" | cut -d' ' -f1
    echo "${GUEST_MODULES[*]}"
} | sha256sum | cut -d' ' -f1)
if [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$key" ] &&
   [ -f "$out/vmlinux" ] && [ -f "$out/vmlinuz" ] && [ -f "$out/initramfs.cpio.gz" ] && [ -f "$out/kernel-release" ]; then
    echo "vm-assets: up to date in $out"
    exit 0
fi

rels=("$pkgroot"/lib/modules/*)
[ ${#rels[@]} -eq 1 ] && [ -d "${rels[0]}" ] || die "expected one kernel release in \"$pkgroot/lib/modules\""
rel=${rels[0]##*/}
[ -f "$pkgroot/boot/vmlinuz-$rel" ] || die "no /boot/vmlinuz-$rel in the kernel package"

tmp=$(mktemp -d "$out/.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

cp "$pkgroot/boot/vmlinuz-$rel" "$tmp/vmlinuz"
"$here/extract-vmlinux.sh" "$tmp/vmlinuz" "$tmp/vmlinux"
# QEMU boots it through the PVH entry (Xen ELF note type 18, XEN_ELFNOTE_PHYS32_ENTRY).
readelf -n "$tmp/vmlinux" | grep -q 'Xen.*0x00000012\|XEN_ELFNOTE_PHYS32_ENTRY' ||
    die "extracted vmlinux has no PVH entry note"
echo "$rel" > "$tmp/kernel-release"

# The base initramfs tree.
tree=$tmp/tree
mkdir -p "$tree"/{proc,sys,dev,run,tmp,bundle}
# shellcheck source=rootfs-tools/initramfs.sh
. "$here/initramfs.sh"
initramfs_copy_binary "$vessel" "$tree" /init
"$here/modules.sh" "$pkgroot" "$rel" "$tree" "${GUEST_MODULES[@]}" > "$tmp/load-order"
mv "$tmp/load-order" "$tree/lib/modules/$rel/load-order"
initramfs_pack "$tree" "$tmp/initramfs.cpio.gz" gzip

for f in vmlinuz vmlinux kernel-release initramfs.cpio.gz; do
    mv -f "$tmp/$f" "$out/$f"
done
echo "$key" > "$out/.stamp"
echo "vm-assets: built $out (kernel $rel, initramfs $(du -h "$out/initramfs.cpio.gz" | cut -f1))"
