/*
 * The learned codec's file header (docs/NEURAL.md, "File").
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <libavutil/error.h>
#include <libavutil/intreadwrite.h>

#include "neural/file.h"

/* magic 4, version 1, levels 1, hidden 1, colour 3, width 2, height 2,
 * duration (ms) 4, fps 4 + 4, frames 4, payload 4, wstep 3 x 4 */
#define FIXED 46
#define PER_LEVEL 10    /* stride 2, tstride (ms) 4, step (float) 4 */

size_t sh_nn_header_size(const ShNnModel *m)
{
    return FIXED + (size_t)PER_LEVEL * m->levels;
}

static void put_float(uint8_t *p, float f)
{
    union { float f; uint32_t u; } x = { .f = f };
    AV_WL32(p, x.u);
}

static float get_float(const uint8_t *p)
{
    union { float f; uint32_t u; } x = { .u = AV_RL32(p) };
    return x.f;
}

void sh_nn_header_write(const ShNnHeader *h, uint8_t *p)
{
    const ShNnModel *m = &h->model;
    memcpy(p, SH_NN_MAGIC, 4);
    p[4] = SH_NN_VERSION;
    p[5] = (uint8_t)m->levels;
    p[6] = (uint8_t)m->hidden;
    p[7] = h->matrix;
    p[8] = h->primaries;
    p[9] = h->transfer;
    AV_WL16(p + 10, m->width);
    AV_WL16(p + 12, m->height);
    AV_WL32(p + 14, (uint32_t)llrint(m->duration * 1000));
    AV_WL32(p + 18, (uint32_t)h->fps.num);
    AV_WL32(p + 22, (uint32_t)h->fps.den);
    AV_WL32(p + 26, h->frames);
    AV_WL32(p + 30, h->payload);
    for (int k = 0; k < 3; k++)
        put_float(p + 34 + 4 * k, m->wstep[k]);
    p += FIXED;
    for (int l = 0; l < m->levels; l++, p += PER_LEVEL) {
        AV_WL16(p, m->grid[l].stride);
        AV_WL32(p + 2, (uint32_t)lrintf(m->grid[l].tstride * 1000));
        put_float(p + 6, m->grid[l].step);
    }
}

#define BAD(...) do { snprintf(why, why_len, __VA_ARGS__); return AVERROR_INVALIDDATA; } while (0)

int sh_nn_header_read(ShNnHeader *h, const uint8_t *buf, size_t size, const uint8_t **payload,
                      char *why, size_t why_len)
{
    ShNnModel *m = &h->model;
    const uint8_t *p = buf;
    size_t latents = 0, hsize;

    memset(h, 0, sizeof(*h));
    if (size < FIXED || memcmp(buf, SH_NN_MAGIC, 4))
        BAD("not a shrink neural file (no SHNN magic)");
    if (buf[4] != SH_NN_VERSION)
        BAD("version %d of the neural format, this shrink reads %d", buf[4], SH_NN_VERSION);
    m->levels = buf[5];
    m->hidden = buf[6];
    if (m->levels < 1 || m->levels > SH_NN_MAX_LEVELS || m->hidden < 1 || m->hidden > SH_NN_MAX_HIDDEN)
        BAD("damaged header: %d levels, %d hidden units", m->levels, m->hidden);
    hsize = sh_nn_header_size(m);
    if (size < hsize)
        BAD("truncated: %zu bytes, the header alone is %zu", size, hsize);
    h->matrix = buf[7];
    h->primaries = buf[8];
    h->transfer = buf[9];
    m->width = AV_RL16(buf + 10);
    m->height = AV_RL16(buf + 12);
    m->duration = AV_RL32(buf + 14) / 1000.0;
    h->fps = (AVRational){ (int)AV_RL32(buf + 18), (int)AV_RL32(buf + 22) };
    h->frames = AV_RL32(buf + 26);
    h->payload = AV_RL32(buf + 30);
    for (int k = 0; k < 3; k++)
        m->wstep[k] = get_float(buf + 34 + 4 * k);
    if (m->width < 2 || m->height < 2 || m->width > SH_NN_MAX_SIDE || m->height > SH_NN_MAX_SIDE ||
        (m->width | m->height) & 1)
        BAD("damaged header: picture %dx%d", m->width, m->height);
    if (h->fps.num < 1 || h->fps.den < 1 || h->fps.num > 1000000 || h->fps.den > 1000000 ||
        av_q2d(h->fps) > 240 || av_q2d(h->fps) < 0.01)
        BAD("damaged header: frame rate %d/%d", h->fps.num, h->fps.den);
    if (h->frames < 1 || h->frames > SH_NN_MAX_FRAMES || m->duration <= 0 ||
        fabs(h->frames / av_q2d(h->fps) - m->duration) > 1.0 / av_q2d(h->fps) + 0.002)
        BAD("damaged header: %u frames at %d/%d fps for %.3f s", h->frames, h->fps.num, h->fps.den,
            m->duration);
    for (int k = 0; k < 3; k++)
        if (!isfinite(m->wstep[k]) || m->wstep[k] <= 0 || m->wstep[k] > 1e6)
            BAD("damaged header: weight step %g", m->wstep[k]);
    p = buf + FIXED;
    for (int l = 0; l < m->levels; l++, p += PER_LEVEL) {
        ShNnGrid *g = &m->grid[l];
        g->stride = AV_RL16(p);
        g->tstride = AV_RL32(p + 2) / 1000.0f;
        g->step = get_float(p + 6);
        if (g->stride < 1 || g->tstride < 0.001f || !isfinite(g->step) || g->step <= 0 || g->step > 1e6)
            BAD("damaged header: level %d (stride %d, %g s, step %g)", l, g->stride, g->tstride, g->step);
        /* slices before the knots are counted: days at 1 ms apart is past INT_MAX */
        if (m->duration / g->tstride > SH_NN_MAX_LATENTS)
            BAD("damaged header: more than %d latents", SH_NN_MAX_LATENTS);
        sh_nn_grid_dims(g, m->width, m->height, m->duration);
        latents += (size_t)g->gw * g->gh * g->gt;
        if (latents > SH_NN_MAX_LATENTS)
            BAD("damaged header: more than %d latents", SH_NN_MAX_LATENTS);
    }
    if (h->payload != size - hsize)
        BAD("%s: the header says %u bytes of payload, the file has %zu",
            h->payload > size - hsize ? "truncated" : "trailing bytes", h->payload, size - hsize);
    *payload = buf + hsize;
    return 0;
}
