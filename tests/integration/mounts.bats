#!/usr/bin/env bats
# Mounts as the container sees them: spec mounts of every kind, options,
# propagation, rootfs symlink escapes, masked and read-only paths, pivot.

load helpers

setup() {
    vessel_setup
    HOSTDIR="$TEST_TMP/host"
    mkdir -p "$HOSTDIR/dir/sub"
    echo hostfile > "$HOSTDIR/dir/sub/f"
    echo single > "$HOSTDIR/file"
    HOST_MOUNTS=()
}

teardown() {
    vessel_teardown_mounts
    vessel_teardown
}

vessel_teardown_mounts() {
    local m
    for m in "${HOST_MOUNTS[@]}"; do
        umount -l "$m" 2>/dev/null || true
    done
}

# Run a shell script as the container's process; output in $output.
ctr_sh() {
    local script
    script=$(printf '%s' "$1" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')
    spec_set "$BUNDLE" "[\"process\"][\"args\"]=[\"sh\",\"-c\",$script]"
    run vessel run -b "$BUNDLE" "$(cid)"
}

# Append one mount (a Python dict literal) to config.json.
add_mount() {
    spec_set "$BUNDLE" "c[\"mounts\"].append($1)"
}

@test "default mounts: proc, dev tmpfs, devpts, shm, mqueue, read-only sysfs, cgroup" {
    ctr_sh 'awk "{print \$5, \$(NF-2)}" /proc/self/mountinfo; grep " /sys " /proc/self/mountinfo'
    assert_success
    assert_line "/proc proc"
    assert_line "/dev tmpfs"
    assert_line "/dev/pts devpts"
    assert_line "/dev/shm tmpfs"
    assert_line "/dev/mqueue mqueue"
    assert_line "/sys sysfs"
    assert_line --regexp '^/sys/fs/cgroup (tmpfs|cgroup2)$'
    assert_line --regexp ' /sys ro,'
}

@test "bind mount of a host directory, read-only and nosuid" {
    add_mount "{\"destination\":\"/mnt/data\",\"type\":\"bind\",\"source\":\"$HOSTDIR/dir\",\"options\":[\"rbind\",\"ro\",\"nosuid\"]}"
    ctr_sh 'cat /mnt/data/sub/f; grep " /mnt/data " /proc/self/mountinfo; touch /mnt/data/new'
    assert_failure
    assert_line hostfile
    assert_line --regexp ' /mnt/data ro,nosuid'
    assert_output --partial "Read-only file system"
    [ ! -e "$HOSTDIR/dir/new" ]
}

@test "bind mount of a single file creates the target file" {
    add_mount "{\"destination\":\"/etc/deep/new/file.conf\",\"type\":\"bind\",\"source\":\"$HOSTDIR/file\",\"options\":[\"bind\"]}"
    ctr_sh 'cat /etc/deep/new/file.conf; echo changed > /etc/deep/new/file.conf'
    assert_success
    assert_output single
    [ "$(cat "$HOSTDIR/file")" = changed ]
}

@test "rbind carries submounts, bind does not" {
    mkdir -p "$HOSTDIR/dir/submnt"
    mount -t tmpfs tmpfs "$HOSTDIR/dir/submnt"
    HOST_MOUNTS+=("$HOSTDIR/dir/submnt")
    echo insub > "$HOSTDIR/dir/submnt/x"
    add_mount "{\"destination\":\"/r\",\"type\":\"bind\",\"source\":\"$HOSTDIR/dir\",\"options\":[\"rbind\"]}"
    add_mount "{\"destination\":\"/b\",\"type\":\"bind\",\"source\":\"$HOSTDIR/dir\",\"options\":[\"bind\"]}"
    ctr_sh 'cat /r/submnt/x; ls /b/submnt | wc -l'
    assert_success
    assert_line --index 0 insub
    assert_line --index 1 0
}

@test "recursive read-only (rro) covers submounts" {
    mkdir -p "$HOSTDIR/dir/submnt"
    mount -t tmpfs tmpfs "$HOSTDIR/dir/submnt"
    HOST_MOUNTS+=("$HOSTDIR/dir/submnt")
    add_mount "{\"destination\":\"/r\",\"type\":\"bind\",\"source\":\"$HOSTDIR/dir\",\"options\":[\"rbind\",\"rro\"]}"
    ctr_sh 'touch /r/submnt/x'
    assert_failure
    assert_output --partial "Read-only file system"
    # Plain ro only covers the top mount.
    spec_set "$BUNDLE" 'c["mounts"][-1]["options"]=["rbind","ro"]'
    ctr_sh 'touch /r/submnt/x && echo wrote'
    assert_success
    assert_output wrote
}

@test "tmpfs with size and mode options" {
    add_mount '{"destination":"/scratch","type":"tmpfs","source":"tmpfs","options":["nodev","size=1m","mode=700"]}'
    ctr_sh 'grep " /scratch " /proc/self/mountinfo; stat -c %a /scratch'
    assert_success
    assert_line --regexp ' /scratch rw,nodev.* tmpfs tmpfs rw,size=1024k,mode=700'
    assert_line 700
}

@test "tmpcopyup copies the directory's contents into the new tmpfs" {
    mkdir -p "$BUNDLE/rootfs/etc/app"
    echo original > "$BUNDLE/rootfs/etc/app/conf"
    ln -s conf "$BUNDLE/rootfs/etc/app/link"
    add_mount '{"destination":"/etc/app","type":"tmpfs","source":"tmpfs","options":["tmpcopyup"]}'
    ctr_sh 'grep -c " /etc/app " /proc/self/mountinfo; cat /etc/app/link; echo new > /etc/app/conf'
    assert_success
    assert_line --index 0 1
    assert_line --index 1 original
    [ "$(cat "$BUNDLE/rootfs/etc/app/conf")" = original ]
}

@test "an absolute symlink in the rootfs cannot send a mount outside it" {
    mkdir -p "$TEST_TMP/outside"
    ln -s "$TEST_TMP/outside" "$BUNDLE/rootfs/escape"
    add_mount '{"destination":"/escape/x","type":"tmpfs","source":"tmpfs"}'
    ctr_sh 'grep -c " /escape/x \| '"$TEST_TMP"'/outside/x " /proc/self/mountinfo'
    assert_success
    [ ! -e "$TEST_TMP/outside/x" ]
    [ -d "$BUNDLE/rootfs$TEST_TMP/outside/x" ]
}

@test "a relative ../ symlink in the rootfs cannot send a mount outside it" {
    mkdir -p "$TEST_TMP/outside2"
    ln -s ../../../../../../../../../../.. "$BUNDLE/rootfs/up"
    add_mount "{\"destination\":\"/up$TEST_TMP/outside2/y\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"}"
    add_mount "{\"destination\":\"/up$TEST_TMP/outside2/f\",\"type\":\"bind\",\"source\":\"$HOSTDIR/file\",\"options\":[\"bind\"]}"
    ctr_sh 'true'
    assert_success
    [ ! -e "$TEST_TMP/outside2/y" ]
    [ ! -e "$TEST_TMP/outside2/f" ]
    [ -d "$BUNDLE/rootfs$TEST_TMP/outside2/y" ]
}

@test "a mount failure names the mount, its source, destination and errno" {
    add_mount '{"destination":"/bad","type":"nosuchfs","source":"none"}'
    ctr_sh 'true'
    assert_failure
    assert_output --regexp 'mounts\[[0-9]+\]: mount "none" on "/bad": No such device'
}

@test "a missing bind source is reported with its JSON path" {
    add_mount '{"destination":"/m","type":"bind","source":"/nonexistent/src","options":["bind"]}'
    ctr_sh 'true'
    assert_failure
    assert_output --regexp 'mounts\[[0-9]+\]\.source "/nonexistent/src": No such file or directory'
}

@test "propagation option: shared bind mount" {
    add_mount "{\"destination\":\"/s\",\"type\":\"bind\",\"source\":\"$HOSTDIR/dir\",\"options\":[\"rbind\",\"shared\"]}"
    add_mount "{\"destination\":\"/p\",\"type\":\"bind\",\"source\":\"$HOSTDIR/dir\",\"options\":[\"rbind\",\"private\"]}"
    ctr_sh 'grep " /s " /proc/self/mountinfo; grep " /p " /proc/self/mountinfo'
    assert_success
    assert_line --regexp ' /s .* shared:[0-9]+ '
    refute_line --regexp ' /p .* (shared|master):'
}

@test "masked paths: files read empty, directories are empty, missing ones ignored" {
    spec_set "$BUNDLE" 'c["linux"]["maskedPaths"]=["/proc/timer_list","/proc/bus","/does/not/exist"]' \
        'c["linux"]["readonlyPaths"]=[]'
    ctr_sh 'wc -c < /proc/timer_list; ls /proc/bus | wc -l; grep " /proc/bus " /proc/self/mountinfo'
    assert_success
    assert_line --index 0 0
    assert_line --index 1 0
    assert_line --regexp ' /proc/bus ro,'
}

@test "read-only paths cannot be written" {
    ctr_sh 'echo 1 > /proc/sys/kernel/shmmni'
    assert_failure
    assert_output --partial "Read-only file system"
}

@test "root.readonly: read-only root, writable when false" {
    ctr_sh 'touch /newfile'
    assert_failure
    assert_output --partial "Read-only file system"
    spec_set "$BUNDLE" 'c["root"]["readonly"]=False'
    ctr_sh 'touch /newfile && echo ok'
    assert_success
    [ -e "$BUNDLE/rootfs/newfile" ]
}

@test "rootfsPropagation shared and private apply to the container's /" {
    spec_set "$BUNDLE" 'c["linux"]["rootfsPropagation"]="shared"'
    ctr_sh 'awk "\$5 == \"/\"" /proc/self/mountinfo'
    assert_success
    assert_output --regexp 'shared:[0-9]+'
    spec_set "$BUNDLE" 'c["linux"]["rootfsPropagation"]="private"'
    ctr_sh 'awk "\$5 == \"/\"" /proc/self/mountinfo'
    assert_success
    refute_output --regexp '(shared|master):'
}

@test "--no-pivot runs with MS_MOVE and chroot" {
    spec_set "$BUNDLE" '["process"]["args"]=["sh","-c","cat /etc/hostname; ls /"]'
    run vessel run --no-pivot -b "$BUNDLE" "$(cid)"
    assert_success
    assert_line --index 0 vessel
    assert_line bin
}

@test "container mounts do not show up on the host" {
    add_mount '{"destination":"/scratch","type":"tmpfs","source":"tmpfs"}'
    ctr_sh 'true'
    assert_success
    run grep -c "$BUNDLE/rootfs" /proc/self/mountinfo
    assert_output 0
}

@test "cgroup mount shows the host's hierarchies" {
    ctr_sh 'ls /sys/fs/cgroup'
    assert_success
    if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
        assert_line cgroup.controllers
    else
        local h
        for h in /sys/fs/cgroup/*/; do
            mountpoint -q "$h" || continue
            assert_line "$(basename "$h")"
        done
    fi
}

@test "overlay mount with host lower, upper and work dirs" {
    mkdir -p "$TEST_TMP/lower" "$TEST_TMP/upper" "$TEST_TMP/work"
    echo fromlower > "$TEST_TMP/lower/l"
    add_mount "{\"destination\":\"/ov\",\"type\":\"overlay\",\"source\":\"overlay\",\"options\":[\"lowerdir=$TEST_TMP/lower\",\"upperdir=$TEST_TMP/upper\",\"workdir=$TEST_TMP/work\"]}"
    ctr_sh 'cat /ov/l; echo up > /ov/u'
    assert_success
    assert_output fromlower
    [ "$(cat "$TEST_TMP/upper/u")" = up ]
}

@test "idmap bind mount shows files with mapped owners" {
    [ -e /proc/self/ns/user ] || skip "no user namespaces"
    chown 0:0 "$HOSTDIR/file"
    add_mount "{\"destination\":\"/id\",\"type\":\"bind\",\"source\":\"$HOSTDIR\",\"options\":[\"rbind\",\"idmap\"],\"uidMappings\":[{\"containerID\":0,\"hostID\":1234,\"size\":10}],\"gidMappings\":[{\"containerID\":0,\"hostID\":1234,\"size\":10}]}"
    ctr_sh 'stat -c "%u %g" /id/file; grep " /id " /proc/self/mountinfo'
    assert_success
    assert_line --index 0 "1234 1234"
    assert_output --partial idmapped
}

@test "a relative bind source is relative to the bundle, whatever the cwd" {
    mkdir -p "$BUNDLE/data"
    echo inbundle > "$BUNDLE/data/f"
    add_mount '{"destination":"/rel","type":"bind","source":"data","options":["rbind"]}'
    spec_set "$BUNDLE" '["process"]["args"]=["cat","/rel/f"]'
    cd /
    run vessel run -b "$BUNDLE" "$(cid)"
    assert_success
    assert_output inbundle
}
