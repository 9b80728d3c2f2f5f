#!/usr/bin/env bash
# --json: one object per input on stdout, of the schema in docs/JSON.md,
# parsed by real JSON parsers (python3's json, and jq when installed); only
# JSON on stdout, even with -v and on failures; names that need escaping.
# SPDX-License-Identifier: GPL-3.0-or-later
. "$(dirname "$0")/lib.sh"

CLIP=(size=320x240 rate=25 dur=4 audio=sine)   # (runs with --speed fast: JSON, not encoders)
expect_jsonl() {
    local msgs
    msgs=$(jl check "$OUT" "$1" 2>&1) || err "JSON lines: $msgs"
}

# Every kind of line in one run: shrunk, copied, failed; -v on top, so
# stderr is busy and stdout must still be JSON only.
case_begin every_action
a=$(clip_into a.mp4 "$CASE_DIR" "${CLIP[@]}")
small=$(clip_into small.mp4 "$CASE_DIR" size=160x120 rate=10 dur=2 audio=none)
printf 'garbage\n%.0s' {1..20000} > "$CASE_DIR/bad.mp4"
target=$(( $(fsize "$small") + 1000 ))
run_shrink "$a" "$small" "$CASE_DIR/bad.mp4" --target "$target" --speed fast --json -v
expect_rc 7
expect_jsonl 3
[ "$(jl get "$OUT" 0 action)" = shrunk ] || err "a.mp4: $(jl get "$OUT" 0 action)"
[ "$(jl get "$OUT" 1 action)" = copied ] || err "small.mp4: $(jl get "$OUT" 1 action)"
[ "$(jl get "$OUT" 2 action)" = failed ] || err "bad.mp4: $(jl get "$OUT" 2 action)"
case "$(jl get "$OUT" 0 codec)" in h264|hevc|av1) ;; *) err "a.mp4 codec $(jl get "$OUT" 0 codec)" ;; esac
[ "$(jl get "$OUT" 0 audio.codec)" = opus ] || err "a.mp4 audio $(jl get "$OUT" 0 audio)"
[ "$(jl get "$OUT" 0 input_bytes)" = "$(fsize "$a")" ] || err "a.mp4 input_bytes $(jl get "$OUT" 0 input_bytes)"
for k in predicted measured; do
    v=$(jl get "$OUT" 0 $k)
    case "$v" in null|'{"psnr": '*) ;; *) err "$k is $v" ;; esac
done
[ "$(jl get "$OUT" 1 bytes)" = "$(fsize "$small")" ] || err "copy's bytes $(jl get "$OUT" 1 bytes)"
[ "$(jl get "$OUT" 2 output)" = null ] || err "failure's output $(jl get "$OUT" 2 output)"
[ "$(jl get "$OUT" 2 exit)" = 3 ] || err "failure's exit $(jl get "$OUT" 2 exit)"
grep -q "verbose" "$ERR" || err "-v said nothing on stderr"
if command -v jq >/dev/null; then
    jq -e -s 'length == 3 and (map(.input) | length == 3) and .[0].error == null and .[2].error != null' \
        "$OUT" >/dev/null || err "jq does not read stdout as 3 objects"
    [ "$(jq -r -s '.[0].output' "$OUT")" = "$CASE_DIR/a.shrunk.mp4" ] || err "jq: output $(jq -r -s '.[0].output' "$OUT")"
fi
no_leftovers "$CASE_DIR"
case_end

# Names with quotes, backslashes, a tab, a newline and UTF-8 come back intact.
case_begin escaping
name=$'we"ird\\ na\tme\nété.mp4'
src=$(make_clip a.mp4 "${CLIP[@]}")
cp "$src" "$CASE_DIR/$name"
run_shrink "$CASE_DIR/$name" --target 60k --speed fast --json
expect_rc 0
expect_jsonl 1
got=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1], encoding="utf-8").read())["input"], end="")' "$OUT")
[ "$got" = "$CASE_DIR/$name" ] || err "input read back as $(printf %q "$got")"
want_out="$CASE_DIR/${name%.mp4}.shrunk.mp4"
got=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1], encoding="utf-8").read())["output"], end="")' "$OUT")
[ "$got" = "$want_out" ] || err "output read back as $(printf %q "$got")"
[ -s "$want_out" ] || err "no output file"
case_end

# A usage error prints no JSON (there is no input to speak of) and exit 2;
# a trim outside the input is the input's failure: a JSON line, exit 2.
case_begin usage_no_json
a=$(clip_into a.mp4 "$CASE_DIR" "${CLIP[@]}")
run_shrink "$a" --target 60k --json --start 5 --end 2
expect_rc 2
[ -s "$OUT" ] && err "stdout on a usage error: $(head -c 300 "$OUT")"
run_shrink "$a" --target 60k --json --start 30
expect_rc 2
expect_jsonl 1
[ "$(jl get "$OUT" 0 error)" = "trim outside the input" ] || err "error: $(jl get "$OUT" 0 error)"
no_leftovers "$CASE_DIR"
case_end

script_done
