/*
 * The opened input's state, between input.c (open, probe, seek, range) and
 * read.c (demux, decode, timestamps, trim); not public.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_INPUT_STREAM_H
#define SH_INPUT_STREAM_H

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

#include "input/input.h"
#include "input/prep.h"

typedef struct InputStream {
    int index;
    AVStream *st;
    AVCodecContext *dec;
    int flushed, done;
} InputStream;

struct ShInput {
    ShInputInfo info;
    ShInputStats stats;
    AVFormatContext *fmt;
    AVPacket *pkt;
    InputStream v, a;
    int want_audio;
    int skip_video;           /* sh_input_want_video(0): audio alone */
    int demux_eof;
    InputStream *pending;     /* decoder with frames to drain */
    int64_t next_video_pts;
    /* sh_input_set_range: [range_start, range_end) in video_tb */
    int trimmed;
    int64_t range_end;
    int64_t probe_end;        /* where the probe says the video ends */
    int still;                /* one picture, held for the file's duration */
    int video_ended, audio_ended; /* reached range_end: demux stops when both have */
    AVFrame *before;          /* the last frame before the start: on screen there? */
    int64_t before_dur;
    AVFrame *after;           /* the frame that showed it was, delivered next */
    int64_t after_dur;
    ShPrep *prep;             /* sh_input_set_picture: deinterlace, tone map */
    int crop_l, crop_t, crop_r, crop_b;  /* sh_input_set_crop, coded: pixels off each side */
};

/* Open the stream's decoder (threads 0: libavcodec's choice). */
int sh_input_open_decoder(ShInput *in, InputStream *s, int threads);
/* crop.c: a video frame cut to the crop (sh_input_set_crop), in place. */
int sh_input_crop_frame(ShInput *in, AVFrame *frame);
/* crop.c: pixels off each side of the coded picture (of info's full size) as a displayed rectangle. */
void sh_input_crop_from_coded(const ShInputInfo *info, int l, int t, int r, int b, ShCrop *c);

#endif
