/*
 * --report: the output's quality against the source, measured the way the
 * solver predicts it (luma SSIM and PSNR at the display size capped at 720p,
 * every source frame against the output picture shown at that time; SSIM of
 * the frame differences, metrics/temporal.h).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_JOB_REPORT_H
#define SH_JOB_REPORT_H

#include "faces/track.h"
#include "input/input.h"
#include "metrics/metrics.h"

/*
 * Decode both files again. Source frames from start for duration seconds are
 * compared with the output from its beginning; the source's pictures as the
 * job's input delivered them (like: deinterlaced, tone-mapped), so a
 * tone-mapped output is measured against the tone-mapped source. Inside
 * the faces too (face_q; zeroed when none was scored): those of faces (the
 * source's pts), or when NULL and look, those found on the source now.
 * Returns 0 or a negative error.
 */
int sh_report_measure(const char *source, const ShInputInfo *like, const char *output, double start, double duration,
                      int eval_w, int eval_h, const ShFaceTrack *faces, int look, ShQuality *q, double *tssim,
                      ShQuality *face_q);

#endif
