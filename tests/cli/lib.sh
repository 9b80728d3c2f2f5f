# Shared helpers for the CLI tests in tests/cli/test_*.sh. Source it, do not run it.
#
# tests/run.sh exports:
#   SHRINK        the binary under test
#   SHARED_MEDIA  a folder of real clips (may be absent)
#   SH_TEST_TMP   a scratch dir for this run (removed afterwards)
#   RESULTS       the file each script appends PASS/FAIL/SKIP lines to
#
# A script is a list of cases:
#   case_begin NAME            fresh dir $CASE_DIR (work files), private $CASE_TMP (TMPDIR for shrink)
#   run_shrink ARGS...         sets RC, OUT (stdout file), ERR (stderr file)
#   expect_rc N / err MSG      record a failed assertion (the case goes on)
#   check_output ...           everything about one output file (see below)
#   no_leftovers DIR...        no *.part, nothing in $CASE_TMP (shrink's TMPDIR)
#   case_end                   one line: PASS name, or FAIL name: every failed assertion
#
# SPDX-License-Identifier: GPL-3.0-or-later

set -u

CLI_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TEST_NAME=$(basename "$0" .sh)
: "${SHRINK:?SHRINK must name the shrink binary (run tests/run.sh)}"
: "${SH_TEST_TMP:?SH_TEST_TMP must name a scratch dir (run tests/run.sh)}"
: "${RESULTS:?RESULTS must name the results file (run tests/run.sh)}"
SHARED_MEDIA=${SHARED_MEDIA:-}
SHRINK_TIMEOUT=${SHRINK_TIMEOUT:-600}     # seconds per shrink run (ASan is slow)

TEST_DIR="$SH_TEST_TMP/$TEST_NAME"
CLIP_DIR="$SH_TEST_TMP/clips"             # generated clips, made once per run, never handed to shrink
export PROBE_CACHE="$SH_TEST_TMP/probe-cache"
mkdir -p "$TEST_DIR" "$CLIP_DIR" "$PROBE_CACHE"
case "$SHRINK" in /*) ;; *) SHRINK="$PWD/$SHRINK" ;; esac
export LC_ALL=C

_T_SCRIPT0=$(date +%s.%N)

# ---- results ----

_words() { tr '\n' ' ' | sed 's/ *$//'; }   # lines -> one line
_oneline() { local s="$*"; s=${s//$'\n'/ | }; printf '%s' "${s//$'\r'/}"; }
_result() { printf '%s\n' "$1" >> "$RESULTS"; printf '%s\n' "$1"; }
pass() { _result "PASS $TEST_NAME/$1"; }
fail() { local n=$1; shift; _result "FAIL $TEST_NAME/$n: $(_oneline "$*")"; }
skip() { local n=$1; shift; _result "SKIP $TEST_NAME/$n: $(_oneline "$*")"; }

# cpu_now: sets CPU_NOW to the CPU seconds (user+sys) of this script's finished children.
# Call it plainly, never in $(...): `times` must run in this shell (a subshell has no
# children yet), so it writes to a file.
CPU_NOW=0
cpu_now() {
    local f="$TEST_DIR/.times" m c=0
    times > "$f"
    for m in $(tail -1 "$f"); do
        [[ $m =~ ^([0-9]+)m([0-9]+)\.([0-9]+)s$ ]] &&
            c=$((c + BASH_REMATCH[1] * 60000 + 10#${BASH_REMATCH[2]} * 1000 + 10#${BASH_REMATCH[3]}))
    done
    CPU_NOW=$((c / 1000)).$((c % 1000 / 100))
}
# elapsed T0: seconds since T0 (from `date +%s.%N`), to a tenth. In bash: it ends every case,
# and a python3 start costs 0.1-0.5 s of CPU (more behind a version manager's shim).
elapsed() {
    local now ms
    now=$(date +%s.%N)
    ms=$(( (${now%.*} - ${1%.*}) * 1000 + 10#${now#*.}/1000000 - 10#${1#*.}/1000000 ))
    printf '%d.%d\n' $(( (ms + 50) / 1000 )) $(( (ms + 50) % 1000 / 100 ))
}
script_done() { cpu_now; echo "-- $TEST_NAME: $(elapsed "$_T_SCRIPT0") s, cpu $CPU_NOW s"; }

# full_tier NAME: true (and NAME recorded as skipped) in the quick tier (make check), where
# a case that takes minutes and adds no path the quick cases lack is left to make
# check-full (which CI runs). Use: `full_tier NAME && continue` (or skip the block).
full_tier() {
    [ "${SHRINK_TEST_QUICK:-0}" = 1 ] || return 1
    skip "$1" "full tier (make check-full)"
}

# ---- cases ----

declare -A SNAP=()
CASE=""
CASE_ERRS=()

# Names of shrink temp dirs in the system temp dirs (not run.sh's shrink-tests.*).
_sys_tmp_list() {
    find /tmp "${TMPDIR:-/tmp}" -maxdepth 1 -name 'shrink-*' ! -name 'shrink-tests.*' 2>/dev/null | sort -u
}

case_begin() {
    CASE=$1
    CASE_ERRS=()
    SNAP=()
    CASE_DIR="$TEST_DIR/$CASE"
    CASE_TMP="$CASE_DIR.tmp"
    rm -rf "$CASE_DIR" "$CASE_TMP"
    mkdir -p "$CASE_DIR" "$CASE_TMP"
    _CASE_T0=$(date +%s.%N)
    cpu_now
    _CASE_CPU0=$CPU_NOW
    _SYS_TMP_BEFORE=$(_sys_tmp_list)
    RC=""
    OUT="$CASE_DIR.stdout"
    ERR="$CASE_DIR.stderr"
}

err() { CASE_ERRS+=("$(_oneline "$*")"); }

case_end() {
    local msg="" e
    if [ ${#CASE_ERRS[@]} -gt 0 ]; then
        for e in "${CASE_ERRS[@]}"; do msg+="${msg:+; }$e"; done
        fail "$CASE" "$msg"
    else
        pass "$CASE"
    fi
    cpu_now
    echo "   ($CASE: $(elapsed "$_CASE_T0") s, cpu $(awk -v a="$CPU_NOW" -v b="$_CASE_CPU0" 'BEGIN { printf "%.1f", a - b }') s)"
}

# run_shrink ARGS...: shrink with TMPDIR=$CASE_TMP; RC, and stdout/stderr in $OUT/$ERR.
# RUN_AS=(setpriv ...) runs it through a wrapper.
RUN_AS=()
run_shrink() {
    TMPDIR="$CASE_TMP" timeout -s KILL "$SHRINK_TIMEOUT" "${RUN_AS[@]}" "$SHRINK" "$@" >"$OUT" 2>"$ERR" </dev/null
    RC=$?
    if [ "$RC" = 137 ]; then
        err "shrink $* was killed after ${SHRINK_TIMEOUT}s"
    fi
    return 0
}

stderr_text() { head -c 400 "$ERR" | tr '\n' ' '; }

# expect_rc N [WHAT]
expect_rc() {
    [ "$RC" = "$1" ] || err "${2:-shrink}: exit $RC, expected $1 (stderr: $(stderr_text))"
}

# expect_one_line TEXT: stderr is exactly one line, and it contains TEXT.
expect_one_line() {
    local n
    n=$(grep -c '' "$ERR")
    [ "$n" = 1 ] || err "stderr has $n lines, expected 1: $(stderr_text)"
    grep -qF -- "$1" "$ERR" || err "stderr does not mention '$1': $(stderr_text)"
}

# expect_json_error: stdout is one JSON object with a non-null error and a null output.
expect_json_error() {
    if ! json_valid "$OUT"; then
        err "stdout is not one JSON object: $(head -c 300 "$OUT" | tr '\n' ' ')"
        return
    fi
    [ "$(json_get "$OUT" error)" != null ] || err "JSON error is null on failure"
    [ "$(json_get "$OUT" output)" = null ] || err "JSON output is $(json_get "$OUT" output) on failure"
}

# ---- files ----

sha() { sha256sum "$1" | cut -d' ' -f1; }
fsize() { stat -c %s "$1"; }

# snap_dir DIR: remember `ls -a DIR`; dir_expect DIR [NAME...]: since then exactly these names appeared.
snap_dir() { SNAP[$1]=$(ls -a "$1" | sort); }
dir_expect() {
    local dir=$1 name added removed
    shift
    added=$(comm -13 <(printf '%s\n' "${SNAP[$dir]}") <(ls -a "$dir" | sort))
    removed=$(comm -23 <(printf '%s\n' "${SNAP[$dir]}") <(ls -a "$dir" | sort))
    [ -n "$removed" ] && err "vanished from $(basename "$dir"): $(_words <<<"$removed")"
    for name in "$@"; do
        grep -qxF -- "$name" <<<"$added" || err "expected new file $name in $(basename "$dir")"
    done
    while IFS= read -r name; do
        [ -z "$name" ] && continue
        printf '%s\n' "$@" | grep -qxF -- "$name" || err "unexpected file in $(basename "$dir"): $name"
    done <<<"$added"
}

# no_leftovers DIR...: no *.part in the DIRs, $CASE_TMP empty.
no_leftovers() {
    local d f new
    for d in "$@"; do
        f=$(find "$d" -maxdepth 1 -name '*.part' 2>/dev/null | head -5)
        [ -n "$f" ] && err "left behind: $(_words <<<"$f")"
    done
    f=$(ls -A "$CASE_TMP" 2>/dev/null | head -5)
    [ -n "$f" ] && err "left in TMPDIR: $(_words <<<"$f")"
    # shrink runs with TMPDIR=$CASE_TMP, checked empty above: that is the assertion. The
    # system's /tmp is shared with every other process on the machine (another test run,
    # another user's shrink), so what appears there cannot be blamed on this case: noted only.
    new=$(comm -13 <(printf '%s\n' "$_SYS_TMP_BEFORE") <(_sys_tmp_list))
    [ -n "$new" ] && echo "   (note: new in /tmp during the case, not checked: $(_words <<<"$new"))"
    return 0
}

# handles PID SIG: wait (at most 20 s) until PID catches SIG (its SigCgt mask in /proc), so a
# test that signals "N s after the start" counts from main(), not from exec: on a loaded machine
# the dynamic loader alone can take longer than 0.3 s. Not before PID has left this shell's
# fork for the program (its Name is no longer bash's): a script with an EXIT trap catches
# SIGTERM itself, and so does its fork until the exec.
handles() {
    local pid=$1 num mask name i k v
    num=$(kill -l "$2")
    for ((i = 0; i < 400; i++)); do
        mask="" name=""
        { while read -r k v; do
            case "$k" in Name:) name=$v ;; SigCgt:) mask=$v; break ;; esac
        done < "/proc/$pid/status"; } 2>/dev/null || return 0
        [ -n "$mask" ] || return 0
        [ "$name" != "${BASH##*/}" ] && (( (16#$mask >> (num - 1)) & 1 )) && return 0
        nap 0.05
    done
}

# interrupt PID SECONDS: send PID SIGINT and wait for it (RC its exit status); still running
# SECONDS later, it is killed and that is an error.
interrupt() {
    local pid=$1 i
    kill -INT "$pid"
    for ((i = 0; i < $2 * 20; i++)); do kill -0 "$pid" 2>/dev/null || break; nap 0.05; done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid"
        err "still running $2 s after SIGINT; killed"
    fi
    wait "$pid"
    RC=$?
}

# nap SECONDS: sleep without starting a process (read's timeout on a pipe nobody writes to),
# for the loops that poll a running shrink every 10-50 ms: a `sleep` process costs 1-8 ms of
# CPU here, and at 100 polls a second that took a core from the shrink being watched.
_NAP_FD=""
nap() {
    [ -n "$_NAP_FD" ] || exec {_NAP_FD}<> <(:)
    read -r -t "$1" -u "$_NAP_FD" _ 2>/dev/null
    return 0
}

# ---- JSON (python3's json module) ----

# jl count|get FILE [N KEY]: JSON lines (one object per line), tests/cli/jsonl.py.
jl() { python3 "$CLI_DIR/jsonl.py" "$@"; }

# json_get FILE KEY[.SUB]: the value (strings raw, null as "null"); status 1 when
# the key is missing, 2 when FILE is not exactly one JSON object.
json_get() { python3 "$CLI_DIR/probe.py" json_get "$1" "$2"; }
json_valid() { python3 "$CLI_DIR/probe.py" json_get "$1" input >/dev/null 2>&1; }

# ---- probing ----

# probe_info FILE: one JSON line about FILE (see probe.py info); probe FILE KEY: one value of it.
probe_info() { python3 "$CLI_DIR/probe.py" info "$1"; }
probe() {
    local f=$1 k=$2 tmp
    tmp=$(mktemp "$TEST_DIR/.probe.XXXXXX")
    probe_info "$f" > "$tmp" 2>/dev/null && json_get "$tmp" "$k"
    rm -f "$tmp"
}
# ffprobe shortcuts
fmt_duration() { ffprobe -v error -show_entries format=duration -of default=nw=1:nk=1 "$1"; }
# src_duration FILE: the video's length from its decoded frames (what shrink must keep)
src_duration() { python3 "$CLI_DIR/probe.py" srcdur "$1" | cut -d' ' -f1; }
has_audio() { [ -n "$(ffprobe -v error -select_streams a -show_entries stream=index -of csv=p=0 "$1")" ]; }

# check_output OUT SRC TARGET [--json FILE] [--fill 0.9] [--audio yes|no] [--channels N]
#              [--expect-output PATH] [--rotation DEG] [--portrait] [--dar-of SRC]
#              [--vcodec hevc|av1|vp9] [--container matroska|webm]
# size <= TARGET (and >= fill*TARGET), ffprobe opens it, h264 (+opus) in mp4 (or as
# --vcodec/--container say; ffprobe names both mkv and webm "matroska,webm"), decodes
# without errors, duration within 1/fps of the source video (max(1/fps, 0.12 s) with
# audio), even WxH equal to the JSON's, audio iff JSON audio, frames = fps*duration +-2.
check_output() {
    local msgs
    msgs=$(python3 "$CLI_DIR/probe.py" check "$@" 2>&1) && return 0
    while IFS= read -r line; do
        [ -n "$line" ] && err "$(basename "$1"): $line"
    done <<<"$msgs"
    return 1
}

# ---- synthetic clips ----

# make_clip NAME [key=value...]: make NAME once per run for these options; prints its path.
#   src=testsrc2|mandelbrot|smptebars  size=640x360  rate=25  dur=10
#   audio=sine|noise|none  ach=1|2  arate=48000
#   vcodec=libx264|mpeg4|mjpeg|libvpx|mpeg2video  acodec=aac|libopus|libmp3lame|pcm_s16le|mp2
#   (defaults follow the extension of NAME: .mp4 .mov .mkv .webm .avi .mpg .ts)
#   rotate=90|180|270 (MP4/MOV display matrix, set by a remux)  sar=N/D (setsar)
make_clip() {
    # Cached by name and options: scripts make clips of one name with different options.
    local name=$1 key path
    shift
    key=$(printf '%s\n' "$@" | md5sum | cut -c1-10)
    path="$CLIP_DIR/$key/$name"
    mkdir -p "$CLIP_DIR/$key"
    if [ -s "$path" ]; then
        printf '%s\n' "$path"
        return 0
    fi
    local src=testsrc2 size=640x360 rate=25 dur=10 audio=sine ach=1 arate=48000
    local vcodec="" acodec="" rotate="" sar="" gop="" kv
    for kv in "$@"; do
        case "$kv" in
            src=*) src=${kv#*=} ;; size=*) size=${kv#*=} ;; rate=*) rate=${kv#*=} ;;
            dur=*) dur=${kv#*=} ;; audio=*) audio=${kv#*=} ;; ach=*) ach=${kv#*=} ;;
            arate=*) arate=${kv#*=} ;; vcodec=*) vcodec=${kv#*=} ;; acodec=*) acodec=${kv#*=} ;;
            rotate=*) rotate=${kv#*=} ;; sar=*) sar=${kv#*=} ;; gop=*) gop=${kv#*=} ;;
            *) echo "make_clip: unknown option $kv" >&2; return 1 ;;
        esac
    done
    local ext=${name##*.}
    case "$ext" in
        webm) : "${vcodec:=libvpx}" "${acodec:=libopus}" ;;
        avi)  : "${vcodec:=mjpeg}" "${acodec:=pcm_s16le}" ;;
        mpg)  : "${vcodec:=mpeg2video}" "${acodec:=mp2}" ;;
        ts)   : "${vcodec:=libx264}" "${acodec:=mp2}" ;;
        *)    : "${vcodec:=libx264}" "${acodec:=aac}" ;;
    esac
    local -a cmd=(ffmpeg -nostdin -v error -y)
    case "$src" in
        mandelbrot) cmd+=(-f lavfi -i "mandelbrot=size=$size:rate=$rate:maxiter=256") ;;
        *)          cmd+=(-f lavfi -i "$src=size=$size:rate=$rate") ;;
    esac
    case "$audio" in
        none) ;;
        sine)
            if [ "$ach" = 2 ]; then
                cmd+=(-f lavfi -i "aevalsrc=0.4*sin(2*PI*440*t)|0.4*sin(2*PI*660*t):s=$arate:c=stereo")
            else
                cmd+=(-f lavfi -i "sine=frequency=440:sample_rate=$arate")
            fi ;;
        noise) cmd+=(-f lavfi -i "anoisesrc=color=pink:sample_rate=$arate:amplitude=0.3") ;;
        *) echo "make_clip: audio=$audio?" >&2; return 1 ;;
    esac
    cmd+=(-t "$dur" -map 0:v)
    [ "$audio" != none ] && cmd+=(-map 1:a -ac "$ach")
    [ -n "$sar" ] && cmd+=(-vf "setsar=$sar")
    case "$vcodec" in
        libx264) cmd+=(-c:v libx264 -preset ultrafast -crf 23 -pix_fmt yuv420p ${gop:+-g "$gop"}) ;;
        libvpx)  cmd+=(-c:v libvpx -deadline realtime -cpu-used 8 -b:v 1M) ;;
        mjpeg)   cmd+=(-c:v mjpeg -q:v 5 -pix_fmt yuvj420p) ;;
        *)       cmd+=(-c:v "$vcodec" -q:v 5) ;;
    esac
    [ "$audio" != none ] && cmd+=(-c:a "$acodec")
    local tmp="$CLIP_DIR/.tmp.$$.$name"
    if ! "${cmd[@]}" "$tmp"; then
        rm -f "$tmp"
        echo "make_clip: ffmpeg failed for $name" >&2
        return 1
    fi
    if [ -n "$rotate" ]; then
        # FFmpeg 5.1 has no -display_rotation; the mov muxer turns this tag into a matrix
        if ! ffmpeg -nostdin -v error -y -i "$tmp" -map 0 -c copy -metadata:s:v:0 rotate="$rotate" "$tmp.r.$ext"; then
            rm -f "$tmp" "$tmp.r.$ext"
            return 1
        fi
        mv "$tmp.r.$ext" "$tmp"
    fi
    mv "$tmp" "$path"
    printf '%s\n' "$path"
}

# clip_into NAME DIR [key=value...]: make_clip, then copy it into DIR (a case works on its own copy).
clip_into() {
    local name=$1 dir=$2 src
    shift 2
    src=$(make_clip "$name" "$@") || return 1
    cp "$src" "$dir/$name" && printf '%s\n' "$dir/$name"
}

# shared_clips: the real clips in $SHARED_MEDIA, one path a line (nothing when absent).
shared_clips() {
    [ -d "$SHARED_MEDIA" ] || return 0
    find "$SHARED_MEDIA" -maxdepth 1 -type f ! -name '*.md' ! -name '*.txt' ! -name '.*' | sort
}
