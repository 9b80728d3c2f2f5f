#!/usr/bin/env bash
# Hostile inputs (issue 21): an input is the local file of that name, and only
# that file is read.
#   - files that name other files (an HLS playlist, an ffconcat script, a DASH
#     manifest, an image2 pattern) are refused, exit 3, nothing written and
#     nothing of the files they name anywhere;
#   - names that look like URLs or protocols ("concat:a|b", "file:x.mp4",
#     "clip:1.mp4", "2024-01-01T10:30:00.mp4", -o "out:1.mp4") are just names;
#   - a FIFO or a device is refused at once (exit 3, "not a regular file"),
#     never waited on;
#   - an MP4 whose index (moov) is cut short warns, naming the file.
# Names with a colon are given relative (run from the case dir): an absolute
# path starts with "/", which libav never took for a protocol.
# SPDX-License-Identifier: GPL-3.0-or-later
. "$(dirname "$0")/lib.sh"

CLIP=(size=320x180 rate=25 dur=4 audio=sine)   # (runs that succeed use --speed fast: inputs, not encoders)

# pad FILE: make a text input about 1 MB with comment lines, so shrink encodes
# it (a file that already fits is copied after its check: the *_fits case).
pad() {
    local i
    for ((i = 0; i < 20000; i++)); do echo "$2 padding padding padding padding padding padding"; done >> "$1"
}

# refused NAME FILE CAUSE [ARGS...]: exit 3, one line naming FILE and CAUSE, no
# output, nothing new in the case dir.
refused() {
    local file=$1 cause=$2
    shift 2
    snap_dir "$(dirname "$file")"
    run_shrink "$file" "$@"
    expect_rc 3
    expect_one_line "$(basename "$file")"
    grep -qiF -- "$cause" "$ERR" || err "stderr does not give the cause '$cause': $(stderr_text)"
    dir_expect "$(dirname "$file")"
    no_leftovers "$CASE_DIR" "$(dirname "$file")"
}

# A secret in another directory, and a public one holding the hostile file.
secret_setup() {
    mkdir -p "$CASE_DIR/private" "$CASE_DIR/pub/sub"
    clip_into secret.ts "$CASE_DIR/private" "${CLIP[@]}" >/dev/null
    cp "$CASE_DIR/private/secret.ts" "$CASE_DIR/pub/sub/secret.ts"
}

# ---- files that name other files ----

case_begin hls_playlist
secret_setup
printf '#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:4.0,\n../private/secret.ts\n#EXT-X-ENDLIST\n' > "$CASE_DIR/pub/x.mp4"
pad "$CASE_DIR/pub/x.mp4" '#'
refused "$CASE_DIR/pub/x.mp4" "HLS playlist" --target 200k
case_end

# Small enough to fit: the "already fits" copy checks it first, the same way.
case_begin hls_playlist_fits
secret_setup
printf '#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:4.0,\nsub/secret.ts\n#EXT-X-ENDLIST\n' > "$CASE_DIR/pub/x.mp4"
refused "$CASE_DIR/pub/x.mp4" "HLS playlist" --target 1MB
case_end

# A relative name the concat demuxer calls safe: the old code encoded the file it names.
case_begin ffconcat_script
secret_setup
printf 'ffconcat version 1.0\nfile sub/secret.ts\nduration 4\n' > "$CASE_DIR/pub/list.mp4"
pad "$CASE_DIR/pub/list.mp4" '#'
refused "$CASE_DIR/pub/list.mp4" "ffconcat script" --target 200k
case_end

case_begin dash_manifest
secret_setup
clip_into secret.mp4 "$CASE_DIR/pub/sub" "${CLIP[@]}" >/dev/null
cat > "$CASE_DIR/pub/m.mp4" <<'EOF'
<?xml version="1.0" encoding="utf-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT4S" minBufferTime="PT1S" profiles="urn:mpeg:dash:profile:isoff-on-demand:2011">
 <Period><AdaptationSet mimeType="video/mp4"><Representation id="1" bandwidth="100000" width="320" height="180" codecs="avc1.640015"><BaseURL>sub/secret.mp4</BaseURL></Representation></AdaptationSet></Period>
</MPD>
EOF
{ echo '<!--'; pad /dev/stdout ''; echo '-->'; } >> "$CASE_DIR/pub/m.mp4"
refused "$CASE_DIR/pub/m.mp4" "DASH manifest" --target 200k
case_end

# The image2 demuxer reads x1.jpg, x2.jpg... for "x%d.jpg": here x1.jpg is a
# FIFO nobody writes, so reading what the name names would hang.
case_begin image2_pattern
ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=64x48 -frames:v 1 -update 1 "$CASE_DIR/x%d.jpg"
mkfifo "$CASE_DIR/x1.jpg"
SHRINK_TIMEOUT=20 refused "$CASE_DIR/x%d.jpg" "image sequence" --target 1k
case_end

# ---- names that look like URLs are names ----

# colon_case NAME INPUT-NAME [ARGS...]: a real clip named so (relative), shrunk to 100 kB.
colon_case() {
    local name=$1 file=$2 out
    shift 2
    out=${file%.mp4}.shrunk.mp4
    case_begin "$name"
    clip_into c.mp4 "$CASE_DIR" "${CLIP[@]}" >/dev/null
    mv "$CASE_DIR/c.mp4" "$CASE_DIR/$file"
    # A decoy the name would mean as a protocol's argument: never read instead.
    clip_into decoy.mp4 "$CASE_DIR" size=160x120 rate=25 dur=2 audio=none >/dev/null
    cp "$CASE_DIR/decoy.mp4" "$CASE_DIR/a.mp4"
    cp "$CASE_DIR/decoy.mp4" "$CASE_DIR/x.mp4"
    cp "$CASE_DIR/decoy.mp4" "$CASE_DIR/1.mp4"
    snap_dir "$CASE_DIR"
    cd "$CASE_DIR" || exit 1
    run_shrink "$file" --target 100k --speed fast --json "$@"
    cd - >/dev/null || exit 1
    expect_rc 0
    if [ "$RC" = 0 ]; then
        check_output "$CASE_DIR/$out" "$CASE_DIR/$file" 100000 --json "$OUT" --expect-output "$out" --audio yes
        dir_expect "$CASE_DIR" "$out"
    fi
    no_leftovers "$CASE_DIR"
    case_end
}
colon_case concat_protocol_name 'concat:a.mp4|x.mp4'
colon_case file_protocol_name 'file:x.mp4'
colon_case url_like_name 'clip:1.mp4'
colon_case datetime_name '2024-01-01T10:30:00.mp4'

case_begin output_colon_name
clip_into c.mp4 "$CASE_DIR" "${CLIP[@]}" >/dev/null
snap_dir "$CASE_DIR"
cd "$CASE_DIR" || exit 1
run_shrink c.mp4 --target 100k --speed fast --json -o out:1.mp4
cd - >/dev/null || exit 1
expect_rc 0
if [ "$RC" = 0 ]; then
    check_output "$CASE_DIR/out:1.mp4" "$CASE_DIR/c.mp4" 100000 --json "$OUT" --expect-output out:1.mp4 --audio yes
    dir_expect "$CASE_DIR" out:1.mp4
fi
no_leftovers "$CASE_DIR"
case_end

# One film in chunks (--jobs 2): plan, encode-chunk, audio and join open it and write.
case_begin scale_colon_names
clip_into c.mp4 "$CASE_DIR" "${CLIP[@]}" >/dev/null
mv "$CASE_DIR/c.mp4" "$CASE_DIR/clip:1.mp4"
snap_dir "$CASE_DIR"
cd "$CASE_DIR" || exit 1
run_shrink clip:1.mp4 --target 100k --json --jobs 2 -o out:2.mp4
cd - >/dev/null || exit 1
expect_rc 0
if [ "$RC" = 0 ]; then
    check_output "$CASE_DIR/out:2.mp4" "$CASE_DIR/clip:1.mp4" 100000 --json "$OUT" --expect-output out:2.mp4 --audio yes
    dir_expect "$CASE_DIR" out:2.mp4
fi
no_leftovers "$CASE_DIR"
case_end

# ---- not regular files ----

# A FIFO with no writer: refused at once, never opened for reading (that waits).
case_begin fifo_no_writer
mkfifo "$CASE_DIR/pipe.mp4"
SHRINK_TIMEOUT=20 refused "$CASE_DIR/pipe.mp4" "named pipe" --target 100k
grep -qF "not a regular file" "$ERR" || err "stderr does not say 'not a regular file': $(stderr_text)"
case_end

# Through a symbolic link with a video's name, as a directory walk would find it.
case_begin char_device
ln -s /dev/urandom "$CASE_DIR/noise.mp4"
SHRINK_TIMEOUT=20 refused "$CASE_DIR/noise.mp4" "character device" --target 100k
case_end

# ---- an MP4 whose index is cut short ----

# moov at the end (ffmpeg's default), cut inside its second track (the audio):
# the video is whole, the audio's entry is gone. Exit 0, the video, and a
# warning naming the file that says so.
case_begin moov_cut
clip_into cut.mp4 "$CASE_DIR" size=320x180 rate=25 dur=4 audio=sine >/dev/null
python3 - "$CASE_DIR/cut.mp4" <<'EOF' || err "cannot cut the index"
import struct, sys
p = sys.argv[1]
d = open(p, 'rb').read()
i = 0
while i < len(d):
    size, kind = struct.unpack('>I4s', d[i:i + 8])
    if kind == b'moov':
        j, traks = i + 8, []
        while j < i + size:
            s2, k2 = struct.unpack('>I4s', d[j:j + 8])
            if k2 == b'trak':
                traks.append(j)
            j += s2
        assert len(traks) == 2, traks
        open(p, 'wb').write(d[:traks[1] + 64])   # 64 bytes into the audio track
        sys.exit(0)
    i += size
sys.exit(1)
EOF
snap_dir "$CASE_DIR"
run_shrink "$CASE_DIR/cut.mp4" --target 100k --speed fast --json
expect_rc 0
if [ "$RC" = 0 ]; then
    check_output "$CASE_DIR/cut.shrunk.mp4" "$CASE_DIR/cut.mp4" 100000 --json "$OUT"
    dir_expect "$CASE_DIR" cut.shrunk.mp4
fi
grep -F 'cut.mp4: warning:' "$ERR" | grep -qiF 'index' || err "no warning naming the file and its cut index: $(stderr_text)"
grep -v ': warning: ' "$ERR" | grep -q . && err "stderr has more than warnings: $(stderr_text)"
no_leftovers "$CASE_DIR"
case_end

script_done
