/*
 * One job's state, shared by the files of src/job that run it (not public):
 *   job.c      the top level: plan then encode, the result
 *   plan.c     the plan step: the solver, or a plan given back (ShJobPlan)
 *   paths.c    the output's path, the temporary pass logs
 *   analyse.c  the decode pass: the audio, and the frame caches and pass 1 (through chain.c)
 *   long.c     long films: the decode pass into stretches, each encoded as it ends, joined
 *   attempt.c  one encode of a cache into a temporary file
 *   target.c   encodes until one fits the target (rateloop.c decides), the floor, the output
 *   smaller.c  when none fits at the plan's picture: the same frames at smaller ones
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_JOB_STATE_H
#define SH_JOB_STATE_H

#include <limits.h>
#include <stdint.h>

#include <libavcodec/codec_par.h>
#include <libavutil/frame.h>

#include "common/clock.h"
#include "encoders/encoder.h"
#include "input/cache.h"
#include "input/input.h"
#include "input/spool.h"
#include "job/disk.h"
#include "job/source.h"
#include "job/subs.h"
#include "output/format.h"
#include "shrink/shrink.h"
#include "solver/plan.h"

/* Frames kept in memory before the cache spills to a temporary file. */
#define SH_CACHE_MEM_LIMIT ((size_t)64 << 20)
/* Audio packets kept in memory (17 minutes at 128 kb/s) before they go to a file too. */
#define SH_AUDIO_MEM_LIMIT ((size_t)16 << 20)
/* Pass log files per encoder, at most (x264 and x265 write 4). */
#define SH_MAX_STATS_FILES 8
/* The decode pass's share of the job's progress; the encodes share the rest. */
#define SH_PROGRESS_ANALYSIS 0.4

typedef struct Attempt {
    int64_t bitrate;
    int64_t bytes;           /* file size */
    int64_t video_bytes;     /* sum of video packet sizes */
    char path[PATH_MAX];
} Attempt;

typedef struct Job {
    const ShOptions *opt;
    ShJobResult *res;
    const char *input;
    char output[PATH_MAX];
    const ShFormat *format;
    ShInput *in;
    const ShInputInfo *info;
    ShPlan plan;
    ShSolverReport search;
    ShRung rung;             /* the plan's picture and rate: what the cache holds */
    ShRung final_rung;       /* what the output has */
    int final_audio;
    int audio_fixed;         /* the audio bitrate was fixed (--audio-bitrate): the floor keeps the audio */
    int audio_kind;          /* ShAudioKind: what the sound is (sound.c; a given plan's) */
    int time_scale;          /* see sh_job_time_scale() */
    int64_t origin;          /* video_tb pts that becomes 0 in the output */
    int64_t end_pts;         /* video_tb: end of the last frame */
    double duration;         /* seconds, measured by decoding */
    ShFrameCache *cache;
    ShFrameCache *floor_cache; /* the floor picture and rate, from the source too */
    ShFrameSource *source, *floor_source;  /* what the encodes read: the caches, or a re-decode */
    ShDiskPlan disk;         /* the temporary disk's bound, and whether the cache fits it */
    int output_failed;       /* the failure was writing the output */
    int encoder_failed;      /* ... or an encoder's */
    ShPacketSpool *audio;    /* encoded audio, in the audio encoder's time base */
    int64_t pass1_bytes;     /* what the first pass made of the planned bitrate */
    int64_t smallest_over;   /* the smallest attempt over the target so far (0: none) */
    int keep_picture;        /* a given plan's picture: no smaller one is tried (smaller.c) */
    ShCrop crop;             /* the input's crop (crop.c), kept past the input's closing for the plan */
    AVCodecParameters *apar;
    AVRational atb;
    ShSubs *subs;            /* subtitle tracks, chapters, title kept (subs.h); NULL: none */
    char tmpdir[PATH_MAX];
    char stats[PATH_MAX];
    char stats_files[SH_MAX_STATS_FILES][PATH_MAX];
    int nstats_files;
    double t0, progress_last;  /* progress: when the job started, when last reported */
    const char *progress_stage;
    int progress_attempts;     /* encodes started, for the encode stage's share */
    int in_stretches;          /* long.c encodes as it decodes: progress is the position in the film */
    int fast_preset;           /* the encoder's quick preset for every encode (the time budget) */
    double decode_seconds;     /* one decode of the film, measured before the search (long films; 0: not) */
    double time_budget;        /* the job's wall time it is planned against (long films; 0: none) */
    struct ShFaceTrack *faces; /* the film's faces (faces.c), looked for in the decode pass; NULL: none */
    double roi_strength;       /* > 0: the regions go to the encoder at this offset */
} Job;

/* job.c */
/* SH_ERROR_INTERRUPTED once sh_job_interrupt() was called, else 0. */
int sh_job_check_interrupt(void);
/* Tell the caller how far the job is (at most ten times a second, and at each new stage). */
void sh_job_progress(Job *j, const char *stage, double fraction, int64_t bytes);

/* crop.c: the plan's crop (given), the user's or the bars found, set on j->in.
 * SH_ERROR_BAD_OPTION (logged) for a crop outside the picture. */
int sh_job_crop(Job *j, const ShJobPlan *given);

/* sound.c: what the sound track is (speech, music, silence) into j->audio_kind,
 * unless there is no audio to keep; a failure to listen is said and leaves
 * it unknown (the budget for music). Errors: ENOMEM, SH_ERROR_INTERRUPTED. */
int sh_job_listen(Job *j);
/* Why the output has or has not its audio: r->audio_kind, r->audio_reason. */
void sh_job_audio_reason(const Job *j, ShJobResult *r);

/* faces.c: the film's faces, when the plan gives them the bits (j->faces,
 * j->roi_strength); each decoded frame to the track; the regions on a frame
 * for the encoder; the result's roi fields. */
int sh_job_faces_open(Job *j);
int sh_job_faces_frame(Job *j, const AVFrame *decoded);
int sh_job_faces_attach(const Job *j, AVFrame *f);
void sh_job_faces_result(const Job *j, ShJobResult *r);

/* job.c: the output at path against the source, as the solver predicts it:
 * the result's measured_* and visually_lossless (a failure to measure is a
 * warning; ENOMEM and an interrupt are errors). */
int sh_job_measure_result(Job *j, const char *path);

/* neural.c: a whole-film encoder (SH_ENC_CAP_WHOLE_FILM) from the opened
 * input to the output in place; *phase follows where it is. */
int sh_job_whole_film(Job *j, const ShEncoderDesc *desc, Attempt *best, ShPhase *phase);

/* paths.c: the output's path and format from the options, refusals, room to write it. */
int sh_job_check_paths(Job *j);
/* The pass log and the files the encoder writes beside it, in a new temporary directory. */
int sh_job_stats_paths(Job *j);
void sh_job_remove_stats(Job *j);

/* analyse.c */
/* Decode the whole input once: the audio into j->audio (j->apar at the end), each
 * decoded video frame to video (NULL once at the end, after the audio is complete). */
int sh_job_decode_pass(Job *j, int (*video)(void *opaque, AVFrame *decoded, AVFrame *tmp), void *opaque);
/* The decode pass into the caches (pass 1 too when pass1). */
int sh_job_analyse(Job *j, int pass1);
/* After a decode pass that kept frames: refuse nothing or all damaged, warn of damage and
 * of a film cut short; j->end_pts and j->duration from what was decoded. */
int sh_job_decoded(Job *j, int64_t frames);

/* attempt.c */
/* The time scale an encoder that takes whole kb/s needs for a bitrate (1 for the others). */
int sh_job_time_scale(const Job *j, int64_t bitrate);
enum AVPixelFormat sh_job_video_pix_fmt(const Job *j);
enum AVPixelFormat sh_job_floor_pix_fmt(const Job *j);
/* pass 1 or 2 of a two-pass encoder (a one-pass encoder's probe for 1), 0 for one pass;
 * qp >= 0: constant quantiser. *too_low (may be NULL): refused as under its rate floor. */
int sh_job_open_video_encoder(Job *j, ShEncoder **enc, const ShRung *rung, int pass,
                              int64_t bitrate, int qp, int *too_low);
/* Log an encoder's failure once and mark the job's; returns the error to propagate. */
int sh_job_encoder_failed(Job *j, const ShEncoder *enc, int ret);
/* One complete encode of src into a new temporary file beside the output (at->path). */
int sh_job_attempt(Job *j, Attempt *at, ShFrameSource *src, const ShRung *rung, int audio,
                   int pass, int qp, int *too_low);
/* The same encode a frame at a time (long.c feeds it as the decode goes): open it (the
 * file's time 0 at origin, video_tb), send frames in pts order (moved from f), finish
 * (the last frame lasts to end_pts), free (failed: its file removed). */
typedef struct ShEncodeRun ShEncodeRun;
int sh_job_run_open(Job *j, ShEncodeRun **run, Attempt *at, const ShRung *rung, int audio, int pass, int qp,
                    int64_t origin, int *too_low);
int sh_job_run_send(Job *j, ShEncodeRun *run, AVFrame *f);
int64_t sh_job_run_video_bytes(const ShEncodeRun *run);
int sh_job_run_finish(Job *j, ShEncodeRun *run, Attempt *at, int64_t end_pts);
void sh_job_run_free(ShEncodeRun **run, Attempt *at, int failed);
void sh_job_log_attempt(const Job *j, const char *what, const Attempt *a);

/* target.c */
/* Encodes until one is at most the target and close to it: the best in *best. */
int sh_job_encode_to_target(Job *j, Attempt *best, int *attempts);
/* smaller.c: no encode at the plan's picture fitted (sh_job_encode_to_target's
 * AVERROR(ERANGE) or SH_ERROR_TARGET_TOO_SMALL): the same frames at smaller
 * pictures, re-decoded, each with its own first pass. The same returns. */
int sh_job_encode_smaller(Job *j, Attempt *best, int *attempts);
/* The smallest file this solver can make (its size is the smallest target that works). */
int sh_job_encode_floor(Job *j, Attempt *at);
/* Verify the best attempt against the plan and rename it into place. */
int sh_job_finish_output(Job *j, Attempt *best);

/* plan.c */
/* The solver's plan for the opened input (errors logged, with what the user can change). */
int sh_job_solve(Job *j);
/* A plan given back (sh_job_encode): as it is, or budgeted again for this range and target. */
int sh_job_take_plan(Job *j, const ShJobPlan *given);
void sh_job_export_plan(const Job *j, ShJobPlan *out);

#endif
