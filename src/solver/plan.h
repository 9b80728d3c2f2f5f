/*
 * The plan: everything the encode needs, chosen before it starts.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_SOLVER_PLAN_H
#define SH_SOLVER_PLAN_H

#include <stdint.h>

#include "encoders/encoder.h"
#include "input/input.h"

/* Below this many bits per pixel x264 starves; the rule shrinks the picture instead. */
#define SH_PLAN_MIN_BPP 0.06
/* The smallest picture and frame rate this solver goes to. */
#define SH_PLAN_MIN_HEIGHT 36
#define SH_PLAN_MIN_FPS 1.0

typedef struct ShAudioBudget {
    int bitrate;              /* bits per second; 0 = no audio */
    int channels;
    int frame_ms;
} ShAudioBudget;

/* A picture size and frame rate. */
typedef struct ShRung {
    int width, height;           /* coded, even */
    AVRational fps;
} ShRung;

typedef struct ShSolverOptions {
    int64_t target_bytes;
    int no_audio;
} ShSolverOptions;

typedef struct ShPlan {
    const ShEncoderDesc *venc;
    const ShEncoderDesc *aenc;   /* NULL: no audio */
    const char *container;       /* libavformat muxer name */
    int width, height;           /* coded, even */
    int display_height;
    AVRational fps;              /* output rate (frames are dropped to it) */
    double bpp;                  /* bits per pixel the rule predicts */
    int at_floor;                /* smallest picture and rate, still starved */
    ShRung floor;                /* the smallest picture and rate this solver makes */
    ShAudioBudget audio;
    int audio_rate;              /* Hz */
    int64_t video_bitrate;       /* first estimate; the job refines it */
    int64_t overhead_bytes;      /* container estimate */
    double duration;             /* seconds, from the probe */
    int64_t target_bytes;
} ShPlan;

/*
 * Audio's share of a total rate (bits per second). Opus from 6 kb/s (libopus
 * falls silent near 2 kb/s and bottoms out near 4.5) to 64 kb/s per channel
 * and 128 kb/s in all; mono below
 * 24 kb/s; long frames at low rates. Stripped (bitrate 0) when audio would
 * take more than a third of the total: below that the picture needs every bit.
 */
void sh_budget_audio(double total_bps, int src_channels, ShAudioBudget *out);

/* MP4 container bytes for this many video frames and audio packets. */
int64_t sh_budget_overhead(int64_t video_frames, int64_t audio_packets);

/* The rule of the core issue: pick picture size and frame rate by bits per pixel. */
int sh_solver_plan(ShPlan *plan, const ShInputInfo *info, const ShSolverOptions *opt);

#endif
