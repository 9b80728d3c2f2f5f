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

#include "input/input.h"
#include "shrink/shrink.h"

#define SH_ENC_CAP_TWO_PASS    (1 << 0) /* rate control from a first-pass log */
#define SH_ENC_CAP_WHOLE_KBPS  (1 << 1) /* takes the bitrate in whole kb/s (libx264 via lavc) */
#define SH_ENC_CAP_STATS_LAVC  (1 << 2) /* the first-pass log goes through AVCodecContext's
                                         * stats_out/stats_in (libvpx, libaom); lavc.c keeps
                                         * it in the file stats_path */
#define SH_ENC_CAP_NO_FORCED_KEY (1 << 3) /* ignores AV_PICTURE_TYPE_I on a frame: a new
                                          * keyframe needs a new encoder */
#define SH_ENC_CAP_PROBE_PASS  (1 << 4) /* one-pass, but its quick preset's rate error over
                                         * the whole film predicts its final preset's: the
                                         * decode pass runs it as a probe and the first
                                         * encode asks for the bitrate corrected by it */
#define SH_ENC_CAP_EOS_TO_CLOSE (1 << 5) /* must be sent the end of the stream before it is
                                         * closed, even on an error path (SVT-AV1 1.4: its
                                         * deinit waits for an EOS that never comes) */
#define SH_ENC_CAP_PLAYS_EVERYWHERE (1 << 6) /* its bitstream plays inline on every phone,
                                              * browser and chat app: what a service's
                                              * limit (--for) is encoded with */
#define SH_ENC_CAP_JOINS_CHUNKS (1 << 7) /* chunks encoded apart can be joined under one set
                                          * of parameter sets (scale-out's join) */
#define SH_ENC_CAP_PALETTE     (1 << 8) /* takes palettised frames (PAL8) and its size is not a
                                         * bitrate: the solver chooses its knobs (colours,
                                         * palette, dither, lossiness, picture, rate) */
#define SH_ENC_CAP_ROI         (1 << 9) /* honours AV_FRAME_DATA_REGIONS_OF_INTEREST (libx264 and
                                         * libx265 with adaptive quantisation, measured; FFmpeg
                                         * 5.1's libvpx at good quality, SVT-AV1 and libaom
                                         * make the same bytes with or without: docs/FACES.md) */
#define SH_ENC_CAP_WHOLE_FILM  (1 << 10) /* sees every frame before it writes a byte and returns
                                          * the whole file as one packet, never over max_bytes
                                          * (the learned codec: docs/NEURAL.md); the job feeds
                                          * it and writes that packet as the output */

/* An encoder refused to open because the bitrate is under its floor for the
 * picture (the descriptor's rate_floor_msg was logged): the target is too small. */
#define SH_ENC_ERROR_RATE_FLOOR FFERRTAG('S', 'H', 'R', 'L')

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
    int qp;                   /* constant quantiser when >= 0 (the floor probe), on x264's
                               * 0-51 scale: each encoder maps 51 to its own largest */
    double crf;               /* constant quality when > 0 (the solver's samples), on
                               * x264's scale (rate halves every ~6): each encoder maps it
                               * to its own (see its file and docs/ENCODERS.md) */
    int fast;                 /* 1: a quick preset, for measuring samples */
    int pass;                 /* 0 single pass, 1 or 2 */
    const char *stats_path;   /* first-pass log, for pass 1 and 2 */
    int has_colour;           /* tag the stream with colour (else only limited range) */
    ShColour colour;
    /* palettised (SH_ENC_CAP_PALETTE) */
    int colors;               /* visible colours, 1..255; index `colors` is transparent */
    const uint8_t *palette;   /* one palette for every frame (RGB triplets, `colors` of
                               * them), or NULL: each frame brings its own in data[1] */
    int lossy;                /* lossy compression, 0 (none) .. 200 */
    /* audio */
    int sample_rate, channels;
    enum AVSampleFormat sample_fmt;
    int frame_ms;             /* audio frame duration */
    int audio_kind;           /* ShAudioKind (metrics/audiokind.h): speech is encoded as speech */
    /* whole-film encoders (SH_ENC_CAP_WHOLE_FILM) */
    int64_t max_bytes;        /* the file's ceiling, its own header included */
    double duration;          /* seconds of film the frames cover */
    double deadline;          /* sh_now() by which it must have finished */
    int threads;
    int (*interrupted)(void); /* non-zero: stop (SH_ERROR_INTERRUPTED) */
    void (*progress)(void *opaque, double fraction);
    void *progress_opaque;
} ShEncoderConfig;

typedef struct ShEncoder ShEncoder;

typedef struct ShEncoderDesc {
    const char *name;         /* shrink's name, "x264" */
    const char *codec;        /* the bitstream, "h264" */
    enum AVMediaType type;
    const char *lavc_name;    /* libavcodec encoder, for lavc-backed ones */
    unsigned caps;
    const char *containers;   /* comma-separated muxer names, first is preferred */
    const char *const *stats_files; /* suffixes of the files a two-pass encoder writes
                                     * beside stats_path ("" is the path itself), NULL-ended */
    int min_size;             /* smallest coded width and height it accepts (0: any) */
    int max_time_den;         /* largest time base denominator it accepts (0: INT_MAX);
                               * bounds the time scale */
    /* What the library refuses to open with (0: no limit), measured with
     * the ffmpeg program (docs/ENCODERS.md). The solver builds no rung
     * outside them and the job never asks for more than max_bitrate. */
    int64_t max_bitrate;      /* bits per second, after the time scale */
    /* What the library logs when it refuses a bitrate under its floor (NULL: it
     * does not): sh_encoder_open then returns SH_ENC_ERROR_RATE_FLOOR. */
    const char *rate_floor_msg;
    AVRational min_fps, max_fps; /* the nominal frame rate it takes ({0, 0}: any) */
    /* For --speed and the codec choice: the --speed (ShSpeed) that admits it
     * (SH_SPEED_FAST: also in a hurry; BALANCED: by default; BEST: only when
     * asked for the best), and its final-preset encode speed relative to
     * x264 medium, measured here (docs/ENCODERS.md). */
    int speed_class;
    double rel_speed;
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
    int64_t min_bytes;        /* whole-film encoders, after SH_ERROR_TARGET_TOO_SMALL: the
                               * smallest file they can make */
};

/* The registry. */
const ShEncoderDesc *sh_encoder_next(const ShEncoderDesc *prev);
/* By shrink's name ("x264"), libavcodec's ("libx264") or, failing those, the
 * first available encoder of a bitstream ("h264", "av1"). */
const ShEncoderDesc *sh_encoder_find(const char *name);
int sh_encoder_matches(const ShEncoderDesc *desc, const char *name);
int sh_encoder_available(const ShEncoderDesc *desc);
/* The table's first available encoder of a type that writes the container, or NULL. */
const ShEncoderDesc *sh_encoder_first(enum AVMediaType type, const char *container);
/* The table's first available video encoder with all of caps (SH_ENC_CAP_*), or NULL. */
const ShEncoderDesc *sh_encoder_with_caps(unsigned caps);
int sh_encoder_supports_container(const ShEncoderDesc *desc, const char *container);
/* The first container in the descriptor's list (its default), or NULL. */
const char *sh_encoder_default_container(const ShEncoderDesc *desc, char *buf, size_t len);
/* The names of the available encoders of a type, ", "-separated, in table order. */
const char *sh_encoder_names(enum AVMediaType type, char *buf, size_t len);
/* The descriptor's pixel format, or with depth > 8 its 10-bit 4:2:0 where
 * the libavcodec encoder takes that (HDR kept). */
enum AVPixelFormat sh_encoder_pix_fmt(const ShEncoderDesc *desc, int depth);
/*
 * Whether the encoder takes this picture and nominal frame rate (a rate
 * under min_fps is taken: the job repeats frames); when not, why in why,
 * for the -v log and error messages.
 */
int sh_encoder_takes(const ShEncoderDesc *desc, int width, int height, AVRational fps,
                     char *why, size_t len);
/* The bitrate within what the encoder takes (0 stays 0: a quantiser encode). */
int64_t sh_encoder_clamp_bitrate(const ShEncoderDesc *desc, int64_t bitrate);
/* Whether --speed (ShSpeed) admits the encoder: fast < balanced < best. */
int sh_encoder_speed_ok(const ShEncoderDesc *desc, int speed);

int  sh_encoder_open(ShEncoder **enc, const ShEncoderDesc *desc, const ShEncoderConfig *cfg);
int  sh_encoder_send_frame(ShEncoder *enc, const AVFrame *frame);
int  sh_encoder_receive_packet(ShEncoder *enc, AVPacket *pkt);
void sh_encoder_free(ShEncoder **enc);

/* The shared implementation for libavcodec encoders. */
int  sh_lavc_open(ShEncoder *enc, const ShEncoderConfig *cfg);
int  sh_lavc_send_frame(ShEncoder *enc, const AVFrame *frame);
int  sh_lavc_receive_packet(ShEncoder *enc, AVPacket *pkt);
void sh_lavc_close(ShEncoder *enc);
/* libvpx and libaom share a rate control surface: a 0-63 quantiser scale
 * (crf = a + b x x264's crf, fitted per encoder), constant quality with a
 * zero bitrate, and two-pass VBR with under/overshoot at 0 (docs/ENCODERS.md). */
void sh_lavc_vpx_rate(AVCodecContext *c, AVDictionary **opts, const ShEncoderConfig *cfg,
                      double crf_a, double crf_b);

#endif
