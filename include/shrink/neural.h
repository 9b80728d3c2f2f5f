/*
 * shrink's learned codec, played back (docs/NEURAL.md).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SHRINK_NEURAL_H
#define SHRINK_NEURAL_H

#include <stdint.h>

#include "shrink/shrink.h"

typedef struct ShDecodeResult {
    int width, height;
    double fps;
    int64_t frames;
    double duration;          /* seconds: frames / fps */
    int64_t bytes;            /* of the file written */
    double seconds;           /* wall time of the decode (rendering and writing) */
    double render_seconds;    /* of it, the network's rendering alone */
    int input_error;          /* on failure: the input's fault (unreadable, not a neural file, damaged) */
} ShDecodeResult;

/*
 * Decode the learned codec's file `in` to `out`: a .y4m (raw 4:2:0, what
 * the decoder made, bit for bit) or an .mp4/.mkv/.mov (x264 at constant
 * quality 12: near-lossless against the decode, and it plays anywhere).
 * Through a temporary file and a rename; an existing out only with force,
 * never the input. Logs once; returns 0 or a negative AVERROR
 * (AVERROR_INVALIDDATA: not a neural file, or damaged; SH_ERROR_BAD_OPTION:
 * out's extension is none of those; r->input_error set when the input was
 * at fault).
 */
int sh_neural_decode_file(const char *in, const char *out, int force, ShDecodeResult *r);

#endif
