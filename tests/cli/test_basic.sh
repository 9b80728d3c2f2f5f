#!/usr/bin/env bash
# Basic runs on synthetic clips: the output fits and fills the target, plays,
# keeps the duration; the input is untouched; naming, -o, --no-audio, stdout.
# SPDX-License-Identifier: GPL-3.0-or-later
. "$(dirname "$0")/lib.sh"

# shrink_case NAME CLIP TARGET [check_output options...] -- [make_clip options...]
# Copies the clip into the case dir, runs `shrink CLIP --target TARGET --json`
# there, and checks the default output beside the input.
shrink_case() {
    local name=$1 clip=$2 target=$3
    shift 3
    local -a copts=() mopts=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do copts+=("$1"); shift; done
    [ $# -gt 0 ] && shift
    mopts=("$@")
    case_begin "$name"
    local in out before
    if ! in=$(clip_into "$clip" "$CASE_DIR" "${mopts[@]}"); then
        err "could not make the clip"; case_end; return
    fi
    out="$CASE_DIR/${clip%.*}.shrunk.mp4"
    before=$(sha "$in")
    snap_dir "$CASE_DIR"
    run_shrink "$in" --target "$target" --json "${CASE_ARGS[@]}"
    expect_rc 0
    [ "$(sha "$in")" = "$before" ] || err "the input changed"
    if [ "$RC" = 0 ]; then
        check_output "$out" "$in" "$(json_get "$OUT" target)" --json "$OUT" --expect-output "$out" "${copts[@]}"
    fi
    dir_expect "$CASE_DIR" "$(basename "$out")"
    no_leftovers "$CASE_DIR"
    case_end
}

A360=(size=640x360 rate=25 dur=6 audio=sine)
CASE_ARGS=()

# One 6 s 640x360 clip at three budgets: generous, medium, starved (the bytes a second the
# 10 s clip had at 500k, 100k and 30k: the same choices, 40% less to decode and encode).
shrink_case a360_300k a360.mp4 300k --fill 0.9 --audio yes -- "${A360[@]}"
shrink_case a360_60k a360.mp4 60k --fill 0.9 -- "${A360[@]}"
shrink_case a360_18k a360.mp4 18k --fill 0.9 -- "${A360[@]}"
# The other inputs with --speed fast --no-search (CASE_ARGS): they test reading each kind of
# input and filling the budget, not the choice of picture, rate or encoder (the a360 cases
# above search it all; --no-search took 40% of the CPU off each).
CASE_ARGS=(--speed fast --no-search)
# No audio track at all.
shrink_case noaudio_200k silent.mp4 200k --fill 0.9 --audio no -- size=640x360 rate=25 dur=10 audio=none
# 30 fps 720p, noisy audio.
shrink_case hd30_600k hd30.mp4 600k --fill 0.9 --audio yes -- size=1280x720 rate=30 dur=5 audio=noise
# Stereo in, a budget big enough to keep two channels.
shrink_case stereo_1MB stereo.mp4 1MB --fill 0.9 --audio yes --channels 2 -- size=640x360 rate=25 dur=8 audio=sine ach=2
# Other sources and containers: mandelbrot in Matroska, SMPTE bars as MJPEG + PCM in AVI,
# VP8 + Opus in WebM.
shrink_case mandel_mkv mandel.mkv 150k --fill 0.9 --audio yes -- src=mandelbrot size=480x270 rate=25 dur=6 audio=noise
shrink_case bars_avi bars.avi 80k --fill 0.9 -- src=smptebars size=320x240 rate=15 dur=6 audio=sine arate=22050
shrink_case vp8_webm vp8.webm 120k --fill 0.9 --audio yes -- size=480x270 rate=25 dur=6 audio=sine
# Display rotation and non-square pixels survive.
shrink_case rotate90 rot90.mp4 150k --fill 0.9 --rotation 90 -- size=480x270 rate=25 dur=5 audio=sine rotate=90
shrink_case sar_4_3 sar43.mp4 150k --fill 0.9 --dar-of "$(make_clip sar43.mp4 size=480x360 rate=25 dur=5 audio=none sar=4/3)" -- size=480x360 rate=25 dur=5 audio=none sar=4/3

# The cases below check behaviour (paths, names, options, output lines), not how well a
# budget is filled or which encoder wins: a short small clip, --speed fast, --no-search.
SMALL=(size=320x180 rate=25 dur=3 audio=sine)

# -o: the output goes where asked, nothing beside the input; a relative -o is
# relative to the working directory.
case_begin output_option
in=$(clip_into small.mp4 "$CASE_DIR" "${SMALL[@]}")
mkdir -p "$CASE_DIR/sub"
snap_dir "$CASE_DIR"
snap_dir "$CASE_DIR/sub"
cd "$CASE_DIR" || exit 1
run_shrink small.mp4 -o sub/custom.mp4 --target 40k --speed fast --no-search --json
cd - >/dev/null || exit 1
expect_rc 0
[ "$RC" = 0 ] && check_output "$CASE_DIR/sub/custom.mp4" "$in" 40000 --json "$OUT" --fill 0.9 --expect-output sub/custom.mp4
dir_expect "$CASE_DIR"
dir_expect "$CASE_DIR/sub" custom.mp4
no_leftovers "$CASE_DIR" "$CASE_DIR/sub"
case_end

# Default name, relative input: STEM.shrunk.mp4 in the same (current) dir;
# only the last extension is replaced.
case_begin default_name
in=$(make_clip small.mp4 "${SMALL[@]}")
cp "$in" "$CASE_DIR/my.clip.v2.mp4"
snap_dir "$CASE_DIR"
cd "$CASE_DIR" || exit 1
run_shrink my.clip.v2.mp4 --target 30k --speed fast --no-search -q
cd - >/dev/null || exit 1
expect_rc 0
dir_expect "$CASE_DIR" my.clip.v2.shrunk.mp4
[ -s "$CASE_DIR/my.clip.v2.shrunk.mp4" ] && check_output "$CASE_DIR/my.clip.v2.shrunk.mp4" "$in" 30000 --fill 0.9
no_leftovers "$CASE_DIR"
case_end

# --no-audio: no audio stream, the video gets the whole budget.
case_begin no_audio_option
in=$(clip_into small.mp4 "$CASE_DIR" "${SMALL[@]}")
before=$(sha "$in")
run_shrink "$in" --target 30k --speed fast --no-search --no-audio --json -o "$CASE_DIR/na.mp4"
expect_rc 0
[ "$RC" = 0 ] && check_output "$CASE_DIR/na.mp4" "$in" 30000 --json "$OUT" --fill 0.9 --audio no
[ "$(json_get "$OUT" audio)" = null ] || err "JSON audio is $(json_get "$OUT" audio) with --no-audio"
[ "$(sha "$in")" = "$before" ] || err "the input changed"
no_leftovers "$CASE_DIR"
case_end

# Without --json: one result line on stdout naming the output, nothing on stderr.
case_begin summary_line
in=$(clip_into small.mp4 "$CASE_DIR" "${SMALL[@]}")
run_shrink "$in" --target 30k --speed fast --no-search -o "$CASE_DIR/s.mp4"
expect_rc 0
lines=$(grep -c '' "$OUT")
[ "$lines" = 1 ] || err "stdout has $lines lines, expected 1: $(head -c 300 "$OUT")"
grep -qF "$CASE_DIR/s.mp4" "$OUT" || err "stdout does not name the output: $(head -c 300 "$OUT")"
json_valid "$OUT" && err "stdout is JSON without --json"
[ -s "$ERR" ] && err "stderr not empty: $(stderr_text)"
[ -s "$CASE_DIR/s.mp4" ] && check_output "$CASE_DIR/s.mp4" "$in" 30000
no_leftovers "$CASE_DIR"
case_end

# -q: nothing on stdout or stderr, the file is still written.
case_begin quiet
in=$(clip_into small.mp4 "$CASE_DIR" "${SMALL[@]}")
run_shrink "$in" --target 30k --speed fast --no-search -q -o "$CASE_DIR/q.mp4"
expect_rc 0
[ -s "$OUT" ] && err "stdout not empty with -q: $(head -c 300 "$OUT")"
[ -s "$ERR" ] && err "stderr not empty with -q: $(stderr_text)"
[ -s "$CASE_DIR/q.mp4" ] || err "no output with -q"
[ -s "$CASE_DIR/q.mp4" ] && check_output "$CASE_DIR/q.mp4" "$in" 30000
no_leftovers "$CASE_DIR"
case_end

# --json: exactly one JSON object on stdout, with every documented key.
case_begin json_keys
in=$(clip_into small.mp4 "$CASE_DIR" "${SMALL[@]}")
run_shrink "$in" --target 30k --speed fast --no-search --json -o "$CASE_DIR/j.mp4"
expect_rc 0
if ! json_valid "$OUT"; then
    err "stdout is not one JSON object: $(head -c 300 "$OUT")"
else
    for k in input output target bytes ratio codec encoder width height fps duration audio video_bitrate attempts seconds error; do
        json_get "$OUT" "$k" >/dev/null || err "JSON lacks $k"
    done
    json_get "$OUT" min_bytes >/dev/null && err "JSON has min_bytes on success"
    [ "$(json_get "$OUT" input)" = "$in" ] || err "JSON input $(json_get "$OUT" input)"
    [ "$(json_get "$OUT" error)" = null ] || err "JSON error $(json_get "$OUT" error)"
    [ "$(json_get "$OUT" audio.codec)" = opus ] || err "JSON audio.codec $(json_get "$OUT" audio.codec)"
    enc=$(json_get "$OUT" encoder)
    [ -n "$enc" ] && [ "$enc" != null ] || err "JSON encoder '$enc'"
    a=$(json_get "$OUT" attempts)
    [ "$a" -ge 1 ] 2>/dev/null || err "JSON attempts $a"
fi
no_leftovers "$CASE_DIR"
case_end

script_done
