/*
 * The rate-correction loop's decisions (rateloop.h). Pure: the encodes are
 * target.c's.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>
#include <stdlib.h>

#include <libavutil/common.h>

#include "job/rateloop.h"
#include "shrink/shrink.h"

int64_t sh_rate_clamp(const ShRateGoal *g, int64_t b)
{
    return g->max_bitrate > 0 && b > g->max_bitrate ? g->max_bitrate : b;
}

int sh_rate_first(const ShRateGoal *g, int64_t *bitrate)
{
    int64_t goal = (int64_t)(g->target_bytes * (g->probed ? SH_RATE_AIM_PROBED : SH_RATE_AIM)) - g->fixed_bytes;
    if (goal <= 0)
        return SH_ERROR_TARGET_TOO_SMALL;
    /* A two-pass encoder's second pass corrects itself from the log; a
     * one-pass encoder is asked for the bitrate its probe says lands on the goal. */
    *bitrate = sh_rate_clamp(g, (int64_t)(goal * 8 / g->duration / (g->probed ? av_clipd(g->drift, 0.5, 2.0) : 1.0)));
    return 0;
}

int sh_rate_best(const ShRateAttempt *a, int n, int64_t target_bytes)
{
    int best = -1;
    for (int i = 0; i < n; i++)
        if (a[i].bytes <= target_bytes && (best < 0 || a[i].bytes > a[best].bytes))
            best = i;
    return best;
}

/*
 * The next bitrate: aim the video bytes at what the target leaves. The
 * tried bitrates bracket the goal: lo is the highest one that came out
 * under, hi the lowest that came out over. With one side known, step
 * along the measured size-bitrate elasticity; with both, take the secant, or bisect when
 * the secant lands next to a tried point: at low rates x264's size is a
 * staircase of the bitrate and the secant can stall on one step. Returns 0
 * when the bracket is too narrow to be worth another encode.
 */
int64_t sh_rate_bracket(const ShRateAttempt *a, int n, int64_t goal_video)
{
    const ShRateAttempt *lo = NULL, *hi = NULL, *last = &a[n - 1];
    double b;
    for (int i = 0; i < n; i++) {
        if (a[i].video_bytes <= goal_video && (!lo || a[i].bitrate > lo->bitrate))
            lo = &a[i];
        if (a[i].video_bytes > goal_video && (!hi || a[i].bitrate < hi->bitrate))
            hi = &a[i];
    }
    if (lo && hi) {
        double span = (double)(hi->bitrate - lo->bitrate);
        if (span < 0.004 * lo->bitrate)
            return 0;
        if (hi->video_bytes > lo->video_bytes)
            b = lo->bitrate + (double)(goal_video - lo->video_bytes) * span /
                              (hi->video_bytes - lo->video_bytes);
        else
            b = 0;
        if (b < lo->bitrate + 0.1 * span || b > hi->bitrate - 0.1 * span)
            b = lo->bitrate + 0.5 * span;
    } else {
        /* One side only: size ~ bitrate^e. e is 1 in theory but far less
         * for content that cannot use the bits (screen captures); measure it
         * from the last two attempts when there are two. */
        const ShRateAttempt *prev = n >= 2 ? &a[n - 2] : NULL;
        double e = 1.0;
        if (prev && prev->bitrate != last->bitrate && prev->video_bytes > 0 && last->video_bytes > 0)
            e = av_clipd(log((double)last->video_bytes / prev->video_bytes) /
                         log((double)last->bitrate / prev->bitrate), 0.2, 1.5);
        b = last->bitrate * pow((double)goal_video / FFMAX(last->video_bytes, 1), 1.0 / e);
        b = av_clipd(b, last->bitrate * 0.5, last->bitrate * 3.0);
    }
    b = FFMAX(b, 1);    /* a film in a few KB runs at a few b/s */
    for (int i = 0; i < n; i++)
        if (llabs(a[i].bitrate - (int64_t)b) <= a[i].bitrate / 1000)
            return 0;   /* tried already: nothing new to learn */
    return (int64_t)b;
}

ShRateStop sh_rate_next(const ShRateGoal *g, const ShRateAttempt *a, int n, int64_t *next)
{
    const ShRateAttempt *last = &a[n - 1];
    const int best = sh_rate_best(a, n, g->target_bytes);
    int64_t goal, b;

    if (best >= 0 && a[best].bytes >= g->target_bytes * SH_RATE_ACCEPT_LOW)
        return SH_RATE_ACCEPTED;
    if (best >= 0 && g->max_bitrate > 0 && last->bitrate >= g->max_bitrate)
        return SH_RATE_ENCODER_MAX;
    /* On a cliff of the staircase: this rate gave a size seen before, so
     * the bracket holds no size in between worth another encode. */
    for (int i = 0; i < n - 1 && best >= 0; i++)
        if (a[i].video_bytes == last->video_bytes && a[i].bitrate != last->bitrate)
            return SH_RATE_CLIFF;
    /* Saturated: the content cannot use more bits at this picture size
     * (a still frame, say). More attempts would only cost time. */
    if (n >= 2 && last->bitrate > a[n - 2].bitrate * 1.4 &&
        last->video_bytes < a[n - 2].video_bytes * 1.02 && best >= 0)
        return SH_RATE_SATURATED;
    /* Floored: nothing fits and a much lower rate made about as many bytes
     * (SVT-AV1 at its largest quantiser: 242 KB of Big Buck Bunny at
     * 640x360 24 fps whether asked for 9454 or 355 b/s). Only a smaller
     * picture or rate can fit: more attempts here would only cost time. */
    if (n >= 2 && best < 0 && last->bitrate < a[n - 2].bitrate * 0.75 &&
        last->video_bytes > a[n - 2].video_bytes * 0.97)
        return SH_RATE_FLOORED;
    if (n >= SH_RATE_MAX_ATTEMPTS)
        return SH_RATE_EXHAUSTED;
    /* Measured: everything in the file that is not video. */
    goal = (int64_t)(g->target_bytes * SH_RATE_AIM) - (last->bytes - last->video_bytes);
    if (goal <= 0)
        return SH_RATE_NO_ROOM;
    if (!(b = sh_rate_bracket(a, n, goal)))
        return SH_RATE_NARROW;
    b = sh_rate_clamp(g, b);
    if (b == last->bitrate)
        return SH_RATE_AT_MAX;   /* at the encoder's largest already */
    *next = b;
    return SH_RATE_GO;
}
