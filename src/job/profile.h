/*
 * What the long job (long.c) learns of the source before its decode pass:
 * its own video bytes over time, read from the demuxer without decoding
 * (where the budget goes), and the time one decode of the whole film takes
 * (the unit of its time budget).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_JOB_PROFILE_H
#define SH_JOB_PROFILE_H

#include <stdint.h>

#include "input/input.h"

typedef struct ShSourceProfile {
    double *sec_bytes;        /* the source's video bytes in each second from the origin */
    int nsec;
    double decode_seconds;    /* one decode of the film, measured on a part of it (0: unknown) */
} ShSourceProfile;

/* The video bytes in each second of path from origin (video_tb), over info's duration. */
int sh_profile_scan(ShSourceProfile *p, const char *path, const ShInputInfo *info, int64_t origin);
/* Decode SH_PROFILE_DECODE_SECONDS from 40% into the film (start: the trim's), timed. */
int sh_profile_decode_time(ShSourceProfile *p, const char *path, const ShInputInfo *info, double start);
/*
 * The share of a stretch [a, b) seconds: seconds x (bytes per second)^0.6,
 * what x264's two-pass gives a stretch of that complexity over a whole film
 * (qcomp 0.6: bits ~ complexity^0.6; chunk/plan.c weighs scale-out's chunks so).
 */
double sh_profile_weight(const ShSourceProfile *p, double a, double b);
void sh_profile_uninit(ShSourceProfile *p);

#endif
