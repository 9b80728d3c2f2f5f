/*
 * Fitting the learned codec's model to one film (docs/NEURAL.md,
 * "Training"): the film's frames in, a file no larger than the target out.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_NEURAL_TRAIN_H
#define SH_NEURAL_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "neural/file.h"

/* The film as the trainer sees it: n pictures of width x height, each three
 * planes (Y, Cb, Cr, limited range) of width x height bytes, at t[i] seconds. */
typedef struct ShNnFrames {
    int n;
    int width, height;
    double *t;
    uint8_t **y, **cb, **cr;
} ShNnFrames;

typedef struct ShNnFitParams {
    int64_t target_bytes;     /* the whole file, header included: never more */
    double time_limit;        /* seconds of fitting (the model's final coding comes after, quickly) */
    int threads;
    uint64_t seed;
    int (*interrupted)(void);
    void (*progress)(void *opaque, double fraction);
    void *opaque;
} ShNnFitParams;

typedef struct ShNnFitStats {
    int steps;
    double seconds;
    double lambda;            /* the rate weight the fit settled on */
    double psnr;              /* of luma on the training frames, as coded */
    size_t latents, nonzero, weights;
    double step;              /* the latents' quantiser (1: as trained; more: coarsened to fit) */
} ShNnFitStats;

/*
 * Fit h->model's shape (set by the caller: picture, duration, levels,
 * strides, hidden) to the frames and write the whole file (h's other
 * fields as the caller set them) into *file (av_malloc'd, *size bytes).
 * SH_ERROR_TARGET_TOO_SMALL (with *size the smallest file it could make)
 * when even an empty model is over the target; SH_ERROR_INTERRUPTED.
 */
int sh_nn_fit(ShNnHeader *h, const ShNnFrames *data, const ShNnFitParams *p, uint8_t **file, size_t *size,
              ShNnFitStats *st);

/* The model shape the codec uses for a picture, a duration, a budget
 * (bytes), the rate of the frames it is fitted on, and the most latents the
 * time allows (sh_nn_latents_for_time). */
void sh_nn_shape(ShNnModel *m, int width, int height, double duration, int64_t bytes, double train_fps,
                 double max_latents);
/* The most latents a fit of this many seconds trains well: each step's
 * update pass touches every latent, and a fit wants a few thousand steps. */
double sh_nn_latents_for_time(double seconds);

#endif
