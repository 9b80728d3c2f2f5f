#!/usr/bin/env bash
# Targets: N% of the input's size, --for presets (listed in --help with the
# date they were checked), and inputs that already fit: copied byte for byte
# to STEM.shrunk.EXT (or skipped with --skip-fitting), never re-encoded
# bigger; with a trim, the input's size is the ceiling.
# SPDX-License-Identifier: GPL-3.0-or-later
. "$(dirname "$0")/lib.sh"

CLIP=(size=320x240 rate=25 dur=4 audio=sine)
expect_jsonl() {
    local msgs
    msgs=$(jl check "$OUT" "$1" 2>&1) || err "JSON lines: $msgs"
}

# --target 30%: of each input's own size.
case_begin percent
a=$(clip_into a.mp4 "$CASE_DIR" "${CLIP[@]}")
b=$(clip_into b.mkv "$CASE_DIR" size=480x270 rate=25 dur=4 audio=sine)
run_shrink "$a" "$b" --target 30% --speed fast --no-search --json   # (about the target, not the plan)
expect_rc 0
expect_jsonl 2
i=0
for f in "$a" "$b"; do
    want=$(( $(fsize "$f") * 30 / 100 ))
    t=$(jl get "$OUT" $i target)
    [ "$t" = "$want" ] || err "$(basename "$f"): target $t, expected 30% of $(fsize "$f") = $want"
    o="${f%.*}.shrunk.mp4"
    [ -s "$o" ] && check_output "$o" "$f" "$want" --fill 0.85
    i=$((i + 1))
done
no_leftovers "$CASE_DIR"
case_end

case_begin percent_bad
a=$(clip_into a.mp4 "$CASE_DIR" "${CLIP[@]}")
for t in 0% 150% -5% abc% 1e1% %; do
    run_shrink "$a" --target "$t"
    expect_rc 2 "--target $t"
done
[ "$(ls "$CASE_DIR")" = a.mp4 ] || err "files appeared: $(ls "$CASE_DIR" | _words)"
case_end

# --for: the preset's bytes, named in the JSON; a clip over 600 KB shrinks for MMS.
case_begin preset_mms
a=$(clip_into big.mp4 "$CASE_DIR" size=640x360 rate=25 dur=6 audio=sine)
[ "$(fsize "$a")" -gt 600000 ] || err "the clip is not over 600 KB ($(fsize "$a"))"
run_shrink "$a" --for mms --speed fast --no-search --json   # (about the target, not the plan)
expect_rc 0
expect_jsonl 1
[ "$(jl get "$OUT" 0 target)" = 600000 ] || err "target $(jl get "$OUT" 0 target)"
[ "$(jl get "$OUT" 0 preset)" = mms ] || err "preset $(jl get "$OUT" 0 preset)"
[ -s "$CASE_DIR/big.shrunk.mp4" ] && check_output "$CASE_DIR/big.shrunk.mp4" "$a" 600000 --fill 0.9
no_leftovers "$CASE_DIR"
case_end

# Each preset in --help with its size and the check date; --for takes any case;
# unknown names and --for with --target are usage errors.
case_begin preset_help
"$SHRINK" --help > "$CASE_DIR/help.txt" || err "--help failed"
grep -q "checked 20[0-9][0-9]-[01][0-9]-[0-3][0-9]" "$CASE_DIR/help.txt" || err "--help gives no check date"
for p in discord:10000000 email:18000000 whatsapp:16000000 mms:600000 slack:1000000000 \
         telegram:2000000000 floppy:1457664; do
    name=${p%%:*}
    got=$(sed -nE "s/^  $name +([0-9,]+) B.*/\1/p" "$CASE_DIR/help.txt" | tr -d ,)
    [ "$got" = "${p#*:}" ] || err "--help lists $name as '$got' B, expected ${p#*:}"
done
a=$(clip_into a.mp4 "$CASE_DIR" "${CLIP[@]}")
run_shrink "$a" --for DISCORD --json --skip-fitting
expect_rc 0
[ "$(jl get "$OUT" 0 target)" = 10000000 ] || err "discord: target $(jl get "$OUT" 0 target)"
run_shrink "$a" --for myspace
expect_rc 2 "--for myspace"
grep -q "discord" "$ERR" || err "the error does not list the presets: $(stderr_text)"
run_shrink "$a" --for email --target 1MB
expect_rc 2 "--for with --target"
case_end

# Already fits: copied byte for byte to STEM.shrunk.EXT (its own container),
# through a temporary file; the input untouched; the result line says so.
case_begin fits_copied
a=$(clip_into a.mkv "$CASE_DIR" "${CLIP[@]}")
before=$(sha "$a")
snap_dir "$CASE_DIR"
run_shrink "$a" --for floppy
expect_rc 0
dir_expect "$CASE_DIR" a.shrunk.mkv
if [ -f "$CASE_DIR/a.shrunk.mkv" ]; then
    cmp -s "$a" "$CASE_DIR/a.shrunk.mkv" || err "the copy differs from the input"
    mode=$(printf '%o' $((0666 & ~$(umask))))
    [ "$(stat -c %a "$CASE_DIR/a.shrunk.mkv")" = "$mode" ] || err "the copy's mode is $(stat -c %a "$CASE_DIR/a.shrunk.mkv"), not $mode"
fi
grep -qF "copied: $a already fits" "$OUT" || err "result line: $(head -c 300 "$OUT")"
[ "$(sha "$a")" = "$before" ] || err "the input changed"
# again: the copy exists now, and is not replaced without --force
run_shrink "$a" --for floppy --json
expect_rc 6
[ "$(jl get "$OUT" 0 action)" = failed ] || err "second run: $(jl get "$OUT" 0 action)"
cmp -s "$a" "$CASE_DIR/a.shrunk.mkv" || err "the copy changed"
no_leftovers "$CASE_DIR"
case_end

# --skip-fitting: nothing written, a line that says why, exit 0.
case_begin fits_skipped
a=$(clip_into a.mp4 "$CASE_DIR" "${CLIP[@]}")
snap_dir "$CASE_DIR"
run_shrink "$a" --target 50MB --skip-fitting --json
expect_rc 0
expect_jsonl 1
[ "$(jl get "$OUT" 0 action)" = skipped-fitting ] || err "action $(jl get "$OUT" 0 action)"
[ "$(jl get "$OUT" 0 output)" = null ] || err "output $(jl get "$OUT" 0 output)"
dir_expect "$CASE_DIR"
case_end

# Fits, but trimmed: encoded (not copied), no bigger than the input.
case_begin fits_trimmed
a=$(clip_into a.mp4 "$CASE_DIR" "${CLIP[@]}")
run_shrink "$a" --target 50MB --start 1 --json
expect_rc 0
expect_jsonl 1
[ "$(jl get "$OUT" 0 action)" = shrunk ] || err "action $(jl get "$OUT" 0 action)"
[ "$(jl get "$OUT" 0 target)" = "$(fsize "$a")" ] || err "target $(jl get "$OUT" 0 target), not the input's size $(fsize "$a")"
o="$CASE_DIR/a.shrunk.mp4"
[ -s "$o" ] && [ "$(fsize "$o")" -gt "$(fsize "$a")" ] && err "the output is bigger than the input"
no_leftovers "$CASE_DIR"
case_end

# Fits, but is not a video: a failure (3), not a copy.
case_begin fits_not_video
printf 'not a video\n' > "$CASE_DIR/n.mp4"
snap_dir "$CASE_DIR"
run_shrink "$CASE_DIR/n.mp4" --target 1MB --json
expect_rc 3
expect_jsonl 1
dir_expect "$CASE_DIR"
no_leftovers "$CASE_DIR"
case_end

script_done
