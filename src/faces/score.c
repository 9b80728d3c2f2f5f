/*
 * The quality inside face regions: what the solver weighs (solver/roi.c) and
 * --report measures.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>

#include <libavutil/common.h>

#include "faces/score.h"

int sh_quality_regions(const AVFrame *a, const AVFrame *b, const ShFaceRegion *r, int n, ShQuality *q)
{
    double wsum = 0, ssim = 0, mse = 0;
    if (a->width != b->width || a->height != b->height)
        return AVERROR(EINVAL);
    for (int i = 0; i < n; i++) {
        /* On the 4-pixel grid the SSIM windows step on. */
        int x0 = (int)(r[i].x0 * a->width) & ~3, y0 = (int)(r[i].y0 * a->height) & ~3;
        int x1 = FFMIN((int)ceilf(r[i].x1 * a->width), a->width);
        int y1 = FFMIN((int)ceilf(r[i].y1 * a->height), a->height);
        int w = (x1 - x0) & ~3, h = (y1 - y0) & ~3;
        ShQuality rq;
        if (w < SH_QUALITY_MIN_SIZE || h < SH_QUALITY_MIN_SIZE ||
            sh_quality_plane(a->data[0] + (ptrdiff_t)y0 * a->linesize[0] + x0, a->linesize[0],
                             b->data[0] + (ptrdiff_t)y0 * b->linesize[0] + x0, b->linesize[0], w, h, &rq) < 0)
            continue;
        ssim += rq.ssim * w * h;
        mse += rq.mse * w * h;
        wsum += (double)w * h;
    }
    if (wsum <= 0)
        return 1;
    q->ssim = ssim / wsum;
    q->ssim_db = sh_ssim_db(q->ssim);
    q->mse = mse / wsum;
    q->psnr = sh_psnr_from_mse(q->mse);
    return 0;
}
