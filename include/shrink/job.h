/*
 * shrink's job API: deciding, then encoding.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 *   sh_job_plan    open and probe the input, run the solver: a ShJobPlan
 *   sh_job_encode  encode a plan over a time range to a byte target
 *   sh_job_run     both, on one opening of the input (the shrink command)
 *
 * A plan is plain data (names, numbers; no pointers): a caller may store it
 * (as JSON, say), give it to other processes and feed it back. Scale-out
 * plans the whole film once and encodes each chunk with sh_job_encode over
 * the chunk's range and budget: every chunk gets the plan's encoder, picture
 * and frame rate, so the chunks join.
 */
#ifndef SHRINK_JOB_H
#define SHRINK_JOB_H

#include <stdint.h>

#include "shrink/shrink.h"

#define SH_JOB_PLAN_VERSION 1

typedef struct ShJobPlan {
    int version;              /* SH_JOB_PLAN_VERSION */
    /* What it was made for: sh_job_encode with the same range and target
     * (and audio) takes it as it is; with others it budgets it again. */
    double start, end;        /* as ShOptions: seconds into the input, end 0 = to its end */
    int64_t target_bytes;
    double duration;          /* seconds of video in the range, from the probe */
    char container[32];       /* libavformat muxer name: "mp4", "mov", "matroska", "webm", "gif" */
    /* video */
    char encoder[32];         /* shrink's name for the video encoder, "x264" */
    int width, height;        /* coded, even */
    int display_height;       /* as ShOptions.height takes it (the coded width when rotated) */
    int fps_num, fps_den;     /* output frame rate */
    ShCrop crop;              /* of the source, before scaling (width 0: none); kept by sh_job_encode */
    int64_t video_bitrate;    /* first estimate, bits per second; the encode corrects it */
    double bpp;               /* bits per pixel at that rate */
    int at_floor;             /* the smallest picture and rate, still starved */
    /* the floor: the smallest file this plan can make, and so the smallest target that works */
    char floor_encoder[32];
    int floor_width, floor_height;
    int floor_fps_num, floor_fps_den;
    /* audio (audio_encoder empty: none) */
    char audio_encoder[32];   /* "opus" */
    int audio_bitrate;        /* bits per second */
    int audio_channels;
    int audio_frame_ms;
    int audio_sample_rate;    /* Hz */
    int audio_fixed;          /* the user fixed the bitrate: the floor keeps the audio */
    int audio_kind;           /* what the sound is: 0 not measured, 1 speech, 2 music, 3 silence */
    int64_t overhead_bytes;   /* container, estimated */
    /* the solver's prediction for the output (0: unknown) */
    double predicted_ssim, predicted_tssim, predicted_psnr;
} ShJobPlan;

/*
 * Plan a job. Reads every field of opt that sh_job_run reads up to the
 * choice: input, output and format (the container; a directory or existing
 * output is not refused here: nothing is written), codec, speed, target_bytes,
 * no_audio, start, end, audio_track, subs (the subtitle tracks kept, and
 * the chapters and title, come off the budget first), height, max_height,
 * fps, min_fps, audio_bitrate, hdr, deinterlace, crop_mode and crop,
 * no_search, progress ("sampling").
 * opt->plan_only is implied. Writes *plan, and *res as sh_job_run with
 * plan_only would (the search's candidates, the choice, the prediction).
 * Opens the input read-only; writes no file. Returns 0 or a negative error
 * (logged once, res->failed_phase says where): as sh_job_run's up to the
 * plan (SH_ERROR_BAD_OPTION for a codec that cannot be used, the input's
 * errors, SH_ERROR_INTERRUPTED).
 * GIF fits its target with its own search still: its plan gives the picture
 * and rate it chose, and sh_job_encode fits it again.
 */
int sh_job_plan(const ShOptions *opt, ShJobPlan *plan, ShJobResult *res);

/*
 * Encode plan over opt's range to opt's target. Reads from opt: input,
 * output, format, force, target_bytes, start, end, audio_track, hdr,
 * deinterlace, no_audio (drop the plan's audio), report, progress. The
 * plan decides the rest (opt's codec, speed, height, max_height, fps,
 * min_fps, audio_bitrate, crop_mode, crop, no_search and plan_only are not
 * read: the plan's crop is kept). It writes no subtitle tracks, chapters or
 * title (opt's subs is not read): a plan's encodes are the chunks of a
 * scale-out, whose join adds them once (sh_job_run keeps them).
 * When opt's start, end and target_bytes are the plan's (and no_audio does
 * not drop its audio), the plan is used as it is: plan then encode is
 * sh_job_run. Otherwise it is budgeted again for the new range and target
 * with its encoder, picture, frame rate and audio bitrate pinned (the
 * bits-per-pixel rule, no sampling).
 * Writes the output as sh_job_run does: a temporary file beside it,
 * verified (never over target_bytes), renamed into place; nothing left on
 * failure. *res as sh_job_run's; its search fields are empty (the search
 * is sh_job_plan's), predicted_ssim/psnr are the plan's.
 * Errors as sh_job_run's, and SH_ERROR_BAD_OPTION (logged) when the plan is
 * not one this build can encode (version, encoder, container other than
 * opt's format) or its picture cannot be kept for the new range.
 */
int sh_job_encode(const ShOptions *opt, const ShJobPlan *plan, ShJobResult *res);

/*
 * Run one job: sh_job_plan then sh_job_encode over the same range and
 * target, on one opening of the input, keeping the text subtitle tracks
 * opt->subs names, the chapters and the title. With opt->plan_only it stops after
 * the plan. Returns 0 or a negative error; on error nothing is left at the
 * output path and res->failed_phase says where it failed. The input is
 * opened read-only and never modified.
 */
int sh_job_run(const ShOptions *opt, ShJobResult *res);

#endif /* SHRINK_JOB_H */
