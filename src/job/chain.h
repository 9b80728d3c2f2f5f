/*
 * A chain of stages run frame by frame: what the decode pass pushes each
 * decoded frame through (fps, scale; resample for audio) on its way to the
 * caches and the encoders.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_JOB_CHAIN_H
#define SH_JOB_CHAIN_H

#include <libavutil/frame.h>

#include "stages/stage.h"

/* Takes each frame out of the chain; NULL once, at the end of the stream.
 * The frame is unreferenced after the call (move it to keep it). */
typedef int (*ShFrameSink)(void *opaque, AVFrame *f);

/*
 * Push in (NULL: the end of the stream) through chain[0..n-1] and hand
 * every frame out of the last stage to sink. tmp is the caller's scratch
 * frame. A stage's failure is logged once, naming file; errors (the
 * stage's or the sink's) are returned.
 */
int sh_chain_run(ShStage **chain, int n, const AVFrame *in, AVFrame *tmp, const char *file,
                 ShFrameSink sink, void *opaque);

#endif
