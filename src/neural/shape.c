/*
 * The learned codec's own choice of its model (docs/NEURAL.md, "What the
 * solver decides"): levels, time scale and network for a picture, a
 * duration, a budget and the time to fit.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>
#include <string.h>

#include <libavutil/common.h>

#include "neural/train.h"
#include "neural/trainer.h"

void sh_nn_shape(ShNnModel *m, int width, int height, double duration, int64_t bytes, double train_fps,
                 double max_latents)
{
    double bits = bytes * 8.0, tau = 8, min_t = 1 / FFMAX(train_fps, 0.1);
    int side = FFMAX(width, height);
    memset(m, 0, sizeof(*m));
    m->width = width;
    m->height = height;
    m->duration = llrint(duration * 1000) / 1000.0;
    /* The network: more units where the budget carries their weights easily. */
    m->hidden = bits < 40e3 ? 12 : bits < 400e3 ? 16 : 24;
    /* Levels from 4 px to half the picture, each twice the last; the finest
     * the slowest in time and each coarser one twice as quick (a small
     * level is cheap to change often, a fine one costs per instant).
     * The time scale: about a latent a bit of the budget (the rate term
     * zeroes most; the coder skips zero slices nearly free; four a bit
     * measured 2.5 dB worse on bbb at 20 KB, slower to fit), and no more
     * than the time allows to be fitted (max_latents). */
    for (int s = 4; s <= FFMAX(side / 2, 8) && m->levels < SH_NN_MAX_LEVELS; s *= 2)
        m->grid[m->levels++].stride = s;
    for (; tau > 0.125; tau /= M_SQRT2) {
        double next = tau / M_SQRT2, n = 0;
        for (int l = 0; l < m->levels; l++) {
            ShNnGrid g = m->grid[l];
            g.tstride = (float)FFMAX(next / (1 << l), min_t);
            sh_nn_grid_dims(&g, width, height, m->duration);
            n += (double)g.gw * g.gh * g.gt;
        }
        if (n > FFMIN(bits, max_latents))
            break;
    }
    for (int l = 0; l < m->levels; l++) {
        ShNnGrid *g = &m->grid[l];
        g->tstride = lrint(FFMAX(tau / (1 << l), min_t) * 1000) / 1000.0f;
        g->step = 1;
        sh_nn_grid_dims(g, width, height, m->duration);
    }
}

double sh_nn_latents_for_time(double seconds)
{
    /* Measured here (2 cores, 16384 pixels a step): about 50 ns a latent a
     * step with both threads, and 2000 steps fit well: 10000 a second,
     * with at least 20000 for the shortest fits. */
    return FFMAX(20000, 10000 * seconds);
}

int sh_nn_batch(void)
{
    return BATCH;
}
