#!/bin/bash
# Copies kernel modules and everything they depend on (from each module's .modinfo "depends=")
# out of an extracted kernel package, as plain .ko files, and prints them dependencies first.
# Usage: modules.sh PKG_ROOT RELEASE DEST_ROOT MODULE...
#   writes DEST_ROOT/lib/modules/RELEASE/kernel/.../NAME.ko and prints one absolute guest path
#   (/lib/modules/RELEASE/...) per line in load order.
set -euo pipefail

die() { echo "vm-assets: $*" >&2; exit 1; }

[ $# -ge 4 ] || die "usage: modules.sh PKG_ROOT RELEASE DEST_ROOT MODULE..."
pkg=$1 rel=$2 dest=$3
shift 3
moddir=$pkg/lib/modules/$rel
[ -d "$moddir" ] || die "no modules for $rel in \"$pkg\""
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Module names treat '-' and '_' alike; index every module file by its canonical name.
canon() { local n=${1##*/}; n=${n%%.ko*}; echo "${n//-/_}"; }
declare -A path_of=()
while IFS= read -r f; do
    path_of[$(canon "$f")]=$f
done < <(cd "$moddir" && find kernel -name '*.ko' -o -name '*.ko.xz' -o -name '*.ko.zst' -o -name '*.ko.gz')

# Plain .ko of a module file (decompressing when the package ships compressed modules).
plain_ko() {
    local src=$moddir/$1 out=$2
    case "$src" in
        *.ko.xz)  xz -dc "$src" > "$out" ;;
        *.ko.zst) zstd -dcq "$src" > "$out" ;;
        *.ko.gz)  gzip -dc "$src" > "$out" ;;
        *)        cp "$src" "$out" ;;
    esac
}

# The "depends=" entry of the module's .modinfo section (comma separated canonical names).
depends_of() {
    readelf -p .modinfo "$1" 2>/dev/null | sed -n 's/^ *\[ *[0-9a-f]*\] *depends=//p' | tr ',' ' '
}

declare -A state=()   # "visiting" while on the DFS stack, "done" once emitted
order=()
visit() {
    local name dep rel_path ko
    name=$(canon "$1")
    case "${state[$name]:-}" in
        "done") return 0 ;;
        visiting) die "module dependency loop at \"$name\"" ;;
    esac
    rel_path=${path_of[$name]:-}
    [ -n "$rel_path" ] || die "module \"$1\" is not in the kernel package ($rel); built in? check CONFIG in /boot/config-$rel"
    state[$name]=visiting
    ko=$tmp/$name.ko
    plain_ko "$rel_path" "$ko"
    for dep in $(depends_of "$ko"); do
        visit "$dep"
    done
    rel_path=${rel_path%.xz}; rel_path=${rel_path%.zst}; rel_path=${rel_path%.gz}
    mkdir -p "$dest/lib/modules/$rel/$(dirname "$rel_path")"
    mv "$ko" "$dest/lib/modules/$rel/$rel_path"
    state[$name]="done"
    order+=("/lib/modules/$rel/$rel_path")
}

for m in "$@"; do
    visit "$m"
done
printf '%s\n' "${order[@]}"
