/*
 * Encoders whose size is not a bitrate (SH_ENC_CAP_PALETTE, GIF): the
 * solver chooses the picture, the rate and the encoder's knobs (colours,
 * palette, dither, lossiness) from samples, decodes the film once, encodes
 * it through the encoder and the muxer and corrects from the bytes
 * measured (solver/gif_search.c, solver/gif_fit.c).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_SOLVER_PALETTE_H
#define SH_SOLVER_PALETTE_H

#include <stdint.h>

#include <libavutil/rational.h>

#include "encoders/encoder.h"
#include "input/input.h"
#include "shrink/shrink.h"

/*
 * The job hands over the opened input and the target; the result is one
 * registered temporary file beside the output, which the job verifies and
 * renames.
 */
typedef struct ShPaletteJob {
    /* in */
    const char *input;            /* for messages */
    ShInput *in;                  /* opened, audio track and range set, nothing read */
    const ShInputInfo *info;
    const ShOptions *opt;         /* constraints (height, fps, ...) and plan_only */
    const char *output;           /* destination: temporary files go beside it */
    int64_t target_bytes;
    int (*interrupted)(void);     /* nonzero: unwind with SH_ERROR_INTERRUPTED */
    /* out */
    char path[4096];              /* the temporary file with the result, registered */
    int64_t bytes;
    int width, height;
    AVRational fps;               /* the frame rate frames were dropped to */
    double duration;              /* seconds, what the output must last */
    int attempts;                 /* whole-film encodes */
    int64_t min_bytes;            /* with SH_ERROR_TARGET_TOO_SMALL: a size that works */
    int output_failed;            /* the failure was writing the output */
    /* the search, for --plan and --json */
    int sample_encodes;
    double sample_seconds;
    int eval_width, eval_height;
    double predicted_ssim;        /* 0: unknown */
    /* faces (gif/faces.c), for the JSON's roi: looks on the decode pass
     * (-1: none made), looks that found one, their regions' mean share of
     * the picture, the detector's seconds; roi_outside > 0: the palettes
     * weighed the faces 255 and the rest this; why or why not */
    int roi_looks, roi_faces;
    double roi_share, roi_seconds;
    int roi_outside;
    char roi_reason[160];
} ShPaletteJob;

/* Fit the target with enc (SH_ENC_CAP_PALETTE). Returns 0, or
 * SH_ERROR_TARGET_TOO_SMALL with min_bytes, or another AVERROR. */
int sh_palette_fit(const ShEncoderDesc *enc, ShPaletteJob *job);

#endif
