#!/usr/bin/env bash
# Scale out (docs/SCALE.md): shrink plan, encode-chunk for every chunk run by
# GNU parallel, join. The joined file is at most the target, lasts what the
# source lasts, has the single-process output's frame count, continuous
# audio, SSIM within 0.005 of the single-process result, and decodes to
# exactly the chunks' pictures (joined without re-encoding). encode-chunk is
# idempotent; a plan refuses another input; join refuses a missing chunk and
# a result over the target (naming the chunks to redo), writing nothing;
# --jobs 2 runs the same pieces for one film, and over a batch gives the
# serial results, with --skip-existing resuming.
# SPDX-License-Identifier: GPL-3.0-or-later
. "$(dirname "$0")/lib.sh"

# near A B TOL: |A - B| <= TOL
near() { python3 -c "import sys; a, b, t = map(float, sys.argv[1:]); sys.exit(abs(a - b) > t)" "$@"; }
stream_dur() { ffprobe -v error -select_streams "$2" -show_entries stream=duration -of csv=p=0 "$1" | head -1; }
nframes() { ffprobe -v error -select_streams v -count_packets -show_entries stream=nb_read_packets -of csv=p=0 "$1"; }
# frame_hashes FILE...: the decoded pictures' md5s, one a line, the files one after another
frame_hashes() {
    local f
    for f in "$@"; do
        ffmpeg -nostdin -v error -i "$f" -map 0:v -f framemd5 - | grep -v '^#' | awk -F, '{print $6}'
    done
}
# ssim OUT SRC: luma+chroma SSIM (FFmpeg's filter) of OUT scaled to SRC's size against SRC
ssim() {
    local wh
    wh=$(ffprobe -v error -select_streams v -show_entries stream=width,height -of csv=p=0:s=x "$2")
    ffmpeg -nostdin -v info -i "$1" -i "$2" -lavfi "[0:v]scale=${wh%x*}:${wh#*x}:flags=bicubic[a];[a][1:v]ssim" -f null - 2>&1 |
        grep -o 'All:[0-9.]*' | tail -1 | cut -d: -f2
}
# audio_gaps FILE: audio packets that do not start where the previous one ended (more than 1 ms off)
audio_gaps() {
    ffprobe -v error -select_streams a -show_entries packet=pts_time,duration_time -of csv=p=0 "$1" | python3 -c '
import sys
gaps, prev = 0, None
for line in sys.stdin:
    f = line.strip().split(",")
    if len(f) < 2 or not f[0] or not f[1]:
        continue            # side data lines
    pts, dur = float(f[0]), float(f[1])
    if prev is not None and abs(pts - prev) > 0.001:
        gaps += 1
    prev = pts + dur
print(gaps)'
}
jget() { python3 -c "import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, {'d': d}))" "$@"; }

PARALLEL=$(command -v parallel || true)

# ---- the GNU parallel recipe on a real clip, against the single-process result ----

BBB="$SHARED_MEDIA/bbb_360p_60s.mp4"
case_begin parallel_real_clip
if [ ! -f "$BBB" ]; then
    skip parallel_real_clip "no $BBB (SHARED_MEDIA)"
elif full_tier parallel_real_clip; then
    :   # a minute of real footage encoded twice: make check-full (CI runs it)
elif [ -z "$PARALLEL" ]; then
    skip parallel_real_clip "no GNU parallel (apt-get install parallel)"
else
    # The same picture, rate and encoder for both (the solver's search is not
    # repeatable run to run): the comparison is of the chunked execution.
    pin=(--codec x264 --height 360 --fps 24)
    T=750000
    single="$CASE_DIR/single.mp4"
    run_shrink "$BBB" --target $T -o "$single" "${pin[@]}"
    expect_rc 0 "single-process shrink"
    run_shrink plan "$BBB" --target $T -o "$CASE_DIR/plan.json" --chunks 4 "${pin[@]}"
    expect_rc 0 "shrink plan"
    n=$(jget "$CASE_DIR/plan.json" 'len(d["chunks"])' 2>/dev/null)
    [ "$n" = 4 ] || err "the plan has $n chunks, asked for 4"
    # budgets: not an equal split, and they sum to the target less audio and reserve
    python3 - "$CASE_DIR/plan.json" > "$CASE_DIR/budget.err" 2>&1 <<'EOF' || err "plan budgets: $(tail -1 "$CASE_DIR/budget.err")"
import json, sys
d = json.load(open(sys.argv[1]))
# each budget carries its chunk file's own container bytes, which the joined file does not
b = [c["budget"] - c["container"] for c in d["chunks"]]
total = sum(b) + d["audio"]["bytes"] + d["reserve"]
assert total <= d["target"], (total, d["target"])
assert total >= d["target"] * 0.99, (total, d["target"])
w = [c["weight"] for c in d["chunks"]]
secs = [c["end"] - c["start"] for c in d["chunks"]]
share = [s / sum(secs) for s in secs]
assert max(abs(a - b) for a, b in zip(w, share)) > 0.005, ("weights are the durations", w, share)
EOF
    # every chunk through GNU parallel, each a separate shrink with no knowledge of the others
    TMPDIR="$CASE_TMP" "$SHRINK" encode-chunk "$CASE_DIR/plan.json" --list > "$CASE_DIR/list" 2>"$ERR"
    [ "$(grep -c '' "$CASE_DIR/list")" = 4 ] || err "--list gives $(grep -c '' "$CASE_DIR/list") chunks"
    TMPDIR="$CASE_TMP" "$PARALLEL" --will-cite -j 2 --halt now,fail=1 \
        "$SHRINK" encode-chunk "$CASE_DIR/plan.json" {} -o "$CASE_DIR/chunk_{}.mp4" -q :::: "$CASE_DIR/list" \
        > "$OUT" 2>"$ERR" </dev/null || err "parallel encode-chunk failed: $(stderr_text)"
    for k in 0 1 2 3; do
        b=$(jget "$CASE_DIR/plan.json" "d['chunks'][$k]['budget']")
        [ -s "$CASE_DIR/chunk_$k.mp4" ] || { err "no chunk_$k.mp4"; continue; }
        [ "$(fsize "$CASE_DIR/chunk_$k.mp4")" -le "$b" ] || err "chunk $k is $(fsize "$CASE_DIR/chunk_$k.mp4") bytes, over its budget $b"
    done
    out="$CASE_DIR/joined.mp4"
    run_shrink join "$CASE_DIR/plan.json" "$CASE_DIR"/chunk_*.mp4 -o "$out"
    expect_rc 0 "shrink join"
    if [ -s "$out" ] && [ -s "$single" ]; then
        check_output "$out" "$BBB" $T --audio yes
        [ "$(fsize "$out")" -le $T ] || err "joined is $(fsize "$out") bytes, over $T"
        want=$(src_duration "$BBB")
        d=$(stream_dur "$out" v)
        near "$d" "$want" 0.042 || err "joined video lasts $d s, the source $want s"
        [ "$(nframes "$out")" = "$(nframes "$single")" ] ||
            err "joined has $(nframes "$out") frames, the single-process output $(nframes "$single")"
        d=$(stream_dur "$out" a)
        near "$d" "$want" 0.125 || err "joined audio lasts $d s, the video $want s"
        g=$(audio_gaps "$out")
        [ "$g" = 0 ] || err "$g gaps between audio packets"
        # copied, not re-encoded: the joined pictures are the chunks' pictures
        if ! cmp -s <(frame_hashes "$out") <(frame_hashes "$CASE_DIR"/chunk_{0,1,2,3}.mp4); then
            err "the joined pictures differ from the chunks' (not a lossless join)"
        fi
        s1=$(ssim "$single" "$BBB")
        s2=$(ssim "$out" "$BBB")
        echo "   (SSIM single $s1, joined $s2; bytes single $(fsize "$single"), joined $(fsize "$out"))"
        near "$s1" "$s2" 0.005 || err "SSIM $s2 joined against $s1 single-process: more than 0.005 apart"
    fi
    # idempotent: the same chunk again is the same file
    cp "$CASE_DIR/chunk_1.mp4" "$CASE_DIR/first_1.mp4"
    run_shrink encode-chunk "$CASE_DIR/plan.json" 1 -o "$CASE_DIR/chunk_1.mp4" -q
    expect_rc 0 "encode-chunk rerun"
    if [ "$(fsize "$CASE_DIR/chunk_1.mp4")" != "$(fsize "$CASE_DIR/first_1.mp4")" ] &&
       ! cmp -s <(frame_hashes "$CASE_DIR/chunk_1.mp4") <(frame_hashes "$CASE_DIR/first_1.mp4"); then
        err "a rerun of chunk 1 is not equivalent: $(fsize "$CASE_DIR/first_1.mp4") then $(fsize "$CASE_DIR/chunk_1.mp4") bytes"
    fi
    no_leftovers "$CASE_DIR"
    case_end
fi

# ---- on a synthetic clip: the refusals ----

SRC=$(make_clip scale.mp4 size=320x180 rate=25 dur=12 audio=sine gop=50)
OTHER=$(make_clip other.mp4 size=320x180 rate=25 dur=12 audio=sine src=mandelbrot)

# plan_for DIR: a plan of SRC in DIR with 3 chunks, and the chunks encoded one by one
# (--no-search: its cases test the plan file, the chunks and the join; jobs_one_film plans
# with the search)
plan_for() {
    local dir=$1 k
    cp "$SRC" "$dir/in.mp4"
    TMPDIR="$CASE_TMP" "$SHRINK" plan "$dir/in.mp4" --target 200k -o "$dir/plan.json" --chunks 3 --no-search >/dev/null 2>"$ERR" ||
        { err "plan failed: $(stderr_text)"; return 1; }
    for k in 0 1 2; do
        TMPDIR="$CASE_TMP" "$SHRINK" encode-chunk "$dir/plan.json" $k -o "$dir/chunk_$k.mp4" -q 2>"$ERR" ||
            { err "encode-chunk $k failed: $(stderr_text)"; return 1; }
    done
}

case_begin plan_other_input
plan_for "$CASE_DIR"
cp "$OTHER" "$CASE_DIR/other.mp4"
snap_dir "$CASE_DIR"
run_shrink encode-chunk "$CASE_DIR/plan.json" 1 -o "$CASE_DIR/x_1.mp4" --input "$CASE_DIR/other.mp4"
expect_rc 3 "encode-chunk with another input"
expect_one_line "other.mp4: error: is not the plan's input"
# the plan's own path, now holding another file of the same size
head -c "$(fsize "$CASE_DIR/in.mp4")" /dev/urandom > "$CASE_DIR/in.mp4"
run_shrink encode-chunk "$CASE_DIR/plan.json" 1 -o "$CASE_DIR/x_1.mp4"
expect_rc 3 "encode-chunk with the input replaced"
expect_one_line "in.mp4: error: is not the plan's input"
dir_expect "$CASE_DIR"
no_leftovers "$CASE_DIR"
case_end

case_begin join_missing_chunk
plan_for "$CASE_DIR"
snap_dir "$CASE_DIR"
run_shrink join "$CASE_DIR/plan.json" "$CASE_DIR/chunk_0.mp4" "$CASE_DIR/chunk_2.mp4" -o "$CASE_DIR/out.mp4"
expect_rc 3 "join without chunk 1"
expect_one_line "chunk 1 of 3 is missing"
dir_expect "$CASE_DIR"
no_leftovers "$CASE_DIR"
case_end

case_begin join_bad_plan
plan_for "$CASE_DIR"
sed 's/"shrink_plan": 1/"shrink_plan": 2/' "$CASE_DIR/plan.json" > "$CASE_DIR/v2.json"
head -c 300 "$CASE_DIR/plan.json" > "$CASE_DIR/cut.json"
snap_dir "$CASE_DIR"
run_shrink join "$CASE_DIR/v2.json" "$CASE_DIR"/chunk_*.mp4 -o "$CASE_DIR/out.mp4"
expect_rc 3 "join with a version 2 plan"
expect_one_line "plan version 2"
run_shrink encode-chunk "$CASE_DIR/cut.json" 0 -o "$CASE_DIR/x_0.mp4"
expect_rc 3 "encode-chunk with a truncated plan"
expect_one_line "cut.json: error: not a plan: invalid JSON"
dir_expect "$CASE_DIR"
case_end

# Over the target (the plan's target lowered after the chunks were made):
# join names the chunks to redo and the rebalance to run, writes nothing;
# after the rebalance and those chunks again, it joins under the new target.
case_begin join_over_target
plan_for "$CASE_DIR"
python3 - "$CASE_DIR/plan.json" <<'EOF'
import json, re, sys
p = sys.argv[1]
t = open(p).read()
d = json.loads(t)
open(p, "w").write(t.replace('"target": %d' % d["target"], '"target": %d' % (d["target"] - 6000)))
EOF
snap_dir "$CASE_DIR"
run_shrink join "$CASE_DIR/plan.json" "$CASE_DIR"/chunk_*.mp4 -o "$CASE_DIR/out.mp4"
expect_rc 4 "join over the target"
grep -q "over the target of 194000" "$ERR" || err "no over-the-target message: $(stderr_text)"
grep -q "encode again: chunk" "$ERR" || err "the chunks to redo are not named: $(stderr_text)"
cmd=$(grep -o "shrink plan --rebalance .*" "$ERR")
[ -n "$cmd" ] || err "no rebalance command: $(stderr_text)"
dir_expect "$CASE_DIR"
no_leftovers "$CASE_DIR"
if [ -n "$cmd" ]; then
    # shellcheck disable=SC2086 # the command as printed
    run_shrink ${cmd#shrink }
    expect_rc 0 "$cmd"
    for k in $(echo "$cmd" | grep -oE ' [0-9]+=' | tr -d ' ='); do
        run_shrink encode-chunk "$CASE_DIR/plan.json" "$k" -o "$CASE_DIR/chunk_$k.mp4" -q
        expect_rc 0 "encode-chunk $k at its new budget"
    done
    run_shrink join "$CASE_DIR/plan.json" "$CASE_DIR"/chunk_*.mp4 -o "$CASE_DIR/out.mp4"
    expect_rc 0 "join after the rebalance"
    [ -s "$CASE_DIR/out.mp4" ] && check_output "$CASE_DIR/out.mp4" "$SRC" 194000 --audio yes
fi
case_end

# Frames dropped (25 -> 12.5 fps): the chunks keep exactly the frames the
# single-process encode keeps (boundaries on the film's output grid).
case_begin frame_drop_grid
cp "$SRC" "$CASE_DIR/in.mp4"
run_shrink plan "$CASE_DIR/in.mp4" --target 150k -o "$CASE_DIR/plan.json" --chunks 3 --fps 12.5 --codec x264
expect_rc 0 "plan --fps 12.5"
for k in 0 1 2; do
    run_shrink encode-chunk "$CASE_DIR/plan.json" $k -o "$CASE_DIR/chunk_$k.mp4" -q
    expect_rc 0 "encode-chunk $k"
done
run_shrink join "$CASE_DIR/plan.json" "$CASE_DIR"/chunk_*.mp4 -o "$CASE_DIR/joined.mp4"
expect_rc 0 "join"
run_shrink "$CASE_DIR/in.mp4" --target 150k --fps 12.5 --codec x264 -o "$CASE_DIR/single.mp4"
expect_rc 0 "single-process --fps 12.5"
pts() { ffprobe -v error -select_streams v -show_entries packet=pts_time -of csv=p=0 "$1" | sort -n; }
if [ -s "$CASE_DIR/joined.mp4" ] && [ -s "$CASE_DIR/single.mp4" ]; then
    cmp -s <(pts "$CASE_DIR/joined.mp4") <(pts "$CASE_DIR/single.mp4") ||
        err "the joined frames' times differ from the single-process output's: $(diff <(pts "$CASE_DIR/joined.mp4") <(pts "$CASE_DIR/single.mp4") | head -4 | _words)"
    [ "$(nframes "$CASE_DIR/joined.mp4")" = 150 ] || err "$(nframes "$CASE_DIR/joined.mp4") frames, expected 150"
fi
no_leftovers "$CASE_DIR"
case_end

# ---- --jobs 2: one film, and a batch ----

case_begin jobs_one_film
cp "$SRC" "$CASE_DIR/in.mp4"
snap_dir "$CASE_DIR"
run_shrink "$CASE_DIR/in.mp4" --target 200k --jobs 2 --json
expect_rc 0 "--jobs 2"
out="$CASE_DIR/in.shrunk.mp4"
if [ -s "$out" ]; then
    check_output "$out" "$SRC" 200000 --json "$OUT" --audio yes
    n=$(nframes "$out")
    [ "$n" = 300 ] || err "$n frames, the source has 300"
    [ "$(audio_gaps "$out")" = 0 ] || err "gaps in the audio"
fi
dir_expect "$CASE_DIR" in.shrunk.mp4
no_leftovers "$CASE_DIR"
case_end

# SIGTERM to the parent only (not its process group): passed on to the chunk
# encodes, everything removed, 143, no output.
case_begin jobs_interrupted
long=$(make_clip long.mp4 size=320x180 rate=25 dur=90 audio=sine gop=50)
cp "$long" "$CASE_DIR/long.mp4"
snap_dir "$CASE_DIR"
TMPDIR="$CASE_TMP" "$SHRINK" "$CASE_DIR/long.mp4" --target 900k --jobs 2 --codec x264 >"$OUT" 2>"$ERR" </dev/null &
pid=$!
for _ in $(seq 1 100); do
    ls "$CASE_TMP"/shrink-*/chunk_*.mp4 >/dev/null 2>&1 || ls "$CASE_TMP"/shrink-*/pass.log* >/dev/null 2>&1 && break
    sleep 0.1
done
kill -TERM "$pid"
wait "$pid"
RC=$?
expect_rc 143 "SIGTERM during --jobs"
dir_expect "$CASE_DIR"
sleep 0.5
no_leftovers "$CASE_DIR"
pgrep -f "encode-chunk $CASE_TMP" >/dev/null && err "chunk encodes still running"
case_end

case_begin jobs_batch
mkdir -p "$CASE_DIR/par" "$CASE_DIR/ser"
for i in 1 2 3; do
    c=$(make_clip "b$i.mp4" size=320x180 rate=25 dur=$((2 + i)) audio=sine) || err "make_clip b$i"
    cp "$c" "$CASE_DIR/par/b$i.mp4"
    cp "$c" "$CASE_DIR/ser/b$i.mp4"
done
# pinned: the solver's search is not repeatable run to run, and this compares the batch
pin=(--codec x264 --height 180 --fps 25)
run_shrink "$CASE_DIR/ser" --target 60k --json "${pin[@]}"
expect_rc 0 "serial batch"
cp "$OUT" "$CASE_DIR/ser.json"
run_shrink "$CASE_DIR/par" --target 60k --json --jobs 2 "${pin[@]}"
expect_rc 0 "batch --jobs 2"
cp "$OUT" "$CASE_DIR/par.json"
# the same inputs in the same order, the same choices, all under the target, sizes
# near each other (x264's threads make a run's bytes vary a little)
python3 - "$CASE_DIR/ser.json" "$CASE_DIR/par.json" <<'EOF' || err "parallel and serial differ: $(head -c 600 "$CASE_DIR/par.json")"
import json, os, sys
ser = [json.loads(l) for l in open(sys.argv[1])]
par = [json.loads(l) for l in open(sys.argv[2])]
assert len(ser) == len(par) == 3, (len(ser), len(par))
for s, p in zip(ser, par):
    assert os.path.basename(s["input"]) == os.path.basename(p["input"]), (s["input"], p["input"])
    for k in ("action", "width", "height", "fps", "codec", "exit"):
        assert s[k] == p[k], (k, s[k], p[k])
    assert p["bytes"] <= 60000 and abs(p["bytes"] - s["bytes"]) <= 0.03 * s["bytes"], (s["bytes"], p["bytes"])
    assert os.path.getsize(p["output"]) == p["bytes"]
EOF
grep -q "3 inputs: 3 shrunk" "$ERR" || err "no batch summary: $(stderr_text)"
# resume: one output gone, the rest skipped
rm -f "$CASE_DIR/par/b2.shrunk.mp4"
run_shrink "$CASE_DIR/par" --target 60k --jobs 2 --skip-existing "${pin[@]}"
expect_rc 0 "batch --jobs 2 --skip-existing"
grep -q "3 inputs: 1 shrunk, 0 copied, 2 skipped" "$ERR" || err "resume: $(stderr_text)"
[ "$(sed -n 2p "$OUT" | grep -c 'b2.shrunk.mp4: ')" = 1 ] || err "line 2 is not b2's result: $(cat "$OUT")"
[ -s "$CASE_DIR/par/b2.shrunk.mp4" ] && check_output "$CASE_DIR/par/b2.shrunk.mp4" "$CASE_DIR/par/b2.mp4" 60000
no_leftovers "$CASE_DIR/par" "$CASE_DIR/ser"
case_end

# ---- one option table: shrink plan reads a job's options as shrink does ----

case_begin plan_shared_options
for bad in "--audio-track 0" "--speed quick" "--start x" "--end 0" "--duration 0" "--height 1" "--fps 0"; do
    # shellcheck disable=SC2086
    run_shrink "$CASE_DIR/in.mp4" $bad --target 1M -o "$CASE_DIR/out.mp4"
    expect_rc 2 "shrink $bad"
    one=$(head -1 "$ERR")
    # shellcheck disable=SC2086
    run_shrink plan "$CASE_DIR/in.mp4" $bad --target 1M -o "$CASE_DIR/p.json"
    expect_rc 2 "shrink plan $bad"
    [ "$(head -1 "$ERR")" = "$one" ] || err "plan $bad: '$(head -1 "$ERR")', shrink says '$one'"
done
[ -e "$CASE_DIR/p.json" ] && err "a plan was written"
case_end

script_done
