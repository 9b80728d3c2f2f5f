#!/usr/bin/env bash
# Errors: usage (2), unreadable or non-video input (3), target too small (4,
# with the smallest size that works, which must then work). Nothing is left
# behind in any case.
# SPDX-License-Identifier: GPL-3.0-or-later
. "$(dirname "$0")/lib.sh"

CLIP=(size=320x240 rate=25 dur=5 audio=sine)

# ---- usage: exit 2, a message on stderr, no file written ----
usage_case() {   # NAME ARGS... (run in a dir holding x.mp4 and y.mp4)
    local name=$1
    shift
    case_begin "usage_$name"
    clip_into x.mp4 "$CASE_DIR" "${CLIP[@]}" >/dev/null
    cp "$CASE_DIR/x.mp4" "$CASE_DIR/y.mp4"
    snap_dir "$CASE_DIR"
    cd "$CASE_DIR" || exit 1
    run_shrink "$@"
    cd - >/dev/null || exit 1
    expect_rc 2 "shrink $*"
    [ -s "$ERR" ] || err "nothing on stderr"
    [ -s "$OUT" ] && err "stdout not empty: $(head -c 200 "$OUT")"
    dir_expect "$CASE_DIR"
    no_leftovers "$CASE_DIR"
    case_end
}
usage_case no_args
usage_case no_target       x.mp4
usage_case no_target_json  x.mp4 --json
usage_case target_no_value x.mp4 --target
usage_case bad_unit        x.mp4 --target 12XB
usage_case negative        x.mp4 --target -5MB
usage_case not_a_number    x.mp4 --target lots
usage_case two_inputs_one_output x.mp4 y.mp4 --target 1MB -o z.mp4
usage_case unknown_option  x.mp4 --target 1MB --frobnicate
usage_case unknown_short   x.mp4 --target 1MB -Z
usage_case height_fraction x.mp4 --target 1MB --height 0.5
usage_case max_height_fraction x.mp4 --target 1MB --max-height 240.5
usage_case bad_format     x.mp4 --target 1MB --format avi
usage_case bad_speed      x.mp4 --target 1MB --speed ludicrous

# Options the job finds impossible together (the format against -o's
# extension, an encoder that does not exist or cannot write the format): exit
# 2 and a message naming both, the file's result line on stdout, nothing written.
option_case() {   # NAME WORDS-IN-MESSAGE -- ARGS...
    local name=$1 words=() w
    shift
    while [ "$1" != -- ]; do words+=("$1"); shift; done
    shift
    case_begin "options_$name"
    clip_into x.mp4 "$CASE_DIR" "${CLIP[@]}" >/dev/null
    snap_dir "$CASE_DIR"
    cd "$CASE_DIR" || exit 1
    run_shrink "$@"
    cd - >/dev/null || exit 1
    expect_rc 2 "shrink $*"
    for w in "${words[@]}"; do
        grep -q -- "$w" "$ERR" || err "stderr does not say '$w': $(head -c 300 "$ERR")"
    done
    [ "$(grep -c . "$ERR")" = 1 ] || err "not one line on stderr: $(head -c 300 "$ERR")"
    dir_expect "$CASE_DIR"
    no_leftovers "$CASE_DIR"
    case_end
}
option_case ext_vs_format gif mp4 -- x.mp4 --target 1MB -o z.gif --format mp4
option_case unknown_ext .avi -- x.mp4 --target 1MB -o z.avi
option_case unknown_codec nosuchcodec mp4 -- x.mp4 --target 1MB --codec nosuchcodec

# ---- input errors: exit 3, one stderr line naming the file ----
input_case() {   # NAME FILE-NAME (made by the caller in $CASE_DIR)
    local name=$1 file=$2
    snap_dir "$CASE_DIR"
    run_shrink "$CASE_DIR/$file" --target 1MB --json
    expect_rc 3
    expect_one_line "$file"
    expect_json_error
    dir_expect "$CASE_DIR"
    no_leftovers "$CASE_DIR"
    case_end
}
case_begin missing_file;  input_case missing_file no-such-file.mp4
case_begin directory;     mkdir "$CASE_DIR/adir.mp4"; input_case directory adir.mp4
case_begin zero_bytes;    : > "$CASE_DIR/empty.mp4"; input_case zero_bytes empty.mp4
case_begin text_file;     printf 'hello, this is not a video\n%.0s' {1..50} > "$CASE_DIR/notes.mp4"; input_case text_file notes.mp4
case_begin random_bytes;  head -c 200000 /dev/urandom > "$CASE_DIR/noise.mp4"; input_case random_bytes noise.mp4
case_begin audio_only
ffmpeg -nostdin -v error -f lavfi -i sine=duration=3 -c:a aac "$CASE_DIR/song.m4a"
input_case audio_only song.m4a
case_begin unreadable_file
clip_into x.mp4 "$CASE_DIR" "${CLIP[@]}" >/dev/null
chmod 000 "$CASE_DIR/x.mp4"
if [ "$(id -u)" = 0 ]; then
    # root reads anything: run as nobody, who may enter the dir but not read x.mp4
    chmod o+x "$SH_TEST_TMP" "$TEST_DIR"; chmod o+rwx "$CASE_DIR" "$CASE_TMP"
    if command -v setpriv >/dev/null; then
        RUN_AS=(setpriv --reuid=65534 --regid=65534 --clear-groups)
        input_case unreadable_file x.mp4
        RUN_AS=()
    else
        skip unreadable_file "root without setpriv"
    fi
else
    input_case unreadable_file x.mp4
fi

# ---- target too small: exit 4, the smallest size in the message and the JSON ----
case_begin too_small
in=$(clip_into long.mp4 "$CASE_DIR" size=320x240 rate=25 dur=60 audio=sine)
before=$(sha "$in")
snap_dir "$CASE_DIR"
run_shrink "$in" --target 500 --json
expect_rc 4
expect_json_error
min=$(sed -n 's/.*--target \([0-9][0-9]*\).*/\1/p' "$ERR" | head -1)
[ -n "$min" ] || err "stderr does not give the smallest size as '--target N': $(stderr_text)"
grep -qF "long.mp4" "$ERR" || err "stderr does not name the input: $(stderr_text)"
jmin=$(json_get "$OUT" min_bytes)
[ -n "$jmin" ] || err "JSON has no min_bytes"
[ -n "$min" ] && [ -n "$jmin" ] && [ "$min" != "$jmin" ] && err "stderr says $min, JSON min_bytes $jmin"
[ -n "$min" ] && [ "$min" -le 500 ] && err "smallest size $min is not above the target 500"
[ "$(json_get "$OUT" error)" = "target too small" ] || err "JSON error: $(json_get "$OUT" error)"
[ "$(sha "$in")" = "$before" ] || err "the input changed"
dir_expect "$CASE_DIR"
no_leftovers "$CASE_DIR"
case_end

# ... and that size works: exit 0 and a file no larger than it.
case_begin too_small_then_min
if [ -z "${min:-}" ]; then
    skip too_small_then_min "no smallest size from too_small"
else
    in=$(clip_into long.mp4 "$CASE_DIR" size=320x240 rate=25 dur=60 audio=sine)
    snap_dir "$CASE_DIR"
    run_shrink "$in" --target "$min" --json
    expect_rc 0 "shrink --target $min (the size exit 4 suggested)"
    if [ "$RC" = 0 ]; then
        check_output "$CASE_DIR/long.shrunk.mp4" "$in" "$min" --json "$OUT"
        dir_expect "$CASE_DIR" long.shrunk.mp4
    else
        dir_expect "$CASE_DIR"
    fi
    no_leftovers "$CASE_DIR"
    case_end
fi

# A short clip just under what it needs.
case_begin too_small_short
in=$(clip_into x.mp4 "$CASE_DIR" "${CLIP[@]}")
run_shrink "$in" --target 300 --json
expect_rc 4
min2=$(json_get "$OUT" min_bytes)
[ -n "$min2" ] || err "JSON has no min_bytes"
grep -q -- "--target ${min2:-X}\b" "$ERR" || err "stderr does not say --target ${min2:-?}: $(stderr_text)"
no_leftovers "$CASE_DIR"
case_end
case_begin too_small_short_then_min
if [ -n "${min2:-}" ]; then
    in=$(clip_into x.mp4 "$CASE_DIR" "${CLIP[@]}")
    run_shrink "$in" --target "$min2" --json
    expect_rc 0 "shrink --target $min2 (the size exit 4 suggested)"
    [ "$RC" = 0 ] && check_output "$CASE_DIR/x.shrunk.mp4" "$in" "$min2" --json "$OUT"
    no_leftovers "$CASE_DIR"
    case_end
else
    skip too_small_short_then_min "no smallest size"
fi

script_done
