#!/usr/bin/env bats
# Guest assets from `make vm-assets` (rootfs-tools/README.md): the layout others rely on, caching,
# the error for a package apt cannot get, and a boot of the stock kernel with the base initramfs.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

REPO="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
VM="$REPO/build/vm"

# Brings build/vm up to date with build/vessel, as `make vm-assets` does (cheap when it already is).
setup_file() {
    if [ -x "$REPO/build/vessel" ] && [ -f "$VM/initramfs.cpio.gz" ]; then
        "$REPO/rootfs-tools/vm-assets.sh" --out "$VM" --vessel "$REPO/build/vessel" --cache "$REPO/build/vm-pkg" 2>&1 | sed "s/^/# /" >&3 || true
    fi
}

setup() {
    [ -f "$VM/initramfs.cpio.gz" ] && [ -f "$VM/vmlinux" ] || skip "no guest assets in build/vm (make vm-assets)"
    TMP=$(mktemp -d)
    REL=$(cat "$VM/kernel-release")
}

teardown() {
    [ -n "${TMP:-}" ] && rm -rf "$TMP"
    return 0
}

# Unpacks every concatenated archive of the base initramfs into $TMP/tree (GNU cpio stops at the
# first trailer, so it is called until the input is used up).
unpack_initramfs() {
    mkdir -p "$TMP/tree"
    zcat "$VM/initramfs.cpio.gz" > "$TMP/all.cpio"
    python3 - "$TMP/all.cpio" "$TMP/tree" <<'PY'
import os, sys
data = open(sys.argv[1], 'rb').read()
root = sys.argv[2]
i = 0
while i + 110 <= len(data):
    if data[i:i + 6] != b'070701':
        i += 4
        continue
    f = [int(data[i + 6 + 8 * k:i + 14 + 8 * k], 16) for k in range(13)]
    mode, size, namesize, rmaj, rmin = f[1], f[6], f[11], f[9], f[10]
    name = data[i + 110:i + 110 + namesize - 1].decode()
    i = (i + 110 + namesize + 3) & ~3
    body = data[i:i + size]
    i = (i + size + 3) & ~3
    if name == 'TRAILER!!!':
        continue
    path = os.path.join(root, name)
    kind = mode & 0o170000
    if kind == 0o040000:
        os.makedirs(path, exist_ok=True)
    elif kind == 0o100000:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        open(path, 'wb').write(body)
        os.chmod(path, mode & 0o7777)
    else:
        # Device nodes and others: record them instead of creating them.
        open(path + '.node', 'w').write('%o %d:%d\n' % (mode, rmaj, rmin))
PY
}

@test "vm-assets: vmlinuz is a bzImage, vmlinux its ELF with a PVH entry, kernel-release names it" {
    run od -An -c -j 514 -N 4 "$VM/vmlinuz"
    assert_output --partial "H   d   r   S"
    run readelf -h "$VM/vmlinux"
    assert_success
    assert_output --partial "ELF64"
    assert_output --partial "X86-64"
    # Xen ELF note 18 = XEN_ELFNOTE_PHYS32_ENTRY, the PVH entry point QEMU's microvm uses.
    run readelf -n "$VM/vmlinux"
    assert_output --regexp "Xen[[:space:]]+0x[0-9a-f]+[[:space:]]+.*(0x00000012|PHYS32_ENTRY)"
    [[ "$REL" =~ ^[0-9]+\.[0-9]+\.[0-9]+-[0-9]+-amd64$ ]]
    # The release string is inside the kernel image itself.
    run grep -c -a "$REL" "$VM/vmlinux"
    assert_success
}

@test "vm-assets: extract-vmlinux recovers the same ELF from the bzImage, and rejects a non-kernel" {
    run "$REPO/rootfs-tools/extract-vmlinux.sh" "$VM/vmlinuz" "$TMP/vmlinux"
    assert_success
    cmp "$VM/vmlinux" "$TMP/vmlinux"
    head -c 100000 /dev/urandom > "$TMP/junk"
    run "$REPO/rootfs-tools/extract-vmlinux.sh" "$TMP/junk" "$TMP/out"
    assert_failure
    assert_output --partial "no compressed ELF kernel found"
    [ ! -e "$TMP/out" ]
}

@test "vm-assets: base initramfs holds /init = vessel, its libraries, mount points and /dev/console" {
    [ -x "$REPO/build/vessel" ] || skip "build/vessel not built (run make)"
    unpack_initramfs
    cmp "$REPO/build/vessel" "$TMP/tree/init"
    [ -x "$TMP/tree/init" ]
    while read -r lib; do
        [ -f "$TMP/tree$lib" ] || fail "library $lib missing from the initramfs"
    done < <(ldd "$REPO/build/vessel" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
    for d in proc sys dev run tmp bundle; do
        [ -d "$TMP/tree/$d" ] || fail "mount point /$d missing"
    done
    run cat "$TMP/tree/dev/console.node"
    assert_output "20600 5:1"
    # The binary runs from the tree with only what the initramfs carries.
    run chroot "$TMP/tree" /init --version
    assert_success
}

@test "vm-assets: load-order lists every module, plain .ko, dependencies before their users" {
    unpack_initramfs
    order="$TMP/tree/lib/modules/$REL/load-order"
    [ -f "$order" ]
    names=()
    while read -r path; do
        [[ "$path" == /lib/modules/$REL/*.ko ]] || fail "not an absolute .ko path: $path"
        [ -f "$TMP/tree$path" ] || fail "listed module missing: $path"
        run od -An -c -N 4 "$TMP/tree$path"
        assert_output --partial "177   E   L   F"
        n=${path##*/}; n=${n%.ko}; names+=("${n//-/_}")
    done < "$order"
    pos() { local i; for i in "${!names[@]}"; do [ "${names[$i]}" = "$1" ] && { echo "$i"; return; }; done; echo -1; }
    for m in virtio_ring virtio virtio_mmio virtio_blk virtio_console virtio_rng crc32c_generic crc16 mbcache jbd2 ext4; do
        [ "$(pos "$m")" -ge 0 ] || fail "module $m not in load-order"
    done
    [ "$(pos virtio_ring)" -lt "$(pos virtio)" ]
    [ "$(pos virtio)" -lt "$(pos virtio_mmio)" ]
    [ "$(pos virtio_mmio)" -lt "$(pos virtio_blk)" ]
    [ "$(pos mbcache)" -lt "$(pos ext4)" ]
    [ "$(pos jbd2)" -lt "$(pos ext4)" ]
    [ "$(pos crc16)" -lt "$(pos ext4)" ]
}

@test "vm-assets: a second run is a no-op" {
    [ -x "$REPO/build/vessel" ] || skip "build/vessel not built (run make)"
    run "$REPO/rootfs-tools/vm-assets.sh" --out "$VM" --vessel "$REPO/build/vessel" --cache "$REPO/build/vm-pkg"
    assert_success
    before=$(stat -c %Y "$VM/initramfs.cpio.gz" "$VM/vmlinux")
    run "$REPO/rootfs-tools/vm-assets.sh" --out "$VM" --vessel "$REPO/build/vessel" --cache "$REPO/build/vm-pkg"
    assert_success
    assert_output --partial "up to date"
    [ "$(stat -c %Y "$VM/initramfs.cpio.gz" "$VM/vmlinux")" = "$before" ]
}

@test "vm-assets: a changed vessel binary rebuilds the initramfs with the new /init" {
    [ -x "$REPO/build/vessel" ] || skip "build/vessel not built (run make)"
    cp "$REPO/build/vessel" "$TMP/vessel"
    run "$REPO/rootfs-tools/vm-assets.sh" --out "$TMP/vm" --vessel "$TMP/vessel" --cache "$REPO/build/vm-pkg"
    assert_success
    assert_output --partial "vm-assets: built"
    cmp "$VM/vmlinux" "$TMP/vm/vmlinux"
    printf 'x' >> "$TMP/vessel"
    run "$REPO/rootfs-tools/vm-assets.sh" --out "$TMP/vm" --vessel "$TMP/vessel" --cache "$REPO/build/vm-pkg"
    assert_success
    assert_output --partial "vm-assets: built"
    VM="$TMP/vm" unpack_initramfs
    cmp "$TMP/vessel" "$TMP/tree/init"
}

@test "vm-assets: a kernel package apt cannot get is named in the error, nothing is left behind" {
    [ -x "$REPO/build/vessel" ] || skip "build/vessel not built (run make)"
    VESSEL_KERNEL_PKG=linux-image-vessel-no-such-package \
        run "$REPO/rootfs-tools/vm-assets.sh" --out "$TMP/vm" --vessel "$REPO/build/vessel" --cache "$TMP/pkg"
    assert_failure
    assert_output --partial 'vm-assets: apt does not know package "linux-image-vessel-no-such-package"'
    [ ! -e "$TMP/vm/initramfs.cpio.gz" ]
    [ -z "$(ls "$TMP/pkg" 2>/dev/null)" ]   # no .deb, no extracted tree (only the hidden lock)
}

@test "vm-assets: a failed download names the package; an older cached package is kept instead" {
    command -v apt-cache > /dev/null || skip "apt-cache not installed"
    apt-cache show --no-all-versions linux-image-amd64 > /dev/null 2>&1 || skip "apt has no package lists (apt-get update)"
    # An apt-get that cannot fetch anything, as offline.
    mkdir -p "$TMP/bin"
    printf '#!/bin/sh\necho "E: Failed to fetch (offline)" >&2\nexit 100\n' > "$TMP/bin/apt-get"
    chmod +x "$TMP/bin/apt-get"
    PATH="$TMP/bin:$PATH" run "$REPO/rootfs-tools/kernel-pkg.sh" "$TMP/fresh"
    assert_failure
    assert_output --regexp 'cannot download Debian package "linux-image-[0-9.]+-[0-9]+-amd64"'
    assert_output --partial "Failed to fetch (offline)"
    mkdir -p "$TMP/old/root/lib/modules/5.10.0-1-amd64"
    echo "5.10.1-1 linux-image-5.10.0-1-amd64" > "$TMP/old/stamp"
    PATH="$TMP/bin:$PATH" run "$REPO/rootfs-tools/kernel-pkg.sh" "$TMP/old"
    assert_success
    assert_output --partial "keeping the cached 5.10.1-1 linux-image-5.10.0-1-amd64"
    assert_line "$TMP/old/root"
}

@test "vm-assets: the stock kernel boots the base initramfs and loads every module in load-order" {
    command -v qemu-system-x86_64 > /dev/null || skip "qemu-system-x86_64 not installed"
    [ -x "$REPO/build/vessel" ] || skip "build/vessel not built (run make)"
    busybox=$(command -v busybox) || skip "busybox-static not installed"
    unpack_initramfs
    # An appended archive adds busybox and a test init beside the base /init (the kernel unpacks
    # concatenated archives in order), the way VM mode appends its per-container archive.
    mkdir -p "$TMP/overlay/bin"
    cp "$busybox" "$TMP/overlay/bin/busybox"
    cat > "$TMP/overlay/test-init" <<SH
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs dev /dev
for m in \$(cat /lib/modules/$REL/load-order); do
    insmod "\$m" || echo "MODULE-FAILED \$m"
done
echo "MODULES \$(wc -l < /proc/modules)"
/init --version | sed 's/^/VERSION /'
mkdir -p /mnt; sleep 1
mount -t ext4 -o ro /dev/vda /mnt && echo "DISK \$(cat /mnt/hello)"
poweroff -f
SH
    chmod 0755 "$TMP/overlay/test-init"
    (cd "$TMP/overlay" && find . -mindepth 1 | cpio --quiet -o -H newc -R 0:0) > "$TMP/overlay.cpio"
    # An uncompressed archive after a compressed one must start 4-byte aligned: pad with zeros.
    size=$(stat -c %s "$VM/initramfs.cpio.gz")
    { cat "$VM/initramfs.cpio.gz"; head -c $(((4 - size % 4) % 4)) /dev/zero; cat "$TMP/overlay.cpio"; } > "$TMP/initrd"
    mkdir "$TMP/disk" && echo "ext4 via virtio-blk" > "$TMP/disk/hello"
    mkfs.ext4 -q -F -d "$TMP/disk" "$TMP/disk.img" 8M > /dev/null
    run timeout -s KILL 240 qemu-system-x86_64 -M microvm -accel tcg -m 256 -smp 1 -nodefaults \
        -no-user-config -nographic -no-reboot -serial stdio -kernel "$VM/vmlinux" -initrd "$TMP/initrd" \
        -append "console=ttyS0 quiet panic=-1 tsc_early_khz=2000000 rdinit=/test-init" \
        -drive id=d0,if=none,file="$TMP/disk.img",format=raw,readonly=on -device virtio-blk-device,drive=d0
    refute_output --partial "MODULE-FAILED"
    assert_output --partial "MODULES $(wc -l < "$TMP/tree/lib/modules/$REL/load-order")"
    assert_output --partial "VERSION "
    assert_output --partial "DISK ext4 via virtio-blk"
}
