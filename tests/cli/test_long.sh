#!/usr/bin/env bash
# Long films (src/job/long.c): decoded once, encoded in stretches under one
# budget, joined. SHRINK_STRETCH sets the stretch's length (and then any film
# of two stretches is encoded so), so short clips take the path a film of ten
# minutes and more takes. Checked by ffprobe/ffmpeg: under the target and
# filling it, every frame there with its time (the joins lose none), a
# keyframe opening each stretch, decodes without errors, audio kept; an
# interrupt leaves nothing behind.
# SPDX-License-Identifier: GPL-3.0-or-later
. "$(dirname "$0")/lib.sh"

CLIP=(size=320x180 rate=25 dur=12 audio=sine)

# keyframes FILE: the video keyframes' times, one a line
keyframes() {
    ffprobe -v error -select_streams v:0 -show_entries packet=pts_time,flags -of csv=p=0 "$1" |
        awk -F, '$2 ~ /K/ { print $1 }'
}

# long_case NAME CODEC VCODEC [SHRINK-ARGS...]: 12 s in stretches of 4 s
long_case() {
    local name=$1 codec=$2 vcodec=$3
    shift 3
    case_begin "$name"
    local in out k
    in=$(clip_into long.mp4 "$CASE_DIR" "${CLIP[@]}") || err "no clip"
    out="$CASE_DIR/out.mp4"
    snap_dir "$CASE_DIR"
    SHRINK_STRETCH=4 run_shrink "$in" -o "$out" --target 250k --codec "$codec" --json -v "$@"
    expect_rc 0
    grep -q "verbose: long film: 3 stretches" "$ERR" || err "not cut into 3 stretches: $(grep -m1 'long film' "$ERR")"
    grep -q "verbose: joined 3 stretches" "$ERR" || err "no join of 3 stretches in the log"
    if [ "$RC" = 0 ]; then
        check_output "$out" "$in" 250000 --json "$OUT" --fill 0.93 --vcodec "$vcodec"
        # Each stretch is its own encode: a keyframe at 0, 4 and 8 s (on the output's frame grid).
        k=$(keyframes "$out" | python3 -c '
import sys
t = [float(x) for x in sys.stdin.read().split()]
want = [0, 4, 8]
print(" ".join("%.2f" % x for x in t))
sys.exit(0 if all(any(abs(x - w) < 0.09 for x in t) for w in want) else 1)') ||
            err "keyframes at $k: none near one of 0, 4, 8 s"
    fi
    dir_expect "$CASE_DIR" out.mp4
    no_leftovers "$CASE_DIR"
    case_end
}

long_case long_x264 x264 h264 --height 180 --fps 25
long_case long_svtav1 svt-av1 av1 --height 180 --fps 25
# Frames dropped at the stage before the stretches: the output's grid runs on across them.
long_case long_fps_drop x264 h264 --height 180 --fps 10

# An interrupt while the stretches are encoded: 130, no output, no stretch or audio file left.
case_begin long_interrupt
in=$(clip_into long.mp4 "$CASE_DIR" "${CLIP[@]}") || err "no clip"
before=$(sha "$in")
snap_dir "$CASE_DIR"
SHRINK_STRETCH=4 TMPDIR="$CASE_TMP" "$SHRINK" "$in" -o "$CASE_DIR/out.mp4" --target 250k --codec x264 \
    --height 180 --fps 25 -v >"$OUT" 2>"$ERR" </dev/null &
pid=$!
handles "$pid" INT
# the second stretch is being encoded once the first is logged
for ((i = 0; i < 600; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    grep -q "verbose: stretch 1/3" "$ERR" && break
    nap 0.05
done
if kill -0 "$pid" 2>/dev/null; then
    kill -INT "$pid"
    wait "$pid"
    RC=$?
    expect_rc 130
    [ -e "$CASE_DIR/out.mp4" ] && err "an output was left"
    [ "$(sha "$in")" = "$before" ] || err "the input changed"
    dir_expect "$CASE_DIR"
    no_leftovers "$CASE_DIR"
    case_end
else
    wait "$pid"
    skip long_interrupt "finished before the signal"
fi

# The time budget (src/solver/timing.c): a film of ten minutes is planned
# against SH_LONG_TIME_BUDGET decodes of it (1.5 with --speed fast, none with
# --speed best); each choice weighed has its speed measured with both presets
# and a predicted time, and the chosen one is the best score once every
# doubling past the budget has cost 1.5 dB. Checked from --plan --json's own
# numbers, recomputed here: a choice that is not the best so, a budget that is
# not the measured decode times the factor, or a missing prediction fails.
# (No sound: ten minutes of AAC cost 5.5 s of CPU to make, three quarters of the clip, and the
# time rule weighs the picture's encodes; the sound of long films is test_long's cases above.)
TEN=(size=160x90 rate=24 dur=600 audio=none)
check_time_plan() {   # FILE FACTOR
    local why
    why=$(python3 "$CLI_DIR/timeplan.py" "$1" "$2") || err "${why:-the JSON of the plan is not readable}"
}

case_begin long_time_plan
in=$(clip_into ten.mp4 "$CASE_DIR" "${TEN[@]}") || err "no clip"
run_shrink "$in" --plan --json --target 1500k
expect_rc 0
[ "$RC" = 0 ] && check_time_plan "$OUT" 3
run_shrink "$in" --plan --json --target 1500k --speed fast
expect_rc 0
[ "$RC" = 0 ] && check_time_plan "$OUT" 1.5
# --speed best takes any time: nothing weighed, nothing predicted.
run_shrink "$in" --plan --json --target 1500k --speed best
expect_rc 0
[ "$(json_get "$OUT" time_budget)" = 0.0 ] || err "--speed best has a time budget: $(json_get "$OUT" time_budget)"
[ "$(json_get "$OUT" chosen.preset)" = final ] || err "--speed best chose the quick preset"
case_end

# The encode itself (full tier: 25 s of CPU): in stretches, under the target, and the
# result JSON says what the time was planned against and predicted.
if ! full_tier long_time_encode; then
    case_begin long_time_encode
    in=$(clip_into ten.mp4 "$CASE_DIR" "${TEN[@]}") || err "no clip"
    out="$CASE_DIR/out.mp4"
    run_shrink "$in" -o "$out" --target 6M --json -v
    expect_rc 0
    grep -q "verbose: long film: 10 stretches" "$ERR" || err "not cut into 10 stretches"
    if [ "$RC" = 0 ]; then
        check_output "$out" "$in" 6000000 --json "$OUT" --fill 0.95
        why=$(python3 -c '
import json, sys
o = json.loads(open(sys.argv[1]).read())
d, b, e = o["decode_seconds"], o["time_budget"], o["expected_seconds"]
if not (d and b and e) or abs(b - 3 * d) > 0.05 + 0.01 * b or o["encoder_preset"] not in ("final", "quick"):
    print("decode %r, budget %r, expected %r, preset %r" % (d, b, e, o["encoder_preset"]))
    sys.exit(1)' "$OUT") || err "result JSON: ${why:-unreadable}"
    fi
    no_leftovers "$CASE_DIR"
    case_end
fi

# A short clip has no time budget (its search is most of its time already).
case_begin long_short_no_budget
in=$(clip_into short.mp4 "$CASE_DIR" "${CLIP[@]}") || err "no clip"
run_shrink "$in" --plan --json --target 250k
expect_rc 0
[ "$(json_get "$OUT" time_budget)" = 0.0 ] || err "a 12 s clip has a time budget"
[ "$(json_get "$OUT" chosen.expected_seconds)" = 0.0 ] || err "a 12 s clip has an expected time"
case_end

script_done
