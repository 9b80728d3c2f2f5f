#!/usr/bin/env bash
# Install what shrink needs to build and test, or say exactly what to install.
# SPDX-License-Identifier: GPL-3.0-or-later
set -u
pkgs_pc="libavformat libavcodec libswscale libswresample libavutil cmocka"
debs="build-essential pkg-config libavformat-dev libavcodec-dev libswscale-dev libswresample-dev libavutil-dev libgif-dev libimagequant-dev libcmocka-dev ffmpeg python3 jq man-db groff-base parallel"
missing=0
command -v cc >/dev/null 2>&1 || missing=1
command -v pkg-config >/dev/null 2>&1 || missing=1
command -v ffmpeg >/dev/null 2>&1 || missing=1
command -v ffprobe >/dev/null 2>&1 || missing=1
command -v python3 >/dev/null 2>&1 || missing=1
command -v parallel >/dev/null 2>&1 || missing=1   # GNU parallel: tests/cli/test_scale.sh
if [ $missing = 0 ]; then
    for p in $pkgs_pc; do pkg-config --exists "$p" || { missing=1; break; }; done
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
