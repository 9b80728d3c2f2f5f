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

static inline void sh_nn_corner(const ShNnGrid *g, float x, float y, double t, ShNnCorner *c)
{
    float fy, ft;
    int ky = sh_nn_knot(y / g->stride, g->gh, &fy);
    int kt = sh_nn_knot((float)(t / g->tstride), g->gt, &ft);
    (void)x;
    c->base = ((size_t)kt * g->gh + ky) * g->gw;
    c->dy = g->gw;
    c->dt = g->gh * g->gw;
    c->w[0] = (1 - fy) * (1 - ft);
    c->w[1] = fy * (1 - ft);
    c->w[2] = (1 - fy) * ft;
    c->w[3] = fy * ft;
}

/* What the backward pass needs of a forward one. */
typedef struct ShNnActs {
    float h1[SH_NN_MAX_HIDDEN], h2[SH_NN_MAX_HIDDEN];   /* after ReLU */
} ShNnActs;

static inline void sh_nn_forward(const ShNnModel *m, const float *in, float *out, ShNnActs *a)
{
    ShNnActs local;
    const int h = m->hidden, L = m->levels;
    if (!a)
        a = &local;
    for (int i = 0; i < h; i++) {
        const float *w = m->w[0] + i * L;
        float s = m->b[0][i];
        for (int k = 0; k < L; k++)
            s += w[k] * in[k];
        a->h1[i] = s > 0 ? s : 0;
    }
    for (int i = 0; i < h; i++) {
        const float *w = m->w[1] + i * h;
        float s = m->b[1][i];
        for (int k = 0; k < h; k++)
            s += w[k] * a->h1[k];
        a->h2[i] = s > 0 ? s : 0;
    }
    for (int i = 0; i < SH_NN_OUT; i++) {
        const float *w = m->w[2] + i * h;
        float s = m->b[2][i];
        for (int k = 0; k < h; k++)
            s += w[k] * a->h2[k];
        out[i] = s;
    }
}

#endif
