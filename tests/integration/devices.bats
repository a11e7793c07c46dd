#!/usr/bin/env bats
# /dev as the container sees it: default devices, spec devices (mknod, or
# bound from the host in a user namespace), ptmx, fd and std* links, shm.

load helpers

setup() {
    vessel_setup
}

teardown() {
    vessel_teardown
}

ctr_sh() {
    local script
    script=$(printf '%s' "$1" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')
    spec_set "$BUNDLE" "[\"process\"][\"args\"]=[\"sh\",\"-c\",$script]"
    run vessel run -b "$BUNDLE" "$(cid)"
}

@test "default devices with their numbers and mode 0666" {
    ctr_sh 'for d in null zero full random urandom tty; do stat -c "%n %F %t:%T %a" /dev/$d; done'
    assert_success
    assert_line "/dev/null character special file 1:3 666"
    assert_line "/dev/zero character special file 1:5 666"
    assert_line "/dev/full character special file 1:7 666"
    assert_line "/dev/random character special file 1:8 666"
    assert_line "/dev/urandom character special file 1:9 666"
    assert_line "/dev/tty character special file 5:0 666"
}

@test "default devices work" {
    ctr_sh 'echo x > /dev/null && head -c 4 /dev/zero | wc -c && head -c 8 /dev/urandom | wc -c; echo y > /dev/full'
    assert_failure
    assert_line --index 0 4
    assert_line --index 1 8
    assert_output --partial "No space left on device"
}

@test "ptmx, fd and std* links; shm is a writable directory" {
    ctr_sh 'for l in ptmx fd stdin stdout stderr; do echo "$l -> $(readlink /dev/$l)"; done; touch /dev/shm/x && echo shm-ok'
    assert_success
    assert_line "ptmx -> pts/ptmx"
    assert_line "fd -> /proc/self/fd"
    assert_line "stdin -> /proc/self/fd/0"
    assert_line "stdout -> /proc/self/fd/1"
    assert_line "stderr -> /proc/self/fd/2"
    assert_line shm-ok
}

@test "a pty can be opened through /dev/ptmx" {
    ctr_sh 'exec 3<>/dev/ptmx && ls /dev/pts'
    assert_success
    assert_line 0
    assert_line ptmx
}

@test "spec devices: character, block, fifo, nested path, mode and owner" {
    spec_set "$BUNDLE" 'c["linux"]["devices"]=[
        {"path":"/dev/fuse","type":"c","major":10,"minor":229,"fileMode":0o640,"uid":5,"gid":6},
        {"path":"/dev/net/tun","type":"c","major":10,"minor":200},
        {"path":"/dev/loopx","type":"b","major":7,"minor":0,"fileMode":0o600},
        {"path":"/dev/myfifo","type":"p","fileMode":0o620}]'
    ctr_sh 'for d in fuse net/tun loopx; do stat -c "%n %F %t:%T %a %u:%g" /dev/$d; done; stat -c "%n %F %a" /dev/myfifo'
    assert_success
    assert_line "/dev/fuse character special file a:e5 640 5:6"
    assert_line "/dev/net/tun character special file a:c8 666 0:0"
    assert_line "/dev/loopx block special file 7:0 600 0:0"
    assert_line "/dev/myfifo fifo 620"
}

@test "a spec device replaces the default one of the same path" {
    spec_set "$BUNDLE" 'c["linux"]["devices"]=[{"path":"/dev/null","type":"c","major":1,"minor":3,"fileMode":0o600}]'
    ctr_sh 'stat -c "%a" /dev/null'
    assert_success
    assert_output 600
}

@test "in a user namespace devices are bound from the host" {
    [ -e /proc/self/ns/user ] || skip "no user namespaces"
    spec_set "$BUNDLE" 'c["linux"]["namespaces"].append({"type":"user"})' \
        'c["linux"]["uidMappings"]=[{"containerID":0,"hostID":0,"size":65536}]' \
        'c["linux"]["gidMappings"]=[{"containerID":0,"hostID":0,"size":65536}]' \
        'c["linux"]["devices"]=[{"path":"/dev/fuse","type":"c","major":10,"minor":229}]'
    [ -e /dev/fuse ] || spec_set "$BUNDLE" 'c["linux"]["devices"]=[]'
    ctr_sh 'grep -E " /dev/(null|fuse) " /proc/self/mountinfo; echo x > /dev/null && echo null-ok; stat -c "%t:%T" /dev/null'
    assert_success
    assert_line --regexp '/null /dev/null '
    assert_line null-ok
    assert_line 1:3
    if [ -e /dev/fuse ]; then
        assert_line --regexp '/fuse /dev/fuse '
    fi
}

@test "without a /dev mount the devices are made in the rootfs's /dev" {
    spec_set "$BUNDLE" 'c["mounts"]=[m for m in c["mounts"] if not m["destination"].startswith("/dev")]'
    ctr_sh 'stat -c "%t:%T" /dev/null; readlink /dev/ptmx'
    assert_success
    assert_line 1:3
    [ -c "$BUNDLE/rootfs/dev/null" ]
}

@test "a device path through a rootfs symlink stays inside the rootfs" {
    mkdir -p "$TEST_TMP/outside"
    spec_set "$BUNDLE" 'c["mounts"]=[m for m in c["mounts"] if not m["destination"].startswith("/dev")]'
    rmdir "$BUNDLE/rootfs/dev"
    ln -s "$TEST_TMP/outside" "$BUNDLE/rootfs/dev"
    ctr_sh 'stat -c "%t:%T" /dev/null'
    assert_success
    assert_output 1:3
    [ -z "$(ls -A "$TEST_TMP/outside")" ]
    [ -c "$BUNDLE/rootfs$TEST_TMP/outside/null" ]
}

@test "binding /dev from the host leaves it as it is" {
    spec_set "$BUNDLE" 'c["mounts"]=[m for m in c["mounts"] if not m["destination"].startswith("/dev")]+[{"destination":"/dev","type":"bind","source":"/dev","options":["rbind"]}]'
    ctr_sh 'stat -c "%t:%T" /dev/null; ls /dev/pts | grep -c ptmx'
    assert_success
    assert_line --index 0 1:3
}

@test "an invalid device type is reported with its JSON path" {
    spec_set "$BUNDLE" 'c["linux"]["devices"]=[{"path":"/dev/x","type":"c","major":1,"minor":3},{"path":"/dev/..","type":"c","major":1,"minor":3}]'
    ctr_sh 'true'
    assert_failure
    assert_output --partial 'linux.devices[1]'
}
