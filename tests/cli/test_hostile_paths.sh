#!/usr/bin/env bash
# Hostile output paths (issue 21): no input of a run is ever replaced, whatever
# the order, -o, --outdir, --force, links; nothing but a regular file is
# replaced; long names; empty names; refusals before the work; a signal just
# after the rename; an input that grows while it is copied.
# SPDX-License-Identifier: GPL-3.0-or-later
. "$(dirname "$0")/lib.sh"

CLIP=(size=320x240 rate=25 dur=2 audio=sine)
OTHER=(src=smptebars size=320x240 rate=25 dur=2 audio=sine)   # another picture: another sha
FAST=(--codec x264 --speed fast --no-search)   # paths, not the plan
TARGET=40000

# The test-only shim (tests/cli/hostile_shim.c): forces an ordering from inside
# the process (a signal just after the rename, a file growing during a read).
SHIM="$TEST_DIR/hostile_shim.so"
cc -shared -fPIC -O1 -o "$SHIM" "$CLI_DIR/hostile_shim.c" -ldl 2>/dev/null || SHIM=""
# Under AddressSanitizer the shim comes first in the library list: allowed.
shim_run() { RUN_AS=(env LD_PRELOAD="$SHIM" ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" "$@"); }

# json_line FILE N KEY: KEY of the N-th JSON line of FILE.
json_line() {
    local tmp
    tmp=$(mktemp "$TEST_DIR/.json.XXXXXX")
    sed -n "${2}p" "$1" > "$tmp"
    json_get "$tmp" "$3"
    rm -f "$tmp"
}

# expect_error_line TEXT...: one stderr line holds every TEXT.
expect_error_line() {
    local lines t
    lines=$(grep -F -- "$1" "$ERR")
    for t in "${@:2}"; do
        lines=$(grep -F -- "$t" <<<"$lines")
    done
    [ -n "$lines" ] || err "no stderr line holds all of: $* ($(stderr_text))"
}

timed_run() { local t0; t0=$(date +%s.%N); run_shrink "$@"; SECS=$(elapsed "$t0"); }
expect_quick() {   # the refusal came before the work
    python3 -c "import sys; sys.exit(float(sys.argv[1]) >= 4.0)" "$SECS" ||
        err "took $SECS s: refused only after the work"
}

# ---- no input of the run is replaced ----

# a.mp4's output a.shrunk.mp4 is a later input: that item fails (6), the rest
# goes on (7); a.shrunk.mp4 is shrunk as an input of its own.
later_input_case() {   # NAME [extra args]
    local name=$1
    shift
    case_begin "$name"
    local a b keep
    a=$(clip_into a.mp4 "$CASE_DIR" "${CLIP[@]}")
    b=$(make_clip b.mp4 "${OTHER[@]}") && cp "$b" "$CASE_DIR/a.shrunk.mp4"
    keep=$(sha "$CASE_DIR/a.shrunk.mp4")
    snap_dir "$CASE_DIR"
    run_shrink "$a" "$CASE_DIR/a.shrunk.mp4" --target $TARGET --force "${FAST[@]}" --json "$@"
    expect_rc 7
    [ "$(sha "$CASE_DIR/a.shrunk.mp4")" = "$keep" ] || err "the input a.shrunk.mp4 was replaced"
    expect_error_line "refusing" "a.mp4" "a.shrunk.mp4" "input"
    [ "$(json_line "$OUT" 1 exit)" = 6 ] || err "the first JSON line's exit is $(json_line "$OUT" 1 exit), not 6"
    [ "$(json_line "$OUT" 2 exit)" = 0 ] || err "the second JSON line's exit is $(json_line "$OUT" 2 exit), not 0"
    [ -f "$CASE_DIR/a.shrunk.shrunk.mp4" ] &&
        check_output "$CASE_DIR/a.shrunk.shrunk.mp4" "$CASE_DIR/a.shrunk.mp4" $TARGET
    dir_expect "$CASE_DIR" a.shrunk.shrunk.mp4
    no_leftovers "$CASE_DIR"
    case_end
}
later_input_case later_input_force
later_input_case later_input_force_jobs2 --jobs 2

# The same the other way round: the second input's output is the first input.
case_begin earlier_input_force
a=$(clip_into a.mp4 "$CASE_DIR" "${CLIP[@]}")
b=$(make_clip b.mp4 "${OTHER[@]}") && cp "$b" "$CASE_DIR/a.shrunk.mp4"
keep=$(sha "$CASE_DIR/a.shrunk.mp4")
snap_dir "$CASE_DIR"
run_shrink "$CASE_DIR/a.shrunk.mp4" "$a" --target $TARGET --force "${FAST[@]}"
expect_rc 7
[ "$(sha "$CASE_DIR/a.shrunk.mp4")" = "$keep" ] || err "the first input was replaced by the second's output"
expect_error_line "refusing" "a.mp4" "a.shrunk.mp4"
[ -f "$CASE_DIR/a.shrunk.shrunk.mp4" ] && check_output "$CASE_DIR/a.shrunk.shrunk.mp4" "$CASE_DIR/a.shrunk.mp4" $TARGET
dir_expect "$CASE_DIR" a.shrunk.shrunk.mp4
no_leftovers "$CASE_DIR"
case_end

# --outdir naming the inputs' directory by another path.
case_begin outdir_into_inputs_force
mkdir -p "$CASE_DIR/in"
a=$(clip_into a.mp4 "$CASE_DIR/in" "${CLIP[@]}")
b=$(make_clip b.mp4 "${OTHER[@]}") && cp "$b" "$CASE_DIR/in/a.shrunk.mp4"
keep=$(sha "$CASE_DIR/in/a.shrunk.mp4")
snap_dir "$CASE_DIR/in"
cd "$CASE_DIR" || exit 1
run_shrink in/a.mp4 in/a.shrunk.mp4 --outdir ./in/../in/ --target $TARGET --force "${FAST[@]}"
cd - >/dev/null || exit 1
expect_rc 7
[ "$(sha "$CASE_DIR/in/a.shrunk.mp4")" = "$keep" ] || err "the input in/a.shrunk.mp4 was replaced"
expect_error_line "refusing" "a.mp4" "a.shrunk.mp4"
dir_expect "$CASE_DIR/in" a.shrunk.shrunk.mp4
no_leftovers "$CASE_DIR" "$CASE_DIR/in"
case_end

# a.mp4's output path is a hard link to (or a symlink to) the input b.mp4.
link_case() {   # NAME ln-OPTION
    local name=$1 how=$2
    case_begin "$name"
    local a b keep
    a=$(clip_into a.mp4 "$CASE_DIR" "${CLIP[@]}")
    b=$(clip_into b.mp4 "$CASE_DIR" "${OTHER[@]}")
    # shellcheck disable=SC2086 # $how is empty or one word
    (cd "$CASE_DIR" && ln $how b.mp4 a.shrunk.mp4)
    keep=$(sha "$b")
    snap_dir "$CASE_DIR"
    run_shrink "$a" "$b" --target $TARGET --force "${FAST[@]}"
    expect_rc 7
    [ "$(sha "$b")" = "$keep" ] || err "the input b.mp4 changed"
    case "$how" in
        -s) [ -L "$CASE_DIR/a.shrunk.mp4" ] || err "the symlink to the input was replaced" ;;
        *)  [ "$(stat -c %h "$b")" = 2 ] || err "the hard link to the input was replaced" ;;
    esac
    expect_error_line "refusing" "a.mp4" "a.shrunk.mp4" "b.mp4"
    [ -f "$CASE_DIR/b.shrunk.mp4" ] && check_output "$CASE_DIR/b.shrunk.mp4" "$b" $TARGET
    dir_expect "$CASE_DIR" b.shrunk.mp4
    no_leftovers "$CASE_DIR"
    case_end
}
link_case hardlink_to_input_force ""
link_case symlink_to_input_force -s

# ---- only a regular file is replaced, and refusals come before the work ----

special_case() {   # NAME MAKE-COMMAND... (makes $CASE_DIR/out.mp4)
    local name=$1
    shift
    case_begin "$name"
    local a kind
    a=$(clip_into a.mp4 "$CASE_DIR" size=640x360 rate=25 dur=6 audio=sine)
    if ! "$@" "$CASE_DIR/out.mp4" 2>/dev/null; then
        skip "$name" "cannot make one here ($1)"
        return
    fi
    kind=$(stat -c %F "$CASE_DIR/out.mp4")
    snap_dir "$CASE_DIR"
    timed_run "$a" -o "$CASE_DIR/out.mp4" --target 100k --force
    expect_rc 6
    [ "$(stat -c %F "$CASE_DIR/out.mp4")" = "$kind" ] || err "$kind out.mp4 became a $(stat -c %F "$CASE_DIR/out.mp4")"
    expect_one_line "out.mp4"
    grep -q "refusing" "$ERR" || err "stderr does not say it refuses: $(stderr_text)"
    expect_quick
    dir_expect "$CASE_DIR"
    no_leftovers "$CASE_DIR"
    case_end
}
make_chardev() { mknod "$1" c 1 3; }            # /dev/null's numbers, here (root only)
make_dangling() { ln -s no-such-file.mp4 "$1"; }
special_case fifo_force mkfifo
special_case chardev_force make_chardev
special_case dangling_symlink_force make_dangling

# A dangling link without --force: refused at once, not after the encode.
case_begin dangling_symlink
a=$(clip_into a.mp4 "$CASE_DIR" size=640x360 rate=25 dur=6 audio=sine)
ln -s no-such-file.mp4 "$CASE_DIR/out.mp4"
snap_dir "$CASE_DIR"
timed_run "$a" -o "$CASE_DIR/out.mp4" --target 100k
expect_rc 6
[ -L "$CASE_DIR/out.mp4" ] || err "the link was replaced"
expect_one_line "symbolic link"
expect_quick
dir_expect "$CASE_DIR"
no_leftovers "$CASE_DIR"
case_end

# Empty names are usage errors (2), at once.
empty_case() {   # NAME ARGS...
    local name=$1
    shift
    case_begin "$name"
    local a
    a=$(clip_into a.mp4 "$CASE_DIR" "${CLIP[@]}")
    snap_dir "$CASE_DIR"
    timed_run "$a" --target $TARGET "$@"
    expect_rc 2
    grep -q "empty" "$ERR" || err "stderr does not say the name is empty: $(stderr_text)"
    expect_quick
    dir_expect "$CASE_DIR"
    no_leftovers "$CASE_DIR"
    case_end
}
empty_case empty_o -o ''
empty_case empty_outdir --outdir ''

# ---- long names ----

# 248 bytes: STEM.shrunk.mp4 is 255 and fits; the temporary name is cut to fit.
case_begin long_name_248
name=$(printf 'n%.0s' $(seq 244)).mp4
src=$(make_clip a.mp4 "${CLIP[@]}") && cp "$src" "$CASE_DIR/$name"
before=$(sha "$CASE_DIR/$name")
snap_dir "$CASE_DIR"
run_shrink "$CASE_DIR/$name" --target $TARGET "${FAST[@]}" --json
expect_rc 0
out="$CASE_DIR/${name%.mp4}.shrunk.mp4"
[ "$RC" = 0 ] && check_output "$out" "$CASE_DIR/$name" $TARGET --json "$OUT"
[ "$(sha "$CASE_DIR/$name")" = "$before" ] || err "the input changed"
dir_expect "$CASE_DIR" "$(basename "$out")"
no_leftovers "$CASE_DIR"
case_end

# 252 bytes: STEM.shrunk.mp4 would be 259, over NAME_MAX: exit 6 at once, saying so.
case_begin long_name_output_too_long
name=$(printf 'n%.0s' $(seq 248)).mp4
src=$(make_clip a.mp4 "${CLIP[@]}") && cp "$src" "$CASE_DIR/$name"
snap_dir "$CASE_DIR"
timed_run "$CASE_DIR/$name" --target $TARGET "${FAST[@]}"
expect_rc 6
expect_one_line "259 bytes"
grep -q -- "-o" "$ERR" || err "stderr does not say how to name it: $(stderr_text)"
expect_quick
dir_expect "$CASE_DIR"
no_leftovers "$CASE_DIR"
case_end

# ---- a signal just after the rename: the exit status, the JSON and the file agree ----

signal_case() {   # NAME SIGNAL
    local name=$1 sig=$2
    case_begin "$name"
    if [ -z "$SHIM" ]; then
        skip "$name" "no C compiler for the test shim"
        return
    fi
    local a
    a=$(clip_into a.mp4 "$CASE_DIR" "${CLIP[@]}")
    snap_dir "$CASE_DIR"
    shim_run SHIM_SIGNAL_AFTER_RENAME="$sig" SHIM_RENAME_TO=a.shrunk.mp4
    run_shrink "$a" --target $TARGET "${FAST[@]}" --json
    RUN_AS=()
    # The output was in place before the signal: the job is done, and says so.
    expect_rc 0
    [ "$(json_get "$OUT" exit)" = "$RC" ] || err "JSON says exit $(json_get "$OUT" exit), the process $RC"
    [ -f "$CASE_DIR/a.shrunk.mp4" ] && check_output "$CASE_DIR/a.shrunk.mp4" "$a" $TARGET --json "$OUT"
    dir_expect "$CASE_DIR" a.shrunk.mp4
    no_leftovers "$CASE_DIR"
    case_end
}
signal_case signal_after_rename_int 2
signal_case signal_after_rename_term 15

# In a batch: the first output is done (its line says 0), the rest is not run (130, each
# with a line saying so).
case_begin signal_after_rename_batch
if [ -z "$SHIM" ]; then
    skip signal_after_rename_batch "no C compiler for the test shim"
else
    a=$(clip_into a.mp4 "$CASE_DIR" "${CLIP[@]}")
    b=$(clip_into b.mp4 "$CASE_DIR" "${OTHER[@]}")
    snap_dir "$CASE_DIR"
    shim_run SHIM_SIGNAL_AFTER_RENAME=2 SHIM_RENAME_TO=a.shrunk.mp4
    run_shrink "$a" "$b" --target $TARGET "${FAST[@]}" --json
    RUN_AS=()
    expect_rc 130
    # Two lines: the first input done (0), the second not run (interrupted, 130).
    [ "$(jl count "$OUT")" = 2 ] || err "$(grep -c '' "$OUT") JSON lines, expected 2 (done, not run)"
    [ "$(jl get "$OUT" 0 exit)" = 0 ] || err "the first input's JSON exit is $(jl get "$OUT" 0 exit), not 0"
    [ "$(jl get "$OUT" 1 error) $(jl get "$OUT" 1 exit)" = "interrupted 130" ] ||
        err "the second input's line: $(jl get "$OUT" 1 error) $(jl get "$OUT" 1 exit)"
    head -n 1 "$OUT" > "$CASE_DIR.first.json"
    [ -f "$CASE_DIR/a.shrunk.mp4" ] && check_output "$CASE_DIR/a.shrunk.mp4" "$a" $TARGET --json "$CASE_DIR.first.json"
    dir_expect "$CASE_DIR" a.shrunk.mp4
    no_leftovers "$CASE_DIR"
    case_end
fi

# ---- an input that grows while it is copied ("already fits") ----

case_begin grows_while_copied
if [ -z "$SHIM" ]; then
    skip grows_while_copied "no C compiler for the test shim"
else
    a=$(clip_into a.mp4 "$CASE_DIR" size=320x240 rate=25 dur=4 audio=sine)
    size=$(fsize "$a")
    target=$((size + 1000))          # fits as measured; 50 KB more does not
    snap_dir "$CASE_DIR"
    shim_run SHIM_GROW_PATH="$a" SHIM_GROW_BYTES=50000 SHIM_GROW_MARK="$CASE_TMP.grown"
    run_shrink "$a" --target $target --json
    RUN_AS=()
    if [ ! -e "$CASE_TMP.grown" ]; then
        err "the shim did not grow the input (no read of 64 KiB)"
    fi
    rm -f "$CASE_TMP.grown"
    expect_rc 3
    expect_json_error
    grep -qF "changed while" "$ERR" || err "stderr does not say the input changed: $(stderr_text)"
    if [ -e "$CASE_DIR/a.shrunk.mp4" ]; then
        err "an output was written: $(fsize "$CASE_DIR/a.shrunk.mp4") bytes for a target of $target"
    fi
    dir_expect "$CASE_DIR"
    no_leftovers "$CASE_DIR"
    case_end
fi

script_done
