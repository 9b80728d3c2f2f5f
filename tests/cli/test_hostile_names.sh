#!/usr/bin/env bash
# Hostile file names (escape sequences, newline, tab, DEL, bytes that are not
# UTF-8) and absurd numbers. --json is always valid UTF-8 JSON and each name
# round-trips by docs/JSON.md's rule (U+FFFD in the string, the exact bytes in
# NAME_base64); human output (result lines, messages, -v, progress, --plan)
# never carries a raw control character: they show as \xHH, valid UTF-8 as it
# is. Numbers outside what the job can honour are usage errors (exit 2)
# naming the option and the range.
# SPDX-License-Identifier: GPL-3.0-or-later
. "$(dirname "$0")/lib.sh"

CLIP=(size=160x120 rate=10 dur=2 audio=sine)
names() { python3 "$CLI_DIR/names.py" "$@"; }
nfiles() { find "$1" -mindepth 1 -maxdepth 1 -printf x | wc -c; }   # names with newlines count once
# expect_ok WHAT CHECK-OUTPUT: record each problem names.py printed
expect_ok() {
    local line
    while IFS= read -r line; do
        [ -n "$line" ] && err "$1: $line"
    done <<<"$2"
}

# Each a file name; the display form of the first few is checked in the text cases.
HOSTILE=(
    $'esc\e[31mred\e[0m.mp4'       # colour escape
    $'osc\e]0;pwned\a.mp4'         # terminal title (OSC ... BEL)
    $'new\nline.mp4'
    $'tab\there.mp4'
    $'cr\rback.mp4'
    $'del\x7f.mp4'
    $'ff\xff.mp4'                  # never UTF-8
    $'cont\x80x.mp4'               # a lone continuation byte
    $'overlong\xc0\xaf.mp4'        # '/' in two bytes
    $'surrogate\xed\xa0\x80.mp4'
    $'csi\xc2\x9b2J.mp4'           # U+009B, the one-character CSI
    $'bidi\xe2\x80\xaevid.mp4'     # U+202E RIGHT-TO-LEFT OVERRIDE
    'été.mp4'                      # valid UTF-8: kept as it is
    '漢字.mp4'
)

fill_dir() {   # DIR: one copy of the clip under each hostile name
    local dir=$1 src n
    mkdir -p "$dir"
    src=$(make_clip n.mp4 "${CLIP[@]}") || return 1
    for n in "${HOSTILE[@]}"; do cp "$src" "$dir/$n"; done
}

# A directory of them, each already fitting (copied), plus a corrupt one: --json.
case_begin json_batch
fill_dir "$CASE_DIR/in"
head -c 3000 /dev/urandom > "$CASE_DIR/in/"$'broken\e[5m\xfe.mp4'
run_shrink "$CASE_DIR/in" --target 10MB --outdir "$CASE_DIR/out" --json
expect_rc 7 "one corrupt file among good ones"
expect_ok json "$(names json "$OUT" --inputs "$CASE_DIR/in")"
[ "$(grep -c '' "$OUT")" = $(( ${#HOSTILE[@]} + 1 )) ] || err "expected $(( ${#HOSTILE[@]} + 1 )) JSON lines, got $(grep -c '' "$OUT")"
[ "$(nfiles "$CASE_DIR/out")" = ${#HOSTILE[@]} ] || err "expected ${#HOSTILE[@]} outputs: $(nfiles "$CASE_DIR/out")"
expect_ok stderr "$(names clean "$ERR" --expect 'broken\x1b[5m\xfe.mp4: error:')"
no_leftovers "$CASE_DIR/in" "$CASE_DIR/out"
case_end

# The same names encoded, in text, with -v and --progress: every line clean,
# one result line per input (a newline in a name no longer splits one).
case_begin text_batch
fill_dir "$CASE_DIR/in"
run_shrink "$CASE_DIR/in" --target 15k --codec x264 --speed fast --outdir "$CASE_DIR/out" -v --progress
expect_rc 0 "a batch of hostile names"
expect_ok output "$(names clean "$OUT" "$ERR" --expect 'esc\x1b[31mred\x1b[0m.shrunk.mp4: ' \
    --expect 'new\x0aline.shrunk.mp4: ' --expect 'ff\xff.shrunk.mp4: ' --expect 'overlong\xc0\xaf' \
    --expect 'csi\xc2\x9b2J' --expect 'bidi\xe2\x80\xaevid' --expect 'été.shrunk.mp4: ' --expect '漢字.shrunk.mp4: ' \
    --expect 'osc\x1b]0;pwned\x07.mp4: verbose: ')"
[ "$(grep -c '' "$OUT")" = ${#HOSTILE[@]} ] || err "expected ${#HOSTILE[@]} result lines, got $(grep -c '' "$OUT")"
grep -q '^shrink: \[[0-9]*/14\] tab\\x09here.mp4: ' "$ERR" || err "no progress line for tab\\x09here.mp4"
[ "$(nfiles "$CASE_DIR/out")" = ${#HOSTILE[@]} ] || err "expected ${#HOSTILE[@]} outputs: $(nfiles "$CASE_DIR/out")"
no_leftovers "$CASE_DIR/in" "$CASE_DIR/out"
case_end

# A bad input under such a name: one clean error line, a clean result line; and in JSON.
case_begin bad_input
bad="$CASE_DIR/"$'x\e[2J\n\xff.mp4'
printf 'not a video at all' > "$bad"
run_shrink "$bad" --target 1MB
expect_rc 3 "not a video"
expect_ok output "$(names clean "$OUT" "$ERR" --expect 'x\x1b[2J\x0a\xff.mp4: error: ' \
    --expect 'x\x1b[2J\x0a\xff.mp4: failed: ')"
[ "$(grep -c '' "$ERR")" = 1 ] || err "stderr has $(grep -c '' "$ERR") lines, expected 1"
run_shrink "$bad" --target 1MB --json
expect_rc 3 "not a video, --json"
expect_ok json "$(names json "$OUT" --input "$bad")"
[ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["exit"])' "$OUT" 2>&1)" = 3 ] || err "JSON exit is not 3"
case_end

# --plan names the input: in text, clean; in JSON, round-trips.
case_begin plan
in="$CASE_DIR/"$'p\e[1m\xff\t.mp4'
cp "$(make_clip n.mp4 "${CLIP[@]}")" "$in"
run_shrink "$in" --target 15k --codec x264 --plan
expect_rc 0 "--plan"
expect_ok text "$(names clean "$OUT" "$ERR" --expect 'p\x1b[1m\xff\x09.mp4 -> at most ')"
run_shrink "$in" --target 15k --codec x264 --plan --json
expect_rc 0 "--plan --json"
expect_ok json "$(names json "$OUT" --input "$in")"
case_end

# The scale-out plan file is JSON too: valid UTF-8, and encode-chunk finds the input by its exact bytes.
case_begin plan_file
in="$CASE_DIR/"$'s\e[7m\xfe.mp4'
cp "$(make_clip n.mp4 "${CLIP[@]}")" "$in"
run_shrink plan "$in" --target 30k --chunks 2 --codec x264 -o "$CASE_DIR/plan.json"
expect_rc 0 "shrink plan"
expect_ok "plan file" "$(names plan "$CASE_DIR/plan.json" "$in")"
expect_ok text "$(names clean "$OUT" "$ERR" --expect 's\x1b[7m\xfe.mp4 x264')"
run_shrink encode-chunk "$CASE_DIR/plan.json" 0 -o "$CASE_DIR/c0.mp4"
expect_rc 0 "encode-chunk from the plan"
[ -s "$CASE_DIR/c0.mp4" ] || err "no chunk written"
no_leftovers "$CASE_DIR"
case_end

# Option arguments are echoed in usage errors: shown the same way.
case_begin usage_echo
run_shrink x.mp4 --target 1MB --format $'\e]0;pwned\a'
expect_rc 2 "--format ESC"
expect_ok "--format" "$(names clean "$ERR" --expect "--format '"'\x1b]0;pwned\x07'"'")"
run_shrink x.mp4 --target $'\e[2J'
expect_rc 2 "--target ESC"
expect_ok "--target" "$(names clean "$ERR" --expect "--target '"'\x1b[2J'"'")"
case_end

# A glob that picks up a file named like an option: getopt's own message quoted it raw.
case_begin usage_option_name
run_shrink $'-\e[2J.mp4' --target 1MB
expect_rc 2 "a name that looks like options"
expect_ok "short" "$(names clean "$ERR" --expect "'-"'\x1b'"'")"
run_shrink x.mp4 $'--\e]0;pwned\a.mp4' --target 1MB
expect_rc 2 "a name that looks like a long option"
expect_ok "long" "$(names clean "$ERR" --expect "'--"'\x1b]0;pwned\x07.mp4'"'")"
case_end

# ---- numbers: exit 2 and a message naming the option and its range, nothing written ----
range_case() {   # NAME "WORDS IN MESSAGE" ARGS...
    local name=$1 words=$2 w
    shift 2
    case_begin "range_$name"
    clip_into x.mp4 "$CASE_DIR" "${CLIP[@]}" >/dev/null
    snap_dir "$CASE_DIR"
    run_shrink "$CASE_DIR/x.mp4" --target 1MB "$@"
    expect_rc 2 "shrink $*"
    for w in $words; do
        grep -qF -- "$w" "$ERR" || err "stderr does not say '$w': $(stderr_text)"
    done
    [ -s "$OUT" ] && err "stdout not empty: $(head -c 200 "$OUT")"
    dir_expect "$CASE_DIR"
    no_leftovers "$CASE_DIR"
    case_end
}
# libopus through FFmpeg 5.1: 500 b/s to 256 kb/s per channel; a mono source stays mono.
range_case audio_bitrate_1000k "--audio-bitrate 6k 256k" --audio-bitrate 1000k
range_case audio_bitrate_513k  "--audio-bitrate 6k 256k" --audio-bitrate 513k
range_case audio_bitrate_mono_300k "--audio-bitrate 6k 256k" --audio-bitrate 300k
range_case audio_bitrate_1     "--audio-bitrate 6k 256k" --audio-bitrate 1
range_case fps_tiny      "--fps 0.001 1000" --fps 1e-300
range_case fps_zero      "--fps 0.001 1000" --fps 0
range_case fps_nan       "--fps 0.001 1000" --fps nan
range_case fps_inf       "--fps 0.001 1000" --fps inf
range_case fps_negative  "--fps 0.001 1000" --fps -25
range_case min_fps_tiny  "--min-fps 0.001 1000" --min-fps 1e-300
range_case min_fps_huge  "--min-fps 0.001 1000" --min-fps 50000
range_case height_zero   "--height 2 16384" --height 0
range_case height_huge   "--height 2 16384" --height 99999
range_case max_height_nan "--max-height 2 16384" --max-height nan
range_case duration_tiny "--duration 0.001" --duration 0.000001
range_case trim_tiny     "--end 0.001" --start 0.5 --end 0.50001

script_done
