#!/usr/bin/env bash
# Faults around a run: the disk filling up under the output (a small tmpfs, and
# a file-size limit), the temporary directory full or missing, signals at each
# phase of a run, and two runs racing for one output. In every case: the exit
# code the README gives, one clear error line, no partial output, no .part and
# no temporary directory left, the input unchanged.
# (test_safety.sh covers outputs that cannot be written from the start;
# test_signals.sh signals at fixed times.)
# Runs are pinned to x264 (--codec x264): the phases are recognised by its
# pass-log files, TMPDIR holds them (a one-pass encoder needs no TMPDIR, so
# SVT-AV1 rightly succeeds there), and its output is the same in two runs.
# SPDX-License-Identifier: GPL-3.0-or-later
. "$(dirname "$0")/lib.sh"

CLIP=(size=640x360 rate=25 dur=6 audio=sine)

# A small tmpfs at DIR, when this machine lets us mount one (root, not in a
# locked-down container). Unmounted by the EXIT trap.
MOUNTS=()
cleanup_mounts() { local m; for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null; done; }
trap cleanup_mounts EXIT
small_fs() {   # DIR SIZE
    mkdir -p "$1"
    [ "$(id -u)" = 0 ] && mount -t tmpfs -o "size=$2" shrink-test "$1" 2>/dev/null || return 1
    MOUNTS+=("$1")
}

# ---- the disk fills up while the output is written ----
# (A disk with less room than the target is now refused before the work, with
# the same message; disk_full_ulimit below still fails in the middle of a write.)
case_begin disk_full_tmpfs
in=$(clip_into x.mp4 "$CASE_DIR" "${CLIP[@]}")
if small_fs "$CASE_DIR/small" 150k; then
    before=$(sha "$in")
    run_shrink "$in" --codec x264 --target 1MB -o "$CASE_DIR/small/out.mp4"
    expect_rc 6
    expect_one_line "small/out.mp4"
    grep -q "No space left on device" "$ERR" || err "stderr does not say the disk is full: $(stderr_text)"
    grep -q '\.part' "$ERR" && err "stderr names the temporary file, not the output: $(stderr_text)"
    [ -n "$(ls -A "$CASE_DIR/small")" ] && err "left on the full disk: $(ls -A "$CASE_DIR/small" | _words)"
    [ "$(sha "$in")" = "$before" ] || err "the input changed"
    no_leftovers "$CASE_DIR" "$CASE_DIR/small"
    case_end
else
    skip disk_full_tmpfs "cannot mount a tmpfs here (disk_full_ulimit covers the same)"
fi

# The same through a file-size limit (ulimit -f): the write fails with EFBIG
# instead of SIGXFSZ killing shrink and leaving its .part behind.
case_begin disk_full_ulimit
in=$(clip_into x.mp4 "$CASE_DIR" "${CLIP[@]}")
before=$(sha "$in")
snap_dir "$CASE_DIR"
# 600 KiB: room for x264's pass logs (~300 KB here), not for the ~1 MB output
(ulimit -f 600; TMPDIR="$CASE_TMP" exec "$SHRINK" "$in" --codec x264 --target 1MB -o "$CASE_DIR/out.mp4" >"$OUT" 2>"$ERR" </dev/null)
RC=$?
expect_rc 6
expect_one_line "out.mp4"
grep -q "File too large" "$ERR" || err "stderr does not say the file is too large: $(stderr_text)"
[ "$(sha "$in")" = "$before" ] || err "the input changed"
dir_expect "$CASE_DIR"
no_leftovers "$CASE_DIR"
case_end

# ---- the temporary directory (x264's pass logs) full, or missing ----
case_begin tmpdir_full
in=$(clip_into x.mp4 "$CASE_DIR" "${CLIP[@]}")
if small_fs "$CASE_DIR/tmpfull" 8k; then
    before=$(sha "$in")
    snap_dir "$CASE_DIR"
    TMPDIR="$CASE_DIR/tmpfull" timeout -s KILL "$SHRINK_TIMEOUT" "$SHRINK" "$in" --codec x264 --target 200k >"$OUT" 2>"$ERR" </dev/null
    RC=$?
    # Found before the work starts, and a full disk is "cannot be written" (6), not
    # an encoder failure (test_hostile_disk.sh has the rest).
    expect_rc 6 "shrink with a full TMPDIR"
    expect_one_line "tmpfull"
    grep -q "TMPDIR" "$ERR" || err "stderr does not say what could not be written: $(stderr_text)"
    [ -n "$(ls -A "$CASE_DIR/tmpfull")" ] && err "left in TMPDIR: $(ls -A "$CASE_DIR/tmpfull" | _words)"
    [ "$(sha "$in")" = "$before" ] || err "the input changed"
    dir_expect "$CASE_DIR"
    no_leftovers "$CASE_DIR"
    case_end
else
    skip tmpdir_full "cannot mount a tmpfs here"
fi

case_begin tmpdir_missing
in=$(clip_into x.mp4 "$CASE_DIR" "${CLIP[@]}")
snap_dir "$CASE_DIR"
TMPDIR="$CASE_DIR/no-such-dir" timeout -s KILL "$SHRINK_TIMEOUT" "$SHRINK" "$in" --codec x264 --target 200k >"$OUT" 2>"$ERR" </dev/null
RC=$?
expect_rc 1 "shrink with a missing TMPDIR"
expect_one_line "no-such-dir"
grep -q "No such file or directory" "$ERR" || err "stderr does not give the cause: $(stderr_text)"
dir_expect "$CASE_DIR"
no_leftovers "$CASE_DIR"
case_end

# ---- signals at each phase ----
# A run goes: search (the solver's sample encodes: no file of ours yet), analysis
# (decode + x264 pass 1: TMPDIR/shrink-*/pass.log.temp), pass 2 (a .part beside
# the output, growing), and the finish (the last frames, the MP4 trailer and
# index, verification: the .part near its final size). Each is recognised from
# those files, not from a clock; the signal goes when it is seen, and the case
# is skipped (not failed) if the run was past it already.
# (8 s: 12 s at 3 MB were 33 s of CPU in the pass 2 and finish cases; the phases are as
# long as the polling needs)
PHASE_SRC=(size=1280x720 rate=25 dur=8 audio=noise)
PHASE_TARGET=2000000

# wait_for PID SECONDS TEST...: poll every 10 ms until TEST succeeds (0), PID ends (1) or time runs out (2).
wait_for() {
    local pid=$1 limit=$2 i
    shift 2
    for ((i = 0; i < limit * 100; i++)); do
        "$@" && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        nap 0.01
    done
    return 2
}
have_passlog_temp() { compgen -G "$CASE_TMP/shrink-*/pass.log.temp" >/dev/null; }
have_passlog() { compgen -G "$CASE_TMP/shrink-*/pass.log" >/dev/null; }
have_part() { compgen -G "$CASE_DIR/.ph.shrunk.mp4.*.part" >/dev/null; }
# (one stat a look, no pipeline: this is polled every 10 ms, and each process costs CPU the
# watched run then lacks)
part_near_end() {
    local s
    have_part || return 1
    for s in $(stat -c %s "$CASE_DIR"/.ph.shrunk.mp4.*.part 2>/dev/null); do
        [ "$s" -ge $((PHASE_TARGET * 85 / 100)) ] && return 0
    done
    return 1
}
in_search() { ! compgen -G "$CASE_TMP/shrink-*" >/dev/null && ! have_part; }
in_pass1() { have_passlog_temp && ! have_part; }
in_pass2() { have_part && ! part_near_end; }

phase_case() {   # NAME SIGNAL PHASE
    local name=$1 sig=$2 phase=$3 want in before pid r pin
    case "$sig" in INT) want=130 ;; TERM) want=143 ;; esac
    case_begin "$name"
    in=$(clip_into ph.mp4 "$CASE_DIR" "${PHASE_SRC[@]}") || { err "no clip"; case_end; return; }
    before=$(sha "$in")
    snap_dir "$CASE_DIR"
    # Past the search the picture and rate are pinned: the search is not the phase
    # tested, and 3 sample encodes instead of 6 were its CPU.
    pin=(--height 720 --fps 25)
    [ "$phase" = search ] && pin=()
    TMPDIR="$CASE_TMP" "$SHRINK" "$in" --codec x264 "${pin[@]}" --target "$PHASE_TARGET" --json >"$OUT" 2>"$ERR" </dev/null &
    pid=$!
    case "$phase" in
        search) handles "$pid" "$sig"; sleep 0.3; in_search; r=$? ;;
        pass1)  wait_for "$pid" 300 have_passlog_temp; r=$?; [ $r = 0 ] && sleep 0.2 && { in_pass1; r=$?; } ;;
        pass2)  wait_for "$pid" 300 have_part; r=$?; [ $r = 0 ] && sleep 0.1 && { in_pass2; r=$?; } ;;
        finish) wait_for "$pid" 300 part_near_end; r=$? ;;
    esac
    if [ $r != 0 ] || ! kill -"$sig" "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        skip "$name" "the run was not in phase $phase when looked at (state $r)"
        rm -rf "$CASE_DIR"/ph.shrunk.mp4 "$CASE_DIR"/.ph.* "${CASE_TMP:?}"/*
        return
    fi
    wait "$pid"
    RC=$?
    if [ "$RC" = 0 ] && [ "$phase" = finish ]; then
        # renamed into place in the instant between our look and the signal
        rm -f "$CASE_DIR/ph.shrunk.mp4"
        skip "$name" "the run finished before SIG$sig took effect"
        return
    fi
    expect_rc "$want" "shrink with SIG$sig in $phase"
    [ -e "$CASE_DIR/ph.shrunk.mp4" ] && err "output written despite SIG$sig"
    [ "$(json_get "$OUT" error 2>/dev/null)" = interrupted ] || err "JSON error is not 'interrupted': $(head -c 200 "$OUT")"
    [ "$(json_get "$OUT" output 2>/dev/null)" = null ] || err "JSON output is not null: $(head -c 200 "$OUT")"
    grep -q "interrupted" "$ERR" || err "stderr does not say it was interrupted: $(stderr_text)"
    [ "$(sha "$in")" = "$before" ] || err "the input changed"
    dir_expect "$CASE_DIR"
    no_leftovers "$CASE_DIR"
    case_end
}
make_clip ph.mp4 "${PHASE_SRC[@]}" >/dev/null
for phase in search pass1 pass2 finish; do
    phase_case "int_$phase"  INT  "$phase"
    phase_case "term_$phase" TERM "$phase"
done

# ---- two runs, one output ----
# Both start before either has an output. With --force both may succeed; the
# file in place is then one complete, valid output. Without it, exactly one
# succeeds and the other exits 6 (the output appeared while it was encoding).
# (A small short clip, the picture and rate pinned: the race is tested, not the search.)
RACE_CLIP=(size=320x180 rate=25 dur=4 audio=sine)
RACE_T=100000
race_case() {   # NAME [--force]
    local name=$1 force=${2:-} in before pa pb ra rb out
    case_begin "$name"
    in=$(clip_into r.mp4 "$CASE_DIR" "${RACE_CLIP[@]}")
    out="$CASE_DIR/shared.mp4"
    before=$(sha "$in")
    snap_dir "$CASE_DIR"
    # shellcheck disable=SC2086 # $force is empty or one word
    TMPDIR="$CASE_TMP" "$SHRINK" "$in" --codec x264 --height 180 --fps 25 --target $RACE_T -o "$out" $force --json >"$CASE_DIR.a.out" 2>"$CASE_DIR.a.err" </dev/null &
    pa=$!
    # shellcheck disable=SC2086
    TMPDIR="$CASE_TMP" "$SHRINK" "$in" --codec x264 --height 180 --fps 25 --target $RACE_T -o "$out" $force --json >"$CASE_DIR.b.out" 2>"$CASE_DIR.b.err" </dev/null &
    pb=$!
    wait "$pa"; ra=$?
    wait "$pb"; rb=$?
    if [ -n "$force" ]; then
        [ "$ra" = 0 ] && [ "$rb" = 0 ] || err "with --force: exits $ra and $rb, expected 0 and 0 ($(head -c 200 "$CASE_DIR.a.err") $(head -c 200 "$CASE_DIR.b.err"))"
        # the file in place is one of the two, whole: its size is one they
        # reported, and it checks out against that run's report (two runs
        # competing for the CPUs need not make the same bytes)
        local s winner=a
        s=$(fsize "$out")
        [ "$s" = "$(json_get "$CASE_DIR.a.out" bytes)" ] || winner=b
        [ "$s" = "$(json_get "$CASE_DIR.$winner.out" bytes)" ] ||
            err "the output ($s bytes) is neither run's ($(json_get "$CASE_DIR.a.out" bytes), $(json_get "$CASE_DIR.b.out" bytes))"
        check_output "$out" "$in" $RACE_T --json "$CASE_DIR.$winner.out"
    else
        if { [ "$ra" = 0 ] && [ "$rb" = 6 ]; } || { [ "$ra" = 6 ] && [ "$rb" = 0 ]; }; then
            local loser=a
            [ "$ra" = 6 ] || loser=b
            grep -q "shared.mp4" "$CASE_DIR.$loser.err" || err "the run that lost does not name the output: $(head -c 300 "$CASE_DIR.$loser.err")"
            check_output "$out" "$in" $RACE_T
        else
            err "without --force: exits $ra and $rb, expected one 0 and one 6"
        fi
    fi
    [ "$(sha "$in")" = "$before" ] || err "the input changed"
    dir_expect "$CASE_DIR" shared.mp4
    no_leftovers "$CASE_DIR"
    case_end
}
race_case race_no_force
race_case race_force --force

script_done
