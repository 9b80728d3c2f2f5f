#!/usr/bin/env bash
# Batches: several inputs and directories in one run. A corrupt file in the
# middle fails alone; every input gets one result line; the exit code says
# all (0), some (7) or none (their common code, else 1); directories are
# walked in name order, once, skipping hidden files, other extensions and
# shrink's own outputs; --skip-existing resumes a batch that SIGINT stopped.
# SPDX-License-Identifier: GPL-3.0-or-later
. "$(dirname "$0")/lib.sh"

CLIP=(size=320x240 rate=25 dur=4 audio=sine)
TARGET=60k   # (with --speed fast --no-search: these cases are about the batch, not the encoder or the plan)

# expect_jsonl N: stdout is N JSON objects of the documented schema.
expect_jsonl() {
    local msgs
    msgs=$(jl check "$OUT" "$1" 2>&1) || err "JSON lines: $msgs"
}

# A corrupt file between two good ones, named one by one: text result lines.
case_begin files_corrupt_middle
a=$(clip_into a.mp4 "$CASE_DIR" "${CLIP[@]}")
c=$(clip_into c.mkv "$CASE_DIR" "${CLIP[@]}")
# cut at 70%: bigger than the target, so a real job (not a copy) finds it broken
head -c $(($(fsize "$a") * 7 / 10)) "$a" > "$CASE_DIR/b.mp4"
[ "$(fsize "$CASE_DIR/b.mp4")" -gt 60000 ] || err "the corrupt file is not bigger than the target"
snap_dir "$CASE_DIR"
run_shrink "$a" "$CASE_DIR/b.mp4" "$c" --target "$TARGET" --speed fast --no-search
expect_rc 7 "one of three failed"
[ "$(grep -c '' "$OUT")" = 3 ] || err "expected 3 result lines: $(head -c 400 "$OUT")"
sed -n 1p "$OUT" | grep -qF "a.shrunk.mp4: " || err "line 1 is not a's result: $(sed -n 1p "$OUT")"
sed -n 2p "$OUT" | grep -qF "b.mp4: failed: " || err "line 2 is not b's failure: $(sed -n 2p "$OUT")"
sed -n 2p "$OUT" | grep -qF "(exit 3)" || err "line 2 does not give exit 3: $(sed -n 2p "$OUT")"
sed -n 3p "$OUT" | grep -qF "c.shrunk.mp4: " || err "line 3 is not c's result: $(sed -n 3p "$OUT")"
grep -q "b.mp4: error" "$ERR" || err "stderr does not name b.mp4: $(stderr_text)"
grep -q "3 inputs: 2 shrunk, 0 copied, 0 skipped, 1 failed" "$ERR" || err "no batch summary: $(stderr_text)"
[ -s "$CASE_DIR/a.shrunk.mp4" ] && check_output "$CASE_DIR/a.shrunk.mp4" "$a" 60000
[ -s "$CASE_DIR/c.shrunk.mp4" ] && check_output "$CASE_DIR/c.shrunk.mp4" "$c" 60000
dir_expect "$CASE_DIR" a.shrunk.mp4 c.shrunk.mp4
no_leftovers "$CASE_DIR"
case_end

# Two walked directories with x.mp4 at their tops, one --outdir: both would be out/x.shrunk.mp4.
# The first is written, the second refused (its item exit 6, the batch 7), the first kept.
case_begin outdir_two_tops
mkdir -p "$CASE_DIR/w1" "$CASE_DIR/w2"
clip_into x.mp4 "$CASE_DIR/w1" "${CLIP[@]}" >/dev/null
clip_into x.mp4 "$CASE_DIR/w2" "${CLIP[@]}" dur=2 >/dev/null
run_shrink "$CASE_DIR/w1" "$CASE_DIR/w2" --target "$TARGET" --speed fast --no-search --outdir "$CASE_DIR/out" --force --json
expect_rc 7
expect_jsonl 2
[ "$(jl get "$OUT" 1 action)" = failed ] && [ "$(jl get "$OUT" 1 exit)" = 6 ] ||
    err "the second x.mp4: action $(jl get "$OUT" 1 action), exit $(jl get "$OUT" 1 exit)"
grep -q "was written from an earlier input" "$ERR" || err "no 'earlier input' message: $(stderr_text)"
[ "$(ls -A "$CASE_DIR/out")" = x.shrunk.mp4 ] || err "in out/: $(ls -A "$CASE_DIR/out" | _words)"
[ -s "$CASE_DIR/out/x.shrunk.mp4" ] && [ "$(fsize "$CASE_DIR/out/x.shrunk.mp4")" = "$(jl get "$OUT" 0 bytes)" ] ||
    err "out/x.shrunk.mp4 is not the first item's output ($(jl get "$OUT" 0 bytes) B)"
d=$(fmt_duration "$CASE_DIR/out/x.shrunk.mp4")
python3 -c "import sys; sys.exit(abs(float('$d') - 4) > 0.2)" || err "out/x.shrunk.mp4 lasts $d s, the first (4 s) input's"
case_end

# The same as a directory, with --json and --outdir: walked in name order
# (sub/ between b and d), layout kept; hidden files, other extensions and our
# own outputs left alone; a link loop walked once.
case_begin dir_walk_json
src="$CASE_DIR/src"
mkdir -p "$src/sub/deeper" "$src/.hidden"
clip_into a.mp4 "$src" "${CLIP[@]}" >/dev/null
head -c 3000 "$src/a.mp4" > "$src/b.mp4"       # fits the target: checked before it is copied
clip_into c.mkv "$src/sub" "${CLIP[@]}" >/dev/null
mv "$src/sub/c.mkv" "$src/sub/C.MKV"
cp "$src/a.mp4" "$src/d.MOV"
cp "$src/a.mp4" "$src/.hidden/h.mp4"
cp "$src/a.mp4" "$src/old.shrunk.mp4"
echo "notes" > "$src/notes.txt"
ln -s .. "$src/sub/deeper/loop"
ln -s ../a.mp4 "$src/sub/a-again.mp4"       # the same file as src/a.mp4: taken once
before=$(cd "$src" && find . -type f -exec sha256sum {} + | sort)
run_shrink "$src/" --target "$TARGET" --speed fast --no-search --outdir "$CASE_DIR/out" --json
expect_rc 7
expect_jsonl 4
want=("$src/a.mp4" "$src/b.mp4" "$src/d.MOV" "$src/sub/C.MKV")
for i in 0 1 2 3; do
    got=$(jl get "$OUT" $i input)
    [ "$got" = "${want[$i]}" ] || err "line $i is $got, expected ${want[$i]}"
done
[ "$(jl get "$OUT" 1 action)" = failed ] || err "b.mp4: action $(jl get "$OUT" 1 action)"
[ "$(jl get "$OUT" 1 exit)" = 3 ] || err "b.mp4: exit $(jl get "$OUT" 1 exit)"
[ "$(jl get "$OUT" 3 output)" = "$CASE_DIR/out/sub/C.shrunk.mp4" ] || err "C.MKV's output: $(jl get "$OUT" 3 output)"
for f in a.shrunk.mp4 d.shrunk.mp4 sub/C.shrunk.mp4; do
    [ -s "$CASE_DIR/out/$f" ] || err "no out/$f"
done
n=$(find "$CASE_DIR/out" -type f | wc -l)
[ "$n" = 3 ] || err "$n files in out/, expected 3: $(find "$CASE_DIR/out" -type f | _words)"
[ "$(cd "$src" && find . -type f -exec sha256sum {} + | sort)" = "$before" ] || err "the source tree changed"
no_leftovers "$CASE_DIR/out" "$CASE_DIR/out/sub"
case_end

# All fail with the same code: that code; with different codes: 1.
case_begin all_failed_same
printf 'not a video\n' > "$CASE_DIR/x.mp4"
printf 'nor this\n' > "$CASE_DIR/y.mp4"
run_shrink "$CASE_DIR/x.mp4" "$CASE_DIR/y.mp4" --target "$TARGET" --speed fast --no-search --json
expect_rc 3
expect_jsonl 2
no_leftovers "$CASE_DIR"
case_end

case_begin all_failed_mixed
printf 'not a video\n' > "$CASE_DIR/x.mp4"
in=$(clip_into y.mp4 "$CASE_DIR" "${CLIP[@]}")
echo "precious" > "$CASE_DIR/y.shrunk.mp4"
run_shrink "$CASE_DIR/x.mp4" "$in" --target "$TARGET" --speed fast --no-search --json
expect_rc 1 "failures 3 and 6"
expect_jsonl 2
[ "$(jl get "$OUT" 0 exit) $(jl get "$OUT" 1 exit)" = "3 6" ] || err "exits $(jl get "$OUT" 0 exit) $(jl get "$OUT" 1 exit), expected 3 6"
[ "$(cat "$CASE_DIR/y.shrunk.mp4")" = precious ] || err "an existing output was replaced"
no_leftovers "$CASE_DIR"
case_end

# A directory with no video in it is a failed input (3), as is a missing one.
case_begin empty_dir_missing_file
mkdir -p "$CASE_DIR/empty"
run_shrink "$CASE_DIR/empty" "$CASE_DIR/nope.mp4" --target "$TARGET" --speed fast --no-search --json
expect_rc 3
expect_jsonl 2
grep -q "empty: error: no video files" "$ERR" || err "stderr: $(stderr_text)"
case_end

# Two inputs with one output name (a.mp4, a.mkv -> a.shrunk.mp4): the
# second fails (6), even with --force, rather than replace the first's.
case_begin same_output_twice
a=$(clip_into a.mp4 "$CASE_DIR" "${CLIP[@]}")
cp "$a" "$CASE_DIR/a.mkv"
run_shrink "$a" "$CASE_DIR/a.mkv" --target "$TARGET" --speed fast --no-search --force --json
expect_rc 7
expect_jsonl 2
[ "$(jl get "$OUT" 1 exit)" = 6 ] || err "second input: exit $(jl get "$OUT" 1 exit)"
[ "$(jl get "$OUT" 0 bytes)" = "$(fsize "$CASE_DIR/a.shrunk.mp4")" ] || err "the first output was replaced"
no_leftovers "$CASE_DIR"
case_end

# Options that only make sense for one input, or contradict each other.
case_begin batch_usage
a=$(clip_into a.mp4 "$CASE_DIR" "${CLIP[@]}")
for args in "$a $a -o $CASE_DIR/o.mp4" "$CASE_DIR -o $CASE_DIR/o.mp4" "$a --outdir $CASE_DIR/o -o $CASE_DIR/o.mp4" \
            "$a --force --skip-existing"; do
    # shellcheck disable=SC2086 # word splitting wanted
    run_shrink $args --target "$TARGET" --speed fast --no-search
    expect_rc 2 "shrink $args"
    [ -s "$OUT" ] && err "stdout not empty for $args"
done
[ -e "$CASE_DIR/o" ] && err "--outdir created on a usage error"
case_end

# --skip-existing: a SIGINT during the second of three jobs stops the batch
# (130; the first output stays, nothing of the second, the third not
# started but reported as interrupted); the rerun skips the first and makes the other two.
case_begin interrupted_resume
mkdir -p "$CASE_DIR/in"
# (one clip made, copied three times: three names were three makes of the same options)
v=$(make_clip v.mp4 size=640x360 rate=25 dur=8 audio=noise) || err "no clip"
for n in 1 2 3; do cp "$v" "$CASE_DIR/in/v$n.mp4"; done
TMPDIR="$CASE_TMP" "$SHRINK" "$CASE_DIR/in" --target 150k --speed fast --no-search --outdir "$CASE_DIR/out" --json >"$OUT" 2>"$ERR" </dev/null &
pid=$!
started=""
for ((i = 0; i < 1200; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    if [ "$(grep -c '' "$OUT" 2>/dev/null)" = 1 ]; then started=1; break; fi
    nap 0.05
done
sleep 0.3
if [ -z "$started" ] || ! kill -0 "$pid" 2>/dev/null; then
    wait "$pid"
    skip interrupted_resume "the batch was not in its second job when checked (exit $?)"
else
    kill -INT "$pid"
    wait "$pid"; RC=$?
    expect_rc 130 "SIGINT in the second job"
    # Every input gets its line: the third, which the signal kept from starting, too.
    [ "$(jl count "$OUT")" = 3 ] || err "expected 3 JSON lines (done, interrupted, not started): $(head -c 400 "$OUT")"
    [ "$(jl get "$OUT" 1 error)" = interrupted ] || err "second line's error: $(jl get "$OUT" 1 error)"
    [ "$(jl get "$OUT" 2 error) $(jl get "$OUT" 2 exit) $(jl get "$OUT" 2 output)" = "interrupted 130 null" ] ||
        err "third line: error $(jl get "$OUT" 2 error), exit $(jl get "$OUT" 2 exit), output $(jl get "$OUT" 2 output)"
    [[ "$(jl get "$OUT" 2 input)" == */v3.mp4 ]] || err "third line's input: $(jl get "$OUT" 2 input)"
    [ -s "$CASE_DIR/out/v1.shrunk.mp4" ] || err "the first output is missing"
    [ -e "$CASE_DIR/out/v2.shrunk.mp4" ] && err "the interrupted job left an output"
    [ -e "$CASE_DIR/out/v3.shrunk.mp4" ] && err "the third job ran"
    no_leftovers "$CASE_DIR/out"
    first=$(sha "$CASE_DIR/out/v1.shrunk.mp4")
    run_shrink "$CASE_DIR/in" --target 150k --speed fast --no-search --outdir "$CASE_DIR/out" --skip-existing --json
    expect_rc 0 "the resumed batch"
    expect_jsonl 3
    [ "$(jl get "$OUT" 0 action) $(jl get "$OUT" 1 action) $(jl get "$OUT" 2 action)" = "skipped-existing shrunk shrunk" ] ||
        err "actions: $(jl get "$OUT" 0 action) $(jl get "$OUT" 1 action) $(jl get "$OUT" 2 action)"
    [ "$(sha "$CASE_DIR/out/v1.shrunk.mp4")" = "$first" ] || err "the first output was redone"
    for n in 2 3; do
        [ -s "$CASE_DIR/out/v$n.shrunk.mp4" ] && check_output "$CASE_DIR/out/v$n.shrunk.mp4" "$CASE_DIR/in/v$n.mp4" 150000
    done
    no_leftovers "$CASE_DIR/out"
    case_end
fi

script_done
