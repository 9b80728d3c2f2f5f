#!/usr/bin/env bash
# GIF (issue 5): -o x.gif / --format gif. Checked with our own parse of the
# file (python, below) and with ffprobe/ffmpeg: GIF89a, a looping extension,
# the delays add up to the film (2 cs a frame at most), size <= target,
# every frame decodes, colour tables as the plan says (-v), a two-hour film
# in 200 KB, "target too small" gives a size that then works, Ctrl-C leaves
# nothing.
# SPDX-License-Identifier: GPL-3.0-or-later
. "$(dirname "$0")/lib.sh"

GIFPY="$TEST_DIR/gifparse.py"
cat > "$GIFPY" <<'EOF'
# gifparse.py GIF: one JSON line about a GIF, from its bytes (no library).
import json, struct, sys

def parse(path):
    d = open(path, 'rb').read()
    out = {'header': d[:6].decode('latin-1'), 'bytes': len(d), 'loop': False, 'images': []}
    w, h, flags = struct.unpack('<HHB', d[6:11])
    out['width'], out['height'] = w, h
    out['global_table'] = 2 << (flags & 7) if flags & 0x80 else 0
    p = 13 + 3 * out['global_table']
    delay, transparent = 0, None
    while p < len(d):
        b = d[p]; p += 1
        if b == 0x3B:
            out['trailer'] = True
            break
        if b == 0x21:
            label = d[p]; p += 1
            blocks = []
            while d[p]:
                n = d[p]; blocks.append(d[p + 1:p + 1 + n]); p += n + 1
            p += 1
            if label == 0xF9:
                packed = blocks[0][0]
                delay = struct.unpack('<H', blocks[0][1:3])[0]
                transparent = blocks[0][3] if packed & 1 else None
            elif label == 0xFF and blocks and blocks[0] == b'NETSCAPE2.0':
                out['loop'] = len(blocks) > 1 and blocks[1][0] == 1
        elif b == 0x2C:
            x, y, iw, ih, f = struct.unpack('<HHHHB', d[p:p + 9]); p += 9
            local = 2 << (f & 7) if f & 0x80 else 0
            p += 3 * local
            p += 1                      # LZW minimum code size
            while d[p]:
                p += d[p] + 1
            p += 1
            out['images'].append({'x': x, 'y': y, 'w': iw, 'h': ih, 'delay': delay,
                                  'local_table': local, 'transparent': transparent})
            delay, transparent = 0, None
        else:
            raise SystemExit('bad block 0x%02x at %d' % (b, p - 1))
    out['delay_sum'] = sum(i['delay'] for i in out['images'])
    out['short_delays'] = sum(1 for i in out['images'] if i['delay'] < 2)
    out['outside'] = sum(1 for i in out['images'] if i['x'] + i['w'] > w or i['y'] + i['h'] > h)
    return out

print(json.dumps(parse(sys.argv[1])))
EOF

gif_get() { python3 -c "import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print(json.dumps(v) if isinstance(v,(bool,list,dict)) or v is None else v)" "$1" "$2"; }

# check_gif GIF TARGET DURATION [MIN_FILL]: everything about one GIF
check_gif() {
    local gif=$1 target=$2 dur=$3 fill=${4:-0} info="$CASE_DIR.gifinfo" n delays size frames plan
    if [ ! -s "$gif" ]; then
        err "no output $gif"
        return
    fi
    if ! python3 "$GIFPY" "$gif" > "$info" 2>"$info.err"; then
        err "cannot parse the GIF: $(head -c 200 "$info.err")"
        return
    fi
    [ "$(gif_get "$info" header)" = GIF89a ] || err "header $(gif_get "$info" header), not GIF89a"
    [ "$(gif_get "$info" loop)" = true ] || err "no NETSCAPE2.0 looping extension"
    [ "$(gif_get "$info" trailer)" = true ] || err "no trailer"
    size=$(fsize "$gif")
    [ "$size" -le "$target" ] || err "$size bytes, over the target $target"
    python3 -c "import sys; sys.exit(0 if int(sys.argv[1]) >= float(sys.argv[3]) * int(sys.argv[2]) else 1)" \
        "$size" "$target" "$fill" || err "$size bytes, under ${fill} of $target"
    n=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['images']))" "$info")
    delays=$(gif_get "$info" delay_sum)
    [ "$(gif_get "$info" short_delays)" = 0 ] || err "$(gif_get "$info" short_delays) delays under 2 cs"
    [ "$(gif_get "$info" outside)" = 0 ] || err "images outside the screen"
    # the delays add up to the film: 2 cs a frame at most
    python3 -c "import sys; d,n,t=float(sys.argv[1]),int(sys.argv[2]),float(sys.argv[3]); sys.exit(0 if abs(d/100-t) <= 0.02*n+1e-9 else 1)" \
        "$delays" "$n" "$dur" || err "delays add up to $delays cs for $n images, the film lasts $dur s"
    # ffprobe counts the same frames, ffmpeg decodes each without a word
    frames=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$gif")
    [ "$frames" = "$n" ] || err "ffprobe decodes $frames frames, the file has $n images"
    if ! ffmpeg -nostdin -v error -i "$gif" -f null - 2>"$info.dec" || [ -s "$info.dec" ]; then
        err "ffmpeg decoding: $(head -c 300 "$info.dec" | tr '\n' ' ')"
    fi
    # the dimensions the JSON reports
    if [ -s "$OUT" ] && json_valid "$OUT"; then
        [ "$(json_get "$OUT" codec)" = gif ] || err "JSON codec $(json_get "$OUT" codec)"
        [ "$(json_get "$OUT" width)" = "$(gif_get "$info" width)" ] || err "JSON width $(json_get "$OUT" width), GIF $(gif_get "$info" width)"
        [ "$(json_get "$OUT" height)" = "$(gif_get "$info" height)" ] || err "JSON height $(json_get "$OUT" height)"
        [ "$(json_get "$OUT" audio)" = null ] || err "JSON audio $(json_get "$OUT" audio), not null"
    fi
    # colour tables as planned (-v: "encode: gif WxH ..., N colours (table T) clip palette|per-frame palettes")
    plan=$(grep 'verbose: encode: gif' "$ERR" | tail -1)
    if [ -n "$plan" ]; then
        local table mode
        table=$(sed -n 's/.*(table \([0-9]*\)).*/\1/p' <<<"$plan")
        case "$plan" in *"clip palette"*) mode=global ;; *) mode=local ;; esac
        python3 - "$info" "$table" "$mode" <<'EOF' || err "colour tables not as planned ($plan)"
import json, sys
g = json.load(open(sys.argv[1])); t = int(sys.argv[2]); mode = sys.argv[3]
if mode == 'global':
    ok = g['global_table'] == t and all(i['local_table'] == 0 for i in g['images'])
else:
    ok = all(i['local_table'] == t for i in g['images'])
sys.exit(0 if ok else 1)
EOF
    fi
}

# Five seconds at the bytes a second ten had (500k and 150k; 30 s of CPU, the search's):
# the same search and fit.
A360=(size=640x360 rate=25 dur=5 audio=sine)

# A synthetic clip to a GIF named with -o, at two budgets (the second in the full tier:
# the same path, minutes of search).
for t in 250k 75k; do
    [ "$t" = 75k ] && full_tier "a360_$t" && continue
    case_begin "a360_$t"
    in=$(clip_into a360.mp4 "$CASE_DIR" "${A360[@]}") || err "no clip"
    snap_dir "$CASE_DIR"
    run_shrink "$in" -o "$CASE_DIR/out.gif" --target "$t" --json -v
    expect_rc 0
    [ "$RC" = 0 ] && check_gif "$CASE_DIR/out.gif" "$(json_get "$OUT" target)" 5 0.85
    grep -q "audio: none (GIF has no sound)" "$ERR" || err "the verbose log does not say the audio is dropped"
    grep -q "verbose: encode: gif .* colours (table [0-9]*)" "$ERR" || err "no plan in the verbose log"
    dir_expect "$CASE_DIR" out.gif
    no_leftovers "$CASE_DIR"
    case_end
done

# --format gif without -o: STEM.shrunk.gif beside the input (a short small clip: the
# case is about the name).
case_begin format_gif_default_name
in=$(clip_into clip.mp4 "$CASE_DIR" size=160x90 rate=25 dur=3 audio=none) || err "no clip"
snap_dir "$CASE_DIR"
run_shrink "$in" --format gif --target 60k --json
expect_rc 0
[ "$RC" = 0 ] && check_gif "$CASE_DIR/clip.shrunk.gif" 60000 3 0.8
dir_expect "$CASE_DIR" clip.shrunk.gif
no_leftovers "$CASE_DIR"
case_end

# An input that already fits: -o x.gif still converts (a copy would put MP4 bytes
# in a .gif), with the input's size as the ceiling.
case_begin fits_still_converts
in=$(clip_into small.mp4 "$CASE_DIR" size=160x90 rate=10 dur=4 audio=none) || err "no clip"
snap_dir "$CASE_DIR"
run_shrink "$in" -o "$CASE_DIR/small.gif" --target 10MB --json
expect_rc 0
[ "$RC" = 0 ] && check_gif "$CASE_DIR/small.gif" "$(fsize "$in")" 4
dir_expect "$CASE_DIR" small.gif
no_leftovers "$CASE_DIR"
case_end

# A display rotation turns the pixels: GIF has no flag for it. (320x180: the search's
# sample encodes at 480x270 were 15 s of CPU for a question of which side is longer.)
case_begin rotate90_upright
in=$(clip_into rot.mp4 "$CASE_DIR" size=320x180 rate=25 dur=2 audio=none rotate=90) || err "no clip"
snap_dir "$CASE_DIR"
run_shrink "$in" -o "$CASE_DIR/rot.gif" --target 75k --json
expect_rc 0
if [ "$RC" = 0 ]; then
    check_gif "$CASE_DIR/rot.gif" 75000 2
    wh=$(ffprobe -v error -show_entries stream=width,height -of csv=p=0 "$CASE_DIR/rot.gif")
    [ "${wh%,*}" -lt "${wh#*,}" ] || err "a 320x180 source shown turned by 90 degrees gave a ${wh/,/x} GIF"
fi
dir_expect "$CASE_DIR" rot.gif
no_leftovers "$CASE_DIR"
case_end

# A two-hour film (tiny, 2 fps: cheap to make) in 200 KB, all of its length.
case_begin two_hours_200k
long=$(make_clip long2h.mp4 size=64x36 rate=2 dur=7200 audio=none) || err "no clip"
snap_dir "$CASE_DIR"
run_shrink "$long" -o "$CASE_DIR/long.gif" --target 200k --json -v
expect_rc 0
[ "$RC" = 0 ] && check_gif "$CASE_DIR/long.gif" 200000 7200
dur=$(fmt_duration "$CASE_DIR/long.gif" 2>/dev/null)
python3 -c "import sys; sys.exit(0 if abs(float(sys.argv[1]) - 7200) < 1 else 1)" "${dur:-0}" ||
    err "ffprobe says it lasts ${dur:-?} s, not 7200"
dir_expect "$CASE_DIR" long.gif
no_leftovers "$CASE_DIR"
case_end

# Too small: exit 4 and the smallest size that works, which then works (a short clip:
# the case is about the suggested size, not the fit).
case_begin too_small_then_works
in=$(clip_into small.mp4 "$CASE_DIR" size=320x180 rate=25 dur=4 audio=sine) || err "no clip"
snap_dir "$CASE_DIR"
run_shrink "$in" -o "$CASE_DIR/tiny.gif" --target 100
expect_rc 4
min=$(sed -n 's/.*--target \([0-9]*\).*/\1/p' "$ERR" | head -1)
if [ -z "$min" ]; then
    err "no --target N in the message: $(stderr_text)"
else
    [ "$min" -gt 100 ] || err "suggested --target $min is not above 100"
    [ -e "$CASE_DIR/tiny.gif" ] && err "output written although the target is too small"
    run_shrink "$in" -o "$CASE_DIR/tiny.gif" --target "$min" --json
    expect_rc 0 "shrink --target $min (the suggested size)"
    [ "$RC" = 0 ] && check_gif "$CASE_DIR/tiny.gif" "$min" 4
fi
dir_expect "$CASE_DIR" tiny.gif
no_leftovers "$CASE_DIR"
case_end

# Ctrl-C during the GIF encode (a .part exists) or the search: 130, nothing left.
# (The encode case pins the picture and rate: it waits for the encode, which came after a
# search of 31 sample encodes, 20 s of CPU, without them.)
for when in search encode; do
    case_begin "sigint_$when"
    in=$(clip_into sig.mp4 "$CASE_DIR" size=640x360 rate=25 dur=20 audio=none) || err "no clip"
    snap_dir "$CASE_DIR"
    args=(--target 1MB)
    [ "$when" = encode ] && args=(--target 3MB --height 360 --fps 10)
    TMPDIR="$CASE_TMP" "$SHRINK" "$in" -o "$CASE_DIR/sig.gif" "${args[@]}" >"$OUT" 2>"$ERR" </dev/null &
    pid=$!
    if [ "$when" = encode ]; then
        for ((i = 0; i < 1200; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            compgen -G "$CASE_DIR/.sig.gif.*.part" >/dev/null && break
            nap 0.05
        done
        sleep 0.2
    else
        sleep 1.5
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
        wait "$pid"
        rm -f "$CASE_DIR/sig.gif"
        skip "sigint_$when" "shrink ended before the signal"
        continue
    fi
    interrupt "$pid" 30
    if [ "$RC" = 0 ]; then
        rm -f "$CASE_DIR/sig.gif"
        skip "sigint_$when" "shrink finished before the signal took effect"
        continue
    fi
    expect_rc 130 "shrink with SIGINT during the $when"
    [ -e "$CASE_DIR/sig.gif" ] && err "output written despite SIGINT"
    dir_expect "$CASE_DIR"
    no_leftovers "$CASE_DIR"
    case_end
done

# Real footage, when the shared clips are there (full tier: minutes each).
for spec in "pool_cleaning_340x256.mp4 300k" "chaplin_bw_360p.mp4 500k"; do
    set -- $spec
    full_tier "media_${1%%.*}_$2" && continue
    case_begin "media_${1%%.*}_$2"
    src="$SHARED_MEDIA/$1"
    if [ ! -f "$src" ]; then
        skip "media_${1%%.*}_$2" "no $src (SHARED_MEDIA)"
        continue
    fi
    snap_dir "$CASE_DIR"
    run_shrink "$src" -o "$CASE_DIR/m.gif" --target "$2" --json -v
    expect_rc 0
    [ "$RC" = 0 ] && check_gif "$CASE_DIR/m.gif" "$(json_get "$OUT" target)" "$(src_duration "$src")" 0.8
    dir_expect "$CASE_DIR" m.gif
    no_leftovers "$CASE_DIR"
    case_end
done

script_done
