#!/bin/bash
# Small helpers for building initramfs trees, sourced by vm-assets.sh and the nested test bed:
# copy a binary with the shared libraries it links (ldd), and pack a tree as a newc cpio
# (root-owned, with /dev/console made without mknod so non-root builds work).

# initramfs_copy_binary SRC TREE DEST: copies SRC to TREE/DEST plus its libraries and loader at
# their own absolute paths inside TREE.
initramfs_copy_binary() {
    local src=$1 tree=$2 dst=$3 lib
    mkdir -p "$tree/$(dirname "$dst")"
    cp -L "$src" "$tree/$dst"
    # "libx.so => /path (0x..)" and the loader's "/lib64/ld-linux-x86-64.so.2 (0x..)"; static
    # binaries make ldd fail, which is fine.
    while IFS= read -r lib; do
        [ -e "$tree/$lib" ] && continue
        mkdir -p "$tree/$(dirname "$lib")"
        cp -L "$lib" "$tree/$lib"
    done < <(ldd "$src" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
}

# One newc cpio member (no data): initramfs_newc_entry NAME MODE RDEVMAJOR RDEVMINOR INO.
initramfs_newc_entry() {
    local name=$1 mode=$2 maj=$3 min=$4 ino=$5 namesize pad
    namesize=$((${#name} + 1))
    printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%s\0' \
        "$ino" "$mode" 0 0 1 0 0 0 0 "$maj" "$min" "$namesize" 0 "$name"
    pad=$(((4 - (110 + namesize) % 4) % 4))
    head -c "$pad" /dev/zero
}

# initramfs_pack TREE OUT [gzip|none]: writes the cpio of TREE (plus /dev/console) to OUT.
initramfs_pack() {
    local tree=$1 out=$2 comp=${3:-gzip}
    {
        # A separate leading archive with the console node; the kernel reads concatenated
        # archives in order, and it needs /dev/console to give init its stdio.
        initramfs_newc_entry dev $((0040755)) 0 0 1
        initramfs_newc_entry dev/console $((0020600)) 5 1 2
        initramfs_newc_entry 'TRAILER!!!' 0 0 0 0
        (cd "$tree" && find . -mindepth 1 | LC_ALL=C sort | sed 's|^\./||' |
            cpio --quiet -o -H newc -R 0:0)
    } | if [ "$comp" = gzip ]; then gzip -n -6; else cat; fi > "$out.tmp"
    mv -f "$out.tmp" "$out"
}
