#!/bin/bash
# Fetches Debian's linux-image-amd64 and its versioned kernel package with `apt-get download` and
# extracts the kernel package with `dpkg-deb -x` (never installed on the host). Cached: re-fetched
# only when apt's candidate version changes. Prints the extracted root directory on stdout.
# Usage: kernel-pkg.sh CACHE_DIR     (env VESSEL_KERNEL_PKG overrides the meta package name)
set -euo pipefail

die() { echo "vm-assets: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: kernel-pkg.sh CACHE_DIR"
cache=$1
meta=${VESSEL_KERNEL_PKG:-linux-image-amd64}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

# apt's idea of the newest meta package: "VERSION DEPENDENCY". Local only, no network.
candidate() {
    apt-cache show --no-all-versions "$meta" 2>/dev/null | awk '
        /^Version:/ { v = $2 }
        /^Depends:/ { for (i = 2; i <= NF; i++) if ($i ~ /^linux-image-/) { d = $i; sub(/,$/, "", d); break } }
        END { if (v != "" && d != "") print v, d }'
}

stamp=$cache/stamp
want=$(candidate || true)
if [ -f "$stamp" ] && [ -d "$cache/root/lib/modules" ]; then
    # Keep the cache when apt offers the same version, or knows nothing (offline, no lists).
    if [ -z "$want" ] || [ "$(cat "$stamp")" = "$want" ]; then
        echo "$cache/root"
        exit 0
    fi
fi
[ -n "$want" ] || die "apt does not know package \"$meta\" (run \"apt-get update\"; it needs a Debian main repository)"

read -r version image <<< "$want"
image_version=$(apt-cache show --no-all-versions "$image" 2>/dev/null | awk '/^Version:/ { print $2; exit }')
[ -n "$image_version" ] || die "apt does not know package \"$image\" (needed by $meta $version; run \"apt-get update\")"

work=$(mktemp -d "$cache/dl.XXXXXX")
trap 'rm -rf "$work"' EXIT
# apt drops privileges to _apt for downloads; give it a directory it may write.
chmod 0777 "$work"
echo "vm-assets: downloading $image $image_version" >&2
if ! (cd "$work" && apt-get download -q "$image=$image_version" >/dev/null 2>"$work/apt.err"); then
    sed 's/^/  /' "$work/apt.err" >&2
    if [ -f "$stamp" ] && [ -d "$cache/root/lib/modules" ]; then
        # Offline after an apt-get update: the cached (older) kernel still makes working assets.
        echo "vm-assets: cannot download \"$image\" ($image_version); keeping the cached $(cat "$stamp")" >&2
        echo "$cache/root"
        exit 0
    fi
    die "cannot download Debian package \"$image\" ($image_version) with apt-get download"
fi
deb=$(ls "$work"/*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || die "apt-get download \"$image\" produced no .deb"
mkdir "$work/root"
dpkg-deb -x "$deb" "$work/root" || die "cannot extract \"$deb\" with dpkg-deb -x"
ls "$work"/root/boot/vmlinuz-* >/dev/null 2>&1 || die "\"$image\" carries no /boot/vmlinuz-*"

rm -rf "$cache/root" "$cache"/*.deb
mv "$deb" "$cache/"
mv "$work/root" "$cache/root"
echo "$want" > "$stamp"
echo "$cache/root"
