#!/usr/bin/env bats
# OCI hooks through the CLI: every stage runs, in order, with the state on
# stdin; a failing or hanging hook fails create and leaves nothing behind;
# poststart and poststop failures only warn.

load helpers

setup() {
    vessel_setup
    OUT="$TEST_TMP/out"
    mkdir -p "$OUT"
    : > "$OUT/log"
    # The host dir is visible inside the container at /out for the in-container hooks.
    spec_set "$BUNDLE" "c[\"mounts\"].append({\"destination\":\"/out\",\"type\":\"bind\",\"source\":\"$OUT\",\"options\":[\"rbind\",\"rw\"]})"
}
teardown() { vessel_teardown; }

# A hook entry (python literal) running sh -c SCRIPT with STAGE in its env.
# $1 stage name, $2 shell, $3 script, $4 optional extra json fields
hook() {
    local script
    script=$(printf '%s' "$3" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')
    echo "{\"path\":\"$2\",\"args\":[\"sh\",\"-c\",$script],\"env\":[\"STAGE=$1\",\"PATH=/usr/bin:/bin\"]${4:+,$4}}"
}

# Appends "STAGE status" to a log (status parsed from the state on stdin).
LOG_SCRIPT='s=$(tr -d " \n" | grep -o "\"status\":\"[a-z]*\"" | cut -d\" -f4); echo "$STAGE $s" >> "$LOGFILE"'

@test "hooks: every stage runs in order with the state on stdin" {
    local host="LOGFILE=$OUT/log; $LOG_SCRIPT" inside="LOGFILE=/out/log; $LOG_SCRIPT"
    spec_set "$BUNDLE" "[\"hooks\"]={
        \"prestart\":[$(hook prestart /bin/sh "$host")],
        \"createRuntime\":[$(hook createRuntime /bin/sh "$host")],
        \"createContainer\":[$(hook createContainer /bin/sh "$host")],
        \"startContainer\":[$(hook startContainer /bin/sh "$inside")],
        \"poststart\":[$(hook poststart /bin/sh "$host")],
        \"poststop\":[$(hook poststop /bin/sh "$host")]}" \
        '["process"]["args"]=["sh","-c","echo workload >> /out/log"]'
    run vessel run -b "$BUNDLE" "$(cid)"
    assert_success
    run cut -d' ' -f1 "$OUT/log"
    # poststart may run before or after the (very short) workload.
    assert_line --index 0 prestart
    assert_line --index 1 createRuntime
    assert_line --index 2 createContainer
    assert_line --index 3 startContainer
    assert_line poststart
    assert_line workload
    assert_line --index 6 poststop
    run grep -E '^(createRuntime|poststop) ' "$OUT/log"
    assert_line "createRuntime creating"
    assert_line "poststop stopped"
}

@test "hooks: the hook gets exactly its own args and env" {
    spec_set "$BUNDLE" "[\"hooks\"]={\"createRuntime\":[{\"path\":\"/usr/bin/env\",\"args\":[\"env\"],\"env\":[\"ONLY=this\"]}]}" \
        '["process"]["args"]=["true"]'
    run vessel run -b "$BUNDLE" "$(cid)"
    assert_success
    # hook stdout goes to the runtime's stderr, which bats merges into output
    assert_line "ONLY=this"
    refute_line --regexp '^PATH='
}

@test "hooks: a failing createRuntime hook fails create and leaves nothing" {
    spec_set "$BUNDLE" "[\"hooks\"]={\"createRuntime\":[$(hook createRuntime /bin/sh 'exit 0'),$(hook createRuntime /bin/sh 'exit 3')]}"
    local id
    id=$(cid)
    run vessel create -b "$BUNDLE" "$id"
    assert_failure
    assert_output --partial 'hook createRuntime[1] "/bin/sh": exited with status 3'
    run vessel list -q
    refute_output --partial "$id"
    [ ! -e "$ROOT/$id" ]
    local d
    for d in $(awk '$9 ~ /^cgroup2?$/ { print $5 }' /proc/self/mountinfo); do
        [ ! -e "$d/vessel/$id" ] || fail "cgroup $d/vessel/$id left behind"
    done
}

@test "hooks: a prestart hook past its timeout is killed and fails create" {
    spec_set "$BUNDLE" "[\"hooks\"]={\"prestart\":[$(hook prestart /bin/sh 'exec sleep 61.4242' '"timeout":1')]}"
    local id
    id=$(cid)
    run vessel create -b "$BUNDLE" "$id"
    assert_failure
    assert_output --partial 'hook prestart[0] "/bin/sh": timed out after 1 seconds'
    [ ! -e "$ROOT/$id" ]
    run pgrep -f "sleep 61.4242"
    assert_failure
}

@test "hooks: a failing createContainer hook fails create" {
    spec_set "$BUNDLE" "[\"hooks\"]={\"createContainer\":[$(hook createContainer /bin/sh 'exit 5')]}"
    run vessel run -b "$BUNDLE" "$(cid)"
    assert_failure
    assert_output --partial 'hook createContainer[0] "/bin/sh": exited with status 5'
}

@test "hooks: a failing poststop hook does not fail delete" {
    spec_set "$BUNDLE" "[\"hooks\"]={\"poststop\":[$(hook poststop /bin/sh 'exit 9')]}" \
        '["process"]["args"]=["true"]'
    local id
    id=$(cid)
    run vessel run -b "$BUNDLE" "$id"
    assert_success
    [ ! -e "$ROOT/$id" ]
}

@test "hooks: a missing hook binary is reported" {
    spec_set "$BUNDLE" '["hooks"]={"prestart":[{"path":"/no/such/hook"}]}'
    run vessel run -b "$BUNDLE" "$(cid)"
    assert_failure
    assert_output --partial 'hook prestart[0] "/no/such/hook": exec: No such file or directory'
}
