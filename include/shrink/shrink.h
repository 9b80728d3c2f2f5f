/*
 * shrink: fit a video into a size.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The library behind the shrink command. One job turns one input file into
 * one verified output file no larger than the target. The library never
 * prints: diagnostics go through the log callback, results come back in
 * ShJobResult.
 */
#ifndef SHRINK_SHRINK_H
#define SHRINK_SHRINK_H

#include <stddef.h>
#include <stdint.h>
#include <libavutil/error.h>

#define SHRINK_VERSION "0.1.0"

/* Project error codes, beside libav's negative AVERROR codes. */
#define SH_ERROR_TARGET_TOO_SMALL FFERRTAG('S', 'H', 'T', 'S')
#define SH_ERROR_NO_VIDEO         FFERRTAG('S', 'H', 'N', 'V')
#define SH_ERROR_VERIFY           FFERRTAG('S', 'H', 'V', 'F')
#define SH_ERROR_INTERRUPTED      FFERRTAG('S', 'H', 'I', 'N')
#define SH_ERROR_SAME_FILE        FFERRTAG('S', 'H', 'S', 'F')
#define SH_ERROR_EXISTS           FFERRTAG('S', 'H', 'E', 'X')

/* Where a job failed: the CLI turns this into an exit code. */
typedef enum ShPhase {
    SH_PHASE_NONE = 0,
    SH_PHASE_SETUP,   /* options, paths, refusing to overwrite */
    SH_PHASE_INPUT,   /* open, probe, demux, decode */
    SH_PHASE_PLAN,    /* choosing the encode; target too small */
    SH_PHASE_ENCODE,  /* encoder open or encode */
    SH_PHASE_OUTPUT,  /* temp file, mux, verify, rename */
} ShPhase;

typedef enum ShLogLevel {
    SH_LOG_ERROR = 0,
    SH_LOG_WARNING,
    SH_LOG_INFO,
    SH_LOG_VERBOSE,
    SH_LOG_DEBUG,
} ShLogLevel;

/* file may be NULL. msg has no trailing newline. */
typedef void (*ShLogFn)(void *opaque, ShLogLevel level, const char *file, const char *msg);

/* Install the sink for all library messages (default: none, the library is silent). */
void sh_log_set_callback(ShLogFn fn, void *opaque);

typedef struct ShOptions {
    const char *input;
    const char *output;       /* NULL: STEM.shrunk.mp4 beside the input */
    int64_t target_bytes;     /* hard ceiling for the output file */
    int no_audio;             /* strip audio whatever the budget */
    int force;                /* replace an existing output */
} ShOptions;

typedef struct ShJobResult {
    char output[4096];        /* the path written (or that would have been) */
    int64_t bytes;            /* final size */
    int64_t min_bytes;        /* with SH_ERROR_TARGET_TOO_SMALL: smallest size that works */
    double duration;          /* seconds, as planned and verified */
    const char *codec;        /* video codec name, e.g. "h264" */
    int width, height;        /* coded dimensions of the output */
    double fps;               /* nominal output frame rate */
    int audio;                /* 1 when the output has an audio stream */
    const char *audio_codec;
    int audio_bitrate;        /* bits per second requested */
    int audio_channels;
    int64_t video_bitrate;    /* bits per second of the final attempt */
    int attempts;             /* second-pass encodes run (1 = no correction) */
    double seconds;           /* wall time */
    ShPhase failed_phase;     /* SH_PHASE_NONE on success */
} ShJobResult;

/*
 * Run one job. Returns 0 or a negative error; on error nothing is left at
 * the output path and res->failed_phase says where it failed. The input is
 * opened read-only and never modified.
 */
int sh_job_run(const ShOptions *opt, ShJobResult *res);

/* Ask a running job to stop (async-signal-safe). The job returns SH_ERROR_INTERRUPTED. */
void sh_job_interrupt(void);

/* Remove every temporary file the library has registered (async-signal-safe). */
void sh_temp_cleanup_all(void);

/* Message for any error code, AVERROR or SH_ERROR_*. */
const char *sh_strerror(int err, char *buf, size_t len);

#endif /* SHRINK_SHRINK_H */
