#!/bin/bash
# Extracts the ELF vmlinux from an x86 bzImage: reads the boot-protocol header to locate the
# compressed payload, identifies its format by magic bytes and decompresses it with the Debian tool.
# Usage: extract-vmlinux.sh BZIMAGE OUT
set -euo pipefail

die() { echo "extract-vmlinux: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: extract-vmlinux.sh BZIMAGE OUT"
img=$1 out=$2
[ -r "$img" ] || die "cannot read \"$img\""

# Little-endian unsigned integer of $2 bytes at offset $1.
le() { od -An -tu"$2" -j "$1" -N "$2" "$img" | tr -d ' '; }
hex_at() { od -An -tx1 -j "$1" -N "$2" "$img" | tr -d ' \n'; }

# Decompressor command for the format whose magic starts at offset $1, or nothing.
decoder_at() {
    local m
    m=$(hex_at "$1" 6)
    case "$m" in
        fd377a585a00*) echo "xz -dc --single-stream" ;;
        1f8b08*)       echo "gzip -dc" ;;
        28b52ffd*)     echo "zstd -dcq" ;;
        02214c18*)     echo "lz4 -dcq" ;;
        894c5a4f*)     echo "lzop -dc" ;;
        425a68*)       echo "bzip2 -dc" ;;
        5d0000*)       echo "xz -dc --format=lzma" ;;
        7f454c46*)     echo "cat" ;;
    esac
}

is_elf() { [ "$(od -An -tx1 -N4 "$1" 2>/dev/null | tr -d ' \n')" = "7f454c46" ]; }

# Decompresses [offset, offset+len) into $out. Trailing bytes after the stream (the kernel
# appends the uncompressed size) make some tools complain, so judge by the result, not the status.
try_at() {
    local off=$1 len=$2 dec tool
    dec=$(decoder_at "$off")
    [ -n "$dec" ] || return 1
    tool=${dec%% *}
    command -v "$tool" >/dev/null || die "payload at $off needs \"$tool\", which is not installed"
    tail -c +"$((off + 1))" "$img" | head -c "$len" | $dec > "$out.tmp" 2>/dev/null || true
    if is_elf "$out.tmp"; then
        mv -f "$out.tmp" "$out"
        return 0
    fi
    rm -f "$out.tmp"
    return 1
}

size=$(stat -c %s "$img")
# Boot protocol: "HdrS" at 0x202, version at 0x206; payload_offset/length exist from 2.08 on.
if [ "$size" -gt 1024 ] && [ "$(hex_at $((0x202)) 4)" = "48647253" ] && [ "$(le $((0x206)) 2)" -ge $((0x208)) ]; then
    setup_sects=$(le $((0x1f1)) 1)
    [ "$setup_sects" -eq 0 ] && setup_sects=4
    pm_start=$(((setup_sects + 1) * 512))
    payload=$((pm_start + $(le $((0x248)) 4)))
    plen=$(le $((0x24c)) 4)
    if [ "$payload" -lt "$size" ] && try_at "$payload" "$plen"; then
        exit 0
    fi
fi

# Not a (usable) bzImage header: look for any known compression magic and try each candidate.
for magic in '\xfd\x37\x7a\x58\x5a\x00' '\x1f\x8b\x08' '\x28\xb5\x2f\xfd' '\x02\x21\x4c\x18' \
             '\x89\x4c\x5a\x4f' '\x42\x5a\x68' '\x5d\x00\x00'; do
    while IFS=: read -r off _; do
        try_at "$off" "$size" && exit 0
    done < <(LC_ALL=C grep -obUaP "$magic" "$img" 2>/dev/null | head -n 64)
done
die "no compressed ELF kernel found in \"$img\""
