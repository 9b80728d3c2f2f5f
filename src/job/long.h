/*
 * Long inputs: the film in stretches of about a minute under one budget,
 * decoded once and joined (long.c; docs/LONG.md).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_JOB_LONG_H
#define SH_JOB_LONG_H

#include "job/state.h"

/* A film from this long is encoded in stretches (when its encoder's chunks join). */
#define SH_LONG_MIN_SECONDS 600
#define SH_LONG_STRETCH_SECONDS 60
/* At most this many (each a temporary file until the join: common/temp.c's slots). */
#define SH_LONG_MAX_STRETCHES 200
/* The time budget, in decodes of the film: over it, the encoder's quick preset. */
#define SH_LONG_TIME_BUDGET 3.0
#define SH_LONG_TIME_FAST 1.5
/* Shorter than this (a big picture on a small temporary disk), fewer frames (x264's
 * keyframe interval), or a slower video: the whole-film path. */
#define SH_LONG_MIN_STRETCH 15
#define SH_LONG_MIN_FRAMES 250
#define SH_LONG_MIN_BITRATE 16000

/* Whether the planned job is encoded in stretches. */
int sh_job_long_wanted(const Job *j);

/*
 * The decode pass and the stretches' encodes in one, then the join into a
 * new temporary file beside the output (best->path; its bytes, video bytes
 * and mean bitrate). The job verifies and renames it.
 */
int sh_job_encode_long(Job *j, Attempt *best, int *attempts);

#endif
