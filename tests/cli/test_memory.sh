#!/usr/bin/env bash
# Peak memory stays under 512 MiB whatever the input's resolution: a 4K
# source (the decoder, the frame cache and x264's lookahead are the big
# parts) and a phone's 1080x2280 screen recording. Peak RSS is the child's
# ru_maxrss, read by python (no GNU time needed).
# SPDX-License-Identifier: GPL-3.0-or-later
. "$(dirname "$0")/lib.sh"

LIMIT_KIB=$((512 * 1024))
if [ -n "${ASAN_OPTIONS:-}" ]; then
    # AddressSanitizer's shadow memory and quarantine multiply the peak.
    skip source_4k "memory is not measured under the sanitizers"
    skip phone_portrait "memory is not measured under the sanitizers"
    skip auto_720p "memory is not measured under the sanitizers"
    script_done
    exit 0
fi

# peak_kib ARGS...: run shrink, print its peak RSS in KiB (RC as run_shrink sets it)
peak_kib() {
    python3 - "$SHRINK" "$@" <<'PY'
import resource, subprocess, sys
p = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
}

case_begin source_4k
# Two seconds: the peak is the frames and the encoder's lookahead, not the length.
K4=$(make_clip k4.mp4 size=3840x2160 rate=25 dur=2)
read -r rc kib < <(peak_kib "$K4" -o "$CASE_DIR/out.mp4" --target 2MB --codec x264 -q)
[ "$rc" = 0 ] || err "exit $rc"
[ "${kib:-0}" -gt 0 ] && [ "$kib" -lt "$LIMIT_KIB" ] || err "peak RSS $((kib / 1024)) MiB for a 4K source (limit 512)"
[ -s "$CASE_DIR/out.mp4" ] && check_output "$CASE_DIR/out.mp4" "$K4" 2000000 --fill 0.9
case_end

# The phone's portrait screen recording: full tier (15 s of wall, its search at 1080x2280; the
# peak is the same frames-and-lookahead path as source_4k's, at a third of its pixels, and the
# quick tier's test_media shrinks the same clip).
PHONE="$SHARED_MEDIA/phone_screenrec_vfr_1080x2280.mp4"
if [ ! -f "$PHONE" ]; then
    skip phone_portrait "no shared media"
elif full_tier phone_portrait; then
    :
else
    case_begin phone_portrait
    read -r rc kib < <(peak_kib "$PHONE" -o "$CASE_DIR/out.mp4" --target 2MB --codec x264 -q)
    [ "$rc" = 0 ] || err "exit $rc"
    [ "${kib:-0}" -gt 0 ] && [ "$kib" -lt "$LIMIT_KIB" ] || err "peak RSS $((kib / 1024)) MiB for 1080x2280 (limit 512)"
    case_end
fi

# --codec auto on a 720p source: the search measures x265 and SVT-AV1 too, and two of them
# at once at 720p took the job to 667-718 MiB; above 640x480 it measures one at a time. Full
# tier: 25 s of CPU (the whole search at 720p).
PORTRAIT="$SHARED_MEDIA/liveportrait_s18_720p.mp4"
if [ ! -f "$PORTRAIT" ]; then
    skip auto_720p "no shared media"
elif full_tier auto_720p; then
    :
else
    case_begin auto_720p
    read -r rc kib < <(peak_kib "$PORTRAIT" -o "$CASE_DIR/out.mp4" --target 500KB -q)
    [ "$rc" = 0 ] || err "exit $rc"
    [ "${kib:-0}" -gt 0 ] && [ "$kib" -lt "$LIMIT_KIB" ] || err "peak RSS $((kib / 1024)) MiB for 720p, --codec auto (limit 512)"
    [ -s "$CASE_DIR/out.mp4" ] && check_output "$CASE_DIR/out.mp4" "$PORTRAIT" 500000 --fill 0.9
    case_end
fi

script_done
