/*
 * No encode at the plan's picture came in under the target: the encoder's
 * smallest file there is too big. SVT-AV1 at its largest quantiser made
 * 242 KB of Big Buck Bunny at 640x360 24 fps whether asked for 9454 or
 * 355 b/s, 161% of a 20 kb/s target; the sample had said it would fit. The
 * floor encode (a picture 16 px high, one frame a minute) would fit, but is
 * a poor answer when a picture a step smaller at the same rate fits too. So
 * before the floor, up to SH_SMALLER_STEPS smaller pictures, each sized from
 * how far over the smallest file was (the encoder's smallest file grows with
 * the pixels), re-decoded from the source through the same stages, with its
 * own first pass (a two-pass encoder's log is per picture size).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>

#include <libavutil/common.h>

#include "common/log.h"
#include "common/temp.h"
#include "job/state.h"
#include "stages/stage.h"

#define SH_SMALLER_STEPS 3
/* Aim this far under what the bytes say: the floor is not quite proportional. */
#define SH_SMALLER_MARGIN 0.8

/* The picture with about `pixels` times the rung's pixels, at the rung's rate;
 * 0 when it would be no smaller or under what the encoder and the solver take. */
static int smaller_rung(const Job *j, double pixels, ShRung *out)
{
    const ShInputInfo *info = j->info;
    int swap = info->rotation == 90 || info->rotation == 270;
    int display_h = swap ? j->rung.width : j->rung.height;
    int h = (int)(display_h * sqrt(av_clipd(pixels, 0.1, 0.8))) & ~1;
    const ShEncoderDesc *enc = j->plan.venc;
    if (h < SH_PLAN_MIN_HEIGHT)
        return 0;
    sh_scale_dims(info->width, info->height, info->sar, info->rotation, h, &out->width, &out->height);
    out->fps = j->rung.fps;
    if (enc->min_size > 0 && (out->width < enc->min_size || out->height < enc->min_size))
        return 0;
    return (int64_t)out->width * out->height < (int64_t)j->rung.width * j->rung.height;
}

int sh_job_encode_smaller(Job *j, Attempt *best, int *attempts)
{
    const ShOptions *opt = j->opt;
    int ret = AVERROR(ERANGE);
    /* A picture the user pinned is kept, and a given plan's (scale-out's
     * chunks must join): the floor says what would fit. */
    if (opt->height > 0 || j->keep_picture || j->plan.at_floor)
        return ret;
    for (int step = 0; step < SH_SMALLER_STEPS && j->smallest_over > 0; step++) {
        ShFrameSource *src = NULL;
        Attempt first = { .bitrate = j->plan.video_bitrate };
        ShRung r;
        if (!smaller_rung(j, (double)j->plan.target_bytes / j->smallest_over * SH_SMALLER_MARGIN, &r))
            break;
        sh_log(SH_LOG_VERBOSE, j->input, "%s cannot make %dx%d smaller than %lld bytes: %dx%d", j->plan.venc->name,
               j->rung.width, j->rung.height, (long long)j->smallest_over, r.width, r.height);
        if ((ret = sh_source_redecode(&src, j->input, j->info, opt->start, opt->end, &r, sh_job_video_pix_fmt(j),
                                      j->cache)) < 0)
            return ret;
        sh_source_free(&j->source);
        j->source = src;
        j->rung = r;
        j->smallest_over = 0;
        /* Its own first pass (a one-pass encoder's probe): the drift it measures is this picture's. */
        if ((ret = sh_job_attempt(j, &first, j->source, &j->rung, 0, 1, -1, NULL)) < 0)
            return ret;
        sh_temp_remove(first.path);
        j->pass1_bytes = first.video_bytes;
        (*attempts)++;
        ret = sh_job_encode_to_target(j, best, attempts);
        if (ret != AVERROR(ERANGE) && ret != SH_ERROR_TARGET_TOO_SMALL)
            return ret;
    }
    return ret;
}
