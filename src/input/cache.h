/*
 * The frame cache: the downscaled, frame-dropped pictures of one decode,
 * read back for every encoder pass so the source is decoded once. Frames
 * live in memory up to a bound, then in an unnamed temporary file.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_INPUT_CACHE_H
#define SH_INPUT_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include <libavutil/error.h>
#include <libavutil/frame.h>

typedef struct ShFrameCache ShFrameCache;

int  sh_frame_cache_open(ShFrameCache **c, int width, int height, enum AVPixelFormat fmt, size_t mem_limit);

/* sh_frame_cache_put() when the spill would pass its bound, in the REFUSE mode. */
#define SH_ERROR_CACHE_FULL FFERRTAG('S', 'H', 'C', 'F')
enum ShCacheFull {
    SH_CACHE_FULL_REFUSE,   /* put fails with SH_ERROR_CACHE_FULL; what is stored stays */
    SH_CACHE_FULL_DROP,     /* the pictures are dropped, the pts still counted: an index */
};
/*
 * Bound the spill to disk_limit bytes (0: nothing on disk; the default is no
 * bound). In the DROP mode a full disk (ENOSPC, EDQUOT) drops the pictures
 * too: whoever reads them decodes the source again (job/source.h).
 */
void sh_frame_cache_set_disk_limit(ShFrameCache *c, int64_t disk_limit, enum ShCacheFull mode);
/* 0 once the pictures were dropped (an index of pts only). */
int  sh_frame_cache_has_pictures(const ShFrameCache *c);
/* Bytes of one stored picture. */
size_t sh_frame_cache_frame_bytes(const ShFrameCache *c);
/* Store a copy of the picture and its pts. Frames must come in pts order. */
int  sh_frame_cache_put(ShFrameCache *c, const AVFrame *f);
int  sh_frame_cache_rewind(ShFrameCache *c);
/* The next frame: a new buffer in out (pts set). AVERROR_EOF after the last. */
int  sh_frame_cache_get(ShFrameCache *c, AVFrame *out);
/* Done writing: after this, sh_frame_cache_read() may be called from any
 * number of threads at once (no put, rewind or get meanwhile). */
int  sh_frame_cache_seal(ShFrameCache *c);
/* Frame i (from 0) into a new buffer in out, or AVERROR_EOF past the last:
 * no cursor, so readers on other threads do not disturb each other. */
int  sh_frame_cache_read(const ShFrameCache *c, int64_t i, AVFrame *out);
int64_t sh_frame_cache_count(const ShFrameCache *c);
/* pts of frame i, in the order stored. */
int64_t sh_frame_cache_pts(const ShFrameCache *c, int64_t i);
/* Index of the frame with this pts, or -1. */
int64_t sh_frame_cache_find(const ShFrameCache *c, int64_t pts);
void sh_frame_cache_free(ShFrameCache **c);

#endif
