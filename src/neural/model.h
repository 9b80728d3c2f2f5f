/*
 * The per-film learned codec's model (docs/NEURAL.md): a film as a function
 * of (x, y, t). Latent grids at several scales, each one channel over space
 * and time, are read by trilinear interpolation at a pixel's place and
 * instant; a small network (two hidden layers, ReLU) turns the features
 * into Y, Cb, Cr. The idea is Cool-chic's (Ladune et al., 2023: latents at
 * several resolutions and a tiny synthesis network, fitted to one picture)
 * and Instant-NGP's multiresolution grids (Mueller et al., 2022), taken to
 * three dimensions so time is interpolated too, as NeRV fits a network per
 * video (Chen et al., 2021).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_NEURAL_MODEL_H
#define SH_NEURAL_MODEL_H

#include <stddef.h>
#include <stdint.h>

#define SH_NN_MAX_LEVELS 8
#define SH_NN_MAX_HIDDEN 32
#define SH_NN_OUT 3
/* A latent's integer times this is what the network reads: latents are
 * trained and coded in quantiser steps (Cool-chic's integer latents). */
#define SH_NN_LATENT_SCALE 0.125f

typedef struct ShNnGrid {
    int stride;               /* pixels between knots, across and down */
    float tstride;            /* seconds between knots in time */
    int gw, gh, gt;           /* knots: gw x gh a slice, gt slices */
    float step;               /* the coded integers times step are the latents (>= 1) */
    float *v;                 /* gt x gh x gw latents, in quantiser steps */
} ShNnGrid;

typedef struct ShNnModel {
    int width, height;        /* the coded picture (display, square pixels) */
    double duration;          /* seconds: t in [0, duration) */
    int levels;
    ShNnGrid grid[SH_NN_MAX_LEVELS];
    int hidden;               /* units in each of the two hidden layers */
    /* w0: hidden x levels, w1: hidden x hidden, w2: 3 x hidden, row-major */
    float *w[3], *b[3];
    float wstep[3];           /* the coded integers times wstep are the weights (and biases) */
} ShNnModel;

/* The grids' knots for a picture and duration: fills gw, gh, gt of each level. */
void sh_nn_grid_dims(ShNnGrid *g, int width, int height, double duration);
/* Allocate the latents and weights (zeroed) for the shape already in m. */
int sh_nn_model_alloc(ShNnModel *m);
void sh_nn_model_free(ShNnModel *m);
size_t sh_nn_model_latents(const ShNnModel *m);
size_t sh_nn_model_weights(const ShNnModel *m);

/*
 * Render the picture at time t (seconds) into three planes of w x h bytes
 * (limited range, as the film's matrix: Y 16..235, Cb and Cr 16..240), rows
 * [y0, y1) only, for threads to share a picture.
 */
void sh_nn_render(const ShNnModel *m, double t, uint8_t *const planes[3], const ptrdiff_t stride[3],
                  int y0, int y1);

#endif
