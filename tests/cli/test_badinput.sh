#!/usr/bin/env bash
# Bad input, made at test time: truncated files, damaged headers and packets,
# things that are not videos. Every case: no crash, the input byte-for-byte
# unchanged, nothing left behind (no .part, no temp dir), and either
#   - exit 3 and exactly one stderr line naming the file and the cause, or
#   - where the damage can be concealed or the start of the file still holds
#     video: exit 0, a valid output (checked in full, duration = what decodes)
#     and a warning saying what happened.
# Which inputs get which, and why: docs/RELIABILITY.md. test_errors.sh checks
# the exit code and JSON shape of the plainest cases (missing, empty, text,
# noise, audio only, unreadable); here the same ones are checked for the cause
# in the message and an untouched input, beside the new ones.
# SPDX-License-Identifier: GPL-3.0-or-later
. "$(dirname "$0")/lib.sh"

BAD="$CLI_DIR/badinput.py"

# The sources, made once per run: 4 s of 320x240 at 25 fps with audio, H.264
# baseline (badinput.py avcc rewrites its SPS), the index (moov) at the end as
# ffmpeg writes it by default; the same with the index first (faststart); MKV
# and MPEG-TS remuxes; a tiny 64x48 baseline clip; a raw-video MOV.
ff() { ffmpeg -nostdin -v error -y "$@"; }
src_clip() {   # NAME: print the path of one of the sources above, made on first use
    local p="$CLIP_DIR/bad-$1"
    if [ ! -s "$p" ]; then
        case "$1" in
            src.mp4) ff -f lavfi -i testsrc2=size=320x240:rate=25 -f lavfi -i sine=frequency=440:sample_rate=48000 \
                        -t 4 -map 0:v -map 1:a -c:v libx264 -profile:v baseline -preset ultrafast -crf 20 \
                        -pix_fmt yuv420p -c:a aac "$p.tmp.mp4" ;;
            fast.mp4) ff -i "$(src_clip src.mp4)" -c copy -movflags +faststart "$p.tmp.mp4" ;;
            src.mkv) ff -i "$(src_clip src.mp4)" -c copy "$p.tmp.mkv" ;;
            src.ts)  ff -i "$(src_clip src.mp4)" -c copy "$p.tmp.ts" ;;
            tiny.mp4) ff -f lavfi -i testsrc2=size=64x48:rate=25 -t 1 -c:v libx264 -profile:v baseline \
                         -preset ultrafast "$p.tmp.mp4" ;;
            raw.mov) ff -f lavfi -i testsrc2=size=64x48:rate=10 -t 1 -c:v rawvideo -pix_fmt yuv420p "$p.tmp.mov" 2>/dev/null ;;
        esac
        mv "$p.tmp.${1##*.}" "$p" || return 1
    fi
    printf '%s\n' "$p"
}

# bad_case NAME FILE TARGET CAUSE...: exit 3, one line naming FILE and each CAUSE
# (case-insensitive), the input unchanged, nothing new anywhere.
bad_case() {
    local name=$1 file=$2 target=$3 before="" c
    shift 3
    [ -f "$file" ] && before=$(sha "$file")
    snap_dir "$CASE_DIR"
    run_shrink "$file" --target "$target"
    expect_rc 3
    expect_one_line "$(basename "$file")"
    for c in "$@"; do
        grep -qiF -- "$c" "$ERR" || err "stderr does not give the cause '$c': $(stderr_text)"
    done
    [ -n "$before" ] && [ "$(sha "$file")" != "$before" ] && err "the input changed"
    dir_expect "$CASE_DIR"
    no_leftovers "$CASE_DIR"
    case_end
}

# good_case NAME FILE TARGET WARNING [CHECK-OPTION...]: exit 0, a valid output no larger
# than TARGET and as long as what decodes of FILE (check_output, with the options given),
# warnings only on stderr, one of them saying WARNING (when not "").
good_case() {
    local name=$1 file=$2 target=$3 warning=$4 before out
    shift 4                   # the rest: more check_output options
    before=$(sha "$file")
    out="${file%.*}.shrunk.mp4"
    snap_dir "$CASE_DIR"
    run_shrink "$file" --target "$target" --json
    expect_rc 0
    if [ "$RC" = 0 ]; then
        check_output "$out" "$file" "$target" --json "$OUT" "$@"
        dir_expect "$CASE_DIR" "$(basename "$out")"
    else
        dir_expect "$CASE_DIR"
    fi
    grep -v ': warning: ' "$ERR" | grep -q . && err "stderr has more than warnings: $(stderr_text)"
    [ -n "$warning" ] && ! grep -qiF -- "$warning" "$ERR" && err "no warning saying '$warning': $(stderr_text)"
    [ "$(sha "$file")" = "$before" ] || err "the input changed"
    no_leftovers "$CASE_DIR"
    case_end
}

# in_case NAME SOURCE [badinput.py ARGS...]: a damaged copy of SOURCE in $CASE_DIR; prints its path.
in_case() {
    local name=$1 src dst
    src=$(src_clip "$2") || return 1
    dst="$CASE_DIR/$name.${2##*.}"
    shift 2
    if [ $# = 0 ]; then
        cp "$src" "$dst"
    else
        local cmd=$1
        shift
        python3 "$BAD" "$cmd" "$src" "$dst" "$@" || return 1
    fi
    printf '%s\n' "$dst"
}

# A fifth of the file: well under its size, so shrink encodes (a file that already
# fits is copied as it is, which the copy_* cases check).
fifth() { echo $(( $(fsize "$1") / 5 )); }

# ---- not videos at all ----
case_begin zero_bytes;   : > "$CASE_DIR/empty.mp4";   bad_case zero_bytes "$CASE_DIR/empty.mp4" 1MB "empty file"
case_begin text;         printf 'hello, this is not a video\n%.0s' {1..50} > "$CASE_DIR/notes.mp4"
                         bad_case text "$CASE_DIR/notes.mp4" 1MB "not a recognised video"
# Seeded, not /dev/urandom: about one random file in thirty probes as some audio or image
# format (then "no video stream" or "unknown duration", true too) and the case flickered.
case_begin random_bytes
python3 -c 'import random, sys; r = random.Random(1); sys.stdout.buffer.write(r.randbytes(300000))' \
    > "$CASE_DIR/noise.mkv"
                         bad_case random_bytes "$CASE_DIR/noise.mkv" 1MB "not a recognised video"
case_begin directory;    mkdir "$CASE_DIR/folder.mp4"; bad_case directory "$CASE_DIR/folder.mp4" 1MB "directory"
case_begin missing;      bad_case missing "$CASE_DIR/no-such-file.mp4" 1MB "no such file"
case_begin audio_only
ff -f lavfi -i sine=duration=3 -c:a aac "$CASE_DIR/song.m4a"
bad_case audio_only "$CASE_DIR/song.m4a" 1k "no video stream"
case_begin audio_with_cover_art
ff -f lavfi -i sine=duration=3 -f lavfi -i testsrc2=size=200x200:duration=0.04 -map 0:a -map 1:v -c:a libmp3lame \
   -c:v mjpeg -disposition:v attached_pic -t 3 "$CASE_DIR/song.mp3"
bad_case audio_with_cover_art "$CASE_DIR/song.mp3" 1k "no video stream"
case_begin still_png
ff -f lavfi -i testsrc2=size=320x240 -frames:v 1 "$CASE_DIR/photo.png"
bad_case still_png "$CASE_DIR/photo.png" 1k "still image"
case_begin still_jpeg
ff -f lavfi -i testsrc2=size=320x240 -frames:v 1 "$CASE_DIR/photo.jpg"
bad_case still_jpeg "$CASE_DIR/photo.jpg" 1k "still image"

# Unreadable: root reads anything, so as nobody (setpriv), who may enter the dir but not read it.
case_begin unreadable
f=$(in_case locked src.mp4)
chmod 000 "$f"
if [ "$(id -u)" = 0 ]; then
    if command -v setpriv >/dev/null; then
        chmod o+x "$SH_TEST_TMP" "$TEST_DIR"; chmod o+rwx "$CASE_DIR" "$CASE_TMP"
        RUN_AS=(setpriv --reuid=65534 --regid=65534 --clear-groups)
        bad_case unreadable "$f" 1MB "permission denied"
        RUN_AS=()
    else
        skip unreadable "root without setpriv"
    fi
else
    bad_case unreadable "$f" 1MB "permission denied"
fi

# ---- cut short ----
# MP4 as ffmpeg and most cameras write it, index last: without the index no frame can be
# found, so nothing can be saved; the message says the file is incomplete and why.
for p in 1 10 50; do
    case_begin "truncated_${p}pct_index_last"
    f=$(in_case "cut$p" src.mp4 truncate $p)
    bad_case "truncated_${p}pct_index_last" "$f" "$(fifth "$f")" "incomplete" "moov atom not found"
done
# Index first (faststart), MKV, MPEG-TS: the frames before the cut decode. The output
# holds them (shorter than the file announces) and a warning says the file is cut short.
# (Index first cut at 50%: the full tier, 6.5 s of CPU; the 10% cut is the same path,
# the frames before the cut kept and the warning, at 1.6 s.)
if ! full_tier truncated_50pct_index_first; then
    case_begin truncated_50pct_index_first; f=$(in_case cut50 fast.mp4 truncate 50)
    good_case truncated_50pct_index_first "$f" "$(fifth "$f")" "cut short"
fi
case_begin truncated_10pct_index_first; f=$(in_case cut10 fast.mp4 truncate 10)
good_case truncated_10pct_index_first "$f" "$(fifth "$f")" "cut short"
case_begin truncated_50pct_mkv;          f=$(in_case cut50 src.mkv truncate 50)
good_case truncated_50pct_mkv "$f" "$(fifth "$f")" "cut short"
# MPEG-TS records no length: a cut one cannot be told from a short one, so no warning.
case_begin truncated_10pct_ts;           f=$(in_case cut10 src.ts truncate 10)
good_case truncated_10pct_ts "$f" "$(fifth "$f")" ""
# ... unless the cut leaves no whole frame: the index alone is no video.
case_begin truncated_1pct_index_first;  f=$(in_case cut1 fast.mp4 truncate 1)
bad_case truncated_1pct_index_first "$f" 1k "no video frame"
case_begin truncated_1pct_mkv;          f=$(in_case cut1 src.mkv truncate 1)
bad_case truncated_1pct_mkv "$f" 1k "no video frame"

# A file that already fits is copied as it is; a broken one must not be.
case_begin copy_truncated_1pct_index_first; f=$(in_case cut1 fast.mp4 truncate 1)
bad_case copy_truncated_1pct_index_first "$f" 10MB "no video frame"
case_begin copy_truncated_index_last;       f=$(in_case cut50 src.mp4 truncate 50)
bad_case copy_truncated_index_last "$f" 10MB "incomplete"

# ---- damaged headers: picture sizes no decoder should believe ----
case_begin huge_y4m
printf 'YUV4MPEG2 W65535 H65535 F25:1 Ip A1:1 C420jpeg\nFRAME\n' > "$CASE_DIR/huge.y4m"
head -c 100000 /dev/urandom >> "$CASE_DIR/huge.y4m"
bad_case huge_y4m "$CASE_DIR/huge.y4m" 1k "65535x65535"
case_begin huge_mov_sample_entry; f=$(in_case huge raw.mov stsd 65535 65535)
bad_case huge_mov_sample_entry "$f" 1k "invalid picture size"
case_begin huge_h264_sps;          f=$(in_case huge tiny.mp4 avcc 16368 16368)
bad_case huge_h264_sps "$f" 1k "no video frame"
# Believable, but false: 2048x2048 claimed by a 64x48 stream. Every picture is concealed.
case_begin false_h264_sps;         f=$(in_case false tiny.mp4 avcc 2048 2048)
bad_case false_h264_sps "$f" 1k "every video frame is damaged"

# ---- damaged packets: concealed, with a warning ----
case_begin corrupt_middle;  f=$(in_case flipped fast.mp4 flip)
good_case corrupt_middle "$f" "$(fifth "$f")" "damaged"
# (Noise through the whole file: the full tier, 5.1 s of CPU; corrupt_middle above is the
# same concealment and warning in the quick one.)
if ! full_tier corrupt_noise_bsf; then
    case_begin corrupt_noise_bsf
    f="$CASE_DIR/noisy.mkv"
    # about one byte in 20000: some frames damaged, most not (amount=400 damages every one)
    ff -i "$(src_clip src.mp4)" -c copy -bsf:v noise=amount=20000 "$f"
    good_case corrupt_noise_bsf "$f" "$(fifth "$f")" "damaged"
fi

# The audio changes layout mid-stream (stereo, then mono: a TV recording across an
# advert). Not damage at all; it crashed shrink (SIGSEGV in libswresample) until the
# resample stage learned to start a new context when its input changes.
case_begin audio_layout_change
f="$CASE_DIR/channels.ts"
for n in 2 1; do
    ff -f lavfi -i testsrc2=size=320x240:rate=25 -f lavfi -i sine=sample_rate=48000 -t 2 -c:v libx264 \
       -preset ultrafast -c:a mp2 -ac $n -output_ts_offset $((2 - n * 2 + 2)) "$CASE_DIR/part$n.ts"
done
cat "$CASE_DIR/part2.ts" "$CASE_DIR/part1.ts" > "$f"
rm -f "$CASE_DIR/part2.ts" "$CASE_DIR/part1.ts"
good_case audio_layout_change "$f" "$(fifth "$f")" "" --audio yes

# Every audio packet damaged: the video is still worth having, without audio.
case_begin corrupt_all_audio
f="$CASE_DIR/mute.mkv"
ff -i "$(src_clip src.mp4)" -c copy -bsf:a noise=amount=1 "$f"
good_case corrupt_all_audio "$f" "$(fifth "$f")" "no audio could be decoded" --audio no

script_done
