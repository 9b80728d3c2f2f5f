#!/usr/bin/env bash
# Speech-aware audio (issue 18): the sound track is measured (speech, music,
# silence) and sets audio's share of the budget. Speech keeps its voice at
# 20 kb/s, where music is dropped (as before); silence is priced at what it
# spends; --no-audio and --audio-bitrate still win; the JSON says why.
# Clips: a picture (testsrc2, 30 fps like the issue's screencast) with
# flite's synthetic speech, a chord, or digital silence.
# SPDX-License-Identifier: GPL-3.0-or-later
. "$(dirname "$0")/lib.sh"

DUR=12
RATE=20000                                   # b/s, the issue's budget
TARGET=$(( RATE * DUR / 8 ))                 # 30000 bytes
TEXT="Welcome to this tutorial. First, open the settings window and choose the network tab. \
Then type the address of your server, and press the connect button. If the light turns green, \
you are done. Otherwise, check the cable, and try again. In the next part, we will share a folder."

# voice_clip NAME AUDIO-LAVFI: DUR s of 160x90 at 30 fps with that sound, AAC (cached by name): the
# cases are about the sound, and a smaller picture is less to decode (the rate is the issue's).
voice_clip() {
    local path="$CLIP_DIR/voice_$1"
    if [ ! -s "$path" ]; then
        ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=160x90:rate=30" -f lavfi -i "$2" \
            -t "$DUR" -map 0:v -map 1:a -ac 1 -ar 44100 -c:v libx264 -preset ultrafast -crf 23 -pix_fmt yuv420p \
            -c:a aac "$path.tmp.mp4" && mv "$path.tmp.mp4" "$path" || { rm -f "$path.tmp.mp4"; return 1; }
    fi
    cp "$path" "$CASE_DIR/$1" && printf '%s\n' "$CASE_DIR/$1"
}
speech_clip() { voice_clip speech.mp4 "flite=text='$TEXT':voice=slt"; }
# A C major chord, each note swelling a little: music to the features (no syllable gaps).
music_clip() {
    voice_clip music.mp4 "aevalsrc=(0.2*sin(2*PI*261.6*t)+0.2*sin(2*PI*329.6*t)+0.2*sin(2*PI*392*t))*(0.8+0.2*sin(2*PI*0.5*t)):s=44100"
}
silence_clip() { voice_clip silence.mp4 "anullsrc=r=44100:cl=mono"; }

# audio_stream_kbps FILE: the audio stream's packets, in kb/s over the file's length.
audio_stream_kbps() {
    ffprobe -v error -select_streams a -show_entries packet=size -of csv=p=0 "$1" |
        awk -v d="$(fmt_duration "$1")" '{ s += $1 } END { printf "%.2f\n", s * 8 / d / 1000 }'
}
audio_channels() { ffprobe -v error -select_streams a -show_entries stream=channels -of csv=p=0 "$1"; }
audio_codec() { ffprobe -v error -select_streams a -show_entries stream=codec_name -of csv=p=0 "$1"; }

# The issue's case: speech at 20 kb/s keeps its voice, Opus mono at 6 kb/s, for the
# whole length (check_output: duration within a frame, audio as the JSON says).
case_begin speech_kept_at_20k
src=$(speech_clip) || err "cannot make the clip"
run_shrink "$src" --target "$TARGET" --speed fast --json
expect_rc 0
out="$CASE_DIR/speech.shrunk.mp4"
check_output "$out" "$src" "$TARGET" --json "$OUT" --audio yes --channels 1
[ "$(audio_codec "$out")" = opus ] || err "audio codec $(audio_codec "$out")"
[ "$(json_get "$OUT" audio_kind)" = speech ] || err "audio_kind $(json_get "$OUT" audio_kind)"
[ "$(json_get "$OUT" audio.bitrate)" = 6000 ] || err "audio bitrate $(json_get "$OUT" audio.bitrate)"
case "$(json_get "$OUT" audio_reason)" in "speech: kept at 6 kb/s mono"*) ;;
    *) err "audio_reason: $(json_get "$OUT" audio_reason)" ;; esac
no_leftovers "$CASE_DIR"
case_end

# Music at the same budget behaves as before: 6 kb/s would be more than a third
# of what the container leaves, so it is dropped, and the JSON says so.
case_begin music_dropped_at_20k
src=$(music_clip) || err "cannot make the clip"
run_shrink "$src" --target "$TARGET" --speed fast --no-search --json
expect_rc 0
out="$CASE_DIR/music.shrunk.mp4"
check_output "$out" "$src" "$TARGET" --json "$OUT" --audio no
[ "$(json_get "$OUT" audio_kind)" = music ] || err "audio_kind $(json_get "$OUT" audio_kind)"
case "$(json_get "$OUT" audio_reason)" in "music: dropped"*"a third"*) ;;
    *) err "audio_reason: $(json_get "$OUT" audio_reason)" ;; esac
# ... and kept where its share allows, at the share it had before (12%, mono).
run_shrink "$src" --target $(( 60000 * DUR / 8 )) --speed fast --no-search --json --force
expect_rc 0
check_output "$out" "$src" $(( 60000 * DUR / 8 )) --json "$OUT" --audio yes --channels 1
[ "$(json_get "$OUT" audio.bitrate)" = 6500 ] || err "music at 60 kb/s: audio $(json_get "$OUT" audio.bitrate)"
no_leftovers "$CASE_DIR"
case_end

# Silence costs what libopus's smallest packets cost (1.8 kb/s, no DTX in FFmpeg 5.1):
# kept where that is within audio's usual share and priced so (the picture gets the
# rest: 3.8 kb/s more than music's at 40 kb/s), dropped at 20 kb/s with the reason.
case_begin silence_cheap_or_dropped
src=$(silence_clip) || err "cannot make the clip"
run_shrink "$src" --target "$TARGET" --speed fast --no-search --json
expect_rc 0
out="$CASE_DIR/silence.shrunk.mp4"
check_output "$out" "$src" "$TARGET" --json "$OUT" --audio no
[ "$(json_get "$OUT" audio_kind)" = silence ] || err "audio_kind $(json_get "$OUT" audio_kind)"
case "$(json_get "$OUT" audio_reason)" in "silence: dropped"*) ;;
    *) err "audio_reason: $(json_get "$OUT" audio_reason)" ;; esac
T40=$(( 40000 * DUR / 8 ))
run_shrink "$src" --target "$T40" --speed fast --no-search --json --force
expect_rc 0
check_output "$out" "$src" "$T40" --json "$OUT" --audio yes --channels 1
case "$(json_get "$OUT" audio_reason)" in "silence: kept"*) ;;
    *) err "audio_reason: $(json_get "$OUT" audio_reason)" ;; esac
kbps=$(audio_stream_kbps "$out")
awk -v k="$kbps" 'BEGIN { exit !(k < 2.0) }' || err "the silent track costs $kbps kb/s"
run_shrink "$src" --target "$T40" --speed fast --no-search --plan --json
sv=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["chosen"]["video_bitrate"])' "$OUT")
msrc=$(music_clip) || err "cannot make the clip"
run_shrink "$msrc" --target "$T40" --speed fast --no-search --plan --json
mv=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["chosen"]["video_bitrate"])' "$OUT")
[ "${sv:-0}" -ge $(( ${mv:-0} + 3000 )) ] || err "video planned for silence $sv b/s, for music $mv"
no_leftovers "$CASE_DIR"
case_end

# --no-audio wins over speech.
case_begin no_audio_wins
src=$(speech_clip) || err "cannot make the clip"
run_shrink "$src" --target "$TARGET" --speed fast --no-search --no-audio --json
expect_rc 0
check_output "$CASE_DIR/speech.shrunk.mp4" "$src" "$TARGET" --json "$OUT" --audio no
[ "$(json_get "$OUT" audio_reason)" = "--no-audio" ] || err "audio_reason: $(json_get "$OUT" audio_reason)"
case_end

# --audio-bitrate wins: music kept at 20 kb/s when asked, speech at what was asked.
case_begin audio_bitrate_wins
src=$(music_clip) || err "cannot make the clip"
run_shrink "$src" --target "$TARGET" --speed fast --no-search --audio-bitrate 6k --json
expect_rc 0
check_output "$CASE_DIR/music.shrunk.mp4" "$src" "$TARGET" --json "$OUT" --audio yes
[ "$(json_get "$OUT" audio.bitrate)" = 6000 ] || err "music: audio $(json_get "$OUT" audio.bitrate)"
case "$(json_get "$OUT" audio_reason)" in *"--audio-bitrate"*) ;;
    *) err "audio_reason: $(json_get "$OUT" audio_reason)" ;; esac
src=$(speech_clip) || err "cannot make the clip"
run_shrink "$src" --target $(( 40000 * DUR / 8 )) --speed fast --no-search --audio-bitrate 10k --json
expect_rc 0
check_output "$CASE_DIR/speech.shrunk.mp4" "$src" $(( 40000 * DUR / 8 )) --json "$OUT" --audio yes --channels 1
[ "$(json_get "$OUT" audio.bitrate)" = 10000 ] || err "speech: audio $(json_get "$OUT" audio.bitrate)"
case_end

# --plan says it too, in text and JSON; nothing is written.
case_begin plan_says_why
src=$(speech_clip) || err "cannot make the clip"
run_shrink "$src" --target "$TARGET" --speed fast --no-search --plan
expect_rc 0
grep -q "opus 6000 b/s mono (speech: kept at 6 kb/s mono" "$OUT" || err "--plan: $(grep chosen "$OUT")"
run_shrink "$src" --target "$TARGET" --speed fast --no-search --plan --json
expect_rc 0
python3 - "$OUT" <<'EOF' || err "--plan --json: $(head -c 300 "$OUT")"
import json, sys
o = json.loads(open(sys.argv[1]).read())
c = o["chosen"]
assert c["audio_kind"] == "speech", c["audio_kind"]
assert c["audio_reason"].startswith("speech: kept"), c["audio_reason"]
assert c["audio"]["channels"] == 1 and c["audio"]["bitrate"] == 6000, c["audio"]
EOF
# A trimmed range is listened to where it is (a seek into the file).
run_shrink "$src" --start 3 --target "$TARGET" --speed fast --no-search --plan --json
expect_rc 0
python3 -c 'import json,sys; c = json.load(open(sys.argv[1]))["chosen"]; sys.exit(c["audio_kind"] != "speech")' "$OUT" ||
    err "--start 3: $(head -c 300 "$OUT")"
[ ! -e "$CASE_DIR/speech.shrunk.mp4" ] || err "--plan wrote an output"
case_end

# Real speech (a 5.1 EBU channel announcement) from ../shared/media: trimmed to 20 s
# at 16 kb/s, where its 8 fps leave music's 6 kb/s over a third: kept as speech.
ebu="$SHARED_MEDIA/ebu_channel_id_speech_51.mp4"
if [ -f "$ebu" ]; then
    case_begin shared_speech_kept
    cp "$ebu" "$CASE_DIR/ebu.mp4"
    run_shrink "$CASE_DIR/ebu.mp4" --end 20 --target $(( 16000 * 20 / 8 )) --speed fast --no-search --json
    expect_rc 0
    [ "$(json_get "$OUT" audio_kind)" = speech ] || err "audio_kind $(json_get "$OUT" audio_kind)"
    [ "$(audio_channels "$CASE_DIR/ebu.shrunk.mp4")" = 1 ] || err "channels $(audio_channels "$CASE_DIR/ebu.shrunk.mp4")"
    no_leftovers "$CASE_DIR"
    case_end
else
    skip shared_speech_kept "no $ebu"
fi

script_done
