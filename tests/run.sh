#!/usr/bin/env bash
# The test suite: cmocka unit tests, then CLI tests that check shrink's
# output with ffprobe/ffmpeg. Ends with "N passed, N failed".
# Usage: tests/run.sh BUILD_DIR [PATTERN]
# SPDX-License-Identifier: GPL-3.0-or-later
set -u
build=${1:-build}
pattern=${2:-}
root=$(cd "$(dirname "$0")/.." && pwd)
export SHRINK="$root/$build/shrink"
export SHARED_MEDIA="${SHARED_MEDIA:-$root/../shared/media}"
export SH_TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/shrink-tests.XXXXXX")
export RESULTS="$SH_TEST_TMP/results"
: > "$RESULTS"
trap 'rm -rf "$SH_TEST_TMP"' EXIT

# Unit tests: cmocka speaks TAP when asked.
for t in "$root/$build"/tests/test_*; do
    [ -x "$t" ] && [[ "$t" != *.d ]] || continue
    name=$(basename "$t")
    [ -n "$pattern" ] && [[ "$name" != *$pattern* ]] && continue
    out=$(CMOCKA_MESSAGE_OUTPUT=TAP "$t" 2>&1)
    rc=$?
    echo "$out" | grep -E '^(not )?ok ' | while read -r line; do
        case "$line" in
            "not ok"*) echo "FAIL $name: ${line#not ok }" >> "$RESULTS" ;;
            ok*)       echo "PASS $name: ${line#ok }" >> "$RESULTS" ;;
        esac
    done
    if [ $rc != 0 ] && ! grep -q "^FAIL $name" "$RESULTS"; then
        echo "FAIL $name: exited $rc" >> "$RESULTS"
        echo "$out" | tail -20
    fi
done

# CLI tests: each script appends PASS/FAIL/SKIP lines to $RESULTS.
for t in "$root"/tests/cli/test_*.sh; do
    [ -f "$t" ] || continue
    name=$(basename "$t" .sh)
    [ -n "$pattern" ] && [[ "$name" != *$pattern* ]] && continue
    echo "== $name"
    bash "$t" || echo "FAIL $name: script exited $?" >> "$RESULTS"
done

grep -E '^(FAIL|SKIP)' "$RESULTS"
pass=$(grep -c '^PASS' "$RESULTS")
fail=$(grep -c '^FAIL' "$RESULTS")
skip=$(grep -c '^SKIP' "$RESULTS")
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
