/*
 * The trainer's state, shared by its passes (train.c: the loop, the
 * update pass, the file; backprop.c: the samples' forward and backward).
 * Private to src/neural/.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_NEURAL_TRAINER_H
#define SH_NEURAL_TRAINER_H

#include <stddef.h>
#include <stdint.h>

#include "neural/net.h"
#include "neural/train.h"

#define MAX_THREADS 8
#define BATCH 16384             /* pixels a step: the update pass over every latent costs as much */
#define RATE_EVERY 4            /* the rate's gradient every this many steps, times this */
#define STE_FROM 0.85           /* of the time: from here on, the file's rounding */
#define WEIGHT_LEVELS 31        /* weights are coded in +-31 steps of max |w| / 31 (fewer, 15 or 7,
                                 * only where nothing else makes the file fit) */
/* Y, then Cb and Cr at a quarter: every other codec codes them at a quarter of the pixels. */
static const float sh_nn_chan_weight[SH_NN_OUT] = { 1.0f, 0.25f, 0.25f };

#define LANES SH_NN_LANES

/* The weights' gradients lane by lane (backprop.c: LANES samples at once). */
typedef struct LaneAcc {
    float w[3][SH_NN_MAX_HIDDEN * SH_NN_MAX_HIDDEN][LANES];
    float b[3][SH_NN_MAX_HIDDEN][LANES];
} LaneAcc;

typedef struct Adam {
    float *m, *v;
} Adam;

typedef struct Worker {
    struct Trainer *tr;
    uint64_t rng;
    float *glat;              /* latent gradients of this worker's pixels */
    float *gw[3], *gb[3];
    double loss;
    size_t lo, hi;            /* update phase: this range of the latents */
    double absum[SH_NN_MAX_LEVELS];
    struct LaneAcc *acc;      /* the weights' gradients lane by lane (sample_pass) */
} Worker;

typedef struct Trainer {
    ShNnModel *m;             /* the master: float latents (quantiser steps) and weights */
    ShNnModel fm;             /* what the forward pass reads: noisy or rounded latents, weights */
    const ShNnFrames *data;
    int nthreads;
    size_t nlat, off[SH_NN_MAX_LEVELS + 1];
    float *lat;               /* master latents, all levels in a row */
    float *vq;                /* forward latents */
    Adam alat, aw[3], ab[3];
    float *qw[3], *qb[3];     /* forward weights */
    float qstep[3];           /* ... in these steps */
    int wlevels;              /* ... of max |w| / wlevels */
    Worker wk[MAX_THREADS];
    /* this step */
    int ste, rate_step, phase;
    float lr_lat, lr_w, beta1t, beta2t;
    float rate_scale[SH_NN_MAX_LEVELS]; /* lambda / pixels * RATE_EVERY */
    float lap_b[SH_NN_MAX_LEVELS], lap_e[SH_NN_MAX_LEVELS];
} Trainer;

static inline uint64_t sh_nn_rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1Dull;
}

static inline float sh_nn_rndf(uint64_t *s)   /* [0, 1) */
{
    return (sh_nn_rnd(s) >> 40) * (1.0f / (1 << 24));
}

static inline int sh_nn_rows(const ShNnModel *m, int k)
{
    return k < 2 ? m->hidden : SH_NN_OUT;
}

static inline int sh_nn_cols(const ShNnModel *m, int k)
{
    return k == 0 ? m->levels : m->hidden;
}

/* The samples of one worker (BATCH / threads of them): forward, loss,
 * backward into its gradients (backprop.c). */
void sh_nn_sample_pass(Worker *w);

#endif
