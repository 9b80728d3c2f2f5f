/*
 * Measure one candidate on the sample: encode at a picture size, frame rate
 * and constant quality; decode; scale back up to the evaluation size; score
 * every reference frame against the picture a viewer would see then (the
 * last kept frame, held where frames were dropped), and every difference
 * between successive reference frames against the difference shown.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_SOLVER_MEASURE_H
#define SH_SOLVER_MEASURE_H

#include "encoders/encoder.h"
#include "metrics/metrics.h"
#include "solver/plan.h"
#include "solver/sample.h"

typedef struct ShMeasure {
    double crf;
    double bps;               /* video bits per second of the sample's encode */
    ShQuality q;              /* luma SSIM and PSNR at the evaluation size */
    double tssim;             /* SSIM of frame differences (metrics/temporal.h) */
    /* The encode's wall time (the encoder's sessions' opening left out: a
     * film's encode opens once) and the frames it encoded: its speed, when
     * nothing else ran beside it (the solver's time-aware choice). */
    double enc_seconds;
    int64_t enc_frames;
    /* Inside the faces the sample's track found (ShSample.faces): luma SSIM
     * and PSNR over the regions of the frames that have any, the regions of
     * a frame weighted by their area. face_frames = 0: none scored. */
    ShQuality face;
    int64_t face_frames;
} ShMeasure;

/* fast: the quick preset (the search); else the final encode's preset (calibration).
 * roi > 0: the sample's face regions go to the encoder with that strength
 * (sh_face_regions_attach). */
int sh_measure_candidate(const ShSample *s, const ShEncoderDesc *enc, const ShRung *rung,
                         double crf, int fast, double roi, ShMeasure *m);

#endif
