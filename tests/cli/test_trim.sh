#!/usr/bin/env bash
# Trim and select: --start, --end, --duration (seconds or [HH:]MM:SS.mmm);
# the output lasts end - start within a frame, starts at 0, and shows the
# source from the start (a luma ramp tells the frames apart); audio is cut
# with it. --audio-track N picks the N-th audio stream (told apart by
# frequency and channel count); a missing track is exit 3, a trim outside
# the input exit 2.
# SPDX-License-Identifier: GPL-3.0-or-later
. "$(dirname "$0")/lib.sh"


# 6 s at 25 fps, flat frames that say which they are: frame N has luma
# 16 + 20 (N mod 10) (the last digit, exactly) and Cb 16 + 1.4 N (roughly N).
RAMP="$CLIP_DIR/ramp.mp4"
if [ ! -s "$RAMP" ]; then
    ffmpeg -nostdin -v error -y -f lavfi -i "nullsrc=s=320x240:r=25,format=yuv420p,geq=lum='16+20*mod(N,10)':cb='16+1.4*N':cr=128" \
        -f lavfi -i "sine=frequency=440:sample_rate=48000" -t 6 -map 0:v -map 1:a \
        -c:v libx264 -preset ultrafast -qp 0 -pix_fmt yuv420p -c:a aac "$RAMP.tmp.mp4" && mv "$RAMP.tmp.mp4" "$RAMP"
fi
# 4 s with two audio tracks: 1 = mono 440 Hz, 2 = stereo 1000 Hz.
TWO="$CLIP_DIR/two_audio.mkv"
if [ ! -s "$TWO" ]; then
    ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=320x240:rate=25" \
        -f lavfi -i "sine=frequency=440:sample_rate=48000" \
        -f lavfi -i "aevalsrc=0.4*sin(2*PI*1000*t)|0.4*sin(2*PI*1000*t):s=48000:c=stereo" \
        -t 4 -map 0:v -map 1:a -map 2:a -c:v libx264 -preset ultrafast -crf 23 -pix_fmt yuv420p \
        -c:a aac "$TWO.tmp.mkv" && mv "$TWO.tmp.mkv" "$TWO"
fi

# frame_no FILE first|last: which ramp frame the first or last frame of FILE is.
frame_no() {
    ffprobe -v error -f lavfi -i "movie=$(printf '%s' "$1" | sed 's/[\\:]/\\&/g'),signalstats" \
        -show_entries frame_tags=lavfi.signalstats.YAVG,lavfi.signalstats.UAVG -of csv=p=0 |
        { [ "$2" = first ] && head -1 || tail -1; } | python3 -c '
import sys
y, u = (float(x) for x in sys.stdin.read().strip().split(",")[:2])
digit = round((y - 16) / 20) % 10
coarse = (u - 16) / 1.4
# the N with that last digit nearest the coarse estimate, or ? when unclear
n = min((k for k in range(0, 200) if k % 10 == digit), key=lambda k: abs(k - coarse))
print(n if abs(y - 16 - 20 * digit) < 6 and abs(n - coarse) < 4 else "?(y=%.1f u=%.1f)" % (y, u))'
}
# near A B TOL: |A - B| <= TOL
near() { python3 -c "import sys; a, b, t = map(float, sys.argv[1:]); sys.exit(abs(a - b) > t)" "$@"; }
stream_dur() { ffprobe -v error -select_streams "$2" -show_entries stream=duration -of csv=p=0 "$1" | head -1; }

# trim_case NAME START_FRAME END_FRAME ARGS...: the output shows source frames
# START_FRAME .. END_FRAME-1, lasts (END-START)/25 s within a frame, video and audio.
trim_case() {
    local name=$1 f0=$2 f1=$3
    shift 3
    case_begin "$name"
    local in out want d
    in=$(cp "$RAMP" "$CASE_DIR/ramp.mp4" && echo "$CASE_DIR/ramp.mp4")
    out="$CASE_DIR/ramp.shrunk.mp4"
    run_shrink "$in" --target 400k --json "$@"
    expect_rc 0 "shrink $*"
    if [ -s "$out" ]; then
        want=$(python3 -c "print(($f1 - $f0) / 25)")
        d=$(stream_dur "$out" v)
        near "$d" "$want" 0.042 || err "video lasts $d s, expected $want"
        d=$(stream_dur "$out" a)
        [ -n "$d" ] || err "no audio stream"
        [ -n "$d" ] && { near "$d" "$want" 0.125 || err "audio lasts $d s, expected $want"; }
        d=$(fmt_duration "$out")
        near "$d" "$want" 0.125 || err "the file lasts $d s, expected $want"
        d=$(jl get "$OUT" 0 duration)
        near "$d" "$want" 0.042 || err "JSON duration $d, expected $want"
        start=$(probe "$out" video.pkt_start)
        near "$start" 0 0.002 || err "video starts at $start s"
        [ "$(probe "$out" video.r_frame_rate)" = 25/1 ] || err "the frame rate changed: $(probe "$out" video.r_frame_rate)"
        n=$(frame_no "$out" first)
        [ "$n" = "$f0" ] || err "the first frame is source frame $n, expected $f0"
        n=$(frame_no "$out" last)
        [ "$n" = "$((f1 - 1))" ] || err "the last frame is source frame $n, expected $((f1 - 1))"
    fi
    no_leftovers "$CASE_DIR"
    case_end
}

# start_end with the solver's search (its samples are taken inside the trim); the others
# --no-search: they test the cut, and the rule keeps the picture and the 25 fps as well.
trim_case start_end       50 113 --start 2 --end 4.52
trim_case hms_duration    25 100 --start 00:00:01.000 --duration 0:03 --no-search
trim_case start_only      100 150 --start 4 --no-search
trim_case end_only        0 40 --end 1.6 --no-search
# 2.02 s falls inside frame 50 (2.00-2.04): that frame opens the output, at 0.
trim_case start_mid_frame 50 100 --start 2.02 --end 4 --no-search

# Variable rate: every 10th ramp frame (0.4 s apart) in AVI, each declaring
# 0.04 s. The frame on screen at 2.1 s is frame 50 (shown 2.0-2.4), and frame
# 70 stays until the end at 3.1: 1 s, opened by 50, closed by 70.
case_begin vfr_sparse
sparse="$CLIP_DIR/sparse.avi"
[ -s "$sparse" ] || ffmpeg -nostdin -v error -y -i "$RAMP" -vf "select='not(mod(n\,10))'" -vsync vfr -an \
    -c:v mjpeg -q:v 3 "$sparse.tmp.avi" && mv "$sparse.tmp.avi" "$sparse"
cp "$sparse" "$CASE_DIR/sparse.avi"
out="$CASE_DIR/sparse.shrunk.mp4"
run_shrink "$CASE_DIR/sparse.avi" --target 150k --start 2.1 --end 3.1
expect_rc 0
if [ -s "$out" ]; then
    d=$(stream_dur "$out" v)
    near "$d" 1.0 0.042 || err "video lasts $d s, expected 1.0"
    start=$(probe "$out" video.pkt_start)
    near "$start" 0 0.002 || err "video starts at $start s"
    n=$(frame_no "$out" first)
    [ "$n" = 50 ] || err "the first frame is source frame $n, expected 50"
    n=$(frame_no "$out" last)
    [ "$n" = 70 ] || err "the last frame is source frame $n, expected 70"
fi
no_leftovers "$CASE_DIR"
case_end

# Outside the input: exit 2, the message gives the video's length.
case_begin start_past_end
cp "$RAMP" "$CASE_DIR/ramp.mp4"
snap_dir "$CASE_DIR"
run_shrink "$CASE_DIR/ramp.mp4" --target 400k --start 6.5
expect_rc 2
grep -q "ramp.mp4: error: .*6.000 s" "$ERR" || err "stderr: $(stderr_text)"
dir_expect "$CASE_DIR"
no_leftovers "$CASE_DIR"
case_end

case_begin trim_usage
cp "$RAMP" "$CASE_DIR/ramp.mp4"
for args in "--start 3 --end 2" "--start 2 --end 2" "--end 0" "--duration 0" "--start 1:75" "--start abc" \
            "--start -1" "--end 1 --duration 1" "--start 1e2" "--audio-track 0" "--audio-track x" \
            "--audio-track 1 --no-audio"; do
    # shellcheck disable=SC2086 # word splitting wanted
    run_shrink "$CASE_DIR/ramp.mp4" --target 400k $args
    expect_rc 2 "shrink $args"
    [ -s "$OUT" ] && err "stdout not empty for $args"
done
case_end

# freq FILE: the audio's frequency, from zero crossings of the mono downmix.
freq() {
    ffmpeg -nostdin -v error -i "$1" -map 0:a:0 -ac 1 -ar 48000 -f s16le - | python3 -c '
import sys, array
a = array.array("h"); a.frombytes(sys.stdin.buffer.read())
s = a[4800:-4800]                       # away from the ends
z = sum(1 for x, y in zip(s, s[1:]) if (x < 0) != (y < 0))
print(round(z / 2 / (len(s) / 48000.0)))'
}

# audio_case NAME TRACK FREQ CHANNELS
audio_case() {
    case_begin "$1"
    cp "$TWO" "$CASE_DIR/two.mkv"
    # (--no-search: the track is chosen before the solver, which only measures the video)
    run_shrink "$CASE_DIR/two.mkv" --target 400k --audio-track "$2" --no-search --json
    expect_rc 0
    local out="$CASE_DIR/two.shrunk.mp4" f
    if [ -s "$out" ]; then
        check_output "$out" "$TWO" 400000 --json "$OUT" --audio yes --channels "$4"
        f=$(freq "$out")
        near "$f" "$3" 15 || err "the audio is at $f Hz: not track $2 ($3 Hz)"
    fi
    no_leftovers "$CASE_DIR"
    case_end
}
audio_case audio_track_1 1 440 1
audio_case audio_track_2 2 1000 2

case_begin audio_track_missing
cp "$TWO" "$CASE_DIR/two.mkv"
snap_dir "$CASE_DIR"
run_shrink "$CASE_DIR/two.mkv" --target 400k --audio-track 3 --json
expect_rc 3
expect_json_error
grep -q "no audio track 3 (it has 2)" "$ERR" || err "stderr: $(stderr_text)"
dir_expect "$CASE_DIR"
no_leftovers "$CASE_DIR"
case_end

script_done
