#!/usr/bin/env bash
# The extreme range: a two-hour film into a floppy and below, down to a few
# KB. Each output opens in ffprobe, lasts the film's two hours (format and
# stream duration, within a second: the last frame is held to the end), is
# no larger than the target and decodes without errors. Below the true
# floor: exit 4, and the size printed as the minimum works as a target.
# SPDX-License-Identifier: GPL-3.0-or-later
. "$(dirname "$0")/lib.sh"

FILM_S=7200

# A two-hour synthetic film, cheap to make and to decode: 64x36 at 2 fps
# (14400 frames) with a low-rate sine track. Made once per run, like make_clip.
# The track is one minute of AAC looped (copied): two hours of AAC encoding were 10 s of
# the 11 s of CPU the film took to make; 440 Hz repeats whole in a minute, so the loop
# is the same sine.
make_film() {
    local path="$CLIP_DIR/film2h/film.mp4" tmp snd
    mkdir -p "$CLIP_DIR/film2h"
    if [ ! -s "$path" ]; then
        tmp="$CLIP_DIR/film2h/.tmp.$$.mp4" snd="$CLIP_DIR/film2h/.snd.$$.m4a"
        ffmpeg -nostdin -v error -y -f lavfi -i "sine=frequency=440:sample_rate=8000" -t 60 \
            -c:a aac -b:a 12k -ac 1 -f mp4 "$snd" &&
        ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=64x36:rate=2" \
            -stream_loop -1 -i "$snd" -t "$FILM_S" -map 0:v -map 1:a \
            -c:v libx264 -preset ultrafast -crf 30 -pix_fmt yuv420p -c:a copy "$tmp" ||
            { rm -f "$tmp" "$snd"; return 1; }
        rm -f "$snd"
        mv "$tmp" "$path"
    fi
    printf '%s\n' "$path"
}

# check_film OUT TARGET [CODEC]: the invariants of an extreme-range output.
check_film() {
    local out=$1 target=$2 codec=${3:-} size fd sd vc msg
    [ -s "$out" ] || { err "no output $out"; return; }
    size=$(fsize "$out")
    [ "$size" -le "$target" ] || err "size $size > target $target"
    fd=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$out") || err "ffprobe cannot open $out"
    sd=$(ffprobe -v error -select_streams v -show_entries stream=duration -of csv=p=0 "$out")
    if [ "$sd" = N/A ]; then
        # Matroska/WebM: no stream duration in the headers, a DURATION tag per track.
        sd=$(ffprobe -v error -select_streams v -show_entries stream_tags=DURATION -of csv=p=0 "$out" |
             awk -F: 'NF == 3 { print $1 * 3600 + $2 * 60 + $3 }')
    fi
    vc=$(ffprobe -v error -select_streams v -show_entries stream=codec_name -of csv=p=0 "$out")
    [ -z "$codec" ] || [ "$vc" = "$codec" ] || err "video codec $vc, not $codec"
    python3 -c "import sys; d=float(sys.argv[1]); sys.exit(abs(d-$FILM_S) > 1)" "${fd:-0}" ||
        err "format duration $fd s, not $FILM_S within a second"
    python3 -c "import sys; d=float(sys.argv[1]); sys.exit(abs(d-$FILM_S) > 1)" "${sd:-0}" ||
        err "video stream duration $sd s, not $FILM_S within a second"
    msg=$(ffmpeg -nostdin -v error -i "$out" -f null - 2>&1) || err "ffmpeg cannot decode it"
    [ -n "$msg" ] && err "decode errors: $(_oneline "$msg" | head -c 300)"
    return 0
}

if ! film=$(make_film); then
    fail film "could not make the two-hour clip"
    script_done
    exit 0
fi

# The issue's targets: a floppy, 100 KB, 10 KB, 4 KB.
for t in 1.44MB:1440000 100KB:100000 10KB:10000 4KB:4000; do
    label=${t%%:*} bytes=${t#*:}
    case_begin "film_$label"
    snap_dir "$CASE_DIR"
    run_shrink "$film" --target "$label" -o "$CASE_DIR/out.mp4" --json
    expect_rc 0
    if [ "$RC" = 0 ]; then
        # Whichever codec --codec auto chose, as the JSON says.
        check_film "$CASE_DIR/out.mp4" "$bytes" "$(json_get "$OUT" codec)"
        [ "$(json_get "$OUT" audio)" = null ] || err "audio kept at $label: $(json_get "$OUT" audio)"
        # Nothing wasted at the larger ones: they are filled, not floored.
        if [ "$bytes" -ge 10000 ] && [ "$(fsize "$CASE_DIR/out.mp4")" -lt $((bytes * 85 / 100)) ]; then
            err "only $(fsize "$CASE_DIR/out.mp4") of $bytes bytes used"
        fi
    fi
    dir_expect "$CASE_DIR" out.mp4
    no_leftovers "$CASE_DIR"
    # film_10KB_rung reads this run's JSON (the same command: it ran twice before)
    [ "$label" = 10KB ] && { cp "$OUT" "$TEST_DIR/film_10KB.json"; RC_10KB=$RC; }
    case_end
done

# At 10 KB the picture is tiny and the frames a minute or so apart (film_10KB's run).
case_begin film_10KB_rung
RC=${RC_10KB:-none}
cp "$TEST_DIR/film_10KB.json" "$OUT" 2>/dev/null
expect_rc 0 "film_10KB's run"
if [ "$RC" = 0 ]; then
    h=$(json_get "$OUT" height) fps=$(json_get "$OUT" fps)
    [ "$h" -ge 16 ] && [ "$h" -le 36 ] || err "height $h, expected 16-36"
    python3 -c "import sys; f=float(sys.argv[1]); sys.exit(not (1/60 - 1e-6 <= f < 1))" "$fps" ||
        err "fps $fps, expected one frame a minute to one a second"
fi
no_leftovers "$CASE_DIR"
case_end

# Below the true floor: exit 4, the smallest size that works in the message
# and the JSON, nothing written; and that size works as the target.
case_begin below_floor
snap_dir "$CASE_DIR"
run_shrink "$film" --target 1KB -o "$CASE_DIR/out.mp4" --json
expect_rc 4
min=$(json_get "$OUT" min_bytes)
if ! [ "$min" -gt 1000 ] 2>/dev/null; then
    err "JSON min_bytes $min"
else
    [ "$min" -le 4000 ] || err "the floor $min is above 4 KB"
    run_shrink "$film" --target 1KB -o "$CASE_DIR/out.mp4"
    grep -qF -- "--target $min" "$ERR" || err "message does not give --target $min: $(stderr_text)"
    dir_expect "$CASE_DIR"
    run_shrink "$film" --target "$min" -o "$CASE_DIR/min.mp4"
    expect_rc 0 "at the printed minimum"
    [ "$RC" = 0 ] && check_film "$CASE_DIR/min.mp4" "$min"
    run_shrink "$film" --target "$((min - 1))" -o "$CASE_DIR/min1.mp4"
    expect_rc 4 "one byte under the minimum"
fi
no_leftovers "$CASE_DIR"
case_end

# The other encoders go down too (their own floors; SVT-AV1 takes nothing under 64 px).
for e in x265:libx265:hevc:mp4 vp9:libvpx-vp9:vp9:webm aom:libaom-av1:av1:mp4; do
    IFS=: read -r name lavc codec ext <<<"$e"
    if ! ffmpeg -hide_banner -encoders 2>/dev/null | grep -qE "^ V\S* $lavc "; then
        skip "film_10KB_$name" "FFmpeg has no $lavc"
        continue
    fi
    case_begin "film_10KB_$name"
    run_shrink "$film" --target 10KB --codec "$name" -o "$CASE_DIR/out.$ext"
    expect_rc 0
    [ "$RC" = 0 ] && check_film "$CASE_DIR/out.$ext" 10000 "$codec"
    no_leftovers "$CASE_DIR"
    case_end
done

script_done
