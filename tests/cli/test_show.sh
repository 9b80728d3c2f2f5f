#!/usr/bin/env bash
# --report's pictures (docs/SHOW.md): a contact sheet (PNG: source and output
# at the same instants) and the solver's plot (SVG: samples, fitted lines,
# budget, choice), named in the JSON, written like outputs (never over an
# input, an existing file only with --force, nothing partial); --plan
# --report writes the plot alone. And the services --for uses, as data
# (docs/SERVICES.md): a user file and --services add and override, and
# --list-services says where each row came from; a bad file is refused with
# its line, exit 2.
# SPDX-License-Identifier: GPL-3.0-or-later
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$CLI_DIR/../.." && pwd)
CHECK="$CLI_DIR/showcheck.py"
# No user services file of the machine's: each case says which it has.
export XDG_CONFIG_HOME="$SH_TEST_TMP/show-config-none"
CLIP=(size=480x270 rate=25 dur=5 audio=sine)

# The issue's own line: a contact sheet and a plot that open as images, named in the JSON.
case_begin report_pictures
in=$(clip_into in.mp4 "$CASE_DIR" "${CLIP[@]}")
run_shrink "$in" --target 200KB --report --speed fast --json
expect_rc 0
out="$CASE_DIR/in.shrunk.mp4"
sheet=$(json_get "$OUT" sheet)
plot=$(json_get "$OUT" plot)
[ "$sheet" = "$out.sheet.png" ] || err "JSON sheet is '$sheet', expected $out.sheet.png"
[ "$plot" = "$out.plot.svg" ] || err "JSON plot is '$plot', expected $out.plot.svg"
if [ -s "$out" ] && [ -s "$sheet" ]; then
    IFS=x read -r ow oh < <(ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=p=0:s=x "$out")
    msg=$(python3 "$CHECK" sheet "$sheet" 480 270 "$ow" "$oh" 2>&1) || err "sheet: $(_words <<<"$msg")"
else
    err "no output or no sheet"
fi
[ -s "$plot" ] && { msg=$(python3 "$CHECK" svg "$plot" 2>&1) || err "plot: $(_words <<<"$msg")"; }
no_leftovers "$CASE_DIR"
case_end

# --plan --report: the plot alone, a dot for each sample the plan lists; nothing else written.
case_begin plan_plot_only
in=$(clip_into in.mp4 "$CASE_DIR" "${CLIP[@]}")
snap_dir "$CASE_DIR"
run_shrink "$in" --target 200KB --plan --report --speed fast --json
expect_rc 0
plot=$(json_get "$OUT" plot)
[ "$plot" = "$CASE_DIR/in.shrunk.mp4.plot.svg" ] || err "JSON plot is '$plot'"
dir_expect "$CASE_DIR" in.shrunk.mp4.plot.svg
[ -s "$plot" ] && { msg=$(python3 "$CHECK" svg "$plot" "$OUT" 2>&1) || err "plot: $(_words <<<"$msg")"; }
no_leftovers "$CASE_DIR"
case_end

# --report-dir DIR (made when missing): the pictures there, named after the output.
case_begin report_dir
in=$(clip_into in.mp4 "$CASE_DIR" "${CLIP[@]}")
snap_dir "$CASE_DIR"
run_shrink "$in" --target 200KB --plan --report-dir "$CASE_DIR/pics/new" --no-search --json
expect_rc 0
[ "$(json_get "$OUT" plot)" = "$CASE_DIR/pics/new/in.shrunk.mp4.plot.svg" ] || err "JSON plot is '$(json_get "$OUT" plot)'"
[ -s "$CASE_DIR/pics/new/in.shrunk.mp4.plot.svg" ] || err "no plot in --report-dir"
dir_expect "$CASE_DIR" pics
case_end

# A walk with --report-dir: the input's directory under the walked one is kept, as --outdir
# keeps it, so a/x.mp4 and b/x.mp4 (both making x.shrunk.mp4) get a picture each. Two walked
# directories with x.mp4 at their tops still meet in one name: the second item is refused
# (the batch exits 7), and even --force never replaces a picture the same run wrote.
case_begin report_dir_walk
mkdir -p "$CASE_DIR/w/a" "$CASE_DIR/w/b"
clip_into x.mp4 "$CASE_DIR/w/a" "${CLIP[@]}" >/dev/null
clip_into x.mp4 "$CASE_DIR/w/b" "${CLIP[@]}" dur=3 >/dev/null
run_shrink "$CASE_DIR/w" --target 200KB --plan --report-dir "$CASE_DIR/pics" --no-search --json
expect_rc 0
for i in 0 1; do
    d=$(jl get "$OUT" $i input | sed 's|.*/w/\(.\)/x.mp4$|\1|')
    plot=$(jl get "$OUT" $i plot)
    [ "$plot" = "$CASE_DIR/pics/$d/x.shrunk.mp4.plot.svg" ] || err "item $i: JSON plot '$plot', expected pics/$d/"
    [ -s "$plot" ] && grep -q "<svg" "$plot" || err "item $i: no plot at $plot"
done
cmp -s "$CASE_DIR/pics/a/x.shrunk.mp4.plot.svg" "$CASE_DIR/pics/b/x.shrunk.mp4.plot.svg" &&
    err "the two plots are the same file's (5 s and 3 s inputs)"
rm -rf "$CASE_DIR/pics"
run_shrink "$CASE_DIR/w/a" "$CASE_DIR/w/b" --target 200KB --plan --report-dir "$CASE_DIR/pics" --no-search --force --json
expect_rc 7 "two walked tops (one item failed: 7)"
grep -q "was written from an earlier input" "$ERR" || err "no 'earlier input' message: $(stderr_text)"
[ "$(jl get "$OUT" 1 action)" = failed ] || err "the second item: $(jl get "$OUT" 1 action)"
[ "$(jl get "$OUT" 1 exit)" = 6 ] || err "the second item's exit: $(jl get "$OUT" 1 exit)"
[ "$(jl get "$OUT" 0 plot)" = "$CASE_DIR/pics/x.shrunk.mp4.plot.svg" ] || err "the first item's plot: $(jl get "$OUT" 0 plot)"
[ "$(jl get "$OUT" 1 plot)" = null ] || err "the refused item names a plot: $(jl get "$OUT" 1 plot)"
grep -q "<svg" "$CASE_DIR/pics/x.shrunk.mp4.plot.svg" || err "no plot from the first item"
[ "$(ls -A "$CASE_DIR/pics")" = x.shrunk.mp4.plot.svg ] || err "in pics: $(ls -A "$CASE_DIR/pics" | _words)"
case_end

# A picture in the way: refused before any work (exit 6, the file kept); --force replaces it.
case_begin exists_and_force
in=$(clip_into in.mp4 "$CASE_DIR" "${CLIP[@]}")
echo keep > "$CASE_DIR/in.shrunk.mp4.plot.svg"
run_shrink "$in" --target 200KB --plan --report --no-search --json
expect_rc 6
grep -q "exists; use --force" "$ERR" || err "no 'exists' message: $(stderr_text)"
[ "$(cat "$CASE_DIR/in.shrunk.mp4.plot.svg")" = keep ] || err "the existing file was changed"
run_shrink "$in" --target 200KB --plan --report --no-search --force --json
expect_rc 0 "--force"
grep -q "<svg" "$CASE_DIR/in.shrunk.mp4.plot.svg" || err "--force did not replace it with the plot"
no_leftovers "$CASE_DIR"
case_end

# Never over an input of the run, whatever --force says.
case_begin never_an_input
in="$CASE_DIR/v.mp4.plot.svg"
mv "$(clip_into v.mp4 "$CASE_DIR" "${CLIP[@]}")" "$in"
h=$(sha "$in")
run_shrink "$in" -o "$CASE_DIR/v.mp4" --target 200KB --plan --report --no-search --force --json
expect_rc 6
grep -q "would replace the input" "$ERR" || err "no refusal message: $(stderr_text)"
[ "$(sha "$in")" = "$h" ] || err "the input was changed"
case_end

# ---- services ----

cfg="$SH_TEST_TMP/show-config"
mkdir -p "$cfg/shrink"

# A user file adds a service and overrides one; --list-services says where each came from.
case_begin services_user_file
printf '# mine\n\ndiscord | 8MB | 8 MB | an older limit | 2025-01-02\nmyhost | 150000 | 150 kB | my server | 2027-02-03\n' \
    > "$cfg/shrink/services"
XDG_CONFIG_HOME="$cfg" run_shrink --list-services
expect_rc 0
grep -qE "^  discord +8,000,000 B, for a limit of 8 MB \(checked 2025-01-02; $cfg/shrink/services:3\)" "$OUT" \
    || err "--list-services does not show discord from the user file, line 3: $(grep discord "$OUT")"
grep -qE "^  myhost +150,000 B, .*services:4\)" "$OUT" || err "--list-services does not show myhost from line 4"
grep -qE "^  email .*built in\)" "$OUT" || err "email is not shown as built in"
grep -qF "user: $cfg/shrink/services: 2 services" "$OUT" || err "the user file is not listed as a source"
in=$(clip_into in.mp4 "$CASE_DIR" "${CLIP[@]}")
XDG_CONFIG_HOME="$cfg" run_shrink "$in" --for myhost --plan --no-search --json
expect_rc 0 "--for myhost"
[ "$(json_get "$OUT" target)" = 150000 ] || err "--for myhost: target $(json_get "$OUT" target), expected 150000"
case_end

# --services FILE comes last: it overrides the user's file.
case_begin services_option
printf 'myhost | 2MB | 2 MB | moved | 2027-03-04\n' > "$CASE_DIR/svc"
XDG_CONFIG_HOME="$cfg" run_shrink --services "$CASE_DIR/svc" --list-services --json
expect_rc 0
python3 - "$OUT" "$CASE_DIR/svc" <<'PY' || err "--list-services --json: $(python3 - "$OUT" "$CASE_DIR/svc" <<<'' 2>&1 | tail -1)"
import json, sys
d = json.load(open(sys.argv[1]))
m = {s["name"]: s for s in d["services"]}
assert m["myhost"]["bytes"] == 2000000 and m["myhost"]["source"] == sys.argv[2] and m["myhost"]["line"] == 1, m["myhost"]
assert m["discord"]["bytes"] == 8000000 and m["discord"]["line"] == 3, m["discord"]
assert m["email"]["source"] is None and m["email"]["checked"] == "2026-11-21", m["email"]
assert [s["kind"] for s in d["sources"]] == ["built-in", "installed", "user", "--services"], d["sources"]
PY
case_end

# The installed file says what the built-in table says.
case_begin services_installed_file_matches
run_shrink --list-services --json
cp "$OUT" "$CASE_DIR/builtin.json"
run_shrink --services "$ROOT/data/services" --list-services --json
expect_rc 0 "data/services"
python3 - "$CASE_DIR/builtin.json" "$OUT" <<'PY' || err "data/services and the built-in table differ"
import json, sys
keys = ("name", "bytes", "label", "basis", "checked")
a, b = (json.load(open(p))["services"] for p in sys.argv[1:3])
sys.exit(0 if [tuple(s[k] for k in keys) for s in a] == [tuple(s[k] for k in keys) for s in b] else 1)
PY
case_end

# A bad file: one line naming the file and the line, exit 2, nothing done.
bad_file() {   # NAME LINE TEXT-IN-MESSAGE: $CASE_DIR/NAME is the file
    local f="$CASE_DIR/$1"
    run_shrink --services "$f" --list-services
    expect_rc 2 "$1"
    expect_one_line "$f:$2: error:"
    grep -qF -- "$3" "$ERR" || err "$1: the message does not say '$3': $(stderr_text)"
}
case_begin services_bad_lines
ok='discord | 10MB | 10 MB | fine | 2026-01-01'
printf '%s\n# c\nmyhost | 3MB | 3 MB | mine\n' "$ok" > "$CASE_DIR/fields";            bad_file fields 3 "4 fields"
printf '%s\nx | 1MB | a | b | c | 2026-01-01\n' "$ok" > "$CASE_DIR/fields6";          bad_file fields6 2 "6 fields"
printf 'zero | 0 | 0 | none | 2026-01-01\n' > "$CASE_DIR/zero";                       bad_file zero 1 "bytes '0'"
printf 'big | 999TB | huge | absurd | 2026-01-01\n' > "$CASE_DIR/huge";                bad_file huge 1 "bytes '999TB'"
printf 'over | 99999999999999999999999 | x | y | 2026-01-01\n' > "$CASE_DIR/overflow"; bad_file overflow 1 "bytes"
printf 'neg | -5MB | x | y | 2026-01-01\n' > "$CASE_DIR/neg";                         bad_file neg 1 "bytes '-5MB'"
printf 'd | 1MB | x | y | 2026-13-01\n' > "$CASE_DIR/date";                           bad_file date 1 "checked '2026-13-01'"
printf 'bad name | 1MB | x | y | 2026-01-01\n' > "$CASE_DIR/name";                     bad_file name 1 "name 'bad name'"
printf '%s\n\n%s\nDiscord | 1MB | x | y | 2026-01-01\n' "$ok" "# x" > "$CASE_DIR/dup"; bad_file dup 4 "'discord' again (first on line 1)"
printf '%s\nx | 1MB | a\0b | y | 2026-01-01\n' "$ok" > "$CASE_DIR/nul";               bad_file nul 2 "NUL byte"
{ echo "$ok"; printf 'x | 1MB | a | %s | 2026-01-01\n' "$(head -c 3000 /dev/zero | tr '\0' b)"; } > "$CASE_DIR/long"
bad_file long 2 "longer than 1024"
printf 'x | 1MB | a\033[2J | y | 2026-01-01\n' > "$CASE_DIR/ctrl";                    bad_file ctrl 1 "control character"
printf 'x | 1MB | a\377 | y | 2026-01-01\n' > "$CASE_DIR/utf8";                       bad_file utf8 1 "not UTF-8"
# The same refusal where --for needs the table: no job starts.
in=$(clip_into in.mp4 "$CASE_DIR" "${CLIP[@]}")
run_shrink "$in" --for discord --services "$CASE_DIR/dup" --json
expect_rc 2 "--for with a bad file"
[ -e "$CASE_DIR/in.shrunk.mp4" ] && err "an output was written"
case_end

# The file itself: missing (2), a directory, a FIFO (no hang), too large.
case_begin services_bad_files
run_shrink --services "$CASE_DIR/missing" --list-services
expect_rc 2 "missing"
expect_one_line "cannot read the services file"
run_shrink --services "$CASE_DIR" --list-services
expect_rc 2 "a directory"
expect_one_line "not a regular file"
mkfifo "$CASE_DIR/fifo"
SHRINK_TIMEOUT=20 run_shrink --services "$CASE_DIR/fifo" --list-services
expect_rc 2 "a FIFO"
head -c 100000 /dev/zero | tr '\0' '#' | fold -w 80 > "$CASE_DIR/large"
run_shrink --services "$CASE_DIR/large" --list-services
expect_rc 2 "a 100 kB file"
expect_one_line "larger than 64 KiB"
# A bad user file stops --for, names itself, and leaves --target alone.
printf 'x | 1MB\n' > "$cfg/shrink/services"
XDG_CONFIG_HOME="$cfg" run_shrink --for discord --list-services
expect_rc 2 "a bad user file"
expect_one_line "$cfg/shrink/services:1: error:"
case_end
