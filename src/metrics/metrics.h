/*
 * Quality metrics: SSIM and PSNR of the luma plane.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Pure functions: no state, no printing, no allocation for planes up to
 * SH_QUALITY_STACK_WIDTH pixels wide. SSIM is x264's (and FFmpeg's ssim
 * filter's) formulation: 8x8 windows stepped by 4 over integer 4x4 block
 * sums, so a value here is comparable with "SSIM Y:" from ffmpeg -lavfi ssim.
 * PSNR is 10*log10(255^2 / MSE), as "PSNR y:" from ffmpeg -lavfi psnr.
 */
#ifndef SH_METRICS_METRICS_H
#define SH_METRICS_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include <libavutil/frame.h>

/* Identical planes have infinite PSNR and ssim_db; both are capped here so
 * results stay finite (JSON has no infinity). */
#define SH_QUALITY_DB_MAX 100.0

/* Planes up to this width need no heap scratch (two rows of block sums on the stack). */
#define SH_QUALITY_STACK_WIDTH 2048

/* Both planes need at least two 4x4 blocks each way for one SSIM window. */
#define SH_QUALITY_MIN_SIZE 8

typedef struct ShQuality {
    double ssim;     /* mean SSIM of the 8x8 windows, in [-1, 1]; 1 = identical */
    double ssim_db;  /* -10*log10(1 - ssim), capped at SH_QUALITY_DB_MAX */
    double psnr;     /* dB, capped at SH_QUALITY_DB_MAX */
    double mse;      /* mean squared error per pixel (what PSNR comes from) */
} ShQuality;

/*
 * SSIM and PSNR of two 8-bit planes of the same size (w x h, both at least
 * SH_QUALITY_MIN_SIZE). Strides may be negative. SSIM ignores the last w%4
 * columns and h%4 rows, as FFmpeg's filter does; PSNR covers every pixel.
 * Returns 0, AVERROR(EINVAL) for bad arguments, AVERROR(ENOMEM).
 */
int sh_quality_plane(const uint8_t *a, ptrdiff_t a_stride,
                     const uint8_t *b, ptrdiff_t b_stride,
                     int w, int h, ShQuality *q);

/*
 * The luma of two frames of the same size. Any format whose first component
 * is 8-bit luma in plane 0 (yuv4xxp, yuvj4xxp, nv12, gray8...); the two
 * formats may differ. Returns 0 or AVERROR(EINVAL) (RGB, packed, >8 bit,
 * hardware frames, size mismatch), AVERROR(ENOMEM).
 */
int sh_quality_frame(const AVFrame *a, const AVFrame *b, ShQuality *q);

/*
 * Many frames, summarised as FFmpeg's filters summarise a whole run: SSIM
 * is the mean of the per-frame SSIMs, PSNR comes from the mean per-frame
 * MSE (not the mean of per-frame PSNRs, which a single perfect frame would
 * dominate). Start from a zeroed struct: ShQualityAcc acc = { 0 };
 */
typedef struct ShQualityAcc {
    double ssim_sum;
    double mse_sum;
    double ssim_min;     /* worst frame seen; valid once frames > 0 */
    int64_t frames;
} ShQualityAcc;

void sh_quality_acc_add(ShQualityAcc *acc, const ShQuality *frame);

/* Returns 0, or AVERROR(EINVAL) when no frame was added (q is then zeroed). */
int sh_quality_acc_result(const ShQualityAcc *acc, ShQuality *q);

/* -10*log10(1 - ssim), capped at SH_QUALITY_DB_MAX. */
double sh_ssim_db(double ssim);

/* SSIM from its dB: 1 - 10^(-db/10). */
double sh_ssim_from_db(double db);

/* 10*log10(255^2 / mse), capped at SH_QUALITY_DB_MAX (also for mse <= 0). */
double sh_psnr_from_mse(double mse);

#endif
