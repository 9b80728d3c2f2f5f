#!/usr/bin/env bash
# Progress: on a terminal (a pseudo-terminal from `script`), one line on
# stderr redrawn in place with the stage and percent, a few times a second at
# most, wiped before the result line; nothing with -q or --no-progress;
# nothing when stderr is not a terminal, unless --progress, which then
# writes plain lines.
# SPDX-License-Identifier: GPL-3.0-or-later
. "$(dirname "$0")/lib.sh"

SRC=(size=640x360 rate=25 dur=10 audio=sine)

if ! command -v script >/dev/null; then
    skip progress "no script(1) (util-linux) for a pseudo-terminal"
    exit 0
fi
# A root without /dev/pts (a chroot that bound /dev alone) has script(1) but no terminal to give.
if ! timeout 20 script -qec true /dev/null </dev/null >/dev/null 2>&1; then
    skip progress "script(1) cannot open a pseudo-terminal here (is /dev/pts mounted?)"
    exit 0
fi

# on_tty FILE ARGS...: shrink ARGS on a pseudo-terminal (stdout and stderr);
# what it printed goes to FILE, RC and SECS are set.
on_tty() {
    local file=$1 cmd t0
    shift
    cmd=$(printf '%q ' env TMPDIR="$CASE_TMP" "$SHRINK" "$@")
    t0=$(date +%s.%N)
    timeout -s KILL "$SHRINK_TIMEOUT" script -qec "$cmd" /dev/null > "$file" </dev/null
    RC=$?
    SECS=$(elapsed "$t0")
}

# The terminal's view: progress drawn over itself, then wiped, then the result.
case_begin tty
in=$(clip_into p.mp4 "$CASE_DIR" "${SRC[@]}")
on_tty "$CASE_DIR/tty.txt" "$in" --target 150k -o "$CASE_DIR/out.mp4"
expect_rc 0
msgs=$(python3 - "$CASE_DIR/tty.txt" "$SECS" "$CASE_DIR/out.mp4" <<'EOF'
import re, sys
text = open(sys.argv[1], "rb").read().decode("utf-8", "replace").replace("\r\n", "\n")
secs, out = float(sys.argv[2]), sys.argv[3]
draws = re.findall(r"\r([^\r\n\x1b]+)\x1b\[K", text)
if not draws:
    print("no progress line drawn: %r" % text[:300])
    sys.exit()
stages = {d.split(": ")[-1].split()[0] for d in draws}
for s in ("analysis", "encode"):
    if s not in stages:
        print("stage %s never shown (saw %s)" % (s, sorted(stages)))
if not all(re.search(r" +\d+%", d) for d in draws):
    print("a line without a percent: %r" % [d for d in draws if not re.search(r"\d+%", d)][:2])
pct = [int(re.search(r"(\d+)%", d).group(1)) for d in draws]
if any(b < a for a, b in zip(pct, pct[1:])):
    print("the percent went back: %s" % pct)
if any("ETA" in d for d in draws) is False and secs > 3:
    print("no ETA in %.1f s" % secs)
if len(draws) > 4 * secs + 3:
    print("%d redraws in %.1f s: not throttled to a few a second" % (len(draws), secs))
if any(len(d) > 79 for d in draws):
    print("a line wider than the terminal: %r" % max(draws, key=len))
# the line is wiped, then the result is printed on a clean line
i = text.rfind("\r\x1b[K")
if i < 0 or not text[i + 4:].startswith(out + ": "):
    print("the result line does not follow a wiped line: %r" % text[-200:])
if "\n" in text[:i]:
    print("progress left lines behind: %r" % text[:i].split("\n")[0][:200])
EOF
)
[ -n "$msgs" ] && err "$msgs"
no_leftovers "$CASE_DIR"
case_end

# The cases below: --no-search (the case above draws the search's "sampling" stage too;
# these test what is printed, not the plan).
# -q and --no-progress: nothing drawn on the terminal.
case_begin tty_quiet
in=$(clip_into p.mp4 "$CASE_DIR" "${SRC[@]}")
on_tty "$CASE_DIR/q.txt" "$in" --target 150k -o "$CASE_DIR/q.mp4" --no-search -q
expect_rc 0
[ -s "$CASE_DIR/q.txt" ] && err "-q printed on the terminal: $(head -c 200 "$CASE_DIR/q.txt" | cat -v)"
on_tty "$CASE_DIR/n.txt" "$in" --target 150k -o "$CASE_DIR/n.mp4" --no-search --no-progress
expect_rc 0
grep -q "analysis\|encode " "$CASE_DIR/n.txt" && err "--no-progress drew progress: $(head -c 200 "$CASE_DIR/n.txt" | cat -v)"
[ "$(grep -c '' "$CASE_DIR/n.txt")" = 1 ] || err "--no-progress: not just the result line: $(head -c 300 "$CASE_DIR/n.txt" | cat -v)"
case_end

# Not a terminal: nothing on stderr by default...
case_begin pipe_silent
in=$(clip_into p.mp4 "$CASE_DIR" "${SRC[@]}")
run_shrink "$in" --target 150k -o "$CASE_DIR/o.mp4" --no-search
expect_rc 0
[ -s "$ERR" ] && err "stderr not empty when it is not a terminal: $(stderr_text)"
case_end

# ... and plain lines with --progress: newline-ended, no escapes, a second apart at most.
case_begin pipe_progress
in=$(clip_into p.mp4 "$CASE_DIR" "${SRC[@]}")
t0=$(date +%s.%N)
run_shrink "$in" --target 150k -o "$CASE_DIR/o.mp4" --no-search --progress --json
secs=$(elapsed "$t0")
expect_rc 0
json_valid "$OUT" || err "stdout is not one JSON object: $(head -c 300 "$OUT")"
grep -qE '^shrink: p\.mp4: analysis +[0-9]+%' "$ERR" || err "no analysis line: $(stderr_text)"
grep -qE '^shrink: p\.mp4: encode +[0-9]+%' "$ERR" || err "no encode line: $(stderr_text)"
grep -q $'\r\|\x1b' "$ERR" && err "terminal controls in --progress lines: $(stderr_text | cat -v)"
n=$(grep -c '' "$ERR")
python3 -c "import sys; sys.exit(int(sys.argv[1]) > float(sys.argv[2]) + 3)" "$n" "$secs" ||
    err "$n progress lines in $secs s: more than one a second"
case_end

script_done
