/*
 * Samples: a few short segments spread over the input, decoded by seeking,
 * kept as frames to encode candidates from and as luma references to score
 * them against. Segments are joined on one timeline (each follows the last),
 * so a sample plays like a short clip.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_SOLVER_SAMPLE_H
#define SH_SOLVER_SAMPLE_H

#include "input/cache.h"
#include "input/input.h"

typedef struct ShSample {
    ShFrameCache *master;     /* yuv420p, square pixels, the source's display height (<= 1080) */
    ShFrameCache *ref;        /* gray8 at the evaluation size (display, at most 720 high), counted frames only */
    int master_w, master_h;
    int eval_w, eval_h;
    AVRational time_base;     /* of both caches' pts */
    int64_t end_pts;          /* end of the sample timeline */
    double seconds;           /* counted time: the segments without their warm-ups */
    int segments;
    /* Each segment begins with a warm-up the encoder sees but nobody counts:
     * a short clip's first frames cost far more than the same frames inside
     * the film (a keyframe, no references, an empty lookahead). */
    int64_t seg_start[8];     /* warm-up begins, on the sample timeline */
    int64_t seg_measure[8];   /* counting begins */
    int64_t seg_end[8];
    int64_t source_frames;    /* decoded to make it (seeking decodes some extra) */
    /* How much harder the counted stretches are than the whole film, by the
     * source's own bitrate there (1: as hard; unknown is 1). Rates measured
     * on the sample are divided by it. */
    double difficulty;
    /* Polled at every frame of a sample encode: nonzero stops it with
     * SH_ERROR_INTERRUPTED (Ctrl-C during the search). NULL: never. */
    int (*interrupted)(void);
    /* The faces on the sample's timeline (solver/roi.c), or NULL: scored
     * apart by every measurement, and handed to encoders that take regions. */
    struct ShFaceTrack *faces;
} ShSample;

/*
 * Decode about `fraction` of the input's frames (at least min_frames, at most
 * max_frames) from `segments` places between start and start+duration seconds.
 */
int sh_sample_collect(ShSample **s, const char *path, const ShInputInfo *info, double start,
                      double duration, double fraction, int min_frames, int max_frames);
void sh_sample_free(ShSample **s);

#endif
