/*
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "metrics/temporal.h"

#include <math.h>

#include <libavutil/common.h>
#include <libavutil/error.h>
#include <libavutil/imgutils.h>
#include <libavutil/mem.h>

#include "metrics/metrics.h"

static void diff_plane(uint8_t *d, const uint8_t *a, ptrdiff_t as, const uint8_t *prev, int w, int h)
{
    for (int y = 0; y < h; y++, a += as, prev += w, d += w)
        for (int x = 0; x < w; x++)
            d[x] = (uint8_t)av_clip_uint8(a[x] - prev[x] + 128);
}

int sh_temporal_add(ShTemporalAcc *t, const AVFrame *ref, const AVFrame *shown)
{
    int w, h, ret;
    if (!t || !ref || !shown || !ref->data[0] || !shown->data[0] ||
        ref->width != shown->width || ref->height != shown->height)
        return AVERROR(EINVAL);
    w = ref->width;
    h = ref->height;
    if (!t->planes) {
        size_t n = (size_t)w * h;
        if (w < SH_QUALITY_MIN_SIZE || h < SH_QUALITY_MIN_SIZE)
            return AVERROR(EINVAL);
        /* The four planes in one allocation: all there or none. */
        if (!(t->planes = av_malloc(4 * n)))
            return AVERROR(ENOMEM);
        t->prev_ref = t->planes;
        t->prev_shown = t->planes + n;
        t->diff_ref = t->planes + 2 * n;
        t->diff_shown = t->planes + 3 * n;
        t->w = w;
        t->h = h;
        t->have_prev = 0;
    } else if (w != t->w || h != t->h) {
        return AVERROR(EINVAL);
    }
    if (t->have_prev) {
        ShQuality q;
        diff_plane(t->diff_ref, ref->data[0], ref->linesize[0], t->prev_ref, w, h);
        diff_plane(t->diff_shown, shown->data[0], shown->linesize[0], t->prev_shown, w, h);
        if ((ret = sh_quality_plane(t->diff_ref, w, t->diff_shown, w, w, h, &q)) < 0)
            return ret;
        t->sum += q.ssim;
        t->diffs++;
    }
    av_image_copy_plane(t->prev_ref, w, ref->data[0], ref->linesize[0], w, h);
    av_image_copy_plane(t->prev_shown, w, shown->data[0], shown->linesize[0], w, h);
    t->have_prev = 1;
    return 0;
}

void sh_temporal_break(ShTemporalAcc *t)
{
    if (t)
        t->have_prev = 0;
}

int sh_temporal_result(const ShTemporalAcc *t, double *tssim)
{
    *tssim = 0;
    if (!t || t->diffs <= 0)
        return AVERROR(EINVAL);
    *tssim = t->sum / (double)t->diffs;
    return 0;
}

void sh_temporal_free(ShTemporalAcc *t)
{
    if (!t)
        return;
    av_freep(&t->planes);
    t->prev_ref = t->prev_shown = t->diff_ref = t->diff_shown = NULL;
    t->have_prev = 0;
}

double sh_quality_score_db(double ssim, double tssim)
{
    double s = av_clipd(ssim, 0, 1), t = av_clipd(tssim, 0, 1);
    /* The plain product, as ST-RRED multiplies its indices: a squared
     * temporal factor was tried and gave away spatial quality for small
     * temporal differences (docs/SOLVER.md, "The weight"). */
    return sh_ssim_db(s * t);
}
