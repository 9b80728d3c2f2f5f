/*
 * Faces over a film: the detector run on a small gray copy of a frame every
 * `interval` seconds of it, the faces held until the next look (and one look
 * longer when the detector misses a face it had: HOG drops faces turned a
 * little, and a region that blinks off for a second shows as a face that
 * blurs for a second). Regions are the faces with a margin (hair, chin, the
 * motion until the next look), as fractions of the frame in its coded
 * orientation, so they fit the frame at any size it is scaled to.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_FACES_TRACK_H
#define SH_FACES_TRACK_H

#include <stdint.h>

#include <libavutil/frame.h>
#include <libavutil/rational.h>

#define SH_FACES_MAX 6

typedef struct ShFaceRegion {
    float x0, y0, x1, y1;     /* fractions of the frame's width and height, x0 < x1, y0 < y1 */
} ShFaceRegion;

typedef struct ShFaceTrackStats {
    int64_t frames;           /* frames seen */
    int looks;                /* detections run */
    int looks_with_faces;
    double share_sum;         /* over the looks: the regions' share of the picture (overlaps counted once) */
    double seconds;           /* wall time in the detector and the small copy */
} ShFaceTrackStats;

typedef struct ShFaceTrack ShFaceTrack;

/*
 * tb: the frames' time base; rotation: the display's clockwise rotation (0,
 * 90, 180, 270: faces are looked for upright). AVERROR(ENOSYS): no detector.
 */
int sh_face_track_open(ShFaceTrack **t, AVRational tb, double interval, int rotation);

/* A frame, in presentation order (any format libswscale reads): looked at
 * when `interval` has passed since the last look, or now when now != 0 (a
 * cut: the first frame of a sample's segment). */
int sh_face_track_frame(ShFaceTrack *t, const AVFrame *f, int now);

/* No faces from pts on until the next look (a cut to a place not looked at). */
int sh_face_track_clear(ShFaceTrack *t, int64_t pts);

/* Keep the looks under this share of the wall time since `since` (sh_now()
 * terms; 0: no bound) once min_looks are made: a due look waits while they
 * are over it. */
void sh_face_track_set_budget(ShFaceTrack *t, double share, double since, int min_looks);

/* The regions on at pts (the last look at or before it): their number, at most max. */
int sh_face_track_at(const ShFaceTrack *t, int64_t pts, ShFaceRegion *out, int max);

/* The share of the picture the regions cover: 0..1. */
double sh_face_regions_share(const ShFaceRegion *r, int n);

/*
 * The regions as AV_FRAME_DATA_REGIONS_OF_INTEREST on f (any earlier set
 * replaced): quality offset -strength, on libavcodec's scale (-1..1: libx264
 * and libx265 multiply it by 51 quantiser steps). n = 0 removes them.
 */
int sh_face_regions_attach(AVFrame *f, const ShFaceRegion *r, int n, double strength);

const ShFaceTrackStats *sh_face_track_stats(const ShFaceTrack *t);

void sh_face_track_free(ShFaceTrack **t);

#endif
