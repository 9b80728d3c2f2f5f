/*
 * The learned codec's file read like any output (docs/NEURAL.md): for the
 * readers that measure and show an output (job/report.c, show/sheet.c),
 * which otherwise open files through src/input/, where a .shn is not a
 * format libavformat knows.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_NEURAL_READER_H
#define SH_NEURAL_READER_H

#include <libavutil/frame.h>

#include "input/input.h"

typedef struct ShNnReader ShNnReader;

/* 1 and *r when path is a neural file (by its magic), 0 when it is not one
 * (*r NULL: open it as any other), or a negative error (logged, naming it). */
int sh_nn_reader_open(ShNnReader **r, const char *path);
/* What the file is, as an input would say: picture, rate, time base 1/fps, no audio. */
const ShInputInfo *sh_nn_reader_info(const ShNnReader *r);
/* The next frame (pts: its index, in 1/fps), AVERROR_EOF after the last. */
int sh_nn_reader_read(ShNnReader *r, AVFrame *f);
/* Continue from about pts (as sh_input_seek: earlier frames are never skipped past). */
void sh_nn_reader_seek(ShNnReader *r, int64_t pts);
void sh_nn_reader_free(ShNnReader **r);

#endif
