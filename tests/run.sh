#!/bin/bash
# Runs every test suite (each speaks TAP) and ends with one line:
# "N passed, N failed, N skipped". Exit status is non-zero when anything failed.
# Suites: cmocka unit tests, bats integration tests, the test guest under the
# builtin VMM, the nested stock-kernel test bed. TESTS_ONLY=unit|integration|guest|nested
# narrows the run; BATS_FILTER passes a file glob to bats.
set -u
cd "$(dirname "$0")/.."
B=build
pass=0 fail=0 skip=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

count() {  # reads TAP on stdin, echoes it, tallies results
    local line
    while IFS= read -r line; do
        printf '%s\n' "$line"
        case "$line" in
            "not ok"*) fail=$((fail + 1)) ;;
            ok*"# skip"*|ok*"# SKIP"*) skip=$((skip + 1)) ;;
            ok*) pass=$((pass + 1)) ;;
        esac
    done
}

want() { [ -z "${TESTS_ONLY:-}" ] || [ "$TESTS_ONLY" = "$1" ]; }

if want unit; then
    echo "# unit tests"
    for t in "$B"/tests/test_*; do
        [ -x "$t" ] || continue
        echo "# $(basename "$t")"
        count < <(CMOCKA_MESSAGE_OUTPUT=TAP "$t" 2>&1 | grep -E '^(ok|not ok|#)' || true)
    done
fi

if want integration; then
    echo "# integration tests (bats)"
    files=(tests/integration/${BATS_FILTER:-*}.bats)
    if [ -e "${files[0]}" ]; then
        count < <(bats --tap "${files[@]}" 2>&1)
    fi
fi

if want guest && [ -x tests/guest/run.sh ]; then
    echo "# test guest under the builtin VMM"
    count < <(tests/guest/run.sh 2>&1)
fi

if want nested && [ -x tests/nested/run.sh ]; then
    echo "# nested stock-kernel test bed"
    count < <(tests/nested/run.sh 2>&1)
fi

echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
