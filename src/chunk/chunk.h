/*
 * Scale out: one film cut into chunks that any engine runs (GNU parallel, a
 * Slurm array, a Kubernetes indexed Job), under one size budget.
 *
 *   plan          analyse once: the solver's choice for the whole film, chunk
 *                 boundaries at source keyframes, each chunk's budget from its
 *                 measured complexity; the audio is encoded here, once
 *   encode-chunk  one chunk alone, from the input: a job over its time range
 *                 with the plan's picture, rate and encoder pinned
 *   join          the chunks and the audio into one file without re-encoding;
 *                 never over the target, or it names the chunks to redo
 *
 * The plan file is JSON (docs/SCALE.md has the schema). The library never
 * prints: everything goes through sh_log and the structures here.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_CHUNK_CHUNK_H
#define SH_CHUNK_CHUNK_H

#include <stdint.h>

#include <libavutil/rational.h>

#include "shrink/shrink.h"

#define SH_CHUNK_PLAN_VERSION 1
/* Chunks in one plan, at most: a plan file stays readable and a join opens each once. */
#define SH_CHUNK_MAX 4096

/* Join refused: a chunk is over its budget or the joined file over the target. */
#define SH_ERROR_REDO FFERRTAG('S', 'H', 'R', 'D')
/* The input is not the one the plan was made from. */
#define SH_ERROR_PLAN_INPUT FFERRTAG('S', 'H', 'P', 'I')

typedef struct ShChunk {
    int64_t start, end;       /* source video time base: first frame's pts, next chunk's first pts */
    double start_s, end_s;    /* seconds from the video's start, as --start/--end count */
    int64_t frames;           /* source frames in it */
    int keyframe;             /* starts at a source keyframe */
    int64_t source_bytes;     /* the source's own video bytes in it: its complexity */
    double weight;            /* its share of the video budget */
    int64_t budget;           /* bytes: the chunk file's ceiling (video + its own container) */
} ShChunk;

typedef struct ShChunkPlan {
    char input[4096];         /* absolute path at plan time */
    int64_t input_size;
    char input_hash[65];      /* SHA-256 of the first and last MiB, hex */
    int64_t target_bytes;
    char encoder[32];         /* shrink's name, "x264" */
    char codec[32];           /* "h264" */
    int speed;                /* ShSpeed */
    int width, height, display_height;
    ShCrop crop;              /* of the source, before scaling (width 0: none): every chunk crops it */
    AVRational fps;           /* output rate */
    AVRational video_tb;      /* the source's video time base */
    int64_t video_start;      /* its start time (video_tb) */
    double trim_start, trim_end;   /* the film's range in seconds (end 0: to the end) */
    double duration;          /* seconds of video in the range */
    /* audio, encoded by plan into its own file (none: audio_path empty) */
    char audio_path[4096];    /* as written in the plan: relative to the plan's directory */
    int audio_track, audio_bitrate, audio_channels;
    int64_t audio_bytes;      /* the audio file's size */
    int64_t reserve_bytes;    /* kept back from the chunks (joined container's share) */
    double exponent;          /* weight = seconds * (bytes per second)^exponent */
    int nchunks;
    ShChunk *chunks;
} ShChunkPlan;

/* How to cut. chunks > 0 wins over chunk_seconds; both 0: about a minute each. */
typedef struct ShChunkOptions {
    int chunks;
    double chunk_seconds;
    int min_chunks, max_chunks;   /* bounds on the count from chunk_seconds (0: none) */
    const char *audio_output; /* where plan writes the audio (NULL: PLAN_STEM.audio.mp4) */
} ShChunkOptions;

/*
 * Analyse opt->input for opt->target_bytes (opt's trim and solver
 * constraints apply) and write the plan to plan_path, with the audio beside
 * it. res gets the solver's choice. Returns 0 or a negative error (logged).
 */
int sh_chunk_plan(const ShOptions *opt, const ShChunkOptions *so, const char *plan_path,
                  ShChunkPlan **plan, ShJobResult *res);

int  sh_chunk_plan_read(ShChunkPlan **plan, const char *path);
int  sh_chunk_plan_write(const ShChunkPlan *plan, const char *path);
void sh_chunk_plan_free(ShChunkPlan **plan);

/* Whether input is the file the plan was made from (size and header hash); logs why not. */
int sh_chunk_check_input(const ShChunkPlan *plan, const char *input);

/*
 * Encode chunk k of the plan from input (NULL: the plan's) into output,
 * replacing it: a rerun gives an equivalent file. res as sh_job_run's.
 */
int sh_chunk_encode(const ShChunkPlan *plan, int k, const char *input, const char *output,
                          ShJobResult *res);

/* One chunk to encode again, and its new budget. */
typedef struct ShChunkRedo {
    int index;
    int64_t bytes;            /* its file now */
    int64_t budget;           /* what it must fit into */
} ShChunkRedo;

typedef struct ShChunkJoinResult {
    int64_t bytes;            /* the joined file (or what it would have been) */
    double duration;
    int64_t video_packets, audio_packets;
    int nredo;                /* with SH_ERROR_REDO: chunks to encode again */
    ShChunkRedo *redo;        /* av_malloc'd: sh_chunk_join_result_free */
    int missing;              /* with a missing chunk: its index, else -1 */
    int level;                /* H.264: the level written (the highest of the chunks') */
} ShChunkJoinResult;

/*
 * Join the chunk files (any order: each is told by the last number in its
 * name) and the plan's audio into output without re-encoding. The plan's
 * directory is plan_dir (for the audio's relative path). Checks every chunk
 * is there, decodes as planned and shares one set of codec parameters; the
 * result is verified and renamed into place, never over the target. Over:
 * SH_ERROR_REDO with res->redo filled, nothing written.
 */
int sh_chunk_join(const ShChunkPlan *plan, const char *plan_dir, char *const *chunks, int nchunks,
                  const char *output, int force, ShChunkJoinResult *res);
void sh_chunk_join_result_free(ShChunkJoinResult *res);

/*
 * sh_chunk_join's writing alone: files[k] is chunk k, audio_path the audio
 * file (NULL: none), into path (an existing temporary file, replaced);
 * res->bytes is its size. Over the target: SH_ERROR_REDO with res->redo (not logged).
 * Neither verified nor put in place: the caller's (the long job's).
 */
int sh_chunk_join_write(const ShChunkPlan *plan, char *const *files, const char *audio_path, const char *path,
                        ShChunkJoinResult *res);

/*
 * Lower the budgets of the named chunks (new[i] for chunk idx[i]) and give
 * what they lose to nobody: the plan then sums to less than before. Refuses
 * a budget that is not lower. Returns 0 or SH_ERROR_BAD_OPTION.
 */
int sh_chunk_rebalance(ShChunkPlan *plan, const int *idx, const int64_t *budgets, int n);

/* The chunk index in a file name: its last run of digits; -1 when none. */
int sh_chunk_index(const char *path);

/*
 * What runs chunk encodes for sh_chunk_run_film and sh_chunk_join_redo:
 * encode() makes chunks which[0..n) of the plan (written at plan_path, the
 * one every encode must read) into files[which[i]], up to workers at a
 * time, each as sh_chunk_encode would; all of them or it fails. Returns 0
 * or a negative error, with *phase where it failed.
 */
typedef struct ShChunkEngine {
    int (*encode)(void *opaque, const ShChunkPlan *plan, const char *plan_path, char *const *files,
                  const int *which, int n, ShPhase *phase);
    void *opaque;
    int workers;
} ShChunkEngine;

/*
 * Join files (files[k] is chunk k) into output; when the joined file is over
 * the target (the join names chunks to redo), lower those chunks' budgets in
 * the plan, write it to plan_path, have eng encode them again and join once
 * more. Over a second time: SH_ERROR_TARGET_TOO_SMALL. Returns 0 or a
 * negative error, *phase where it failed (SH_PHASE_OUTPUT for the join).
 */
int sh_chunk_join_redo(ShChunkPlan *plan, const char *plan_path, const char *plan_dir, char *const *files,
                       const char *output, int force, const ShChunkEngine *eng, ShChunkJoinResult *jr,
                       ShPhase *phase);

/*
 * One film, o->input to o->output (an MP4), through plan, eng's encodes and
 * join, in a private temporary directory removed whatever happens: about a
 * minute a chunk, at least two per worker, at most 16. As sh_job_run: 0 or
 * a negative error (logged), res filled (bytes, duration, attempts: the
 * chunks, seconds, failed_phase).
 */
int sh_chunk_run_film(const ShOptions *o, const ShChunkEngine *eng, ShJobResult *res);

#endif
