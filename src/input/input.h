/*
 * Input: probe, demux and decode one file. Knows nothing of encoding.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_INPUT_INPUT_H
#define SH_INPUT_INPUT_H

#include <stdint.h>

#include <libavutil/frame.h>
#include <libavutil/rational.h>

typedef struct ShInputInfo {
    const char *path;
    int64_t file_size;
    double duration;          /* seconds of video, from the probe */
    /* video */
    const char *video_codec;
    int width, height;        /* coded */
    AVRational sar;
    int rotation;             /* clockwise display rotation: 0, 90, 180, 270 */
    int has_display_matrix;
    int32_t display_matrix[9];
    AVRational frame_rate;    /* best guess, for planning */
    AVRational video_tb;
    int64_t video_start;      /* video_tb: the stream's start time */
    /* audio (the best stream), when present */
    int has_audio;
    const char *audio_codec;
    int audio_channels, audio_rate;
    AVRational audio_tb;
} ShInputInfo;

/* What decoding saw, known at the end of the stream. */
typedef struct ShInputStats {
    int64_t video_frames;     /* decoded */
    int64_t first_pts;        /* video, video_tb */
    int64_t end_pts;          /* video: last pts + its duration */
    int64_t decode_errors;    /* packets the decoder rejected (concealed) */
} ShInputStats;

typedef struct ShInput ShInput;

/* Open and probe. Errors are logged with the file's name. */
int sh_input_open(ShInput **in, const char *path);
const ShInputInfo *sh_input_info(const ShInput *in);
const ShInputStats *sh_input_stats(const ShInput *in);

/* Decode audio too (default: video only). Call before the first read. */
void sh_input_want_audio(ShInput *in, int want);

/*
 * The next decoded frame, video or audio, in demux order; *type says which.
 * Timestamps are in the stream's time base (video_tb or audio_tb), with
 * missing video timestamps filled from the previous frame's.
 * Returns 0, AVERROR_EOF, or a negative error.
 */
int sh_input_read(ShInput *in, AVFrame *frame, enum AVMediaType *type);

void sh_input_close(ShInput **in);

#endif
