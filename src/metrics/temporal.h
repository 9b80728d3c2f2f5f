/*
 * Temporal fidelity: SSIM of frame differences. Each frame's difference from
 * the one before it (a - prev + 128, clipped, as FFmpeg's tblend filter's
 * grainextract mode makes it) is compared, by the same SSIM as metrics.h,
 * with the difference of what a viewer is shown at those two instants. A
 * held frame has no difference at all, so dropped frames score where the
 * source moves, and nowhere else: judder is seen, a still picture costs
 * nothing. Comparable with ffmpeg's
 *   [ref]tblend=all_mode=grainextract[a]; [shown]tblend=all_mode=grainextract[b]; [a][b]ssim
 * (luma, "SSIM Y:"), which docs/SOLVER.md and the benchmark use.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_METRICS_TEMPORAL_H
#define SH_METRICS_TEMPORAL_H

#include <stdint.h>

#include <libavutil/frame.h>

/* Start from a zeroed struct; sh_temporal_free releases its planes. */
typedef struct ShTemporalAcc {
    uint8_t *planes;                  /* the four below, one allocation */
    uint8_t *prev_ref, *prev_shown;   /* the last pair, luma, w x h */
    uint8_t *diff_ref, *diff_shown;   /* scratch */
    int w, h;
    int have_prev;                    /* 0: the next pair starts a run (no difference yet) */
    double sum;                       /* of per-difference SSIM */
    int64_t diffs;
} ShTemporalAcc;

/*
 * The next source frame and the picture shown at its time (8-bit luma in
 * plane 0, the same size as every earlier pair). Returns 0,
 * AVERROR(EINVAL), AVERROR(ENOMEM).
 */
int sh_temporal_add(ShTemporalAcc *t, const AVFrame *ref, const AVFrame *shown);

/* The next pair does not follow the last one in time (a cut between sample segments). */
void sh_temporal_break(ShTemporalAcc *t);

/* Mean SSIM of the differences; AVERROR(EINVAL) when there were none (*tssim = 0). */
int sh_temporal_result(const ShTemporalAcc *t, double *tssim);

void sh_temporal_free(ShTemporalAcc *t);

/*
 * The solver's objective from spatial and temporal SSIM, in dB: the
 * product of the two (the spatial and temporal factors multiply, as in
 * ST-RRED, Soundararajan & Bovik 2013, and in Ou et al.'s frame-rate and
 * quantisation model, 2011): SSIM x temporal SSIM, as SSIM dB. See
 * docs/SOLVER.md for the choice and how it was measured.
 */
double sh_quality_score_db(double ssim, double tssim);

#endif
