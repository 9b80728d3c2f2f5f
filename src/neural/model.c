/*
 * The learned codec's model: its shape and the renderer the decoder and the
 * trainer's final check share (docs/NEURAL.md).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>
#include <string.h>

#include <libavutil/common.h>
#include <libavutil/mem.h>

#include "neural/model.h"
#include "neural/net.h"

void sh_nn_grid_dims(ShNnGrid *g, int width, int height, double duration)
{
    /* A knot at either edge: pixel centres (x + 0.5) / stride fall inside. */
    g->gw = (width + g->stride - 1) / g->stride + 1;
    g->gh = (height + g->stride - 1) / g->stride + 1;
    g->gt = (int)(duration / g->tstride) + 2;
}

size_t sh_nn_model_latents(const ShNnModel *m)
{
    size_t n = 0;
    for (int l = 0; l < m->levels; l++)
        n += (size_t)m->grid[l].gw * m->grid[l].gh * m->grid[l].gt;
    return n;
}

size_t sh_nn_model_weights(const ShNnModel *m)
{
    int h = m->hidden;
    return (size_t)h * m->levels + h + (size_t)h * h + h + (size_t)SH_NN_OUT * h + SH_NN_OUT;
}

int sh_nn_model_alloc(ShNnModel *m)
{
    int h = m->hidden;
    int rows[3] = { h, h, SH_NN_OUT }, cols[3] = { m->levels, h, h };
    if (m->levels < 1 || m->levels > SH_NN_MAX_LEVELS || h < 1 || h > SH_NN_MAX_HIDDEN)
        return AVERROR(EINVAL);
    for (int l = 0; l < m->levels; l++) {
        ShNnGrid *g = &m->grid[l];
        size_t n = (size_t)g->gw * g->gh * g->gt;
        if (g->gw < 2 || g->gh < 2 || g->gt < 2 || n > (size_t)1 << 28)
            return AVERROR(EINVAL);
        if (!(g->v = av_calloc(n, sizeof(*g->v))))
            return AVERROR(ENOMEM);
    }
    for (int i = 0; i < 3; i++)
        if (!(m->w[i] = av_calloc((size_t)rows[i] * cols[i], sizeof(float))) ||
            !(m->b[i] = av_calloc(rows[i], sizeof(float))))
            return AVERROR(ENOMEM);
    return 0;
}

void sh_nn_model_free(ShNnModel *m)
{
    for (int l = 0; l < SH_NN_MAX_LEVELS; l++)
        av_freep(&m->grid[l].v);
    for (int i = 0; i < 3; i++) {
        av_freep(&m->w[i]);
        av_freep(&m->b[i]);
    }
}

static uint8_t to_byte(float v, float lo, float range, int hi)
{
    int x = (int)lrintf(lo + v * range);
    return (uint8_t)av_clip(x, 16, hi);
}

#define LANES SH_NN_LANES

/* (2x the pixels a second of one at a time, with the AVX2 clone, on a 320x180 film) */
SH_NN_CLONES static void network(const ShNnModel *m, const float in[][LANES], float out[][LANES])
{
    float h1[SH_NN_MAX_HIDDEN][LANES], h2[SH_NN_MAX_HIDDEN][LANES];
    sh_nn_forward(m, in, h1, h2, out);
}

void sh_nn_render(const ShNnModel *m, double t, uint8_t *const planes[3], const ptrdiff_t stride[3],
                  int y0, int y1)
{
    /* Each level's row of knots, already interpolated in time and down the
     * picture: a pixel then needs one lerp a level. */
    float rowbuf[SH_NN_MAX_LEVELS][512 / 4 + 2];
    float *row[SH_NN_MAX_LEVELS];
    float *heap = NULL;
    int need = 0;
    for (int l = 0; l < m->levels; l++)
        need += m->grid[l].gw;
    if (need > (int)(sizeof(rowbuf) / sizeof(float)) && !(heap = av_malloc_array(need, sizeof(float))))
        return;   /* (the decoder checks sizes before it renders: never reached) */
    for (int l = 0, off = 0; l < m->levels; l++) {
        row[l] = heap ? heap + off : rowbuf[0] + off;
        off += m->grid[l].gw;
    }

    for (int y = y0; y < y1; y++) {
        for (int l = 0; l < m->levels; l++) {
            const ShNnGrid *g = &m->grid[l];
            ShNnCorner c;
            sh_nn_corner(g, y + 0.5f, t, &c);
            const float *p = g->v + c.base;
            float s = g->step * SH_NN_LATENT_SCALE;
            for (int x = 0; x < g->gw; x++)
                row[l][x] = s * (c.w[0] * p[x] + c.w[1] * p[x + c.dy] +
                                 c.w[2] * p[x + c.dt] + c.w[3] * p[x + c.dt + c.dy]);
        }
        for (int x0 = 0; x0 < m->width; x0 += LANES) {
            float in[SH_NN_MAX_LEVELS][LANES], out[SH_NN_OUT][LANES];
            int n = FFMIN(LANES, m->width - x0);
            for (int l = 0; l < m->levels; l++)
                for (int s = 0; s < LANES; s++) {
                    /* (lanes past the right edge repeat its last pixel; not stored) */
                    float u = (x0 + FFMIN(s, n - 1) + 0.5f) / m->grid[l].stride;
                    int k = (int)u;
                    float f = u - k;
                    in[l][s] = row[l][k] + f * (row[l][k + 1] - row[l][k]);
                }
            network(m, (const float (*)[LANES])in, out);
            for (int s = 0; s < n; s++) {
                planes[0][y * stride[0] + x0 + s] = to_byte(out[0][s], 16, 219, 235);
                planes[1][y * stride[1] + x0 + s] = to_byte(out[1][s], 128, 224, 240);
                planes[2][y * stride[2] + x0 + s] = to_byte(out[2][s], 128, 224, 240);
            }
        }
    }
    av_free(heap);
}
