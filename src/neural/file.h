/*
 * The learned codec's file (docs/NEURAL.md, "File"): a header that says the
 * model's shape, the picture and the timing, then the range-coded payload.
 * Everything little-endian; nothing else in the file.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_NEURAL_FILE_H
#define SH_NEURAL_FILE_H

#include <stddef.h>
#include <stdint.h>

#include <libavutil/pixfmt.h>
#include <libavutil/rational.h>

#include "neural/model.h"

#define SH_NN_MAGIC "SHNN"
#define SH_NN_VERSION 1
/* What a decoder accepts, so a hostile header cannot ask for a huge model. */
#define SH_NN_MAX_SIDE 4096
#define SH_NN_MAX_LATENTS (1 << 26)
#define SH_NN_MAX_FRAMES (48 * 3600 * 60)

typedef struct ShNnHeader {
    ShNnModel model;          /* its shape (no arrays) */
    AVRational fps;           /* frames are rendered at i / fps, i < frames */
    uint32_t frames;
    uint8_t matrix, primaries, transfer;  /* AVColorSpace, AVColorPrimaries, AVColorTransferCharacteristic */
    uint32_t payload;         /* bytes after the header */
} ShNnHeader;

/* Bytes of the header for this model's shape. */
size_t sh_nn_header_size(const ShNnModel *m);
/* Write the header (sh_nn_header_size bytes) into buf. */
void sh_nn_header_write(const ShNnHeader *h, uint8_t *buf);
/*
 * Parse and check a header at the start of buf (size bytes, the whole
 * file). On success h->model has its shape and grid dims (no arrays), and
 * *payload points into buf. Returns AVERROR_INVALIDDATA with why filled
 * for a file that is not one or is damaged.
 */
int sh_nn_header_read(ShNnHeader *h, const uint8_t *buf, size_t size, const uint8_t **payload,
                      char *why, size_t why_len);

#endif
