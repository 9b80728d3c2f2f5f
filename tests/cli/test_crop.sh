#!/usr/bin/env bash
# Black bars (--crop auto, the default; off; W:H:X:Y): a letterboxed or
# pillarboxed clip is cut to its picture before scaling, so the output has no
# black rows or columns left (checked by ffmpeg's own cropdetect, over every
# frame of the output) and the picture's aspect; a dark or fading scene does
# not crop picture away; a clip without bars is not cropped; --crop off keeps
# the bars; a crop outside the picture, or one that leaves nothing, is one
# line and exit 2. The crop is in the JSON, the result line, --plan and a
# scale-out plan (its chunks crop the same).
# SPDX-License-Identifier: GPL-3.0-or-later
. "$(dirname "$0")/lib.sh"

# boxed NAME W H PW PH X Y [DUR] [EXTRA_FILTER] [ROTATE]: testsrc2 at WxH padded with
# black to PWxPH at X,Y (4 s at 25 fps, mono sine), made once per run; prints its path.
boxed() {
    local name=$1 w=$2 h=$3 pw=$4 ph=$5 x=$6 y=$7 dur=${8:-4} extra=${9:-} rot=${10:-}
    local path="$CLIP_DIR/crop_$name.mp4" vf
    if [ ! -s "$path" ]; then
        vf="pad=$pw:$ph:$x:$y:black${extra:+,$extra}"
        ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=${w}x$h:rate=25" \
            -f lavfi -i "sine=frequency=440:sample_rate=48000" -t "$dur" -map 0:v -map 1:a -vf "$vf" \
            -c:v libx264 -preset ultrafast -crf 20 -pix_fmt yuv420p -c:a aac "$path.tmp.mp4" || return 1
        if [ -n "$rot" ]; then
            ffmpeg -nostdin -v error -y -i "$path.tmp.mp4" -map 0 -c copy -metadata:s:v:0 rotate="$rot" \
                "$path.r.mp4" && mv "$path.r.mp4" "$path.tmp.mp4" || return 1
        fi
        mv "$path.tmp.mp4" "$path"
    fi
    cp "$path" "$CASE_DIR/$name.mp4" && printf '%s\n' "$CASE_DIR/$name.mp4"
}

# bars FILE: "W H CW CH": the displayed size of FILE's video (ffmpeg turns it as
# shown) and what ffmpeg's own cropdetect finds lit over all its frames (union,
# even); CW CH less than W H means black rows or columns are left.
bars() {
    ffmpeg -nostdin -v info -i "$1" -vf "cropdetect=round=2:skip=0:reset=0,showinfo" -an -f null - 2>&1 |
        python3 -c '
import re, sys
t = sys.stdin.read()
s = re.findall(r" s:(\d+)x(\d+) ", t)
c = re.findall(r"crop=(\d+):(\d+):", t)
print(" ".join(s[-1] + c[-1]) if s and c else "")'
}

# no_bars_left FILE: every displayed row and column of FILE is lit somewhere.
no_bars_left() {
    local w h cw ch
    read -r w h cw ch <<<"$(bars "$1")"
    if [ -z "$ch" ]; then
        err "$(basename "$1"): cropdetect said nothing"
    elif [ "$cw" != "$w" ] || [ "$ch" != "$h" ]; then
        err "$(basename "$1"): black rows or columns left: ffmpeg's cropdetect finds ${cw}x$ch lit of ${w}x$h"
    fi
}

# crop_json FILE: the JSON's crop as "WxH+X+Y", or "null"
crop_json() {
    python3 -c '
import json, sys
c = json.loads(open(sys.argv[1]).readline()).get("crop", "missing")
print("null" if c is None else c if c == "missing" else "%dx%d+%d+%d" % (c["width"], c["height"], c["x"], c["y"]))' "$1"
}

# aspect FILE: displayed width / height of FILE's video (rotation applied), 3 decimals
aspect() {
    local w h cw ch
    read -r w h cw ch <<<"$(bars "$1")"
    python3 -c "print('%.3f' % ($w / $h))"
}
near() { python3 -c "import sys; a, b, t = map(float, sys.argv[1:]); sys.exit(abs(a - b) > t)" "$@"; }

# ---- letterbox: cut, no bars left, the picture's aspect, in the JSON ----
# (The one case with the search, the default path: the solver sizes the cropped picture. The
# others plan with --no-search: the crop is set on the input before either plans.)
case_begin letterbox_auto
in=$(boxed letterbox 320 136 320 240 0 52)
run_shrink "$in" --target 60k --json -o "$CASE_DIR/out.mp4"
expect_rc 0 "letterboxed clip"
if [ -s "$CASE_DIR/out.mp4" ]; then
    check_output "$CASE_DIR/out.mp4" "$in" 60000 --json "$OUT"
    no_bars_left "$CASE_DIR/out.mp4"
    c=$(crop_json "$OUT")
    [ "$c" = "320x136+0+52" ] || err "JSON crop $c, want 320x136+0+52"
    a=$(aspect "$CASE_DIR/out.mp4")
    near "$a" "$(python3 -c 'print(320/136)')" 0.06 || err "output aspect $a, the picture's is 2.353"
fi
no_leftovers "$CASE_DIR"
case_end

# ---- the result line says it ----
case_begin result_line
in=$(boxed letterbox 320 136 320 240 0 52)
run_shrink "$in" --target 60k --no-search -o "$CASE_DIR/out.mp4"
expect_rc 0 "text result"
grep -q "cropped to 320x136 at 0,52" "$OUT" || err "result line without the crop: $(head -c 300 "$OUT")"
case_end

# ---- --crop off keeps the bars ----
case_begin letterbox_off
in=$(boxed letterbox 320 136 320 240 0 52)
run_shrink "$in" --target 60k --json --crop off --no-search -o "$CASE_DIR/out.mp4"
expect_rc 0 "--crop off"
if [ -s "$CASE_DIR/out.mp4" ]; then
    c=$(crop_json "$OUT")
    [ "$c" = "null" ] || err "JSON crop $c with --crop off, want null"
    read -r w h cw ch <<<"$(bars "$CASE_DIR/out.mp4")"
    [ -n "$ch" ] && [ "$ch" -lt $((h * 3 / 4)) ] || err "--crop off: cropdetect finds ${cw}x$ch lit of ${w}x$h: the bars are gone"
fi
case_end

# ---- pillarbox, shown turned 90 degrees: the crop is the displayed picture's ----
case_begin pillarbox_rotated
# coded 320x240 with bars left and right (x 40..279); shown turned: bars top and bottom
in=$(boxed pillar_rot 240 240 320 240 40 0 4 "" 90)
run_shrink "$in" --target 60k --json --no-search -o "$CASE_DIR/out.mp4"
expect_rc 0 "rotated pillarbox"
if [ -s "$CASE_DIR/out.mp4" ]; then
    no_bars_left "$CASE_DIR/out.mp4"
    c=$(crop_json "$OUT")
    [ "$c" = "240x240+0+40" ] || err "JSON crop $c, want 240x240+0+40 (as displayed)"
    a=$(aspect "$CASE_DIR/out.mp4")
    near "$a" 1 0.06 || err "output aspect $a, the picture's is 1"
fi
case_end

# ---- a fade in and a dark scene do not crop picture away ----
case_begin dark_scene
# 6 s; the picture's top 40 rows black for its first 3.5 s (two of three samples),
# and a fade in from black over the first second.
in=$(boxed dark 320 136 320 240 0 52 6 "drawbox=x=0:y=52:w=320:h=40:color=black:t=fill:enable='lt(t,3.5)',fade=in:0:25")
# (The detection is what is tested: the plan says the crop, no encode needed.)
run_shrink "$in" --target 80k --plan --no-search --json -o "$CASE_DIR/out.mp4"
expect_rc 0 "dark scene"
python3 -c '
import json, sys
c = json.loads(open(sys.argv[1]).readline())["chosen"]["crop"]
sys.exit(c != {"width": 320, "height": 136, "x": 0, "y": 52})' "$OUT" ||
    err "--plan --json crop: $(head -c 400 "$OUT"), want 320x136 at 0,52 (the picture, dark rows kept)"
case_end

# ---- no bars: nothing cropped ----
case_begin no_bars
in=$(clip_into plain.mp4 "$CASE_DIR" size=320x240 dur=4)
run_shrink "$in" --target 60k --json --no-search -v -o "$CASE_DIR/out.mp4"
expect_rc 0 "clip without bars"
c=$(crop_json "$OUT")
[ "$c" = "null" ] || err "JSON crop $c on a clip without bars, want null"
# A frame lit to every edge settles it (the union only grows): the detection stops there
# rather than decode on to its second sample.
grep -q "crop detection: 1 frames, 1 with a picture: no bars" "$ERR" ||
    err "the detection did not stop at its first frame: $(grep 'crop detection' "$ERR")"
[ "$(ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=p=0 "$CASE_DIR/out.mp4" 2>/dev/null |
    python3 -c 'import sys; w, h = map(int, sys.stdin.read().split(",")); print(abs(w / h - 4 / 3) < 0.05)')" = True ] ||
    err "the output is not 4:3"
case_end

# ---- --crop W:H:X:Y ----
case_begin manual
in=$(boxed letterbox 320 136 320 240 0 52)
run_shrink "$in" --target 60k --json --crop 160:136:80:52 --no-search -o "$CASE_DIR/out.mp4"
expect_rc 0 "--crop 160:136:80:52"
if [ -s "$CASE_DIR/out.mp4" ]; then
    check_output "$CASE_DIR/out.mp4" "$in" 60000 --json "$OUT"
    c=$(crop_json "$OUT")
    [ "$c" = "160x136+80+52" ] || err "JSON crop $c, want 160x136+80+52"
    a=$(aspect "$CASE_DIR/out.mp4")
    near "$a" "$(python3 -c 'print(160/136)')" 0.06 || err "output aspect $a, want 1.176"
fi
case_end

# ---- bad values: one line, exit 2, nothing written ----
case_begin bad_values
in=$(boxed letterbox 320 136 320 240 0 52)
for v in 400:100:0:0 100:100:300:0 320:240:0:2 0:100:0:0 100:1:0:0 abc 10:10:10 -2:10:0:0 10:10:0:0:0 10x10+0+0; do
    run_shrink "$in" --target 60k --crop "$v" -o "$CASE_DIR/out.mp4"
    expect_rc 2 "--crop $v"
    n=$(grep -c . "$ERR")
    grep -q "crop" "$ERR" || err "--crop $v: the message does not say crop: $(stderr_text)"
    # the usage hint ("Try 'shrink --help'") is the second line of a usage error
    [ "$n" -le 2 ] || err "--crop $v: $n lines on stderr: $(stderr_text)"
    [ ! -e "$CASE_DIR/out.mp4" ] || err "--crop $v: an output was written"
done
no_leftovers "$CASE_DIR"
case_end

# ---- --plan says it (text and JSON) ----
case_begin plan
in=$(boxed letterbox 320 136 320 240 0 52)
run_shrink "$in" --target 60k --plan --no-search -o "$CASE_DIR/out.mp4"
expect_rc 0 "--plan"
grep -q "cropped to 320x136 at 0,52" "$OUT" || err "--plan without the crop: $(head -c 300 "$OUT")"
run_shrink "$in" --target 60k --plan --no-search --json -o "$CASE_DIR/out.mp4"
python3 -c '
import json, sys
c = json.loads(open(sys.argv[1]).readline())["chosen"]["crop"]
sys.exit(c != {"width": 320, "height": 136, "x": 0, "y": 52})' "$OUT" || err "--plan --json crop: $(head -c 400 "$OUT")"
case_end

# ---- scale-out: the plan file carries the crop and a chunk crops the same ----
case_begin scale_out
in=$(boxed letterbox 320 136 320 240 0 52)
run_shrink plan "$in" --target 60k --chunks 2 -o "$CASE_DIR/plan.json"
expect_rc 0 "shrink plan"
python3 -c '
import json, sys
c = json.load(open(sys.argv[1])).get("crop")
sys.exit(c != {"width": 320, "height": 136, "x": 0, "y": 52})' "$CASE_DIR/plan.json" 2>/dev/null ||
    err "plan file crop: $(grep -o '"crop"[^}]*' "$CASE_DIR/plan.json")"
run_shrink encode-chunk "$CASE_DIR/plan.json" 1 -o "$CASE_DIR/c1.mp4"
expect_rc 0 "encode-chunk 1"
[ -s "$CASE_DIR/c1.mp4" ] && no_bars_left "$CASE_DIR/c1.mp4"
case_end

# ---- the Sintel trailer (1280x544 inside 1280x720): the plan sizes the picture ----
case_begin sintel
src="$SHARED_MEDIA/sintel_trailer_720p.mp4"
if [ ! -f "$src" ]; then
    skip sintel "no $src (SHARED_MEDIA)"
else
    run_shrink "$src" --target 500k --plan --no-search --json -o "$CASE_DIR/out.mp4"
    expect_rc 0 "Sintel --plan"
    python3 -c '
import json, sys
ch = json.loads(open(sys.argv[1]).readline())["chosen"]
c = ch["crop"]
sys.exit(c != {"width": 1280, "height": 544, "x": 0, "y": 88} or abs(ch["width"] / ch["height"] - 1280 / 544) > 0.06)' \
        "$OUT" || err "Sintel: $(head -c 600 "$OUT")"
    case_end
fi

script_done
