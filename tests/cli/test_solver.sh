#!/usr/bin/env bash
# The solver: --plan decides and writes nothing, lists the candidates it
# measured and picks the best predicted one; --height/--max-height/--fps/
# --min-fps/--audio-bitrate constrain the search; a generous budget keeps the
# source's picture and a tiny one shrinks it; --report's measurement agrees
# with FFmpeg's own ssim filter, and the prediction with the measurement.
# SPDX-License-Identifier: GPL-3.0-or-later
. "$(dirname "$0")/lib.sh"

CLIP=$(make_clip solver.mp4 size=640x360 rate=25 dur=20)

# plan_json FILE: checks on the --plan --json object; prints nothing, exits 1 with reasons.
plan_check() {
    python3 - "$1" "$2" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
want = json.loads(sys.argv[2])      # constraints: height, max_height, fps, min_fps
bad = []
c = j["candidates"]
if not j["searched"] or len(c) < 2:
    bad.append("searched=%s with %d candidates" % (j["searched"], len(c)))
feas = [x for x in c if x["feasible"]]
ch = j["chosen"]
# Each encoder's best predicted rung (quick presets) is measured again with its final preset,
# and the choice maximises that calibrated score (SSIM x temporal SSIM, in dB, counted up to
# predicted lossless, 0.995 x 0.995: a margin for the prediction's error) less the margin a slower encoder must win by (--speed); ties
# go to the most frames, then pixels.
import math
db = lambda s: -10 * math.log10(max(1 - s, 1e-12))
for x in c:
    # The score is the product of both SSIMs, in dB (predicted ones: within the lines' rounding).
    if not (0 < x["predicted_temporal_ssim"] <= 1) or abs(x["predicted_score_db"] - db(x["predicted_ssim"] * x["predicted_temporal_ssim"])) > 0.6:
        bad.append("candidate %s: score %.3f dB for ssim %.5f x temporal %.5f" % (key(x), x["predicted_score_db"], x["predicted_ssim"], x["predicted_temporal_ssim"]))
key = lambda x: (x["encoder"], x["width"], x["height"], round(x["fps"], 3))
top, each = db(0.995 * 0.995), db(0.995)
def ranked(score, ssim, tssim):
    return top if db(ssim) >= each - 1e-9 and db(tssim) >= each - 1e-9 else min(score, top - 1e-3)
rank = lambda x, score, ssim, tssim: (round(ranked(score, ssim, tssim) - x.get("speed_cost_db", 0), 4), round(x["fps"], 6), x["width"] * x["height"])
for enc in {x["encoder"] for x in feas}:
    mine = [x for x in feas if x["encoder"] == enc]
    best_pred = max(mine, key=lambda x: rank(x, x["predicted_score_db"], x["predicted_ssim"], x["predicted_temporal_ssim"]))
    cal = [x for x in mine if "final_ssim" in x]
    if [key(x) for x in cal] != [key(best_pred)]:
        bad.append("%s: calibrated %s, not just its best predicted %s" % (enc, [key(x) for x in cal], key(best_pred)))
calibrated = [x for x in feas if "final_ssim" in x]
best = max(calibrated, key=lambda x: rank(x, x["final_score_db"], x["final_ssim"], x["final_temporal_ssim"])) if calibrated else None
if best and key(best) != (ch["encoder"], ch["width"], ch["height"], round(ch["fps"], 3)):
    bad.append("chosen %s %dx%d@%.3g is not the best calibrated %s %dx%d@%.3g" % (ch["encoder"], ch["width"], ch["height"], ch["fps"], best["encoder"], best["width"], best["height"], best["fps"]))
if best and abs(ch["predicted_ssim"] - best["final_ssim"]) > 1e-4:
    bad.append("predicted %.5f is not the winner's calibrated %.5f" % (ch["predicted_ssim"], best["final_ssim"]))
if j["sample_encodes"] < len(c):
    bad.append("%d encodes for %d candidates" % (j["sample_encodes"], len(c)))
if not (0 < ch["predicted_ssim"] < 1) or not (0 < ch["predicted_temporal_ssim"] <= 1):
    bad.append("predicted ssim %s, temporal %s" % (ch["predicted_ssim"], ch["predicted_temporal_ssim"]))
for x in c:
    if x["width"] % 2 or x["height"] % 2 or x["width"] > 640 or x["height"] > 360 or x["fps"] > 25.001:
        bad.append("candidate %dx%d@%.3g outside the source" % (x["width"], x["height"], x["fps"]))
    if "height" in want and x["height"] != want["height"]:
        bad.append("candidate height %d, asked %d" % (x["height"], want["height"]))
    if "max_height" in want and x["height"] > want["max_height"]:
        bad.append("candidate height %d above %d" % (x["height"], want["max_height"]))
    if "fps" in want and abs(x["fps"] - want["fps"]) > 0.01:
        bad.append("candidate fps %.3f, asked %.3f" % (x["fps"], want["fps"]))
    if "min_fps" in want and x["fps"] < want["min_fps"] - 1e-6:
        bad.append("candidate fps %.3f below %.3f" % (x["fps"], want["min_fps"]))
    if not x["samples"] or any(s["bitrate"] <= 0 or not 0 < s["ssim"] <= 1 or not 0 < s["temporal_ssim"] <= 1
                               for s in x["samples"]):
        bad.append("candidate without sane samples")
if "audio_bitrate" in want and (ch["audio"] or {}).get("bitrate") != want["audio_bitrate"]:
    bad.append("audio %s, asked %d" % (ch["audio"], want["audio_bitrate"]))
if "source" in want and (ch["width"], ch["height"]) != (640, 360):
    bad.append("a generous budget chose %dx%d, not the source" % (ch["width"], ch["height"]))
if "smaller" in want and ch["height"] >= 360:
    bad.append("a tiny budget kept %dx%d" % (ch["width"], ch["height"]))
print("; ".join(bad))
sys.exit(1 if bad else 0)
PY
}

plan_case() {
    local name=$1 target=$2 want=$3
    shift 3
    case_begin "$name"
    local in="$CASE_DIR/in.mp4" why
    cp "$CLIP" "$in"
    snap_dir "$CASE_DIR"
    run_shrink "$in" --target "$target" --plan --json "$@"
    expect_rc 0 "--plan $*"
    why=$(plan_check "$OUT" "$want") || err "$why"
    dir_expect "$CASE_DIR"          # --plan writes nothing
    no_leftovers "$CASE_DIR"
    case_end
}

plan_case plan_json 150k '{}'
plan_case plan_height 150k '{"height": 240}' --height 240
plan_case plan_max_height 150k '{"max_height": 180}' --max-height 180
plan_case plan_fps 150k '{"fps": 5}' --fps 5
plan_case plan_min_fps 60k '{"min_fps": 12.5}' --min-fps 12
plan_case plan_audio_bitrate 300k '{"audio_bitrate": 32000}' --audio-bitrate 32k
plan_case plan_generous 5MB '{"source": 1}'
plan_case plan_tiny 30k '{"smaller": 1}'

# The text form names the choice and writes nothing.
case_begin plan_text
cp "$CLIP" "$CASE_DIR/in.mp4"
snap_dir "$CASE_DIR"
run_shrink "$CASE_DIR/in.mp4" --target 150k --plan
expect_rc 0
grep -q "<- chosen" "$OUT" || err "no chosen candidate in: $(head -c 300 "$OUT")"
grep -q "^chosen: " "$OUT" || err "no 'chosen:' line"
dir_expect "$CASE_DIR"
case_end

# --report: the measurement agrees with FFmpeg's ssim filter at the same size
# (display size, held frames), its temporal SSIM with FFmpeg's tblend + ssim
# (frame differences, each source frame against the picture shown then), and
# the prediction with the measurement.
case_begin report
in="$CASE_DIR/in.mp4"
cp "$CLIP" "$in"
run_shrink "$in" --target 200k --report --json
expect_rc 0
out="$CASE_DIR/in.shrunk.mp4"
if [ -s "$out" ]; then
    read -r meas pred tmeas tpred < <(python3 -c '
import json, sys
j = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
m, p = j.get("measured") or {}, j.get("predicted") or {}
print(m.get("ssim", 0), p.get("ssim", 0), m.get("temporal_ssim") or 0, p.get("temporal_ssim") or 0)' "$OUT")
    tff=$(ffmpeg -nostdin -hide_banner -nostats -i "$in" -i "$out" -lavfi \
        "[0:v]setpts=PTS-STARTPTS,format=yuv420p,pad=1280:360[r];[1:v]setpts=PTS-STARTPTS,scale=640:360:flags=bicubic,format=yuv420p[d];[r][d]overlay=x=640:y=0:eof_action=repeat,split[p1][p2];[p1]crop=640:360:0:0,tblend=all_mode=grainextract[a];[p2]crop=640:360:640:0,tblend=all_mode=grainextract[b];[a][b]ssim" \
        -f null - 2>&1 | sed -n 's/.*SSIM Y:\([0-9.]*\).*/\1/p')
    python3 -c "import sys; m, f = float(sys.argv[1]), float(sys.argv[2]); sys.exit(not (0 < m <= 1 and abs(m - f) < 0.01))" "$tmeas" "${tff:-0}" ||
        err "--report measured temporal SSIM $tmeas, FFmpeg's tblend + ssim say ${tff:-nothing}"
    python3 -c "import sys; m, p = float(sys.argv[1]), float(sys.argv[2]); sys.exit(not (0 < p <= 1 and abs(m - p) < 0.06))" "$tmeas" "$tpred" ||
        err "predicted temporal SSIM $tpred, measured $tmeas"
    grep -q "measured SSIM [0-9.]*, temporal SSIM [0-9.]*, PSNR" "$OUT" && err "--json printed a text line too"
    ff=$(ffmpeg -nostdin -hide_banner -nostats -i "$in" -i "$out" -lavfi \
        "[0:v]setpts=PTS-STARTPTS[r];[1:v]setpts=PTS-STARTPTS,scale=640:360:flags=bicubic[d];[r][d]ssim" \
        -f null - 2>&1 | sed -n 's/.*SSIM Y:\([0-9.]*\).*/\1/p')
    python3 -c "import sys; m, f = float(sys.argv[1]), float(sys.argv[2]); sys.exit(not (0 < m <= 1 and abs(m - f) < 0.01))" "$meas" "$ff" ||
        err "--report measured SSIM $meas, FFmpeg's filter says $ff"
    python3 -c "import sys; m, p = float(sys.argv[1]), float(sys.argv[2]); sys.exit(not (0 < p < 1 and abs(m - p) < 0.06))" "$meas" "$pred" ||
        err "predicted SSIM $pred, measured $meas"
else
    err "no output"
fi
no_leftovers "$CASE_DIR"
case_end

# Frame types are the encoder's: a source with a keyframe every 5 frames must
# not force one IDR per source keyframe on the output (it did: the decoded
# frames carried pict_type I into libx264).
case_begin source_gop
GOP=$(make_clip gop5.mp4 size=640x360 rate=25 dur=10 gop=5)
src_keys=$(ffprobe -v error -select_streams v -show_entries packet=flags -of csv=p=0 "$GOP" | grep -c K)
run_shrink "$GOP" -o "$CASE_DIR/out.mp4" --target 150k --fps 25 --height 360
expect_rc 0
keys=$(ffprobe -v error -select_streams v -show_entries packet=flags -of csv=p=0 "$CASE_DIR/out.mp4" | grep -c K)
[ "$src_keys" -ge 40 ] || err "the source has $src_keys keyframes, expected 50"
[ "$keys" -le 3 ] || err "$keys keyframes in the output of a 250-frame clip without scene cuts (source: $src_keys)"
case_end

# A pinned picture and rate below the rule's bits-per-pixel floor still get
# the budget (they used to get the QP 51 floor encode, a quarter of the target).
case_begin pinned_starved
run_shrink "$CLIP" -o "$CASE_DIR/out.mp4" --target 100k --height 360 --fps 25
expect_rc 0
check_output "$CASE_DIR/out.mp4" "$CLIP" 100000 --fill 0.9
case_end

# Motion: frames are given up last. A moving test pattern at 30 fps and 100
# kb/s: the choice keeps the source's rate (the SSIM-only solver took 15 fps
# here), and wherever one encoder and picture were measured at two rates,
# the choppier one has the lower temporal SSIM: the measure sees the judder.
case_begin motion_keeps_rate
mclip=$(make_clip motion.mp4 size=640x360 rate=30 dur=8 audio=none)
run_shrink "$mclip" --target 100k --plan --json
expect_rc 0
python3 - "$OUT" <<'PY' || err "$(cat "$CASE_DIR/why" 2>/dev/null)"
import json, sys
j = json.load(open(sys.argv[1]))
ch, bad = j["chosen"], []
if abs(ch["fps"] - 30) > 0.01:
    bad.append("chose %.3g fps of the source's 30" % ch["fps"])
c = j["candidates"]
for a in c:
    for b in c:
        if (a["encoder"], a["width"], a["height"]) == (b["encoder"], b["width"], b["height"]) and a["fps"] > b["fps"] * 1.5 \
                and not a["predicted_temporal_ssim"] > b["predicted_temporal_ssim"]:
            bad.append("%s %dx%d: temporal %.4f at %.3g fps, %.4f at %.3g fps" % (a["encoder"], a["width"], a["height"],
                       a["predicted_temporal_ssim"], a["fps"], b["predicted_temporal_ssim"], b["fps"]))
if bad:
    print("; ".join(bad))
    sys.exit(1)
PY
case_end

# The encoder's best setting still under the target: a still picture (colour
# bars) cannot use 30 KB in 5 s. The output is measured, found visually lossless, and
# the result says so (text and JSON) instead of leaving 40% of the target
# unexplained; the file itself is checked by ffprobe.
case_begin lossless_says_so
clip_into bars.mp4 "$CASE_DIR" src=smptebars size=640x360 rate=25 dur=3 >/dev/null
run_shrink "$CASE_DIR/bars.mp4" --target 30k -o "$CASE_DIR/out.mp4"
expect_rc 0
grep -q "visually lossless" "$OUT" || err "the result line does not say visually lossless: $(cat "$OUT")"
check_output "$CASE_DIR/out.mp4" "$CASE_DIR/bars.mp4" 30000
run_shrink "$CASE_DIR/bars.mp4" --target 30k -o "$CASE_DIR/out2.mp4" --json
expect_rc 0
[ "$(json_get "$OUT" visually_lossless)" = True ] || [ "$(json_get "$OUT" visually_lossless)" = true ] ||
    err "visually_lossless is $(json_get "$OUT" visually_lossless)"
python3 -c "import sys; r, s, t = map(float, sys.argv[1:]); sys.exit(not (r < 0.96 and s >= 0.99 and t >= 0.99))" \
    "$(json_get "$OUT" ratio)" "$(json_get "$OUT" measured.ssim)" "$(json_get "$OUT" measured.temporal_ssim)" ||
    err "ratio $(json_get "$OUT" ratio), measured $(json_get "$OUT" measured)"
no_leftovers "$CASE_DIR"
case_end

# An encoder whose smallest file at the chosen picture is over the target
# (SVT-AV1 near its largest quantiser on Big Buck Bunny at 20 kb/s and 24 fps:
# every rate lands at 100-102% of the target) gets a smaller picture at the
# same rate, not the floor: the SSIM-only build made 114x64 at 38% of the
# target here. Needs the shared clip; full tier (a minute and more).
bbb="${SHARED_MEDIA:-}/bbb_360p_60s.mp4"
if full_tier encoder_floor_smaller; then
    :
elif [ ! -f "$bbb" ]; then
    skip encoder_floor_smaller "no $bbb"
else
    case_begin encoder_floor_smaller
    run_shrink "$bbb" --target 125000 --codec svt-av1 --min-fps 24 -o "$CASE_DIR/out.mp4" --json
    expect_rc 0
    check_output "$CASE_DIR/out.mp4" "$bbb" 125000 --fill 0.9 --json "$OUT"
    h=$(probe "$CASE_DIR/out.mp4" video.height)
    [ "${h:-0}" -ge 144 ] || err "height $h: the floor, not a smaller picture"
    case_end
fi

script_done
