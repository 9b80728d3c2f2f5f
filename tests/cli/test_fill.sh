#!/usr/bin/env bash
# Fill the cap: every clip in $SHARED_MEDIA at 400, 100 and 20 kb/s
# (target = rate/8 x duration). Every output is <= its target, and the median
# of size/target is >= 0.97 at each budget and over all runs, with at most one
# corrective re-encode (2 encodes) in the median case; and every output fills at
# least 0.93 of its ceiling unless shrink says it is visually lossless (measured
# SSIM and temporal SSIM >= 0.99, or a copy of the input). The ceiling is the
# target, or the input's own size when that is smaller (an input that fits but
# must change container is re-encoded no larger than it was: JSON "target").
# Prints a table.
# --speed fast: x264's two-pass path, the one most runs take, at CI's pace;
# the other encoders' fill is checked in test_encoders.sh (docs/ENCODERS.md).
# Skipped without shared media and with SHRINK_TEST_QUICK=1. Takes minutes.
# SPDX-License-Identifier: GPL-3.0-or-later
. "$(dirname "$0")/lib.sh"

RATES="400000 100000 20000"
MEDIAN_MIN=0.97
MEDIAN_ENCODES_MAX=2
POINT_MIN=0.93

if [ "${SHRINK_TEST_QUICK:-0}" = 1 ]; then
    skip fill "SHRINK_TEST_QUICK=1"
    exit 0
fi
if [ -z "$SHARED_MEDIA" ] || [ ! -d "$SHARED_MEDIA" ]; then
    skip fill "no shared media folder (${SHARED_MEDIA:-unset})"
    exit 0
fi

table="$TEST_DIR/table.txt"     # clip rate target bytes ratio rc seconds encodes
: > "$table"
mkdir -p "$TEST_DIR"
printf '%-36s %7s %10s %10s %6s %s\n' clip budget target bytes ratio note
for rate in $RATES; do
    while IFS= read -r src; do
        name=$(basename "$src")
        dur=$(fmt_duration "$src")
        case "$dur" in ''|N/A) continue ;; esac
        target=$(python3 -c "import sys; print(int(float(sys.argv[1]) / 8 * float(sys.argv[2])))" "$rate" "$dur")
        case_begin "$((rate / 1000))k_${name}"
        out="$CASE_DIR/out.mp4"
        t0=$(date +%s.%N)
        run_shrink "$src" --target "$target" -o "$out" --json --speed fast
        secs=$(elapsed "$t0")
        bytes=0
        [ -f "$out" ] && bytes=$(fsize "$out")
        r=$(python3 -c "import sys; print('%.4f' % (int(sys.argv[1]) / int(sys.argv[2])))" "$bytes" "$target")
        note=""
        if [ "$RC" != 0 ]; then
            note="exit $RC: $(stderr_text | cut -c1-120)"
            err "shrink --target $target: exit $RC ($(stderr_text))"
        elif [ "$bytes" -gt "$target" ]; then
            note="OVER"
            err "output $bytes B > target $target B"
        fi
        no_leftovers "$CASE_DIR"
        read -r att lossless ceiling < <(python3 -c 'import json, sys
try:
    j = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
    print(j.get("attempts") or 0, int(bool(j.get("visually_lossless"))), j.get("target") or 0)
except Exception: print(0, 0, 0)' "$OUT")
        if [ "$RC" = 0 ] && [ "$lossless" = 0 ] && [ "${ceiling:-0}" -gt 0 ] &&
            python3 -c "import sys; sys.exit(not int(sys.argv[1]) < float(sys.argv[2]) * int(sys.argv[3]))" \
                "$bytes" "$POINT_MIN" "$ceiling"; then
            note="LOW"
            err "fills $bytes of its ceiling $ceiling B (floor $POINT_MIN) and is not said to be visually lossless"
        fi
        [ "${ceiling:-0}" -gt 0 ] && [ "$ceiling" -lt "$target" ] && note="${note:+$note, }ceiling: the input's $ceiling B"
        [ "$lossless" = 1 ] && note="${note:+$note, }visually lossless"
        printf '%s %s %s %s %s %s %s %s\n' "$name" "$rate" "$target" "$bytes" "$r" "$RC" "$secs" "$att" >> "$table"
        printf '%-36s %6sk %10s %10s %6s %s%s\n' "$name" "$((rate / 1000))" "$target" "$bytes" "$r" "${secs}s" "${note:+ $note}"
        # one line per run only when it fails; the medians below summarise the rest
        if [ ${#CASE_ERRS[@]} -gt 0 ]; then
            case_end >/dev/null
        fi
        rm -f "$out"
    done < <(shared_clips)
done

# Medians: per budget and overall; a failed run counts as ratio 0.
python3 - "$table" "$MEDIAN_MIN" "$RATES" "$MEDIAN_ENCODES_MAX" <<'EOF' > "$TEST_DIR/medians.txt"
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
lim = float(sys.argv[2])
groups = [(r, [x for x in rows if x[1] == r]) for r in sys.argv[3].split()]
groups.append(("all", rows))
for label, g in groups:
    if not g:
        continue
    ratios = [float(x[4]) if x[5] == "0" else 0.0 for x in g]
    med = statistics.median(ratios)
    encodes = statistics.median([int(x[7]) for x in g])
    name = label if label == "all" else "%dk" % (int(label) // 1000)
    over = sum(1 for x in g if int(x[3]) > int(x[2]))
    ok = med >= lim and encodes <= int(sys.argv[4])
    print("%s %s %.4f %d %d %.4f %.1f %g" % (name, "ok" if ok else "low", med, len(g), over,
                                             min(ratios), sum(float(x[6]) for x in g), encodes))
EOF
echo
printf '%-6s %7s %5s %5s %7s %8s %8s\n' budget median runs over min seconds encodes
while read -r name ok med n over mn secs enc; do
    printf '%-6s %7s %5s %5s %7s %8s %8s\n' "$name" "$med" "$n" "$over" "$mn" "$secs" "$enc"
    if [ "$ok" = ok ]; then
        pass "median_$name (median size/target $med, median encodes $enc, over $n runs)"
    else
        fail "median_$name" "median size/target $med (floor $MEDIAN_MIN), median encodes $enc (at most $MEDIAN_ENCODES_MAX) over $n runs"
    fi
done < "$TEST_DIR/medians.txt"

script_done
