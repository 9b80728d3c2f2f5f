/*
 * The input's picture stages (deinterlace, tone map): between the decoder
 * and every reader of the input, so the job, the solver's samples and the
 * --report reference all see the same pictures. Private to src/input.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_INPUT_PREP_H
#define SH_INPUT_PREP_H

#include "input/input.h"

typedef struct ShPrep ShPrep;

/* Decide from the probed stream (tone mapping now, deinterlacing at the
 * first frame) and fill the info's picture fields. */
int  sh_prep_open(ShPrep **p, ShInputInfo *info, int hdr, int deint);
/* sh_input_read through the stages. */
int  sh_prep_read(ShPrep *p, ShInput *in, AVFrame *frame, enum AVMediaType *type);
/* After a seek: drop the frames the stages hold. */
int  sh_prep_reset(ShPrep *p);
void sh_prep_free(ShPrep **p);

/* input.c: the decoder's frames, before the stages. */
int  sh_input_read_raw(ShInput *in, AVFrame *frame, enum AVMediaType *type);

#endif
