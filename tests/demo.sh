#!/usr/bin/env bash
# make demo: build a sample clip with ffmpeg's test sources and shrink it.
# SPDX-License-Identifier: GPL-3.0-or-later
set -eu
shrink=${1:-build/shrink}
dir=demo
mkdir -p "$dir"
sample="$dir/sample.mp4"
if [ ! -s "$sample" ]; then
    echo "Making a 30 s 1280x720 sample with stereo sound: $sample"
    ffmpeg -v error -y \
        -f lavfi -i "testsrc2=size=1280x720:rate=30:duration=30" \
        -f lavfi -i "sine=frequency=330:sample_rate=48000:duration=30" \
        -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=30" \
        -filter_complex "[1:a][2:a]amerge=inputs=2[a]" -map 0:v -map "[a]" \
        -c:v libx264 -preset veryfast -crf 20 -pix_fmt yuv420p -c:a aac -b:a 128k "$sample"
fi
echo "Input: $(stat -c %s "$sample") bytes"
for target in 2MB 500KB 100KB; do
    out="$dir/sample.$target.mp4"
    echo
    echo "\$ shrink $sample --target $target -o $out --force -v"
    "$shrink" "$sample" --target "$target" -o "$out" --force -v
    echo "ffprobe says: $(ffprobe -v error -show_entries format=size,duration:stream=codec_name,width,height,avg_frame_rate \
        -of compact=p=0:nk=0 "$out" | tr '\n' ' ')"
done
