#!/usr/bin/env bash
# Signals: SIGINT -> 130, SIGTERM -> 143 (SIGHUP -> 129), at several moments
# of a run (analysis, encode); no output, no .part, no temp dir, input intact.
# A run that finished before the signal is skipped, not failed.
# SPDX-License-Identifier: GPL-3.0-or-later
. "$(dirname "$0")/lib.sh"

# 20 s of 720p: about 4 s of analysis then 4 s of encoding on 2 cores.
SRC=(size=1280x720 rate=25 dur=20 audio=noise)
TARGET=5MB

# wait_exit PID SECONDS: wait for PID to end (sets RC); SIGKILL it after SECONDS.
wait_exit() {
    local pid=$1 limit=$2 i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt $((limit * 20)) ]; do
        nap 0.05
        i=$((i + 1))
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        RC=killed
        err "still running ${limit}s after the signal; killed"
        return 1
    fi
    wait "$pid"
    RC=$?
}

# signal_case NAME SIGNAL WHEN [SECOND-SIGNAL-DELAY [SHRINK-ARGS...]]
#   WHEN: seconds after the start, or "encode" (0.5 s after the first .part appears)
signal_case() {
    local name=$1 sig=$2 when=$3 again=${4:-}
    local extra=("${@:5}")
    local want
    case "$sig" in INT) want=130 ;; TERM) want=143 ;; HUP) want=129 ;; esac
    case_begin "$name"
    local in before out pid i started
    in=$(clip_into sig.mp4 "$CASE_DIR" "${SRC[@]}") || { err "no clip"; case_end; return; }
    before=$(sha "$in")
    out="$CASE_DIR/sig.shrunk.mp4"
    snap_dir "$CASE_DIR"
    TMPDIR="$CASE_TMP" "$SHRINK" "$in" --target "$TARGET" --json "${extra[@]}" >"$OUT" 2>"$ERR" </dev/null &
    pid=$!
    # Count from when shrink handles the signal, not from exec: on a loaded machine the
    # dynamic loader alone can take longer than 0.3 s, and a signal before main() has
    # installed its handlers kills by default (143, no JSON), which is not what is tested.
    handles "$pid" "$sig"
    if [ "$when" = encode ]; then
        # pass 2 writes a .part beside the output: then it is encoding
        started=""
        for ((i = 0; i < 1200; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            if compgen -G "$CASE_DIR/.sig.shrunk.mp4.*.part" >/dev/null; then started=1; break; fi
            nap 0.05
        done
        [ -n "$started" ] && sleep 0.5
    else
        sleep "$when"
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
        wait "$pid"
        rm -f "$out"
        skip "$name" "shrink ended (exit $?) before the signal at $when"
        return
    fi
    kill -"$sig" "$pid"
    if [ -n "$again" ]; then
        sleep "$again"
        kill -"$sig" "$pid" 2>/dev/null
    fi
    wait_exit "$pid" "${EXIT_WITHIN:-30}"
    if [ "$RC" = 0 ]; then
        # it finished in the instant between our check and the signal
        rm -f "$out"
        skip "$name" "shrink finished before the signal at $when took effect"
        return
    fi
    expect_rc "$want" "shrink with SIG$sig at $when"
    [ -e "$out" ] && err "output written despite SIG$sig"
    [ "$(sha "$in")" = "$before" ] || err "the input changed"
    if [ -z "$again" ]; then
        # one signal: the job unwinds and reports
        if json_valid "$OUT"; then
            [ "$(json_get "$OUT" error)" = interrupted ] || err "JSON error is $(json_get "$OUT" error)"
            [ "$(json_get "$OUT" output)" = null ] || err "JSON output is $(json_get "$OUT" output)"
        else
            err "stdout is not one JSON object: $(head -c 200 "$OUT")"
        fi
    fi
    dir_expect "$CASE_DIR"
    no_leftovers "$CASE_DIR"
    case_end
}

make_clip sig.mp4 "${SRC[@]}" >/dev/null

signal_case int_0.3s    INT  0.3
signal_case term_0.3s   TERM 0.3
signal_case int_1s      INT  1
signal_case term_1s     TERM 1
signal_case int_2.5s    INT  2.5
signal_case term_2.5s   TERM 2.5
# During the search: the sample encodes poll the flag at every frame, so the
# run ends within seconds, not when the search would have (6 s later on a
# one-minute clip before they did). And SVT-AV1 1.4 never returns from closing
# a stream that got no frame, as an encoder interrupted before its first frame
# is (this hung until such an encoder got a placeholder frame and an EOS).
if ffmpeg -hide_banner -encoders 2>/dev/null | grep -qE "^ V\S* libsvtav1 "; then
    EXIT_WITHIN=10 signal_case int_search_svt INT 0.3 "" --codec svt-av1
fi
# Ctrl-C twice (an impatient user): the second one exits at once, still clean.
signal_case int_twice_analysis INT 1      0.02

# The encode cases wait for the second pass, after a whole search and a first pass: 16 s
# of CPU each on the clip above. What they test is the encode: half the film, x264 (two
# passes) with the picture and rate pinned (3 sample encodes instead of every encoder's).
# SIGINT and SIGTERM in the second pass (a .part beside the output) are test_faults.sh's
# int_pass2 and term_pass2, which assert all that int_encode and term_encode here did
# (exit code, no output, JSON error interrupted and output null, input intact, nothing
# left): SIGHUP and a second SIGINT are tested here.
SRC=(size=1280x720 rate=25 dur=10 audio=noise)
TARGET=2500000
make_clip sig.mp4 "${SRC[@]}" >/dev/null
PIN=(--codec x264 --height 720 --fps 25)
signal_case hup_encode  HUP  encode "" "${PIN[@]}"
signal_case int_twice_encode   INT encode 0.02 "${PIN[@]}"

script_done
