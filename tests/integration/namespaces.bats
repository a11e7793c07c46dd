#!/usr/bin/env bats
# Namespaces as the container sees them: created new or joined by path, user
# namespace mappings, time offsets, hostname, sysctl, loopback.

load helpers

setup() {
    vessel_setup
    HELPER_PIDS=()
}

teardown() {
    local p
    for p in "${HELPER_PIDS[@]}"; do
        kill -9 "$p" 2>/dev/null || true
    done
    vessel_teardown
}

ctr_sh() {
    local script
    script=$(printf '%s' "$1" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')
    spec_set "$BUNDLE" "[\"process\"][\"args\"]=[\"sh\",\"-c\",$script]"
    run vessel run -b "$BUNDLE" "$(cid)"
}

# Namespace identity of the host and of the container, per type.
ns_of_host() { readlink "/proc/self/ns/$1"; }

@test "new namespaces differ from the host's; absent ones are shared" {
    spec_set "$BUNDLE" 'c["linux"]["namespaces"]=[{"type":t} for t in ("pid","network","ipc","uts","mount","cgroup")]'
    ctr_sh 'for t in pid net ipc uts mnt cgroup user; do echo "$t $(readlink /proc/self/ns/$t)"; done'
    assert_success
    local t
    for t in pid net ipc uts mnt cgroup; do
        refute_line "$t $(ns_of_host $t)"
    done
    assert_line "user $(ns_of_host user)"
    # Without network and ipc entries the host's are used.
    spec_set "$BUNDLE" 'c["linux"]["namespaces"]=[{"type":t} for t in ("pid","mount")]' \
        'c["hostname"]=None' 'c["mounts"]=[m for m in c["mounts"] if m["type"] not in ("sysfs","mqueue","cgroup")]'
    ctr_sh 'for t in net ipc uts; do echo "$t $(readlink /proc/self/ns/$t)"; done'
    assert_success
    for t in net ipc uts; do
        assert_line "$t $(ns_of_host $t)"
    done
}

@test "pid namespace: the process is pid 1" {
    ctr_sh 'echo $$; ps -o pid | wc -l'
    assert_success
    assert_line --index 0 1
}

@test "network namespace: only lo, and it is up" {
    ctr_sh 'ls /sys/class/net; ip -o link show lo; ip -o addr show lo'
    assert_success
    assert_line --index 0 lo
    assert_output --regexp 'lo: <LOOPBACK,UP'
    assert_output --regexp 'inet 127\.0\.0\.1/8' 
}

@test "hostname and domainname in a new UTS namespace" {
    spec_set "$BUNDLE" 'c["hostname"]="box1"' 'c["domainname"]="example.test"'
    ctr_sh 'hostname; cat /proc/sys/kernel/domainname'
    assert_success
    assert_line --index 0 box1
    assert_line --index 1 example.test
    [ "$(hostname)" != box1 ]
}

@test "hostname without a UTS namespace is an error" {
    spec_set "$BUNDLE" 'c["linux"]["namespaces"]=[n for n in c["linux"]["namespaces"] if n["type"]!="uts"]' \
        'c["hostname"]="box2"'
    ctr_sh 'hostname'
    assert_failure
    assert_output --partial 'hostname "box2": a UTS namespace is required'
}

@test "join an existing network namespace by path" {
    command -v unshare >/dev/null || skip "unshare(1) missing"
    unshare --net sleep 1000 &
    local pid=$!
    HELPER_PIDS+=("$pid")
    local want=""
    for _ in $(seq 1 200); do
        want=$(readlink "/proc/$pid/ns/net")
        [ "$want" != "$(ns_of_host net)" ] && break
        sleep 0.01
    done
    spec_set "$BUNDLE" "c[\"linux\"][\"namespaces\"]=[n for n in c[\"linux\"][\"namespaces\"] if n[\"type\"]!=\"network\"]+[{\"type\":\"network\",\"path\":\"/proc/$pid/ns/net\"}]"
    ctr_sh 'readlink /proc/self/ns/net'
    assert_success
    assert_output "$want"
}

@test "a namespace path of the wrong type is refused with the JSON path" {
    spec_set "$BUNDLE" 'c["linux"]["namespaces"]=[n for n in c["linux"]["namespaces"] if n["type"]!="network"]+[{"type":"network","path":"/proc/self/ns/ipc"}]'
    ctr_sh 'true'
    assert_failure
    assert_output --regexp 'linux\.namespaces\[[0-9]+\]\.path "/proc/self/ns/ipc": not a network namespace'
}

@test "user namespace: mappings written by the parent" {
    [ -e /proc/self/ns/user ] || skip "no user namespaces"
    spec_set "$BUNDLE" 'c["linux"]["namespaces"].append({"type":"user"})' \
        'c["linux"]["uidMappings"]=[{"containerID":0,"hostID":0,"size":65536}]' \
        'c["linux"]["gidMappings"]=[{"containerID":0,"hostID":0,"size":65536}]'
    ctr_sh 'cat /proc/self/uid_map /proc/self/gid_map; readlink /proc/self/ns/user; id -u'
    assert_success
    assert_line --regexp '^ +0 +0 +65536$'
    refute_line "$(ns_of_host user)"
    assert_line 0
}

@test "user namespace with a shifted range: root inside is an unprivileged id outside" {
    [ -e /proc/self/ns/user ] || skip "no user namespaces"
    chmod 755 "$TEST_TMP" "$BUNDLE"
    spec_set "$BUNDLE" 'c["linux"]["namespaces"].append({"type":"user"})' \
        'c["linux"]["uidMappings"]=[{"containerID":0,"hostID":200000,"size":65536}]' \
        'c["linux"]["gidMappings"]=[{"containerID":0,"hostID":200000,"size":65536}]'
    ctr_sh 'cat /proc/self/uid_map; id -u; ls -l /dev/null'
    assert_success
    assert_line --regexp '^ +0 +200000 +65536$'
    assert_line 0
    assert_output --regexp 'crw-rw-rw- .* 1, +3 '
}

@test "time namespace offsets move the boot time clock" {
    [ -e /proc/self/ns/time ] || skip "no time namespaces"
    spec_set "$BUNDLE" 'c["linux"]["namespaces"].append({"type":"time"})' \
        'c["linux"]["timeOffsets"]={"boottime":{"secs":8640000,"nanosecs":0},"monotonic":{"secs":86400,"nanosecs":0}}'
    ctr_sh 'cut -d. -f1 /proc/uptime; cat /proc/self/timens_offsets'
    assert_success
    local host_up
    host_up=$(cut -d. -f1 /proc/uptime)
    [ "${lines[0]}" -ge $((host_up + 8640000 - 5)) ]
    assert_line --regexp '^monotonic +86400 +0$'
}

@test "sysctl: namespaced keys are set in the container only" {
    local host_fwd
    host_fwd=$(cat /proc/sys/net/ipv4/ip_forward)
    spec_set "$BUNDLE" 'c["linux"]["sysctl"]={"net.ipv4.ip_forward":"1","kernel.shmmni":"1234","net/ipv4/conf/lo/forwarding":"1"}'
    ctr_sh 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni /proc/sys/net/ipv4/conf/lo/forwarding'
    assert_success
    assert_output $'1\n1234\n1'
    [ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$host_fwd" ]
}

@test "sysctl: host-wide keys are refused" {
    spec_set "$BUNDLE" 'c["linux"]["sysctl"]={"kernel.panic":"1"}'
    ctr_sh 'true'
    assert_failure
    assert_output --partial 'linux.sysctl "kernel.panic": not in a separate kernel namespace'
}

@test "sysctl: a key that does not exist is an error" {
    spec_set "$BUNDLE" 'c["linux"]["sysctl"]={"net.ipv4.no_such_knob":"1"}'
    ctr_sh 'true'
    assert_failure
    assert_output --partial 'linux.sysctl "net.ipv4.no_such_knob": No such file or directory'
}

@test "cgroup namespace: the container's cgroup is its root" {
    ctr_sh 'cat /proc/self/cgroup'
    assert_success
    assert_line --regexp '^0::/$'
}

@test "ipc namespace: host SysV objects are not visible" {
    command -v ipcmk >/dev/null || skip "ipcmk missing"
    local id
    id=$(ipcmk -Q | awk '{print $NF}')
    ctr_sh 'cat /proc/sysvipc/msg | wc -l'
    ipcrm -q "$id" || true
    assert_success
    assert_output 1
}
