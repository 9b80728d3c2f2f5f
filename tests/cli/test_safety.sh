#!/usr/bin/env bash
# Safety: never replace a file without --force, never the input whatever the
# path or --force, fail with 6 when the output cannot be written; nothing left
# behind and the input unchanged in every case.
# SPDX-License-Identifier: GPL-3.0-or-later
. "$(dirname "$0")/lib.sh"

CLIP=(size=320x240 rate=25 dur=5 audio=sine)
# (--speed fast --no-search: these cases are about paths, not the encoder or the plan;
# --speed fast halved each run's CPU, --no-search takes the sample encodes off the rest.)

# An existing output is kept without --force (exit 6), replaced with it.
case_begin exists_no_force
in=$(clip_into c.mp4 "$CASE_DIR" "${CLIP[@]}")
echo "precious" > "$CASE_DIR/c.shrunk.mp4"
keep=$(sha "$CASE_DIR/c.shrunk.mp4"); before=$(sha "$in")
snap_dir "$CASE_DIR"
run_shrink "$in" --target 100k --speed fast --no-search --json
expect_rc 6
expect_json_error
[ "$(sha "$CASE_DIR/c.shrunk.mp4")" = "$keep" ] || err "the existing output changed"
[ "$(sha "$in")" = "$before" ] || err "the input changed"
grep -qF "c.shrunk.mp4" "$ERR" || err "stderr does not name the output: $(stderr_text)"
dir_expect "$CASE_DIR"
no_leftovers "$CASE_DIR"
case_end

case_begin exists_no_force_o
in=$(clip_into c.mp4 "$CASE_DIR" "${CLIP[@]}")
echo "precious" > "$CASE_DIR/other.mp4"
keep=$(sha "$CASE_DIR/other.mp4")
snap_dir "$CASE_DIR"
run_shrink "$in" --target 100k --speed fast --no-search -o "$CASE_DIR/other.mp4"
expect_rc 6
expect_one_line "other.mp4"
[ "$(sha "$CASE_DIR/other.mp4")" = "$keep" ] || err "the existing output changed"
dir_expect "$CASE_DIR"
no_leftovers "$CASE_DIR"
case_end

case_begin exists_force
in=$(clip_into c.mp4 "$CASE_DIR" "${CLIP[@]}")
echo "old" > "$CASE_DIR/c.shrunk.mp4"
old=$(sha "$CASE_DIR/c.shrunk.mp4"); before=$(sha "$in")
snap_dir "$CASE_DIR"
run_shrink "$in" --target 100k --speed fast --no-search --force --json
expect_rc 0
[ "$(sha "$in")" = "$before" ] || err "the input changed"
[ "$(sha "$CASE_DIR/c.shrunk.mp4")" = "$old" ] && err "the output was not replaced"
[ "$RC" = 0 ] && check_output "$CASE_DIR/c.shrunk.mp4" "$in" 100000 --json "$OUT" --fill 0.9
dir_expect "$CASE_DIR"
no_leftovers "$CASE_DIR"
case_end

# -o names the input itself, by many paths; with --force too.
same_file_case() {   # NAME SETUP-KIND OUTPUT-ARG [--force]
    local name=$1 kind=$2 oarg=$3 force=${4:-}
    case_begin "$name"
    local in before mode
    in=$(clip_into x.mp4 "$CASE_DIR" "${CLIP[@]}")
    mkdir -p "$CASE_DIR/dir"
    case "$kind" in
        symlink) ln -s x.mp4 "$CASE_DIR/link.mp4" ;;
        hardlink) ln "$CASE_DIR/x.mp4" "$CASE_DIR/hard.mp4" ;;
        dirlink) ln -s . "$CASE_DIR/here" ;;
    esac
    before=$(sha "$in")
    mode=$(stat -c '%i %s %Y %a' "$in")
    snap_dir "$CASE_DIR"
    cd "$CASE_DIR" || exit 1
    # shellcheck disable=SC2086 # $force is empty or one word
    run_shrink x.mp4 --target 100k --speed fast --no-search -o "$oarg" $force --json
    cd - >/dev/null || exit 1
    expect_rc 6
    expect_json_error
    [ "$(sha "$in")" = "$before" ] || err "the input changed"
    [ "$(stat -c '%i %s %Y %a' "$in")" = "$mode" ] || err "the input's inode/size/mtime/mode changed"
    case "$kind" in
        symlink) [ -L "$CASE_DIR/link.mp4" ] || err "the symlink was replaced" ;;
        hardlink) [ "$(stat -c %h "$in")" = 2 ] || err "the hard link was broken" ;;
    esac
    grep -qi "input" "$ERR" || err "stderr does not say it is the input: $(stderr_text)"
    dir_expect "$CASE_DIR"
    no_leftovers "$CASE_DIR" "$CASE_DIR/dir"
    case_end
}
same_file_case same_path          plain    x.mp4
same_file_case same_path_force    plain    x.mp4          --force
same_file_case dot_slash_force    plain    ./x.mp4        --force
same_file_case dotdot_force       plain    dir/../x.mp4   --force
same_file_case absolute_force     plain    "$TEST_DIR/absolute_force/x.mp4" --force
same_file_case symlink            symlink  link.mp4
same_file_case symlink_force      symlink  link.mp4       --force
same_file_case hardlink_force     hardlink hard.mp4       --force
same_file_case dir_symlink_force  dirlink  here/x.mp4     --force

# The input named through a symlink, -o the real file.
case_begin input_via_symlink_force
in=$(clip_into x.mp4 "$CASE_DIR" "${CLIP[@]}")
ln -s x.mp4 "$CASE_DIR/in-link.mp4"
before=$(sha "$in")
run_shrink "$CASE_DIR/in-link.mp4" --target 100k --speed fast --no-search -o "$in" --force
expect_rc 6
[ "$(sha "$in")" = "$before" ] || err "the input changed"
no_leftovers "$CASE_DIR"
case_end

# A read-only input is fine (shrink only reads it).
case_begin readonly_input
in=$(clip_into x.mp4 "$CASE_DIR" "${CLIP[@]}")
chmod 444 "$in"
before=$(sha "$in")
run_shrink "$in" --target 100k --speed fast --no-search --json
expect_rc 0
[ "$(sha "$in")" = "$before" ] || err "the input changed"
[ "$(stat -c %a "$in")" = 444 ] || err "the input's mode changed"
[ "$RC" = 0 ] && check_output "$CASE_DIR/x.shrunk.mp4" "$in" 100000 --json "$OUT" --fill 0.9
no_leftovers "$CASE_DIR"
case_end

# Outputs that cannot be written: exit 6, one error line naming the path.
unwritable_case() {   # NAME OUTPUT
    local name=$1 o=$2
    case_begin "$name"
    local in before
    in=$(clip_into x.mp4 "$CASE_DIR" "${CLIP[@]}")
    before=$(sha "$in")
    snap_dir "$CASE_DIR"
    run_shrink "$in" --target 100k --speed fast --no-search -o "$o"
    expect_rc 6
    expect_one_line "$o"
    [ "$(sha "$in")" = "$before" ] || err "the input changed"
    [ -e "$o" ] && [ ! -d "$o" ] && err "$o exists afterwards"
    dir_expect "$CASE_DIR"
    no_leftovers "$CASE_DIR"
    case_end
}
unwritable_case missing_dir "$SH_TEST_TMP/no/such/dir/out.mp4"
unwritable_case proc_fs /proc/shrink-test-out.mp4
unwritable_case output_is_dir "$SH_TEST_TMP"

# A directory shrink may not write to (as an unprivileged user: root ignores modes).
case_begin readonly_dir
if [ "$(id -u)" = 0 ] && ! command -v setpriv >/dev/null; then
    skip readonly_dir "running as root without setpriv"
else
    in=$(clip_into x.mp4 "$CASE_DIR" "${CLIP[@]}")
    mkdir -p "$CASE_DIR/ro"
    if [ "$(id -u)" = 0 ]; then
        # nobody must reach the input and a TMPDIR, but not write to ro/.
        chmod o+x "$SH_TEST_TMP" "$TEST_DIR" "$CASE_DIR"
        chmod 755 "$CASE_DIR/ro"
        chmod 644 "$in"
        chmod 1777 "$CASE_TMP"
        RUN_AS=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    else
        chmod 555 "$CASE_DIR/ro"
    fi
    before=$(sha "$in")
    snap_dir "$CASE_DIR/ro"
    run_shrink "$in" --target 100k --speed fast --no-search -o "$CASE_DIR/ro/out.mp4"
    RUN_AS=()
    expect_rc 6
    expect_one_line "ro/out.mp4"
    [ "$(sha "$in")" = "$before" ] || err "the input changed"
    dir_expect "$CASE_DIR/ro"
    no_leftovers "$CASE_DIR" "$CASE_DIR/ro"
    chmod 755 "$CASE_DIR/ro"
    case_end
fi

# The output appears while shrink encodes: without --force it must not be
# replaced (exit 6), and nothing is left behind. (x264 with the picture and rate pinned:
# the rename is tested, not the search, which at 720p took most of the 28 s of CPU.)
case_begin appears_while_encoding
# (5 s: still seconds of work after the 1 s below; 8 s were 11 s of CPU)
in=$(clip_into slow.mp4 "$CASE_DIR" size=1280x720 rate=30 dur=5 audio=noise)
out="$CASE_DIR/slow.shrunk.mp4"
(TMPDIR="$CASE_TMP" exec "$SHRINK" "$in" --target 1MB --codec x264 --height 720 --fps 30 >"$OUT" 2>"$ERR" </dev/null) &
pid=$!
sleep 1
if kill -0 "$pid" 2>/dev/null && [ ! -e "$out" ]; then
    echo "someone else's" > "$out"
    keep=$(sha "$out")
    wait "$pid"; RC=$?
    expect_rc 6
    [ "$(sha "$out")" = "$keep" ] || err "the file that appeared was replaced"
    grep -qF "slow.shrunk.mp4" "$ERR" || err "stderr does not name the output: $(stderr_text)"
    no_leftovers "$CASE_DIR"
    case_end
else
    wait "$pid"
    skip appears_while_encoding "shrink finished within 1 s"
fi

script_done
