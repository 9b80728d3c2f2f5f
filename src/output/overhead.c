/*
 * The MP4 muxer makes one chunk of each run of one track's packets in the
 * file (a chunk ends where the other track's packet comes). Interleaved by
 * time packet by packet, the rarer stream's packets stand alone and split
 * the other stream into runs: each track has about as many chunks as the
 * rarer stream has packets. Each chunk costs its offset (stco, 4 bytes) in
 * its track; and the sample-to-chunk table (stsc, 12 bytes an entry) has an
 * entry wherever the number of samples in a chunk changes: the frequent
 * stream's runs are floor(r) or ceil(r) samples long (r the ratio of the
 * counts), so with f the fractional part of r a run differs from the one
 * before about 2 min(f, 1 - f) of the time.
 *
 * Measured on the hour-long film of tests/bench/long.py (86401 H.264 frames
 * at 24 fps, 60003 Opus packets of 60 ms): video stco 240020 + video stsc
 * 633592 + audio stco 240020 = 1113632 bytes, 2.2% of a 50 MB target, where
 * the per-frame and per-packet estimate alone said 1.40 MB for the whole
 * container (it was 2.33 MB); this gives 1113660. x264's first second pass
 * there landed at 100.3% of the target for 98.5% asked, and the whole hour
 * was encoded again (issue 20).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>
#include <string.h>

#include <libavutil/common.h>

#include "output/overhead.h"

int64_t sh_mp4_interleave_overhead(int64_t video_frames, int64_t audio_packets)
{
    int64_t lo, hi;
    double r, f;
    if (video_frames <= 0 || audio_packets <= 0)
        return 0;
    lo = FFMIN(video_frames, audio_packets);
    hi = FFMAX(video_frames, audio_packets);
    r = (double)hi / lo;
    f = r - floor(r);
    return lo * 8 + (int64_t)llrint(lo * 2 * FFMIN(f, 1 - f)) * 12;
}

int64_t sh_mp4_overhead_correction(int64_t video_frames, int64_t audio_packets, const char *codec)
{
    /* Measured on the same film as SVT-AV1 (AV1, no B-frames): sdtp 86413
     * bytes and no ctts, where x264's had 623216 of ctts. */
    int reorders = codec && (!strcmp(codec, "h264") || !strcmp(codec, "hevc"));
    return sh_mp4_interleave_overhead(video_frames, audio_packets) - (reorders ? 0 : 7 * FFMAX(video_frames, 0));
}
