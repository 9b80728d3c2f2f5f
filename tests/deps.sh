#!/usr/bin/env bash
# Install what shrink needs to build and test, or say exactly what to install.
#   tests/deps.sh            the build and the test suite (make demo, make check, make asan)
#   tests/deps.sh fuzz       also clang and its sanitizer runtime (make fuzz)
#   tests/deps.sh valgrind   also valgrind (make valgrind)
#   tests/deps.sh bench      also OpenCV for Debian's python3 and its cascades (make bench's faces
#                            table, tests/bench/bench_faces.py; make check and make demo need neither)
# Every library is checked by the file the build needs from it (pkg-config's .pc file, or the
# header for giflib, which has none), so a half-installed machine is completed, not trusted.
# SPDX-License-Identifier: GPL-3.0-or-later
set -u
pkgs_pc="libavformat libavcodec libavfilter libswscale libswresample libavutil imagequant cmocka dlib-1"
debs="build-essential pkg-config libdlib-dev libjpeg-dev libpng-dev zlib1g-dev libblas-dev liblapack-dev libsqlite3-dev libavformat-dev libavcodec-dev libavfilter-dev libswscale-dev libswresample-dev libavutil-dev libgif-dev libimagequant-dev libcmocka-dev ffmpeg python3 jq man-db groff-base parallel"
tools="cc pkg-config ffmpeg ffprobe python3 jq parallel"   # parallel: tests/cli/test_scale.sh
case "${1:-}" in
    fuzz)     debs="$debs clang libclang-rt-14-dev"; tools="$tools clang" ;;
    valgrind) debs="$debs valgrind"; tools="$tools valgrind" ;;
    bench)    debs="$debs python3-opencv opencv-data" ;;
    "") ;;
    *) echo "usage: tests/deps.sh [fuzz|valgrind|bench]" >&2; exit 2 ;;
esac
missing=0
for t in $tools; do command -v "$t" >/dev/null 2>&1 || { missing=1; break; }; done
if [ $missing = 0 ]; then
    for p in $pkgs_pc; do pkg-config --exists "$p" || { missing=1; break; }; done
fi
[ $missing = 0 ] && [ ! -e /usr/include/gif_lib.h ] && missing=1
# dlib's .pc names libraries by path (libjpeg, BLAS, LAPACK...), which libdlib-dev does not pull in.
if [ $missing = 0 ]; then
    for l in $(pkg-config --libs dlib-1); do
        case "$l" in /*) [ -e "$l" ] || { missing=1; break; } ;; esac
    done
fi
if [ $missing = 0 ] && [ "${1:-}" = fuzz ]; then
    # libFuzzer's runtime is a separate package from clang itself.
    ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1 || missing=1
fi
if [ $missing = 0 ] && [ "${1:-}" = bench ]; then
    # Debian's own interpreter: a python3 earlier on PATH (pyenv, venv) may not see the package.
    /usr/bin/python3 -c 'import cv2, numpy' >/dev/null 2>&1 || missing=1
    [ -e /usr/share/opencv4/haarcascades/haarcascade_frontalface_alt2.xml ] || missing=1
fi
[ $missing = 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "shrink: installing build dependencies with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends $debs >&2 && exit 0
    echo "shrink: apt-get failed" >&2
    exit 1
fi
echo "shrink: missing build dependencies; install them with:" >&2
echo "  sudo apt-get install $debs" >&2
exit 1
