/*
 * The plan: everything the encode needs, chosen before it starts.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_SOLVER_PLAN_H
#define SH_SOLVER_PLAN_H

#include <stdint.h>

#include "encoders/encoder.h"
#include "shrink/shrink.h"
#include "input/input.h"

/* Below this many bits per pixel x264 starves; the rule shrinks the picture instead. */
#define SH_PLAN_MIN_BPP 0.06
/* The largest picture the solver chooses by itself: a phone's 1080x2280 fits. */
#define SH_PLAN_MAX_PIXELS (1080 * 2300)
/* The smallest picture and frame rate this solver goes to. */
#define SH_PLAN_MIN_HEIGHT 36
#define SH_PLAN_MIN_FPS 1.0
/* The search goes lower: one frame every few seconds. */
#define SH_SOLVER_MIN_FPS 0.2
/* ... and up to the source's own rate, at most about 60 fps (a 59.94 source keeps its rate). */
#define SH_SOLVER_MAX_FPS 60.5
/* The extreme range (a film in a few KB): when nothing above is affordable
 * the rule goes on down to pictures 16 px high (or the encoder's smallest)
 * and one frame a minute; that is also the floor. A frame there costs
 * about this many bits of headers before any picture (x264 at QP 51:
 * slice header, NAL and MP4 length fields; measured in docs/ENCODERS.md). */
#define SH_PLAN_FLOOR_HEIGHT 16
#define SH_PLAN_FLOOR_FPS_DEN 60
#define SH_PLAN_FRAME_BITS 128

typedef struct ShAudioBudget {
    int bitrate;              /* bits per second; 0 = no audio */
    int channels;
    int frame_ms;
    int kind;                 /* ShAudioKind (metrics/audiokind.h): what it was budgeted as, kept or not */
} ShAudioBudget;

/* A picture size and frame rate. */
typedef struct ShRung {
    int width, height;           /* coded, even */
    AVRational fps;
} ShRung;

typedef struct ShSolverOptions {
    int64_t target_bytes;
    const char *container;    /* libavformat muxer name; NULL: mp4 */
    const char *codec;        /* an encoder's name; NULL: the solver picks */
    int speed;                /* ShSpeed */
    int no_audio;
    /* constraints (0: free) */
    int height;               /* exact display height */
    int max_height;
    double fps;               /* exact frame rate */
    double min_fps;
    int audio_bitrate;        /* bits per second */
    int audio_kind;           /* ShAudioKind: what the sound is (input/listen.h); 0: not measured */
    double start;             /* seconds into the input where the output starts */
    int no_search;            /* the rule alone: no sampling */
    int64_t fixed_bytes;      /* kept before audio and video: subtitles, chapters, title */
    int (*interrupted)(void); /* nonzero: stop the search, SH_ERROR_INTERRUPTED (NULL: never) */
    /* Time as part of the choice (long inputs): one decode of the film,
     * measured, and the wall time the whole job should take, search
     * included (0: time is not weighed). */
    double decode_seconds;
    double time_budget;
    int roi;                  /* ShRoi */
} ShSolverOptions;

/*
 * What a rung is scored by, each in dB: the objective (spatial and temporal
 * fidelity together, metrics/temporal.h), and beside it luma SSIM, SSIM of
 * frame differences and PSNR.
 */
enum { SH_Q_SCORE, SH_Q_SSIM, SH_Q_TSSIM, SH_Q_PSNR, SH_Q_N };

/* One point of the search: a rung measured on the sample. */
typedef struct ShCandidate {
    const ShEncoderDesc *enc;
    ShRung rung;
    double video_bps;         /* what the budget leaves this rung's video */
    int nmeasures;
    double crf[2], bps[2];
    double q[2][SH_Q_N];      /* measured on the sample */
    int feasible;             /* can reach the budget (x264's quantiser range) */
    double pred[SH_Q_N];      /* predicted at video_bps */
    double time_cost_db;      /* what a slower encoder must win by to be chosen (--speed) */
    /* Measured again with the final encode's preset (the best rung of each
     * encoder), moved to video_bps; calibrated = 0: not. */
    int calibrated;
    double cal[SH_Q_N];
    /* The time-aware choice (timing.c): seconds a frame with the final
     * [0] and the quick [1] preset, each measured with nothing beside it
     * (0: not measured); the quality with the quick preset at video_bps;
     * the job's predicted wall time with each preset. */
    double spf[2];
    int quick_measured;
    double quick[SH_Q_N];
    double seconds[2];
    /* Faces (roi.c): SSIM dB inside them at video_bps with the final preset,
     * without regions [0] and with them [1] at roi_strength; roi_cal: the
     * whole picture with them. 0: not measured. */
    double face_db[2];
    double roi_cal[SH_Q_N];
    double roi_strength;
} ShCandidate;

/* As many as the public result can carry. */
#define SH_SOLVER_MAX_CANDIDATES SH_MAX_CANDIDATES

/* What the solver did, for --plan and --json. */
typedef struct ShSolverReport {
    int searched;             /* 0: the rule alone decided */
    int ncandidates;
    ShCandidate cand[SH_SOLVER_MAX_CANDIDATES];
    int chosen;               /* index into cand, -1 for none */
    int eval_width, eval_height;
    double sample_seconds;    /* counted length of the samples */
    double difficulty;        /* the samples' source bitrate over the film's */
    int64_t sample_frames;
    int encodes;              /* sample encodes run */
    double seconds;           /* wall time of the search */
    double sampling_seconds;  /* of which decoding the samples */
    double calibration_seconds; /* and measuring the winner with the final preset */
    double predicted_ssim, predicted_tssim, predicted_psnr;  /* for the final encode, calibrated */
    double expected_seconds;  /* the job's predicted wall time (0: not predicted) */
    double time_budget;       /* what it was chosen against (0: time not weighed) */
    int quick_preset;         /* the chosen encoder's quick preset, to fit the time */
    /* Faces on the samples (roi.c): looks (-1: none made), looks that found
     * one, their regions' mean share of the picture, the detector's time;
     * the chosen candidate's face and whole-picture scores at the budget
     * without [0] and with [1] regions; why regions are on or off. */
    int roi_looks, roi_faces;
    double roi_share, roi_seconds;
    double roi_face_db[2], roi_score_db[2];
    char roi_reason[160];
} ShSolverReport;

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
    const ShEncoderDesc *floor_venc; /* ... and its encoder: the rule's, whichever the search
                                      * chooses, so that the smallest size reported for a
                                      * target works when given as the target */
    ShAudioBudget audio;
    int audio_rate;              /* Hz */
    int64_t video_bitrate;       /* first estimate; the job refines it */
    int64_t overhead_bytes;      /* container estimate */
    int64_t fixed_bytes;         /* ShSolverOptions.fixed_bytes */
    double duration;             /* seconds, from the probe */
    int64_t target_bytes;
    int fast_preset;             /* the encoder's quick preset for every encode (the time budget) */
    double roi_strength;         /* > 0: face regions go to the encoder at this quality offset */
} ShPlan;

/*
 * Audio's share of a total rate (bits per second). Opus from 6 kb/s (libopus
 * falls silent near 2 kb/s and bottoms out near 4.5) to 64 kb/s per channel
 * and 128 kb/s in all; mono below
 * 24 kb/s; long frames at low rates. Stripped (bitrate 0) when audio would
 * take more than a third of the total: below that the picture needs every bit.
 */
void sh_budget_audio(double total_bps, int src_channels, ShAudioBudget *out);

/*
 * The same by what the sound is (ShAudioKind; docs/SOLVER.md, "Audio's
 * share"): speech is kept, mono at the 6 kb/s floor, while the picture keeps
 * at least as much (audio up to half the total), and is encoded in Opus's
 * voice mode; silence costs less than its bitrate (sh_budget_audio_cost) and
 * is kept while that is at most audio's usual share (12%), dropped below;
 * music and UNKNOWN as sh_budget_audio.
 */
void sh_budget_audio_kind(double total_bps, int src_channels, int kind, ShAudioBudget *out);

/* What a budget's audio is expected to cost, bits per second (silence: less than its bitrate). */
double sh_budget_audio_cost(const ShAudioBudget *b);

/* Audio at a bitrate the user chose (at least 6 kb/s); channels and frames as above. */
void sh_budget_audio_fixed(int bitrate, int src_channels, ShAudioBudget *out);

/* Allowed display heights, largest first, and frame rates, fastest first. */
int sh_plan_heights(const ShInputInfo *info, const ShSolverOptions *opt, int *out, int max);
int sh_plan_rates(const ShInputInfo *info, const ShSolverOptions *opt, double min_fps, double max_fps,
                  AVRational *out, int max);

/* MP4 container bytes for this many video frames and audio packets. */
int64_t sh_budget_overhead(int64_t video_frames, int64_t audio_packets);

/*
 * The rule: picture size and frame rate by bits per pixel. The search's
 * prior and its fallback, and the whole plan with no_search.
 */
int sh_plan_rule(ShPlan *plan, const ShInputInfo *info, const ShSolverOptions *opt);

/* Video bits per second the target leaves at a frame rate, after audio and container. */
double sh_plan_video_bps(const ShPlan *plan, double fps);

/*
 * The solver: sample the input, measure candidate rungs, pick the best
 * predicted quality at the budget. path is opened again for the samples.
 * rep may be NULL.
 */
int sh_solver_plan(ShPlan *plan, const char *path, const ShInputInfo *info,
                   const ShSolverOptions *opt, ShSolverReport *rep);

#endif
