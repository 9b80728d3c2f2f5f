#!/usr/bin/env bash
# Colour and interlacing (issue 21, hostile inputs: wrong results with exit 0).
# - Colour tags (primaries, transfer, matrix, range) reach the output stream
#   for every encoder (ffprobe reads them back).
# - HDR10 (PQ) and HLG sources are tone-mapped to SDR BT.709 by default: the
#   tags say bt709 and the picture matches the ffmpeg program's zscale/tonemap
#   chain on the same input (mean luma within 3 of 255, SSIM >= 0.95), far
#   from the untone-mapped decode; --report measures against the tone-mapped
#   source. --hdr keep keeps PQ/BT.2020 in 10 bits.
# - 576i MPEG-2 (top field first) is deinterlaced: ffmpeg's idet on the
#   output's luma finds progressive frames where the old output was combed
#   in every frame; the frame rate and the frame count are kept.
#   --deinterlace off leaves it as it was.
# SPDX-License-Identifier: GPL-3.0-or-later
. "$(dirname "$0")/lib.sh"

TONEMAP="zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv,format=yuv420p"

# make_src NAME FFMPEG-ARGS...: testsrc2 4 s at 25 fps, encoded with ARGS, once per run.
# (SRC_SIZE and SRC_DUR change the picture and the length.)
make_src() {
    local name=$1 f
    shift
    f="$CLIP_DIR/$name"
    if [ ! -s "$f" ]; then
        ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=s=${SRC_SIZE:-480x272}:r=25:d=${SRC_DUR:-4}" "$@" "$f.tmp.${name##*.}" &&
            mv "$f.tmp.${name##*.}" "$f"
    fi
    printf '%s\n' "$f"
}
PQ=$(make_src pq.mp4 -c:v libx265 -pix_fmt yuv420p10le -color_primaries bt2020 -color_trc smpte2084 \
    -colorspace bt2020nc -x265-params "log-level=error:master-display=G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1):max-cll=1000,400")
HLG=$(make_src hlg.mp4 -c:v libx265 -pix_fmt yuv420p10le -color_primaries bt2020 -color_trc arib-std-b67 \
    -colorspace bt2020nc -x265-params log-level=error)
SDR=$(make_src bt709.mp4 -c:v libx264 -pix_fmt yuv420p -color_primaries bt709 -color_trc bt709 -colorspace bt709)
# The tags through every encoder: a short small clip is enough (the slow encoders, aom
# and SVT-AV1, took most of this script's time on the 4 s one).
SDR_SMALL=$(SRC_SIZE=256x144 SRC_DUR=2 make_src bt709_small.mp4 -c:v libx264 -pix_fmt yuv420p \
    -color_primaries bt709 -color_trc bt709 -colorspace bt709)
# 576i: 50 progressive frames a second woven into 25 interlaced ones, top field first.
IL="$CLIP_DIR/576i.mpg"
if [ ! -s "$IL" ]; then
    ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=s=720x576:r=50:d=4" \
        -vf "tinterlace=interleave_top,fieldorder=tff" -flags +ilme+ildct -top 1 \
        -c:v mpeg2video -pix_fmt yuv420p -b:v 6M "$IL.tmp.mpg" && mv "$IL.tmp.mpg" "$IL"
fi

# colour FILE: primaries/transfer/space/range of the video stream, '/'-joined.
colour() {
    ffprobe -v error -select_streams v:0 -show_entries stream=color_primaries,color_transfer,color_space,color_range \
        -of default=nw=1 "$1" | sort | cut -d= -f2 | tr '\n' '/' | sed 's,/$,,'
}
# (sorted by key: primaries, range, space, transfer)
BT709="bt709/tv/bt709/bt709"
pix_fmt() { ffprobe -v error -select_streams v:0 -show_entries stream=pix_fmt -of csv=p=0 "$1"; }
# yavg FILE [FILTER]: mean 8-bit luma over all frames.
yavg() {
    ffmpeg -nostdin -hide_banner -nostats -i "$1" -vf "${2:+$2,}format=yuv420p,signalstats,metadata=print:key=lavfi.signalstats.YAVG:file=-" \
        -f null - 2>/dev/null | awk -F= '/YAVG/ { s += $2; n++ } END { if (n) printf "%.2f\n", s / n }'
}
# ssim_to OUT SRC FILTER: SSIM (Y) of OUT against SRC through FILTER.
ssim_to() {
    ffmpeg -nostdin -hide_banner -nostats -i "$1" -i "$2" -lavfi "[1]$3[r];[0][r]ssim" -f null - 2>&1 |
        sed -n 's/.*SSIM Y:\([0-9.]*\).*/\1/p' | tail -1
}
near() { python3 -c "import sys; a, b, t = map(float, sys.argv[1:]); sys.exit(abs(a - b) > t)" "$@"; }
ge() { python3 -c "import sys; a, b = map(float, sys.argv[1:]); sys.exit(not a >= b)" "$@"; }
# progressive_share FILE: idet on the luma: progressive frames / all frames (multi-frame detection).
progressive_share() {
    ffmpeg -nostdin -hide_banner -nostats -i "$1" -vf extractplanes=y,idet -f null - 2>&1 | grep 'Multi frame' |
        python3 -c '
import re, sys
m = dict(re.findall(r"(TFF|BFF|Progressive|Undetermined): *(\d+)", sys.stdin.read()))
n = sum(int(v) for v in m.values())
print("%.2f" % (int(m.get("Progressive", 0)) / n if n else -1))'
}

# ---- HDR: tone-mapped by default ----

hdr_case() {
    local name=$1 src=$2
    case_begin "$name"
    local in out y ref raw s
    in=$(cp "$src" "$CASE_DIR/in.mp4" && echo "$CASE_DIR/in.mp4")
    out="$CASE_DIR/in.shrunk.mp4"
    # (the picture and rate pinned to the source's: the tone map is tested, not the search)
    run_shrink "$in" --target 150k --codec x264 --height 272 --fps 25 --json --report
    expect_rc 0 "shrink $(stderr_text)"
    if [ -s "$out" ]; then
        check_output "$out" "$in" 150000 --json "$OUT" --fill 0.8 --audio no
        [ "$(colour "$out")" = "$BT709" ] || err "tags $(colour "$out"), want $BT709 (primaries/range/space/transfer)"
        [ "$(pix_fmt "$out")" = yuv420p ] || err "pix_fmt $(pix_fmt "$out"), want yuv420p"
        y=$(yavg "$out"); ref=$(yavg "$in" "$TONEMAP"); raw=$(yavg "$in")
        near "$y" "$ref" 3 || err "mean luma $y, the ffmpeg tone map gives $ref"
        near "$y" "$raw" 10 && err "mean luma $y is the untone-mapped decode's ($raw)"
        s=$(ssim_to "$out" "$in" "$TONEMAP")
        ge "${s:-0}" 0.95 || err "SSIM against the ffmpeg tone map $s < 0.95"
        # --report compares like with like: the tone-mapped source.
        s=$(json_get "$OUT" measured.ssim)
        ge "${s:-0}" 0.9 || err "--report measured ssim $s < 0.9 (against the untone-mapped source?)"
    fi
    no_leftovers "$CASE_DIR"
    case_end
}
hdr_case hdr10_tonemapped "$PQ"
hdr_case hlg_tonemapped "$HLG"

# ---- HDR kept ----

case_begin hdr_keep_x265
in=$(cp "$PQ" "$CASE_DIR/in.mp4" && echo "$CASE_DIR/in.mp4")
out="$CASE_DIR/in.shrunk.mp4"
run_shrink "$in" --target 150k --codec x265 --height 272 --fps 25 --hdr keep --json
expect_rc 0 "shrink $(stderr_text)"
if [ -s "$out" ]; then
    check_output "$out" "$in" 150000 --json "$OUT" --fill 0.8 --audio no --vcodec hevc
    [ "$(colour "$out")" = "bt2020/tv/bt2020nc/smpte2084" ] || err "tags $(colour "$out"), want bt2020/tv/bt2020nc/smpte2084"
    [ "$(pix_fmt "$out")" = yuv420p10le ] || err "pix_fmt $(pix_fmt "$out"), want yuv420p10le"
    # Kept, not tone-mapped: the picture is the source's.
    s=$(ssim_to "$out" "$in" "format=yuv420p10le")
    ge "${s:-0}" 0.9 || err "SSIM against the source $s < 0.9"
fi
no_leftovers "$CASE_DIR"
case_end

case_begin hdr_bad_option
run_shrink "$SDR" --target 150k --hdr maybe
expect_rc 2
grep -q -- "--hdr" "$ERR" || err "no message naming --hdr: $(stderr_text)"
case_end

# ---- BT.709 tags, every encoder ----

tag_case() {
    local enc=$1 ext=$2 vcodec=$3 container=$4
    case_begin "bt709_tags_$enc"
    local in out
    in=$(cp "$SDR_SMALL" "$CASE_DIR/in.mp4" && echo "$CASE_DIR/in.mp4")
    out="$CASE_DIR/out.$ext"
    # (under the input's size: a file that fits would be copied, not encoded)
    [ "$(fsize "$in")" -gt 20000 ] || err "the input ($(fsize "$in") bytes) fits 20k already"
    # (--speed fast and the picture and rate pinned: the tags are tested, not the search)
    run_shrink "$in" --target 20k --codec "$enc" --speed fast --height 144 --fps 25 --json -o "$out"
    expect_rc 0 "shrink $(stderr_text)"
    if [ -s "$out" ]; then
        check_output "$out" "$in" 20000 --json "$OUT" --audio no --vcodec "$vcodec" ${container:+--container "$container"}
        [ "$(colour "$out")" = "$BT709" ] || err "tags $(colour "$out"), want $BT709"
    fi
    no_leftovers "$CASE_DIR"
    case_end
}
tag_case x264 mp4 h264 ""
tag_case x265 mp4 hevc ""
tag_case vp9 webm vp9 webm
tag_case svt-av1 mp4 av1 ""
tag_case aom mkv av1 matroska

# ---- interlaced ----

case_begin interlaced_576i_auto
in=$(cp "$IL" "$CASE_DIR/in.mpg" && echo "$CASE_DIR/in.mpg")
out="$CASE_DIR/in.shrunk.mp4"
run_shrink "$in" --target 400k --codec x264 --json
expect_rc 0 "shrink $(stderr_text)"
if [ -s "$out" ]; then
    check_output "$out" "$in" 400000 --json "$OUT" --fill 0.8 --audio no
    fo=$(ffprobe -v error -select_streams v:0 -show_entries stream=field_order -of csv=p=0 "$out")
    case "$fo" in tt|bb|tb|bt) err "output flagged interlaced ($fo)" ;; esac
    p=$(progressive_share "$out")
    ge "$p" 0.8 || err "idet: $p of the frames progressive (combed), want >= 0.8"
    fps=$(ffprobe -v error -select_streams v:0 -show_entries stream=r_frame_rate -of csv=p=0 "$out")
    [ "$fps" = 25/1 ] || err "frame rate $fps, want the source's 25/1"
    n=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$out")
    [ "$n" = 100 ] || err "$n frames, want the source's 100"
fi
no_leftovers "$CASE_DIR"
case_end

case_begin interlaced_576i_off
in=$(cp "$IL" "$CASE_DIR/in.mpg" && echo "$CASE_DIR/in.mpg")
out="$CASE_DIR/in.shrunk.mp4"
run_shrink "$in" --target 400k --codec x264 --height 576 --fps 25 --deinterlace off
expect_rc 0 "shrink $(stderr_text)"
if [ -s "$out" ]; then
    p=$(progressive_share "$out")
    ge 0.2 "$p" || err "idet: $p of the frames progressive with --deinterlace off: the fields were not left alone"
fi
no_leftovers "$CASE_DIR"
case_end

# A progressive source is left alone by auto (no deinterlacer in the chain).
case_begin progressive_untouched
in=$(cp "$SDR" "$CASE_DIR/in.mp4" && echo "$CASE_DIR/in.mp4")
run_shrink "$in" --target 120k --codec x264 --height 272 --fps 25 -v
expect_rc 0 "shrink $(stderr_text)"
grep -q "deinterlaced" "$ERR" && err "a progressive source was deinterlaced: $(grep deinterlaced "$ERR" | head -1)"
grep -q "tone-mapped" "$ERR" && err "an SDR source was tone-mapped"
no_leftovers "$CASE_DIR"
case_end

script_done
