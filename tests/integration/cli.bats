#!/usr/bin/env bats
# The command line: --version, --help, list, spec, features, global flags, usage errors.

load helpers

setup() { vessel_setup; }
teardown() { vessel_teardown; }

@test "--version and --help" {
    run vessel --version
    assert_success
    assert_line --index 0 --regexp '^vessel version [0-9]+\.[0-9]+\.[0-9]+$'
    run vessel --help
    assert_success
    for c in create start state kill delete run list spec features; do
        assert_output --partial "  $c "
    done
    refute_output --partial "  init "
}

@test "unknown command and missing id are usage errors" {
    run vessel frobnicate
    assert_failure
    assert_output --partial 'unknown command "frobnicate"'
    for c in create start state delete; do
        run vessel "$c"
        assert_failure
        assert_output --partial "usage"
    done
    run vessel kill
    assert_failure
}

@test "list: empty, table, -q and --format json" {
    run vessel list
    assert_success
    assert_output --regexp '^ID +PID +STATUS +BUNDLE +CREATED +OWNER$'
    spec_set "$BUNDLE" '["process"]["args"]=["sleep","1000"]'
    vessel_detached create -b "$BUNDLE" "$(cid a)"
    vessel_detached run -d -b "$BUNDLE" "$(cid b)"
    run vessel list
    assert_success
    assert_line --index 1 --regexp "^$(cid a) +[0-9]+ +created +$BUNDLE +[0-9T:.-]+Z +root$"
    assert_line --index 2 --regexp "^$(cid b) +[0-9]+ +running +$BUNDLE +[0-9T:.-]+Z +root$"
    run vessel list -q
    assert_output "$(printf '%s\n%s' "$(cid a)" "$(cid b)")"
    run vessel list --format json
    assert_success
    echo "$output" | python3 -c '
import json, sys
l = json.load(sys.stdin)
assert [c["id"] for c in l] == sys.argv[1:3], l
assert [c["status"] for c in l] == ["created", "running"], l
assert all(c["pid"] > 0 and c["bundle"] for c in l), l
' "$(cid a)" "$(cid b)"
    run vessel list --format yaml
    assert_failure
}

@test "spec writes a default config.json that runs" {
    dir="$TEST_TMP/spec"
    mkdir -p "$dir"
    run vessel spec --bundle "$dir"
    assert_success
    run python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); assert c["process"]["args"]==["sh"]; assert c["root"]["path"]=="rootfs"; print(c["ociVersion"])' "$dir/config.json"
    assert_success
    # Refuses to overwrite.
    run vessel spec --bundle "$dir"
    assert_failure
    assert_output --partial "exists"
    # The default spec runs the bundle's rootfs (terminal off for the test).
    cp "$dir/config.json" "$BUNDLE/config.json"
    spec_set "$BUNDLE" '["process"]["terminal"]=False' '["process"]["args"]=["cat","/etc/hostname"]'
    run vessel run -b "$BUNDLE" "$(cid)"
    assert_success
}

@test "spec --rootless adds a user namespace with mappings" {
    dir="$TEST_TMP/rootless"
    mkdir -p "$dir"
    (cd "$dir" && "$VESSEL_BIN" spec --rootless)
    run python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))
types = [n["type"] for n in c["linux"]["namespaces"]]
assert "user" in types and "network" not in types, types
assert c["linux"]["uidMappings"] and c["linux"]["gidMappings"]
' "$dir/config.json"
    assert_success
}

@test "features prints the runtime-spec features document" {
    run vessel features
    assert_success
    echo "$output" | python3 -c '
import json, sys
f = json.load(sys.stdin)
assert f["ociVersionMin"] == "1.0.0" and f["ociVersionMax"] == "1.2.0"
assert "createRuntime" in f["hooks"]
assert "pid" in f["linux"]["namespaces"] and "time" in f["linux"]["namespaces"]
assert "CAP_SYS_ADMIN" in f["linux"]["capabilities"]
assert "vessel." in f["potentiallyUnsafeConfigAnnotations"]
assert "bind" in f["mountOptions"]
'
}

@test "--log writes errors to a file too" {
    run vessel --log "$TEST_TMP/log.txt" state nosuch
    assert_failure
    run cat "$TEST_TMP/log.txt"
    assert_output --partial 'container "nosuch" does not exist'
}

@test "the vessel.isolation annotation is validated" {
    spec_set "$BUNDLE" '["annotations"]={"vessel.isolation":"hypervisor"}'
    run vessel create -b "$BUNDLE" "$(cid)"
    assert_failure
    assert_output --partial 'unknown mode "hypervisor"'
    spec_set "$BUNDLE" '["annotations"]={"vessel.isolation":"container"}' '["process"]["args"]=["true"]'
    run vessel run -b "$BUNDLE" "$(cid b)"
    assert_success
}

@test "--isolation container overrides a vm annotation" {
    spec_set "$BUNDLE" '["annotations"]={"vessel.isolation":"vm"}' '["process"]["args"]=["echo","in-container"]'
    run "$VESSEL_BIN" --root "$ROOT" --isolation container run -b "$BUNDLE" "$(cid)"
    assert_success
    assert_output in-container
}

@test "bundle defaults to the current directory" {
    spec_set "$BUNDLE" '["process"]["args"]=["echo","from-cwd"]'
    run sh -c 'cd "$1" && exec "$2" --root "$3" run "$4"' sh "$BUNDLE" "$VESSEL_BIN" "$ROOT" "$(cid)"
    assert_success
    assert_output from-cwd
}

@test "-b and --bundle, options after the id" {
    spec_set "$BUNDLE" '["process"]["args"]=["echo","ok"]'
    run vessel run "$(cid a)" --bundle "$BUNDLE"
    assert_success
    assert_output ok
    run vessel run "$(cid b)" -b "$BUNDLE"
    assert_output ok
}
