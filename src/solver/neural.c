/*
 * The learned codec's picture and rates (docs/NEURAL.md, "What the solver
 * decides"). Measured on the shared clips at 2-200 KB a minute: the
 * picture's size hardly changes the file (the latents are on a grid of
 * their own, the network continuous) but every pixel more is a sample
 * less per pixel in the time allowed.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <libavutil/common.h>

#include "solver/neural.h"
#include "stages/stage.h"

void sh_solver_neural_plan(const ShInputInfo *info, double duration, int64_t target_bytes,
                           const ShOptions *opt, ShNeuralPlan *p)
{
    double per_minute = target_bytes / FFMAX(duration / 60, 1.0 / 60);
    double src_fps = info->frame_rate.num > 0 && info->frame_rate.den > 0 ? av_q2d(info->frame_rate) : 25;
    int height = per_minute <= 50e3 ? 144 : 180;
    int swap = info->rotation == 90 || info->rotation == 270;
    double fit_fps;

    if (opt->height > 0)
        height = opt->height;
    else if (opt->max_height > 0)
        height = FFMIN(height, opt->max_height);
    sh_scale_dims(info->width, info->height, info->sar, info->rotation, height, &p->coded_width,
                  &p->coded_height);
    p->width = swap ? p->coded_height : p->coded_width;
    p->height = swap ? p->coded_width : p->coded_height;

    /* Shown at the source's rate up to 30 (the decoder renders every
     * instant; more would only cost decoding); fitted on at most 10 a
     * second and SH_NEURAL_MAX_FRAMES in all. */
    p->fps = opt->fps > 0 ? av_d2q(opt->fps, 1001000) : av_d2q(FFMIN(src_fps, 30), 1001000);
    fit_fps = FFMIN3(av_q2d(p->fps), 10.0, SH_NEURAL_MAX_FRAMES / FFMAX(duration, 0.1));
    p->fit_fps = av_d2q(FFMAX(fit_fps, 0.05), 100000);
    /* A few minutes for a minute of film: 60 s and 2 s a second of it, at most half an hour. */
    p->time_limit = opt->time_limit > 0 ? opt->time_limit : FFMIN(60 + 2 * duration, 1800);
}
