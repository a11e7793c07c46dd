#!/usr/bin/env bats
# Errors users see, and that failures leave nothing behind (state, cgroups, processes).

load helpers

setup() { vessel_setup; }
teardown() { vessel_teardown; }

# No state dir, no cgroup directory in any hierarchy, for container $1.
assert_nothing_left() {
    local id="$1" d
    [ ! -e "$ROOT/$id" ] || { echo "state dir $ROOT/$id left behind" >&2; return 1; }
    for d in /sys/fs/cgroup/*/vessel/"$id" /sys/fs/cgroup/vessel/"$id"; do
        [ ! -e "$d" ] || { echo "cgroup $d left behind" >&2; return 1; }
    done
}

@test "unknown container: state, start, kill, delete name it" {
    for cmd in state start kill delete; do
        run vessel "$cmd" nosuch
        assert_failure
        assert_output "vessel: container \"nosuch\" does not exist"
    done
}

@test "duplicate id is refused and the first container is untouched" {
    spec_set "$BUNDLE" '["process"]["args"]=["sleep","1000"]'
    id=$(cid)
    vessel_detached create -b "$BUNDLE" "$id"
    assert_success
    pid=$(state_field "$id" pid)
    vessel_detached create -b "$BUNDLE" "$id"
    assert_failure
    assert_output "vessel: container \"$id\" already exists"
    assert_equal "$(state_field "$id" pid)" "$pid"
    assert_equal "$(state_field "$id" status)" created
}

@test "invalid ids are refused before anything is made" {
    for id in 'a/b' '-x' '.hidden' 'sp ace' ''; do
        run vessel create -b "$BUNDLE" "$id"
        assert_failure
    done
    run vessel create -b "$BUNDLE" 'a/b'
    assert_output --partial 'invalid container id "a/b"'
    run ls -A "$ROOT"
    assert_output ""
}

@test "missing bundle and missing config.json name the path" {
    run vessel create -b "$TEST_TMP/nope" x1
    assert_failure
    assert_output --partial "$TEST_TMP/nope"
    assert_output --partial "No such file or directory"
    rm "$BUNDLE/config.json"
    run vessel create -b "$BUNDLE" x2
    assert_failure
    assert_output --partial "config.json"
    assert_nothing_left x1
    assert_nothing_left x2
}

@test "an invalid config.json names the JSON path and leaves nothing" {
    spec_set "$BUNDLE" '["linux"]["namespaces"].append({"type":"pidd"})'
    run vessel create -b "$BUNDLE" "$(cid)"
    assert_failure
    assert_output --partial 'linux.namespaces['
    assert_output --partial 'pidd'
    assert_nothing_left "$(cid)"
}

@test "a missing rootfs fails before anything is made" {
    spec_set "$BUNDLE" '["root"]["path"]="nonexistent"'
    run vessel create -b "$BUNDLE" "$(cid)"
    assert_failure
    assert_output --partial "nonexistent"
    assert_nothing_left "$(cid)"
}

@test "failed create leaves nothing behind: missing executable" {
    spec_set "$BUNDLE" '["process"]["args"]=["/no/such/binary"]'
    id=$(cid)
    run vessel create -b "$BUNDLE" "$id"
    assert_failure
    assert_output --partial '/no/such/binary'
    assert_output --partial 'No such file or directory'
    assert_nothing_left "$id"
    run pgrep -f "vessel init"
    for p in $output; do
        run grep -q "/vessel/$id\$" "/proc/$p/cgroup"
        assert_failure
    done
}

@test "failed create leaves nothing behind: failing mount inside the init" {
    spec_set "$BUNDLE" '["mounts"].append({"destination":"/mnt","type":"bind","source":"/definitely/missing","options":["bind"]})'
    id=$(cid)
    run vessel create -b "$BUNDLE" "$id"
    assert_failure
    assert_output --partial "/definitely/missing"
    assert_nothing_left "$id"
}

@test "failed create leaves nothing behind: failing prestart hook" {
    printf '#!/bin/sh\nexit 3\n' > "$TEST_TMP/hook"
    chmod +x "$TEST_TMP/hook"
    spec_set "$BUNDLE" "[\"hooks\"]={\"prestart\":[{\"path\":\"$TEST_TMP/hook\"}]}"
    id=$(cid)
    run vessel create -b "$BUNDLE" "$id"
    assert_failure
    assert_output --partial "prestart"
    assert_output --partial "status 3"
    assert_nothing_left "$id"
}

@test "terminal without --console-socket fails for create" {
    spec_set "$BUNDLE" '["process"]["terminal"]=True'
    run vessel create -b "$BUNDLE" "$(cid)"
    assert_failure
    assert_output --partial "console-socket"
    assert_nothing_left "$(cid)"
}

@test "a bad signal name fails kill without touching the container" {
    spec_set "$BUNDLE" '["process"]["args"]=["sleep","1000"]'
    id=$(cid)
    vessel_detached run -d -b "$BUNDLE" "$id"
    run vessel kill "$id" SIGNOPE
    assert_failure
    assert_output --partial 'unknown signal "SIGNOPE"'
    assert_equal "$(state_field "$id" status)" running
}

@test "errors in --log-format json are JSON objects with level, msg, time" {
    log="$TEST_TMP/log.json"
    run "$VESSEL_BIN" --root "$ROOT" --log "$log" --log-format json state nosuch
    assert_failure
    run python3 -c 'import json,sys; o=json.loads(open(sys.argv[1]).readline()); assert o["level"]=="error"; assert "does not exist" in o["msg"]; assert o["time"]' "$log"
    assert_success
}

# VESSEL_TEST_CRASH_AT=STEP makes create _exit(137) at STEP, like a kill -9 there.
@test "delete --force after kill -9 of the runtime at every create step" {
    spec_set "$BUNDLE" '["process"]["args"]=["sleep","1000"]'
    printf '#!/bin/sh\nexit 0\n' > "$TEST_TMP/hook"
    chmod +x "$TEST_TMP/hook"
    spec_set "$BUNDLE" "[\"hooks\"]={\"prestart\":[{\"path\":\"$TEST_TMP/hook\"}]}"
    for step in state-dir cgroup spawned maps hooks init-ready; do
        id=$(cid "$step")
        VESSEL_TEST_CRASH_AT=$step vessel_detached create -b "$BUNDLE" "$id"
        assert_equal "$status" 137
        [ -d "$ROOT/$id" ]
        pid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("pid",0))' "$ROOT/$id/state.json")
        run vessel delete --force "$id"
        assert_success
        assert_nothing_left "$id"
        if [ "$pid" -gt 0 ]; then
            for i in $(seq 200); do pid_gone "$pid" && break; sleep 0.01; done
            pid_gone "$pid"
        fi
    done
}

@test "delete --force of a container whose state.json was never written" {
    mkdir -p "$ROOT/half"
    run vessel delete --force half
    assert_success
    [ ! -e "$ROOT/half" ]
}
