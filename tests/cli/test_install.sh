#!/usr/bin/env bash
# make install puts the binary, the man page and the bash completion under
# DESTDIR/PREFIX (uninstall removes them); the man page renders without
# warnings; --help, the man page and the completion name the same options;
# the completion offers the presets.
# SPDX-License-Identifier: GPL-3.0-or-later
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$CLI_DIR/../.." && pwd)
BUILD_DIR=$(dirname "$SHRINK")
BUILD_DIR=${BUILD_DIR#"$ROOT"/}
MAN="$ROOT/docs/shrink.1"
COMPLETION="$ROOT/docs/shrink.bash-completion"

# -o: install what is built; never rebuild from a tree others may be editing.
case_begin make_install
dest="$CASE_DIR/dest"
if ! make -s -C "$ROOT" install DESTDIR="$dest" PREFIX=/opt/sh BUILD="$BUILD_DIR" -o "$BUILD_DIR/shrink" \
        >"$OUT" 2>"$ERR"; then
    err "make install failed: $(stderr_text)"
fi
[ -x "$dest/opt/sh/bin/shrink" ] || err "no bin/shrink"
cmp -s "$dest/opt/sh/bin/shrink" "$SHRINK" || err "bin/shrink is not the binary built"
[ -f "$dest/opt/sh/share/man/man1/shrink.1" ] || err "no share/man/man1/shrink.1"
[ -f "$dest/opt/sh/share/bash-completion/completions/shrink" ] || err "no share/bash-completion/completions/shrink"
[ "$(stat -c %a "$dest/opt/sh/share/man/man1/shrink.1" 2>/dev/null)" = 644 ] || err "the man page is not 644"
"$dest/opt/sh/bin/shrink" --version | grep -q '^shrink ' || err "the installed binary does not run"
[ "$(stat -c %a "$dest/opt/sh/share/shrink/services" 2>/dev/null)" = 644 ] || err "no share/shrink/services (644)"
cmp -s "$dest/opt/sh/share/shrink/services" "$ROOT/data/services" || err "share/shrink/services is not data/services"
n=$(find "$dest" -type f | wc -l)
[ "$n" = 4 ] || err "$n files installed, expected 4: $(find "$dest" -type f | _words)"
make -s -C "$ROOT" uninstall DESTDIR="$dest" PREFIX=/opt/sh >/dev/null 2>&1 || err "make uninstall failed"
n=$(find "$dest" -type f | wc -l)
[ "$n" = 0 ] || err "uninstall left $(find "$dest" -type f | _words)"
case_end

case_begin man_renders
if ! command -v groff >/dev/null || ! command -v man >/dev/null; then
    skip man_renders "no man or groff (apt-get install man-db groff-base)"
else
    w=$(groff -man -ww -z "$MAN" 2>&1)
    [ -n "$w" ] && err "groff warns: $w"
    MANWIDTH=80 man -l "$MAN" > "$CASE_DIR/man.txt" 2>"$CASE_DIR/man.err" || err "man -l failed"
    [ -s "$CASE_DIR/man.err" ] && err "man -l says: $(head -c 300 "$CASE_DIR/man.err")"
    for s in NAME SYNOPSIS DESCRIPTION OPTIONS SERVICES "EXIT STATUS" EXAMPLES; do
        grep -q "^$s" "$CASE_DIR/man.txt" || err "no $s section"
    done
    for code in 0 1 2 3 4 5 6 7 130; do
        grep -qE "^ +$code\b" "$CASE_DIR/man.txt" || err "exit code $code not in the man page"
    done
    case_end
fi

# Every long option of --help is in the man page and the completion, and
# every one they name is in --help.
case_begin options_agree
"$SHRINK" --help > "$CASE_DIR/help.txt"
help_opts=$(grep -oE -- '--[a-z][a-z-]+' "$CASE_DIR/help.txt" | sort -u)
man_opts=$(sed 's/\\-/-/g' "$MAN" | grep -oE -- '--[a-z][a-z-]+' | sort -u)
comp_opts=$(grep -oE -- '--[a-z][a-z-]+' "$COMPLETION" | sort -u)
for o in $help_opts; do
    grep -qxF -- "$o" <<<"$man_opts" || err "$o is in --help, not in the man page"
    grep -qxF -- "$o" <<<"$comp_opts" || err "$o is in --help, not in the completion"
done
for o in $man_opts $comp_opts; do
    grep -qxF -- "$o" <<<"$help_opts" || err "$o is not in --help"
done
for p in discord email whatsapp mms slack telegram floppy; do
    grep -q "^\.B $p$" "$MAN" || err "the man page does not list $p"
done
case_end

case_begin completion
out=$(PATH="$(dirname "$SHRINK"):$PATH" bash -c '
    shopt -s extglob
    source "$1" || exit 1
    complete -p shrink >/dev/null || exit 1
    COMP_WORDS=(shrink clip.mp4 --for ""); COMP_CWORD=3; _shrink; echo "for: ${COMPREPLY[*]}"
    COMP_WORDS=(shrink --skip); COMP_CWORD=1; _shrink; echo "opt: ${COMPREPLY[*]}"
' _ "$COMPLETION" 2>&1)
grep -q "^for: discord email whatsapp mms slack telegram floppy$" <<<"$out" || err "--for completes to: $out"
grep -q "^opt: --skip-existing --skip-fitting$" <<<"$out" || err "--skip completes to: $out"
case_end

script_done
