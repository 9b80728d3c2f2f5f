#!/usr/bin/env bash
# The inputs kept from fuzzing (tests/fuzz/corpus/NAME/: crashes and hogs that
# were fixed, odd cases) and the fuzzers' seeds (tests/fuzz/seeds.sh: a dozen
# tiny clips, option lines, sizes, made now) replayed through each harness
# without libFuzzer (BUILD/tests/fuzz_NAME_replay, built by `make check` and
# `make asan`). Each harness must get through all of them. Outside ASan the
# replay runs under a 1 GiB address-space limit, so an input that makes shrink
# allocate gigabytes (as late-audio-*.mpg did) fails here too.
# SPDX-License-Identifier: GPL-3.0-or-later
. "$(dirname "$0")/lib.sh"

root=$(cd "$CLI_DIR/../.." && pwd)
bindir=$(dirname "$SHRINK")/tests
seeds="$TEST_DIR/seeds"
"$root/tests/fuzz/seeds.sh" "$seeds" >/dev/null 2>&1 || echo "   (seeds.sh failed: the kept corpus only)"
for src in "$root"/tests/fuzz/fuzz_*.c; do
    name=$(basename "$src" .c)
    name=${name#fuzz_}
    dir="$root/tests/fuzz/corpus/$name"
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
        args=()
        [ -d "$dir" ] && args+=("$dir")
        [ -d "$seeds/$name" ] && args+=("$seeds/$name")
        cd "$CASE_DIR" && exec timeout -s KILL 600 "$bin" "${args[@]}"
    ) >"$log" 2>&1
    rc=$?
    n=$(find "$dir" "$seeds/$name" -type f ! -name '.*' 2>/dev/null | wc -l)
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
