#!/usr/bin/env bash
# The test suite: cmocka unit tests, then CLI tests that check shrink's
# output with ffprobe/ffmpeg. Ends with "N passed, N failed".
# Usage: tests/run.sh BUILD_DIR [PATTERN...]   (names containing any PATTERN)
#   SHRINK_TEST_TIER=quick (make check, the default): every script, the media sweeps
#       cut to a few short clips (SHRINK_TEST_QUICK=1 inside the scripts)
#   SHRINK_TEST_TIER=full (make check-full): every shared clip at every budget too
#   SHRINK_TEST_JOBS=N: CLI scripts run N at a time (default 2, the cores CI has); each
#       script's output is printed whole when it ends, so logs do not interleave
# Everything runs with TMPDIR inside the suite's own scratch directory, so other
# processes on the machine neither see nor disturb it.
# SPDX-License-Identifier: GPL-3.0-or-later
set -u
build=${1:-build}
shift
patterns=("$@")
wanted() {   # NAME: no pattern, or one of them is in the name
    local p
    [ ${#patterns[@]} = 0 ] && return 0
    for p in "${patterns[@]}"; do [[ "$1" == *$p* ]] && return 0; done
    return 1
}
root=$(cd "$(dirname "$0")/.." && pwd)
tier=${SHRINK_TEST_TIER:-quick}
case "$tier" in
    quick) export SHRINK_TEST_QUICK=1 ;;
    full)  export SHRINK_TEST_QUICK=${SHRINK_TEST_QUICK:-0} ;;
    *) echo "run.sh: SHRINK_TEST_TIER is quick or full" >&2; exit 2 ;;
esac
jobs=${SHRINK_TEST_JOBS:-2}
export SHRINK="$root/$build/shrink"
export SHARED_MEDIA="${SHARED_MEDIA:-$root/../shared/media}"
export SH_TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/shrink-tests.XXXXXX")
export RESULTS="$SH_TEST_TMP/results"
mkdir -p "$SH_TEST_TMP/tmp" "$SH_TEST_TMP/logs"
export TMPDIR="$SH_TEST_TMP/tmp"
: > "$RESULTS"
trap 'rm -rf "$SH_TEST_TMP"' EXIT
# The scripts start python3 hundreds of times, and use only its standard library. Behind a
# version manager's shim (pyenv's is a bash script that works out which python to run) each
# start cost 0.45 s of CPU instead of 0.1: the same interpreter, found once, is put first in
# PATH. And it starts without site (-S): a site-packages .pth that imports certifi made every
# start 0.06 s of CPU instead of 0.02, 664 starts in make check (its tools' CPU measured
# through wrappers, session 10).
py=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
if [ -n "$py" ] && [ -x "$py" ]; then
    mkdir -p "$SH_TEST_TMP/bin"
    printf '#!/bin/sh\nexec "%s" -S "$@"\n' "$py" > "$SH_TEST_TMP/bin/python3"
    chmod +x "$SH_TEST_TMP/bin/python3"
    export PATH="$SH_TEST_TMP/bin:$PATH"
fi
t0=$(date +%s)

# Unit tests: cmocka speaks TAP when asked. They run beside the first CLI
# scripts (about 10 s of one core; sequential before them, they were 10 s of
# make check's wall time on 2 cores).
run_units() {
    for t in "$root/$build"/tests/test_*; do
        [ -x "$t" ] && [[ "$t" != *.d ]] || continue
        name=$(basename "$t")
        wanted "$name" || continue
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
}
run_units &
units_pid=$!

# CLI tests: each script appends PASS/FAIL/SKIP lines to $RESULTS (one short
# line per write, so parallel scripts do not tear each other's lines). The
# longest first (by CPU seconds measured, the full tier's sweeps at the head), so
# that N workers finish together; the rest, all short, in name order. (test_trim,
# 71 s, came last in name order and ran alone at the end.) Order: session 9's quiet make check.
heavy="test_fill test_media test_gif test_basic test_encoders test_solver test_hostile_colour
    test_extreme test_badinput test_hostile_limits test_faults test_memory test_scale
    test_hostile_paths test_hostile_disk test_signals test_trim test_safety test_batch test_progress"
heavy=$(echo $heavy)   # one line, one space apart (the test below looks for " NAME ")
scripts=()
for n in $heavy; do [ -f "$root/tests/cli/$n.sh" ] && scripts+=("$n"); done
for t in "$root"/tests/cli/test_*.sh; do
    n=$(basename "$t" .sh)
    [[ " $heavy " == *" $n "* ]] || scripts+=("$n")
done
run_script() {   # NAME: run one script, then print its log whole
    local name=$1 log="$SH_TEST_TMP/logs/$1.log" s0
    s0=$(date +%s)
    bash "$root/tests/cli/$name.sh" >"$log" 2>&1 || echo "FAIL $name: script exited $?" >> "$RESULTS"
    {
        flock 9
        echo "== $name ($(( $(date +%s) - s0 )) s)"
        cat "$log"
    } 9>"$SH_TEST_TMP/logs/.print"
}
export -f run_script
export root
for n in "${scripts[@]}"; do
    wanted "$n" || continue
    printf '%s\0' "$n"
done | xargs -0 -r -n 1 -P "$jobs" bash -c 'run_script "$1"' _
wait "$units_pid"

grep -E '^(FAIL|SKIP)' "$RESULTS"
pass=$(grep -c '^PASS' "$RESULTS")
fail=$(grep -c '^FAIL' "$RESULTS")
skip=$(grep -c '^SKIP' "$RESULTS")
echo "suite: tier $tier, $jobs at a time, $(( $(date +%s) - t0 )) s"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
