# Shared bats helpers for vessel integration tests: a private --root, a busybox
# bundle, config.json edits, and a teardown that removes every container made.
#
# Use in a .bats file:
#   load helpers
#   setup() { vessel_setup; }          # sets ROOT, BUNDLE, VESSEL; makes the bundle
#   teardown() { vessel_teardown; }    # force-deletes all containers under ROOT
#   @test "x" { spec_set "$BUNDLE" '["process"]["args"]=["cat","/etc/hostname"]'
#               run vessel run -b "$BUNDLE" "$(cid)"; assert_success; }

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VESSEL_BIN="${VESSEL_BIN:-$REPO_ROOT/build/vessel}"

# vessel with the test's private state root.
vessel() {
    "$VESSEL_BIN" --root "$ROOT" "$@"
}

# Run vessel for a container that outlives the command (create, run -d): its
# stdio goes to files, not to bats' pipes (which would otherwise stay open in
# the container and block `run`). Sets status and output like bats' `run`
# (output: what the runtime printed).
vessel_detached() {
    local out="${TEST_TMP:-/tmp}/detached.$$.$RANDOM"
    status=0
    "$VESSEL_BIN" --root "$ROOT" "$@" </dev/null >"$out" 2>&1 3>&- || status=$?
    output="$(cat "$out")"
    rm -f "$out"
    return 0
}

# A container id unique to this test (pass a suffix for more than one).
cid() {
    echo "t${BATS_TEST_NUMBER:-0}-$$${1:+-$1}"
}

require_root() {
    [ "$(id -u)" -eq 0 ] || skip "needs root"
}

require_vessel() {
    [ -x "$VESSEL_BIN" ] || skip "build/vessel not built (run make)"
}

# Make a busybox bundle in $1 (rootfs-tools/mkbundle.sh owns the recipe).
make_bundle() {
    local dir="$1"
    [ -x "$REPO_ROOT/rootfs-tools/mkbundle.sh" ] || skip "rootfs-tools/mkbundle.sh missing"
    "$REPO_ROOT/rootfs-tools/mkbundle.sh" "$dir" >/dev/null || return 1
}

# Edit BUNDLE/config.json with python3: each further argument is a Python
# assignment/statement applied to the document named `c`, written as a path
# suffix, e.g.:
#   spec_set "$BUNDLE" '["process"]["args"]=["cat","/etc/hostname"]'
#   spec_set "$BUNDLE" '["process"]["terminal"]=True' '["hostname"]="box"'
# A statement not starting with "[" is run as is (c is the dict), e.g.
#   spec_set "$BUNDLE" 'del c["linux"]["namespaces"][0]'
spec_set() {
    local bundle="$1"
    shift
    python3 - "$bundle/config.json" "$@" <<'EOF'
import json, sys
path = sys.argv[1]
with open(path) as f:
    c = json.load(f)
true, false, null = True, False, None
for stmt in sys.argv[2:]:
    if stmt.startswith("["):
        exec("c" + stmt)
    else:
        exec(stmt)
with open(path + ".tmp", "w") as f:
    json.dump(c, f, indent=2)
import os
os.replace(path + ".tmp", path)
EOF
}

# Print a value from BUNDLE/config.json (python expression suffix), e.g.
#   spec_get "$BUNDLE" '["process"]["args"]'
spec_get() {
    python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); v=eval("c"+sys.argv[2]); print(json.dumps(v) if not isinstance(v,str) else v)' \
        "$1/config.json" "$2"
}

# Print one field of `vessel state ID` (e.g. state_field ID status).
state_field() {
    vessel state "$1" | python3 -c 'import json,sys; v=json.load(sys.stdin).get(sys.argv[1]); print("" if v is None else v)' "$2"
}

# Block until container $1 reaches status $2 (bounded: 500 polls of `state`).
wait_status() {
    local i s
    for i in $(seq 1 500); do
        s=$(state_field "$1" status 2>/dev/null || true)
        [ "$s" = "$2" ] && return 0
        sleep 0.01
    done
    echo "container $1 did not reach $2 (last: $s)" >&2
    return 1
}

# True when pid $1 has exited (gone, or a zombie nobody reaped yet).
pid_gone() {
    [ ! -e "/proc/$1" ] || grep -q '^State:[[:space:]]*[ZX]' "/proc/$1/status" 2>/dev/null
}

# Standard setup: private ROOT, one bundle in BUNDLE, vessel binary present.
vessel_setup() {
    require_root
    require_vessel
    TEST_TMP="$(mktemp -d "${BATS_TMPDIR:-/tmp}/vessel-test.XXXXXX")"
    ROOT="$TEST_TMP/root"
    BUNDLE="$TEST_TMP/bundle"
    mkdir -p "$ROOT"
    make_bundle "$BUNDLE"
    export ROOT BUNDLE TEST_TMP
}

# Force-delete every container under ROOT, then remove the temp dir.
vessel_teardown() {
    [ -n "${ROOT:-}" ] || return 0
    local d
    if [ -d "$ROOT" ]; then
        for d in "$ROOT"/*/; do
            [ -d "$d" ] || continue
            "$VESSEL_BIN" --root "$ROOT" delete --force "$(basename "$d")" >/dev/null 2>&1 || true
        done
    fi
    [ -n "${TEST_TMP:-}" ] && rm -rf "$TEST_TMP"
    return 0
}
