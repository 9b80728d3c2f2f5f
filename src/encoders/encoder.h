/*
 * Encoders: one const descriptor per encoder, one file each, listed in the
 * registry table. Encoders never decide: the solver fills ShEncoderConfig.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_ENCODERS_ENCODER_H
#define SH_ENCODERS_ENCODER_H

#include <stdint.h>

#include <libavcodec/avcodec.h>
#include <libavutil/dict.h>

#define SH_ENC_CAP_TWO_PASS    (1 << 0) /* rate control from a first-pass log */
#define SH_ENC_CAP_WHOLE_KBPS  (1 << 1) /* takes the bitrate in whole kb/s (libx264 via lavc) */

typedef struct ShEncoderConfig {
    /* video */
    int width, height;
    enum AVPixelFormat pix_fmt;
    AVRational time_base;     /* of the frames sent */
    AVRational frame_rate;    /* nominal */
    int64_t bitrate;          /* bits per second; 0 with qp >= 0 */
    int time_scale;           /* >1: tell the encoder time runs this much faster and
                               * the bitrate is this much higher, for a finer rate step
                               * where it only takes whole kb/s; packets keep real time */
    int qp;                   /* constant quantiser when >= 0 (the floor probe) */
    double crf;               /* constant quality when > 0 (the solver's samples) */
    int fast;                 /* 1: a quick preset, for measuring samples */
    int pass;                 /* 0 single pass, 1 or 2 */
    const char *stats_path;   /* first-pass log, for pass 1 and 2 */
    /* audio */
    int sample_rate, channels;
    enum AVSampleFormat sample_fmt;
    int frame_ms;             /* audio frame duration */
} ShEncoderConfig;

typedef struct ShEncoder ShEncoder;

typedef struct ShEncoderDesc {
    const char *name;         /* shrink's name, "x264" */
    const char *codec;        /* the bitstream, "h264" */
    enum AVMediaType type;
    const char *lavc_name;    /* libavcodec encoder, for lavc-backed ones */
    unsigned caps;
    const char *containers;   /* comma-separated muxer names, first is preferred */
    enum AVPixelFormat pix_fmt;     /* what it wants from the stages */
    enum AVSampleFormat sample_fmt;
    size_t priv_size;
    /* lavc-backed encoders only set options here and use the shared functions */
    int  (*configure)(AVCodecContext *avctx, AVDictionary **opts, const ShEncoderConfig *cfg);
    /* optional: bitstream filters for the packets, e.g. to restore real timing info */
    int  (*bsf)(const ShEncoderConfig *cfg, char *buf, size_t len);
    int  (*open)(ShEncoder *enc, const ShEncoderConfig *cfg);
    int  (*send_frame)(ShEncoder *enc, const AVFrame *frame);   /* NULL = flush */
    int  (*receive_packet)(ShEncoder *enc, AVPacket *pkt);      /* 0, EAGAIN, EOF */
    void (*close)(ShEncoder *enc);
} ShEncoderDesc;

struct ShEncoder {
    const ShEncoderDesc *desc;
    void *priv;
    AVCodecParameters *par;   /* after open: what the muxer needs */
    AVRational time_base;     /* of the packets */
    int frame_size;           /* audio samples per frame, 0 = any */
};

/* The registry. */
const ShEncoderDesc *sh_encoder_next(const ShEncoderDesc *prev);
const ShEncoderDesc *sh_encoder_find(const char *name);
int sh_encoder_available(const ShEncoderDesc *desc);
int sh_encoder_supports_container(const ShEncoderDesc *desc, const char *container);

int  sh_encoder_open(ShEncoder **enc, const ShEncoderDesc *desc, const ShEncoderConfig *cfg);
int  sh_encoder_send_frame(ShEncoder *enc, const AVFrame *frame);
int  sh_encoder_receive_packet(ShEncoder *enc, AVPacket *pkt);
void sh_encoder_free(ShEncoder **enc);

/* The shared implementation for libavcodec encoders. */
int  sh_lavc_open(ShEncoder *enc, const ShEncoderConfig *cfg);
int  sh_lavc_send_frame(ShEncoder *enc, const AVFrame *frame);
int  sh_lavc_receive_packet(ShEncoder *enc, AVPacket *pkt);
void sh_lavc_close(ShEncoder *enc);

#endif
