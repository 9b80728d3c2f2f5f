/*
 * The learned codec's decoder: plain C, no ML library (docs/NEURAL.md).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_NEURAL_DECODE_H
#define SH_NEURAL_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include <libavutil/frame.h>

#include "neural/file.h"

typedef struct ShNnDecoder ShNnDecoder;

/* A whole file in memory (copied). AVERROR_INVALIDDATA with why for one
 * that is not a neural file or is damaged. threads: for rendering (>= 1). */
int sh_nn_decoder_open(ShNnDecoder **d, const uint8_t *buf, size_t size, int threads, char *why, size_t why_len);
const ShNnHeader *sh_nn_decoder_header(const ShNnDecoder *d);
/* Frame i (< frames) as yuv420p, limited range, tagged with the film's
 * colour; pts i in 1/fps. f is unreferenced first. */
int sh_nn_decoder_frame(ShNnDecoder *d, uint32_t i, AVFrame *f);
void sh_nn_decoder_free(ShNnDecoder **d);

#endif
