#!/usr/bin/env bash
# The inputs kept from fuzzing (tests/fuzz/corpus/NAME/: crashes and hogs that
# were fixed, odd cases) replayed through each harness without libFuzzer
# (BUILD/tests/fuzz_NAME_replay, built by `make check` and `make asan`). Each
# harness must get through its whole corpus. Outside ASan the replay runs
# under a 1 GiB address-space limit, so an input that makes shrink allocate
# gigabytes (as late-audio-silence-*.mpg did) fails here too.
# SPDX-License-Identifier: GPL-3.0-or-later
. "$(dirname "$0")/lib.sh"

root=$(cd "$CLI_DIR/../.." && pwd)
bindir=$(dirname "$SHRINK")/tests
for dir in "$root"/tests/fuzz/corpus/*/; do
    name=$(basename "$dir")
    bin="$bindir/fuzz_${name}_replay"
    case_begin "$name"
    if [ ! -x "$bin" ]; then
        skip "$name" "$bin not built (make check builds it)"
        continue
    fi
    log="$CASE_DIR/replay.log"
    (
        # ASan reserves terabytes of address space: a limit only without it
        ldd "$bin" 2>/dev/null | grep -q libasan || ulimit -v 1048576
        cd "$CASE_DIR" && exec timeout -s KILL 600 "$bin" "$dir"
    ) >"$log" 2>&1
    rc=$?
    n=$(find "$dir" -type f ! -name '.*' | wc -l)
    if [ $rc != 0 ]; then
        err "exit $rc on $(grep '^replay: ' "$log" | tail -1 | sed 's/^replay: //'): $(grep -E 'ERROR|SUMMARY|runtime error|Assertion|trap' "$log" | head -3)"
    elif ! grep -q "^$n inputs replayed" "$log"; then
        err "expected $n inputs replayed: $(tail -1 "$log")"
    fi
    echo "   $name: $n inputs"
    no_leftovers "$CASE_DIR"
    case_end
done

script_done
