/*
 * The learned codec's entropy coder: an adaptive binary range coder (the
 * LZMA kind: 12-bit probabilities that follow what they code), and the
 * binarisation of the model's integers (docs/NEURAL.md, "Bitstream").
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_NEURAL_CODER_H
#define SH_NEURAL_CODER_H

#include <stddef.h>
#include <stdint.h>

#include "neural/model.h"

typedef struct ShRangeEnc {
    uint8_t *buf;             /* NULL: only count */
    size_t cap, pos;          /* pos counts bytes even past cap (then the caller's buffer was short) */
    uint64_t low;
    uint32_t range;
    uint8_t cache;
    uint64_t cache_size;
} ShRangeEnc;

typedef struct ShRangeDec {
    const uint8_t *buf;
    size_t size, pos;         /* reads past the end give zeros */
    uint32_t range, code;
} ShRangeDec;

void sh_range_enc_init(ShRangeEnc *e, uint8_t *buf, size_t cap);
void sh_range_enc_bit(ShRangeEnc *e, uint16_t *p, int bit);
/* Flush: returns the bytes written in all (compare with cap). */
size_t sh_range_enc_finish(ShRangeEnc *e);
void sh_range_dec_init(ShRangeDec *d, const uint8_t *buf, size_t size);
int sh_range_dec_bit(ShRangeDec *d, uint16_t *p);

/*
 * The model's integers (latents already integer in grid[].v, weights and
 * biases as round(w / wstep)) into buf: bytes needed (more than cap: the
 * buffer was short, nothing usable). buf NULL: only counted.
 */
size_t sh_nn_pack(const ShNnModel *m, uint8_t *buf, size_t cap);
/* The reverse into a model whose shape is set and allocated: the latents
 * as integers, the weights times wstep. Hostile data decodes to some
 * model, never past its arrays. */
void sh_nn_unpack(ShNnModel *m, const uint8_t *buf, size_t size);

#endif
