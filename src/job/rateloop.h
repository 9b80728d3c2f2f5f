/*
 * The rate-correction loop's decisions, apart from the encodes: given the
 * attempts so far and the target, the next bitrate to try or why to stop.
 * Pure (no I/O, no state): target.c runs the encodes, tests/unit/test_rateloop.c
 * drives it with model encoders.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_JOB_RATELOOP_H
#define SH_JOB_RATELOOP_H

#include <stdint.h>

/* Encodes at most, and the band a result is accepted in. */
#define SH_RATE_MAX_ATTEMPTS 6
#define SH_RATE_AIM 0.985
/* A one-pass encoder's first encode after its probe: the probe predicts its
 * size within about 2%, so aim at the middle of the band. */
#define SH_RATE_AIM_PROBED 0.98
#define SH_RATE_ACCEPT_LOW 0.96

/* One encode's outcome. */
typedef struct ShRateAttempt {
    int64_t bitrate;         /* asked for, bits per second */
    int64_t bytes;           /* the file */
    int64_t video_bytes;     /* its video packets */
} ShRateAttempt;

typedef struct ShRateGoal {
    int64_t target_bytes;    /* the file's ceiling */
    int64_t max_bitrate;     /* the encoder's largest (0: none) */
    double duration;         /* seconds of video */
    int64_t fixed_bytes;     /* before the first encode: audio (exact) and container (estimated) */
    int probed;              /* a one-pass encoder measured by a probe encode ... */
    double drift;            /* ... which made drift times its bitrate's bytes */
} ShRateGoal;

typedef enum ShRateStop {
    SH_RATE_GO = 0,          /* encode at the bitrate returned */
    SH_RATE_ACCEPTED,        /* the best is in the band under the target */
    SH_RATE_ENCODER_MAX,     /* the last attempt was at the encoder's largest bitrate */
    SH_RATE_CLIFF,           /* a new rate gave a size seen before: nothing in between */
    SH_RATE_SATURATED,       /* much more rate, hardly more bytes: the content cannot use them */
    SH_RATE_FLOORED,         /* much less rate, hardly fewer bytes, still over: the encoder's
                              * smallest file at this picture is over the target */
    SH_RATE_EXHAUSTED,       /* SH_RATE_MAX_ATTEMPTS made */
    SH_RATE_NO_ROOM,         /* what is not video leaves the video nothing */
    SH_RATE_NARROW,          /* the bracket is too narrow, or the rate was tried already */
    SH_RATE_AT_MAX,          /* the next rate is the last one, clamped to the encoder's largest */
} ShRateStop;

/* The encoder's largest bitrate caps b (max_bitrate 0: no cap). */
int64_t sh_rate_clamp(const ShRateGoal *g, int64_t b);

/*
 * The first bitrate: what the target leaves the video after fixed_bytes,
 * over the duration, corrected by the probe's drift for a probed encoder.
 * Returns 0 and *bitrate, or SH_ERROR_TARGET_TOO_SMALL when nothing is left.
 */
int sh_rate_first(const ShRateGoal *g, int64_t *bitrate);

/* The best of n attempts: the largest file at most the target (the first
 * of equal ones). -1: none fits. */
int sh_rate_best(const ShRateAttempt *a, int n, int64_t target_bytes);

/*
 * After n >= 1 attempts (a[n - 1] the last): SH_RATE_GO with *next set, or
 * why the loop stops. Stopping with a best (sh_rate_best) is success; without
 * one the target was never met.
 */
ShRateStop sh_rate_next(const ShRateGoal *g, const ShRateAttempt *a, int n, int64_t *next);

/*
 * The bracketing step alone: the bitrate whose video bytes should be
 * goal_video, from the n attempts. 0: not worth another encode.
 */
int64_t sh_rate_bracket(const ShRateAttempt *a, int n, int64_t goal_video);

#endif
