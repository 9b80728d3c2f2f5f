#!/usr/bin/env bash
# Subtitles, chapters and the title (issue 18): text subtitle tracks are
# kept (mov_text in MP4, SubRip as it is in Matroska), with their language,
# their cues cut to the trim and moved with it (a cue at 12 s is at 7 s
# after --start 5), chapters cut and moved the same way, the title kept,
# all under the target; --subs none drops the tracks, --subs N keeps one; a
# missing track is exit 3, a bad --subs exit 2, a track that does not decode
# exit 3 with one line. Checked with ffprobe/ffmpeg.
# SPDX-License-Identifier: GPL-3.0-or-later
. "$(dirname "$0")/lib.sh"

# Two SubRip tracks (English, French), three chapters and a title on 16 s of small video (160x90 at
# 10 fps: the cases are about the subtitles, and the quick tier's CPU is a budget).
SUBDIR="$CLIP_DIR/subs"
mkdir -p "$SUBDIR"
cat > "$SUBDIR/en.srt" <<'EOF'
1
00:00:01,000 --> 00:00:03,000
One

2
00:00:04,000 --> 00:00:06,000
Four to six

3
00:00:12,000 --> 00:00:14,000
Twelve
EOF
cat > "$SUBDIR/fr.srt" <<'EOF'
1
00:00:02,000 --> 00:00:03,500
Deux

2
00:00:12,500 --> 00:00:13,500
Douze et demi
EOF
# Latin-1, as old rips are: not the UTF-8 a SubRip track must be.
printf '1\n00:00:01,000 --> 00:00:02,000\nCaf\xe9\n' > "$SUBDIR/latin1.srt"
cat > "$SUBDIR/meta.txt" <<'EOF'
;FFMETADATA1
title=The Compression War
[CHAPTER]
TIMEBASE=1/1000
START=0
END=6000
title=Opening
[CHAPTER]
TIMEBASE=1/1000
START=6000
END=10000
title=Middle
[CHAPTER]
TIMEBASE=1/1000
START=10000
END=16000
title=End
EOF

# with_subs OUT AUDIO SCODEC SRT...: the 16 s clip (with sound: AUDIO sine, or none) with these
# subtitle files (eng, fre, ...) and the chapters. (An MKV made from an MP4 with AAC is shifted
# by the AAC's priming, its chapters not: the Matroska inputs have no sound.)
with_subs() {
    local out=$1 audio=$2 scodec=$3 base langs=(eng fre ger) i=0 n
    shift 3
    [ -s "$out" ] && return 0
    base=$(make_clip subs_base.mp4 size=160x90 rate=10 dur=16 audio="$audio") || return 1
    local -a cmd=(ffmpeg -nostdin -v error -y -i "$base")
    for s in "$@"; do cmd+=(-i "$s"); done
    n=$(( $# + 1 ))
    cmd+=(-f ffmetadata -i "$SUBDIR/meta.txt" -map 0:v)
    [ "$audio" != none ] && cmd+=(-map 0:a)
    for ((i = 1; i < n; i++)); do cmd+=(-map "$i:s"); done
    cmd+=(-map_metadata "$n" -map_chapters "$n" -c:v copy -c:a copy -c:s "$scodec")
    for ((i = 0; i < n - 1; i++)); do cmd+=(-metadata:s:s:$i "language=${langs[$i]}"); done
    "${cmd[@]}" "$out.tmp.${out##*.}" && mv "$out.tmp.${out##*.}" "$out"
}
MKV="$SUBDIR/two_srt.mkv"
MP4="$SUBDIR/two_movtext.mp4"
BAD="$SUBDIR/latin1.mkv"
with_subs "$MKV" none srt "$SUBDIR/en.srt" "$SUBDIR/fr.srt"
with_subs "$MP4" sine mov_text "$SUBDIR/en.srt" "$SUBDIR/fr.srt"
with_subs "$BAD" none copy "$SUBDIR/latin1.srt"

# facts FILE: the folder where subsfacts.py has put what these read of FILE (made once a
# file: one ffprobe and one ffmpeg for all of it, not one or two for each question).
facts() {
    local d="$TEST_DIR/.facts/$(printf '%s' "$1" | md5sum | cut -c1-12)"
    if [ ! -d "$d" ] || [ "$1" -nt "$d" ]; then
        rm -rf "$d"
        python3 "$CLI_DIR/subsfacts.py" "$1" "$d"
    fi
    printf '%s\n' "$d"
}
_fact() { local d; d=$(facts "$1") && [ -f "$d/$2" ] && cat "$d/$2"; return 0; }
# sub_streams FILE: "codec,language" of each subtitle stream, one a line
sub_streams() { _fact "$1" streams; }
# cues FILE N: subtitle stream N's cues as "start-end text", seconds from the video's start
# (a Matroska output with Opus starts its video at the pre-skip, ~7 ms)
cues() { _fact "$1" "cues.$2"; }
# chapters FILE: "start-end title" of each chapter
chapters() { _fact "$1" chapters; }
title() { _fact "$1" title; }

# expect_lines WHAT GOT WANT: GOT (lines) is WANT (lines), times ("A-B text") within 10 ms (under a
# frame; a Matroska output's Opus pre-skip moves its chapters against its video by 7 ms)
expect_lines() {
    [ "$2" = "$3" ] && return 0     # (most do, exactly: no python3 to start)
    python3 -c '
import re, sys
got, want = sys.argv[1].split("\n"), sys.argv[2].split("\n")
def same(a, b):
    ma, mb = (re.match(r"([\d.]+)-([\d.]+) (.*)", x) for x in (a, b))
    if not (ma and mb):
        return a == b
    return ma.group(3) == mb.group(3) and all(abs(float(ma.group(i)) - float(mb.group(i))) <= 0.010 for i in (1, 2))
sys.exit(0 if len(got) == len(want) and all(same(a, b) for a, b in zip(got, want)) else 1)' "$2" "$3" ||
        err "$1: got [$(_oneline "$2")], expected [$(_oneline "$3")]"
}
# check_trimmed OUT TARGET SECONDS: under the target, video of that length (within a frame: 0.1 s)
check_trimmed() {
    local d
    [ "$(fsize "$1")" -le "$2" ] || err "$(basename "$1"): $(fsize "$1") bytes, over the target $2"
    d=$(ffprobe -v error -select_streams v:0 -show_entries stream=duration -of csv=p=0 "$1")
    # (Matroska keeps no stream duration: the file's, which the video ends, the cues cut to it)
    [ "$d" = N/A ] && d=$(fmt_duration "$1")
    python3 -c "import sys; sys.exit(abs(float(sys.argv[1] or 0) - float(sys.argv[2])) > 0.101)" "$d" "$3" ||
        err "$(basename "$1"): video lasts $d s, expected $3"
}

# subs_case NAME IN OUT-EXT SCODEC TARGET AUDIO [SHRINK-ARGS...]: both tracks, their languages and cues, the chapters
# and the title kept, whole (no trim), under the target.
subs_case() {
    local name=$1 src=$2 ext=$3 scodec=$4 target=$5 audio=$6
    shift 6
    case_begin "$name"
    local in out
    in="$CASE_DIR/in.${src##*.}"
    cp "$src" "$in"
    out="$CASE_DIR/out.$ext"
    run_shrink "$in" -o "$out" --target "$target" --json "$@"
    expect_rc 0
    if [ -s "$out" ]; then
        local -a cont=()
        [ "$ext" = mkv ] && cont=(--container matroska)
        check_output "$out" "$in" "$target" --json "$OUT" --audio "$audio" "${cont[@]}"
        expect_lines "subtitle streams" "$(sub_streams "$out")" "$scodec,eng
$scodec,fre"
        expect_lines "English cues" "$(cues "$out" 0)" "1.000-3.000 One
4.000-6.000 Four to six
12.000-14.000 Twelve"
        expect_lines "French cues" "$(cues "$out" 1)" "2.000-3.500 Deux
12.500-13.500 Douze et demi"
        expect_lines "chapters" "$(chapters "$out")" "0.000-6.000 Opening
6.000-10.000 Middle
10.000-16.000 End"
        expect_lines "title" "$(title "$out")" "The Compression War"
        [ "$(jl get "$OUT" 0 subtitles)" = 2 ] || err "JSON subtitles: $(jl get "$OUT" 0 subtitles), expected 2"
    fi
    no_leftovers "$CASE_DIR"
    case_end
}

# MKV with SubRip to MP4: converted to mov_text. MP4 with mov_text to MKV: converted to SubRip.
subs_case mkv_to_mp4 "$MKV" mp4 mov_text 100000 no --no-search
subs_case mp4_to_mkv "$MP4" mkv subrip 100000 yes --no-search --codec x264
# The solver's search prices them too (the default path); the sound interleaved with them.
subs_case mp4_to_mp4_search "$MP4" mp4 mov_text 90000 yes --speed fast

# A trim: cues and chapters cut to 5-13 s and moved to start at 0; a cue across the start opens the output.
case_begin trim_mkv
in="$CASE_DIR/in.mkv"
cp "$MKV" "$in"
out="$CASE_DIR/out.mkv"
run_shrink "$in" -o "$out" --target 90k --start 5 --end 13 --no-search --codec x264 --json
expect_rc 0
if [ -s "$out" ]; then
    check_trimmed "$out" 90000 8
    expect_lines "subtitle streams" "$(sub_streams "$out")" "subrip,eng
subrip,fre"
    expect_lines "English cues after --start 5 --end 13" "$(cues "$out" 0)" "0.000-1.000 Four to six
7.000-8.000 Twelve"
    expect_lines "French cues after --start 5 --end 13" "$(cues "$out" 1)" "7.500-8.000 Douze et demi"
    expect_lines "chapters after --start 5 --end 13" "$(chapters "$out")" "0.000-1.000 Opening
1.000-5.000 Middle
5.000-8.000 End"
fi
no_leftovers "$CASE_DIR"
case_end

case_begin trim_mp4
in="$CASE_DIR/in.mp4"
cp "$MP4" "$in"
out="$CASE_DIR/out.mp4"
run_shrink "$in" -o "$out" --target 90k --start 5 --no-search --json
expect_rc 0
if [ -s "$out" ]; then
    check_trimmed "$out" 90000 11
    expect_lines "English cues after --start 5" "$(cues "$out" 0)" "0.000-1.000 Four to six
7.000-9.000 Twelve"
    expect_lines "chapters after --start 5" "$(chapters "$out")" "0.000-1.000 Opening
1.000-5.000 Middle
5.000-11.000 End"
fi
no_leftovers "$CASE_DIR"
case_end

# --subs none: no tracks (the chapters and the title stay); --subs 2: the French one alone.
case_begin subs_none_and_n
in="$CASE_DIR/in.mkv"
cp "$MKV" "$in"
run_shrink "$in" -o "$CASE_DIR/none.mp4" --target 90k --subs none --no-search --json
expect_rc 0 "--subs none"
if [ -s "$CASE_DIR/none.mp4" ]; then
    expect_lines "subtitle streams with --subs none" "$(sub_streams "$CASE_DIR/none.mp4")" ""
    [ "$(jl get "$OUT" 0 subtitles)" = 0 ] || err "JSON subtitles: $(jl get "$OUT" 0 subtitles), expected 0"
    [ "$(chapters "$CASE_DIR/none.mp4" | wc -l)" = 3 ] || err "--subs none lost the chapters"
fi
run_shrink "$in" -o "$CASE_DIR/two.mp4" --target 90k --subs 2 --no-search --json
expect_rc 0 "--subs 2"
if [ -s "$CASE_DIR/two.mp4" ]; then
    check_trimmed "$CASE_DIR/two.mp4" 90000 16
    expect_lines "subtitle streams with --subs 2" "$(sub_streams "$CASE_DIR/two.mp4")" "mov_text,fre"
    expect_lines "the French cues" "$(cues "$CASE_DIR/two.mp4" 0)" "2.000-3.500 Deux
12.500-13.500 Douze et demi"
fi
no_leftovers "$CASE_DIR"
case_end

# Mistakes: a track that is not there (3, one line naming the file), a bad --subs (2).
case_begin subs_errors
in="$CASE_DIR/in.mkv"
cp "$MKV" "$in"
run_shrink "$in" --target 90k --subs 3
expect_rc 3 "--subs 3"
expect_one_line "has no subtitle track 3 (it has 2)"
grep -qF "in.mkv" "$ERR" || err "the message does not name the file: $(stderr_text)"
for a in 0 x -1 1.5 ""; do
    run_shrink "$in" --target 90k --subs "$a"
    expect_rc 2 "--subs '$a'"
    grep -qF -- "--subs" "$ERR" || err "--subs '$a': the message does not name the option: $(stderr_text)"
done
[ -n "$(ls "$CASE_DIR" | grep -v '^in.mkv$')" ] && err "files left: $(ls "$CASE_DIR")"
no_leftovers "$CASE_DIR"
case_end

# A SubRip track that is not UTF-8 does not decode: exit 3, one line naming the file and the track;
# --subs none encodes it without.
case_begin subs_undecodable
in="$CASE_DIR/latin1.mkv"
cp "$BAD" "$in"
run_shrink "$in" --target 90k --no-search
expect_rc 3
expect_one_line "subtitle track 1 (subrip): the cue at 1.000 s is not UTF-8 text"
grep -qF "latin1.mkv" "$ERR" || err "the message does not name the file: $(stderr_text)"
[ -e "$CASE_DIR/latin1.shrunk.mp4" ] && err "an output was written"
run_shrink "$in" --target 90k --no-search --subs none
expect_rc 0 "--subs none"
no_leftovers "$CASE_DIR"
case_end

# Subtitles that weigh: 40 KB of cues in a 120 KB target; paid for before the video, the file fits.
BIG="$SUBDIR/big.mkv"
if [ ! -s "$BIG" ]; then
    python3 -c '
for i in range(480):
    s = i * 0.033
    f = lambda t: "%02d:%02d:%02d,%03d" % (t // 3600, t // 60 % 60, t % 60, round(t * 1000) % 1000)
    print("%d\n%s --> %s\n%s\n" % (i + 1, f(s), f(s + 0.03), "Line %d of a long speech, said quickly, again and again." % i))' \
        > "$SUBDIR/big.srt"
    with_subs "$BIG" none srt "$SUBDIR/big.srt"
fi
case_begin subs_weigh
in="$CASE_DIR/in.mkv"
cp "$BIG" "$in"
out="$CASE_DIR/out.mp4"
run_shrink "$in" -o "$out" --target 120k --no-search --json -v
expect_rc 0
if [ -s "$out" ]; then
    check_trimmed "$out" 120000 16
    n=$(cues "$out" 0 | wc -l)
    [ "$n" = 480 ] || err "$n cues in the output, expected 480"
fi
no_leftovers "$CASE_DIR"
case_end

# GIF has no subtitles: the same input makes its GIF as before.
case_begin gif_unaffected
in="$CASE_DIR/in.mkv"
cp "$MKV" "$in"
run_shrink "$in" -o "$CASE_DIR/out.gif" --target 100k --duration 1
expect_rc 0
[ "$(head -c 6 "$CASE_DIR/out.gif" 2>/dev/null)" = GIF89a ] || err "no GIF89a output"
no_leftovers "$CASE_DIR"
case_end

# A long film's path (stretches joined: job/long.c): the tracks, cues and chapters survive the join,
# with the sound (through the join's audio file) and without (a file of subtitles alone).
for src in "$MP4" "$MKV"; do
case_begin "long_stretches_${src##*.}"
in="$CASE_DIR/in.${src##*.}"
cp "$src" "$in"
out="$CASE_DIR/out.mp4"
SHRINK_STRETCH=4 run_shrink "$in" -o "$out" --target 90k --codec x264 --height 90 --fps 10 --start 1 --json -v
expect_rc 0
grep -q "verbose: joined [0-9]* stretches" "$ERR" || err "not joined from stretches: $(grep -m1 'long film' "$ERR")"
if [ -s "$out" ]; then
    check_trimmed "$out" 90000 15
    expect_lines "subtitle streams" "$(sub_streams "$out")" "mov_text,eng
mov_text,fre"
    expect_lines "English cues after --start 1" "$(cues "$out" 0)" "0.000-2.000 One
3.000-5.000 Four to six
11.000-13.000 Twelve"
    expect_lines "chapters after --start 1" "$(chapters "$out")" "0.000-5.000 Opening
5.000-9.000 Middle
9.000-15.000 End"
    expect_lines "title" "$(title "$out")" "The Compression War"
fi
no_leftovers "$CASE_DIR"
case_end
done

# Scale-out (--jobs: a plan, chunks, the join): the tracks, cues, chapters and title ride in the
# plan's audio file to the join; no chunk carries them.
case_begin scale_out_jobs
in="$CASE_DIR/in.mp4"
cp "$MP4" "$in"
out="$CASE_DIR/out.mp4"
run_shrink "$in" -o "$out" --target 100k --jobs 2 --start 5 --json
expect_rc 0
if [ -s "$out" ]; then
    check_trimmed "$out" 100000 11
    expect_lines "subtitle streams" "$(sub_streams "$out")" "mov_text,eng
mov_text,fre"
    expect_lines "English cues after --start 5" "$(cues "$out" 0)" "0.000-1.000 Four to six
7.000-9.000 Twelve"
    expect_lines "chapters after --start 5" "$(chapters "$out")" "0.000-1.000 Opening
1.000-5.000 Middle
5.000-11.000 End"
    expect_lines "title" "$(title "$out")" "The Compression War"
    [ "$(jl get "$OUT" 0 subtitles)" = 2 ] || err "JSON subtitles: $(jl get "$OUT" 0 subtitles), expected 2"
fi
no_leftovers "$CASE_DIR"
case_end

# WebM takes WebVTT only: converted (full tier: a VP9 encode).
if ! full_tier webm_webvtt; then
    case_begin webm_webvtt
    in="$CASE_DIR/in.mp4"
    cp "$MP4" "$in"
    out="$CASE_DIR/out.webm"
    run_shrink "$in" -o "$out" --target 80k --end 5 --no-search --json
    expect_rc 0
    if [ -s "$out" ]; then
        check_trimmed "$out" 80000 5
        expect_lines "subtitle streams" "$(sub_streams "$out")" "webvtt,eng
webvtt,fre"
        expect_lines "English cues to 5 s" "$(cues "$out" 0)" "1.000-3.000 One
4.000-5.000 Four to six"
    fi
    no_leftovers "$CASE_DIR"
    case_end
fi

script_done
