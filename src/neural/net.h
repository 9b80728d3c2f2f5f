/*
 * The model's arithmetic, shared by the renderer and the trainer: where a
 * level's knots are for a row and an instant, and the network's forward pass.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_NEURAL_NET_H
#define SH_NEURAL_NET_H

#include <math.h>
#include <stddef.h>

#include "neural/model.h"

/* The four knots around (y, t) of a level's grid, at column 0; the caller
 * adds the column. y in pixels (a centre is row + 0.5), t in seconds. */
typedef struct ShNnCorner {
    size_t base;              /* (kt * gh + ky) * gw */
    int dy, dt;               /* to the next row, the next slice */
    float w[4];               /* (ky, kt), (ky+1, kt), (ky, kt+1), (ky+1, kt+1) */
} ShNnCorner;

static inline int sh_nn_knot(float u, int n, float *frac)
{
    int k;
    if (u <= 0) {
        *frac = 0;
        return 0;
    }
    k = (int)u;
    if (k > n - 2) {
        *frac = 1;
        return n - 2;
    }
    *frac = u - k;
    return k;
}

static inline void sh_nn_corner(const ShNnGrid *g, float y, double t, ShNnCorner *c)
{
    float fy, ft;
    int ky = sh_nn_knot(y / g->stride, g->gh, &fy);
    int kt = sh_nn_knot((float)(t / g->tstride), g->gt, &ft);
    c->base = ((size_t)kt * g->gh + ky) * g->gw;
    c->dy = g->gw;
    c->dt = g->gh * g->gw;
    c->w[0] = (1 - fy) * (1 - ft);
    c->w[1] = fy * (1 - ft);
    c->w[2] = (1 - fy) * ft;
    c->w[3] = fy * ft;
}

/* Hot loops in an AVX2+FMA clone too, chosen at load time where the CPU
 * has it. Without -ffast-math (the renderer) the clones compute the same
 * operations in the same order, so the pictures are the same bits (ISO C
 * mode: no contraction into fused multiply-adds). */
#if defined(__x86_64__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define SH_NN_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#endif
#endif
#ifndef SH_NN_CLONES
#define SH_NN_CLONES
#endif

/*
 * The network on SH_NN_LANES pixels at once, arrays [unit][lane]: each lane's
 * operations are one pixel's, in the same order, and the compiler makes
 * vector instructions of the lanes. Inlined into the renderer and the
 * trainer (each compiled with its own flags, each in its AVX2 clone).
 */
#define SH_NN_LANES 8

#define SH_NN_INLINE static inline __attribute__((always_inline))

/* out = w in + b (rows x cols, row-major), through ReLU when relu. */
SH_NN_INLINE void sh_nn_layer(const float *w, const float *b, int rows, int cols,
                              const float (*in)[SH_NN_LANES], float (*out)[SH_NN_LANES], int relu)
{
    for (int r = 0; r < rows; r++) {
        const float *wr = w + r * cols;
        float a[SH_NN_LANES];
        for (int s = 0; s < SH_NN_LANES; s++)
            a[s] = b[r];
        for (int k = 0; k < cols; k++)
            for (int s = 0; s < SH_NN_LANES; s++)
                a[s] += wr[k] * in[k][s];
        for (int s = 0; s < SH_NN_LANES; s++)
            out[r][s] = relu && !(a[s] > 0) ? 0 : a[s];
    }
}

/* The forward pass: features in (levels), hidden activations h1, h2 (after ReLU), out (Y, Cb, Cr). */
SH_NN_INLINE void sh_nn_forward(const ShNnModel *m, const float (*in)[SH_NN_LANES], float (*h1)[SH_NN_LANES],
                                float (*h2)[SH_NN_LANES], float (*out)[SH_NN_LANES])
{
    sh_nn_layer(m->w[0], m->b[0], m->hidden, m->levels, in, h1, 1);
    sh_nn_layer(m->w[1], m->b[1], m->hidden, m->hidden, (const float (*)[SH_NN_LANES])h1, h2, 1);
    sh_nn_layer(m->w[2], m->b[2], SH_NN_OUT, m->hidden, (const float (*)[SH_NN_LANES])h2, out, 0);
}

#endif
