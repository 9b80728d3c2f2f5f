/*
 * What the solver decides for the learned codec (docs/NEURAL.md): the
 * picture, the rate frames are fitted at and the rate they are shown at,
 * and how long the fit may take. The network's shape is the codec's own.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_SOLVER_NEURAL_H
#define SH_SOLVER_NEURAL_H

#include <stdint.h>

#include <libavutil/rational.h>

#include "input/input.h"
#include "shrink/shrink.h"

/* Frames the fit keeps at most: 1500 at 256x144 is 166 MB. */
#define SH_NEURAL_MAX_FRAMES 1500

typedef struct ShNeuralPlan {
    int width, height;        /* upright (display), square pixels, even */
    int coded_width, coded_height; /* as the scaler makes them before the turn */
    AVRational fit_fps;       /* frames the fit sees */
    AVRational fps;           /* frames the file is rendered at */
    double time_limit;        /* seconds for the fit */
} ShNeuralPlan;

void sh_solver_neural_plan(const ShInputInfo *info, double duration, int64_t target_bytes,
                           const ShOptions *opt, ShNeuralPlan *p);

#endif
