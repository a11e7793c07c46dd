#!/usr/bin/env bats
# The container's cgroup on this host's hierarchies (v1, v2 or hybrid): the
# workload is in cgroupsPath in every hierarchy, custom and systemd-style
# paths work, and delete removes the directories everywhere.

load helpers

setup() { vessel_setup; }
teardown() {
    vessel_teardown
    # Parents this file created for custom paths (only when empty).
    local d
    for d in $(hierarchies); do
        rmdir "$d/vessel-bats/$$" "$d/vessel-bats" 2>/dev/null || true
        [ -n "${MADE_SLICE:-}" ] && rmdir "$d/vesselbats.slice" 2>/dev/null
    done
    return 0
}

# Mount points of every mounted cgroup hierarchy, one per line.
hierarchies() {
    awk '{ for (i = 7; i <= NF; i++) if ($i == "-") break;
           if ($(i+1) == "cgroup" || $(i+1) == "cgroup2") print $5 }' /proc/self/mountinfo | sort -u
}

# Start a detached container that stays up; prints its pid.
start_sleeper() {
    local id="$1"
    spec_set "$BUNDLE" '["process"]["args"]=["sleep","1000"]' "${@:2}"
    vessel run -d -b "$BUNDLE" "$id" >/dev/null 2>&1 </dev/null
    state_field "$id" pid
}

@test "cgroups: without a cgroup namespace /proc/self/cgroup shows /vessel/ID in every hierarchy" {
    local id
    id=$(cid)
    spec_set "$BUNDLE" 'c["linux"]["namespaces"]=[n for n in c["linux"]["namespaces"] if n["type"]!="cgroup"]' \
        '["process"]["args"]=["cat","/proc/self/cgroup"]'
    run vessel run -b "$BUNDLE" "$id"
    assert_success
    local lines
    lines=$(grep -c . <<<"$output")
    [ "$(grep -c ":/vessel/$id\$" <<<"$output")" -eq "$lines" ] || fail "not in /vessel/$id everywhere: $output"
}

@test "cgroups: with a cgroup namespace the container sees itself at /" {
    spec_set "$BUNDLE" '["process"]["args"]=["cat","/proc/self/cgroup"]'
    run vessel run -b "$BUNDLE" "$(cid)"
    assert_success
    assert_line "0::/"
}

@test "cgroups: the directories exist while running and are removed on delete, in every hierarchy" {
    local id pid d
    id=$(cid)
    pid=$(start_sleeper "$id")
    [ -n "$pid" ] && [ "$pid" -gt 0 ]
    run cat "/proc/$pid/cgroup"
    assert_success
    for d in $(hierarchies); do
        [ -d "$d/vessel/$id" ] || fail "missing $d/vessel/$id"
        grep -qx "$pid" "$d/vessel/$id/cgroup.procs" || fail "$pid not in $d/vessel/$id/cgroup.procs"
    done
    run vessel delete --force "$id"
    assert_success
    for d in $(hierarchies); do
        [ ! -e "$d/vessel/$id" ] || fail "$d/vessel/$id left behind"
    done
    [ ! -e "/proc/$pid" ] || [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] || fail "workload survived"
}

@test "cgroups: an absolute cgroupsPath is used as is" {
    local id pid d path
    id=$(cid)
    path="/vessel-bats/$$/$id"
    pid=$(start_sleeper "$id" "[\"linux\"][\"cgroupsPath\"]=\"$path\"")
    for d in $(hierarchies); do
        grep -qx "$pid" "$d$path/cgroup.procs" || fail "$pid not in $d$path"
    done
    run vessel delete --force "$id"
    assert_success
    for d in $(hierarchies); do
        [ ! -e "$d$path" ] || fail "$d$path left behind"
    done
}

@test "cgroups: a systemd-style slice:prefix:name path maps to slice/prefix-name.scope" {
    # (a "-" in a slice name means nesting: a-b.slice is a.slice/a-b.slice)
    local id pid d
    id=$(cid)
    for d in $(hierarchies); do
        [ -e "$d/vesselbats.slice" ] || MADE_SLICE=1
    done
    pid=$(start_sleeper "$id" "[\"linux\"][\"cgroupsPath\"]=\"vesselbats.slice:vt:$id\"")
    for d in $(hierarchies); do
        grep -qx "$pid" "$d/vesselbats.slice/vt-$id.scope/cgroup.procs" || fail "$pid not in $d/vesselbats.slice/vt-$id.scope"
    done
    run vessel delete --force "$id"
    assert_success
}

@test "cgroups: processes forked in the container are in the cgroup; kill --all reaches them" {
    local id pid d
    id=$(cid)
    spec_set "$BUNDLE" '["process"]["args"]=["sh","-c","sleep 1000 & sleep 1000 & wait"]'
    vessel run -d -b "$BUNDLE" "$id" >/dev/null 2>&1 </dev/null
    pid=$(state_field "$id" pid)
    d=$(hierarchies | head -1)
    for _ in $(seq 1 500); do
        [ "$(grep -c . "$d/vessel/$id/cgroup.procs")" -ge 3 ] && break
        sleep 0.01
    done
    [ "$(grep -c . "$d/vessel/$id/cgroup.procs")" -ge 3 ] || fail "children not in the cgroup"
    run vessel kill --all "$id" KILL
    assert_success
    wait_status "$id" stopped
    run vessel delete "$id"
    assert_success
    [ ! -e "$d/vessel/$id" ]
}

@test "cgroups: a cgroupsPath with .. is refused before anything is created" {
    spec_set "$BUNDLE" '["linux"]["cgroupsPath"]="/vessel/../escape"'
    run vessel run -b "$BUNDLE" "$(cid)"
    assert_failure
    assert_output --partial 'must not contain ".."'
    local d
    for d in $(hierarchies); do
        [ ! -e "$d/escape" ] || fail "$d/escape was created"
    done
}
