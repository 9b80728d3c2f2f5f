#!/usr/bin/env bash
# --no-search: the plan is the bits-per-pixel rule's, no samples are encoded; the
# output is still a valid file under the target. (The behaviour cases of other
# scripts use it where the solver's choice is not what they test.)
# SPDX-License-Identifier: GPL-3.0-or-later
. "$(dirname "$0")/lib.sh"

CLIP=(size=320x240 rate=25 dur=4 audio=sine)

# The same clip and target planned twice: the search measures candidates, the rule
# alone measures none and says so.
case_begin no_search_plan
a=$(clip_into a.mp4 "$CASE_DIR" "${CLIP[@]}")
snap_dir "$CASE_DIR"
run_shrink "$a" --target 60k --plan --json
expect_rc 0 "with the search"
[ "$(json_get "$OUT" searched)" = true ] || err "the search: searched $(json_get "$OUT" searched)"
n=$(json_get "$OUT" sample_encodes)
[ "${n:-0}" -gt 0 ] 2>/dev/null || err "the search: sample_encodes $n"
[ "$(json_get "$OUT" candidates)" != "[]" ] || err "the search listed no candidates"
run_shrink "$a" --target 60k --plan --json --no-search
expect_rc 0 "--no-search"
[ "$(json_get "$OUT" searched)" = false ] || err "--no-search: searched $(json_get "$OUT" searched)"
[ "$(json_get "$OUT" sample_encodes)" = 0 ] || err "--no-search: sample_encodes $(json_get "$OUT" sample_encodes)"
[ "$(json_get "$OUT" candidates)" = "[]" ] || err "--no-search: candidates $(json_get "$OUT" candidates)"
[ "$(json_get "$OUT" chosen.encoder)" = x264 ] || err "--no-search: the rule's encoder is x264, not $(json_get "$OUT" chosen.encoder)"
h=$(json_get "$OUT" chosen.height)
[ "${h:-0}" -ge 2 ] 2>/dev/null && [ "$h" -le 240 ] || err "--no-search: chosen height $h"
[ "$(json_get "$OUT" chosen.predicted_bytes)" = 60000 ] || err "--no-search: predicted_bytes $(json_get "$OUT" chosen.predicted_bytes)"
run_shrink "$a" --target 60k --plan --no-search
expect_rc 0 "--no-search, text"
grep -q "no search: --no-search" "$OUT" || err "--plan's text does not say why nothing was searched: $(head -c 300 "$OUT")"
dir_expect "$CASE_DIR"
case_end

# A real encode: valid, under the target, the rule's encoder, no search timed.
case_begin no_search_encode
a=$(clip_into a.mp4 "$CASE_DIR" "${CLIP[@]}")
run_shrink "$a" --target 60k --no-search --json -v
expect_rc 0
check_output "$CASE_DIR/a.shrunk.mp4" "$a" 60000 --json "$OUT"
[ "$(json_get "$OUT" search_seconds)" = null ] || err "search_seconds $(json_get "$OUT" search_seconds)"
[ "$(json_get "$OUT" codec)" = h264 ] || err "codec $(json_get "$OUT" codec)"
if grep -q "search: .* encodes" "$ERR"; then err "-v logged a search: $(grep 'search:' "$ERR" | head -1)"; fi
no_leftovers "$CASE_DIR"
case_end

case_begin no_search_help
run_shrink --help
expect_rc 0
grep -q -- "--no-search" "$OUT" || err "--help does not list --no-search"
case_end

script_done
