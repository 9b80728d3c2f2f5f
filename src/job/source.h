/*
 * Where an encode pass gets its frames: the frame cache the decode pass
 * filled, or, when the cache would not fit the bound on temporary disk
 * (docs/ARCHITECTURE.md, "Disk"), the source decoded again through the same
 * input range and the same fps and scale stages. Both give the same frames
 * with the same pts; the re-decode checks that against the cache's index.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_JOB_SOURCE_H
#define SH_JOB_SOURCE_H

#include <stdint.h>

#include <libavutil/frame.h>

#include "input/cache.h"
#include "input/input.h"
#include "solver/plan.h"
#include "stages/stage.h"

typedef struct ShFrameSource ShFrameSource;

/* The decode pass's video chain: fps (drops first: dropped frames are never
 * scaled), then scale to the rung. The re-decode builds the same. */
int sh_video_chain_create(ShStage *chain[2], const ShInputInfo *info, const ShRung *rung,
                          enum AVPixelFormat pix_fmt);

/* Frames from a cache with its pictures (borrowed: freed by the caller, after the source). */
int sh_source_from_cache(ShFrameSource **s, ShFrameCache *c);

/*
 * Frames decoded again from path over [start, end) (as sh_input_set_range),
 * through sh_video_chain_create(rung, pix_fmt). index (borrowed) is the
 * decode pass's cache, pictures dropped or not: frame i must have its pts.
 */
int sh_source_redecode(ShFrameSource **s, const char *path, const ShInputInfo *like, double start, double end,
                       const ShRung *rung, enum AVPixelFormat pix_fmt, const ShFrameCache *index);

int sh_source_rewind(ShFrameSource *s);
/* The next frame into out (a new reference), AVERROR_EOF after the last. */
int sh_source_get(ShFrameSource *s, AVFrame *out);
int64_t sh_source_count(const ShFrameSource *s);
/* 1 when the frames are decoded again. */
int sh_source_is_redecode(const ShFrameSource *s);
void sh_source_free(ShFrameSource **s);

#endif
