#!/usr/bin/env bash
# Faces get the bits (issue 16, --roi auto|faces|off): faces are found on the
# samples and on the film (dlib's HOG detector), the solver weighs the quality
# inside them beside the whole picture's, and encoders that take regions of
# interest (x264, x265) are given them. Checked from outside: the quality
# inside a face box found by another detector (OpenCV's Haar cascade, run once
# on the shared talking head to make FACE_BOX below; not shrink's) is higher
# with regions at the same size, the whole picture no worse than 0.2 dB;
# a clip without faces gives the same file with or without; a rotated source
# (coded sideways, shown upright) is looked at upright and its regions land on
# the face; --roi off looks at nothing; a bad --roi is one line and exit 2; a
# build without a detector says faces are off and still works. GIF takes no
# regions: the faces weigh in its palettes, checked the same way.
# SPDX-License-Identifier: GPL-3.0-or-later
. "$(dirname "$0")/lib.sh"

HEAD="$SHARED_MEDIA/talkinghead_retalk4_700.mp4"
# The face in that clip (700x700), W:H:X:Y: the median over 2 frames a second of
# OpenCV 4.6's haarcascade_frontalface_default on the clip scaled to 360x360
# (127,56 132x132 there), scaled back. Test data, found by another detector.
FACE_BOX=257:257:247:109

DETECTOR=$("$SHRINK" --version | sed -n 's/^faces: //p')
has_detector() { case "$DETECTOR" in off*|"") return 1 ;; esac; }

# ssim_db OUT SRC [CROP]: luma SSIM in dB of OUT (scaled to SRC's size, bicubic)
# against SRC, inside CROP (W:H:X:Y of SRC's picture as shown) or over all of it.
ssim_db() {
    local chain="" crop=${3:-}
    [ -n "$crop" ] && chain=",crop=$crop"
    ffmpeg -nostdin -v info -i "$1" -i "$2" -lavfi \
        "[1:v]format=yuv420p$chain[r];[0:v][1:v]scale2ref=flags=bicubic[d][x];[x]nullsink;[d]format=yuv420p$chain[o];[o][r]ssim" \
        -f null - 2>&1 | sed -n 's/.*SSIM Y:[0-9.]* (\([0-9.inf]*\)).*/\1/p' | tail -1
}

# gains_in_face ON OFF SRC: ON is better than OFF inside FACE_BOX by 0.2 dB or more,
# and over the whole picture no worse than 0.2 dB (both against SRC); err otherwise.
gains_in_face() {
    local f1 f0 w1 w0
    f1=$(ssim_db "$1" "$3" $FACE_BOX)
    f0=$(ssim_db "$2" "$3" $FACE_BOX)
    w1=$(ssim_db "$1" "$3")
    w0=$(ssim_db "$2" "$3")
    python3 -c "
import sys
f1, f0, w1, w0 = map(float, sys.argv[1:])
sys.exit(not (f1 - f0 >= 0.2 and w1 - w0 >= -0.2))" "$f1" "$f0" "$w1" "$w0" ||
        err "face $f0 -> $f1 dB, whole $w0 -> $w1 dB"
}

# roi_get FILE KEY: the JSON's roi.KEY (null as "null")
roi_get() { json_get "$1" "roi.$2"; }

case_begin bad_value
src=$(clip_into a.mp4 "$CASE_DIR" dur=2 size=320x180) || err "clip"
run_shrink "$src" --target 50KB --roi maybe
expect_rc 2
head -1 "$ERR" | grep -qF -- "--roi 'maybe'" || err "stderr: $(stderr_text)"
[ ! -e "$CASE_DIR/a.shrunk.mp4" ] || err "an output was written"
case_end

# No face: the same plan with the regions on auto as with them off, and the same
# quality (the encodes themselves are not bit-exact from run to run: the
# search's parallel sample encodes), and the JSON says what the looks found.
case_begin no_faces_same_output
src=$(clip_into plain.mp4 "$CASE_DIR" dur=4 size=320x180) || err "clip"
run_shrink "$src" --target 40KB --codec x264 --roi auto -o "$CASE_DIR/auto.mp4" --json
expect_rc 0
cp "$OUT" "$CASE_DIR/auto.json"
check_output "$CASE_DIR/auto.mp4" "$src" 40000 --json "$CASE_DIR/auto.json"
run_shrink "$src" --target 40KB --codec x264 --roi off -o "$CASE_DIR/off.mp4" --json
expect_rc 0
for k in encoder width height fps; do
    [ "$(json_get "$CASE_DIR/auto.json" $k)" = "$(json_get "$OUT" $k)" ] ||
        err "$k: $(json_get "$CASE_DIR/auto.json" $k) with --roi auto, $(json_get "$OUT" $k) with off"
done
w1=$(ssim_db "$CASE_DIR/auto.mp4" "$src")
w0=$(ssim_db "$CASE_DIR/off.mp4" "$src")
python3 -c "import sys; sys.exit(not abs(float(sys.argv[1]) - float(sys.argv[2])) <= 0.2)" "$w1" "$w0" ||
    err "SSIM $w0 dB off, $w1 dB auto"
[ "$(roi_get "$CASE_DIR/auto.json" regions)" = false ] || err "regions $(roi_get "$CASE_DIR/auto.json" regions) without a face"
if has_detector; then
    looks=$(roi_get "$CASE_DIR/auto.json" looks)
    [ "$looks" != null ] && [ "$looks" -ge 1 ] || err "looks $looks: the samples were not looked at"
    [ "$(roi_get "$CASE_DIR/auto.json" looks_with_faces)" = 0 ] ||
        err "a face found in testsrc2: $(roi_get "$CASE_DIR/auto.json" looks_with_faces)"
fi
[ "$(roi_get "$OUT" looks)" = null ] || err "--roi off looked: $(roi_get "$OUT" looks)"
[ "$(roi_get "$OUT" mode)" = off ] || err "mode $(roi_get "$OUT" mode)"
no_leftovers "$CASE_DIR"
case_end

# A build without a detector (make FACES=none; CI builds one): faces are off, said
# so, and the job runs as before.
if has_detector; then
    skip no_detector "this build has a detector ($DETECTOR)"
else
    case_begin no_detector
    src=$(clip_into plain.mp4 "$CASE_DIR" dur=4 size=320x180) || err "clip"
    run_shrink "$src" --target 40KB --roi faces --json
    expect_rc 0
    check_output "$CASE_DIR/plain.shrunk.mp4" "$src" 40000 --json "$OUT"
    [ "$(roi_get "$OUT" detector)" = null ] || err "detector $(roi_get "$OUT" detector)"
    roi_get "$OUT" reason | grep -q "no face detector" || err "reason: $(roi_get "$OUT" reason)"
    case_end
fi

if ! has_detector || [ ! -f "$HEAD" ]; then
    for c in head_plan head_regions rotated_regions gif_faces gif_faces_rotated; do
        skip $c "needs a detector (this build: ${DETECTOR:-?}) and $HEAD"
    done
    script_done
    exit 0
fi

# The plan: the looks at the samples found the face on most of them, its
# share of the picture, and x264's options with regions measured.
case_begin head_plan
cp "$HEAD" "$CASE_DIR/head.mp4"
run_shrink "$CASE_DIR/head.mp4" --target 80KB --codec x264 --plan --json
expect_rc 0
python3 - "$OUT" <<'EOF' || err "plan: $(head -c 600 "$OUT")"
import json, sys
p = json.load(open(sys.argv[1]))
r = p["roi"]
errs = []
if not (r["looks"] and r["looks"] >= 2 and r["looks_with_faces"] >= r["looks"] * 0.75):
    errs.append("looks %r with faces %r" % (r["looks"], r["looks_with_faces"]))
if not (r["share"] and 0.05 < r["share"] < 0.6):
    errs.append("share %r" % r["share"])
if not (r["predicted_face_ssim_db_without"] and r["predicted_face_ssim_db_without"] > 3):
    errs.append("no face score: %r" % r["predicted_face_ssim_db_without"])
if not any("face_ssim_db" in c for c in p["candidates"]):
    errs.append("no candidate has a face score")
if r["regions"] and not (r["predicted_face_ssim_db"] > r["predicted_face_ssim_db_without"]):
    errs.append("regions on without a predicted gain in the faces: %r" % r)
if errs:
    sys.exit("; ".join(errs))
EOF
run_shrink "$CASE_DIR/head.mp4" --target 80KB --codec x264 --plan
grep -q "^faces: .* looks at the samples found a face" "$OUT" || err "no faces line: $(head -c 300 "$OUT")"
case_end

# Regions at the same size: the face (another detector's box) better by 0.2 dB
# or more, the whole picture no worse than 0.2 dB; --report measures inside
# the faces too.
case_begin head_regions
cp "$HEAD" "$CASE_DIR/head.mp4"
pin=(--codec x264 --height 360 --fps 15 --target 80KB)
run_shrink "$CASE_DIR/head.mp4" "${pin[@]}" --roi faces --report -o "$CASE_DIR/faces.mp4" --json
expect_rc 0
cp "$OUT" "$CASE_DIR/faces.json"
check_output "$CASE_DIR/faces.mp4" "$CASE_DIR/head.mp4" 80000 --json "$CASE_DIR/faces.json"
[ "$(roi_get "$CASE_DIR/faces.json" regions)" = true ] || err "regions: $(roi_get "$CASE_DIR/faces.json" reason)"
mf=$(roi_get "$CASE_DIR/faces.json" measured_face_ssim)
python3 -c "import sys; sys.exit(not 0.5 < float(sys.argv[1]) < 1)" "$mf" 2>/dev/null || err "measured_face_ssim $mf"
run_shrink "$CASE_DIR/head.mp4" "${pin[@]}" --roi off -o "$CASE_DIR/off.mp4" --json
expect_rc 0
check_output "$CASE_DIR/off.mp4" "$CASE_DIR/head.mp4" 80000 --json "$OUT"
gains_in_face "$CASE_DIR/faces.mp4" "$CASE_DIR/off.mp4" "$CASE_DIR/head.mp4"
no_leftovers "$CASE_DIR"
case_end

# x265 given regions on a film whose first pictures have no face: 0.6 s of test pattern, then
# 2 s of the talking head, 320x320. libx265 3.5 crashed (SIGSEGV: it keeps a picture's offset
# buffer only when the first picture it made that frame for had offsets); every picture now
# carries a list, the whole picture at offset 0 where there is no face. 5 s of CPU.
case_begin x265_face_after_start
ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=320x320:rate=25:duration=0.6" -ss 1 -t 2 -i "$HEAD" \
    -filter_complex "[1:v]scale=320:320,setsar=1,fps=25[b];[0:v]setsar=1[a];[a][b]concat=n=2:v=1:a=0[v]" \
    -map "[v]" -c:v libx264 -preset ultrafast -crf 18 "$CASE_DIR/late.mp4" || err "clip"
run_shrink "$CASE_DIR/late.mp4" --target 40KB --codec hevc --roi faces -o "$CASE_DIR/o.mp4" --json
expect_rc 0
check_output "$CASE_DIR/o.mp4" "$CASE_DIR/late.mp4" 40000 --json "$OUT" --audio no --vcodec hevc
lf=$(roi_get "$OUT" looks_with_faces)
lk=$(roi_get "$OUT" looks)
# the case's premise: some looks found the face, some (the pattern) did not
[ "$lf" != null ] && [ "$lf" -ge 1 ] && [ "$lf" -lt "$lk" ] || err "looks with faces $lf of $lk"
no_leftovers "$CASE_DIR"
case_end

# A phone's way: the picture stored sideways, a display matrix to turn it. The
# looks turn it upright (HOG finds no sideways face) and the regions go back
# to the stored picture's corners: the face, as shown, gains as upright.
if full_tier rotated_regions; then :; else
    case_begin rotated_regions
    ffmpeg -nostdin -v error -y -i "$HEAD" -t 4 -vf transpose=clock -c:v libx264 -preset ultrafast -crf 18 \
        -c:a copy "$CASE_DIR/side.mp4" &&
        ffmpeg -nostdin -v error -y -i "$CASE_DIR/side.mp4" -map 0 -c copy -metadata:s:v:0 rotate=90 \
            "$CASE_DIR/rot.mp4" || err "clip"
    ffmpeg -nostdin -v error -y -i "$HEAD" -t 4 -c:v libx264 -preset ultrafast -crf 18 -c:a copy "$CASE_DIR/up.mp4"
    pin=(--codec x264 --height 360 --fps 15 --target 50KB)
    run_shrink "$CASE_DIR/rot.mp4" "${pin[@]}" --roi faces -o "$CASE_DIR/faces.mp4" --json
    expect_rc 0
    check_output "$CASE_DIR/faces.mp4" "$CASE_DIR/rot.mp4" 50000 --json "$OUT" --rotation 90
    lf=$(roi_get "$OUT" looks_with_faces)
    [ "$lf" != null ] && [ "$lf" -ge 2 ] || err "looks with faces $lf on the rotated clip"
    run_shrink "$CASE_DIR/rot.mp4" "${pin[@]}" --roi off -o "$CASE_DIR/off.mp4" --json
    expect_rc 0
    # As shown (ffmpeg turns both by their display matrix), against the upright copy.
    f1=$(ssim_db "$CASE_DIR/faces.mp4" "$CASE_DIR/up.mp4" $FACE_BOX)
    f0=$(ssim_db "$CASE_DIR/off.mp4" "$CASE_DIR/up.mp4" $FACE_BOX)
    python3 -c "import sys; sys.exit(not float(sys.argv[1]) - float(sys.argv[2]) >= 0.2)" "$f1" "$f0" ||
        err "face as shown $f0 -> $f1 dB: the regions missed it"
    case_end
fi

# GIF takes no regions: the faces weigh in its palettes instead (libimagequant's
# importance map: 255 inside the faces, little outside). At the same target
# the face (another detector's box) is better by 0.2 dB or more and the whole
# picture no worse than 0.2 dB (the background's fewer colours also cost fewer
# bytes: the rate goes up); the JSON says the palettes were weighted. --roi off
# weighs nothing and looks at nothing. A 3 s cut of the talking head. Two GIF
# fits are 54 s of CPU: the full tier (CI); unit test_gif's importance case
# checks the palette's weights in the quick one.
if full_tier gif_faces; then :; else
case_begin gif_faces
ffmpeg -nostdin -v error -y -i "$HEAD" -t 3 -an -c:v libx264 -preset ultrafast -crf 16 "$CASE_DIR/head.mp4" ||
    err "clip"
run_shrink "$CASE_DIR/head.mp4" --target 400KB --roi faces -o "$CASE_DIR/faces.gif" --json
expect_rc 0
cp "$OUT" "$CASE_DIR/faces.json"
check_output "$CASE_DIR/faces.gif" "$CASE_DIR/head.mp4" 400000 --json "$CASE_DIR/faces.json" --container gif --vcodec gif --audio no
python3 - "$CASE_DIR/faces.json" <<'EOF2' || err "roi: $(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['roi'])" "$CASE_DIR/faces.json")"
import json, sys
r = json.load(open(sys.argv[1]))["roi"]
ok = (r["looks"] and r["looks"] >= 2 and r["looks_with_faces"] >= 2 and r["regions"] and r["strength"] > 0.5
      and r["reason"].startswith("on:") and "palette" in r["reason"])
sys.exit(not ok)
EOF2
run_shrink "$CASE_DIR/head.mp4" --target 400KB --roi off -o "$CASE_DIR/off.gif" --json
expect_rc 0
check_output "$CASE_DIR/off.gif" "$CASE_DIR/head.mp4" 400000 --json "$OUT" --container gif --vcodec gif --audio no
[ "$(roi_get "$OUT" looks)" = null ] || err "--roi off looked: $(roi_get "$OUT" looks)"
[ "$(roi_get "$OUT" regions)" = false ] || err "--roi off weighed: $(roi_get "$OUT" reason)"
gains_in_face "$CASE_DIR/faces.gif" "$CASE_DIR/off.gif" "$CASE_DIR/head.mp4"
no_leftovers "$CASE_DIR"
case_end
fi

# The GIF of a sideways-stored clip is turned upright (GIF has no rotation
# flag) and the faces, found upright and kept in the stored picture's
# corners, are weighed where they are shown: the face as shown gains.
if full_tier gif_faces_rotated; then :; else
    case_begin gif_faces_rotated
    ffmpeg -nostdin -v error -y -i "$HEAD" -t 3 -an -vf transpose=clock -c:v libx264 -preset ultrafast -crf 16 \
        "$CASE_DIR/side.mp4" &&
        ffmpeg -nostdin -v error -y -i "$CASE_DIR/side.mp4" -c copy -metadata:s:v:0 rotate=90 "$CASE_DIR/rot.mp4" &&
        ffmpeg -nostdin -v error -y -i "$HEAD" -t 3 -an -c:v libx264 -preset ultrafast -crf 16 "$CASE_DIR/up.mp4" ||
        err "clip"
    run_shrink "$CASE_DIR/rot.mp4" --target 400KB --roi faces -o "$CASE_DIR/faces.gif" --json
    expect_rc 0
    lf=$(roi_get "$OUT" looks_with_faces)
    [ "$lf" != null ] && [ "$lf" -ge 2 ] || err "looks with faces $lf on the rotated clip"
    run_shrink "$CASE_DIR/rot.mp4" --target 400KB --roi off -o "$CASE_DIR/off.gif"
    expect_rc 0
    # As shown (the GIF is upright already), against the upright copy: the
    # face gains, and more than the whole picture (weights on the wrong
    # corner would give the face nothing of its own).
    f1=$(ssim_db "$CASE_DIR/faces.gif" "$CASE_DIR/up.mp4" $FACE_BOX)
    f0=$(ssim_db "$CASE_DIR/off.gif" "$CASE_DIR/up.mp4" $FACE_BOX)
    w1=$(ssim_db "$CASE_DIR/faces.gif" "$CASE_DIR/up.mp4")
    w0=$(ssim_db "$CASE_DIR/off.gif" "$CASE_DIR/up.mp4")
    python3 -c "
import sys
f1, f0, w1, w0 = map(float, sys.argv[1:])
sys.exit(not (f1 - f0 >= 0.1 and f1 - f0 > w1 - w0 + 0.05))" "$f1" "$f0" "$w1" "$w0" ||
        err "face as shown $f0 -> $f1 dB, whole $w0 -> $w1 dB: the weights missed it"
    case_end
fi

script_done
