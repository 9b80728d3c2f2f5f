#!/usr/bin/env bash
# Run each libFuzzer harness for a while (make fuzz; CI runs a short smoke).
#   tests/fuzz/run.sh BUILD SECONDS NAME...
# Corpus dirs, in libFuzzer's order (new finds go to the first):
#   BUILD/corpus/NAME      what earlier runs found (kept between runs, not in the tree)
#   tests/fuzz/corpus/NAME inputs kept as regression tests (crashes fixed, odd cases)
#   BUILD/seeds/NAME       made by seeds.sh
# A crash, leak, timeout (30 s) or out-of-memory (1.5 GB) stops that harness and leaves
# BUILD/crashes/NAME-*: minimise it, fix it, copy it into tests/fuzz/corpus/NAME/.
# Ends with one line per harness: runs, seconds, corpus size, result.
# SPDX-License-Identifier: GPL-3.0-or-later
set -u
build=${1:?usage: run.sh BUILD SECONDS NAME...}
secs=${2:?}
shift 2
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1
mkdir -p "$build/crashes" "$build/logs"
[ -d "$build/seeds/input" ] || tests/fuzz/seeds.sh "$build/seeds" >/dev/null || exit 1

summary=()
failed=0
for name in "$@"; do
    bin="$build/fuzz/fuzz_$name"
    [ -x "$bin" ] || { echo "run.sh: $bin missing (make fuzz-build)"; exit 1; }
    mkdir -p "$build/corpus/$name" "tests/fuzz/corpus/$name"
    opts=(-max_total_time="$secs" -timeout=30 -rss_limit_mb=1536 -close_fd_mask=3
          -print_final_stats=1 -artifact_prefix="$build/crashes/$name-")
    [ -f "tests/fuzz/$name.dict" ] && opts+=(-dict="tests/fuzz/$name.dict")
    case "$name" in
        input) opts+=(-max_len=65536) ;;
        *)     opts+=(-max_len=512) ;;
    esac
    log="$build/logs/$name.log"
    echo "== fuzz_$name: $secs s"
    # the ASan/UBSan options the rest of the suite uses; leaks are errors
    ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "$bin" "${opts[@]}" "$build/corpus/$name" "tests/fuzz/corpus/$name" "$build/seeds/$name" >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
    units=$(find "$build/corpus/$name" -type f | wc -l)
    if [ $rc = 0 ]; then
        result=ok
    else
        result="FAILED (exit $rc): $(grep -m1 -E 'ERROR: (AddressSanitizer|UndefinedBehaviorSanitizer|LeakSanitizer|libFuzzer)|runtime error|SUMMARY' "$log")"
        failed=1
        grep -E '^(==|SUMMARY|    #[0-9]+ )' "$log" | head -40
        ls "$build/crashes/$name-"* 2>/dev/null | head -3
    fi
    summary+=("fuzz_$name: ${runs:-?} runs in ${took:-?} s, corpus $units, $result")
done
printf '%s\n' "${summary[@]}"
exit $failed
