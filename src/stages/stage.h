/*
 * Stages: frame-in, frame-out filters with libavcodec's send/receive contract.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A stage is a const descriptor; the core allocates and zeroes its private
 * state. send() borrows the frame (the stage takes its own reference);
 * send(NULL) means end of stream. receive() returns 0 with a frame,
 * AVERROR(EAGAIN) when it needs input, AVERROR_EOF after the end. Timestamps
 * stay in the input time base: stages never renumber frames.
 */
#ifndef SH_STAGES_STAGE_H
#define SH_STAGES_STAGE_H

#include <stddef.h>
#include <stdint.h>

#include <libavutil/channel_layout.h>
#include <libavutil/frame.h>
#include <libavutil/pixfmt.h>
#include <libavutil/rational.h>
#include <libavutil/samplefmt.h>

/* What flows between stages. */
typedef struct ShStreamInfo {
    enum AVMediaType type;
    AVRational time_base;
    /* video */
    int width, height;
    enum AVPixelFormat pix_fmt;
    AVRational sar;
    AVRational frame_rate;      /* nominal; 0/1 when unknown */
    /* audio */
    int sample_rate;
    int channels;
    enum AVSampleFormat sample_fmt;
} ShStreamInfo;

/* Arguments for every stage; each reads the fields it needs. */
typedef struct ShStageArgs {
    int width, height;          /* scale: output size (even) */
    enum AVPixelFormat pix_fmt; /* scale: output format */
    AVRational fps;             /* fps: output rate */
    int sample_rate, channels;  /* resample: output */
    enum AVSampleFormat sample_fmt;
    int frame_size;             /* resample: samples per output frame (0 = as they come) */
    int64_t origin;            /* resample: input pts (input time base) that becomes 0 */
    int64_t max_samples;        /* resample: stop after this many (0 = no limit) */
    int colors;                 /* palette: RGB24 in, PAL8 out with at most this many (2..255) */
    int dither;                 /* palette: 0 none, 1 ordered (Bayer), 2 error diffusion, 3 exact (gif.h) */
    const uint8_t *palette;     /* palette: a fixed one (RGB triplets, `colors` of them), or
                                 * NULL for one per frame */
    const uint8_t *const *importance; /* palette: where the caller leaves, before each frame it
                                 * sends, a weight plane for it (width x height bytes, 1..255:
                                 * how much each pixel's colour counts when the palette is
                                 * made), or NULL there for none; NULL: never any */
    int deint;                  /* deinterlace: 1 every frame, 2 only frames flagged interlaced */
    enum AVColorTransferCharacteristic color_trc; /* tonemap: the source's (PQ or HLG), for
                                 * frames that do not say */
} ShStageArgs;

typedef struct ShStageDesc {
    const char *name;
    enum AVMediaType type;
    size_t priv_size;
    int  (*init)(void *priv, const ShStreamInfo *in, ShStreamInfo *out, const ShStageArgs *args);
    int  (*send)(void *priv, const AVFrame *in);
    int  (*receive)(void *priv, AVFrame *out);
    void (*uninit)(void *priv);  /* safe on half-initialised state */
} ShStageDesc;

typedef struct ShStage {
    const ShStageDesc *desc;
    void *priv;
    ShStreamInfo in, out;
} ShStage;

/* The registry: stages by name. */
const ShStageDesc *sh_stage_find(const char *name);

int  sh_stage_create(ShStage **st, const char *name, const ShStreamInfo *in, const ShStageArgs *args);
int  sh_stage_send(ShStage *st, const AVFrame *in);
int  sh_stage_receive(ShStage *st, AVFrame *out);
void sh_stage_free(ShStage **st);

/* The fps stage's rule, exposed for tests: the output slot a timestamp falls in. */
int64_t sh_fps_slot(int64_t pts, int64_t origin, AVRational tb, AVRational fps);

/*
 * The scaler's geometry: coded output size for a wanted display height.
 * The display aspect is the source's (sample aspect and a 90/270 degree
 * rotation included); the result is even, at least 2x2, never larger than
 * the source, and is given in coded orientation (swapped back for 90/270).
 */
void sh_scale_dims(int src_w, int src_h, AVRational sar, int rotation,
                   int display_height, int *out_w, int *out_h);

#endif
