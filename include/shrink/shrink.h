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
#define SH_ERROR_BAD_RANGE        FFERRTAG('S', 'H', 'R', 'G') /* trim outside the input */
#define SH_ERROR_BAD_OPTION       FFERRTAG('S', 'H', 'O', 'P') /* format, codec: not possible together */
#define SH_ERROR_REFUSED          FFERRTAG('S', 'H', 'R', 'F') /* input not a regular file, or naming others */
#define SH_ERROR_NOT_REGULAR      FFERRTAG('S', 'H', 'N', 'R') /* output is a FIFO, device, dangling link */
#define SH_ERROR_CHANGED          FFERRTAG('S', 'H', 'C', 'H') /* input changed while it was copied */

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

/* Progress of a running job, for a progress line. Called from the job's thread. */
typedef struct ShProgress {
    const char *stage;        /* "sampling", "analysis", "encode", "verify" */
    double fraction;          /* of the whole job, 0..1 */
    int64_t bytes;            /* output bytes written so far in this stage (encode), else 0 */
    int64_t target_bytes;
    double elapsed;           /* seconds since the job started */
} ShProgress;

typedef void (*ShProgressFn)(void *opaque, const ShProgress *p);

/* How long the user is willing to wait: the encoders and presets the solver may use. */
typedef enum ShSpeed {
    SH_SPEED_BALANCED = 0,
    SH_SPEED_FAST,            /* a user in a hurry: the quickest encoder that fits */
    SH_SPEED_BEST,            /* the smallest file for the quality, however long it takes */
} ShSpeed;

/* HDR sources (PQ or HLG transfer). */
typedef enum ShHdr {
    SH_HDR_TONEMAP = 0,       /* tone-map to SDR BT.709: plays right everywhere */
    SH_HDR_KEEP,              /* keep HDR: 10-bit where the encoder can, the source's tags */
} ShHdr;

/* Interlaced sources. */
typedef enum ShDeinterlace {
    SH_DEINTERLACE_AUTO = 0,  /* when the stream or its first frame says interlaced */
    SH_DEINTERLACE_ON,        /* every frame */
    SH_DEINTERLACE_OFF,
} ShDeinterlace;

/* Black bars (letterbox, pillarbox) around the picture. */
typedef enum ShCropMode {
    SH_CROP_AUTO = 0,         /* found on frames spread over the film; cropped when they are real */
    SH_CROP_OFF,
    SH_CROP_MANUAL,           /* ShOptions.crop */
} ShCropMode;

/* A rectangle of the picture as displayed (rotation applied; pixels as
 * stored, before the aspect ratio): what `--crop W:H:X:Y` says. Even. */
typedef struct ShCrop {
    int width, height;        /* 0: no crop */
    int x, y;                 /* from the top left corner */
} ShCrop;

/* Faces and the bits (docs/FACES.md). */
typedef enum ShRoi {
    SH_ROI_AUTO = 0,          /* faces looked for; regions where the solver measures that they win */
    SH_ROI_FACES,             /* regions wherever faces are found (an encoder that takes them) */
    SH_ROI_OFF,               /* every pixel alike; no detector runs */
} ShRoi;

/* ShOptions.subs */
#define SH_SUBS_ALL 0
#define SH_SUBS_NONE (-1)

typedef struct ShOptions {
    const char *input;
    const char *output;       /* NULL: STEM.shrunk.EXT beside the input, EXT from the format */
    const char *format;       /* "mp4", "mov", "mkv", "webm", "gif"; NULL: from output's
                               * extension, else mp4 */
    const char *codec;        /* NULL or "auto": the solver picks; else an encoder's name ("x264") */
    ShSpeed speed;
    int64_t target_bytes;     /* hard ceiling for the output file */
    int no_audio;             /* strip audio whatever the budget */
    int force;                /* replace an existing output */
    /* trim and select (0 / -1: not set) */
    double start;             /* seconds into the input */
    double end;               /* seconds into the input; 0 = to the end */
    int audio_track;          /* 0: the best audio stream; N >= 1: the N-th audio stream of the file */
    int subs;                 /* SH_SUBS_ALL (0): every text subtitle track; SH_SUBS_NONE; N >= 1:
                               * only the N-th subtitle stream of the file */
    /* solver constraints (0: free) */
    int height;               /* exact display height */
    int max_height;
    double fps;               /* exact output frame rate */
    double min_fps;
    int audio_bitrate;        /* bits per second; 0: free; the solver may still drop audio */
    ShHdr hdr;
    ShDeinterlace deinterlace;
    ShCropMode crop_mode;
    ShCrop crop;              /* SH_CROP_MANUAL: the rectangle kept */
    ShRoi roi;
    int plan_only;            /* choose and report, encode nothing */
    int report;               /* measure the result against the source (SSIM/PSNR) */
    double time_limit;        /* seconds the learned codec may fit for (0: its default,
                               * docs/NEURAL.md); the other encoders ignore it */
    int no_search;            /* the bits-per-pixel rule alone, no sampling: a chunk of a
                               * scale-out plan, whose picture and rate are pinned already */
    ShProgressFn progress;    /* NULL: none */
    void *progress_opaque;
} ShOptions;

/* One rung the solver measured on the samples. */
typedef struct ShCandidateInfo {
    const char *encoder;      /* shrink's name for the video encoder, "x264" */
    int width, height;        /* coded */
    double fps;
    double video_bitrate;     /* what the budget leaves it, bits per second */
    int measures;             /* sample encodes at constant quality: 1 or 2 */
    double crf[2], sample_bitrate[2], sample_ssim[2], sample_tssim[2], sample_psnr[2];
    int feasible;             /* x264 can reach the budget at this rung */
    /* predicted at the budget: luma SSIM, SSIM of frame differences (temporal
     * fidelity: judder), PSNR, and the score the solver ranks by (both SSIMs
     * together, in dB; docs/SOLVER.md) */
    double ssim, tssim, psnr, score_db;
    double speed_cost_db;     /* SSIM dB a slower encoder must gain to be chosen (--speed) */
    /* Measured again with the final encode's preset (each encoder's best
     * rung; the choice is made on these): 0 = not measured. */
    double final_ssim, final_tssim, final_psnr, final_score_db;
    /* Long films (a time budget): seconds a frame with the final [0] and the
     * quick [1] preset, measured alone on the sample, and the job's predicted
     * wall time with each; the score with the quick preset. 0 = not measured. */
    double frame_seconds[2], expected_seconds[2];
    double quick_score_db;
    /* Faces on the samples: SSIM dB inside them with the final preset,
     * without [0] and with [1] regions (0: not measured). */
    double face_db[2];
} ShCandidateInfo;

#define SH_MAX_CANDIDATES 48

typedef struct ShJobResult {
    char output[4096];        /* the path written (or that would have been) */
    int64_t bytes;            /* final size */
    int64_t min_bytes;        /* with SH_ERROR_TARGET_TOO_SMALL: smallest size that works */
    double duration;          /* seconds, as planned and verified */
    const char *codec;        /* video codec name, e.g. "h264" */
    const char *encoder;      /* shrink's name for its encoder, e.g. "x264" */
    int width, height;        /* coded dimensions of the output */
    double fps;               /* nominal output frame rate */
    ShCrop crop;              /* of the source, before scaling (width 0: none) */
    int audio;                /* 1 when the output has an audio stream */
    const char *audio_codec;
    int audio_bitrate;        /* bits per second requested */
    int audio_channels;
    const char *audio_kind;   /* what the source's sound is: "speech", "music", "silence"; NULL: not measured */
    char audio_reason[128];   /* why the output has its audio or not, one sentence ("" when not said) */
    int subtitles;            /* subtitle tracks in the output */
    int64_t video_bitrate;    /* bits per second of the final attempt */
    int attempts;             /* second-pass encodes run (1 = no correction) */
    double predicted_ssim;    /* the solver's prediction for the output; 0 = unknown */
    double predicted_tssim;   /* SSIM of frame differences (temporal fidelity) */
    double predicted_psnr;
    double measured_ssim;     /* with ShOptions.report: measured against the source; 0 = not measured */
    double measured_tssim;
    double measured_psnr;
    /* The output is under the target by more than the rate loop's band
     * because the encoder's best setting left bytes over, and measured
     * against the source it is visually lossless (SSIM and temporal SSIM at
     * least SH_VISUALLY_LOSSLESS): more bytes would buy nothing. Measured
     * whenever the output fills less than the band, with or without report. */
    int visually_lossless;
    /* the solver's search (searched = 0: the bits-per-pixel rule decided alone) */
    int searched;
    int ncandidates, chosen;  /* chosen: index into candidates, -1 for none */
    ShCandidateInfo candidates[SH_MAX_CANDIDATES];
    int eval_width, eval_height;  /* where quality is measured: display size, at most 720p */
    double sample_seconds;
    int sample_encodes;
    double solver_seconds;
    /* Long films: the wall time the job was planned against (SH_LONG_TIME_BUDGET
     * decodes of the film; one decode measured: decode_seconds), and what the chosen encoder and preset
     * were predicted to take in all; 0 = time not weighed. quick_preset: the
     * encoder's quick preset was chosen (or switched to) to fit the time. */
    double decode_seconds, time_budget, expected_seconds;
    int quick_preset;
    /* Faces (docs/FACES.md). roi_mode: "auto", "faces", "off"; roi_faces: what
     * the looks found, -1 not looked (off, no detector, the rule alone, a long
     * film), else the looks with a face; roi_share: the regions' mean share of
     * the picture where there were any; roi_strength > 0: the encoder was
     * given them at that quality offset; roi_reason: why or why not, a
     * sentence. Predicted at the budget on the samples (0 = not measured):
     * SSIM dB inside the faces without [0] and with [1] the regions, and the
     * whole picture's score likewise. measured_face_ssim (with report): the
     * output inside the faces the job's own looks found (0: none). */
    const char *roi_mode;
    int roi_looks, roi_faces;
    double roi_share, roi_strength, roi_detect_seconds;
    char roi_reason[160];
    double roi_face_db[2], roi_score_db[2];
    double measured_face_ssim;
    double seconds;           /* wall time */
    ShPhase failed_phase;     /* SH_PHASE_NONE on success */
} ShJobResult;

/* SSIM and temporal SSIM (luma, at the display size capped at 720p) from which an output counts as visually lossless. */
#define SH_VISUALLY_LOSSLESS 0.99

/* sh_job_run, sh_job_plan, sh_job_encode: include/shrink/job.h (included below). */

/*
 * For an input that already fits: check that it is a readable video (as
 * sh_job_run would), then copy it byte for byte to opt->output (NULL:
 * STEM.shrunk.EXT beside the input, keeping the input's extension) through a
 * temporary file beside it and a rename, with the same refusals as sh_job_run
 * (the input itself, an existing file without force). Only input, output,
 * force and target_bytes are read. The bytes copied are the input as it is
 * when opened: over target_bytes (when > 0) then, or changed while it is
 * copied, it fails (SH_PHASE_INPUT). res describes the input's streams;
 * attempts is 0.
 */
int sh_job_copy(const ShOptions *opt, ShJobResult *res);

/* Ask a running job to stop (async-signal-safe). The job returns SH_ERROR_INTERRUPTED. */
void sh_job_interrupt(void);

/* Remove every temporary file the library has registered (async-signal-safe). */
void sh_temp_cleanup_all(void);

/* The video encoders --codec takes that this build's libavcodec provides,
 * ", "-separated ("x264, x265, vp9, ..."). */
const char *sh_codec_names(char *buf, size_t len);

/*
 * The format (a --format name, and the extension) an encoder writes when
 * nothing else says: "webm" for vp9, "mp4" for most. NULL for "auto" or a
 * name that is no encoder.
 */
const char *sh_codec_format(const char *codec);

/* The format a --format name or an extension means ("m4v" is "mp4", "matroska"
 * is "mkv"), as its canonical --format name; NULL: not a format shrink writes.
 * sh_format_list: those names, space-separated, for messages and --help. */
const char *sh_format_canonical(const char *name);
const char *sh_format_list(void);

/* The name of the available video encoder whose output plays inline everywhere
 * (phones, browsers, chat apps): what a service's limit is encoded with. NULL: none. */
const char *sh_codec_plays_everywhere(void);

/* The face detector this build has ("dlib HOG"), or NULL: faces are off (docs/FACES.md). */
const char *sh_faces_detector(void);

/* Message for any error code, AVERROR or SH_ERROR_*. */
const char *sh_strerror(int err, char *buf, size_t len);

/* After ShOptions and ShJobResult, which it uses. */
#include "shrink/job.h"

#endif /* SHRINK_SHRINK_H */
