/*
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_FACES_SCORE_H
#define SH_FACES_SCORE_H

#include "faces/track.h"
#include "metrics/metrics.h"

/*
 * Luma SSIM and PSNR of b against a (same size, 8-bit luma in plane 0) inside
 * the regions, each weighted by its area (overlaps counted twice; regions
 * under 8x8 pixels left out). Returns 0, 1 when nothing was left to score,
 * AVERROR(EINVAL) for frames of different sizes.
 */
int sh_quality_regions(const AVFrame *a, const AVFrame *b, const ShFaceRegion *r, int n, ShQuality *q);

#endif
