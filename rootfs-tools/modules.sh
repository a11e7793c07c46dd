#!/bin/bash
# Copies kernel modules and everything they depend on (from each module's .modinfo "depends=")
# out of an extracted kernel package, as plain .ko files without signature, debug or BTF sections,
# and prints them dependencies first.
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

# Drops the module's appended signature ("~Module signature appended~\n" after a struct
# module_signature: u8 algo, hash, id_type, signer_len, key_id_len, pad[3], be32 sig_len) and
# its debug sections. The kernel does not require signatures (MODULE_SIG_FORCE unset; the
# first unsigned module taints it, which is harmless here), and under TCG checking an RSA
# signature over a hash of the whole file costs more than the load itself. The .BTF section
# (type info for BPF, parsed and checked against the kernel's at every load) goes too.
strip_ko() {
    local ko=$1 size meta signer keyid siglen
    size=$(stat -c %s "$ko")
    if [ "$size" -gt 40 ] && [ "$(tail -c 28 "$ko")" = "~Module signature appended~" ]; then
        # tail strips the trailing newline in $(...), so compare without it.
        meta=$(tail -c 40 "$ko" | head -c 12 | od -An -tu1 -v)
        read -r _ _ _ signer keyid _ _ _ s0 s1 s2 s3 <<< "$meta"
        siglen=$(( (s0 << 24) | (s1 << 16) | (s2 << 8) | s3 ))
        [ $((siglen + signer + keyid + 40)) -lt "$size" ] || die "bad module signature trailer in \"$ko\""
        truncate -s $((size - siglen - signer - keyid - 40)) "$ko"
    fi
    strip --strip-debug --remove-section=.BTF "$ko"
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
    strip_ko "$ko"
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
