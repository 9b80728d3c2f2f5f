#!/usr/bin/env bash
# Seed inputs for the fuzzers, made with ffmpeg (nothing binary is kept in the tree):
#   tests/fuzz/seeds.sh DIR   -> DIR/size, DIR/args, DIR/input
# Small on purpose: a fuzzer mutates faster the less it has to decode.
# SPDX-License-Identifier: GPL-3.0-or-later
set -u
dir=${1:?usage: seeds.sh DIR}
mkdir -p "$dir/size" "$dir/args" "$dir/input"

i=0
for s in 50MB 1.44mb 8MiB 500k 4096 "0.5 GiB" 1e3 .5k 99999999999999999999 1.000000000000000001KiB 10%; do
    printf '%s' "$s" > "$dir/size/s$((i++))"
done

i=0
while IFS= read -r line; do
    # one argv a line, arguments separated by '|'
    out="$dir/args/a$i"          # not $((i++)) in the redirection: a pipeline's subshell
    i=$((i + 1))
    printf '%s' "$line" | tr '|' '\0' > "$out"
done <<'ARGS'
in.mp4|--target|25MB
in.mp4|-t|8MiB|-o|out.mp4|--force|--json
in.mp4|--for|discord|--start|1:30|--end|2:00.5
a.mp4|b.mkv|--target|30%|--outdir|out|--skip-existing|-q
in.mp4|--target|1MB|--duration|10|--audio-track|2|--progress|-vv
in.mp4|--target|1MB|--no-audio|--skip-fitting|--no-progress
--help
-V
in.mp4|--target=100k|--start=01:02:03.250
ARGS

ff() { ffmpeg -nostdin -v error -y "$@"; }
V=(-f lavfi -i "testsrc2=size=64x48:rate=10")
A=(-f lavfi -i "sine=frequency=440:sample_rate=8000")
T=(-t 0.5)
d="$dir/input"
ff "${V[@]}" "${A[@]}" "${T[@]}" -c:v libx264 -preset ultrafast -c:a aac -b:a 8k "$d/h264_aac.mp4"
ff "${V[@]}" "${A[@]}" "${T[@]}" -c:v libx264 -preset ultrafast -c:a aac -b:a 8k -movflags +faststart "$d/faststart.mp4"
ff "${V[@]}" "${A[@]}" "${T[@]}" -c:v libx264 -preset ultrafast -c:a libopus -b:a 6k "$d/h264_opus.mkv"
ff "${V[@]}" "${A[@]}" "${T[@]}" -c:v libvpx -deadline realtime -b:v 50k -c:a libopus -b:a 6k "$d/vp8.webm"
ff "${V[@]}" "${A[@]}" "${T[@]}" -c:v mjpeg -q:v 20 -c:a pcm_s16le "$d/mjpeg.avi"
ff "${V[@]}" "${A[@]}" "${T[@]}" -c:v mpeg2video -q:v 20 -c:a mp2 -b:a 32k "$d/mpeg2.mpg"
ff "${V[@]}" "${T[@]}" -c:v libx264 -preset ultrafast -f mpegts "$d/h264.ts"
ff "${V[@]}" -t 0.2 -pix_fmt yuv420p "$d/raw.y4m"
ff "${V[@]}" "${T[@]}" -c:v flv1 "$d/flv1.flv"
ff "${V[@]}" "${T[@]}" -c:v mpeg4 -q:v 20 -metadata:s:v rotate=90 "$d/mpeg4_rot.mov"
ff "${V[@]}" "${T[@]}" -vf setsar=4/3 -c:v libx264 -preset ultrafast "$d/sar.mp4"
ff "${V[@]}" -t 0.3 "$d/anim.gif"
ff "${V[@]}" -frames:v 1 "$d/still.png"
ff "${A[@]}" "${T[@]}" -c:a aac "$d/audio.m4a"
ls "$dir"/input | wc -l
