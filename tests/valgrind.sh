#!/usr/bin/env bash
# One real shrink under valgrind's memcheck (make valgrind): a short synthetic
# clip with audio, encoded for real (search, analysis, pass 2, verify). Fails
# on any invalid read or write, use of uninitialised memory, or definite leak.
#   tests/valgrind.sh BUILD/shrink
# SPDX-License-Identifier: GPL-3.0-or-later
set -u
shrink=${1:?usage: valgrind.sh SHRINK}
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind is not installed (apt-get install valgrind)"; exit 1; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/shrink-valgrind.XXXXXX")
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/tmp"
# --speed fast keeps the job on x264 (samples, pass 1, pass 2, Opus, verify): with the
# default, --codec auto also measures libx265 and SVT-AV1 on the samples, and valgrind 3.19
# cannot run them (libx265's assembly reads uninitialised padding, then VEX aborts with
# "temporary storage exhausted" translating their SIMD). Those encoders run under ASan/UBSan
# in make asan (test_encoders), natively.
# 2 s of 320x240 at 25 fps with stereo audio: small enough for valgrind's ~50x slowdown
ffmpeg -nostdin -v error -f lavfi -i testsrc2=size=320x240:rate=25 \
    -f lavfi -i "aevalsrc=0.4*sin(2*PI*440*t)|0.4*sin(2*PI*660*t):s=48000:c=stereo" -t 2 \
    -c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac "$dir/clip.mp4" || exit 1
log="$dir/valgrind.log"
# libavcodec loads libjxl, which loads libhwy, whose constructor measures its timer with
# RDTSCP: valgrind 3.19's VEX cannot decode that instruction on some x86-64 machines (seen on
# an AMD EPYC kind: "unrecognised instruction" in hwy::platform::TimerResolution, SIGILL before
# main). shrink never uses JPEG XL; a one-line stand-in for that function, preloaded, lets
# valgrind run the rest as it is.
preload=()
if printf 'unsigned long _ZN3hwy8platform15TimerResolutionEv(void) { return 1; }\n' |
   cc -shared -fPIC -x c -o "$dir/hwy_timer.so" - 2>/dev/null; then
    preload=(env LD_PRELOAD="$dir/hwy_timer.so")
fi
start=$(date +%s)
TMPDIR="$dir/tmp" "${preload[@]}" valgrind --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite \
    --show-leak-kinds=definite --error-exitcode=99 --track-origins=yes --num-callers=30 \
    --suppressions="$(dirname "$0")/valgrind.supp" \
    --log-file="$log" "$shrink" "$dir/clip.mp4" --target 60k -o "$dir/out.mp4" --speed fast
rc=$?
took=$(( $(date +%s) - start ))
errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log" | tail -1)
suppressed=$(sed -n 's/.*ERROR SUMMARY: .*(suppressed: \([0-9]*\) from.*/\1/p' "$log" | tail -1)
definite=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$log" | tail -1)
possible=$(sed -n 's/.*possibly lost: \([0-9,]*\) bytes.*/\1/p' "$log" | tail -1)
echo "valgrind: shrink exit $rc in $took s; ${errors:-?} errors (${suppressed:-0} suppressed: tests/valgrind.supp);" \
     "definitely lost ${definite:-0} bytes, possibly lost ${possible:-0} bytes"
if [ $rc != 0 ]; then
    grep -E '^==[0-9]+== (Invalid|Conditional|Use of|Syscall|Mismatched|[0-9,]+ bytes in [0-9,]+ blocks are definitely)|^==[0-9]+==    (at|by) ' "$log" | head -60
    exit 1
fi
[ -s "$dir/out.mp4" ] || { echo "valgrind: no output written"; exit 1; }
[ -z "$(ls -A "$dir/tmp")" ] || { echo "valgrind: left in TMPDIR: $(ls -A "$dir/tmp")"; exit 1; }
exit 0
