/*
 * Quality metrics: SSIM and PSNR of the luma plane.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * SSIM follows x264's pixel.c (ssim_4x4x2_core / ssim_end1), which FFmpeg's
 * ssim filter copies: sums over 4x4 blocks in integers, then every 8x8
 * window (2x2 blocks, stepped by 4 pixels) from four block sums. Each block
 * row is summed once and kept while the next one is summed, so the plane is
 * read once and the scratch is two rows of block sums.
 *
 * The same block sums give the squared error for free: sum((a-b)^2) =
 * sum(a^2 + b^2) - 2*sum(a*b). Only the w%4 / h%4 edge strips that no block
 * covers are read a second time for PSNR.
 */
#include "metrics/metrics.h"

#include <math.h>
#include <string.h>

#include <libavutil/error.h>
#include <libavutil/mem.h>
#include <libavutil/pixdesc.h>

/* Per 4x4 block: sum a, sum b, sum a^2 + b^2, sum a*b. A window adds four
 * blocks (at most 64 * 2 * 255^2) and ssim_window() multiplies by 64: still
 * below 2^31, so int32_t throughout, as in x264. */
typedef int32_t BlockSums[4];

/*
 * A row of 4x4 block sums, 16 columns (4 blocks) at a time: columns are
 * summed down the 4 lines in loops of a fixed count, which GCC vectorises
 * even at -O2, then every 4 columns make a block. The last blocks of a row
 * that do not fill a group go through the plain loop.
 */
enum { GROUP = 16 };

static void block_group(const uint8_t *a, ptrdiff_t as, const uint8_t *b, ptrdiff_t bs,
                        BlockSums *sums)
{
    uint16_t c1[GROUP], c2[GROUP];
    uint32_t css[GROUP], c12[GROUP];
    const uint8_t *a1 = a + as, *a2 = a1 + as, *a3 = a2 + as;
    const uint8_t *b1 = b + bs, *b2 = b1 + bs, *b3 = b2 + bs;

    for (int x = 0; x < GROUP; x++) {
        uint32_t p0 = a[x], p1 = a1[x], p2 = a2[x], p3 = a3[x];
        uint32_t q0 = b[x], q1 = b1[x], q2 = b2[x], q3 = b3[x];
        c1[x]  = (uint16_t)(p0 + p1 + p2 + p3);
        c2[x]  = (uint16_t)(q0 + q1 + q2 + q3);
        css[x] = p0 * p0 + p1 * p1 + p2 * p2 + p3 * p3 + q0 * q0 + q1 * q1 + q2 * q2 + q3 * q3;
        c12[x] = p0 * q0 + p1 * q1 + p2 * q2 + p3 * q3;
    }
    for (int z = 0; z < GROUP / 4; z++) {
        const int x = 4 * z;
        sums[z][0] = c1[x] + c1[x + 1] + c1[x + 2] + c1[x + 3];
        sums[z][1] = c2[x] + c2[x + 1] + c2[x + 2] + c2[x + 3];
        sums[z][2] = (int32_t)(css[x] + css[x + 1] + css[x + 2] + css[x + 3]);
        sums[z][3] = (int32_t)(c12[x] + c12[x + 1] + c12[x + 2] + c12[x + 3]);
    }
}

static void block_row(const uint8_t *a, ptrdiff_t as, const uint8_t *b, ptrdiff_t bs,
                      BlockSums *sums, int blocks)
{
    int z = 0;
    for (; z + GROUP / 4 <= blocks; z += GROUP / 4)
        block_group(a + 4 * z, as, b + 4 * z, bs, sums + z);
    for (; z < blocks; z++) {
        const uint8_t *pa = a + 4 * z, *pb = b + 4 * z;
        uint32_t s1 = 0, s2 = 0, ss = 0, s12 = 0;
        for (int y = 0; y < 4; y++, pa += as, pb += bs) {
            for (int x = 0; x < 4; x++) {
                uint32_t va = pa[x], vb = pb[x];
                s1  += va;
                s2  += vb;
                ss  += va * va + vb * vb;
                s12 += va * vb;
            }
        }
        sums[z][0] = (int32_t)s1;
        sums[z][1] = (int32_t)s2;
        sums[z][2] = (int32_t)ss;
        sums[z][3] = (int32_t)s12;
    }
}

/*
 * One 8x8 window from its sums (x264's ssim_end1 for 8-bit). The constants
 * carry the 64 pixels of the window; c2's extra 63 matches vars and covar,
 * which are 64*63 times the unbiased (co)variances. Integer arithmetic up to
 * the final ratio and float there, as x264 and FFmpeg do, so the results
 * agree to rounding.
 */
static float ssim_window(int32_t s1, int32_t s2, int32_t ss, int32_t s12)
{
    static const int32_t c1 = (int32_t)(.01 * .01 * 255 * 255 * 64 + .5);
    static const int32_t c2 = (int32_t)(.03 * .03 * 255 * 255 * 64 * 63 + .5);
    int32_t vars  = ss * 64 - s1 * s1 - s2 * s2;
    int32_t covar = s12 * 64 - s1 * s2;
    return (float)(2 * s1 * s2 + c1) * (float)(2 * covar + c2)
         / ((float)(s1 * s1 + s2 * s2 + c1) * (float)(vars + c2));
}

/* The windows straddling two block rows: windows - 1 overlaps per row. */
static double ssim_row(const BlockSums *r0, const BlockSums *r1, int windows)
{
    double sum = 0;
    for (int i = 0; i < windows; i++)
        sum += ssim_window(r0[i][0] + r0[i + 1][0] + r1[i][0] + r1[i + 1][0],
                           r0[i][1] + r0[i + 1][1] + r1[i][1] + r1[i + 1][1],
                           r0[i][2] + r0[i + 1][2] + r1[i][2] + r1[i + 1][2],
                           r0[i][3] + r0[i + 1][3] + r1[i][3] + r1[i + 1][3]);
    return sum;
}

/* Squared error over the rectangle [x0, x1) x [y0, y1): only the thin edge
 * strips, so plain code. */
static int64_t sse_rect(const uint8_t *a, ptrdiff_t as, const uint8_t *b, ptrdiff_t bs,
                        int x0, int y0, int x1, int y1)
{
    int64_t sse = 0;
    for (int y = y0; y < y1; y++) {
        const uint8_t *pa = a + y * as, *pb = b + y * bs;
        for (int x = x0; x < x1; x++) {
            int d = pa[x] - pb[x];
            sse += d * d;
        }
    }
    return sse;
}

double sh_ssim_from_db(double db)
{
    return 1.0 - pow(10.0, -db / 10.0);
}

double sh_ssim_db(double ssim)
{
    if (ssim >= 1.0)
        return SH_QUALITY_DB_MAX;
    return fmin(-10.0 * log10(1.0 - ssim), SH_QUALITY_DB_MAX);
}

double sh_psnr_from_mse(double mse)
{
    if (!(mse > 0.0))
        return SH_QUALITY_DB_MAX;
    return fmin(10.0 * log10(255.0 * 255.0 / mse), SH_QUALITY_DB_MAX);
}

int sh_quality_plane(const uint8_t *a, ptrdiff_t a_stride,
                     const uint8_t *b, ptrdiff_t b_stride,
                     int w, int h, ShQuality *q)
{
    /* Two rows of block sums; 16 KiB of stack covers every width up to 2048. */
    BlockSums stack_rows[2 * (SH_QUALITY_STACK_WIDTH / 4)];
    BlockSums *heap = NULL, *prev, *cur;
    const int bw = w / 4, bh = h / 4;
    double ssim = 0;
    int64_t sse = 0;
    int ret = 0;

    if (!a || !b || !q || w < SH_QUALITY_MIN_SIZE || h < SH_QUALITY_MIN_SIZE)
        return AVERROR(EINVAL);
    memset(q, 0, sizeof(*q));

    prev = stack_rows;
    if (bw > SH_QUALITY_STACK_WIDTH / 4) {
        if (!(heap = av_malloc_array(2 * (size_t)bw, sizeof(*heap)))) {
            ret = AVERROR(ENOMEM);
            goto end;
        }
        prev = heap;
    }
    cur = prev + bw;

    for (int by = 0; by < bh; by++) {
        BlockSums *t = prev;
        prev = cur;
        cur = t;
        block_row(a + 4 * by * a_stride, a_stride, b + 4 * by * b_stride, b_stride, cur, bw);
        for (int i = 0; i < bw; i++)
            sse += cur[i][2] - 2 * (int64_t)cur[i][3];
        if (by > 0)
            ssim += ssim_row(prev, cur, bw - 1);
    }
    /* The strips no block covers: the right columns, then the bottom rows. */
    sse += sse_rect(a, a_stride, b, b_stride, 4 * bw, 0, w, h);
    sse += sse_rect(a, a_stride, b, b_stride, 0, 4 * bh, 4 * bw, h);

    q->ssim    = ssim / ((double)(bw - 1) * (bh - 1));
    q->ssim_db = sh_ssim_db(q->ssim);
    q->mse     = (double)sse / ((double)w * h);
    q->psnr    = sh_psnr_from_mse(q->mse);

end:
    av_free(heap);
    return ret;
}

/* 8-bit luma, one byte per sample, alone in plane 0. */
static int has_plain_luma(const AVFrame *f)
{
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(f->format);
    if (!d || !f->data[0] || d->nb_components < 1)
        return 0;
    if (d->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL |
                    AV_PIX_FMT_FLAG_HWACCEL | AV_PIX_FMT_FLAG_BITSTREAM |
                    AV_PIX_FMT_FLAG_FLOAT))
        return 0;
    return d->comp[0].plane == 0 && d->comp[0].step == 1 && d->comp[0].offset == 0 &&
           d->comp[0].shift == 0 && d->comp[0].depth == 8;
}

int sh_quality_frame(const AVFrame *a, const AVFrame *b, ShQuality *q)
{
    if (!a || !b || !q)
        return AVERROR(EINVAL);
    if (!has_plain_luma(a) || !has_plain_luma(b) ||
        a->width != b->width || a->height != b->height)
        return AVERROR(EINVAL);
    return sh_quality_plane(a->data[0], a->linesize[0], b->data[0], b->linesize[0],
                            a->width, a->height, q);
}

void sh_quality_acc_add(ShQualityAcc *acc, const ShQuality *frame)
{
    if (!acc || !frame)
        return;
    if (acc->frames == 0 || frame->ssim < acc->ssim_min)
        acc->ssim_min = frame->ssim;
    acc->ssim_sum += frame->ssim;
    acc->mse_sum  += frame->mse;
    acc->frames++;
}

int sh_quality_acc_result(const ShQualityAcc *acc, ShQuality *q)
{
    if (!q)
        return AVERROR(EINVAL);
    memset(q, 0, sizeof(*q));
    if (!acc || acc->frames <= 0)
        return AVERROR(EINVAL);
    q->ssim    = acc->ssim_sum / (double)acc->frames;
    q->ssim_db = sh_ssim_db(q->ssim);
    q->mse     = acc->mse_sum / (double)acc->frames;
    q->psnr    = sh_psnr_from_mse(q->mse);
    return 0;
}
